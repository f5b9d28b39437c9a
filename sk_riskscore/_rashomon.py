"""The Rashomon set of a risk score and the predictive multiplicity it implies.

:func:`rashomon_set` returns every admissible score card whose objective is
within ``epsilon`` of the optimum, with a proof that none is missing when the
search completes; :class:`RashomonSet` measures how much the cards disagree on
any data (Marx, Calmon and Ustun, ICML 2020; Watson-Daniels, Parkes and Ustun,
AAAI 2023).
"""

from __future__ import annotations

import numbers
import time

import numpy as np
import pandas as pd
from scipy.special import expit
from sklearn.base import clone
from sklearn.exceptions import NotFittedError
from sklearn.pipeline import Pipeline
from sklearn.utils.validation import check_is_fitted, validate_data

from ._classifier import (
    RiskScoreClassifier,
    _reject_non_numeric_columns,
)
from ._model import feature_names, split_pipeline
from ._progress import with_progress
from ._solver import (
    RashomonResult,
    RashomonStatistics,
    SolverError,
    SolverStatistics,
    SolverStatus,
    enumerate_rashomon,
    rescaled,
    search_scale,
)

__all__ = ["RashomonSet", "RashomonStatistics", "rashomon_set"]


def rashomon_set(estimator, X, y, *, epsilon=0.01, max_models=1000, time_limit=60.0,
                 sample_weight=None, progress=False):
    """Every admissible score card within ``epsilon`` of the best, proven complete.

    A card is a vector of integer points with its best intercept. The set is
    every card that the estimator's settings admit (``max_features``,
    ``max_coef``, ``coef_bounds``, ``constraints``, ...) whose objective
    (log loss plus ``c0`` per feature, on ``X, y``) is at most
    ``(1 + epsilon)`` times the optimum. A branch-and-bound that prunes at
    ``(1 + epsilon)`` times the best objective, instead of at the best, finds
    them all; ``complete_`` is True only when its whole tree was explored.

    Read more in the :ref:`User Guide <rashomon>`.

    Parameters
    ----------
    estimator : RiskScoreClassifier or Pipeline ending in one
        Fitted or not: its parameters define the cards. If it is fitted, its
        model is the first candidate; earlier Pipeline steps are then used as
        fitted, otherwise a copy of them is fitted on ``X, y``. The estimator
        itself is never modified.
    X : array-like of shape (n_samples, n_features)
        The data the set is defined on (before the Pipeline's earlier steps).
    y : array-like of shape (n_samples,)
        Two class labels.
    epsilon : float, default=0.01
        Relative tolerance: 0.01 keeps every card within 1 % of the optimum.
    max_models : int, default=1000
        Largest number of cards kept. When more lie within ``epsilon`` the
        best ``max_models`` are kept, ``truncated_`` is True and ``complete_``
        False.
    time_limit : float, default=60
        Seconds for the whole search (finding the optimum included). On expiry
        the cards found so far are returned with ``complete_ = False``.
    sample_weight : array-like of shape (n_samples,), default=None
    progress : bool or callable, default=False
        True shows live progress as ``fit(verbose=1)`` does; a callable receives
        :class:`~sk_riskscore._solver.Progress` snapshots.

    Returns
    -------
    RashomonSet

    Notes
    -----
    With ``calibrate_scale=True`` membership is decided at one scale for all
    cards: the estimator's ``scale_`` (found first if it is not fitted), with
    each card's best *real* intercept at that scale. Every card is also given
    its own best scale and intercept (a Platt fit of its points), reported in
    the ``calibrated_*`` columns of ``cards_``; at its own scale a card's
    objective can only be lower. Cards that would come within ``epsilon`` only
    at a scale of their own are not searched for: with a free scale the points
    are unbounded in effect and no useful bound prunes the search.

    Examples
    --------
    >>> from sk_riskscore import RiskScoreClassifier, rashomon_set
    >>> from sk_riskscore.datasets import load_breastcancer
    >>> X, y = load_breastcancer(return_X_y=True, as_frame=True)
    >>> rset = rashomon_set(RiskScoreClassifier(max_features=3, max_coef=3), X, y,
    ...                     epsilon=0.05, time_limit=30)
    >>> len(rset), rset.complete_
    (4, True)
    >>> rset.summary(X).split(":")[0]
    '4 cards within 5 % of the optimum (proven complete)'
    """
    started = time.perf_counter()
    _check_options(epsilon, max_models, time_limit)
    classifier, preprocessing, fitted = _split(estimator)
    if preprocessing is not None:
        if fitted:
            X = preprocessing.transform(X)
        else:
            preprocessing = clone(preprocessing)
            X = preprocessing.fit_transform(X, y)
    template, problem, names = _problem_of(classifier, fitted, X, y, sample_weight)
    starts = []
    if fitted:
        starts.append((classifier.intercept_[0], classifier.coef_[0]))
    if classifier.calibrate_scale:
        if fitted:
            scale = float(classifier.scale_)
        else:
            found = search_scale(problem, time_limit=time_limit / 3,
                                 gap_tolerance=classifier.gap_tolerance,
                                 backend=classifier.solver, pool_size=1)
            if found.model is None:
                raise SolverError(f"no admissible model found: {found.message}")
            scale = float(found.score_scale)
            starts.append((found.model.intercept, found.model.points))
        problem = rescaled(problem, scale)
    if callable(progress):
        run = enumerate_rashomon
        options = {"progress": progress}
    else:
        run = with_progress(enumerate_rashomon, progress)
        options = {}
    result = run(problem, epsilon=float(epsilon), max_models=int(max_models),
                 time_limit=max(time_limit - (time.perf_counter() - started), 0.0),
                 backend=classifier.solver, initial_models=starts, **options)
    if result.status == SolverStatus.ERROR:
        other = "highs" if classifier.solver == "cbc" else "cbc"
        raise SolverError(f"The Rashomon set could not be trusted: {result.message}. Try "
                          f"solver={other!r} on the estimator.")
    if result.status == SolverStatus.INFEASIBLE:
        raise ValueError("No risk score satisfies all the constraints; relax or remove "
                         "one of them.")
    if not result.models:
        raise SolverError(f"No admissible model was found within time_limit={time_limit} s; "
                          "raise time_limit or relax the constraints.")
    step_name = estimator.steps[-1][0] if isinstance(estimator, Pipeline) else "classifier"
    return RashomonSet(result, template, preprocessing, names, step_name)


class RashomonSet:
    """The near-optimal score cards of a problem and the multiplicity they imply.

    Returned by :func:`rashomon_set`; not meant to be built directly. Cards are
    numbered by rank: card 0 is the best (the optimum), the reference card of
    every measure unless another is chosen.

    Attributes
    ----------
    cards_ : pandas.DataFrame
        One row per card, best first: ``objective`` (loss plus penalty,
        recomputed from the raw rows), ``loss``, ``intercept``, ``scale``,
        ``n_features`` and the points of every feature. With
        ``calibrate_scale=True`` also ``calibrated_scale``,
        ``calibrated_intercept`` and ``calibrated_objective``: each card's
        own best risk mapping.
    optimum_ : float
        The best objective found (card 0's).
    epsilon : float
    threshold_ : float
        ``(1 + epsilon) * optimum_``: every card's objective is at most this.
    lower_bound_ : float
        Proven lower bound on every admissible card's objective; equal to
        ``optimum_`` when the search is complete.
    complete_ : bool
        True when the search proved that no admissible card within
        ``threshold_`` is missing (no time, node or model limit was hit).
    truncated_ : bool
        True when more than ``max_models`` cards lie within ``epsilon``; the
        best ``max_models`` found are kept.
    complete_below_ : float
        The objective below which the set provably holds every admissible card:
        ``threshold_`` when complete, the tightened threshold when truncated
        but searched to the end, NaN when a time or node limit stopped the
        search.
    status_ : str
        ``"optimal"`` when the search ended by exhausting its tree (possibly at
        a tightened threshold, see ``truncated_``), else ``"time_limit"`` or
        ``"node_limit"``.
    statistics_ : RashomonStatistics
        Time, time to the optimum, nodes, LP solves, cuts, cards evaluated.
    scale_ : float
        The score scale at which membership was decided (1 unless
        ``calibrate_scale=True``).
    feature_names_ : list of str
        Names of the features the points apply to.
    """

    def __init__(self, result: RashomonResult, classifier: RiskScoreClassifier,
                 preprocessing, feature_names, step_name="classifier"):
        self._result = result
        self._step_name = step_name
        self._classifier = classifier
        self._preprocessing = preprocessing
        self.feature_names_ = list(feature_names)
        self.epsilon = float(result.epsilon)
        self.optimum_ = float(result.optimum)
        self.threshold_ = float(result.threshold)
        self.lower_bound_ = float(result.lower_bound)
        self.complete_ = bool(result.complete)
        self.truncated_ = bool(result.truncated)
        self.complete_below_ = float(result.complete_below)
        self.status_ = result.status.value
        self.statistics_ = result.statistics
        self.scale_ = float(result.score_scale)
        self._points = np.array([m.points for m in result.models], dtype=np.int64)
        self._intercepts = np.array([float(m.intercept) for m in result.models])
        rows = []
        for rank, model in enumerate(result.models):
            row = {"objective": model.objective, "loss": model.loss,
                   "intercept": model.intercept, "scale": self.scale_,
                   "n_features": model.support}
            if result.calibrations:
                fit = result.calibrations[rank]
                row.update(calibrated_scale=fit.scale, calibrated_intercept=fit.intercept,
                           calibrated_objective=fit.objective)
            row.update(zip(self.feature_names_, model.points.tolist()))
            rows.append(row)
        self.cards_ = pd.DataFrame(rows)

    def __len__(self) -> int:
        return len(self._points)

    def __repr__(self) -> str:
        state = "complete" if self.complete_ else (
            "truncated" if self.truncated_ else f"incomplete ({self.status_})")
        return (f"RashomonSet({len(self)} cards within {self.epsilon:.3g} of "
                f"{self.optimum_:.6g}, {state})")

    # --------------------------------------------------------------- risks
    def risks(self, X) -> np.ndarray:
        """Every card's risk of ``classes_[1]`` for every row of ``X``.

        ``X`` is raw input: a Pipeline's earlier steps are applied first.

        Returns
        -------
        risks : ndarray of shape (n_samples, n_cards)
        """
        X = self._features(X)
        scores = X @ self._points.T.astype(float) + self._intercepts[None, :]
        return expit(scores / self.scale_)

    def prediction_ranges(self, X, *, reference=0) -> pd.DataFrame:
        """Each person's viable prediction range: the lowest and highest risk
        any card in the set gives them (Watson-Daniels et al., 2023).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        reference : int, default=0
            The card whose risk is shown alongside (0: the optimum).

        Returns
        -------
        pandas.DataFrame
            One row per sample (``X``'s index when it is a DataFrame):
            ``risk`` (the reference card's), ``min_risk``, ``max_risk`` and
            ``range = max_risk - min_risk``.
        """
        self._check_reference(reference)
        risks = self.risks(X)
        low, high = risks.min(axis=1), risks.max(axis=1)
        index = X.index if isinstance(X, pd.DataFrame) else None
        return pd.DataFrame({"risk": risks[:, reference], "min_risk": low,
                             "max_risk": high, "range": high - low}, index=index)

    def multiplicity(self, X, *, threshold=0.5, groups=None, reference=0,
                     delta=0.1) -> pd.DataFrame:
        """Predictive multiplicity of the set on ``X``, overall and per group.

        A card decides "positive" for a person whose risk exceeds
        ``threshold``. Against the reference card (Marx et al., 2020):

        - ``ambiguity``: the share of people whose decision some card in the
          set reverses;
        - ``discrepancy``: the largest share of decisions that any single card
          reverses.

        And on the risks themselves (Watson-Daniels et al., 2023):
        ``mean_range`` and ``max_range`` of the viable prediction ranges, and
        ``share_range_above``: the share of people whose range exceeds
        ``delta``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Training or new data.
        threshold : float, default=0.5
            Decision threshold on the risk.
        groups : array-like of shape (n_samples,) or str, default=None
            A group label per person, or the name of a column of ``X`` holding
            it (that column is removed before scoring).
        reference : int, default=0
            The chosen card (0: the optimum).
        delta : float, default=0.1
            Width of risk range counted in ``share_range_above``.

        Returns
        -------
        pandas.DataFrame
            One row for all people (index ``"all"``), then one per group:
            ``n``, ``ambiguity``, ``discrepancy``, ``mean_range``,
            ``max_range``, ``share_range_above``.
        """
        self._check_reference(reference)
        if not 0.0 < threshold < 1.0:
            raise ValueError(f"threshold must be a risk strictly between 0 and 1, got "
                             f"{threshold!r}.")
        X, groups = _take_groups(X, groups)
        risks = self.risks(X)
        decisions = risks > threshold
        flipped = decisions != decisions[:, [reference]]
        spans = risks.max(axis=1) - risks.min(axis=1)
        parts = [("all", np.ones(len(risks), dtype=bool))]
        if groups is not None:
            parts += [(label, groups == label) for label in pd.unique(groups)]
        rows = {}
        for label, rows_in in parts:
            n = int(rows_in.sum())
            if n == 0:
                continue
            rows[label] = {
                "n": n,
                "ambiguity": float(flipped[rows_in].any(axis=1).mean()),
                "discrepancy": float(flipped[rows_in].mean(axis=0).max()),
                "mean_range": float(spans[rows_in].mean()),
                "max_range": float(spans[rows_in].max()),
                "share_range_above": float((spans[rows_in] > delta).mean()),
            }
        frame = pd.DataFrame.from_dict(rows, orient="index")
        frame.index.name = "group"
        return frame

    def feature_use(self) -> pd.DataFrame:
        """How the cards use each feature.

        Returns
        -------
        pandas.DataFrame
            One row per feature, most used first: ``n_cards`` and ``share`` of
            cards giving it non-zero points, ``min_points`` and
            ``max_points`` among those cards, ``best_rank`` (the rank of the
            best card using it; -1 if none does) and ``reference_points``
            (card 0's).
        """
        used = self._points != 0
        rows = []
        for j, name in enumerate(self.feature_names_):
            values = self._points[used[:, j], j]
            rows.append({
                "feature": name,
                "n_cards": int(used[:, j].sum()),
                "share": float(used[:, j].mean()),
                "min_points": int(values.min()) if values.size else 0,
                "max_points": int(values.max()) if values.size else 0,
                "best_rank": int(np.argmax(used[:, j])) if values.size else -1,
                "reference_points": int(self._points[0, j]),
            })
        frame = pd.DataFrame(rows).set_index("feature")
        return frame.sort_values(["n_cards", "best_rank"], ascending=[False, True],
                                 kind="stable")

    def summary(self, X, *, delta=0.1) -> str:
        """One line: how many cards, and how far apart their risks are on ``X``.

        Example: "47 cards within 1 % of the optimum (proven complete): 12 % of
        people have risks differing by more than 10 points."
        """
        spans = self.prediction_ranges(X)["range"].to_numpy()
        unfinished = f"not proven complete: {self.status_.replace('_', ' ')}"
        if self.complete_:
            state = "proven complete"
        elif self.truncated_ and self.status_ == "optimal":
            state = f"truncated to the best {len(self)}"
        elif self.truncated_:  # both: the cards kept, and the search that stopped
            state = f"truncated to the best {len(self)}; {unfinished}"
        else:
            state = unfinished
        return (f"{len(self)} card{'s' if len(self) != 1 else ''} within "
                f"{_percent(self.epsilon)} of the optimum ({state}): "
                f"{_percent(float((spans > delta).mean()))} of people have risks "
                f"differing by more than {100 * delta:g} points.")

    def plot_prediction_ranges(self, X, *, reference=0, ax=None):
        """Each person's risk range over the set against the reference card's risk.

        Returns
        -------
        matplotlib.axes.Axes
        """
        from ._plotting import plot_prediction_ranges

        title = (f"{len(self)} cards within {_percent(self.epsilon)} of the optimum"
                 f"{'' if self.complete_ else ' (not proven complete)'}")
        return plot_prediction_ranges(self.prediction_ranges(X, reference=reference),
                                      title=title, ax=ax)

    # ------------------------------------------------------------ cards
    def to_classifier(self, i=0):
        """Card ``i`` as a fitted estimator: a :class:`RiskScoreClassifier`
        with the set's parameters, or, when the set was built from a Pipeline,
        that Pipeline's fitted earlier steps followed by it. It predicts,
        saves to JSON and exports to ONNX like any fitted model.

        Its certificate is the set's: ``lower_bound_`` is the set's proven
        bound, ``optimality_gap_`` how far card ``i`` is above it, ``status_``
        the set's search status, and ``scale_`` the set's scale.
        """
        self._check_reference(i)
        model = self._result.models[i]
        clf = clone(self._classifier)
        for name in ("n_features_in_", "feature_names_in_", "classes_"):
            if hasattr(self._classifier, name):
                setattr(clf, name, getattr(self._classifier, name))
        clf.coef_ = model.points.astype(np.int64).reshape(1, -1)
        clf.intercept_ = np.array(
            [model.intercept], dtype=np.float64 if clf.calibrate_scale else np.int64)
        clf.scale_ = self.scale_
        clf.objective_ = float(model.objective)
        clf.lower_bound_ = min(self.lower_bound_, float(model.objective))
        clf.optimality_gap_ = (clf.objective_ - clf.lower_bound_) / max(clf.objective_, 1e-12)
        clf.status_ = self.status_
        statistics = self.statistics_
        clf.solver_statistics_ = SolverStatistics(time=statistics.time,
                                                  n_nodes=statistics.n_nodes,
                                                  n_cuts=statistics.n_cuts,
                                                  n_lp_solves=statistics.n_lp_solves)
        clf.pool_ = self.cards_.loc[[i], ["objective", "loss", "intercept", "n_features",
                                          *self.feature_names_]].reset_index(drop=True)
        if self._preprocessing is None:
            return clf
        return Pipeline([*self._preprocessing.steps, (self._step_name, clf)])

    # ------------------------------------------------------------ helpers
    def _features(self, X) -> np.ndarray:
        if self._preprocessing is not None:
            X = self._preprocessing.transform(X)
        _reject_non_numeric_columns(X)
        return validate_data(self._classifier, X, reset=False, dtype=np.float64)

    def _check_reference(self, i) -> None:
        if not isinstance(i, numbers.Integral) or not 0 <= i < len(self):
            raise ValueError(f"card index must be an integer in [0, {len(self) - 1}], "
                             f"got {i!r}.")


def _check_options(epsilon, max_models, time_limit) -> None:
    if not (isinstance(epsilon, numbers.Real) and np.isfinite(epsilon) and epsilon >= 0):
        raise ValueError(f"epsilon must be a non-negative number (0.01 for 1 %), got "
                         f"{epsilon!r}.")
    if not (isinstance(max_models, numbers.Integral) and max_models >= 1):
        raise ValueError(f"max_models must be a positive integer, got {max_models!r}.")
    if not (isinstance(time_limit, numbers.Real) and time_limit > 0):
        raise ValueError(f"time_limit must be a positive number of seconds, got "
                         f"{time_limit!r}.")


def _split(estimator):
    """(classifier, earlier Pipeline steps or None, fitted?), with clear errors."""
    preprocessing, classifier = split_pipeline(estimator)
    if not isinstance(classifier, RiskScoreClassifier):
        raise TypeError("rashomon_set needs a RiskScoreClassifier or a Pipeline whose last "
                        f"step is one; got {type(estimator).__name__}.")
    try:
        check_is_fitted(classifier, "coef_")
        fitted = True
    except NotFittedError:  # the parameters alone define the cards
        fitted = False
    return classifier, preprocessing, fitted


def _problem_of(classifier, fitted, X, y, sample_weight):
    """The classifier's problem on (X, y), as its ``fit`` builds it, and a
    classifier carrying the fitted input attributes (names, classes).
    """
    template = clone(classifier)
    template._validate_params()
    problem, _, names, *_ = template._prepare(X, y, sample_weight)
    if fitted:
        if template.n_features_in_ != classifier.n_features_in_ or list(names) != list(
                feature_names(getattr(classifier, "feature_names_in_", None),
                              classifier.n_features_in_)):
            raise ValueError("X does not have the columns the classifier was fitted on; "
                             "pass the data the fitted model reads, or an unfitted "
                             "estimator.")
        if not np.array_equal(template.classes_, classifier.classes_):
            raise ValueError(f"y holds the labels {template.classes_.tolist()[:5]}, but the "
                             f"classifier was fitted on {classifier.classes_.tolist()}.")
    return template, problem, names


def _take_groups(X, groups):
    if groups is None:
        return X, None
    if isinstance(groups, str):
        if not isinstance(X, pd.DataFrame) or groups not in X.columns:
            raise ValueError(f"groups={groups!r} names no column of X; pass the group "
                             "labels as an array instead.")
        return X.drop(columns=groups), X[groups].to_numpy()
    groups = np.asarray(groups)
    if groups.shape != (len(X),):
        raise ValueError(f"groups must hold one label per row of X ({len(X)}), got shape "
                         f"{groups.shape}.")
    return X, groups


def _percent(value: float) -> str:
    return f"{100 * value:.3g} %"
