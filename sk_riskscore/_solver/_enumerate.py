"""Every admissible points vector of a small box, and their exact objectives.

A box is a pair of bound arrays in the tree's layout ``[b, l_1..l_d,
z_1..z_d]``. When a box holds few points vectors, evaluating all of them is
cheaper than bounding it by LPs and branching on: the optimiser closes such a
node with its exact minimum, the Rashomon enumeration keeps every model in it.
"""

from __future__ import annotations

import numpy as np

from ._feasibility import FeasibilityChecker
from ._loss import LossOracle

__all__ = ["best_integer_intercepts", "box_candidates", "count_models", "point_values"]


def point_values(lower: np.ndarray, upper: np.ndarray, d: int, j: int) -> np.ndarray:
    """The integer values feature ``j``'s points may take in the box."""
    lo, hi = int(np.ceil(lower[1 + j] - 1e-9)), int(np.floor(upper[1 + j] + 1e-9))
    values = np.arange(lo, hi + 1, dtype=np.int64)
    if lower[1 + d + j] > 0.5:
        values = values[values != 0]
    if upper[1 + d + j] < 0.5:
        values = values[values == 0]
    return values


def count_models(lower: np.ndarray, upper: np.ndarray, d: int,
                 feasibility: FeasibilityChecker) -> float:
    """How many points vectors in the box respect the support limits (before
    the linear constraints): a polynomial in the support, feature by feature,
    truncated above the largest support allowed.
    """
    lo = np.ceil(lower[1 : 1 + d] - 1e-9)
    hi = np.floor(upper[1 : 1 + d] + 1e-9)
    has_zero = (lo <= 0) & (hi >= 0) & (lower[1 + d :] < 0.5)
    nonzero = np.where(upper[1 + d :] < 0.5, 0.0,
                       np.maximum(hi - lo + 1, 0) - ((lo <= 0) & (hi >= 0)))
    zero = has_zero.astype(float)
    top = feasibility.max_support
    by_support = np.zeros(top + 1)
    by_support[0] = 1.0
    for j in np.flatnonzero((zero != 1.0) | (nonzero != 0.0)):
        # features that can only be zero leave the counts as they are
        by_support[1:] = by_support[1:] * zero[j] + by_support[:-1] * nonzero[j]
        by_support[0] *= zero[j]
    return float(by_support[feasibility.min_support :].sum())


def box_candidates(lower: np.ndarray, upper: np.ndarray, d: int,
                   feasibility: FeasibilityChecker) -> np.ndarray:
    """Every admissible points vector in the box, one per row."""
    fs = feasibility
    values = [point_values(lower, upper, d, j) for j in range(d)]
    if any(v.size == 0 for v in values):
        return np.zeros((0, d), dtype=np.int64)
    # only features that may be non-zero are spread; the rest stay 0
    free = [j for j in range(d) if np.any(values[j] != 0)]
    values = [values[j] for j in free]
    # Features after j that must be / may be non-zero: a prefix is kept only
    # if some completion meets the support limits, so no level of prefixes
    # outgrows the box's count (features forced non-zero late in the order
    # had made mushroom's prefixes grow to 70 million rows).
    forced = np.array([not np.any(v == 0) for v in values], dtype=int)
    optional = 1 - forced
    forced_after = np.concatenate([np.cumsum(forced[::-1])[::-1][1:], [0]])
    optional_after = np.concatenate([np.cumsum(optional[::-1])[::-1][1:], [0]])
    partial = np.zeros((1, 0), dtype=np.int64)
    for j in range(len(free)):
        partial = np.column_stack([np.repeat(partial, len(values[j]), axis=0),
                                   np.tile(values[j], len(partial))])
        support = np.count_nonzero(partial, axis=1) + forced_after[j]
        partial = partial[(support <= fs.max_support)
                          & (support + optional_after[j] >= fs.min_support)]
    spread = np.zeros((len(partial), d), dtype=np.int64)
    spread[:, free] = partial
    partial = spread
    support = np.count_nonzero(partial, axis=1)
    keep = support >= fs.min_support
    if fs.has_constraints:
        activity = partial @ fs.points_matrix.T + (partial != 0) @ fs.used_matrix.T
        keep &= np.all((activity >= fs.lower - 1e-9) & (activity <= fs.upper + 1e-9),
                       axis=1)
    return partial[keep]


def best_integer_intercepts(oracle: LossOracle, base: np.ndarray, lower: int, upper: int):
    """Each column's best integer intercept in [lower, upper] and its loss.

    ``base`` holds the scores without intercept, (distinct rows, models). The
    loss is convex in the intercept, so ``f(b + 1) >= f(b)`` switches once from
    False to True: bisect on it for all models at once.
    """
    m = base.shape[1]
    lo = np.full(m, int(lower), dtype=np.int64)
    hi = np.full(m, int(upper), dtype=np.int64)
    while np.any(lo < hi):
        mid = (lo + hi) // 2
        rising = (oracle.losses(base + (mid + 1)[None, :])
                  >= oracle.losses(base + mid[None, :]))
        active = lo < hi
        hi = np.where(active & rising, mid, hi)
        lo = np.where(active & ~rising, mid + 1, lo)
    return lo, oracle.losses(base + lo[None, :])
