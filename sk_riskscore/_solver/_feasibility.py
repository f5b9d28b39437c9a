"""Vectorised feasibility checks, so every heuristic proposes admissible models only."""

from __future__ import annotations

import numpy as np

from ._problem import RiskScoreProblem

__all__ = ["FeasibilityChecker"]

_TOL = 1e-9


class FeasibilityChecker:
    """Bounds, support limits and linear constraints of a problem, as matrices."""

    def __init__(self, problem: RiskScoreProblem):
        self.coef_lower = problem.coef_lower.astype(int)
        self.coef_upper = problem.coef_upper.astype(int)
        self.intercept_lower = int(problem.intercept_lower)
        self.intercept_upper = int(problem.intercept_upper)
        self.min_support = int(problem.min_features)
        self.max_support = int(problem.max_support)
        d = problem.n_features
        constraints = problem.constraints
        self.points_matrix = np.array([c.points_coef for c in constraints]).reshape(-1, d)
        self.used_matrix = np.array([c.used_coef for c in constraints]).reshape(-1, d)
        self.lower = np.array([c.lower for c in constraints], dtype=float)
        self.upper = np.array([c.upper for c in constraints], dtype=float)
        self.has_constraints = len(constraints) > 0
        # Rows on the support alone (AtMost(1) over a binarizer's nested
        # thresholds, MustUse, Implies, ...): a model's standing with them
        # depends only on which features it uses.
        support = ~np.any(self.points_matrix != 0, axis=1)
        self.support_only = bool(np.all(support))
        self._support_rows = self.used_matrix[support]
        self._support_lower = self.lower[support]
        self._support_upper = self.upper[support]
        # the rows' signs, for propagate_support at every node
        self._support_positive = np.maximum(self._support_rows, 0.0)
        self._support_negative = np.minimum(self._support_rows, 0.0)

    def activity(self, points: np.ndarray) -> np.ndarray:
        """Left-hand sides of the constraints (an empty array when there are none)."""
        return self.points_matrix @ points + self.used_matrix @ (points != 0)

    def is_feasible(self, points: np.ndarray, intercept: int | None = None) -> bool:
        if np.any(points < self.coef_lower) or np.any(points > self.coef_upper):
            return False
        if intercept is not None and not (
            self.intercept_lower <= intercept <= self.intercept_upper
        ):
            return False
        support = np.count_nonzero(points)
        if not self.min_support <= support <= self.max_support:
            return False
        if not self.has_constraints:
            return True
        activity = self.activity(points)
        return bool(
            np.all(activity >= self.lower - _TOL) and np.all(activity <= self.upper + _TOL)
        )

    def admits_support(self, activity: np.ndarray) -> np.ndarray:
        """Whether support-row activities (rows first, e.g. (rows, models))
        meet the support rows; only meaningful when ``support_only``.
        """
        low = self._support_lower.reshape((-1,) + (1,) * (activity.ndim - 1))
        high = self._support_upper.reshape(low.shape)
        return np.all((activity >= low - _TOL) & (activity <= high + _TOL), axis=0)

    def support_activity(self, used: np.ndarray) -> np.ndarray:
        """The support rows' activity of the features ``used`` (indices or a mask)."""
        return self._support_rows[:, used].sum(axis=1)

    def column_activity(self, columns: np.ndarray) -> np.ndarray:
        """Each of ``columns``' contribution to the support rows, (rows, columns)."""
        return self._support_rows[:, columns]

    def propagate_support(self, used_lower: np.ndarray, used_upper: np.ndarray) -> bool:
        """Fix in place the 0/1 bounds of used-indicators that the support
        rows decide (a group with one member in leaves the others out; an
        AtLeast with too few candidates left takes them all). False if the
        rows cannot be met within these bounds.
        """
        A = self._support_rows
        if not len(A):
            return True
        positive, negative = self._support_positive, self._support_negative
        least = positive @ used_lower + negative @ used_upper
        most = positive @ used_upper + negative @ used_lower
        if np.any(least > self._support_upper + _TOL) or np.any(
                most < self._support_lower - _TOL):
            return False
        free = (used_lower < 0.5) & (used_upper > 0.5)
        if not free.any():
            return True
        room_up = (self._support_upper - least)[:, None] + _TOL  # inf where unbounded
        room_down = (most - self._support_lower)[:, None] + _TOL
        on = free & (np.any(-A > room_up, axis=0) | np.any(A > room_down, axis=0))
        off = free & (np.any(A > room_up, axis=0) | np.any(-A > room_down, axis=0))
        if np.any(on & off):
            return False
        used_lower[on] = 1.0
        used_upper[off] = 0.0
        return True

    def values(self, j: int) -> np.ndarray:
        return np.arange(self.coef_lower[j], self.coef_upper[j] + 1)

    def support_allows(self, points: np.ndarray, current, values: np.ndarray) -> np.ndarray:
        """Which changes of a coordinate from ``current`` to each of ``values``
        keep the support of ``points`` within its limits: shape
        ``np.broadcast(current, values)``, e.g. (columns, 1) by (values,).
        """
        support = (np.count_nonzero(points) - (np.asarray(current) != 0)
                   + (np.asarray(values) != 0))
        return (support >= self.min_support) & (support <= self.max_support)

    def feasible_moves(
        self, points: np.ndarray, j: int, values: np.ndarray, activity: np.ndarray | None
    ) -> np.ndarray:
        """Which of ``values`` for coordinate ``j`` keep ``points`` feasible.

        ``activity`` is the constraint activity at ``points`` (None when there are
        no constraints). Support limits are checked too.
        """
        was_used = points[j] != 0
        now_used = values != 0
        ok = self.support_allows(points, points[j], values)
        if self.has_constraints:
            change = np.outer(self.points_matrix[:, j], values - points[j])
            change += np.outer(self.used_matrix[:, j], now_used.astype(float) - was_used)
            new = activity[:, None] + change
            ok &= np.all(new >= self.lower[:, None] - _TOL, axis=0)
            ok &= np.all(new <= self.upper[:, None] + _TOL, axis=0)
        return ok
