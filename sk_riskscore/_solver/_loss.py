"""Logistic loss oracle over distinct rows.

Rows with the same features are merged: their positive and negative weights are
summed, so every evaluation costs the number of *distinct* rows, not n. With
``w+`` and ``w-`` the (normalised) weights of a distinct row and ``s`` its score,
its loss is ``w+ softplus(-s) + w- softplus(s) = (w+ + w-) softplus(-s) + w- s``.
"""

from __future__ import annotations

import numpy as np
from scipy.special import expit

__all__ = ["LossOracle"]

# Integer score ranges up to this width get a lookup table of softplus(-s).
_MAX_TABLE_WIDTH = 200_001


def _softplus_neg(scores: np.ndarray) -> np.ndarray:
    """log(1 + exp(-s)), stable for any s."""
    return np.logaddexp(0.0, -scores)


class LossOracle:
    """Loss, gradient and batched losses of the RiskSLIM objective's loss term.

    Parameters
    ----------
    X : (n, d) array
    y : (n,) array of -1 / +1
    sample_weight : (n,) array, non-negative with a positive sum
    max_abs_score : float, optional
        Bound on |score| over all admissible integer models; when the features
        are integral and the range is small enough, losses at integer models
        are read from a table instead of computed.
    """

    def __init__(self, X, y, sample_weight, max_abs_score=None):
        rows, inverse = _distinct_rows(X)
        total = float(sample_weight.sum())
        positive = np.bincount(
            inverse, weights=sample_weight * (y > 0), minlength=len(rows)
        )
        negative = np.bincount(
            inverse, weights=sample_weight * (y < 0), minlength=len(rows)
        )
        keep = (positive + negative) > 0
        self.X = np.ascontiguousarray(rows[keep], dtype=float)
        self.weight = (positive + negative)[keep] / total
        self.negative_weight = negative[keep] / total
        self.n_rows = len(self.X)
        self.integral = bool(np.all(self.X == np.round(self.X)))
        self._table = None
        if self.integral and max_abs_score is not None:
            width = 2 * int(np.ceil(max_abs_score)) + 1
            if width <= _MAX_TABLE_WIDTH:
                self._offset = int(np.ceil(max_abs_score))
                grid = np.arange(-self._offset, self._offset + 1, dtype=float)
                self._table = _softplus_neg(grid)

    def scores(self, intercept: float, points: np.ndarray) -> np.ndarray:
        return intercept + self.X @ points

    def loss_from_scores(self, scores: np.ndarray) -> float:
        return float(self.weight @ self._softplus(scores) + self.negative_weight @ scores)

    def losses_from_score_matrix(self, scores: np.ndarray) -> np.ndarray:
        """Losses of many models at once; ``scores`` is (n_rows, n_models)."""
        return self.weight @ self._softplus(scores) + self.negative_weight @ scores

    def loss(self, intercept: float, points: np.ndarray) -> float:
        return self.loss_from_scores(self.scores(intercept, points))

    def loss_and_gradient(self, intercept: float, points: np.ndarray):
        """Loss and its gradient in (intercept, points) at a real point."""
        scores = self.scores(intercept, points)
        loss = self.loss_from_scores(scores)
        # d/ds [(w+ + w-) softplus(-s) + w- s] = w- - (w+ + w-) sigmoid(-s)
        slope = self.negative_weight - self.weight * _sigmoid(-scores)
        return loss, float(slope.sum()), self.X.T @ slope

    def _softplus(self, scores: np.ndarray) -> np.ndarray:
        if self._table is not None and scores.dtype.kind in "iu":
            return self._table[scores + self._offset]
        return _softplus_neg(scores)


def _distinct_rows(X: np.ndarray):
    """Distinct rows and the index of each row's distinct row.

    Hashes each row's bytes (``np.unique(axis=0)`` sorts lexicographically and
    is ~8x slower on adult); ``+ 0.0`` turns -0.0 into 0.0 so equal numbers
    have equal bytes.
    """
    X = np.ascontiguousarray(X, dtype=float) + 0.0
    keys = X.view(np.dtype((np.void, X.dtype.itemsize * X.shape[1]))).ravel()
    _, first, inverse = np.unique(keys, return_index=True, return_inverse=True)
    return X[first], inverse.ravel()


def _sigmoid(values: np.ndarray) -> np.ndarray:
    return expit(values)
