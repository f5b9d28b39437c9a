"""RiskScoreBinarizer: readable binary features for a risk score.

Numeric columns become threshold indicators ("Age >= 60", "Age < 30"),
0/1 columns pass through, categorical columns become one indicator per
category ("Sex = F"). Every output column is one :class:`BinaryRule` applied
to one input column, so a fitted binarizer is a short list of rules that
serializes to plain JSON and is easy to reproduce elsewhere (ONNX, Spark).
"""

from __future__ import annotations

import logging
import math
import numbers
import warnings

import numpy as np
import pandas as pd
from scipy import sparse
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import (
    check_array,
    check_consistent_length,
    check_is_fitted,
    column_or_1d,
    validate_data,
)

from ._binning import (
    BINARY,
    CATEGORICAL,
    CONSTANT,
    FEATURE_GROUPS_ATTR,
    MISSING_OPTIONS,
    NUMERIC,
    RULES_ATTR,
    BinaryRule,
    binary_rule,
    category_rules,
    check_special_values,
    check_unique_names,
    count_below_from_value_counts,
    cut_points,
    excluded_value_rules,
    frequent_categories,
    is_binary,
    missing_value_error,
    neighbour_pairs,
    plain,
    slack_rows,
    special_values_of,
    split_special_values,
    threshold_rules,
    tie_aware_pairs,
)
from ._compat import (
    Interval,
    StrOptions,
    _check_feature_names_in,
    _fit_context,
)
from ._io._binarizer import binarizer_from_dict, binarizer_to_dict
from ._model import feature_names

__all__ = ["BinaryRule", "RiskScoreBinarizer", "FEATURE_GROUPS_ATTR"]

logger = logging.getLogger(__name__)



class RiskScoreBinarizer(TransformerMixin, BaseEstimator):
    """Turn numeric and categorical columns into readable binary features.

    A risk score gives points to yes/no facts. This transformer makes them:

    * a numeric column gets up to ``n_thresholds`` cut points ``t`` and the
      indicators ``"Age >= t"`` and/or ``"Age < t"`` (``directions``);
    * a numeric column holding only 0 and 1 passes through as one feature
      named after the column, as does a boolean column;
    * a categorical column (object, string or category dtype, or listed in
      ``categorical_features``) gets one indicator per category,
      ``"Sex = F"``;
    * a column with a single value gives no feature.

    Cut points are quantiles of the column (``strategy="quantile"``) or the
    splits of a small decision tree on the target (``strategy="supervised"``).
    A numeric column with at most ``n_thresholds + 1`` distinct values gets a
    cut point between each pair of neighbouring values. Each cut point is then
    replaced by the shortest decimal number that moves at most 1% of the
    training rows across it (none with fewer than 100 rows), so a card reads
    "BMI >= 24.3", not "BMI >= 24.2891".

    :meth:`transform` returns a DataFrame whose columns are the rule names, so
    in a plain ``make_pipeline(RiskScoreBinarizer(), RiskScoreClassifier())``
    the classifier sees "Age >= 60" rather than ``x7``. The DataFrame also
    carries the rules (``X_out.attrs["sk_riskscore.rules"]``): the classifier
    then accepts constraints on raw variables (``MustNotUse("Age")``,
    ``Monotonic("Age", "increasing")``). The thresholds of one column and one
    direction are nested ("Age >= 45" holds whenever "Age >= 60" does), so
    :attr:`feature_groups_` lists them and travels in
    ``X_out.attrs["sk_riskscore.feature_groups"]``: the classifier gives points
    to at most one threshold per column and direction.

    Missing values (NaN, None) and declared special values (``special_values``,
    e.g. the codes -7, -8, -9 of credit bureau data) never fall into a
    threshold: they are left out of the quantiles, every threshold rule of
    their column gives them 0, and each one seen in ``fit`` gets its own
    rule, ``"BMI is missing"`` or ``"MSinceMostRecentDelq is -7"``, so the
    card states what it scores. ``missing="error"`` refuses missing values
    instead.

    Read more in the :ref:`User Guide <binarizer>`.

    Parameters
    ----------
    n_thresholds : int, default=3
        Largest number of cut points per numeric column.
    strategy : {"quantile", "supervised"}, default="quantile"
        ``"quantile"`` cuts at the ``k / (n_thresholds + 1)`` quantiles;
        ``"supervised"`` cuts where a decision tree with ``n_thresholds + 1``
        leaves, fitted on the column alone, splits the target (needs ``y``).
    directions : {"both", ">=", "<"}, default="both"
        Which indicators each cut point ``t`` gives: ``"x >= t"``,
        ``"x < t"`` or both. With both, a card can say "Age >= 60: +2" and
        "Age < 30: -1" at once.
    categorical_features : list of str or None, default=None
        Columns to treat as categorical even when numeric (e.g. integer
        codes). Object, string and category dtype columns are categorical
        anyway.
    min_frequency : float, default=0.01
        Smallest fraction of training rows that must fall on each side of a
        cut point, and that a category must cover to get an indicator. Rarer
        categories are known (no error at transform) but give no feature.
    handle_unknown : {"error", "ignore"}, default="error"
        What :meth:`transform` does with a category not seen in ``fit``:
        raise, or set every indicator of that column to 0.
    missing : {"indicator", "error"}, default="indicator"
        ``"indicator"``: a column with missing values (NaN or None) in ``fit``
        gets the rule ``"column is missing"``, and its missing values are
        left out of the quantiles and give 0 on its other rules. A column
        without missing values in ``fit`` gets no such rule; a missing value
        there at :meth:`transform` gives 0 on all the column's rules (no
        points from it, as in ONNX and Spark), with a warning naming the
        column. ``"error"``: refuse missing values in ``fit`` and
        :meth:`transform`. The default keeps them apart because imputing
        silently puts them into a threshold, the most frequent bug of
        scorecard tools.
    special_values : list of float, dict or None, default=None
        Codes that are not measurements, such as -7 "no record" or -9 "no
        bureau file". A list applies to every numeric column, a dict maps a
        column name to its list (``{"MSinceMostRecentDelq": [-7, -8, -9]}``).
        Like missing values, they are left out of the quantiles, give 0 on
        every threshold rule, and each one present in ``fit`` gets its own
        rule, ``"MSinceMostRecentDelq is -7"``. Categorical columns take no
        special values (their codes are categories already).

    Attributes
    ----------
    rules_ : tuple of BinaryRule
        Output column ``k`` is ``rules_[k]`` applied to its input column.
    feature_groups_ : list of list of str
        Output features of which at most one should get points: the ``>=``
        thresholds of one column, and its ``<`` thresholds (groups of two or
        more only).
    column_types_ : dict
        Input column name to ``"numeric"``, ``"binary"``, ``"categorical"``
        or ``"constant"`` (no output feature).
    categories_ : dict
        Categorical column name to the tuple of categories seen in ``fit``.
    n_features_in_ : int
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Only when ``X`` had string column names. Otherwise the rules name the
        columns ``"x0"``, ``"x1"``, ...

    See Also
    --------
    RiskScoreClassifier : Learns integer points for the binary features.
    ScoreCard : Prints the fitted pipeline as a card.

    Examples
    --------
    >>> import numpy as np
    >>> import pandas as pd
    >>> from sk_riskscore import RiskScoreBinarizer
    >>> X = pd.DataFrame({"Age": [25, 38, 47, 52, 61, 70, 83, 90],
    ...                   "Sex": ["F", "M", "F", "M", "F", "M", "F", "F"],
    ...                   "Smoker": [0, 1, 0, 0, 1, 1, 0, 1]})
    >>> binarizer = RiskScoreBinarizer(n_thresholds=2, directions=">=").fit(X)
    >>> binarizer.get_feature_names_out().tolist()
    ['Age >= 50', 'Age >= 70', 'Sex = F', 'Sex = M', 'Smoker']
    >>> binarizer.feature_groups_
    [['Age >= 50', 'Age >= 70']]
    >>> binarizer.transform(X.head(3)).to_numpy()
    array([[0., 0., 1., 0., 0.],
           [0., 0., 0., 1., 1.],
           [0., 0., 1., 0., 0.]])

    Missing and special values get their own rules and never meet a threshold:

    >>> X = pd.DataFrame({"BMI": [19.5, np.nan, 24.0, 31.2, 27.8, 22.1],
    ...                   "MonthsSinceDelq": [-7, 3, 14, -7, 30, -8]})
    >>> binarizer = RiskScoreBinarizer(
    ...     n_thresholds=1, directions=">=",
    ...     special_values={"MonthsSinceDelq": [-7, -8, -9]}).fit(X)
    >>> binarizer.get_feature_names_out().tolist()  # doctest: +NORMALIZE_WHITESPACE
    ['BMI >= 24', 'BMI is missing', 'MonthsSinceDelq >= 30',
     'MonthsSinceDelq is -8', 'MonthsSinceDelq is -7']
    >>> binarizer.transform(X.head(2))
    array([[0., 0., 0., 0., 1.],
           [0., 1., 0., 0., 0.]])
    """

    _parameter_constraints: dict = {
        "n_thresholds": [Interval(numbers.Integral, 1, None, closed="left")],
        "strategy": [StrOptions({"quantile", "supervised"})],
        "directions": [StrOptions({"both", ">=", "<"})],
        "categorical_features": [list, tuple, None],
        "min_frequency": [Interval(numbers.Real, 0, 0.5, closed="left")],
        "handle_unknown": [StrOptions({"error", "ignore"})],
        "missing": [StrOptions(set(MISSING_OPTIONS))],
        "special_values": [list, tuple, dict, None],
    }

    def __init__(
        self,
        *,
        n_thresholds=3,
        strategy="quantile",
        directions="both",
        categorical_features=None,
        min_frequency=0.01,
        handle_unknown="error",
        missing="indicator",
        special_values=None,
    ):
        self.n_thresholds = n_thresholds
        self.strategy = strategy
        self.directions = directions
        self.categorical_features = categorical_features
        self.min_frequency = min_frequency
        self.handle_unknown = handle_unknown
        self.missing = missing
        self.special_values = special_values

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None):
        """Choose the cut points and categories.

        Parameters
        ----------
        X : DataFrame or array-like of shape (n_samples, n_features)
            Numeric, boolean and categorical columns; missing values as NaN
            or None (see ``missing``).
        y : array-like of shape (n_samples,), default=None
            Class labels; needed only by ``strategy="supervised"``.

        Returns
        -------
        self : RiskScoreBinarizer
        """
        frame = self._as_frame(X, reset=True)
        names = self._input_names()
        if y is None and self.strategy == "supervised":
            raise ValueError(
                'strategy="supervised" places the cut points where they best separate '
                "the classes, so fit needs y; pass fit(X, y) or use "
                'strategy="quantile".'
            )
        if y is not None and self.strategy == "supervised":
            y = column_or_1d(y, warn=True)
            check_consistent_length(frame, y)
            check_classification_targets(y)
        forced = self._forced_categorical(names)
        kinds = [
            _column_kind(frame.iloc[:, position], column, column in forced)
            for position, column in enumerate(names)
        ]
        check_special_values(
            self.special_values,
            names,
            [c for c, kind in zip(names, kinds, strict=True) if kind == CATEGORICAL],
        )

        rules, groups, column_types, categories = [], [], {}, {}
        for position, (column, kind) in enumerate(zip(names, kinds, strict=True)):
            values = frame.iloc[:, position]
            n_rows = len(values)
            if kind == CATEGORICAL:
                objects = _categorical_values(values)
                missing = pd.isna(values).to_numpy()
                uniques, counts = _unique_objects(objects[~missing])
                known, kept = frequent_categories(uniques, counts, n_rows, self.min_frequency)
                extra = excluded_value_rules(
                    column, int(missing.sum()), {}, n_rows, self.missing
                )
                categories[column] = known
                column_types[column] = CATEGORICAL if len(known) > 1 or extra else CONSTANT
                if len(known) > 1:
                    rules += category_rules(column, kept)
                rules += extra
            else:
                numeric = _numeric_values(values, column, "fit")
                missing = np.isnan(numeric)
                specials = special_values_of(self.special_values, column)
                distinct, counts = np.unique(numeric[~missing], return_counts=True)
                distinct, counts, special_counts = split_special_values(
                    distinct, counts, specials
                )
                extra = excluded_value_rules(
                    column, int(missing.sum()), special_counts, n_rows, self.missing
                )
                if len(distinct) < 2:
                    column_types[column] = NUMERIC if extra else CONSTANT
                elif is_binary(distinct):
                    column_types[column] = BINARY
                    rules.append(binary_rule(column, specials))
                else:
                    column_types[column] = NUMERIC
                    regular = ~missing & ~np.isin(numeric, specials)
                    cuts = self._cut_points(
                        numeric[regular],
                        distinct,
                        counts,
                        None if y is None else np.asarray(y)[regular],
                        n_rows,
                    )
                    column_rules, column_groups = threshold_rules(
                        column, cuts, self.directions, specials
                    )
                    rules += column_rules
                    groups += column_groups
                rules += extra
            if not rules or rules[-1].column != column:
                logger.info("RiskScoreBinarizer: column %r gives no feature", column)

        check_unique_names(rules)
        self.rules_ = tuple(rules)
        self.feature_groups_ = groups
        self.column_types_ = column_types
        self.categories_ = categories
        return self

    def transform(self, X):
        """Apply the rules: one 0/1 column per rule.

        Parameters
        ----------
        X : DataFrame or array-like of shape (n_samples, `n_features_in_`)
            The columns seen in ``fit``, in the same order.

        Returns
        -------
        X_out : DataFrame of shape (n_samples, n_features_out)
            Float 0/1 indicators named after the rules, with the index of
            ``X`` (when a DataFrame). ``attrs["sk_riskscore.rules"]`` holds
            :attr:`rules_` and ``attrs["sk_riskscore.feature_groups"]``
            :attr:`feature_groups_`, for the classifier that follows. Use
            ``X_out.to_numpy()`` for an array.
        """
        check_is_fitted(self, "rules_")
        frame = self._as_frame(X, reset=False)
        names = self._input_names()
        position_of = {name: j for j, name in enumerate(names)}
        cache, unseen_missing = {}, []
        with_missing_rule = {rule.column for rule in self.rules_ if rule.is_missing_rule}
        out = np.zeros((frame.shape[0], len(self.rules_)), dtype=np.float64)
        for k, rule in enumerate(self.rules_):
            if rule.column not in cache:
                values = frame.iloc[:, position_of[rule.column]]
                n_missing = int(pd.isna(values).sum())
                if n_missing and rule.column not in with_missing_rule:
                    if self.missing == "error":
                        raise missing_value_error(rule.column, n_missing)
                    unseen_missing.append(rule.column)
                cache[rule.column] = self._column_for_rules(values, rule.column)
            out[:, k] = rule.apply(cache[rule.column])
        if unseen_missing:
            warnings.warn(
                f"RiskScoreBinarizer: the columns {unseen_missing} had no missing values "
                "in fit, so they have no 'is missing' rule; their missing values get 0 "
                "on every rule of the column (no points from it). Refit on data with "
                "missing values to give them their own rule.",
                UserWarning,
                stacklevel=2,
            )
        # A DataFrame by default (the "default" of ``set_output``): the rule
        # names and the rules themselves then reach the next step of a plain
        # Pipeline, so a RiskScoreClassifier there sees "Age >= 60", not x7,
        # and can resolve constraints on the raw variable "Age".
        result = pd.DataFrame(
            out,
            columns=list(self.get_feature_names_out()),
            index=frame.index if isinstance(X, pd.DataFrame) else None,
        )
        result.attrs[FEATURE_GROUPS_ATTR] = [list(g) for g in self.feature_groups_]
        result.attrs[RULES_ATTR] = self.rules_
        return result

    def get_feature_names_out(self, input_features=None):
        """Output feature names: the rule names, e.g. ``"Age >= 60"``.

        Parameters
        ----------
        input_features : array-like of str or None, default=None
            Must match the input columns seen in ``fit`` when given.

        Returns
        -------
        feature_names_out : ndarray of str objects
        """
        check_is_fitted(self, "rules_")
        _check_feature_names_in(self, input_features)
        return np.asarray([rule.name for rule in self.rules_], dtype=object)

    def to_dict(self) -> dict:
        """The fitted binarizer as a plain JSON-compatible dict.

        :meth:`from_dict` rebuilds a binarizer that transforms identically.

        Examples
        --------
        >>> import json
        >>> import pandas as pd
        >>> from sk_riskscore import RiskScoreBinarizer
        >>> X = pd.DataFrame({"Age": [30, 45, 60, 75], "Sex": ["F", "M", "M", "F"]})
        >>> binarizer = RiskScoreBinarizer(n_thresholds=1).fit(X)
        >>> text = json.dumps(binarizer.to_dict())
        >>> copy = RiskScoreBinarizer.from_dict(json.loads(text))
        >>> bool((copy.transform(X) == binarizer.transform(X)).all(axis=None))
        True
        """
        check_is_fitted(self, "rules_")
        return binarizer_to_dict(self)

    @classmethod
    def from_dict(cls, data) -> RiskScoreBinarizer:
        """Rebuild a fitted binarizer from :meth:`to_dict` output.

        The rules may also be written by hand or computed elsewhere (e.g. cut
        points from Spark quantiles): ``column_types`` says how each input
        column is read (``"numeric"``, ``"binary"``, ``"categorical"`` or
        ``"constant"``), ``rules`` what is output. ``categories`` (the known
        categories of each categorical column) is optional; for a column it
        does not list, :meth:`transform` accepts any category.

        Parameters
        ----------
        data : dict
            As returned by :meth:`to_dict` (possibly through JSON).

        Returns
        -------
        binarizer : RiskScoreBinarizer
            Fitted; ``transform`` works without calling ``fit``.
        """
        return binarizer_from_dict(cls, data)

    # -- helpers -------------------------------------------------------------

    def _as_frame(self, X, *, reset: bool) -> pd.DataFrame:
        """Validate names and shape; return X as a DataFrame with positional access."""
        if sparse.issparse(X):
            raise TypeError(
                "RiskScoreBinarizer needs dense input (a DataFrame or an array); got a "
                "sparse matrix. Convert it with X.toarray() or pass a DataFrame."
            )
        if isinstance(X, pd.DataFrame):
            validate_data(self, X, reset=reset, skip_check_array=True)
            frame = X
        else:
            array = check_array(X, dtype=None, ensure_all_finite=False)
            validate_data(self, array, reset=reset, skip_check_array=True)
            frame = pd.DataFrame(array)
        if frame.shape[0] == 0 or (reset and frame.shape[1] == 0):
            raise ValueError(
                f"Found array with shape {frame.shape}; RiskScoreBinarizer needs at "
                "least 1 sample(s) and 1 feature(s)."
            )
        return frame

    def _input_names(self) -> list[str]:
        return feature_names(getattr(self, "feature_names_in_", None), self.n_features_in_)

    def _forced_categorical(self, names) -> set:
        forced = set(self.categorical_features or ())
        unknown = sorted(map(str, forced - set(names)))
        if unknown:
            raise ValueError(
                f"categorical_features names columns not in X: {unknown}. Columns are "
                f"{names[:20]}{' ...' if len(names) > 20 else ''}."
            )
        return forced

    def _cut_points(self, values, distinct, counts, y, n_rows) -> list[float]:
        """Readable cut points of one numeric column (the policy is in _binning).

        ``values`` are the column's regular values (no missing or special value),
        ``n_rows`` counts every row.
        """
        n = len(values)
        if self.strategy == "supervised":
            # Imported here: only this strategy needs the tree module.
            from sklearn.tree import DecisionTreeClassifier

            leaf = max(1, math.ceil(self.min_frequency * n_rows))
            tree = DecisionTreeClassifier(
                max_leaf_nodes=self.n_thresholds + 1,
                min_samples_leaf=leaf,
                random_state=0,
            ).fit(values.reshape(-1, 1), y)
            splits = tree.tree_.threshold[tree.tree_.feature >= 0]
            pairs = neighbour_pairs(distinct, np.searchsorted(distinct, splits, side="right"))
        else:
            pairs = tie_aware_pairs(distinct, counts, n, self.n_thresholds)
        count_below = count_below_from_value_counts(distinct, counts)
        return cut_points(
            pairs, count_below, n, self.min_frequency, slack_rows(n), n_rows=n_rows
        )

    def _column_for_rules(self, values: pd.Series, column: str):
        kind = self.column_types_.get(column)
        if kind in (NUMERIC, BINARY):
            return _numeric_values(values, column, "transform")
        objects = _categorical_values(values)
        if self.handle_unknown == "error" and column in self.categories_:
            known = self.categories_[column]
            seen = pd.Series(objects, dtype=object).isin(list(known)).to_numpy()
            seen = seen | pd.isna(values).to_numpy()
            if not seen.all():
                unseen, _ = _unique_objects(objects[~seen])
                raise ValueError(
                    f"Column {column!r} has categories not seen in fit: "
                    f"{[plain(u) for u in unseen[:10]]}. Known categories: "
                    f"{[plain(k) for k in known[:20]]}. Refit on data that includes "
                    "them, or use RiskScoreBinarizer(handle_unknown='ignore') to give "
                    "them no points."
                )
        if values.dtype.kind in "biuf":
            return values.to_numpy(dtype=np.float64)
        return objects

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = self.missing == "indicator"
        tags.input_tags.string = True
        tags.input_tags.categorical = True
        tags.target_tags.required = False
        # 0/1 indicators in a float64 DataFrame whatever the input's dtype
        tags.transformer_tags.preserves_dtype = []
        return tags


# -- column handling ----------------------------------------------------------


def _column_kind(values: pd.Series, column: str, forced_categorical: bool) -> str:
    if forced_categorical:
        return CATEGORICAL
    dtype = values.dtype
    if isinstance(dtype, pd.CategoricalDtype):
        return CATEGORICAL
    if pd.api.types.is_bool_dtype(dtype) or pd.api.types.is_numeric_dtype(dtype):
        return NUMERIC
    inferred = pd.api.types.infer_dtype(values, skipna=True)
    if inferred in ("integer", "floating", "mixed-integer-float", "decimal", "boolean"):
        return NUMERIC
    if inferred in ("mixed", "mixed-integer"):
        raise ValueError(
            f"Column {column!r} mixes numbers and text (e.g. "
            f"{_examples(values)}). Convert it to numbers, e.g. "
            f"pd.to_numeric(X[{column!r}], errors='coerce') and impute, or list it in "
            "categorical_features to treat each value as a category."
        )
    if inferred == "string":
        parsed = pd.to_numeric(values, errors="coerce")
        numeric_share = parsed.notna().mean()
        if 0.5 <= numeric_share < 1.0:
            bad = values[parsed.isna() & values.notna()]
            raise ValueError(
                f"Column {column!r} holds text but {numeric_share:.0%} of it reads as "
                f"numbers; the rest is e.g. {_examples(bad)}. If it is numeric, "
                f"convert it (pd.to_numeric(X[{column!r}], errors='coerce')) and "
                "impute the missing values; if it is categorical, list it in "
                "categorical_features."
            )
    return CATEGORICAL


def _numeric_values(values: pd.Series, column: str, stage: str) -> np.ndarray:
    """Column as float64 (missing values as NaN), with a clear error for text
    and infinite values.
    """
    dtype = values.dtype
    if pd.api.types.is_bool_dtype(dtype) or pd.api.types.is_numeric_dtype(dtype):
        try:
            out = values.to_numpy(dtype=np.float64, na_value=np.nan)
        except (TypeError, ValueError):
            out = pd.to_numeric(values, errors="coerce").to_numpy(dtype=np.float64)
    else:
        parsed = pd.to_numeric(values, errors="coerce")
        text = parsed.isna() & values.notna()
        if isinstance(dtype, pd.CategoricalDtype) or text.any():
            where = " at fit" if stage == "transform" else ""
            raise ValueError(
                f"Column {column!r} was numeric{where} but holds non-numeric values "
                f"(dtype {dtype}), e.g. "
                f"{_examples(values[text] if text.any() else values)}"
                ". Pass the same numeric column as in fit."
            )
        out = parsed.to_numpy(dtype=np.float64, na_value=np.nan)
    infinite = np.isinf(out)
    if infinite.any():
        raise ValueError(
            f"Column {column!r} has {int(infinite.sum())} infinite value(s) (inf); "
            "replace them with finite numbers or drop the rows."
        )
    return out


def _categorical_values(values: pd.Series) -> np.ndarray:
    return values.astype(object).to_numpy()


def _unique_objects(values: np.ndarray):
    counts = pd.Series(values, dtype=object).value_counts(sort=False)
    return [plain(v) for v in counts.index], list(counts.to_numpy())


def _examples(values, limit: int = 3) -> str:
    shown = pd.Series(values).dropna().astype(object).unique()[:limit]
    return ", ".join(repr(plain(v)) for v in shown) or "(none)"
