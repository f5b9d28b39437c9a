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

For ``k <= 3`` the value of every support fits in a ``d^k`` table, built with
two products of the rows per column: the cells of three columns come, by
inclusion-exclusion, from the weights of the rows where the first is 1 and of
all rows. A node's bound is then the least entry over the supports that hold
its used features and otherwise only free ones, and a free feature whose every
such support stays above the incumbent can be left out at once (safe
screening). The LP relaxation's L1 ball nearly separates the data at the root;
this bound sees the disjunction "``l_j = 0`` or ``|l_j| >= 1``" exactly
(heloc binarized, k = 3: 0.5893 at the root against the LP's 0.544, for an
optimum of 0.5924).
"""

from __future__ import annotations

import collections
import time

import numpy as np
from scipy.special import xlogy

from ._enumerate import column_facts
from ._loss import LossOracle

__all__ = ["SaturatedBound"]

# Supports up to this size get a table (d^3 entries for three).
MAX_SUPPORT = 3
# ... of at most this many entries (64 MB), and at most this many rows x
# entries to fill (heloc binarized, k = 3: 1.7e10, about 1 s; 500,000 rows x
# 60 columns: 1.1e11, not built).
_MAX_ENTRIES = 8_000_000
_MAX_TABLE_WORK = 50_000_000_000
# The counts' differences carry rounding of about 1e-16 of the total weight;
# the cells' entropies move by less than 1e-14. Every entry is lowered by this
# much (relative) so that the bound stays a bound.
_MARGIN = 1e-9
# With more features allowed, a node with at most two slots left is bounded
# from the cells of its used features, one product of the rows per cell: only
# on rows x features^2 up to this (heloc binarized: 1.3e8, 20-40 ms per set of
# used features) ...
_MAX_PAIR_WORK = 200_000_000
# ... and one with three slots left on rows x features^3 up to this
# (breastcancer binarized: 1.8e7; adult: 3.5e8, about 30 ms; heloc: 1.7e10, not).
_MAX_TRIPLE_WORK = 1_000_000_000
# The values for the last sets of used features are kept, up to this many entries.
_CACHED_ENTRIES = 8_000_000


class SaturatedBound:
    """The least saturated loss over the supports a node allows.

    Built by :meth:`build`, or None there when it does not apply (columns
    that are not all 0/1, or a table that would pass its deadline). With at
    most ``MAX_SUPPORT`` features allowed, every support's value is in one
    table; with more, a node is bounded once it has at most two or three slots
    left (as the data's size allows), from the cells of its used features
    (made once per set of used features).

    Parameters
    ----------
    oracle : LossOracle
        Its rows, all 0/1.
    max_support : int
    table : ndarray of shape (d,) * max_support, optional
        Symmetric: entry ``(a, b, c)`` is the saturated loss of the columns
        ``{a, b, c}`` (repeated indices: the smaller support), lowered by the
        rounding margin.
    completion_slots : int
        Without a table: a node is bounded once it has at most this many
        slots left (2 or 3).
    """

    def __init__(self, oracle: LossOracle, max_support: int, table: np.ndarray | None = None,
                 completion_slots: int = 0):
        self.oracle = oracle
        self.max_support = max_support
        self.table = table
        self.completion_slots = completion_slots
        self.n_features = oracle.X.shape[1]
        self._by_used: collections.OrderedDict = collections.OrderedDict()
        self._cached_entries = 0

    @classmethod
    def build(cls, oracle: LossOracle, max_support: int, deadline: float = np.inf):
        """The bound for at most ``max_support`` features, or None (see above)."""
        X = oracle.X
        n, d = X.shape
        if max_support < 1 or d == 0:
            return None
        tabled = (max_support <= MAX_SUPPORT and d**max_support <= _MAX_ENTRIES
                  and n * d**max_support <= _MAX_TABLE_WORK)
        if tabled:
            slots = max_support
        elif d**3 <= _MAX_ENTRIES and n * d**3 <= _MAX_TRIPLE_WORK:
            slots = 3
        elif n * d * d <= _MAX_PAIR_WORK:
            slots = 2
        else:
            return None
        # the sizes first: the check of the values reads all of them
        if not np.all(column_facts(oracle).binary):
            return None
        if not tabled:
            return cls(oracle, max_support, completion_slots=slots)
        table = _saturated_values(X, oracle.weight, oracle.negative_weight, max_support,
                                  deadline)
        return None if table is None else cls(oracle, max_support, _lowered(table))

    def node_bound(self, used: np.ndarray, free: np.ndarray):
        """The least saturated loss over the supports that hold every ``used``
        feature and otherwise ``free`` ones only, and, per free feature, the
        least over those that also hold it (inf where a feature is not free,
        -inf where nothing is known). Both exclude the ``c0`` terms.
        """
        used_index = np.flatnonzero(used)
        slots = self.max_support - len(used_index)
        if slots < 0:
            return np.inf, np.full(self.n_features, np.inf)
        if self.table is not None:
            view = self.table[tuple(used_index)]
        elif slots <= self.completion_slots:
            view = self._completions(used_index, slots)
        else:
            return -np.inf, np.where(free, -np.inf, np.inf)
        best_with = np.full(self.n_features, np.inf)
        if slots == 0:
            return float(view), best_with
        allowed = np.flatnonzero(used | free)
        if len(allowed) == 0:
            return np.inf, best_with
        if len(allowed) < self.n_features:
            view = view[np.ix_(*([allowed] * slots))]
        # the view is symmetric: the least over all but the first axis is per feature
        least = view.min(axis=tuple(range(1, slots))) if slots > 1 else view
        best_with[allowed] = least
        best_with[~free] = np.inf
        return float(least.min()), best_with

    def _completions(self, used_index: np.ndarray, slots: int):
        """The saturated loss of ``used_index`` plus every ``slots`` (<= 3)
        columns, indexed like the table: summed over the cells of the used
        columns' values, each cell's rows giving their own table.
        """
        key = (tuple(used_index), slots)
        if key in self._by_used:
            self._by_used.move_to_end(key)
            return self._by_used[key]
        X, total, negative = self.oracle.X, self.oracle.weight, self.oracle.negative_weight
        cells = X[:, used_index] @ (1 << np.arange(len(used_index)))
        values = 0.0
        for cell in np.unique(cells):
            rows = np.flatnonzero(cells == cell)
            values = values + _saturated_values(X[rows], total[rows], negative[rows], slots)
        values = _lowered(np.asarray(values))
        self._by_used[key] = values
        self._cached_entries += values.size
        while self._cached_entries > _CACHED_ENTRIES and len(self._by_used) > 1:
            self._cached_entries -= self._by_used.popitem(last=False)[1].size
        return values


def _lowered(values):
    return values - _MARGIN * (1.0 + np.abs(values))


def _saturated_values(X: np.ndarray, total: np.ndarray, negative: np.ndarray, slots: int,
                      deadline: float = np.inf):
    """The saturated loss over these rows of every ``slots`` (<= 3) columns,
    as a symmetric ``(d,) * slots`` array; None past ``deadline`` (three slots).
    """
    if slots == 0:
        return _entropy(total.sum(), negative.sum())
    if slots == 1:
        ones, ones_negative = total @ X, negative @ X
        return (_entropy(ones, ones_negative)
                + _entropy(total.sum() - ones, negative.sum() - ones_negative))
    if slots == 2:
        return _pair_cells(X.T @ (total[:, None] * X), X.T @ (negative[:, None] * X),
                           total.sum(), negative.sum())
    return _triple_table(X, total, negative, deadline)


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
    products = X.T @ (total[:, None] * X)
    negative_products = X.T @ (negative[:, None] * X)
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
    # entry (a, b, c) is set where a is the least index: the others by symmetry
    for axes in ((1, 0, 2), (2, 1, 0)):
        np.minimum(table, table.transpose(axes), out=table)
    return table
