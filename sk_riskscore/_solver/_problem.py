"""The RiskSLIM problem as plain arrays, and the exact objective that certifies it.

Nothing here knows about scikit-learn: the estimator validates user input and
translates it into a :class:`RiskScoreProblem`; the solver reads nothing else.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

__all__ = ["ConstraintRow", "RiskScoreProblem", "intercept_bound", "largest_score",
           "max_abs_score", "root_box", "separating_gap"]


@dataclass(frozen=True)
class ConstraintRow:
    """``lower <= points_coef @ points + used_coef @ used <= upper``.

    ``points`` are the integer coefficients, ``used`` the 0/1 indicators
    ``points != 0``. Every operational constraint (groups, implications,
    must-use, general linear rules) compiles to one or more of these.
    """

    points_coef: np.ndarray
    used_coef: np.ndarray
    lower: float = -np.inf
    upper: float = np.inf
    name: str = ""


@dataclass(frozen=True)
class RiskScoreProblem:
    """min (1/W) sum_i w_i log(1 + exp(-y_i (b + x_i . l))) + sum_j c0_j [l_j != 0].

    Attributes
    ----------
    X : (n, d) float array of features.
    y : (n,) array of -1 / +1 labels.
    sample_weight : (n,) non-negative weights with a positive sum.
    coef_lower, coef_upper : (d,) integer bounds on the points ``l``.
    intercept_lower, intercept_upper : bounds on the intercept ``b``.
    c0 : (d,) L0 penalty per feature (the intercept is never penalised).
    min_features, max_features : bounds on the number of non-zero points.
    constraints : extra linear constraints on points and used-indicators.
    score_scale : the risk of a score s is ``1 / (1 + exp(-s / score_scale))``;
        1 is the RiskSLIM problem, other values serve a calibrated scale.
    integer_intercept : False makes ``b`` a real number within its bounds: with
        a fitted scale the intercept is only a calibration constant, and a real
        one gives the risk mapping ``1 / (1 + exp(-(a s + c)))`` of Platt
        scaling and of the heuristic peers.
    """

    X: np.ndarray
    y: np.ndarray
    sample_weight: np.ndarray
    coef_lower: np.ndarray
    coef_upper: np.ndarray
    intercept_lower: int
    intercept_upper: int
    c0: np.ndarray
    min_features: int = 0
    max_features: int | None = None
    constraints: tuple[ConstraintRow, ...] = field(default_factory=tuple)
    score_scale: float = 1.0
    integer_intercept: bool = True

    def __post_init__(self):
        n, d = self.X.shape
        if self.y.shape != (n,) or self.sample_weight.shape != (n,):
            raise ValueError("X, y and sample_weight must have matching lengths.")
        if not np.all(np.isin(self.y, (-1, 1))):
            raise ValueError("y must hold -1 / +1 labels.")
        for name in ("coef_lower", "coef_upper", "c0"):
            if getattr(self, name).shape != (d,):
                raise ValueError(f"{name} must have one entry per feature ({d}).")
        if np.any(self.coef_lower > self.coef_upper):
            raise ValueError("coef_lower must not exceed coef_upper.")
        if self.intercept_lower > self.intercept_upper:
            raise ValueError("intercept_lower must not exceed intercept_upper.")
        if not self.score_scale > 0:
            raise ValueError("score_scale must be positive.")

    @property
    def n_features(self) -> int:
        return self.X.shape[1]

    @property
    def usable(self) -> np.ndarray:
        """Which features a model may use: those whose bounds allow a non-zero point."""
        return (self.coef_lower < 0) | (self.coef_upper > 0)

    @property
    def max_support(self) -> int:
        """The largest number of non-zero points any model may have."""
        free = int(np.count_nonzero(self.usable))
        if self.max_features is None:
            return free
        return min(free, self.max_features)

    def objective(self, points: np.ndarray, intercept: float) -> float:
        """The exact objective, computed from the raw rows (no compression)."""
        points = np.asarray(points, dtype=float)
        scores = intercept + self.X @ points
        margins = self.y * scores / self.score_scale
        loss = self.sample_weight @ np.logaddexp(0.0, -margins)
        loss /= self.sample_weight.sum()
        return float(loss + self.c0 @ (points != 0))


def root_box(problem: RiskScoreProblem) -> tuple[np.ndarray, np.ndarray]:
    """The bounds of every model of ``problem`` as a search box, layout ``[b, l, z]``
    (before the constraints propagate).
    """
    d = problem.n_features
    lower = np.concatenate([[problem.intercept_lower], problem.coef_lower, np.zeros(d)])
    upper = np.concatenate([[problem.intercept_upper], problem.coef_upper, np.ones(d)])
    return lower.astype(float), upper.astype(float)


def largest_score(X: np.ndarray, coef_lower: np.ndarray, coef_upper: np.ndarray,
                  max_features: int | None) -> float:
    """A bound on ``max_i |x_i . l|`` over all points ``l`` within the bounds
    and with at most ``max_features`` nonzero.
    """
    # the columns' largest magnitudes by two reductions, not through a copy of |X|
    largest_entry = np.maximum(X.max(axis=0, initial=0.0), -X.min(axis=0, initial=0.0))
    reach = np.maximum(np.abs(coef_lower), np.abs(coef_upper)) * largest_entry
    reach = np.sort(reach)[::-1]
    if max_features is not None:
        reach = reach[:max_features]
    return float(reach.sum())


def max_abs_score(problem: RiskScoreProblem, largest: float | None = None) -> float:
    """A bound on ``|b + x_i . l|`` over every admissible model and row: the
    range the loss table must span. ``largest`` is the problem's
    ``largest_score``, if already known.
    """
    if largest is None:
        largest = largest_score(problem.X, problem.coef_lower, problem.coef_upper,
                                problem.max_support)
    return largest + max(abs(problem.intercept_lower), abs(problem.intercept_upper))


def separating_gap(scores: np.ndarray, positive_weight: np.ndarray,
                   negative_weight: np.ndarray) -> tuple[float, float] | None:
    """``(highest negative score, lowest positive score)`` if every row with
    positive weight of that class scores above every such row of the other
    (some threshold classifies all weighted rows right), else None.
    """
    positive = scores[positive_weight > 0]
    negative = scores[negative_weight > 0]
    if positive.size == 0 or negative.size == 0 or positive.min() <= negative.max():
        return None
    return float(negative.max()), float(positive.min())


def intercept_bound(
    X: np.ndarray,
    y: np.ndarray,
    sample_weight: np.ndarray,
    coef_lower: np.ndarray,
    coef_upper: np.ndarray,
    max_features: int | None,
    score_scale: float = 1.0,
    largest: float | None = None,
) -> int:
    """An intercept bound that provably never excludes an optimal model.

    For fixed points ``l`` let ``M = max_i |x_i . l|``. Past ``b > M + c`` every
    score exceeds ``c``, so the loss derivative in ``b`` is at least
    ``W- sigma(c) - W+ sigma(-c)``, positive once ``c > log(W+ / W-)``; the mirror
    argument holds below. The loss is convex in ``b``, so the best *integer*
    intercept lies within one unit of the continuous one. With a score scale
    ``t`` the margin ``c`` is ``t log(W+ / W-)``. ``largest`` is
    ``largest_score(X, coef_lower, coef_upper, max_features)`` if already known.
    """
    if largest is None:
        largest = largest_score(X, coef_lower, coef_upper, max_features)
    positive = float(sample_weight[y > 0].sum())
    negative = float(sample_weight[y < 0].sum())
    imbalance = score_scale * abs(np.log(positive / negative))
    return int(np.ceil(largest + imbalance)) + 1
