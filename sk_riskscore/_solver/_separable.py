"""The separation bound: on separable data, the fewest points that separate it.

When the data can be separated (the fitted score scale of one-hot data such as
mushroom: seven points give a loss of 1e-14), the objective is almost all L0
penalty, and neither the LP (its L1 ball separates the data at any scale) nor
the saturated bound (a pure support of six columns has entropy 0) can show
that fewer points do not do: the gap stayed at 96 % after 60 s.

A model whose scores do not separate the classes strictly has a row with
margin at most 0, whose loss is at least ``w_i log 2``: every model is at least
``min(nonseparable, separable)``, with ``nonseparable = log 2 min_i w_i`` and
``separable`` the least penalty of a support on which some admissible model
separates. That least penalty is a covering problem solved by plain MIPs (no
callbacks, see ``_lp``), the constraints added as found:

- a support must tell apart every positive row from every negative one, so
  for a pair of rows it holds a column where they differ (found from the
  supports' mixed cells, and at first from each row's nearest row of the
  other class);
- a support on which the classes' convex hulls meet cannot separate: convex
  weights on each class's rows whose averages agree on the support. Nor can
  any support that adds only columns on which those averages agree too, so
  the next support must hold a column where they differ. An LP finds the
  weights, keeping the averages' differences outside the support small so
  that this cut is short (mushroom: 12-35 of 113 columns; the cut "another
  column" alone left the bound at six points after 30 s).

The columns are computed here from the LP's weights, whatever its accuracy:
averages within ``tolerance`` count as agreeing. With 0/1 columns and integer
points at most ``L`` in size, a separating model's classes differ in score by
at least 1, while the averages of a support of at most ``k`` columns score
within ``tolerance L k`` of each other; tolerance = 1 / (2 L k) leaves no
integer model separating. Each round's optimum is a bound on the least
penalty, its constraints a subset of all (CBC's tolerances being absolute,
the MIP's penalties are scaled to at most 1).
"""

from __future__ import annotations

import logging
import math
import time
from typing import NamedTuple

import mip
import numpy as np
from scipy import sparse
from scipy.optimize import linprog

from ._loss import BLOCK_ROWS, LossOracle

__all__ = ["SeparationBound", "separation_bound"]

logger = logging.getLogger(__name__)

# At most this many pairs of rows per round are added as covering constraints:
# one per mixed cell of the last support.
_PAIRS_PER_ROUND = 200
# Rows x rows entries per block when each row's nearest row of the other class
# is sought.
_NEAREST_BLOCK_ENTRIES = 4_000_000
# At most this many of the first covers (each row's nearest pair) are kept.
_MAX_COVERS = 4_000
# The bound is sought only on this many distinct rows at most: each support's
# check is a pass over them, and a search with more rows has little time for
# nodes anyway.
_MAX_ROWS = 50_000


class _Undecided(Exception):
    """The hulls' LP ended without an answer (time limit, numerical trouble)."""


class SeparationBound(NamedTuple):
    """``value`` bounds every model's objective below.

    ``separable_penalty`` is the least penalty proven for a separating support
    (inf: no support of at most ``max_support`` columns separates);
    ``nonseparable_loss`` the least loss of a model that does not separate;
    ``support`` the last support tried (separating when ``proven``); ``rounds``
    the MIPs solved; ``proven`` whether the covering problem was solved to the
    end rather than stopped by its deadline.
    """

    value: float
    separable_penalty: float
    nonseparable_loss: float
    support: tuple[int, ...]
    rounds: int
    proven: bool


def nonseparable_loss(weight: np.ndarray, negative_weight: np.ndarray) -> float | None:
    """The least loss of a model whose scores do not separate the classes, or
    None when some distinct row holds both classes (then none separates).
    """
    positive = weight - negative_weight
    if np.any((positive > 0) & (negative_weight > 0)):
        return None
    return math.log(2.0) * float(weight[weight > 0].min())


def separation_bound(rows: LossOracle, c0: np.ndarray, allowed: np.ndarray, max_support: int,
                     max_coef: float, deadline: float,
                     enough: float = math.inf) -> SeparationBound | None:
    """The separation bound of the distinct 0/1 rows of ``rows``.

    ``allowed`` marks the columns a model may use, ``max_support`` the most it
    may use at once and ``max_coef`` the largest |point|. The search stops at
    ``deadline`` or once its bound reaches ``enough``; the bound is valid
    either way. None where it does not apply: rows that are not 0/1, a row
    with both classes, too many rows. Kept on the rows for the searches at
    other scales (the bound holds at every scale).
    """
    key = (np.packbits(allowed).tobytes(), np.asarray(c0, dtype=float).tobytes(),
           int(max_support), float(max_coef))
    kept = rows.row_facts.separation.get(key)
    if kept is not None and (kept.proven or kept.value >= enough):
        return kept
    if kept is None and key in rows.row_facts.separation:
        return None  # does not apply to these rows
    found = _search(rows.X, rows.weight, rows.negative_weight, np.asarray(c0, dtype=float),
                    np.asarray(allowed, dtype=bool), max_support, max_coef, deadline, enough)
    if kept is None or found is None or found.value >= kept.value:
        rows.row_facts.separation[key] = found
        return found
    return kept


def _search(X, weight, negative_weight, c0, allowed, max_support, max_coef, deadline, enough):
    if len(X) > _MAX_ROWS or not np.all((X == 0) | (X == 1)):
        return None
    floor = nonseparable_loss(weight, negative_weight)
    if floor is None:
        return None
    columns = np.flatnonzero(allowed)
    rows = X[:, columns] > 0
    negative = negative_weight > 0
    # With 0/1 columns and integer points at most max_coef in size, averages
    # within this of each other on a support of at most max_support columns
    # score within 1/2 of each other: no integer model on it separates.
    tolerance = 0.5 / (max_coef * max_support)
    unit = float(c0[columns].max(initial=0.0))
    if unit <= 0:
        return None  # no penalty to bound
    # CBC's tolerances are absolute: penalties of 1e-6 would all look equal
    cover = _Covering(c0[columns] / unit, max_support)
    pairs = _nearest_pairs(rows, negative, deadline)
    for differs in _undominated(np.array([rows[p] != rows[q] for p, q in pairs])):
        cover.add_cover(differs)
    support = ()
    penalty = 0.0
    proven = False
    while time.perf_counter() < deadline:
        solved = cover.solve(deadline)
        if solved is None:
            break
        penalty, chosen = solved
        if chosen is None:  # no support of at most max_support columns is left
            penalty, proven = math.inf, True
            break
        if penalty * unit >= enough:
            break
        support = tuple(int(columns[j]) for j in chosen)
        pairs = _mixed_pairs(rows[:, chosen], negative)
        if pairs:
            logger.debug("support %s: %d mixed cells", support, len(pairs))
            for p, q in pairs:
                cover.add_cover(rows[p] != rows[q])
            continue
        try:
            meeting = _meeting_columns(rows, negative, chosen, tolerance,
                                       deadline - time.perf_counter())
        except _Undecided as undecided:
            logger.debug("support %s: the hulls' LP stopped (%s)", support, undecided)
            break
        if meeting is not None:
            if meeting[chosen].any():
                break  # the LP's weights do not hold on the support: no cut
            logger.debug("support %s: the classes' hulls meet; cut on %d columns",
                         support, int(meeting.sum()))
            cover.add_cover(meeting)
            continue
        proven = True
        break
    penalty *= unit
    value = min(penalty, floor)
    logger.debug("separation bound %.6g after %d MIPs (support %s, proven %s)",
                 value, cover.rounds, support, proven)
    return SeparationBound(value, penalty, floor, support, cover.rounds, proven)


class _Covering:
    """min c0 . z over 0/1 z with sum z <= max_support and the constraints added."""

    def __init__(self, c0: np.ndarray, max_support: int):
        self.model = mip.Model(sense=mip.MINIMIZE, solver_name=mip.CBC)
        self.model.verbose = 0
        self.model.threads = 1
        self.z = [self.model.add_var(var_type=mip.BINARY, obj=float(c)) for c in c0]
        self.model += mip.xsum(self.z) <= max_support
        self.seen: set[bytes] = set()
        self.rounds = 0
        self.infeasible = False  # a cover with no column: no support is left

    def add_cover(self, differs: np.ndarray) -> None:
        key = np.packbits(differs).tobytes()
        if not differs.any():
            self.infeasible = True
        elif key not in self.seen:
            self.seen.add(key)
            self.model += mip.xsum(self.z[j] for j in np.flatnonzero(differs)) >= 1

    def solve(self, deadline: float):
        """(least penalty, the chosen columns or None when no support is left),
        or None when out of time before an optimum (CBC's bound at a time
        limit is not read: without a solution it reports a huge one).
        """
        if self.infeasible:
            return math.inf, None
        remaining = deadline - time.perf_counter()
        if remaining <= 0:
            return None
        status = self.model.optimize(max_seconds=remaining)
        self.rounds += 1
        if status == mip.OptimizationStatus.INFEASIBLE:
            return math.inf, None
        if status != mip.OptimizationStatus.OPTIMAL:
            return None
        chosen = np.array([j for j, z in enumerate(self.z) if z.x >= 0.5], dtype=int)
        return min(float(self.model.objective_bound), float(self.model.objective_value)), chosen


def _undominated(covers: np.ndarray) -> np.ndarray:
    """The distinct rows of ``covers`` (0/1 over columns) that hold no other:
    a support meeting a smaller one meets it too (mushroom binarized: 3,090
    of each row's nearest pairs, 280 left).
    """
    if not len(covers):
        return covers
    covers = np.unique(covers, axis=0)
    # the shortest are the strongest: the pairwise check stays within
    # _MAX_COVERS^2 entries
    covers = covers[np.argsort(covers.sum(axis=1), kind="stable")[:_MAX_COVERS]]
    ones = covers.astype(np.float32)
    holds = (ones @ ones.T) == covers.sum(axis=1)[None, :]  # [a, b]: b within a
    np.fill_diagonal(holds, False)
    return covers[~holds.any(axis=1)]


def _mixed_pairs(rows: np.ndarray, negative: np.ndarray) -> list[tuple[int, int]]:
    """One (positive, negative) pair of rows per cell of ``rows``' patterns
    holding both classes, at most _PAIRS_PER_ROUND.
    """
    _, cell = np.unique(np.packbits(rows, axis=1), axis=0, return_inverse=True)
    cell = cell.ravel()
    n_cells = int(cell.max(initial=-1)) + 1
    first_negative = np.full(n_cells, -1)
    first_positive = np.full(n_cells, -1)
    order = np.arange(len(cell))[::-1]  # the first row of each cell wins
    first_negative[cell[order[negative[order]]]] = order[negative[order]]
    first_positive[cell[order[~negative[order]]]] = order[~negative[order]]
    mixed = np.flatnonzero((first_negative >= 0) & (first_positive >= 0))[:_PAIRS_PER_ROUND]
    return [(int(first_positive[c]), int(first_negative[c])) for c in mixed]


def _nearest_pairs(rows: np.ndarray, negative: np.ndarray, deadline: float):
    """Each row with its nearest row (in differing columns) of the other class."""
    positive_rows = rows[~negative].astype(np.float32)
    negative_rows = rows[negative].astype(np.float32)
    positive_index, negative_index = np.flatnonzero(~negative), np.flatnonzero(negative)
    if not len(positive_rows) or not len(negative_rows):
        return []
    pairs = set()
    for these, those, mine, theirs in ((positive_rows, negative_rows, positive_index,
                                        negative_index),
                                       (negative_rows, positive_rows, negative_index,
                                        positive_index)):
        ones = those.sum(axis=1)
        block = max(1, min(BLOCK_ROWS, _NEAREST_BLOCK_ENTRIES // len(those)))
        for start in range(0, len(these), block):
            if time.perf_counter() >= deadline:
                break
            part = these[start:start + block]
            distance = part.sum(axis=1)[:, None] + ones[None, :] - 2.0 * (part @ those.T)
            nearest = distance.argmin(axis=1)
            for i, j in zip(mine[start:start + block], theirs[nearest]):
                pairs.add((int(i), int(j)) if not negative[i] else (int(j), int(i)))
    return sorted(pairs)


def _meeting_columns(rows: np.ndarray, negative: np.ndarray, support: np.ndarray,
                     tolerance: float, seconds: float = math.inf) -> np.ndarray | None:
    """The columns on which convex weights over each class's rows, their
    averages equal on ``support``, still differ by ``tolerance`` or more: every
    support that avoids them all is not separable. None when no such weights
    exist (the support separates). The weights come from an LP that keeps the
    averages' differences outside the support small (so that the cut is
    short); the columns are computed here from the weights, whatever the LP's
    accuracy. Raises _Undecided when the LP stops otherwise (more than
    ``seconds``, numerical trouble).
    """
    positive_rows = rows[~negative].astype(float)
    negative_rows = rows[negative].astype(float)
    n_pos, n_neg = len(positive_rows), len(negative_rows)
    outside = np.setdiff1d(np.arange(rows.shape[1]), support)
    n_out = len(outside)
    # variables: alpha (n_pos), beta (n_neg), u (n_out) >= |difference| outside
    difference = sparse.hstack([sparse.csr_matrix(positive_rows.T),
                                sparse.csr_matrix(-negative_rows.T)]).tocsr()
    sums = sparse.csr_matrix(np.vstack([
        np.r_[np.ones(n_pos), np.zeros(n_neg + n_out)],
        np.r_[np.zeros(n_pos), np.ones(n_neg), np.zeros(n_out)],
    ]))
    equal = sparse.vstack([
        sparse.hstack([difference[support], sparse.csr_matrix((len(support), n_out))]),
        sums,
    ]).tocsr()
    slack = sparse.identity(n_out, format="csr")
    bounded = sparse.vstack([
        sparse.hstack([difference[outside], -slack]),
        sparse.hstack([-difference[outside], -slack]),
    ]).tocsr()
    answer = linprog(np.r_[np.zeros(n_pos + n_neg), np.ones(n_out)],
                     A_ub=bounded if n_out else None, b_ub=np.zeros(2 * n_out) if n_out else None,
                     A_eq=equal, b_eq=np.r_[np.zeros(len(support)), 1.0, 1.0],
                     bounds=(0, None), method="highs",
                     options={"time_limit": max(float(seconds), 0.01)})
    if answer.status == 2:  # infeasible: no such weights, the support separates
        return None
    if answer.status != 0 or answer.x is None:
        raise _Undecided(answer.message)
    weights = np.clip(answer.x[:n_pos + n_neg], 0.0, None)
    alpha, beta = weights[:n_pos], weights[n_pos:]
    if alpha.sum() <= 0 or beta.sum() <= 0:
        raise _Undecided("the LP's weights vanish")
    averages = alpha @ positive_rows / alpha.sum() - beta @ negative_rows / beta.sum()
    return np.abs(averages) >= tolerance
