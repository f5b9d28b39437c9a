"""RiskScoreClassifier: certifiably optimal integer risk scores for scikit-learn."""

from __future__ import annotations

import numbers
import time
import warnings

import numpy as np
import pandas as pd
from scipy.special import expit
from sklearn.base import BaseEstimator, ClassifierMixin, clone
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils import check_random_state
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import (
    _check_sample_weight,
    check_is_fitted,
    validate_data,
)

from ._binning import FEATURE_GROUPS_ATTR, RULES_ATTR
from ._compat import Interval, StrOptions, _fit_context
from ._constraints import AtMost, compile_constraints
from ._model import feature_names
from ._progress import with_progress
from ._solver import (
    RiskScoreProblem,
    SolverError,
    SolverStatus,
    certify_points,
    explain_infeasibility,
    intercept_bound,
    largest_score,
    search_scale,
    separating_gap,
    solve,
)

__all__ = ["RiskScoreClassifier", "certify_card"]

# The largest |intercept + x . points| a model may reach for the search to be
# trusted. The LP engines' tolerances (1e-9, relative to the range of the
# intercept and the scores) then stay below 0.02 of a point, and every score
# is an exact integer in float32 (ONNX) as well as in float64. Measured on
# breastcancer (max_coef=5): one cell of 1e6 still fits and certifies, one of
# 1e7 makes the certificate refuse the search's answer, and larger values
# overflow integer conversions inside the search.
MAX_ABS_SCORE = 2**24


class RiskScoreClassifier(ClassifierMixin, BaseEstimator):
    """A risk score with integer points, learned by certifiably optimal search.

    Solves the RiskSLIM problem (Ustun & Rudin, JMLR 2019): minimise the
    logistic loss of an integer score ``s(x) = intercept + sum_j points_j x_j``
    plus ``c0`` per feature used, with every point an integer in
    ``[-max_coef, max_coef]`` and at most ``max_features`` features. The solver
    is a branch-and-bound over python-mip LP relaxations with tangent-plane cuts
    of the loss; it returns the best model found, a proven lower bound on every
    admissible model and the optimality gap between them.

    Read more in the :ref:`User Guide <quickstart>`.

    Parameters
    ----------
    max_coef : int, default=5
        Largest absolute number of points any feature may get.
    coef_bounds : dict, default=None
        Per-feature point bounds ``{feature: (lower, upper)}`` overriding
        ``[-max_coef, max_coef]``; keys are feature names (when fitted on a
        DataFrame) or column indices. ``(0, 3)`` forces a non-negative sign,
        ``(0, 0)`` excludes the feature.
    max_features : int, default=5
        Largest number of features with non-zero points.
    min_features : int, default=0
        Smallest number of features with non-zero points.
    c0 : float, default=1e-6
        Penalty per feature used, in units of the average log loss. Small
        values pick the most accurate model within ``max_features``; larger
        values trade accuracy for fewer features.
    max_intercept : int, default=None
        Bound on the absolute value of the intercept. By default a bound is
        derived from the data that provably never excludes an optimal model.
    constraints : list of constraint objects, default=None
        Operational constraints (:class:`MustUse`, :class:`MustNotUse`,
        :class:`AtMost`, :class:`AtLeast`, :class:`Exactly`,
        :class:`Implies`, :class:`LinearConstraint`, :class:`Monotonic`),
        honoured exactly by the solver and by every heuristic it runs. Behind
        a :class:`RiskScoreBinarizer` (e.g. in ``make_pipeline``) they may
        name raw variables: ``MustNotUse("Age")`` excludes every Age rule.
    binarizer_groups : bool, default=True
        When ``X`` is the output of :class:`RiskScoreBinarizer` (e.g. in a
        ``Pipeline``), give at most one
        threshold of each variable and direction non-zero points, so the card
        reads "Age >= 60: +2" rather than a stack of nested thresholds. The
        groups travel in ``X.attrs["sk_riskscore.feature_groups"]``.
    calibrate_scale : bool, default=False
        Also choose a positive scale ``s`` with ``risk = 1 / (1 + exp(-score /
        s))`` and make the intercept a real number: the risk mapping of Platt
        scaling, FasterRisk's multiplier and imodels. Points stay integers, but
        ``s > 1`` lets them express finer effects and ``s < 1`` steeper ones.
        The scale is searched within ``time_limit``: a heuristic scan of 25
        scales (star-ray rounding, polishing, the best points polished at the
        other scales, one-point moves with scale and intercept refitted; at
        most three quarters of the time) points out the best scales, then
        certified solves there and on a grid of scales (extended past its
        ends while they are best, golden-section refinement, then the Platt
        scale of the best points until it settles); the certificate
        (``lower_bound_``, gap) holds for the chosen ``scale_``. Off by
        default, so that a total score reads directly as log-odds; turn on
        for better calibration and log loss. If the points separate the
        training data, no scale is best (the loss falls as it steepens): the
        search steepens the scale until the training risks are 0 or 1 in
        double precision, and the fit warns. A steep fitted scale (under 1)
        can leave the proven bound near zero (the relaxation nearly
        separates the rows); the fit's warning then points to
        ``calibrate_scale=False``, whose certificate is usually far easier
        to prove.
    time_limit : float, default=60
        Seconds ``fit`` may run, counted from the call (checking the data
        included). On expiry the best model found is kept, with its honest
        optimality gap, and a ``ConvergenceWarning`` is raised. It says
        whether the proven bound still rose in the second half of the search
        (more time is then likely to narrow the gap) or stood still (fewer
        features or a looser ``gap_tolerance`` are then the way).
    gap_tolerance : float, default=1e-4
        Stop once ``(objective - lower_bound) / objective`` is at most this.
    solver : {"cbc", "highs"}, default="cbc"
        python-mip engine used for the LP relaxations.
    pool_size : int, default=10
        How many of the best distinct models found to keep in ``pool_``.
    n_jobs : int, default=None
        Processes for the branch-and-bound search. ``None`` means 1 and ``-1``
        every core, as elsewhere in scikit-learn. The root relaxation and the
        first incumbents are computed in the calling process; when the root
        leaves the tree open, worker processes (each with its own LP) search
        it in rounds. Starting them takes about a second, so it pays on
        searches that run for many seconds. With ``calibrate_scale=True`` the
        workers serve the final certificate at the chosen scale. The
        certificate is the same as with one process.
    random_state : int, RandomState instance or None, default=None
        Seeds the random perturbations of the local search. The certified
        optimum does not depend on it; which near-optimal models reach
        ``pool_`` and how fast the search gets there may.
    verbose : int, default=0
        0 is silent; 1 shows live progress (objective, bound, gap, time).

    Attributes
    ----------
    coef_ : ndarray of shape (1, n_features), dtype int64
        Points per feature.
    intercept_ : ndarray of shape (1,)
        The score's constant: int64, or float64 with ``calibrate_scale=True``.
    classes_ : ndarray of shape (2,)
        Class labels; ``classes_[1]`` is the event whose risk is predicted.
    n_features_in_ : int
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Only when ``X`` had string column names.
    objective_ : float
        Loss plus penalty of the model, recomputed from the data.
    lower_bound_ : float
        Proven lower bound on the objective of every admissible model.
    optimality_gap_ : float
        ``(objective_ - lower_bound_) / objective_``.
    status_ : str
        ``"optimal"``, ``"time_limit"``, ``"node_limit"``, or ``"incomplete"``
        (with ``n_jobs``: a search worker process was lost, and its part of
        the tree keeps the bound it last reported).
    solver_statistics_ : SolverStatistics
        Time, nodes, cuts, LP solves and more.
    scale_ : float
        Divisor of the score in the risk formula; 1.0 unless
        ``calibrate_scale=True``. ``objective_`` is measured at this scale.
    pool_ : pandas.DataFrame
        The best distinct models found, best first: objective, loss,
        intercept and the points of every feature.
    target_name_ : str or None
        Name of ``y`` (a named Series), used as the card's title ("Risk of
        <name>"); None otherwise.
    n_samples_fit_ : int
        Number of training rows.

    See Also
    --------
    RiskScoreBinarizer : Turns numeric and categorical columns into binary
        features a risk score can use.

    Examples
    --------
    >>> from sk_riskscore import RiskScoreClassifier
    >>> from sk_riskscore.datasets import load_breastcancer
    >>> X, y = load_breastcancer(return_X_y=True, as_frame=True)
    >>> clf = RiskScoreClassifier(max_features=5, max_coef=5).fit(X, y)
    >>> clf.status_
    'optimal'
    >>> int(clf.intercept_[0]), clf.coef_.tolist()
    (-17, [[1, 0, 0, 1, 0, 1, 1, 0, 1]])
    >>> round(clf.objective_, 6)
    0.113365
    """

    _parameter_constraints: dict = {
        "max_coef": [Interval(numbers.Integral, 1, None, closed="left")],
        "coef_bounds": [dict, None],
        "max_features": [Interval(numbers.Integral, 0, None, closed="left")],
        "min_features": [Interval(numbers.Integral, 0, None, closed="left")],
        "c0": [Interval(numbers.Real, 0, None, closed="left")],
        "max_intercept": [Interval(numbers.Integral, 0, None, closed="left"), None],
        "constraints": [list, tuple, None],
        "binarizer_groups": ["boolean"],
        "calibrate_scale": ["boolean"],
        "time_limit": [Interval(numbers.Real, 0, None, closed="neither")],
        "gap_tolerance": [Interval(numbers.Real, 0, 1, closed="both")],
        "solver": [StrOptions({"cbc", "highs"})],
        "pool_size": [Interval(numbers.Integral, 1, None, closed="left")],
        "n_jobs": [Interval(numbers.Integral, 1, None, closed="left"),
                   Interval(numbers.Integral, None, -1, closed="right"), None],
        "random_state": ["random_state"],
        "verbose": ["verbose"],
    }

    def __init__(
        self,
        *,
        max_coef=5,
        coef_bounds=None,
        max_features=5,
        min_features=0,
        c0=1e-6,
        max_intercept=None,
        constraints=None,
        binarizer_groups=True,
        calibrate_scale=False,
        time_limit=60.0,
        gap_tolerance=1e-4,
        solver="cbc",
        pool_size=10,
        n_jobs=None,
        random_state=None,
        verbose=0,
    ):
        self.max_coef = max_coef
        self.coef_bounds = coef_bounds
        self.max_features = max_features
        self.min_features = min_features
        self.c0 = c0
        self.max_intercept = max_intercept
        self.constraints = constraints
        self.binarizer_groups = binarizer_groups
        self.calibrate_scale = calibrate_scale
        self.time_limit = time_limit
        self.gap_tolerance = gap_tolerance
        self.solver = solver
        self.pool_size = pool_size
        self.n_jobs = n_jobs
        self.random_state = random_state
        self.verbose = verbose

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y, sample_weight=None):
        """Learn the risk score.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Numeric features: binary indicators, small integers or reals.
        y : array-like of shape (n_samples,)
            Two class labels of any type; ``classes_[1]`` (the larger in sort
            order, e.g. 1, True or "yes") is the event whose risk is scored.
        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative row weights (e.g. counts of identical rows).

        Returns
        -------
        self : RiskScoreClassifier
        """
        started = time.perf_counter()
        target_name = getattr(y, "name", None)
        problem, compiled, names, X, signs, sample_weight = self._prepare(X, y, sample_weight)
        run = with_progress(search_scale if self.calibrate_scale else solve, self.verbose)
        result = run(
            problem,
            backend=self.solver,
            time_limit=max(self.time_limit - (time.perf_counter() - started), 0.0),
            gap_tolerance=self.gap_tolerance,
            pool_size=self.pool_size,
            n_jobs=self.n_jobs,
            random_state=check_random_state(self.random_state).randint(2**31 - 1),
        )
        if result.status == SolverStatus.ERROR:
            raise SolverError(
                f"RiskScoreClassifier could not produce a trustworthy model: "
                f"{result.message}. Try solver="
                f"{'highs' if self.solver == 'cbc' else 'cbc'!r}, and please report "
                "this with the data that caused it."
            )
        if result.status == SolverStatus.INFEASIBLE:
            conflict = explain_infeasibility(problem, compiled.bound_labels)
            raise ValueError(
                "No risk score satisfies all the constraints; these cannot hold "
                f"together: {'; '.join(conflict) or result.message}. Relax or remove "
                "one of them."
            )
        if result.model is None:
            raise SolverError(
                f"No admissible model was found within time_limit={self.time_limit} s; "
                "raise time_limit or relax the constraints."
            )
        self._store(result, names)
        self.target_name_ = target_name if isinstance(target_name, str) else None
        self.n_samples_fit_ = int(X.shape[0])
        self.scale_ = float(result.score_scale)
        if self.calibrate_scale and separating_gap(
                X @ self.coef_.ravel(), sample_weight * (signs > 0),
                sample_weight * (signs < 0)) is not None:
            warnings.warn(
                "The risk score separates the training data: every positive example "
                "scores above every negative one. With calibrate_scale=True the log "
                "loss then falls without limit as the scale steepens, so "
                f"scale_={self.scale_:.4g} is as steep as the search went (the training "
                "risks reach 0% and 100% in double precision there), not a calibrated "
                "estimate. Check for a feature "
                "that leaks the label, or use calibrate_scale=False (points as "
                "log-odds, whose bounded size keeps the risks finite).",
                UserWarning,
                stacklevel=2,
            )
        if result.status != SolverStatus.OPTIMAL:
            warnings.warn(
                f"RiskScoreClassifier stopped ({result.message or result.status.value}) "
                f"with optimality gap {result.gap:.2%}: objective {result.objective:.6g}, "
                f"proven lower bound {result.lower_bound:.6g}. The model is the best "
                "found but not proven optimal; "
                + _gap_advice(result.objective, result.lower_bound,
                              result.statistics.lower_bound_at_half_time)
                + (_steep_scale_advice(self.scale_, result.objective, result.lower_bound)
                   if self.calibrate_scale else ""),
                ConvergenceWarning,
                stacklevel=2,
            )
        return self

    def _prepare(self, X, y, sample_weight):
        """Validate the inputs and build the solver's problem (fit and certify_card)."""
        _reject_non_numeric_columns(X)
        constraints = list(self.constraints or ())
        if self.binarizer_groups:
            constraints += _binarizer_groups(X)
        rules = _binarizer_rules(X)
        X, y = validate_data(self, X, y, dtype=np.float64, y_numeric=False)
        check_classification_targets(y)
        self.classes_ = np.unique(y)
        if len(self.classes_) != 2:
            kind = "only one class" if len(self.classes_) < 2 else (
                f"{len(self.classes_)} classes (multiclass)"
            )
            raise ValueError(
                "Only binary classification is supported: RiskScoreClassifier "
                f"predicts the risk of one event, but y has {kind}: "
                f"{self.classes_.tolist()[:10]}. Provide labels of exactly two classes."
            )
        signs = np.where(y == self.classes_[1], 1, -1)
        sample_weight = _validated_weights(sample_weight, X, signs)
        if self.min_features > self.max_features:
            raise ValueError(
                f"min_features={self.min_features} exceeds max_features="
                f"{self.max_features}; choose min_features <= max_features."
            )
        names = feature_names(getattr(self, "feature_names_in_", None), X.shape[1])
        compiled = compile_constraints(
            names,
            max_coef=self.max_coef,
            coef_bounds=self.coef_bounds,
            constraints=constraints,
            rules=rules,
        )
        problem = self._problem(X, signs, sample_weight, compiled, names)
        return problem, compiled, names, X, signs, sample_weight

    def _problem(self, X, signs, sample_weight, compiled, names=None) -> RiskScoreProblem:
        d = X.shape[1]
        if names is None:
            names = feature_names(getattr(self, "feature_names_in_", None), d)
        with np.errstate(over="ignore", invalid="ignore"):
            largest = largest_score(X, compiled.coef_lower, compiled.coef_upper,
                                    self.max_features)
        _check_score_range(X, compiled, largest, self.max_intercept, names)
        if self.max_intercept is None:
            reach = intercept_bound(
                X, signs, sample_weight, compiled.coef_lower, compiled.coef_upper,
                self.max_features, largest=largest,
            )
        else:
            reach = int(self.max_intercept)
        _check_score_range(X, compiled, largest + reach, self.max_intercept, names)
        return RiskScoreProblem(
            X=X,
            y=signs,
            sample_weight=sample_weight,
            coef_lower=compiled.coef_lower,
            coef_upper=compiled.coef_upper,
            intercept_lower=-reach,
            intercept_upper=reach,
            c0=np.full(d, float(self.c0)),
            min_features=int(self.min_features),
            max_features=int(self.max_features),
            constraints=compiled.rows,
        )

    def _store(self, result, names) -> None:
        model = result.model
        self.coef_ = model.points.astype(np.int64).reshape(1, -1)
        # with a fitted scale the intercept is a real calibration constant
        self.intercept_ = np.array(
            [model.intercept], dtype=np.float64 if self.calibrate_scale else np.int64
        )
        self.objective_ = float(result.objective)
        self.lower_bound_ = float(result.lower_bound)
        self.optimality_gap_ = float(result.gap)
        self.status_ = result.status.value
        self.solver_statistics_ = result.statistics
        rows = [
            {"objective": m.objective, "loss": m.loss, "intercept": m.intercept,
             "n_features": m.support, **dict(zip(names, m.points.tolist()))}
            for m in result.pool
        ]
        self.pool_ = pd.DataFrame(rows)

    def decision_function(self, X):
        """Intercept plus the points of each row: the log-odds times ``scale_``.

        The score a person adds up on the card (and the ``score`` output of
        the CLI, MLflow and ONNX) is the points alone;
        ``decision_function(X) = score + intercept_``, and
        ``P(classes_[1]) = 1 / (1 + exp(-decision_function(X) / scale_))``.

        Returns
        -------
        decision : ndarray of shape (n_samples,), dtype float64
            Whole numbers when the features and the intercept are.
        """
        return self._total_points(X) + float(self.intercept_[0])

    def _total_points(self, X):
        """The card's score: the sum of each row's points, without the intercept."""
        check_is_fitted(self)
        _reject_non_numeric_columns(X)
        X = validate_data(self, X, reset=False, dtype=np.float64)
        return X @ self.coef_[0].astype(np.float64)

    def predict_proba(self, X):
        """Risk of each class: ``P(classes_[1]) = 1 / (1 + exp(-score / scale_))``.

        Returns
        -------
        proba : ndarray of shape (n_samples, 2)
        """
        scores = self.decision_function(X) / self.scale_
        positive = expit(scores)
        return np.column_stack([1.0 - positive, positive])

    def predict_log_proba(self, X):
        """Logarithm of :meth:`predict_proba`, computed without overflow."""
        scores = self.decision_function(X) / self.scale_
        return np.column_stack([-np.logaddexp(0.0, scores), -np.logaddexp(0.0, -scores)])

    def predict(self, X):
        """``classes_[1]`` where the score is positive, else ``classes_[0]``."""
        scores = self.decision_function(X)
        return self.classes_[(scores > 0).astype(int)]

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.classifier_tags.multi_class = False
        tags.input_tags.allow_nan = False
        return tags


def _binarizer_groups(X) -> list:
    """AtMost(1, group) for each group a RiskScoreBinarizer attached to X."""
    if not isinstance(X, pd.DataFrame):
        return []
    groups = X.attrs.get(FEATURE_GROUPS_ATTR)
    if not groups:
        return []
    columns = {str(c) for c in X.columns}
    return [AtMost(1, list(group)) for group in groups
            if len(group) > 1 and set(map(str, group)) <= columns]


def _binarizer_rules(X):
    """The BinaryRule of each column when X came from a RiskScoreBinarizer."""
    if not isinstance(X, pd.DataFrame):
        return None
    rules = X.attrs.get(RULES_ATTR)
    if not rules or [rule.name for rule in rules] != [str(c) for c in X.columns]:
        return None  # columns selected or renamed after the binarizer
    return tuple(rules)


# The bound "still rises" when the second half of a search closed at least this
# share of the gap open at half time. Binarized mushroom with 10 features, 60 s:
# 22 % -> 14 % (36 %), and it is certified after 4 minutes; heloc with 7:
# 2.5 % -> 2.5 % (0 %), and still 2.5 % after 5 minutes (benchmarks/RESULTS.md,
# "bench_certify mushroom k10 long stop 44").
_STILL_RISING = 0.1


def _gap_advice(objective: float, lower_bound: float, bound_at_half_time: float) -> str:
    """What to do about a gap left open, by whether the proven bound still rose
    in the second half of the search.
    """
    smaller = "reduce max_features or max_coef, or accept a larger gap_tolerance."
    if not (np.isfinite(bound_at_half_time) and np.isfinite(lower_bound)
            and objective > bound_at_half_time):
        return "raise time_limit, " + smaller
    closed = (lower_bound - bound_at_half_time) / (objective - bound_at_half_time)
    if closed >= _STILL_RISING:
        return (f"the proven bound was still rising (the second half of the search closed "
                f"{closed:.0%} of the gap), so more time is likely to narrow it: raise "
                "time_limit, or use n_jobs=-1.")
    return (f"the proven bound barely moved in the second half of the search (it closed "
            f"{max(closed, 0.0):.0%} of the gap), so more time is unlikely to help: "
            + smaller)


# A fitted scale's bound is "near zero" under this share of its objective.
# Binarized mushroom with 5 features: at its fitted scale_ 0.147 the bound is
# 1e-6 against 0.0127 after 300 s, and at scale 1 it is certified in 6 s
# (benchmarks/RESULTS.md, "bench_certify screen and closing experiments (left
# out)" and "bench_certify screen by pay rate").
_NEAR_ZERO_BOUND = 0.5


def _steep_scale_advice(scale: float, objective: float, lower_bound: float) -> str:
    """Why a fitted scale under 1 can leave the proven bound near zero, and
    the way to a certificate; empty where that is not the case.
    """
    if not (0 < scale < 1 and objective > 0 and lower_bound < _NEAR_ZERO_BOUND * objective):
        return ""
    reach = 1 / scale
    return (f" The fitted scale_={scale:.4g} is steep: in log-odds, the relaxation's "
            f"real-valued points reach {reach:.3g} times as far as at scale 1, far enough "
            "to nearly separate the training rows, which keeps its bound near zero. At "
            f"scale 1 its reach is {reach:.3g} times shorter and a certificate usually "
            "far easier to prove: fit with calibrate_scale=False (points as log-odds).")


def _reject_non_numeric_columns(X) -> None:
    """A clear message instead of numpy's 'could not convert string to float'."""
    if isinstance(X, pd.DataFrame):
        bad = [str(c) for c, t in X.dtypes.items()
               if not (pd.api.types.is_numeric_dtype(t) or pd.api.types.is_bool_dtype(t))]
        if bad:
            raise ValueError(
                f"RiskScoreClassifier needs numeric features; non-numeric columns: "
                f"{bad}. Encode them first, e.g. with sk_riskscore.RiskScoreBinarizer "
                "in a Pipeline."
            )
    elif isinstance(X, np.ndarray) and X.dtype.kind in "OUS":
        try:
            np.asarray(X, dtype=np.float64)
        except (TypeError, ValueError) as exc:
            raise type(exc)(
                f"RiskScoreClassifier needs numeric features; X holds values that are "
                f"not numbers ({exc}). Encode them first, e.g. with "
                "sk_riskscore.RiskScoreBinarizer in a Pipeline."
            ) from None


def _check_score_range(X, compiled, reach, max_intercept, names) -> None:
    """Refuse, before any solving, data whose scores could reach ``reach`` >=
    MAX_ABS_SCORE, naming the columns that take them there.
    """
    if reach < MAX_ABS_SCORE:  # NaN cannot occur: X and the bounds are finite
        return
    with np.errstate(over="ignore", invalid="ignore"):
        bound = np.maximum(np.abs(compiled.coef_lower), np.abs(compiled.coef_upper))
        largest_value = np.abs(X).max(axis=0, initial=0.0)
        column_reach = np.where(bound == 0, 0.0, bound * largest_value)
    order = [j for j in np.argsort(-column_reach, kind="stable") if column_reach[j] > 0]
    # the columns that alone take up a large share of the limit, at least one
    culprits = [j for j in order if column_reach[j] >= MAX_ABS_SCORE / 8] or order[:1]
    shown = "; ".join(
        f"column {names[j]!r} has |x| up to {largest_value[j]:.3g}, times up to "
        f"{int(bound[j])} points" for j in culprits[:5])
    if len(culprits) > 5:
        shown += f"; and {len(culprits) - 5} more"
    if max_intercept is not None and max_intercept >= MAX_ABS_SCORE / 8:
        shown = f"max_intercept={max_intercept}" + (f"; {shown}" if shown else "")
    first = names[culprits[0]] if culprits else "name"
    raise ValueError(
        f"Scores could reach {reach:.3g} ({shown}), beyond the {MAX_ABS_SCORE:,} "
        "(2**24) within which the solver computes and certifies integer scores "
        "exactly. Rescale these columns (e.g. thousands instead of cents), turn "
        "them into binary rules with sk_riskscore.RiskScoreBinarizer, or exclude "
        f"them with coef_bounds={{{first!r}: (0, 0)}}."
    )


def _validated_weights(sample_weight, X, signs) -> np.ndarray:
    if sample_weight is None:
        return np.ones(X.shape[0])
    weights = _check_sample_weight(sample_weight, X, dtype=np.float64)
    if not np.all(np.isfinite(weights)):
        raise ValueError("sample_weight contains NaN or infinity; give finite weights.")
    if np.any(weights < 0):
        raise ValueError(
            f"sample_weight has {int(np.sum(weights < 0))} negative values; "
            "weights must be non-negative."
        )
    for sign, label in ((1, "positive"), (-1, "negative")):
        if weights[signs == sign].sum() <= 0:
            raise ValueError(
                f"sample_weight gives the {label} class a total weight of zero; "
                "both classes need positive weight."
            )
    return weights


def whole_or_real(value) -> int | float:
    """An intercept as a Python number: an int when whole (always, unless the
    scale was calibrated), else the real number.
    """
    value = float(value)
    return int(value) if value.is_integer() else value


def certify_card(points, X, y, *, intercept=None, sample_weight=None, estimator=None):
    """Prove how far a given risk score card is from the optimal one.

    The card can come from anywhere: a peer's model (FasterRisk, imodels), a
    published clinical score or a previous fit. The search starts from the
    card (so it only has to prove a bound), and the lower bound it proves
    holds for every model the estimator's settings admit.

    Parameters
    ----------
    points : array-like of shape (n_features,) or dict
        The card's integer points, one per column of ``X``, or a mapping from
        column names of ``X`` (a DataFrame) to points; absent names get 0.
    X : array-like of shape (n_samples, n_features)
    y : array-like of shape (n_samples,)
        Two classes; ``classes_[1]`` (the larger in sort order) is the event.
    intercept : float, optional
        The card's intercept (in points); by default its best integer one.
    sample_weight : array-like of shape (n_samples,), optional
    estimator : RiskScoreClassifier, optional
        Its parameters define the class of cards the bound covers
        (``max_coef``, ``max_features``, ``c0``, constraints, ``time_limit``,
        ``gap_tolerance``, ``solver``); the default is ``RiskScoreClassifier()``.
        It is not fitted. ``calibrate_scale`` must be False: the points are
        read as log-odds.

    Returns
    -------
    CardCertificate
        ``objective`` (the card's loss + c0 per point used), ``lower_bound``,
        ``gap``, ``certified`` (gap within ``gap_tolerance``), ``best`` (the
        best model met; below the card's objective, it proves the card
        suboptimal) and the solver's ``result``.

    Examples
    --------
    >>> import numpy as np
    >>> from sk_riskscore import RiskScoreClassifier, certify_card
    >>> rng = np.random.default_rng(0)
    >>> X = (rng.random((300, 4)) < 0.5).astype(float)
    >>> y = (X @ [2, -1, 0, 1] - 1 + rng.logistic(size=300) > 0).astype(int)
    >>> card = certify_card([2, -1, 0, 1], X, y,
    ...                     estimator=RiskScoreClassifier(max_features=3, time_limit=10))
    >>> bool(card.gap >= 0), bool(card.lower_bound <= card.objective)
    (True, True)
    """
    estimator = RiskScoreClassifier() if estimator is None else clone(estimator)
    if estimator.calibrate_scale:
        raise ValueError("certify_card reads the points as log-odds (scale 1); pass an "
                         "estimator with calibrate_scale=False.")
    if isinstance(points, dict):
        columns = list(getattr(X, "columns", []))
        unknown = sorted(set(points) - set(columns))
        if unknown:
            raise ValueError(f"points name columns that X does not have: {unknown[:5]}; "
                             "pass X as a DataFrame with those columns, or points as an "
                             "array with one entry per column.")
        points = [points.get(name, 0) for name in columns]
    points = np.asarray(points, dtype=float).ravel()
    estimator._validate_params()
    problem, *_ = estimator._prepare(X, y, sample_weight)
    if points.shape != (problem.n_features,) or not np.all(points == np.round(points)):
        raise ValueError(f"points must be {problem.n_features} integers (one per column of "
                         f"X), got {points.shape[0]} values {points.tolist()[:10]}.")
    return certify_points(
        problem, points.astype(int), intercept, gap_tolerance=estimator.gap_tolerance,
        backend=estimator.solver, time_limit=estimator.time_limit,
        pool_size=estimator.pool_size, n_jobs=estimator.n_jobs,
        random_state=check_random_state(estimator.random_state).randint(2**31 - 1))
