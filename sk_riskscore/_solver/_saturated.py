"""The saturated bound of small supports: no model beats its cells' entropy.

A model that uses only the 0/1 columns of a set ``S`` gives the same score to
every row with the same values on ``S``: the rows fall into at most ``2^|S|``
cells, and the model's loss is at least that of the best score for each cell,
the cells' weighted binary entropy ``sum_cells t H(q / t)`` (``t`` a cell's
weight, ``q`` its negative weight), the loss of the "saturated" model. This
holds whatever the points, their bounds, the intercept or the score scale, and
it only falls as ``S`` grows; so the least value over the supports of ``k``
columns, where repeated columns stand for the smaller supports, is a lower
bound on the loss of every model with at most ``k`` features.

Where it fits, the value of every support of ``k`` columns is in one
``d^k`` table (three columns: two products of the rows per column, the cells
coming by inclusion-exclusion from the weights of the rows where the first is
1 and of all rows; more: the rest's table among the rows where the first is 1,
plus among those where it is 0). A node's bound is then the least entry over
the supports that hold its used features and otherwise only free ones, and a
free feature whose every such support stays above the incumbent can be left
out at once (safe screening). Where the table does not fit, a node with few
slots left gets the same from a table per set of its used features, summed
over their cells. The LP relaxation's L1 ball nearly separates the data at the
root; this bound sees the disjunction "``l_j = 0`` or ``|l_j| >= 1``" exactly
(heloc binarized, k = 3: 0.5893 at the root against the LP's 0.544, for an
optimum of 0.5924).
"""

from __future__ import annotations

import collections
import contextlib
import copy
import functools
import itertools
import math
import time
from concurrent.futures import ThreadPoolExecutor
from typing import NamedTuple

import numpy as np
from scipy.special import xlogy

from ._enumerate import column_facts
from ._loss import LossOracle, distinct_rows, weighted_products
from ._relaxed import relaxed_losses

__all__ = ["BUILD_SHARE", "SaturatedBound", "ScreenSchedule", "saturated_bound",
           "valuing_deadlines"]

# A search gives the root's table up to this share of its time limit (heloc
# binarized, k = 3: under a second).
BUILD_SHARE = 0.25
# ... and, at most, this share to value the listed supports under the
# incumbent at their relaxed losses (at_box) ...
RELAXED_SHARE = 0.15
# ... or this share where they are listed for the box, all or none: such a
# list bounds where the LP cannot (breastcancer binarized, k = 10: root LP
# 3e-6 against an optimum of 0.0855; 3.5 s to count 184,756 supports, 16-19 s
# to value the 184,096 under the optimum, then certified in 75 nodes; a 4.3 %
# gap after 60 s without)
LISTED_SHARE = 0.5


def valuing_deadlines(now: float, budget: float, end: float = np.inf) -> tuple[float, float]:
    """``at_box``'s two deadlines for a search of ``budget`` seconds started
    around ``now`` and ending at ``end``: for valuing a list built for the
    rows (``RELAXED_SHARE``), and for one listed for the box
    (``LISTED_SHARE``).
    """
    return (min(now + RELAXED_SHARE * budget, end), min(now + LISTED_SHARE * budget, end))


# The root's table of every support of max_features partitions: at most this
# many entries (64 MB) and rows x entries (heloc binarized, k = 3: 63
# partitions, 7,882 distinct rows, 2e9, under a second; 500,000 rows x 60
# columns, k = 3: 1e11, not built).
_MAX_ENTRIES = 8_000_000
_MAX_TABLE_WORK = 50_000_000_000
# Where the table does not fit, with four or five slots (heloc binarized, k = 5:
# 63 partitions, 992 million table entries but 7.0 million supports), every
# support's value is computed once and the lowest are kept, sorted, in a list:
# at most this many supports computed (about 6 s for heloc, k = 5, on one
# core) ...
_MAX_LIST_SUPPORTS = 8_000_000
# ... for an estimated time of at most the build's deadline, from about this
# many seconds per support and row (the five-way counts' products) and per
# support (their cells) ...
_LIST_SECONDS_PER_PRODUCT = 1e-11
_LIST_SECONDS_PER_SUPPORT = 8e-7
# (plus this many where each class has its own unit and t log t is computed:
# heloc, k = 5, with balanced class weights, 6.5 s against 4.9 s)
_LIST_SECONDS_PER_SUPPORT_TWO_UNITS = 2.5e-7
# Supports of more than five columns are counted from the rows (for one box:
# SaturatedBound.at_box), at about this many seconds per row of a support
# (breastcancer binarized, 275 distinct rows: k = 7, 77,520 supports, 1.6-1.8
# s; k = 10, 184,756 supports, 3.1-3.6 s), in blocks of at most this many rows
# x supports
_COUNT_SECONDS_PER_ENTRY = 8e-8
_COUNT_CHUNK_ENTRIES = 2_000_000
# A support's relaxed loss is found with others, at most this many cells at a
# time (non-empty ones: at most 2^k and the rows), in about this many seconds
# per cell (breastcancer binarized, 275 distinct rows: k = 7, 44,679 supports
# in 3.7 s; k = 10, 184,096 in 16.7-19.4 s). A list made for the box is given
# up once the pace over at least this share of it would not value the rest in
# time (the lowest supports are the slowest: breastcancer, k = 10, 0.13 ms a
# support at first, 0.10 on average)
_RELAXED_BLOCK_CELLS = 65_536
_RELAXED_SECONDS_PER_CELL = 3e-7
_PACE_SHARE = 0.1
# ... and with the rows' products of every pair of columns at most this many
# float32 entries (heloc: 7,882 rows x 2,016 pairs, 16 million), and the
# table of pairs by pairs at most this many (mushroom: 5,460 pairs, 30 million,
# 240 MB)
_LIST_MAX_PRODUCTS = 50_000_000
_LIST_MAX_PAIR_ENTRIES = 32_000_000
# ... of which at most this many are kept (the next one's value bounds the
# rest), and a node reads at most this many of the lowest.
_LIST_KEPT = 1_000_000
_LIST_SCANNED = 200_000
# A list made for a box splits boxes only while at most this many of all its
# supports are under the threshold (see listed_supports).
_BOX_LIST_SPLIT_AT_MOST = 64
# The counts' differences carry rounding of about 1e-16 of the total weight;
# the cells' entropies move by less than 1e-14. Every entry is lowered by this
# much (relative) so that the bound stays a bound.
_MARGIN = 1e-9
# Without that table, a node is bounded once its slots left are few enough for
# a table per set of used features, summed over their cells: at most this many
# entries and rows x entries (heloc: three slots, 2e9, about 0.1 s a set of
# used features) ...
_MAX_COMPLETION_ENTRIES = 1_000_000
_MAX_COMPLETION_WORK = 3_000_000_000
# ... and at most three slots: four and five (compas and mammo binarized, 15
# partitions, k = 7 and 10, pipeline groups) took 2-5 s to certify against
# 0.6-2.6 s without them, where the recursion's many small products cost more
# than they pruned.
_MAX_COMPLETION_SLOTS = 3
# More than two slots are filled only for sets of at most _DEEP_USED used
# features: those are few (m^2 / 2), revisited, and their nodes head large
# subtrees; deeper sets are many and each seen once (k = 7 and 10 lost
# 10-30 % of their nodes to them, for larger gaps on adult, heloc and
# breastcancer). Two slots cost one product of the rows per set.
_DEEP_USED = 2
# New sets are computed while that has taken at most this share of the
# search's time so far: where they rarely prune (heloc, k = 5: 0.1-0.3 s per
# set of used features) the LP tree keeps the rest.
_NODE_SHARE = 0.2
# ... and the values for the last sets of used features are kept, up to this
# many entries.
_CACHED_ENTRIES = 8_000_000


def saturated_bound(oracle: LossOracle, max_support: int, deadline: float = np.inf,
                    supports: tuple | None = None):
    """``SaturatedBound.build`` once per set of rows: kept on the oracle's row
    facts, which its copies at other scales share (the scale search's solves;
    the Rashomon enumeration after the solve that finds its optimum).
    ``supports``: a list of supports already built for these rows and
    ``max_support`` (a search worker's, from its coordinator).
    """
    if supports is not None:
        # not kept: a coordinator's list may be valued at its scale and box (at_box)
        return SaturatedBound.build(oracle, max_support, deadline, supports)
    cache = oracle.row_facts.saturated
    if max_support not in cache:
        cache[max_support] = SaturatedBound.build(oracle, max_support, deadline)
    return cache[max_support]


def _oriented_bits(oracle: LossOracle) -> np.ndarray:
    """Each 0/1 column, flipped where its first row is 1 (so that a column
    and its complement agree), as packed bits: (d, ceil(n / 8)) bytes. Their
    order is that of the 0/1 columns', read from the transposed rows one
    column at a time (500,000 x 60: 3.8 MB, where a flipped float copy and
    its sort took 1 GB).
    """
    columns = oracle.columns
    return np.stack([np.packbits(column != column[0]) for column in columns])


# The screen (SaturatedBound.screen) runs at every node of a search while a
# moving average (weight _SCREEN_RATE_WEIGHT) of the screens that paid
# (pruned, raised the bound or left out a feature) is at least
# _SCREEN_MIN_RATE; below it, at every _SCREEN_SAMPLE_EVERY-th node, until one
# pays again. Where it pays it is worth every node (binarized adult, k = 7: it
# prunes 754 of 2,176 nodes; skipped at nodes ever further apart after each
# screen that did not pay, the gap after 60 s was 1.6 % against 0.7 %); where
# it does not, it cost a tenth of the search (compas, k = 10: none of 3,726
# screens paid, 1.1 s of 11 s; mushroom, k = 10: 19 of 1,946, 3.1 s of 40 s
# computing new sets of used features; the Rashomon set of compas, k = 10:
# 544 of 74,895, 5.3 s of 60 s).
_SCREEN_RATE_WEIGHT = 1 / 16
_SCREEN_MIN_RATE = 0.02
_SCREEN_SAMPLE_EVERY = 64


class ScreenSchedule:
    """Which nodes of a search the screen runs at (see ``_SCREEN_MIN_RATE``)."""

    def __init__(self):
        self.rate = 1.0  # the moving average of screens that paid
        self._next_node = 0

    def due(self, node: int) -> bool:
        return node >= self._next_node

    def record(self, node: int, paid: bool) -> None:
        """The screen at ``node`` paid or not: set the next node to screen."""
        self.rate += _SCREEN_RATE_WEIGHT * (paid - self.rate)
        self._next_node = node + (1 if self.rate >= _SCREEN_MIN_RATE else _SCREEN_SAMPLE_EVERY)


class _Valued(NamedTuple):
    """A bound that ``at_box`` made from a list made for a box at one scale,
    with every support under ``threshold`` valued over ``lower``-``upper``.
    """

    lower: np.ndarray
    upper: np.ndarray
    threshold: float
    bound: SaturatedBound


class SaturatedBound:
    """The least saturated loss over the supports a node allows.

    Built by :meth:`build`, or None there when it does not apply (columns
    that are not all 0/1, or data too large even for two slots). Every
    support's value is in one table when it fits; otherwise a node is bounded
    once it has at most ``completion_slots`` slots left, from the cells of its
    used features (made once per set of used features, and kept).

    A column, its duplicates and its complements (``x <= t`` and ``x > t``:
    every column of binarized heloc) split the rows alike, so the bound works
    on one column per such partition: half the columns of heloc, an eighth of
    the work for three.

    Parameters
    ----------
    oracle : LossOracle
        Its rows, all 0/1.
    max_support : int
    partition : (d,) int array
        Each column's partition of the rows.
    representatives : (m,) int array
        A column of each partition.
    table : ndarray of shape (m,) * max_support, optional
        Symmetric: entry ``(a, b, c)`` is the saturated loss of the partitions
        ``a, b, c`` together (repeated indices: fewer of them), lowered by the
        rounding margin.
    completion_slots : int
        Without a table: a node is bounded once it has at most this many
        slots left (2 or 3).
    supports : tuple (supports, values, beyond), optional
        Without a table, for four or five slots: the supports of
        ``max_support`` partitions with the lowest values, sorted by value
        (lowered by the rounding margin), and a value no other support is under.
    """

    def __init__(self, oracle: LossOracle, max_support: int, partition: np.ndarray,
                 representatives: np.ndarray, table: np.ndarray | None = None,
                 completion_slots: int = 0, supports: tuple | None = None):
        self.oracle = oracle
        self.max_support = max_support
        self.partition = partition
        self.n_partitions = len(representatives)
        self.representatives = representatives
        self.table = table
        # (supports, values, beyond): the lowest supports by value, each a row
        # of max_support partitions, and a value no support left out is under
        self.supports = supports
        self.completion_slots = completion_slots
        self.n_features = len(partition)
        self._by_used: collections.OrderedDict = collections.OrderedDict()
        self._few: dict = {}  # values of the few partitions a node allows (list only)
        self._cached_entries = 0
        # at_box's list where build made none: from the table (four or five
        # slots) or counted (more than five)
        self._listed = None
        # at_box's last bound per scale from a list made here: (lower, upper,
        # threshold, bound)
        self._valued: dict[float, _Valued] = {}
        self.seconds = 0.0

    @classmethod
    def build(cls, oracle: LossOracle, max_support: int, deadline: float = np.inf,
              supports: tuple | None = None):
        """The bound for at most ``max_support`` features, or None (see above);
        with ``supports``, the list of supports built before for these rows.
        """
        X = oracle.X
        n, d = X.shape
        if max_support < 1 or d == 0:
            return None
        # the sizes first (with d columns, so with the m <= d partitions): the
        # check of the values reads all of them
        if not _fits_table(n, d, max_support) and _completion_slots(n, d, max_support) < 1:
            return None
        if not np.all(column_facts(oracle).binary):
            return None
        _, representatives, partition = np.unique(_oriented_bits(oracle), axis=0,
                                                  return_index=True, return_inverse=True)
        m = len(representatives)
        partition = partition.reshape(-1)
        if supports is not None:
            return cls(oracle, max_support, partition, representatives,
                       completion_slots=_completion_slots(n, m, max_support), supports=supports)
        if _fits_table(n, m, max_support):
            table = _saturated_values(X[:, representatives], oracle.weight,
                                      oracle.negative_weight, max_support, deadline)
            if table is not None:
                return cls(oracle, max_support, partition, representatives, _lowered(table))
        slots = _completion_slots(n, m, max_support)
        # the list's cheapest estimate first: its copy of the columns is
        # as large as the rows (500,000 x 60: 0.24 GB for a list out of reach)
        if max_support in (4, 5) and m > max_support and _list_in_reach(n, m, max_support,
                                                                         True, deadline):
            supports = _lowest_supports(X[:, representatives], oracle.weight,
                                        oracle.negative_weight, max_support, deadline)
            if supports is not None:
                return cls(oracle, max_support, partition, representatives,
                           completion_slots=slots, supports=supports)
        if slots < 1:
            return None
        return cls(oracle, max_support, partition, representatives, completion_slots=slots)

    def at_box(self, oracle: LossOracle, lower: np.ndarray, upper: np.ndarray,
               threshold: float, deadline: float = np.inf,
               list_deadline: float | None = None, n_threads: int = 1,
               report=None) -> SaturatedBound:
        """The bound for one box and scale: each listed support under
        ``threshold`` valued at least at its relaxed loss (``relaxed_losses``),
        the least loss over real points within the box (layout ``[b, l, z]``)
        at ``oracle``'s scale of the models within that support. Lowest
        supports first, until ``deadline``; the others keep their entropy. A
        new bound (the list shared across scales stays as it is), or itself
        without a list. Where build made no list, the supports are listed here
        (once for these rows): from the root's table with four or five slots
        (the valued list then bounds the nodes instead of the table), counted
        with more than five; such a list is kept only if every support under
        the threshold is valued by ``list_deadline`` (by default
        ``deadline``), and splits boxes only where few are left (``listed_supports``).
        Supports are counted and valued in batches on ``n_threads`` threads;
        ``report``, if given, is called after each round with the least value
        so far, a lower bound for every model of the box (valuing breastcancer
        binarized, k = 10, takes 18 s before the search reports again).

        A support's partitions stand for all their columns: a column that is
        its representative's complement adds its point to the intercept and
        subtracts it from the representative's, so each partition's point
        ranges over its columns' sums, and the intercept widens by theirs.

        The bound found for a box at a scale, from a list made here (every
        support under the threshold valued), is kept (heloc's list of a
        million supports built for the rows, valued anew by each scale's
        solve, is not). It is returned again for any box within that one, at
        that scale, under at most that threshold: its values bound those
        models too (the scale search solves the scan's best scale first and last,
        and values the list for it before either). Over a higher threshold,
        only the supports between the two are valued (the Rashomon
        enumeration after its solve); if they are not all valued in time, the
        kept bound is returned.
        """
        kept = self._valued.get(oracle.scale)
        if kept is not None and not (np.all(kept.lower <= lower) and np.all(kept.upper >= upper)):
            kept = None
        if kept is not None and threshold <= kept.threshold:
            return kept.bound
        made_here = self.supports is None
        if made_here and list_deadline is not None:
            deadline = list_deadline
        m, size = self.n_partitions, self.max_support
        if kept is None and made_here and self._listed is None and m > size:
            # once for all scales and boxes; kept below only if every support
            # under the threshold is valued in time (breastcancer binarized,
            # k = 7: the entropies alone left 44,679 of 77,520 supports under
            # the optimum, and the nodes that read them lost more than they
            # pruned)
            if self.table is not None and size >= 4:
                # breastcancer, k = 5: of 15,504 supports, 1,803 have an
                # entropy under the optimum, 1 a relaxed loss (in 0.06 s)
                listed = _all_supports(m, size)
                values = self.table[tuple(listed.T.astype(np.intp))]
                order = np.argsort(values, kind="stable")
                self._listed = (listed[order], values[order], np.inf)
            elif self.table is None and size > 5:
                self._listed = _counted_supports(self._columns(), oracle.weight,
                                                 oracle.negative_weight, size, deadline,
                                                 n_threads)
        # what a list made here that is not all valued in time leaves: no list,
        # or the kept one (every value under its threshold final)
        origin, fallback, final_below = self, self, -np.inf
        if kept is not None:
            origin, fallback, final_below = kept.bound, kept.bound, kept.threshold
        elif (smaller := self._valued_at_smaller_scale(oracle.scale, lower, upper)) is not None:
            # its values bound this scale's (none is final here): only those
            # under the threshold are valued again
            origin, fallback = smaller, smaller
        listed = origin.supports if origin.supports is not None else self._listed
        if listed is None:
            return self
        supports, values, beyond = listed
        first = start = int(np.searchsorted(values, final_below))
        under = int(np.searchsorted(values, threshold))
        cells = min(2**size, oracle.n_rows)  # non-empty cells at most
        started = time.perf_counter()
        if (made_here and started + (under - first) * cells * _RELAXED_SECONDS_PER_CELL
                / n_threads > deadline):
            # a list made here is kept only if all are valued: no use starting
            return fallback
        values = values.copy()
        block = max(1, min(_RELAXED_BLOCK_CELLS // cells,
                           _COUNT_CHUNK_ENTRIES // max(oracle.n_rows, 1)))
        box = _RelaxedBox.of(self, oracle, lower, upper)

        def valued(block_start):
            end = min(block_start + block, under)
            return box.losses(supports[block_start:end], threshold, deadline)

        with _mapper(n_threads) as mapped:
            while start < under and time.perf_counter() < deadline:
                if report is not None:
                    report(min(float(values.min()), beyond))
                starts = range(start, min(start + n_threads * block, under), block)
                for block_start, relaxed in zip(starts, mapped(valued, starts)):
                    end = block_start + len(relaxed)
                    values[block_start:end] = np.maximum(values[block_start:end], relaxed)
                    start = end
                now = time.perf_counter()
                if (made_here and start - first >= _PACE_SHARE * (under - first)
                        and now + (now - started) / (start - first) * (under - start)
                        > deadline):
                    return fallback  # the rest, at the pace so far, would not be valued in time
        if made_here and start < under:
            return fallback
        order = np.argsort(values, kind="stable")
        bound = copy.copy(origin)
        bound.supports = (supports[order], values[order], beyond)
        if origin.table is not None:  # the list, valued, bounds the nodes instead
            bound.table = None
            bound.completion_slots = _completion_slots(oracle.n_rows, m, size)
        if made_here:  # small, and dear to value again (a list built for the rows is neither)
            self._valued[oracle.scale] = _Valued(lower.copy(), upper.copy(), threshold, bound)
        return bound

    def _valued_at_smaller_scale(self, scale: float, lower: np.ndarray,
                                 upper: np.ndarray) -> SaturatedBound | None:
        """The bound kept at the largest scale below ``scale`` whose box holds
        this one in units of the score (points and intercept divided by the
        scale), or None.

        A support's relaxed loss at scale s over a box B is its least loss over
        the points B / s at scale 1. Dividing by a larger scale shrinks the
        relaxed box, which always holds 0 in the points: so a support's
        relaxed loss only grows with the scale, and every value kept at a
        smaller scale over a box that holds this one bounds it here too
        (breastcancer binarized, k = 7: the scale search valued 44,679
        supports at each of its eleven scales).
        """
        d = self.n_features
        allowed = upper[1 + d :] > 0.5
        low = np.minimum(lower[1 : 1 + d], 0.0)[allowed] / scale
        high = np.maximum(upper[1 : 1 + d], 0.0)[allowed] / scale
        best, found = -np.inf, None
        for other, (kept_lower, kept_upper, _, bound) in self._valued.items():
            if not best < other < scale or np.any(kept_upper[1 + d :][allowed] <= 0.5):
                continue
            slack = 1e-12 * (1.0 + np.abs(kept_lower[:1 + d]).max() / other)
            if (lower[0] / scale >= kept_lower[0] / other - slack
                    and upper[0] / scale <= kept_upper[0] / other + slack
                    and np.all(low >= np.minimum(kept_lower[1 : 1 + d], 0.0)[allowed] / other
                               - slack)
                    and np.all(high <= np.maximum(kept_upper[1 : 1 + d], 0.0)[allowed] / other
                               + slack)):
                best, found = other, bound
        return found

    @property
    def built_for_rows(self) -> bool:
        """Whether the list was built for the rows (four or five slots, no
        root table), not for a box (``at_box``: from the table, or counted
        for more than five slots). Decided by sizes alone: workers, which get
        the list, need no flag.
        """
        size = self.max_support
        return size <= 5 and not _fits_table(self.oracle.n_rows, self.n_partitions, size)

    def node_bound(self, used: np.ndarray, free: np.ndarray, compute: bool = True,
                   threshold: float = np.inf):
        """The least saturated loss over the supports that hold every ``used``
        feature and otherwise ``free`` ones only, and, per free feature, the
        least over those that also hold it (inf where a feature is not free,
        -inf where nothing is known). Both exclude the ``c0`` terms. Without
        ``compute``, only values at hand count (the table, or those kept for
        these used features): ``seconds`` is the time spent computing others.
        From the list of supports, values at or above ``threshold`` may be
        reported as any value at least ``threshold``.
        """
        parts = self.partition[used]
        slots = self.max_support - len(parts)
        if slots < 0:
            return np.inf, np.full(self.n_features, np.inf)
        listed = None
        if self.table is None and self.supports is not None:
            listed = self._listed_bound(parts, used | free, free, threshold)
            if listed[2]:
                return listed[:2]
            # no allowed support in the part of the list read, and some under
            # the threshold unread (mushroom, k = 4: a million kept under
            # it): the used features' cells where they are at hand
        # used features of one partition: repeated indices, fewer partitions
        index = np.sort(parts)
        if self.table is not None:
            view = self.table[tuple(index)]
        elif (slots <= self.completion_slots and (slots <= 2 or len(index) <= _DEEP_USED)
              and (compute or (tuple(index), slots) in self._by_used)):
            view = self._completions(index, slots)
        elif listed is not None:
            return listed[:2]
        else:
            return -np.inf, np.where(free, -np.inf, np.inf)
        best_with = np.full(self.n_features, np.inf)
        if slots == 0:
            return float(view), best_with
        allowed = np.unique(self.partition[used | free])
        if len(allowed) == 0:
            return np.inf, best_with
        if len(allowed) < view.shape[0]:
            view = view[np.ix_(*([allowed] * slots))]
        # the view is symmetric: the least over all but the first axis is per partition
        least = view.min(axis=tuple(range(1, slots))) if slots > 1 else view
        by_partition = np.full(self.n_partitions, np.inf)
        by_partition[allowed] = least
        best_with[free] = by_partition[self.partition[free]]
        return float(least.min()), best_with

    def screen(self, lower: np.ndarray, upper: np.ndarray, c0: np.ndarray, threshold: float,
               elapsed: float = np.inf, spent_before: float = 0.0) -> tuple[float, bool, float]:
        """Bound a box of the tree (layout ``[b, l_1..l_d, z_1..z_d]``) and
        leave out, in place, each free feature that no model of the box
        reaching under ``threshold`` can use. Returns the box's bound (with
        its used features' ``c0``), whether any feature was left out (the
        caller propagates the bounds then), and the least bound of a model
        using one of them. Values for new sets of used
        features are computed only while this search's time computing them
        (``seconds`` less ``spent_before``, its value when the search began:
        searches over the same rows share the bound) is at most
        ``_NODE_SHARE`` of ``elapsed``, the search's time so far.
        """
        d = self.n_features
        used = lower[1 + d :] > 0.5
        free = (upper[1 + d :] > 0.5) & ~used
        compute = self.seconds - spent_before <= _NODE_SHARE * elapsed
        # c0 >= 0: a support's value plus its used features' costs reaches the
        # threshold wherever its value does
        value, best_with = self.node_bound(used, free, compute, threshold)
        fixed_cost = float(c0[used].sum())
        bound = value + fixed_cost
        if bound >= threshold:
            return bound, False, np.inf
        out = np.flatnonzero(free & (best_with + fixed_cost + c0 >= threshold))
        lower[1 + out] = upper[1 + out] = upper[1 + d + out] = 0.0
        return (bound, len(out) > 0,
                float((best_with[out] + fixed_cost + c0[out]).min(initial=np.inf)))

    def _listed_bound(self, used_parts: np.ndarray, allowed: np.ndarray, free: np.ndarray,
                      threshold: float):
        """``node_bound`` from the sorted list of supports: its first support
        that holds the used partitions and otherwise allowed ones only; and
        whether that is the least (False: none was read, and the next value
        is under ``threshold``).

        Every support of at most ``max_support`` features lies within such a
        support of ``max_support`` partitions when at least that many are
        allowed, and its value is no lower (fewer columns, coarser cells);
        supports left out of the list or beyond the part read are no lower
        than the next value in the list.
        """
        best_with = np.full(self.n_features, np.inf)
        allowed_parts = np.unique(self.partition[allowed])
        if len(allowed_parts) < self.max_support:
            # every support lies within the few allowed partitions: their own cells
            value = self._value_of(tuple(allowed_parts))
            best_with[free] = value
            return value, best_with, True
        supports, values, beyond = self._fitting(used_parts, allowed_parts, threshold)
        bound = min(float(values[0]), beyond) if len(values) else beyond
        by_partition = np.full(self.n_partitions, beyond)
        np.minimum.at(by_partition, supports.ravel(), np.repeat(values, supports.shape[1]))
        best_with[free] = by_partition[self.partition[free]]
        return bound, best_with, len(values) > 0 or beyond >= threshold

    def listed_supports(self, lower: np.ndarray, upper: np.ndarray, threshold: float,
                        at_most: int):
        """The supports of the list that a box (layout ``[b, l, z]``) allows
        with a value under ``threshold``, as rows of partitions, and their
        values, sorted: every model of the box under the threshold uses partitions
        within one of them. None without a list, when more than ``at_most``,
        when fewer partitions than ``max_support`` are allowed, when some
        unlisted support might be under the threshold, or, for a list made
        for a box (``built_for_rows`` false), when the whole list has more
        than a few under the threshold. Such a list otherwise bounds and
        screens only: where the LP is the stronger bound (compas binarized,
        k = 7: 3,174 of 6,435 supports under the optimum at their relaxed
        losses) parts per support multiplied the LP nodes (certified in 21 s,
        or 34 s with parts for boxes that allow at most 64, not 5.4 s); where
        a few are left (breastcancer binarized, k = 10: 21 of 184,756), the
        tree closes each alone.
        """
        if self.supports is None or not (
                self.built_for_rows
                or np.searchsorted(self.supports[1], threshold) <= _BOX_LIST_SPLIT_AT_MOST):
            return None
        d = self.n_features
        used = lower[1 + d :] > 0.5
        allowed = upper[1 + d :] > 0.5
        allowed_parts = np.unique(self.partition[allowed])
        if used.sum() > self.max_support or len(allowed_parts) < self.max_support:
            return None
        supports, values, beyond = self._fitting(self.partition[used], allowed_parts,
                                                 threshold)
        under = values < threshold
        if beyond < threshold or under.sum() > at_most:
            return None
        return supports[under], values[under]

    def split(self, lower: np.ndarray, upper: np.ndarray, threshold: float, at_most: int):
        """A box (layout ``[b, l, z]``) split by the listed supports it allows
        under ``threshold`` (``listed_supports``): per support, the box's
        bounds with every free feature outside the support's partitions left
        out, and the support's value, which bounds the part. Every model of
        the box under the threshold lies in some part (parts may overlap); with
        the parts comes a bound on every model in none (``(parts, rest)``).
        None where the list does not tell, or where some support would leave
        the box as it is.
        """
        listed = self.listed_supports(lower, upper, threshold, at_most)
        if listed is None:
            return None
        rest = self._read_up_to(threshold)[1]  # the supports no part holds
        d = self.n_features
        free = np.flatnonzero((upper[1 + d :] > 0.5) & (lower[1 + d :] < 0.5))
        parts = []
        for support, value in zip(*listed):
            out = free[~np.isin(self.partition[free], support)]
            if len(out) == 0:
                return None
            part_lower, part_upper = lower.copy(), upper.copy()
            part_lower[1 + out] = part_upper[1 + out] = part_upper[1 + d + out] = 0.0
            parts.append((part_lower, part_upper, float(value)))
        return parts, rest

    def _read_up_to(self, threshold: float) -> tuple[int, float]:
        """How many listed supports a node reads (those under ``threshold``,
        at most ``_LIST_SCANNED``), and a value no other support is under.
        """
        _, values, beyond = self.supports
        read = min(int(np.searchsorted(values, threshold)), _LIST_SCANNED)
        return read, (float(values[read]) if read < len(values) else beyond)

    def _fitting(self, used_parts: np.ndarray, allowed_parts: np.ndarray, threshold: float):
        """The listed supports (read up to ``threshold``, at most
        ``_LIST_SCANNED``) holding ``used_parts`` within ``allowed_parts``,
        their values, and a value no other support is under.
        """
        supports, values, _ = self.supports
        read, beyond = self._read_up_to(threshold)
        supports, values = supports[:read], values[:read]
        allowed = np.zeros(self.n_partitions, dtype=bool)
        allowed[allowed_parts] = True
        fits = allowed[supports].all(axis=1)
        used_parts = np.unique(used_parts)
        if len(used_parts):
            holds = np.zeros(self.n_partitions, dtype=bool)
            holds[used_parts] = True
            fits &= holds[supports].sum(axis=1) == len(used_parts)
        return supports[fits], values[fits], beyond

    def _columns(self, rows=None, parts=None) -> np.ndarray:
        """The rows (all, or ``rows``) on one column per partition (all, or
        ``parts``), read from the oracle's rows each time: a kept copy would
        cost as much as the rows (500,000 x 60: 0.24 GB).
        """
        columns = self.representatives if parts is None else self.representatives[parts]
        if rows is None:
            return self.oracle.X[:, columns]
        return self.oracle.X[np.ix_(rows, columns)]

    def _value_of(self, parts: tuple) -> float:
        """The saturated loss of the partitions ``parts`` (fewer than
        ``max_support``), lowered by the margin; kept.
        """
        if parts not in self._few:
            if len(self._few) >= _CACHED_ENTRIES // 64:
                self._few.clear()
            _, cells = distinct_rows(self._columns(parts=list(parts)))
            total = np.bincount(cells, self.oracle.weight)
            negative = np.bincount(cells, self.oracle.negative_weight)
            self._few[parts] = float(_lowered(_entropy(total, negative).sum()))
        return self._few[parts]

    def _completions(self, used_index: np.ndarray, slots: int):
        """The saturated loss of the partitions ``used_index`` plus every
        ``slots`` partitions, indexed like the table: summed over the cells of the used
        columns' values, each cell's rows giving their own table.
        """
        key = (tuple(used_index), slots)
        if key in self._by_used:
            self._by_used.move_to_end(key)
            return self._by_used[key]
        start = time.perf_counter()
        total, negative = self.oracle.weight, self.oracle.negative_weight
        _, cells = distinct_rows(self._columns(parts=np.unique(used_index)))
        by_cell = np.split(np.argsort(cells, kind="stable"), np.cumsum(np.bincount(cells))[:-1])
        values = 0.0
        for rows in by_cell:
            values = values + _saturated_values(self._columns(rows), total[rows], negative[rows],
                                                slots)
        values = _lowered(np.asarray(values))
        self._by_used[key] = values
        self._cached_entries += values.size
        while self._cached_entries > _CACHED_ENTRIES and len(self._by_used) > 1:
            self._cached_entries -= self._by_used.popitem(last=False)[1].size
        self.seconds += time.perf_counter() - start
        return values


class _RelaxedBox:
    """The relaxed losses of supports (``relaxed_losses``) for one box and
    scale: each partition's point ranges over its columns' sums, a
    complement's point moving the intercept (see ``SaturatedBound.at_box``).
    """

    def __init__(self, oracle, columns, point_low, point_high, intercept_low, intercept_high):
        self.oracle = oracle
        self.bits = columns.astype(np.float64)
        self.point_low, self.point_high = point_low, point_high
        self.intercept_low, self.intercept_high = intercept_low, intercept_high

    @classmethod
    def of(cls, bound: SaturatedBound, oracle: LossOracle, lower: np.ndarray,
           upper: np.ndarray) -> _RelaxedBox:
        d = bound.n_features
        allowed = upper[1 + d :] > 0.5
        low = np.where(allowed, np.minimum(lower[1 : 1 + d], 0.0), 0.0)
        high = np.where(allowed, np.maximum(upper[1 : 1 + d], 0.0), 0.0)
        first_row = oracle.X[0]
        flipped = first_row != first_row[bound.representatives[bound.partition]]
        same_low, flipped_high, same_high, flipped_low = (
            np.bincount(bound.partition, np.where(mask, value, 0.0),
                        minlength=bound.n_partitions)
            for mask, value in ((~flipped, low), (flipped, high), (~flipped, high),
                                (flipped, low)))
        # (intercept shifts: sums of the complements' points)
        return cls(oracle, oracle.X[:, bound.representatives], same_low - flipped_high,
                   same_high - flipped_low, (lower[0], flipped_low), (upper[0], flipped_high))

    def losses(self, supports: np.ndarray, enough: float = np.inf,
               deadline: float = np.inf) -> np.ndarray:
        """Each support's (rows of partitions) relaxed loss, lowered by the
        rounding margin (a lower bound; see ``relaxed_losses`` for ``enough``).
        """
        supports = np.asarray(supports, dtype=np.int64)
        codes, total, negative = _support_cells(self.bits, supports, self.oracle.weight,
                                                self.oracle.negative_weight)
        low = np.column_stack([self.intercept_low[0]
                               + self.intercept_low[1][supports].sum(axis=1),
                               self.point_low[supports]])
        high = np.column_stack([self.intercept_high[0]
                                + self.intercept_high[1][supports].sum(axis=1),
                                self.point_high[supports]])
        return _lowered(relaxed_losses(codes, total, negative, low, high, self.oracle.scale,
                                       enough, deadline))


def _list_in_reach(n: int, m: int, size: int, one_unit: bool, deadline: float) -> bool:
    """Whether ``_lowest_supports`` may list the supports of ``size`` of ``m``
    columns over ``n`` rows: not too many, their products within memory,
    done by ``deadline`` at the estimated pace (``one_unit``: each class's
    weights are multiples of one unit).
    """
    n_supports = math.comb(m, size)
    if n_supports > _MAX_LIST_SUPPORTS or n_supports == 0:
        return False
    estimate = n_supports * (_LIST_SECONDS_PER_SUPPORT
                             + (n * _LIST_SECONDS_PER_PRODUCT if size == 5 else 0.0)
                             + (0.0 if one_unit else _LIST_SECONDS_PER_SUPPORT_TWO_UNITS))
    n_pairs = m * (m + 1) // 2
    return (time.perf_counter() + estimate <= deadline and n * n_pairs <= _LIST_MAX_PRODUCTS
            and n_pairs**2 <= _LIST_MAX_PAIR_ENTRIES)


def _lowest_supports(X: np.ndarray, total: np.ndarray, negative: np.ndarray, size: int,
                     deadline: float = np.inf):
    """The supports of ``size`` (4 or 5) columns with the lowest saturated
    losses, as ``(supports, values, beyond)`` (see ``SaturatedBound``); None
    when there are too many supports or the estimated time runs past
    ``deadline``. The cells are counted in exact integers (``_CellEntropy``:
    units of the classes' weights, or a grid the weights are floored to).

    A support's cells come by inclusion-exclusion from the weights of the
    rows where each subset of its columns is all 1. Those of at most four
    columns come from products of pairs of columns (``_AllOnes``); those
    of five, per middle column ``c``, of one product of the triples
    ``a < b < c`` with the pairs ``c < d < e``: about as many entries as there
    are supports. Integer counts are exact in float32 products (under 2^24)
    and pack with their negative part into one integer, so the transform
    runs once; ``t log t`` is read from a table (computed where each class
    has its own unit).
    """
    n, m = X.shape
    if not _list_in_reach(n, m, size, True, deadline):
        return None
    cell_entropy = _CellEntropy.of(total, negative)
    if not _list_in_reach(n, m, size, cell_entropy.one_unit, deadline):
        return None
    counts, negative_counts = cell_entropy.counts, cell_entropy.negative_counts
    # a column or its complement: the same cells; the one with fewer ones
    # leaves the five-way products fewer rows (those where c is 1)
    columns = X.astype(np.float32)
    flip = columns.sum(axis=0) > n / 2
    columns[:, flip] = 1.0 - columns[:, flip]
    weights = (counts.astype(np.float32), negative_counts.astype(np.float32))
    all_ones = _AllOnes(columns, weights)
    everyone = _packed(np.float32(counts.sum()), np.float32(negative_counts.sum()))
    supports, values = [], []
    index_type = np.min_scalar_type(m)  # 7 million supports of heloc: 35 MB, not 280
    for c in range(2, m - size + 3):
        if time.perf_counter() > deadline:
            return None
        below_a, below_b = np.triu_indices(c, 1)
        if size == 5:
            above = np.triu_indices(m - c - 1, 1)
            members = [below_a[:, None], below_b[:, None], np.full((1, 1), c),
                       above[0][None, :] + c + 1, above[1][None, :] + c + 1]
        else:
            members = [below_a[:, None], below_b[:, None], np.full((1, 1), c),
                       np.arange(c + 1, m)[None, :]]
        # the weight of the rows where a subset (bits over members) is all 1
        ones = {0: everyone}
        for subset in range(1, 2**size):
            chosen = [members[i] for i in range(size) if subset >> i & 1]
            if len(chosen) <= 4:
                ones[subset] = all_ones.of(chosen)
        if size == 5:
            rows = np.flatnonzero(columns[:, c])
            sub = columns[rows]
            left = sub[:, below_a] * sub[:, below_b]
            right = sub[:, members[3][0]] * sub[:, members[4][0]]
            ones[2**size - 1] = _packed(*(left.T @ (w[rows, None] * right) for w in weights))
        # each cell's weight: the rows where exactly its subset is 1 (Moebius)
        for i in range(size):
            for subset in range(2**size):
                if not subset >> i & 1:
                    ones[subset] = ones[subset] - ones[subset | 1 << i]
        shape = np.broadcast_shapes(*(np.shape(a) for a in members))
        value = np.zeros(shape)
        for cell in ones.values():
            value = value + cell_entropy(cell >> 32, cell & 0xFFFFFFFF)
        supports.append(np.stack([np.broadcast_to(a, shape) for a in members],
                                 axis=-1).reshape(-1, size).astype(index_type))
        values.append(cell_entropy.in_weights(value.reshape(-1)))
    return _kept_sorted(np.concatenate(supports),
                        _lowered(np.concatenate(values), in_place=True))


def _counted_supports(X: np.ndarray, total: np.ndarray, negative: np.ndarray, size: int,
                      deadline: float = np.inf, n_threads: int = 1):
    """The list of supports (as ``_lowest_supports``) of ``size`` columns, any
    size, by counting each support's cells from the rows: for few columns
    and rows (breastcancer binarized, 20 partitions and 275 distinct rows,
    k = 7: 77,520 supports); None when there are too many or the estimated
    time runs past ``deadline``. Blocks of supports are counted on
    ``n_threads`` threads.
    """
    n, m = X.shape
    n_supports = math.comb(m, size)
    estimate = n_supports * n * _COUNT_SECONDS_PER_ENTRY / n_threads
    if (n_supports > _MAX_LIST_SUPPORTS or n_supports == 0
            or time.perf_counter() + estimate > deadline):
        return None
    supports = _all_supports(m, size)
    bits = X.astype(np.float64)
    values = np.empty(n_supports)
    chunk = max(1, _COUNT_CHUNK_ENTRIES // max(n, 1))

    def counted(start):
        block = supports[start : start + chunk]
        return _entropy(*_support_cells(bits, block, total, negative)[1:]).sum(axis=1)

    with _mapper(n_threads) as mapped:
        for wave in range(0, n_supports, chunk * n_threads):
            if time.perf_counter() > deadline:
                return None
            starts = range(wave, min(wave + chunk * n_threads, n_supports), chunk)
            for start, counts in zip(starts, mapped(counted, starts)):
                values[start : start + len(counts)] = counts
    return _kept_sorted(supports, _lowered(values, in_place=True))


@contextlib.contextmanager
def _mapper(n_threads: int):
    """``map``, or a pool's on ``n_threads`` threads: numpy releases the GIL
    in the passes over supports' rows and cells (products, sorts, elementwise
    functions), so blocks of supports run side by side.
    """
    if n_threads <= 1:
        yield map
        return
    with ThreadPoolExecutor(n_threads) as pool:
        yield pool.map


def _support_cells(bits: np.ndarray, supports: np.ndarray, total: np.ndarray,
                   negative: np.ndarray):
    """Each support's (rows of columns of ``bits``) non-empty cells, as
    (supports, cells) arrays: their codes (bit ``j`` is the support's column
    ``j`` on the cell's rows), weights and negative weights; rows with fewer
    cells than the most are padded with cells of no weight. Only the
    non-empty cells, because they are few: breastcancer binarized, 10 of 20
    partitions, about 112 of 1,024.
    """
    count, size = supports.shape
    n = len(bits)
    # each row's code per support, exact in float64 products
    powers = np.zeros((count, bits.shape[1]))
    np.put_along_axis(powers, supports, 2.0 ** np.arange(size), axis=1)
    codes = (powers @ np.asarray(bits, dtype=np.float64).T).astype(np.int64)
    order = np.argsort(codes, axis=1)
    codes = np.take_along_axis(codes, order, axis=1)
    cell = np.zeros((count, n), dtype=np.int64)
    np.cumsum(codes[:, 1:] != codes[:, :-1], axis=1, out=cell[:, 1:])
    width = int(cell[:, -1].max()) + 1 if n else 1
    flat = (cell + (np.arange(count) * width)[:, None]).ravel()
    cells = count * width
    cell_codes = np.zeros(cells, dtype=np.int64)
    cell_codes[flat] = codes.ravel()
    return (cell_codes.reshape(count, width),
            np.bincount(flat, total[order].ravel(), minlength=cells).reshape(count, width),
            np.bincount(flat, negative[order].ravel(), minlength=cells).reshape(count, width))


def _kept_sorted(supports: np.ndarray, values: np.ndarray):
    """``(supports, values, beyond)``: the ``_LIST_KEPT`` lowest, sorted, and
    the next value (a bound on those left out).
    """
    beyond = np.inf
    if len(values) > _LIST_KEPT:
        kept = np.argpartition(values, _LIST_KEPT)
        beyond = float(values[kept[_LIST_KEPT]])
        kept = kept[:_LIST_KEPT]
        supports, values = supports[kept], values[kept]
    order = np.argsort(values, kind="stable")
    return supports[order], values[order], beyond


# Weights that are no whole multiples of a unit are floored to a grid of this
# many units per row on average (at most 2^23 in all): a row of average weight
# loses under 1 / 1024 of it, and the t log t table stays under 70 MB.
_FLOORED_UNITS_PER_ROW = 1024
_FLOORED_UNITS_AT_MOST = 2**23


class _CellEntropy:
    """``t H(q / t)`` of a cell (``_entropy``) from its exact integer counts:
    rows are counted in units of their class's weight, one unit for both
    classes where they share one (no weights, repeated rows), else one each
    (per-class weights, as ``compute_sample_weight("balanced")`` gives).
    Other weights are floored to a fine grid (``floored``): a row's loss is
    never negative, so lowering weights lowers every model's loss, and each
    support's saturated loss stays a lower bound, weaker by the weight
    floored away.

    With one unit every term is read from a table of ``c log c`` and the sum
    is scaled once (``in_weights``); with two, the positive and negative
    parts are still read from tables, and ``t log t`` is computed. The tables
    are made on first use: the list's gates read ``one_unit`` first, and a
    floored grid's table has 2^23 entries (0.1 s, 67 MB).
    """

    def __init__(self, counts, negative_counts, unit_positive: float, unit_negative: float,
                 floored: bool = False):
        self.counts, self.negative_counts = counts, negative_counts
        self.unit_positive, self.unit_negative = unit_positive, unit_negative
        self.one_unit = unit_positive == unit_negative
        self.floored = floored

    @functools.cached_property
    def _tables(self):
        """``c log c`` by count: of all rows, the positive and the negative
        (one table for all three with one unit; in weights with two).
        """
        if self.one_unit:
            whole = np.arange(int(self.counts.sum()) + 1, dtype=float)
            whole = xlogy(whole, whole)
            return whole, whole, whole
        positive = self.unit_positive * np.arange(
            int((self.counts - self.negative_counts).sum()) + 1)
        negative = self.unit_negative * np.arange(int(self.negative_counts.sum()) + 1)
        return None, xlogy(positive, positive), xlogy(negative, negative)

    @classmethod
    def of(cls, total: np.ndarray, negative: np.ndarray) -> _CellEntropy:
        """Exact counts where each class's weights are whole multiples of one
        unit and the counts stay exact in float32 sums (under 2^24); else
        counts of the weights floored to a grid.
        """
        parts = (np.maximum(total - negative, 0.0), negative)
        least = [float(part[part > 0].min()) for part in parts if np.any(part > 0)] or [1.0]
        for units in ([min(least)] * 2, least):  # one unit where both classes share it
            if len(units) < 2:
                continue
            counts = [np.rint(part / unit) for part, unit in zip(parts, units)]
            if all(np.allclose(count * unit, part, rtol=1e-12, atol=0)
                   for count, unit, part in zip(counts, units, parts)):
                if (counts[0] + counts[1]).sum() >= 2**24:
                    continue  # a unit per class may count fewer
                return cls(counts[0] + counts[1], counts[1], *units)
        grid = float(total.sum()) / min(_FLOORED_UNITS_PER_ROW * len(total),
                                        _FLOORED_UNITS_AT_MOST)
        counts = [np.floor(part / grid) for part in parts]
        return cls(counts[0] + counts[1], counts[1], grid, grid, floored=True)

    def __call__(self, counts: np.ndarray, negative_counts: np.ndarray) -> np.ndarray:
        """Cells' entropies: in count units with one unit, else in weights."""
        whole, positive, negative = self._tables
        positive_counts = counts - negative_counts
        if self.one_unit:
            return whole[counts] - negative[negative_counts] - positive[positive_counts]
        total = self.unit_positive * positive_counts + self.unit_negative * negative_counts
        return xlogy(total, total) - negative[negative_counts] - positive[positive_counts]

    def in_weights(self, values: np.ndarray) -> np.ndarray:
        """Sums of ``__call__`` in the rows' weights."""
        return values * self.unit_positive if self.one_unit else values


def _packed(total, negative):
    """Counts (exact integers, as floats) packed as ``total * 2^32 + negative``:
    sums and differences of packed counts are those of their parts.
    """
    return (np.rint(total).astype(np.int64) << 32) + np.rint(negative).astype(np.int64)


class _AllOnes:
    """The weight of the rows where a set of one to four columns is all 1,
    packed with that of its negative rows (``_packed``).

    Sets of one or two columns come from one product of the columns; those of
    three or four, ``a < b < c (<= d)``, from the product of the pairs
    ``(a, b)`` with the pairs ``(c, d)`` past ``b``, over the rows where ``b``
    is 1: a sixth of the product of every pair with every pair, and fewer
    rows (mushroom, k = 4: 104 columns, 5,460 pairs).
    """

    def __init__(self, columns: np.ndarray, weights: tuple):
        m = columns.shape[1]
        # sets of one or two columns: (a, a) and (a, b)
        self.column_pairs = _packed(*(columns.T @ (w[:, None] * columns) for w in weights))
        first, second = np.triu_indices(m)  # each column with itself among them
        self.pair = np.zeros((m, m), dtype=np.int64)
        self.pair[first, second] = self.pair[second, first] = np.arange(len(first))
        self.pairs = np.zeros((len(first), len(first)), dtype=np.int64)
        for b in range(1, m - 1):
            rows = np.flatnonzero(columns[:, b])
            later = np.flatnonzero(first > b)
            sub = columns[rows]
            left = sub[:, :b]  # the pairs (a, b): b is 1 on these rows
            right = sub[:, first[later]] * sub[:, second[later]]
            self.pairs[np.ix_(self.pair[np.arange(b), b], later)] = _packed(
                *(left.T @ (w[rows, None] * right) for w in weights))

    def of(self, chosen: list) -> np.ndarray:
        """The entry for the columns ``chosen`` (broadcast index arrays, increasing)."""
        if len(chosen) == 1:
            return self.column_pairs[chosen[0], chosen[0]]
        if len(chosen) == 2:
            return self.column_pairs[chosen[0], chosen[1]]
        last = chosen[2] if len(chosen) == 3 else chosen[3]
        return self.pairs[self.pair[chosen[0], chosen[1]], self.pair[chosen[2], last]]


def _lowered(values, in_place: bool = False):
    """Values lowered by the rounding margin (a new array unless ``in_place``:
    the list of supports' 7 million values on heloc).
    """
    margin = _MARGIN * (1.0 + np.abs(values))
    if in_place:
        values -= margin
        return values
    return values - margin


def _fits_table(n: int, m: int, max_support: int) -> bool:
    """Whether the root's table of every support of ``max_support`` of ``m``
    columns over ``n`` rows is within its limits (see above).
    """
    return m**max_support <= _MAX_ENTRIES and n * m**max_support <= _MAX_TABLE_WORK


def _all_supports(m: int, size: int) -> np.ndarray:
    """Every support of ``size`` of ``m`` columns, a row each, increasing."""
    index_type = np.min_scalar_type(m)
    count = math.comb(m, size)
    return np.fromiter(itertools.chain.from_iterable(itertools.combinations(range(m), size)),
                       dtype=index_type, count=count * size).reshape(count, size)


def _completion_slots(n: int, m: int, max_support: int) -> int:
    """The most slots a table per set of used features may fill (see above)."""
    slots = 0
    while (slots < min(max_support, _MAX_COMPLETION_SLOTS)
           and m ** (slots + 1) <= _MAX_COMPLETION_ENTRIES
           and n * m ** (slots + 1) <= _MAX_COMPLETION_WORK):
        slots += 1
    return slots


def _saturated_values(X: np.ndarray, total: np.ndarray, negative: np.ndarray, slots: int,
                      deadline: float = np.inf):
    """The saturated loss over these rows of every ``slots`` columns, as a
    symmetric ``(d,) * slots`` array; None past ``deadline``.
    """
    if slots == 0:
        return _entropy(total.sum(), negative.sum())
    if slots == 1:
        ones, ones_negative = total @ X, negative @ X
        return (_entropy(ones, ones_negative)
                + _entropy(total.sum() - ones, negative.sum() - ones_negative))
    if slots == 2:
        both, both_negative = weighted_products(X, (total, negative))
        return _pair_cells(both, both_negative, total.sum(), negative.sum())
    if slots == 3:
        return _triple_table(X, total, negative, deadline)
    # {a} and the rest: the rest's values among the rows where a is 1, plus
    # among those where it is 0; set where a is the least index
    d = X.shape[1]
    table = np.full((d,) * slots, np.inf)
    for a in range(d):
        ones = X[:, a] == 1
        entry = 0.0
        for rows in (np.flatnonzero(ones), np.flatnonzero(~ones)):
            values = _saturated_values(X[np.ix_(rows, np.arange(a, d))], total[rows],
                                       negative[rows], slots - 1, deadline)
            if values is None:
                return None
            entry = entry + values
        table[(a,) + (slice(a, None),) * (slots - 1)] = entry
    return _symmetric(table)


def _symmetric(table: np.ndarray) -> np.ndarray:
    """Fill a table set where the first index is the least (and symmetric in
    the others): any other entry is that of its indices with the least moved first.
    """
    for axis in range(1, table.ndim):
        np.minimum(table, table.swapaxes(0, axis), out=table)
    return table


def _entropy(total: np.ndarray, negative: np.ndarray) -> np.ndarray:
    """``t H(q / t)`` per cell: ``t log t - q log q - p log p`` (0 log 0 = 0).
    Differences of counts may be off by rounding: clipped into range first.
    """
    total = np.maximum(total, 0.0)
    negative = np.clip(negative, 0.0, total)
    return xlogy(total, total) - xlogy(negative, negative) - xlogy(total - negative,
                                                                  total - negative)


def _pair_cells(both: np.ndarray, both_negative: np.ndarray, total: float,
                negative: float) -> np.ndarray:
    """Saturated losses of column pairs from their products (weights of the
    rows where both are 1; the diagonal: where one is) and the weights of all
    the rows considered.
    """
    ones, ones_negative = np.diag(both), np.diag(both_negative)
    first_only = ones[:, None] - both
    second_only = ones[None, :] - both
    neither = total - ones[:, None] - ones[None, :] + both
    first_only_negative = ones_negative[:, None] - both_negative
    second_only_negative = ones_negative[None, :] - both_negative
    neither_negative = (negative - ones_negative[:, None] - ones_negative[None, :]
                        + both_negative)
    return (_entropy(both, both_negative) + _entropy(first_only, first_only_negative)
            + _entropy(second_only, second_only_negative)
            + _entropy(neither, neither_negative))


def _triple_table(X: np.ndarray, total: np.ndarray, negative: np.ndarray, deadline: float):
    """The d^3 table of column triples, or None past ``deadline``.

    Triple ``a <= b, c`` splits into the pair cells of ``(b, c)`` among the rows
    where ``a`` is 1 and among those where it is 0 (all rows' products minus
    the first); only the columns from ``a`` on are needed, the rest follows by
    symmetry.
    """
    d = X.shape[1]
    products, negative_products = weighted_products(X, (total, negative))
    all_weight, all_negative = total.sum(), negative.sum()
    table = np.full((d, d, d), np.inf)
    for a in range(d):
        if time.perf_counter() > deadline:
            return None
        rows = np.flatnonzero(X[:, a])
        part = X[np.ix_(rows, np.arange(a, d))]
        weight, weight_negative = total[rows], negative[rows]
        with_a = part.T @ (weight[:, None] * part)
        with_a_negative = part.T @ (weight_negative[:, None] * part)
        a_weight, a_negative = weight.sum(), weight_negative.sum()
        table[a, a:, a:] = (
            _pair_cells(with_a, with_a_negative, a_weight, a_negative)
            + _pair_cells(products[a:, a:] - with_a, negative_products[a:, a:] - with_a_negative,
                          all_weight - a_weight, all_negative - a_negative)
        )
    return _symmetric(table)
