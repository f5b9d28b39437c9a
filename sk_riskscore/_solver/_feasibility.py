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
