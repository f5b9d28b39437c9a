"""Every admissible points vector of a small box, and their exact objectives.

A box is a pair of bound arrays in the tree's layout ``[b, l_1..l_d,
z_1..z_d]``. When a box holds few points vectors, evaluating all of them is
cheaper than bounding it by LPs and branching on: the optimiser closes such a
node with its exact minimum, the Rashomon enumeration keeps every model in it.
"""

from __future__ import annotations

import numpy as np
from scipy import sparse

from ._feasibility import FeasibilityChecker
from ._loss import LossOracle, distinct_rows

__all__ = ["best_integer_intercepts", "box_candidates", "column_facts", "count_models",
           "fit_intercepts", "fit_real_intercepts", "intercept_range", "last_slot_models",
           "point_values"]


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
    top = feasibility.max_support
    # exact integers in a list: a box's features cost less in Python than as
    # numpy calls on arrays of top + 1 entries (113 features, top 10: 145 us
    # against 250)
    by_support = [1] + [0] * top
    for zero, ways in zip(has_zero.tolist(), nonzero.astype(np.int64).tolist()):
        if zero and not ways:
            continue  # features that can only be zero leave the counts as they are
        for size in range(top, 0, -1):
            by_support[size] = (by_support[size] if zero else 0) + by_support[size - 1] * ways
        if not zero:
            by_support[0] = 0
    return float(sum(by_support[feasibility.min_support :]))


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


def intercept_range(lower: np.ndarray, upper: np.ndarray) -> tuple[int, int]:
    """The box's integer intercepts, lowest and highest (empty if low > high)."""
    return int(np.ceil(lower[0] - 1e-9)), int(np.floor(upper[0] + 1e-9))


# Sum each model's row weights by score when the (scores x intercepts) grid
# costs at most this many entries per row: a matrix product over the grid is
# far cheaper per entry than the table reads of one bisection step.
_GRID_ENTRIES_PER_ROW = 64


def best_integer_intercepts(oracle: LossOracle, base: np.ndarray, lower: int, upper: int):
    """Each column's best integer intercept in [lower, upper] and its loss.

    ``base`` holds the scores without intercept, (distinct rows, models).
    Integer scores over a small range are summed by score first, so every
    intercept's loss comes from one product (``_losses_on_grid``). Otherwise
    the loss is convex in the intercept, so ``f(b + 1) >= f(b)`` switches once
    from False to True: bisect on it for all models at once.
    """
    if base.dtype.kind in "iu" and base.size and upper >= lower:
        n_scores = int(base.max()) - int(base.min()) + 1
        if n_scores * (upper - lower + 1) <= _GRID_ENTRIES_PER_ROW * base.shape[0]:
            losses = _losses_on_grid(oracle, base, lower, upper)
            best = np.argmin(losses, axis=1)  # the lowest of equal minima, as bisection
            return lower + best, losses[np.arange(len(best)), best]
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


def _losses_on_grid(oracle: LossOracle, base: np.ndarray, lower: int, upper: int):
    """Each model's loss at every integer intercept in [lower, upper],
    (models, intercepts), for integer scores ``base`` (rows, models).

    A model's loss at ``b`` is ``sum_t W[t] f(t + b)`` plus a linear part, with
    ``W[t]`` its rows' weight at score ``t``: one weighted count of the scores
    and one product with the (score, intercept) grid of ``f`` give them all.
    """
    low = int(base.min())
    n_scores, n_intercepts = int(base.max()) - low + 1, upper - lower + 1
    n_models = base.shape[1]
    cells = (base - low) + n_scores * np.arange(n_models)[None, :]
    by_score = np.bincount(cells.ravel(),
                           np.broadcast_to(oracle.weight[:, None], base.shape).ravel(),
                           n_models * n_scores).reshape(n_models, n_scores)
    # every sum of a score and an intercept, lowest first: grid[t, j] = curve[t + j]
    curve = oracle.softplus_anywhere(np.arange(low + lower, low + upper + n_scores,
                                               dtype=np.int64))
    grid = np.lib.stride_tricks.sliding_window_view(curve, n_intercepts)
    negative = oracle.negative_weight
    linear = ((negative @ base)[:, None]
              + (np.arange(lower, upper + 1) + oracle.shift)[None, :] * negative.sum())
    return by_score @ grid + linear / oracle.scale


def fit_intercepts(oracle: LossOracle, candidates: np.ndarray, lower: int, upper: int):
    """Each points vector's (row of ``candidates``) best integer intercept in
    [lower, upper] and its loss, on the rows' distinct patterns over the
    columns the vectors use: a handful, not the oracle's rows.
    """
    used = np.flatnonzero(np.any(candidates != 0, axis=0))
    oracle = oracle.projected(used)
    dtype = np.int64 if oracle.integral else float
    base = oracle.X.astype(dtype) @ candidates[:, used].T.astype(dtype)
    return best_integer_intercepts(oracle, base, lower, upper)


def fit_real_intercepts(oracle: LossOracle, candidates: np.ndarray, lower: float,
                        upper: float):
    """Each points vector's (row of ``candidates``) best real intercept in
    [lower, upper], and a lower bound on its least loss there.

    The loss is convex in the intercept: from the best integer intercept's
    bracket, safeguarded Newton steps run for all vectors at once. The bound
    is the tangent's least value over [lower, upper] at the intercept
    reached, valid however far the steps got, and equal to the least loss
    once they converged.
    """
    used = np.flatnonzero(np.any(candidates != 0, axis=0))
    oracle = oracle.projected(used)
    dtype = np.int64 if oracle.integral else float
    base = oracle.X.astype(dtype) @ candidates[:, used].T.astype(dtype)
    low, high = int(np.ceil(lower)), int(np.floor(upper))
    if low <= high:
        start, _ = best_integer_intercepts(oracle, base, low, high)
        start = start.astype(float)
        left, right = np.maximum(start - 1.0, lower), np.minimum(start + 1.0, upper)
    else:  # no integer within: bisect the whole range
        start = np.full(len(candidates), 0.5 * (lower + upper))
        left, right = np.full_like(start, lower), np.full_like(start, upper)
    base = base.T.astype(float)  # (vectors, rows): the rows' weights broadcast
    intercept = oracle.newton_intercepts(base, start, left, right)
    intercept = np.clip(intercept, lower, upper)
    scores = base + intercept[:, None]
    slope = oracle.slopes(scores).sum(axis=1)
    losses = oracle.losses(scores.T)
    return intercept, losses + np.minimum(slope * (lower - intercept),
                                          slope * (upper - intercept))


class _ColumnFacts:
    """Per-column facts of an oracle's rows that no box changes."""

    def __init__(self, oracle: LossOracle):
        self.binary = np.all((oracle.X == 0) | (oracle.X == 1), axis=0)
        self.weight = oracle.weight @ oracle.X
        self.negative = oracle.negative_weight @ oracle.X


def column_facts(oracle: LossOracle) -> _ColumnFacts:
    """The oracle's column facts, computed once per set of rows (copies of an
    oracle at another scale share them; projections have other rows).
    """
    if oracle.row_facts.column_facts is None:
        oracle.row_facts.column_facts = _ColumnFacts(oracle)
    return oracle.row_facts.column_facts


def last_slot_models(oracle: LossOracle, lower: np.ndarray, upper: np.ndarray, d: int,
                     feasibility: FeasibilityChecker, c0: np.ndarray, max_work: int,
                     n_best: int):
    """The exact best models of a box whose support has at most one slot left.

    Such a box fixes the features that must be used (each with its range of
    points) and allows at most one more of its free features. Its models are
    every combination of the fixed features' points, alone or with one free
    0/1 feature at one of its values, at every integer intercept of the box's
    range: a box that the LP tree would close by branching the free features
    off one by one (heloc, k=3: chains 35 nodes deep) costs one pass.

    The pass works on the rows' patterns over the fixed columns. A model's loss
    at intercept ``b`` is, with ``T[p, c, t]`` the loss of pattern ``p``'s rows
    at combination ``c``'s score plus ``t`` and ``W[p, j]`` their weight on
    rows where free column ``j`` is 1::

        sum_p (W_p - W[p, j]) T[p, c, b] + W[p, j] T[p, c, b + v]

    so one product of ``W`` with ``T`` gives every model at every intercept.

    Rows on the support alone (``feasibility.support_only``: groups, must-use,
    implications) are met by filtering: every model of the box uses the fixed
    features, so each row decides which free column may be added, and whether
    none may.

    Returns ``(objectives, intercepts, points)`` of the ``n_best`` best models
    (empty if the box holds none), or None when the box does not qualify:
    more than one slot left, constraints on points, free columns that are not
    0/1, a shifted oracle, or more than ``max_work`` array entries to fill.
    """
    if not feasibility.support_only or oracle.shift:
        return None
    used = lower[1 + d :] > 0.5
    fixed = np.flatnonzero(used)
    slots = feasibility.max_support - len(fixed)
    if slots < 0 or slots > 1:
        return None
    free = np.flatnonzero((upper[1 + d :] > 0.5) & ~used) if slots == 1 else np.zeros(0, int)
    if len(fixed) + 1 < feasibility.min_support:
        free = np.zeros(0, int)
    columns = column_facts(oracle)
    if not np.all(columns.binary[free]):  # before any work (raw breastcancer: every node)
        return None
    alone_admitted = True
    if feasibility.has_constraints:
        activity = feasibility.support_activity(fixed)
        alone_admitted = bool(feasibility.admits_support(activity))
        free = free[feasibility.admits_support(activity[:, None]
                                               + feasibility.column_activity(free))]
    fixed_values = [point_values(lower, upper, d, j) for j in fixed]
    # a free feature's points: the integers of its range (0 among them)
    free_low = np.ceil(lower[1 + free] - 1e-9).astype(np.int64)
    free_high = np.floor(upper[1 + free] + 1e-9).astype(np.int64)
    keep = (free_low < 0) | (free_high > 0)
    free, free_low, free_high = free[keep], free_low[keep], free_high[keep]
    choices = np.arange(free_low.min(initial=0), free_high.max(initial=0) + 1)
    choices = choices[choices != 0]
    n_combos = int(np.prod([len(v) for v in fixed_values])) if len(fixed) else 1
    intercept_low, intercept_high = intercept_range(lower, upper)
    n_intercepts = intercept_high - intercept_low + 1
    offsets = np.arange(intercept_low + min(int(choices.min(initial=0)), 0),
                        intercept_high + max(int(choices.max(initial=0)), 0) + 1)
    n_patterns_at_most = min(oracle.n_rows, 2 ** min(len(fixed), 30))
    work = n_combos * max(len(free), 1) * len(offsets) * max(n_patterns_at_most, len(choices))
    if work > max_work:
        return None
    empty = (np.zeros(0), np.zeros(0, dtype=np.int64), np.zeros((0, d), dtype=np.int64))
    if n_combos == 0 or n_intercepts <= 0:
        return empty
    combos = (np.array(np.meshgrid(*fixed_values, indexing="ij")).reshape(len(fixed), -1).T
              if len(fixed) else np.zeros((1, 0), dtype=np.int64))
    # integer keys per row, not np.unique over rows (heloc, 2 columns of 7882
    # rows: 7 ms, half of a whole closing)
    patterns, inverse = distinct_rows(oracle.X[:, fixed])
    n_patterns = len(patterns)
    # the estimate above assumed 0/1 fixed columns; integer ones have more patterns
    if n_combos * max(len(free), 1) * len(offsets) * n_patterns > max_work:
        return None
    dtype = np.int64 if oracle.integral else float
    base = patterns.astype(dtype) @ combos.T.astype(dtype)  # (patterns, combos)
    weight = np.bincount(inverse, oracle.weight, n_patterns)
    negative = np.bincount(inverse, oracle.negative_weight, n_patterns)
    if n_patterns == 1:
        weight_on = columns.weight[None, free]
    else:
        # one entry per row: sparse (heloc: 4 patterns x 7882 rows)
        one_hot = sparse.csr_matrix((oracle.weight, (inverse, np.arange(oracle.n_rows))),
                                    shape=(n_patterns, oracle.n_rows))
        weight_on = (one_hot @ oracle.X)[:, free]  # (patterns, free)
    negative_on = columns.negative[free]  # (free,)
    table = oracle.softplus_anywhere(base[:, :, None] + offsets.astype(dtype)[None, None, :])
    whole = np.einsum("p,pct->ct", weight, table)  # every row off the added column
    moved = np.einsum("pj,pct->cjt", weight_on, table)  # the added column's rows
    at = np.arange(n_intercepts) + (intercept_low - offsets[0])  # indices of b in offsets
    intercepts = np.arange(intercept_low, intercept_high + 1)
    linear_b = intercepts * negative.sum() / oracle.scale  # (intercepts,)
    linear_c = negative @ base / oracle.scale  # (combos,)
    objective_base = float(c0[fixed].sum())
    candidates = []  # (objectives, combo, column or -1, value, intercept), flattened
    if len(fixed) >= feasibility.min_support and alone_admitted:
        alone = whole[:, at] + linear_b[None, :]
        b = np.argmin(alone, axis=1)
        candidates.append((alone[np.arange(n_combos), b] + linear_c + objective_base,
                           np.arange(n_combos), np.full(n_combos, -1),
                           np.zeros(n_combos, dtype=np.int64), intercepts[b]))
    for value in choices:
        allowed = np.flatnonzero((free_low <= value) & (value <= free_high))
        if not len(allowed):
            continue
        loss = (whole[:, None, at] - moved[:, allowed][:, :, at]
                + moved[:, allowed][:, :, at + value] + linear_b[None, None, :])
        b = np.argmin(loss, axis=2)  # (combos, allowed)
        best = np.take_along_axis(loss, b[:, :, None], axis=2)[:, :, 0]
        best = (best + linear_c[:, None] + (value * negative_on[allowed] / oracle.scale
                                            + c0[free[allowed]])[None, :] + objective_base)
        combo, column = np.indices(best.shape).reshape(2, -1)
        candidates.append((best.ravel(), combo, allowed[column], np.full(combo.size, value),
                           intercepts[b.ravel()]))
    if not candidates:
        return empty
    objectives, combo, column, value, intercept = (np.concatenate(a) for a in zip(*candidates))
    if len(objectives) > n_best:
        best = np.argpartition(objectives, n_best - 1)[:n_best]
        best = best[np.argsort(objectives[best])]
    else:
        best = np.argsort(objectives)
    points = np.zeros((len(best), d), dtype=np.int64)
    points[:, fixed] = combos[combo[best]]
    added = np.flatnonzero(column[best] >= 0)
    points[added, free[column[best][added]]] = value[best][added]
    return objectives[best], intercept[best], points
