"""Logistic loss oracle over distinct rows.

Rows with the same features are merged: their positive and negative weights are
summed, so every evaluation costs the number of *distinct* rows, not n. With
``w+`` and ``w-`` the (normalised) weights of a distinct row and ``s`` its score,
its loss is ``w+ softplus(-s) + w- softplus(s) = (w+ + w-) softplus(-s) + w- s``.
"""

from __future__ import annotations

import copy

import numpy as np
from scipy import sparse
from scipy.special import expit

__all__ = ["LossOracle", "RowBlocks", "distinct_rows", "refine_patterns", "weighted_products"]

# Integer score ranges up to this width get a lookup table of softplus(-s).
_MAX_TABLE_WIDTH = 200_001
# blocks_by_curvature: each row's curvature counts at least this share of the
# mean, so rows far from the boundary still fill blocks, but few
_BLOCK_CURVATURE_FLOOR = 1e-3
# Rows per block when a pass over many rows builds something (integer keys,
# sparse columns): its temporaries stay small.
BLOCK_ROWS = 65_536
_KEY_WORD_BITS = 62  # digits per int64 key word
# Rows that are all distinct are used as given, not copied, from this many
# entries (500,000 x 60: 0.24 GB less); smaller ones keep their sorted copy.
_SHARED_ROWS_MIN_ENTRIES = 5_000_000
# ... and from this many the rows are not copied transposed either (see
# LossOracle.columns): the solve then adds 1.6 times the rows' memory, not 2.6.
_TRANSPOSED_COPY_MAX_ENTRIES = 5_000_000
# Rows of at least this many entries leave the cache between two LP rounds of
# a search, so that reading less of them pays: scores then read only the used
# columns where they are at most _SPARSE_SCORES_SHARE of all, and sparse rows
# keep their blocks sparse (RowBlocks). Below it neither is faster (binarized
# compas, 466 x 26: 4.4 us a score against 4.6; breastcancer 5.5 against 3.8).
_CACHED_ENTRIES = 100_000
_SPARSE_SCORES_SHARE = 0.5


def _softplus_neg(scores: np.ndarray) -> np.ndarray:
    """log(1 + exp(-s)), stable for any s."""
    return np.logaddexp(0.0, -scores)


class LossOracle:
    """Loss, gradient and batched losses of the RiskSLIM objective's loss term.

    The loss of a score ``s`` is that of the logistic model ``1 / (1 + exp(-s /
    scale))``; ``scale`` is 1 except when a calibrated scale is searched.

    Parameters
    ----------
    X : (n, d) array
    y : (n,) array of -1 / +1
    sample_weight : (n,) array, non-negative with a positive sum
    max_abs_score : float, optional
        Bound on |score| over all admissible integer models; when the features
        are integral and the range is small enough, losses at integer models
        are read from a table instead of computed.
    scale : float, default=1.0
    """

    def __init__(self, X, y, sample_weight, max_abs_score=None, scale=1.0):
        rows, inverse = distinct_rows(X)
        total = float(sample_weight.sum())
        positive = np.bincount(
            inverse, weights=sample_weight * (y > 0), minlength=len(rows)
        )
        negative = np.bincount(
            inverse, weights=sample_weight * (y < 0), minlength=len(rows)
        )
        keep = (positive + negative) > 0
        if not keep.all():  # rows of weight 0 only: else no second copy of the rows
            rows, positive, negative = rows[keep], positive[keep], negative[keep]
        self.X = np.ascontiguousarray(rows, dtype=float)
        self.weight = (positive + negative) / total
        self.negative_weight = negative / total
        self.n_rows = len(self.X)
        self.integral = _all_integers(self.X)
        self.row_facts = _RowFacts()
        self._set_scale(scale, max_abs_score)

    @property
    def columns(self) -> np.ndarray:
        """The rows transposed: a C-contiguous copy, ``columns @ v`` 1.7 times
        as fast as ``X.T @ v`` (500,000 x 60: 8.0 ms against 13.4), below
        ``_TRANSPOSED_COPY_MAX_ENTRIES``; past it the view, whose copy would
        double the rows' memory. Made once and shared by this oracle's copies
        over the same rows (``at_scale``, ``shifted``): the dual and lattice
        bounds and the beam search read it.
        """
        if self.row_facts.columns is None:
            self.row_facts.columns = (np.ascontiguousarray(self.X.T)
                                      if self.X.size < _TRANSPOSED_COPY_MAX_ENTRIES
                                      else self.X.T)
        return self.row_facts.columns

    def at_scale(self, scale: float, max_abs_score=None) -> LossOracle:
        """The same distinct rows with another score scale (no recompression)."""
        oracle = copy.copy(self)
        oracle._set_scale(scale, max_abs_score)
        return oracle

    def projected(self, columns, inverse=None) -> LossOracle:
        """The oracle of models that use only ``columns``: the distinct rows of
        those columns (in that order), their weights merged. A sparse model's
        fit then costs its number of distinct patterns, not rows (mushroom, 5
        one-hot features: 9 instead of 6499).

        ``inverse``, each row's pattern number over ``columns`` (0, 1, ...
        with none skipped; see ``refine_patterns``), saves finding them.
        """
        columns = list(columns)
        if inverse is None:
            rows, inverse = distinct_rows(self.X[:, columns])
        else:
            first = np.empty(int(inverse.max(initial=0)) + 1, dtype=np.int64)
            first[inverse[::-1]] = np.arange(len(inverse) - 1, -1, -1)  # first rows win
            rows = self.X[np.ix_(first, columns)]
        oracle = copy.copy(self)
        oracle.X = rows
        oracle.row_facts = _RowFacts()
        oracle.weight = np.bincount(inverse, weights=self.weight, minlength=len(rows))
        oracle.negative_weight = np.bincount(inverse, weights=self.negative_weight,
                                             minlength=len(rows))
        oracle.n_rows = len(rows)
        return oracle

    def by_score(self, scores: np.ndarray) -> tuple[np.ndarray, LossOracle]:
        """The distinct values of ``scores`` (one per distinct row) and the
        oracle of one row per value, its weights summed: a function of a
        model's score alone (its intercept's fit, a Platt fit) then costs the
        number of distinct scores (mushroom, sparse points: about 30, not 6499
        rows). The returned oracle's ``X`` is the values as one column.
        """
        if scores.dtype.kind in "iu" and 4 * int(np.ptp(scores)) <= self.n_rows:
            low = int(scores.min())
            present = np.bincount(scores - low) > 0
            values = np.flatnonzero(present) + low
            inverse = (np.cumsum(present) - 1)[scores - low]
        else:
            values, inverse = np.unique(scores, return_inverse=True)
        oracle = copy.copy(self)
        oracle.X = values[:, None].astype(float)
        oracle.row_facts = _RowFacts()
        oracle.weight = np.bincount(inverse, weights=self.weight, minlength=len(values))
        oracle.negative_weight = np.bincount(inverse, weights=self.negative_weight,
                                             minlength=len(values))
        oracle.n_rows = len(values)
        return values, oracle

    def shifted(self, shift: float) -> LossOracle:
        """The oracle of ``scores + shift``: integer scores with a real intercept's
        fraction still read their losses from a (shifted) table.
        """
        oracle = copy.copy(self)
        oracle._shift = float(shift)
        if self._table is not None:
            grid = np.arange(-self._offset, self._offset + 1, dtype=float)
            oracle._table = _softplus_neg((grid + shift) / self.scale)
            oracle._chords = None
        return oracle

    @property
    def shift(self) -> float:
        """What every score is moved by before its loss (see ``shifted``); 0.0
        for an oracle of the scores themselves.
        """
        return self._shift

    @property
    def has_table(self) -> bool:
        return self._table is not None

    def _set_scale(self, scale: float, max_abs_score) -> None:
        self.scale = float(scale)
        self._shift = 0.0
        self._table = None
        self._chords = None  # the table's steps, made on first use (softplus_and_chords)
        if self.integral and max_abs_score is not None:
            width = 2 * int(np.ceil(max_abs_score)) + 1
            if width <= _MAX_TABLE_WIDTH:
                self._offset = int(np.ceil(max_abs_score))
                grid = np.arange(-self._offset, self._offset + 1, dtype=float)
                self._table = _softplus_neg(grid / self.scale)

    def scores(self, intercept: float, points: np.ndarray) -> np.ndarray:
        points = np.asarray(points)
        if points.ndim == 1 and _CACHED_ENTRIES <= self.X.size < _TRANSPOSED_COPY_MAX_ENTRIES:
            used = np.flatnonzero(points)
            if _SPARSE_SCORES_SHARE * len(points) >= len(used):
                # from the used columns only, read from the transposed copy:
                # a relaxed node's points use few columns (binarized mushroom,
                # k = 10: 20 of 113), and a cut's scores took 118 us against
                # 290 (20-s profiles)
                return intercept + points[used] @ self.columns[used]
        return intercept + self.X @ points

    def losses(self, scores: np.ndarray, rows=None):
        """Loss of the rows ``rows`` (all by default) at ``scores`` of those rows.

        ``scores`` may be (n_rows,) or (n_rows, n_models): then one loss per model.
        """
        weight = self.weight if rows is None else self.weight[rows]
        negative = self.negative_weight if rows is None else self.negative_weight[rows]
        linear = negative @ scores
        if self._shift:
            linear = linear + self._shift * negative.sum()
        return weight @ self._softplus(scores) + linear / self.scale

    def decreases_by_column(self, columns, scores: np.ndarray, shifts: np.ndarray) -> np.ndarray:
        """``columns @ D`` for a sparse (m, n_rows) matrix ``columns``, where
        ``D[r, i]`` is distinct row r's loss decrease when its score moves from
        ``scores[r]`` by ``shifts[i]``: with 0/1 columns, the objective change
        of moving each column's point by each shift.

        Integer scores read the table; a moved score beyond its range is read
        at the nearest end. Only a move to an inadmissible model takes a row
        there (the table spans every admissible score), and the caller must
        discard those moves anyway. When integer scores take few values (a
        sparse model), the rows' weights are first summed per
        column and score, so the table is read once per score, not per row
        (mushroom: 6499 rows, about 30 scores).
        """
        linear = (columns @ self.negative_weight)[:, None] * shifts[None, :] / self.scale
        if scores.dtype.kind not in "iu" or 4 * int(np.ptp(scores)) > self.n_rows:
            return columns @ (self.weight[:, None] * self._softplus_decreases(scores, shifts)) \
                - linear
        low = int(scores.min())
        present = np.bincount(scores - low) > 0
        values = np.flatnonzero(present) + low
        by_score = self._weight_by_score(columns, (np.cumsum(present) - 1)[scores - low],
                                         len(values))
        return by_score @ self._softplus_decreases(values, shifts) - linear

    def decreases_without(self, columns, scores: np.ndarray, shifts: np.ndarray,
                          reach: int) -> DecreasesWithout | None:
        """``decreases_by_column`` at the scores of models that each drop one
        0/1 feature of up to ``reach`` points from integer ``scores``: the
        weights per column and score are summed once, and each dropped
        feature recounts only the smaller of its rows and the others (a swap
        pass over 10 used features of heloc: one product and ten partial ones
        instead of ten products). None when the scores are not integers, or
        span more values than there are rows.
        """
        if scores.dtype.kind not in "iu":
            return None
        low = int(scores.min()) - reach
        width = int(np.ptp(scores)) + 2 * reach + 1
        if width > self.n_rows:  # (m, width) sums would outgrow the columns themselves
            return None
        return DecreasesWithout(self, columns, scores - low, width,
                                self._softplus_decreases(np.arange(low, low + width), shifts),
                                (columns @ self.negative_weight)[:, None] * shifts[None, :]
                                / self.scale)

    def _weight_by_score(self, columns, positions: np.ndarray, width: int,
                         rows: np.ndarray | None = None) -> np.ndarray:
        """(m, width): for each of the sparse (m, n_rows) ``columns``, the sum of
        ``x * weight`` over the rows (all, or ``rows``) whose score sits at each
        position. One entry per row: sparse, so the product with the sparse
        columns skips the zeros (heloc, 130 columns x 7882 rows: 2.8 ms
        instead of 8.1).
        """
        weight = self.weight if rows is None else self.weight[rows]
        weight_by_score = sparse.csr_matrix(
            (weight, positions, np.arange(len(positions) + 1)),
            shape=(len(positions), width))
        return (columns @ weight_by_score).toarray()

    def _softplus_decreases(self, scores: np.ndarray, shifts: np.ndarray) -> np.ndarray:
        """``softplus(-s) - softplus(-(s + shift))`` (at this oracle's scale and
        shift) for every score and shift: (len(scores), len(shifts)).
        """
        moved = scores[:, None] + shifts[None, :]
        if self._table is not None and moved.dtype.kind in "iu":
            softplus_moved = self._table[np.clip(moved + self._offset, 0, len(self._table) - 1)]
        else:
            softplus_moved = self._softplus(moved)
        return self._softplus(scores)[:, None] - softplus_moved

    def loss_from_scores(self, scores: np.ndarray) -> float:
        return float(self.losses(scores))

    def slopes(self, scores: np.ndarray) -> np.ndarray:
        """Derivative of each distinct row's loss term in its score."""
        scores = scores + self._shift if self._shift else scores
        return (self.negative_weight - self.weight * _sigmoid(-scores / self.scale)) / self.scale

    def curvatures(self, scores: np.ndarray) -> np.ndarray:
        """Second derivative of each distinct row's loss term in its score."""
        scores = scores + self._shift if self._shift else scores
        p = _sigmoid(-scores / self.scale)
        return self.weight * p * (1.0 - p) / self.scale**2

    def newton_intercepts(self, base: np.ndarray, start: np.ndarray, left: np.ndarray,
                          right: np.ndarray) -> np.ndarray:
        """For each row of ``base`` (one vector's scores without intercept over
        these rows, ``(vectors, rows)``), the real intercept where its loss, convex
        in the intercept, is least within the bracket ``[left, right]``:
        safeguarded Newton steps from ``start``, bisecting where a step would
        leave the bracket, all vectors at once.
        """
        intercept = np.asarray(start, dtype=float)
        for _ in range(_NEWTON_STEPS):
            scores = base + intercept[:, None]
            slope = self.slopes(scores).sum(axis=1)
            rising = slope > 0
            right = np.where(rising, intercept, right)
            left = np.where(rising, left, intercept)
            curvature = self.curvatures(scores).sum(axis=1)
            with np.errstate(divide="ignore", invalid="ignore"):
                newton = intercept - slope / curvature
            step = np.where((left < newton) & (newton < right), newton, 0.5 * (left + right))
            settled = ((np.abs(step - intercept) <= 1e-12 * np.maximum(1.0, np.abs(intercept)))
                       | (right - left <= 1e-12))
            intercept = step
            if settled.all():
                break
        return intercept

    def loss(self, intercept: float, points: np.ndarray) -> float:
        return self.loss_from_scores(self.scores(intercept, points))

    def loss_and_gradient(self, intercept: float, points: np.ndarray):
        """Loss and its gradient in (intercept, points) at a real point."""
        scores = self.scores(intercept, points)
        slope = self.slopes(scores)
        return self.loss_from_scores(scores), float(slope.sum()), self.X.T @ slope

    def cut(self, intercept: float, points: np.ndarray, integer_intercept: bool):
        """A loss cut at a (relaxed) point for a search over integer points:
        the lattice cut when the intercept is an integer too and the features
        are integers, else the tangent. Returns (loss, d/d intercept, d/d points).
        """
        if integer_intercept and self.integral:
            return self.lattice_loss_and_gradient(intercept, points)
        return self.loss_and_gradient(intercept, points)

    def lattice_loss_and_gradient(self, intercept: float, points: np.ndarray):
        """A cut that is valid for integer scores only, and stronger there.

        When the features are integers and so are the intercept and points,
        every score is an integer, and each row's loss may be replaced by its
        piecewise-linear interpolation between consecutive integers: it equals
        the loss at every integer score and lies above it in between, and it is
        still convex. Its value and a subgradient at a fractional point give a
        plane that every integer model satisfies, and that sits higher than the
        tangent at the same point by up to ``curvature / 8`` per row
        (``1 / 32`` of a row's weight at score 0 and scale 1). The relaxation's
        optimum lies mostly at fractional scores, so this is where node bounds
        gain. At integral scores it is the tangent. Only for callers whose
        intercept and points are integers, on an ``integral`` oracle.

        Returns the interpolated loss and its gradient in (intercept, points).
        """
        scores = self.scores(intercept, points)
        slope = self.slopes(scores)
        between = self._between_integers(scores)
        if not between.any():
            return self.loss_from_scores(scores), float(slope.sum()), self.X.T @ slope
        interpolated, slope = self._interpolated(scores, slope, between)
        linear = self.negative_weight @ scores
        if self._shift:
            linear = linear + self._shift * self.negative_weight.sum()
        loss = float(self.weight @ interpolated + linear / self.scale)
        return loss, float(slope.sum()), self.X.T @ slope

    def block_cuts(self, intercept: float, points: np.ndarray, integer_intercept: bool,
                   blocks: RowBlocks):
        """``cut`` for each block of rows: the planes of the blocks' own losses
        (the lattice cut's or the tangent's, as ``cut`` chooses), which sum to
        ``cut``'s. Returns (losses, d/d intercept, d/d points), of shapes
        (n_blocks,), (n_blocks,) and (n_blocks, n_features).
        """
        if blocks.n_blocks == 1:  # ``cut`` itself: one product, no per-row sums
            loss, grad_b, grad_l = self.cut(intercept, points, integer_intercept)
            return np.array([loss]), np.array([grad_b]), grad_l[None, :]
        scores = self.scores(intercept, points)
        slope = self.slopes(scores)
        if integer_intercept and self.integral:
            softplus, slope = self._interpolated(scores, slope, self._between_integers(scores))
        else:
            softplus = self._softplus(scores)
        shifted = scores + self._shift if self._shift else scores
        losses = self.weight * softplus + self.negative_weight * shifted / self.scale
        return blocks.sums(losses), blocks.sums(slope), blocks.weighted_sums(slope, self.X)

    def blocks_by_curvature(self, scores: np.ndarray, n_blocks: int) -> RowBlocks:
        """The rows in ``n_blocks`` blocks of about equal loss curvature at
        ``scores``, consecutive in each row's margin (its score, signed by the
        label of most of its weight): rows far from the boundary, whose loss is
        about linear there, share a few blocks, and the rows near it, whose
        slopes the planes of the whole loss average away, are split finely.
        """
        positive = self.weight > 2 * self.negative_weight
        order = np.argsort(np.where(positive, scores, -scores), kind="stable")
        curvature = self.curvatures(scores)[order]
        # a floor, so that blocks of near-zero curvature still end (and equal
        # counts of rows should every curvature underflow)
        mass = curvature + _BLOCK_CURVATURE_FLOOR * curvature.mean() + np.finfo(float).tiny
        before = np.cumsum(mass) - mass
        of_row = np.empty(self.n_rows, dtype=np.int64)
        of_row[order] = np.minimum((n_blocks * before / mass.sum()).astype(np.int64),
                                   n_blocks - 1)
        return RowBlocks(of_row, n_blocks)

    @staticmethod
    def _between_integers(scores: np.ndarray) -> np.ndarray:
        return scores - np.floor(scores) > 1e-9

    def _interpolated(self, scores: np.ndarray, slope: np.ndarray, between: np.ndarray):
        """Each row's softplus part interpolated between the integers around
        its score, and its slope there (the chord between them; ``slope``
        where the score is an integer), for the lattice cut.
        """
        floor = np.floor(scores)
        # from the table when the scores lie within it (adult: a third of a cut)
        below, _, rise = self.softplus_and_chords(floor.astype(np.int64))
        # the linear part (negative rows' score) is already linear in the score
        chord = self.weight * rise + self.negative_weight / self.scale
        return below + (scores - floor) * rise, np.where(between, chord, slope)

    def softplus_and_chords(self, scores: np.ndarray):
        """At integer ``scores``: the softplus part ``f(s)`` and the chords
        ``f(s) - f(s - 1)`` and ``f(s + 1) - f(s)``. From the table, in one
        gather each, when every neighbour lies within it (the lattice bound's
        lines on binarized adult: 17 us against 44 us for three reads);
        else as ``softplus_anywhere`` gives them.
        """
        if self._table is not None and scores.size:
            table = self._table
            index = scores + self._offset
            if index.min() >= 1 and index.max() <= len(table) - 2:
                if self._chords is None:
                    step = np.diff(table)
                    self._chords = (np.concatenate([[np.nan], step]),
                                    np.concatenate([step, [np.nan]]))
                left, right = self._chords
                return table.take(index), left.take(index), right.take(index)
        at = self.softplus_anywhere(scores)
        return at, at - self.softplus_anywhere(scores - 1), self.softplus_anywhere(scores + 1) - at

    def softplus_anywhere(self, scores: np.ndarray) -> np.ndarray:
        """Each row's ``softplus(-s / scale)`` at scores that need not belong
        to an admissible model: read from the table for the integer scores
        within it, computed for the others.
        """
        if self._table is not None and scores.dtype.kind in "iu" and scores.size:
            index = scores + self._offset
            inside = (index >= 0) & (index < len(self._table))
            if inside.all():
                return self._table[index]
            values = np.empty(scores.shape)
            values[inside] = self._table[index[inside]]
            values[~inside] = self._softplus(scores[~inside].astype(float))
            return values
        return self._softplus(scores.astype(float))

    def _softplus(self, scores: np.ndarray) -> np.ndarray:
        """log(1 + exp(-s / scale)), from the table for integer scores."""
        if self._table is not None and scores.dtype.kind in "iu":
            return self._table[scores + self._offset]
        if self._shift:
            scores = scores + self._shift
        return _softplus_neg(scores / self.scale if self.scale != 1.0 else scores)


# RowBlocks keeps a copy of dense rows up to this size (32 MB) in block order
_BLOCK_ORDER_MAX_ENTRIES = 4_000_000
# ... sparse where at most this share of its entries is not zero
_SPARSE_BLOCKS_DENSITY = 0.25


class RowBlocks:
    """A partition of an oracle's distinct rows into blocks, for the planes of
    each block's loss (``LossOracle.block_cuts``).

    Parameters
    ----------
    of_row : ndarray of int, shape (n_rows,)
        Each row's block, in ``0 .. n_blocks - 1``.
    n_blocks : int
    """

    def __init__(self, of_row, n_blocks: int):
        self.of_row = np.asarray(of_row, dtype=np.int64)
        self.n_blocks = int(n_blocks)
        self._membership = None  # for rows too many to copy: see weighted_sums
        self._order = np.argsort(self.of_row, kind="stable")
        self._starts = np.searchsorted(self.of_row[self._order], np.arange(self.n_blocks + 1))
        self._in_order = None  # (X, each block's rows of X): see weighted_sums

    def sums(self, values: np.ndarray) -> np.ndarray:
        """Each block's sum of ``values`` (one per row)."""
        return np.bincount(self.of_row, weights=values, minlength=self.n_blocks)

    def weighted_sums(self, values: np.ndarray, X) -> np.ndarray:
        """Each block's sum of ``values[r] * X[r]``: (n_blocks, n_features),
        in one pass over the rows.
        """
        if isinstance(X, np.ndarray) and X.size <= _BLOCK_ORDER_MAX_ENTRIES:
            # X's rows in block order (a copy, kept): one product per block's
            # contiguous rows, 2.2-2.5 times faster than a sparse membership
            # matrix times X (mushroom, heloc, adult: 96 against 212 us, 132
            # against 275, 45 against 116)
            starts = self._starts
            if self._in_order is None or self._in_order[0] is not X:
                self._in_order = (X, self._blocks_in_order(X))
            blocks, values = self._in_order[1], values[self._order]
            out = np.empty((self.n_blocks, X.shape[1]))
            for i, block in enumerate(blocks):
                part = values[starts[i]:starts[i + 1]]
                out[i] = block @ part if sparse.issparse(block) else part @ block
            return out
        if self._membership is None:
            # one entry per row; its values are set per call
            n_rows = len(self.of_row)
            self._membership = sparse.csr_matrix(
                (np.ones(n_rows), (self.of_row, np.arange(n_rows))),
                shape=(self.n_blocks, n_rows))
        weighted = self._membership.copy()
        weighted.data = values[weighted.indices]
        return np.asarray(weighted @ X)

    def _blocks_in_order(self, X: np.ndarray) -> list:
        """Each block's rows of ``X``; transposed and sparse where X is mostly
        zeros: in a search the rows leave the cache between two rounds, and
        mushroom's sparse blocks (18 % nonzero: 1.6 MB against 5.9) take 200
        us a round against 410 (binarized, k = 10, 20-s profiles).
        """
        ordered = X[self._order]
        bounds = zip(self._starts[:-1], self._starts[1:])
        if (ordered.size >= _CACHED_ENTRIES
                and np.count_nonzero(ordered) <= _SPARSE_BLOCKS_DENSITY * ordered.size):
            return [sparse.csr_matrix(ordered[start:stop].T) for start, stop in bounds]
        return [ordered[start:stop] for start, stop in bounds]


class _RowFacts:
    """What is derived from one oracle's distinct rows, made on first use and
    shared by reference with its copies over the same rows (``at_scale``,
    ``shifted``); an oracle with other rows (``projected``, ``by_score``)
    gets its own.
    """

    def __init__(self):
        self.columns = None  # the rows transposed (LossOracle.columns)
        self.column_facts = None  # _enumerate.column_facts
        self.saturated = {}  # _saturated.SaturatedBound (or None) by largest support
        self.separation = {}  # _separable.SeparationBound (or None) by its problem's key


class DecreasesWithout:
    """``LossOracle.decreases_by_column`` for one feature dropped at a time;
    built by ``LossOracle.decreases_without``.
    """

    def __init__(self, oracle: LossOracle, columns, positions: np.ndarray, width: int,
                 table: np.ndarray, linear: np.ndarray):
        self._oracle = oracle
        self._columns = sparse.csc_matrix(columns)  # rows as its columns: cheap to take
        self._positions = positions
        self._width = width
        self._table = table
        self._linear = linear
        self._all = oracle._weight_by_score(self._columns, positions, width)

    def dropped(self, rows: np.ndarray, points: int) -> np.ndarray:
        """The decreases once the scores of ``rows`` (a 0/1 feature's rows) fall
        by ``points``: those rows' sums move ``points`` positions down.
        """
        n = self._oracle.n_rows
        if 2 * len(rows) <= n:
            moved = self._part(rows)
            kept = self._all - moved
        else:
            others = np.ones(n, dtype=bool)
            others[rows] = False
            kept = self._part(np.flatnonzero(others))
            moved = self._all - kept
        by_score = kept
        if points > 0:
            by_score[:, :-points] += moved[:, points:]
        elif points < 0:
            by_score[:, -points:] += moved[:, :points]
        else:
            by_score += moved
        return by_score @ self._table - self._linear

    def _part(self, rows: np.ndarray) -> np.ndarray:
        return self._oracle._weight_by_score(self._columns[:, rows], self._positions[rows],
                                             self._width, rows)


def distinct_rows(X: np.ndarray):
    """Distinct rows and the index of each row's distinct row.

    Small integer columns are read as the digits of one integer key per row;
    other data hash each row's bytes (``np.unique(axis=0)`` sorts
    lexicographically and is ~8x slower on adult); ``+ 0.0`` turns -0.0 into
    0.0 so equal numbers have equal bytes. Integer keys are built a block of
    rows at a time, without a copy of ``X`` (500,000 rows x 60 columns: 0.6
    GB less at the peak).
    """
    if X.shape[1] == 0:  # every row has the same (empty) pattern
        return np.zeros((1, 0)), np.zeros(X.shape[0], dtype=np.int64)
    X = np.asarray(X, dtype=float)
    keys = _integer_keys(X)
    if keys is None:
        X = np.ascontiguousarray(X) + 0.0
        keys = X.view(np.dtype((np.void, X.dtype.itemsize * X.shape[1]))).ravel()
    _, first, inverse = np.unique(keys, return_index=True, return_inverse=True)
    if len(first) == len(X) and X.size >= _SHARED_ROWS_MIN_ENTRIES and X.flags.c_contiguous:
        # every row distinct: the rows themselves, in their order, not a copy
        # (-0.0 left as it is: it only mattered to the keys)
        return X, np.arange(len(X))
    rows = X[first]
    rows += 0.0
    return rows, inverse.ravel()


def refine_patterns(inverse: np.ndarray, column: np.ndarray) -> np.ndarray:
    """Each row's pattern number over some columns and one more integer
    column, from its number over those columns (``distinct_rows``' inverse):
    a key per row and a count, no sort (a beam grows its supports one
    column at a time). Numbers are 0, 1, ... with none skipped.
    """
    low = int(column.min())
    codes = column.astype(np.int64) - low
    keys = inverse.astype(np.int64) * (int(codes.max()) + 1) + codes
    present = np.bincount(keys) > 0
    # int32: a beam holds one such array per support it keeps (500,000 rows: 2 MB each)
    return (np.cumsum(present, dtype=np.int32) - 1)[keys]


def weighted_products(X: np.ndarray, weights, columns=None) -> np.ndarray:
    """``X' diag(w) X`` over ``columns`` of the rows (all by default), one
    ``(k, k)`` product per weight vector in ``weights``, a block of rows at a
    time: a weighted copy of all the rows is as large as the rows (500,000 x
    60: 0.24 GB).
    """
    k = X.shape[1] if columns is None else len(columns)
    products = np.zeros((len(weights), k, k))
    for start in range(0, len(X), BLOCK_ROWS):
        rows = slice(start, start + BLOCK_ROWS)
        block = (X[rows] if columns is None else X[rows, columns]).astype(float, copy=False)
        for product, weight in zip(products, weights):
            product += block.T @ (weight[rows, None] * block)
    return products


def _all_integers(X: np.ndarray) -> bool:
    """Whether every entry is an integer, a block of rows at a time (no
    rounded copy of ``X``).
    """
    return all(np.array_equal(block, np.round(block))
               for block in (X[start : start + BLOCK_ROWS]
                             for start in range(0, len(X), BLOCK_ROWS)))


def _integer_keys(X: np.ndarray):
    """Each row's integer columns as the digits of exact integer keys, or None
    when a column is not integer or spans more than 2^62 values.

    The columns are packed into 62-bit words: one int64 key per row when they
    fit in one (500,000 rows x 60 binary columns), else one fixed-size key of
    a few words per row (mushroom's 113 binary columns: 2 words, not 904
    bytes to compare).
    """
    n, d = X.shape
    if n == 0 or d == 0 or not _all_integers(X):
        return None
    low, high = X.min(axis=0), X.max(axis=0)
    radix = high - low + 1
    if not np.all(np.isfinite(radix)) or np.any(radix > 2.0**62):
        return None
    bits = np.ceil(np.log2(radix)).astype(int)
    words, current, used = [], [], 0
    for j in range(d):
        if current and used + bits[j] > _KEY_WORD_BITS:
            words.append(current)
            current, used = [], 0
        current.append(j)
        used += bits[j]
    words.append(current)
    radix = radix.astype(np.int64)
    keys = np.empty((n, len(words)), dtype=np.int64)
    for w, columns in enumerate(words):
        # the product of a word's radices is below 2^62: exact in int64
        place = np.cumprod(np.concatenate([[1], radix[columns[:-1]]])).astype(np.int64)
        for start in range(0, n, BLOCK_ROWS):
            block = X[start : start + BLOCK_ROWS, columns] - low[columns]
            keys[start : start + BLOCK_ROWS, w] = block.astype(np.int64) @ place
    if len(words) == 1:
        return keys[:, 0]
    return keys.view(np.dtype((np.void, 8 * len(words)))).ravel()


# Newton on a convex function bracketed to a unit interval: quadratic
# convergence reaches machine precision well within this (LossOracle.newton_intercepts).
_NEWTON_STEPS = 50


def _sigmoid(values: np.ndarray) -> np.ndarray:
    return expit(values)
