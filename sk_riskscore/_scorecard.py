"""ScoreCard: a fitted risk score as a printed card, tables and plots."""

from __future__ import annotations

import copy
import html
import math
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from scipy.special import expit
from sklearn.pipeline import Pipeline
from sklearn.utils.validation import check_is_fitted, column_or_1d

from ._binarizer import RiskScoreBinarizer
from ._classifier import RiskScoreClassifier, whole_or_real
from ._model import feature_names, split_pipeline, total_points, whole_if_possible

__all__ = ["ScoreCard"]

# More distinct totals than this is not a card anyone can print.
_MAX_TOTALS = 10_000
_CELLS_PER_LINE = 9


class ScoreCard:
    """A fitted risk score as a card: points per feature and risk per total score.

    Build it with :meth:`from_estimator`. The card's *score* is the sum of
    the points of a row (as on a printed card); the intercept only enters the
    risk: ``risk = 1 / (1 + exp(-(score + intercept) / scale))``, exactly the
    estimator's ``predict_proba``. The risk table lists every score a row can
    reach; with data it also gives the observed event rate and the number of
    rows per score.

    Parameters
    ----------
    points : pandas.DataFrame
        Columns ``feature``, ``points`` (non-zero integers) and optionally
        ``min_value`` and ``max_value`` (the range of each feature; 0 and 1,
        binary, when absent).
    risk : pandas.DataFrame
        Columns ``score`` and ``risk``, optionally ``count``, ``events`` and
        ``observed``.
    intercept : int or float
        Added to the score before it becomes a risk; a real number when the
        classifier was fitted with ``calibrate_scale=True``.
    scale : float, default=1.0
        Divisor of ``score + intercept`` in the risk formula.
    title : str, default="Risk score"
        Heading of the card.
    notes : tuple of str, default=()
        Assumptions printed under the card.

    See Also
    --------
    RiskScoreClassifier : Learns the points.
    risk_score_metrics : AUC, Brier score and calibration of the risks.

    Examples
    --------
    >>> from sklearn.pipeline import Pipeline
    >>> from sk_riskscore import RiskScoreBinarizer, RiskScoreClassifier, ScoreCard
    >>> from sk_riskscore.datasets import load_mammo
    >>> X, y = load_mammo(return_X_y=True, as_frame=True)
    >>> model = Pipeline([("bin", RiskScoreBinarizer()),
    ...                   ("clf", RiskScoreClassifier(max_features=3, max_coef=3))])
    >>> model = model.set_output(transform="pandas").fit(X, y)
    >>> card = ScoreCard.from_estimator(model, X, y)
    >>> card.to_frame()
                   feature  points  min_value  max_value
    0       IrregularShape       2          0          1
    1  CircumscribedMargin      -1          0          1
    2           Age_geq_60       1          0          1
    >>> card.risk_table()[["score", "risk", "count", "observed"]].round(3)
       score   risk  count  observed
    0     -1  0.119    293     0.092
    1      0  0.269    163     0.239
    2      1  0.500     83     0.651
    3      2  0.731    194     0.670
    4      3  0.881    228     0.855
    >>> print(card.to_text())
    Risk of Malignant
    ========================================================
    1. IrregularShape         2 points    .....
    2. CircumscribedMargin   -1 point   + .....
    3. Age_geq_60             1 point   + .....
    --------------------------------------------------------
       ADD POINTS FROM ROWS 1-3   SCORE = .....
    ========================================================
    SCORE         -1      0      1      2      3
    RISK       11.9%  26.9%  50.0%  73.1%  88.1%
    OBSERVED    9.2%  23.9%  65.1%  67.0%  85.5%
    ROWS         293    163     83    194    228
    --------------------------------------------------------
    risk = 1 / (1 + exp(-(score - 1)))
    observed: event rate among the 961 rows given
    """

    def __init__(
        self, points, risk, *, intercept, scale=1.0, title="Risk score", notes=()
    ):
        missing = {"feature", "points"} - set(points.columns)
        if missing:
            raise ValueError(f"points needs the columns {sorted(missing)}")
        if not {"score", "risk"} <= set(risk.columns):
            raise ValueError("risk needs the columns 'score' and 'risk'")
        if not (isinstance(scale, (int, float)) and scale > 0 and math.isfinite(scale)):
            raise ValueError(f"scale must be a positive number, got {scale!r}")
        if "min_value" not in points.columns:  # binary features unless told otherwise
            points = points.assign(min_value=0, max_value=1)
        self._points = points.reset_index(drop=True).copy()
        self._risk = risk.sort_values("score").reset_index(drop=True).copy()
        self._intercept = whole_or_real(intercept)
        self._scale = float(scale)
        self._title = str(title)
        self._notes = tuple(str(n) for n in notes)
        self._rashomon = None

    def with_rashomon(self, rashomon, X) -> ScoreCard:
        r"""A copy of the card that also reports a Rashomon set.

        Its text, Markdown and HTML outputs end with the set's one-line
        summary on ``X`` and, per feature used by any card of the set, the
        lowest and highest points it gets and how many cards use it.

        Parameters
        ----------
        rashomon : RashomonSet
            From :func:`sk_riskscore.rashomon_set`.
        X : array-like of shape (n_samples, n_features)
            Rows for the summary (how many people's risks differ across the
            set), in the set's input format.

        Returns
        -------
        card : ScoreCard

        Examples
        --------
        >>> from sk_riskscore import RiskScoreClassifier, ScoreCard, rashomon_set
        >>> from sk_riskscore.datasets import load_breastcancer
        >>> X, y = load_breastcancer(return_X_y=True, as_frame=True)
        >>> clf = RiskScoreClassifier(max_features=3, max_coef=3).fit(X, y)
        >>> rset = rashomon_set(clf, X, y, epsilon=0.05, time_limit=30)
        >>> card = ScoreCard.from_estimator(clf, X, y).with_rashomon(rset, X)
        >>> print(card.to_text().split("\n\n")[-1])  # doctest: +NORMALIZE_WHITESPACE
        4 cards within 5 % of the optimum (proven complete): 15.1 % of people have
        risks differing by more than 10 points.
        Points across the set (cards using the feature):
          ClumpThickness: 1 (4 of 4)
          BareNuclei: 1 (3 of 4)
          BlandChromatin: 1 (2 of 4)
          UniformityOfCellShape: 1 (2 of 4)
          UniformityOfCellSize: 1 (1 of 4)
        """
        use = rashomon.feature_use()
        use = use[use["n_cards"] > 0]
        card = copy.copy(self)
        card._rashomon = _RashomonReport(
            summary=rashomon.summary(X), n_cards=len(rashomon),
            ranges=tuple(zip(use.index.astype(str), use["min_points"].astype(int),
                             use["max_points"].astype(int), use["n_cards"].astype(int))))
        return card

    # -- construction ----------------------------------------------------------

    @classmethod
    def from_estimator(cls, estimator, X=None, y=None, *, title=None, rashomon=None):
        """The card of a fitted :class:`RiskScoreClassifier` or Pipeline ending in one.

        Parameters
        ----------
        estimator : RiskScoreClassifier or Pipeline
            Fitted. Earlier Pipeline steps may be a :class:`RiskScoreBinarizer`
            or any transformer with ``get_feature_names_out``.
        X : DataFrame or array-like, default=None
            Data in the estimator's input format. Used for the values each
            feature can take (so integer features such as a 1-10 grade give
            the right range of totals) and, with ``y``, for the observed event
            rates. Without it, features not made by a
            :class:`RiskScoreBinarizer` are assumed to be 0 or 1.
        y : array-like of shape (n_samples,), default=None
            Outcomes of the rows of ``X``.
        title : str, default=None
            Heading; by default "Risk of <name of y>" or "Risk of <event>".
        rashomon : RashomonSet, default=None
            A Rashomon set of the estimator's problem (needs ``X``): the
            card then also shows the set's summary and each feature's range
            of points across the set; see :meth:`with_rashomon`.

        Returns
        -------
        card : ScoreCard
        """
        if rashomon is not None:
            if X is None:
                raise ValueError("rashomon needs X: the set's summary measures how far "
                                 "its cards' risks differ on the rows of X.")
            card = cls.from_estimator(estimator, X, y, title=title)
            return card.with_rashomon(rashomon, X)
        classifier, preprocess = _split(estimator)
        coef = classifier.coef_[0].astype(np.int64)
        intercept = whole_or_real(classifier.intercept_[0])
        names = _classifier_feature_names(classifier, preprocess, len(coef))
        if y is not None and X is None:
            raise ValueError(
                "y was given without X; pass both to see observed event rates."
            )
        features = None
        if X is not None:
            features = preprocess.transform(X) if preprocess is not None else X
            features = _as_numeric_matrix(features, len(coef))
        binarizer = _final_binarizer(preprocess)
        groups, ranges, notes = _contribution_groups(coef, names, binarizer, features)
        observed = None
        if y is not None:
            observed = _observed_by_score(estimator, classifier, X, y)
        totals = _reachable_totals(groups)
        if observed is not None:
            totals = np.union1d(totals, observed.index.to_numpy(dtype=np.float64))
        risk = _risk_of(totals, intercept, classifier.scale_)
        table = pd.DataFrame({"score": whole_if_possible(totals), "risk": risk})
        if observed is not None:
            stats = observed.reindex(totals, fill_value=0.0)
            table["count"] = whole_if_possible(stats["count"].to_numpy())
            table["events"] = whole_if_possible(stats["events"].to_numpy())
            with np.errstate(invalid="ignore", divide="ignore"):
                table["observed"] = np.where(
                    stats["count"].to_numpy() > 0,
                    stats["events"].to_numpy() / stats["count"].to_numpy(),
                    np.nan,
                )
            notes.append(
                f"observed: event rate among the {len(column_or_1d(y))} rows given"
            )
        used = np.flatnonzero(coef)
        points = pd.DataFrame(
            {
                "feature": [names[j] for j in used],
                "points": coef[used],
                "min_value": whole_if_possible(np.array([ranges[j][0] for j in used])),
                "max_value": whole_if_possible(np.array([ranges[j][1] for j in used])),
            }
        )
        if title is None:
            title = _default_title(classifier, y)
        return cls(
            points,
            table,
            intercept=intercept,
            scale=float(classifier.scale_),
            title=title,
            notes=tuple(notes),
        )

    # -- accessors -----------------------------------------------------------------

    @property
    def intercept(self) -> int | float:
        """Added to the score before it becomes a risk."""
        return self._intercept

    @property
    def scale(self) -> float:
        """Divisor of ``score + intercept`` in the risk formula."""
        return self._scale

    @property
    def title(self) -> str:
        """Heading of the card."""
        return self._title

    @property
    def notes(self) -> tuple:
        """Assumptions and data notes printed under the card."""
        return self._notes

    def to_frame(self) -> pd.DataFrame:
        """Points table: one row per feature with non-zero points.

        Returns
        -------
        points : pandas.DataFrame
            Columns ``feature``, ``points``, ``min_value``, ``max_value``.
        """
        return self._points.copy()

    def risk_table(self) -> pd.DataFrame:
        """Score-to-risk table: every reachable score, ascending.

        Returns
        -------
        table : pandas.DataFrame
            Columns ``score``, ``risk`` and, when built with data, ``count``,
            ``events`` and ``observed`` (event rate; NaN for scores no row
            has).
        """
        return self._risk.copy()

    # -- rendering -------------------------------------------------------------------

    def to_text(self) -> str:
        """The card as plain text, laid out like a printed clinical score card."""
        rows = self._feature_lines()
        number_width = len(str(len(rows)))
        label_width = max([len(label) for label, _, _ in rows] + [20])
        point_width = max([len(str(points)) for _, points, _ in rows] + [2])
        unit_width = max([len(unit) for _, _, unit in rows] + [6])
        lines = [
            f"{i + 1:>{number_width}}. {label:<{label_width}}  {points:>{point_width}} "
            f"{unit:<{unit_width}}  {'+' if i else ' '} ....."
            for i, (label, points, unit) in enumerate(rows)
        ]
        body_width = max([len(line) for line in lines] + [56])
        rule, double = "-" * body_width, "=" * body_width
        out = [self._title, double, *lines]
        if rows:
            total = f"ADD POINTS FROM ROWS 1-{len(rows)}" if len(rows) > 1 else "POINTS"
            out += [
                rule,
                f"   {total}".ljust(len(lines[0]) - len("SCORE = ....."))
                + "SCORE = .....",
            ]
        else:
            out.append("(no feature has points: every row has score 0)")
        out.append(double)
        for k, chunk in enumerate(_chunks(self._risk, _CELLS_PER_LINE)):
            if k:
                out.append("")
            out += [_text_row(label, cells) for label, cells in self._risk_rows(chunk)]
        out += [rule, self._formula(), *self._notes]
        if self._rashomon is not None:
            report = self._rashomon
            out += ["", report.summary, "Points across the set (cards using the feature):"]
            out += [f"  {feature}: {_point_range(low, high)} ({n} of {report.n_cards})"
                    for feature, low, high, n in report.ranges]
        return "\n".join(out)

    def to_markdown(self) -> str:
        """The card as Markdown: a points table and a score-to-risk table."""
        out = [
            f"**{_markdown_escape(self._title)}**",
            "",
            "| # | Feature | Points |",
            "|--:|:--|--:|",
        ]
        for i, (label, points, unit) in enumerate(self._feature_lines()):
            out.append(f"| {i + 1} | {_markdown_escape(label)} | {points} {unit} |")
        out += ["| | **Score** | **sum of points** |", ""]
        labelled = self._risk_rows(self._risk)
        out.append(
            "| " + " | ".join(label.capitalize() for label, _ in labelled) + " |"
        )
        out.append("|" + "--:|" * len(labelled))
        for k in range(len(self._risk)):
            out.append("| " + " | ".join(cells[k] for _, cells in labelled) + " |")
        out += ["", f"`{self._formula()}`"]
        out += [f"<br>{_markdown_escape(note)}" for note in self._notes]
        if self._rashomon is not None:
            report = self._rashomon
            out += ["", _markdown_escape(report.summary), "",
                    "| Feature | Points across the set | Cards using it |", "|:--|--:|--:|"]
            out += [f"| {_markdown_escape(feature)} | {_point_range(low, high)} | "
                    f"{n} of {report.n_cards} |" for feature, low, high, n in report.ranges]
        return "\n".join(out)

    def to_html(self) -> str:
        """The card as a self-contained HTML fragment (two tables)."""
        esc = html.escape
        cell = 'style="padding:2px 8px;text-align:{}"'
        parts = [
            '<div class="sk-riskscore-card" style="font-family:sans-serif">',
            f'<h4 style="margin:4px 0">{esc(self._title)}</h4>',
            '<table style="border-collapse:collapse">',
            f"<thead><tr><th {cell.format('right')}>#</th><th {cell.format('left')}>"
            f"Feature</th><th {cell.format('right')}>Points</th></tr></thead><tbody>",
        ]
        for i, (label, points, unit) in enumerate(self._feature_lines()):
            parts.append(
                f"<tr><td {cell.format('right')}>{i + 1}</td><td {cell.format('left')}>"
                f"{esc(label)}</td><td {cell.format('right')}>{points} {esc(unit)}"
                "</td></tr>"
            )
        parts.append(
            f'<tr style="border-top:1px solid #888"><td></td><td {cell.format("left")}>'
            f"<b>Score</b></td><td {cell.format('right')}><b>sum of points</b>"
            "</td></tr>"
        )
        parts.append("</tbody></table>")
        parts.append('<table style="border-collapse:collapse;margin-top:8px">')
        for label, cells in self._risk_rows(self._risk):
            row = "".join(f"<td {cell.format('right')}>{esc(c)}</td>" for c in cells)
            parts.append(f"<tr><th {cell.format('left')}>{esc(label)}</th>{row}</tr>")
        parts.append("</table>")
        notes = [self._formula(), *self._notes]
        parts.append(
            '<p style="font-size:smaller;margin:4px 0">'
            + "<br>".join(esc(n) for n in notes)
            + "</p>" + ("" if self._rashomon is None else "\n" + self._rashomon_html())
            + "</div>"
        )
        return "\n".join(parts)

    def _rashomon_html(self) -> str:
        esc = html.escape
        cell = 'style="padding:2px 8px;text-align:{}"'
        report = self._rashomon
        rows = "".join(
            f"<tr><td {cell.format('left')}>{esc(feature)}</td><td {cell.format('right')}>"
            f"{_point_range(low, high)}</td><td {cell.format('right')}>{n} of "
            f"{report.n_cards}</td></tr>" for feature, low, high, n in report.ranges)
        return (f'<p style="margin:4px 0">{esc(report.summary)}</p>'
                '<table style="border-collapse:collapse">'
                f"<thead><tr><th {cell.format('left')}>Feature</th><th "
                f"{cell.format('right')}>Points across the set</th><th "
                f"{cell.format('right')}>Cards using it</th></tr></thead><tbody>{rows}"
                "</tbody></table>")

    def _repr_html_(self) -> str:
        return self.to_html()

    def __str__(self) -> str:
        return self.to_text()

    def __repr__(self) -> str:
        return (
            f"<ScoreCard {self._title!r}: {len(self._points)} features, "
            f"{len(self._risk)} scores from {self._risk['score'].min()} to "
            f"{self._risk['score'].max()}>"
        )

    # -- plots -------------------------------------------------------------------------

    def plot_risk(self, ax=None):
        """Plot predicted risk by score, with observed event rates and row counts.

        Needs matplotlib (``pip install "sk-riskscore[plot]"``).

        Parameters
        ----------
        ax : matplotlib Axes, default=None
            Where to draw; a new figure by default.

        Returns
        -------
        ax : matplotlib Axes
        """
        from ._plotting import plot_risk_by_score

        return plot_risk_by_score(self._risk, title=self._title, ax=ax)

    def to_pdf(self, path, *, footer: str = "") -> Path:
        """Write the card as a one-page PDF to print: its points and risk
        tables, then the risk-by-score chart.

        Needs matplotlib (``pip install "sk-riskscore[plot]"``).

        Parameters
        ----------
        path : str or path-like
            File to write.
        footer : str, default=""
            Extra lines under the tables, e.g. how the model was fitted.

        Returns
        -------
        path : pathlib.Path
            The file written.

        Examples
        --------
        >>> import tempfile, pathlib
        >>> from sk_riskscore import RiskScoreClassifier, ScoreCard
        >>> from sk_riskscore.datasets import load_breastcancer
        >>> X, y = load_breastcancer(return_X_y=True, as_frame=True)
        >>> clf = RiskScoreClassifier(max_features=3, max_coef=3).fit(X, y)
        >>> card = ScoreCard.from_estimator(clf, X, y)
        >>> with tempfile.TemporaryDirectory() as tmp:
        ...     path = card.to_pdf(pathlib.Path(tmp) / "card.pdf")
        ...     path.read_bytes()[:5]
        b'%PDF-'
        """
        from ._plotting import card_page

        path = Path(path)
        card_page(self.to_text(), self._risk, title=self._title, path=path, footer=footer)
        return path

    def plot_reliability(self, ax=None):
        """Reliability diagram: observed event rate against predicted risk per score.

        Needs a card built with ``X`` and ``y``, and matplotlib
        (``pip install "sk-riskscore[plot]"``).

        Parameters
        ----------
        ax : matplotlib Axes, default=None
            Where to draw; a new figure by default.

        Returns
        -------
        ax : matplotlib Axes
        """
        from ._plotting import plot_reliability

        return plot_reliability(self._risk, title=f"{self._title}: calibration", ax=ax)

    # -- rendering helpers -------------------------------------------------------------

    def _feature_lines(self) -> list[tuple[str, int, str]]:
        """(label, points, unit) per feature, e.g. ("Age >= 60", 2, "points")."""
        rows = []
        for feature, points, low, high in self._points[
            ["feature", "points", "min_value", "max_value"]
        ].itertuples(index=False):
            binary = low == 0 and high == 1
            label = (
                str(feature)
                if binary
                else f"{feature} ({_number(low)} to {_number(high)})"
            )
            unit = "point" if abs(points) == 1 else "points"
            rows.append((label, int(points), unit if binary else f"{unit} per unit"))
        return rows

    def _risk_rows(self, table) -> list[tuple[str, list[str]]]:
        rows = [
            ("SCORE", [_number(s) for s in table["score"]]),
            ("RISK", [_risk_percent(r) for r in table["risk"]]),
        ]
        if "observed" in table.columns:
            rows.append(("OBSERVED", [_observed_percent(o) for o in table["observed"]]))
            rows.append(("ROWS", [_number(c) for c in table["count"]]))
        return rows

    def _formula(self) -> str:
        shift = self._intercept
        inner = (
            "score" if shift == 0 else f"score {'+' if shift > 0 else '-'} {abs(shift):.6g}"
        )
        if self._scale != 1.0:
            inner = f"({inner}) / {self._scale:.4g}"
        else:
            inner = f"({inner})" if shift else inner
        return f"risk = 1 / (1 + exp(-{inner}))"


# -- from_estimator helpers ------------------------------------------------------------


def _split(estimator):
    """(classifier, preprocessing Pipeline or None), with clear errors."""
    preprocess, classifier = split_pipeline(estimator)
    if isinstance(classifier, RiskScoreClassifier) and (
        classifier is estimator or isinstance(estimator, Pipeline)
    ):
        check_is_fitted(classifier, "coef_")
        return classifier, preprocess
    hint = ""
    if hasattr(estimator, "best_estimator_"):
        hint = (
            " For a search, pass its best model: "
            "ScoreCard.from_estimator(search.best_estimator_)."
        )
    raise TypeError(
        "ScoreCard.from_estimator needs a fitted RiskScoreClassifier or a Pipeline "
        f"whose last step is one; got {type(estimator).__name__}.{hint}"
    )


def _final_binarizer(preprocess):
    if preprocess is None:
        return None
    last = split_pipeline(preprocess)[1]
    return last if isinstance(last, RiskScoreBinarizer) else None


def _classifier_feature_names(classifier, preprocess, n_features) -> list[str]:
    names = getattr(classifier, "feature_names_in_", None)
    if (
        names is None
        and preprocess is not None
        and hasattr(preprocess, "get_feature_names_out")
    ):
        try:
            names = preprocess.get_feature_names_out()
        except (AttributeError, ValueError, TypeError):
            names = None
    if names is not None and len(names) != n_features:
        names = None
    return feature_names(names, n_features)


def _as_numeric_matrix(features, n_features) -> np.ndarray:
    try:
        matrix = np.asarray(features, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise ValueError(
            f"X must give the classifier numeric features; converting failed: {exc}"
        ) from None
    if matrix.ndim != 2 or matrix.shape[1] != n_features:
        raise ValueError(
            f"X gives {matrix.shape[-1] if matrix.ndim else 0} features but the "
            f"classifier was fitted on {n_features}; pass X in the estimator's input "
            "format."
        )
    return matrix


def _contribution_groups(coef, names, binarizer, features):
    """Point contributions each independent group of features can make.

    Returns (list of arrays of possible contributions, {feature index: (min, max)},
    notes). Features made from one binarizer column form one group: their
    thresholds are nested, so only the patterns one value of the column gives
    are possible.
    """
    used = np.flatnonzero(coef)
    notes = []
    rule_of = {r.name: r for r in binarizer.rules_} if binarizer is not None else {}
    if used.size and rule_of and all(names[j] in rule_of for j in used):
        by_column = {}
        for j in used:
            by_column.setdefault(rule_of[names[j]].column, []).append(j)
        groups = [
            _column_contributions(
                binarizer, column, [(rule_of[names[j]], coef[j]) for j in js]
            )
            for column, js in by_column.items()
        ]
        return groups, {j: (0.0, 1.0) for j in used}, notes
    groups, ranges = [], {}
    if features is None:
        if used.size:
            notes.append(
                "scores assume every feature is 0 or 1; pass X to from_estimator to "
                "use the values each feature takes"
            )
        for j in used:
            groups.append(np.array([0.0, float(coef[j])]))
            ranges[j] = (0.0, 1.0)
        return groups, ranges, notes
    for j in used:
        values = np.unique(features[:, j])
        groups.append(values * float(coef[j]))
        ranges[j] = (float(values.min()), float(values.max()))
    if used.size:
        notes.append("scores use the values each feature takes in the X given")
    return groups, ranges, notes


def _column_contributions(binarizer, column, rules_and_points) -> np.ndarray:
    """Sums of points the used rules of one input column can give together."""
    kind = binarizer.column_types_.get(column)
    if kind == "categorical":
        points = {rule.threshold: float(p) for rule, p in rules_and_points}
        sums = set(points.values())
        known = binarizer.categories_.get(column, ())
        if binarizer.handle_unknown == "ignore" or any(c not in points for c in known):
            sums.add(0.0)
        return np.array(sorted(sums))
    # Numeric: the pattern of regular values only changes at a threshold, so one
    # value below all thresholds and each threshold itself cover them all; a
    # missing value (if the column had any) and each special value give their
    # own pattern.
    thresholds = sorted(
        {float(rule.threshold) for rule, _ in rules_and_points if rule.operator in (">=", "<")}
    )
    column_rules = [rule for rule in binarizer.rules_ if rule.column == column]
    specials = {rule.threshold for rule in column_rules if rule.operator == "is"}
    specials |= {value for rule in column_rules for value in rule.excluded}
    probes = np.array(
        [-np.inf, *thresholds, *(np.nan if v is None else v for v in specials)], dtype=float
    )
    sums = np.zeros(len(probes))
    for rule, p in rules_and_points:
        sums += float(p) * rule.apply(probes)
    return np.unique(sums)


def _reachable_totals(groups) -> np.ndarray:
    totals = np.array([0.0])
    for contributions in groups:
        totals = np.unique(np.round(np.add.outer(totals, contributions).ravel(), 9))
        if len(totals) > _MAX_TOTALS:
            raise ValueError(
                f"The features reach more than {_MAX_TOTALS} distinct scores "
                "(features with many distinct values, such as continuous ones); a card "
                "cannot list them. "
                "Binarize the features, e.g. with RiskScoreBinarizer in the Pipeline."
            )
    return totals


def _observed_by_score(estimator, classifier, X, y) -> pd.DataFrame:
    y = column_or_1d(y)
    scores = total_points(estimator, X)
    if len(y) != len(scores):
        raise ValueError(
            f"X has {len(scores)} rows but y has {len(y)}; pass one label per row."
        )
    unknown = np.setdiff1d(np.unique(y), classifier.classes_)
    if unknown.size:
        raise ValueError(
            "y holds labels the classifier was not fitted on: "
            f"{unknown.tolist()[:10]}; "
            f"its classes are {classifier.classes_.tolist()}."
        )
    frame = pd.DataFrame(
        {
            "score": scores,
            "count": 1.0,
            "events": (y == classifier.classes_[1]).astype(np.float64),
        }
    )
    return frame.groupby("score").sum()


def _risk_of(totals, intercept, scale) -> np.ndarray:
    # The classifier's own logistic, so the table equals predict_proba bit for bit.
    return expit((np.asarray(totals, dtype=np.float64) + float(intercept)) / scale)


def _default_title(classifier, y) -> str:
    name = getattr(y, "name", None) or getattr(classifier, "target_name_", None)
    if name is not None:
        return f"Risk of {name}"
    event = classifier.classes_[1]
    return f"Risk of class {event.item() if isinstance(event, np.generic) else event}"


# -- formatting helpers ----------------------------------------------------------------


def _number(value) -> str:
    value = float(value)
    if value == round(value):
        return str(int(round(value)))
    return f"{value:.4g}"


def _risk_percent(value) -> str:
    if value < 0.0005:
        return "<0.1%"
    if value > 0.9995:
        return ">99.9%"
    return f"{100 * value:.1f}%"


def _observed_percent(value) -> str:
    if not np.isfinite(value):
        return "-"
    return f"{100 * value:.1f}%"


@dataclass(frozen=True)
class _RashomonReport:
    """What a card shows of a Rashomon set: (feature, min, max, n_cards) ranges."""

    summary: str
    n_cards: int
    ranges: tuple


def _point_range(low: int, high: int) -> str:
    return f"{low}" if low == high else f"{low} to {high}"


def _chunks(table, size):
    for start in range(0, len(table), size):
        yield table.iloc[start : start + size]


def _text_row(label, cells) -> str:
    return f"{label:<9}" + "".join(f"{cell:>7}" for cell in cells)


def _markdown_escape(text) -> str:
    """Text shown as itself in Markdown: no HTML tags (names come from data
    files, and Markdown viewers render raw HTML), no emphasis, links or code,
    and one table cell.
    """
    text = " ".join(str(text).splitlines())
    text = _MARKDOWN_SPECIAL.sub(r"\\\g<0>", text)
    return html.escape(text, quote=False)


_MARKDOWN_SPECIAL = re.compile(r"[\\`*_{}\[\]|#!~]")
