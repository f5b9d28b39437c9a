"""Integer heuristics: intercept line search, sequential rounding, polishing.

Every model these functions return has passed :class:`FeasibilityChecker`, so
no heuristic can hand the search a model that breaks a user constraint.
"""

from __future__ import annotations

import copy
import math
import time

import numpy as np
from scipy import sparse

from ._beam import beam_supports
from ._feasibility import FeasibilityChecker
from ._loss import BLOCK_ROWS, LossOracle, weighted_products

__all__ = ["IntegerSearch"]


class IntegerSearch:
    """Local search over integer models of one problem.

    Parameters
    ----------
    oracle : LossOracle
    feasibility : FeasibilityChecker
    c0 : (d,) L0 penalties
    real_intercept : bool, default=False
        Polish with the best real intercept after every move (the problem's
        intercept is real): at a scale above 1 an integer intercept is too
        coarse to rank moves by (adult, 5 features, scale 1.65: it preferred
        points whose loss with their real intercept is 0.04 % worse).
    deadline : float, default=inf
        ``time.perf_counter()`` value past which rounding gives up and
        polishing and perturbing return what they have, so that a search with
        a time limit is not held up by one long heuristic (a rounding of
        adult's 36 columns takes 60 ms).
    """

    def __init__(self, oracle: LossOracle, feasibility: FeasibilityChecker, c0,
                 real_intercept: bool = False, deadline: float = math.inf):
        self.oracle = oracle
        self.feasibility = feasibility
        self.c0 = np.asarray(c0, dtype=float)
        self.real_intercept = real_intercept
        self.deadline = float(deadline)
        X = oracle.X
        # Integer features give integer scores, whose losses come from a table.
        self._score_dtype = np.int64 if oracle.integral else float
        # integer features in the narrowest integer type that holds them, the
        # oracle's own rows otherwise (500,000 rows x 60 0/1 columns: 30 MB
        # instead of a 240 MB int64 copy); products widen to _score_dtype
        self._X = X.astype(_narrowest_integer(X) if oracle.integral else float, copy=False)
        index_dtype = np.int32 if X.shape[0] < 2**31 else np.int64
        self._column_rows = [np.flatnonzero(self._X[:, j]).astype(index_dtype)
                             for j in range(X.shape[1])]
        self._column_values = [self._X[rows, j] for j, rows in enumerate(self._column_rows)]
        self._candidate_values = [
            feasibility.values(j) for j in range(X.shape[1])
        ]
        # Swaps into binary columns are ranked all at once: the gain of adding
        # value v on column k is the sum, over the rows where x_k = 1, of one
        # loss difference per row and v, i.e. one matrix product.
        self._is_binary = np.array([
            rows.size > 0 and bool(np.all(values == 1))
            for rows, values in zip(self._column_rows, self._column_values)], dtype=bool)
        self._binary = np.flatnonzero(self._is_binary)
        # sparse: one-hot columns are mostly zeros (mushroom: 19 % ones); stored
        # by row (CSC of the transpose): its products are 1.6x faster than CSR's
        self._binary_columns = _sparse_by_row(X, self._binary).T
        values = np.unique(np.concatenate([[0], *self._candidate_values]))
        self._values = values.astype(self._score_dtype)
        self._allowed = np.array(
            [np.isin(values, self._candidate_values[k]) for k in self._binary], dtype=bool,
        ).reshape(len(self._binary), len(values))
        span = int(values[-1] - values[0])
        self._shifts = np.arange(-span, span + 1).astype(self._score_dtype)
        self._near = {}  # _near_columns, made on first use; shared by at_scale's copies

    def at_scale(self, oracle: LossOracle, feasibility: FeasibilityChecker) -> IntegerSearch:
        """The same search with another oracle and checker over the same distinct
        rows and point bounds (another score scale), without rebuilding the
        per-column indexes.
        """
        search = copy.copy(self)
        search.oracle, search.feasibility = oracle, feasibility
        return search

    # ------------------------------------------------------------------ basics
    def scores(self, intercept, points) -> np.ndarray:
        points = np.asarray(points, dtype=self._score_dtype)
        used = np.flatnonzero(points)  # sparse models: 50x faster on mushroom
        return intercept + self._X[:, used].astype(self._score_dtype, copy=False) @ points[used]

    def objective(self, intercept, points) -> float:
        loss = self.oracle.loss_from_scores(self.scores(intercept, points))
        return loss + float(self.c0 @ (np.asarray(points) != 0))

    def best_intercept(self, base_scores: np.ndarray, start: float,
                       oracle: LossOracle | None = None) -> tuple[int, float]:
        """The integer intercept minimising the loss of ``base_scores + b``
        (rows of ``oracle``, by default the search's).

        The loss is convex in ``b``: walk downhill from ``start`` with doubling
        steps, then bisect the bracket on the sign of ``f(b + 1) - f(b)``.
        """
        lo, hi = self.feasibility.intercept_lower, self.feasibility.intercept_upper
        loss = (self.oracle if oracle is None else oracle).loss_from_scores
        cache: dict[int, float] = {}

        def f(b: int) -> float:
            if b not in cache:
                cache[b] = loss(base_scores + b)
            return cache[b]

        def rising(b: int) -> bool:  # is f non-decreasing from b to b + 1?
            return b >= hi or f(b + 1) >= f(b)

        # rising() is False...False True...True over [lo, hi] and True at hi:
        # gallop from start to bracket its first True, then bisect.
        b = int(min(max(start, lo), hi))
        step = 1
        if rising(b):
            right, left = b, b - 1
            while left >= lo and rising(left):
                right, step = left, step * 2
                left = b - step
            left = max(left, lo - 1)
        else:
            left, right = b, b + 1
            while right < hi and not rising(right):
                left, step = right, step * 2
                right = b + step
            right = min(right, hi)
        while right - left > 1:
            mid = (left + right) // 2
            if rising(mid):
                right = mid
            else:
                left = mid
        return right, f(right)

    def best_real_intercept(self, base_scores: np.ndarray, start: float) -> tuple[float, float]:
        """The real intercept minimising the loss of ``base_scores + b``, within bounds.

        The best integer intercept ``k`` brackets it in ``[k - 1, k + 1]`` (the
        loss is convex); safeguarded Newton steps on the derivative close the
        bracket to machine precision in a few evaluations. All of it on the
        distinct scores.
        """
        scores, oracle = self.oracle.by_score(base_scores)
        k, _ = self.best_intercept(scores, start, oracle)
        base = scores.astype(float)
        left = max(k - 1.0, self.feasibility.intercept_lower)
        right = min(k + 1.0, self.feasibility.intercept_upper)
        b = float(oracle.newton_intercepts(base[None, :], np.array([float(k)]),
                                           np.array([left]), np.array([right]))[0])
        b = min(max(b, self.feasibility.intercept_lower), self.feasibility.intercept_upper)
        return b, oracle.loss_from_scores(base + b)

    # ---------------------------------------------------------------- rounding
    def sequential_round(self, intercept: float, points: np.ndarray):
        """Round a real model one coordinate at a time, cheapest rounding first.

        Each step rounds, up or down, the fractional point whose rounding raises
        the objective least (intercept held at its real value), evaluated on the
        rows where that feature is non-zero only. Returns ``(intercept, points)``
        as integers, or None when the rounded model breaks a constraint or the
        deadline passes.
        """
        points = np.clip(points, self.feasibility.coef_lower, self.feasibility.coef_upper)
        points = points.astype(float).copy()
        # points of magnitude 1 or more stay non-zero however they round: more
        # of them than the support allows, and no rounding is admissible (a
        # dense LP point of 60 features on 500,000 rows: 0.2-0.9 s saved)
        if np.count_nonzero(np.abs(points) >= 1 - 1e-9) > self.feasibility.max_support:
            return None
        fractional = list(np.flatnonzero(np.abs(points - np.round(points)) > 1e-9))
        scores = intercept + self.oracle.X @ points
        while fractional:
            if self._out_of_time():
                return None
            best_gain, best = -np.inf, None
            for j in fractional:
                options = np.array([np.floor(points[j]), np.ceil(points[j])])
                gain = self._gains(j, points, scores, options)
                k = int(np.argmax(gain))
                if gain[k] > best_gain:
                    best_gain, best = gain[k], (j, options[k])
            j, value = best
            rows = self._column_rows[j]
            scores[rows] += self.oracle.X[rows, j] * (value - points[j])
            points[j] = value
            fractional.remove(j)
        points = points.astype(int)
        b, _ = self.best_intercept(self.scores(0, points), int(round(intercept)))
        if not self.feasibility.is_feasible(points, b):
            return None
        return b, points

    def from_beam(self, max_support: int, n_polish: int = 4, deadline: float = np.inf):
        """Integer models from the continuous beam search: the supports of every
        size rounded; the best ``n_polish`` roundings of the two largest sizes
        polished, then, while ``deadline`` has not passed, every other rounding,
        best first. How well a rounding polishes is hard to foresee: on
        mushroom with 10 features the fourth-best 5-feature support polishes
        to 0.01783, the 9- and 10-feature ones to 0.02045, and the search from
        there stopped at 0.01990 after 300 s. Returns ``(intercept, points)``
        pairs.
        """
        d = self.oracle.X.shape[1]
        rounded, seen, largest = [], set(), 0
        for support, intercept, coefs, _ in beam_supports(
            self.oracle, self.feasibility.coef_lower, self.feasibility.coef_upper, max_support,
            deadline=deadline, levels=None,
        ):
            # Past the deadline only the two largest sizes (those polished first)
            # are rounded: 500,000 rows took 230 ms a rounding, 9 s for all 40
            # supports of 5 features, after the beam's own share of the time.
            if rounded and time.perf_counter() > deadline and len(support) < largest - 1:
                break
            largest = max(largest, len(support))
            real = np.zeros(d)
            real[list(support)] = coefs
            model = self.sequential_round(intercept, real)
            # supports that differ in a feature fitted near 0 often round alike
            if model is not None and (model[0], model[1].tobytes()) not in seen:
                seen.add((model[0], model[1].tobytes()))
                rounded.append((self.objective(*model), len(support), model))
        out = [model for _, _, model in rounded]
        if not rounded:
            return out
        rounded.sort(key=lambda entry: entry[0])
        largest = max(size for _, size, _ in rounded)
        first = [i for i, (_, size, _) in enumerate(rounded) if size >= largest - 1][:n_polish]
        rest = [i for i in range(len(rounded)) if i not in first]
        for position, i in enumerate(first + rest):
            if position >= len(first) and time.perf_counter() > deadline:
                break
            b, points, _ = self.polish(*rounded[i][2])
            out.append((b, points))
        return out

    def perturb(self, intercept: int, points: np.ndarray, rng: np.random.Generator,
                trials: int = 5):
        """Iterated local search: drop one or two random features of the model,
        give a random other feature a random non-zero value, polish; repeat.
        Returns the polished ``(intercept, points)`` of every admissible trial.
        """
        out = []
        for _ in range(trials):
            if self._out_of_time():
                break
            trial = np.asarray(points, dtype=int).copy()
            used = np.flatnonzero(trial)
            if used.size:
                drop = rng.choice(used, size=min(used.size, int(rng.integers(1, 3))),
                                  replace=False)
                trial[drop] = 0
            unused = np.flatnonzero(trial == 0)
            if unused.size:
                j = int(rng.choice(unused))
                values = self._candidate_values[j]
                values = values[values != 0]
                if values.size:
                    trial[j] = int(rng.choice(values))
            if not self.feasibility.is_feasible(trial):
                continue
            b, trial, _ = self.polish(intercept, trial)
            out.append((b, trial))
        return out

    # --------------------------------------------------------------- polishing
    def polish(self, intercept: int, points: np.ndarray, max_moves: int = 1000,
               swaps: bool = True):
        """Discrete coordinate descent over *all* coordinates, feasible moves only.

        Each step takes the best change of one point value; when none improves,
        the best swap (one feature out, another in) is tried, which also moves
        within "exactly k of" groups that single changes cannot leave. The
        intercept is re-optimised after every step. Returns
        ``(intercept, points, objective)``; the intercept is real with
        ``real_intercept``. Past the deadline, the moves made so far.
        """
        points = np.asarray(points, dtype=int).copy()
        base = self.scores(0, points)
        fit = self.best_real_intercept if self.real_intercept else self.best_intercept
        intercept, loss = fit(base, intercept)
        for _ in range(max_moves):
            if self._out_of_time():
                break
            oracle, scores = self._move_scores(base, intercept)
            activity = self.feasibility.activity(points)
            move = self._best_change(points, scores, activity, oracle)
            if move is None and swaps:
                move = self._best_swap(points, scores, activity, oracle)
            if move is None and swaps:
                shifted = self._best_near_move(points, base, intercept, loss)
                if shifted is None:
                    break
                points, base, intercept, loss = shifted
                continue
            if move is None:
                break
            for j, value in move:
                base = base + np.multiply(self._X[:, j], value - points[j],
                                          dtype=self._score_dtype)
                points[j] = value
            intercept, loss = fit(base, intercept)
        return intercept, points, loss + float(self.c0 @ (points != 0))

    def _best_near_move(self, points, base, intercept, loss):
        """The best move of a used 0/1 column's point to a column that splits
        the rows almost alike (a neighbouring threshold of the same variable),
        or to one almost its complement with the opposite sign, each judged
        with its intercept refitted: ``(points, base, intercept, loss)`` if
        one improves the objective, else None.

        Changes and swaps are ranked at the current intercept, but such a move
        shifts most rows' scores alike and needs the intercept to follow
        (heloc binarized, 10 features: moving -2 from ``x > t2`` to ``x > t1``
        lowers the objective from 0.559997 to 0.559905 with the intercept
        refitted, and raises it by 1.3e-4 without).
        """
        fit = self.best_real_intercept if self.real_intercept else self.best_intercept
        near, signs = self._near_columns()
        best_gain, found = _MIN_GAIN, None
        for j in np.flatnonzero(points):
            if not self._is_binary[j]:
                continue
            for k, sign in zip(near[j], signs[j]):
                value = int(sign * points[j])
                if points[k] != 0 or value not in self._candidate_values[k]:
                    continue
                moved = points.copy()
                moved[j], moved[k] = 0, value
                if not self.feasibility.is_feasible(moved):
                    continue
                moved_base = (base - np.multiply(self._X[:, j], points[j], dtype=self._score_dtype)
                              + np.multiply(self._X[:, k], value, dtype=self._score_dtype))
                moved_intercept, moved_loss = fit(moved_base, intercept)
                gain = loss - moved_loss - float(self.c0[k] - self.c0[j])
                if gain > best_gain:
                    best_gain, found = gain, (moved, moved_base, moved_intercept, moved_loss)
        return found

    def _near_columns(self):
        """For each column, the 0/1 columns (at most ``_NEAR_AT_MOST``) whose
        rows differ from its own on at most ``_NEAR_SHARE`` of the weight, or
        agree with it on at most that share (almost its complement), but not
        on none (a duplicate or a complement gives the same model), and the
        sign a point keeps when moved there (1, or -1 to a near complement,
        the intercept taking the difference). Computed once per search.
        """
        if not self._near:
            d = self._X.shape[1]
            near = [np.zeros(0, dtype=int)] * d
            signs = [np.zeros(0, dtype=int)] * d
            columns = self._binary
            if len(columns) > 1:
                weight = self.oracle.weight
                total = float(weight.sum())
                ones = self._binary_columns @ weight
                # the weight of the rows where both are 1 (the sparse
                # product's copies took 0.29 GB on 500,000 rows x 60 columns)
                (both,) = weighted_products(self._X, (weight,), columns)
                differ = (ones[:, None] + ones[None, :] - 2 * both) / max(total, 1e-300)
                distance = np.minimum(differ, 1.0 - differ)
                # a duplicate or a complement (and the column itself) is the
                # same model: no move
                distance[distance <= 1e-12] = np.inf
                for position, j in enumerate(columns):
                    order = np.argsort(distance[position], kind="stable")[:_NEAR_AT_MOST]
                    order = order[distance[position, order] <= _NEAR_SHARE]
                    near[j] = columns[order]
                    signs[j] = np.where(differ[position, order] <= 0.5, 1, -1)
            self._near["columns"] = (near, signs)
        return self._near["columns"]

    def _out_of_time(self) -> bool:
        return time.perf_counter() > self.deadline

    def _move_scores(self, base: np.ndarray, intercept: float):
        """The oracle and scores to rank moves by. A real intercept on integer
        scores is split into a whole part, added to the scores, and a fraction
        the oracle's lookup table is shifted by, so moves are still ranked from
        the table rather than by computing the loss.
        """
        if not (self.real_intercept and base.dtype.kind in "iu" and self.oracle.has_table):
            return self.oracle, base + intercept
        whole = math.floor(intercept)
        return self.oracle.shifted(intercept - whole), base + whole

    def _gains(self, j: int, current_points: np.ndarray, scores: np.ndarray,
               values: np.ndarray, oracle: LossOracle | None = None) -> np.ndarray:
        """Objective decrease when point j moves from its value to each of ``values``."""
        oracle = self.oracle if oracle is None else oracle
        rows = self._column_rows[j]
        current = scores[rows]
        shift = values - current_points[j]
        trial = current[:, None] + self._column_values[j][:, None] * shift[None, :]
        gain = oracle.losses(current, rows) - oracle.losses(trial, rows)
        return gain - self.c0[j] * ((values != 0).astype(float) - (current_points[j] != 0))

    def _best_change(self, points, scores, activity, oracle):
        best_gain, best_move = _MIN_GAIN, None
        for j, rows in enumerate(self._column_rows):
            if self._is_binary[j]:
                continue
            values = self._candidate_values[j]
            values = values[values != points[j]]
            if values.size == 0 or rows.size == 0:
                continue
            values = values[self.feasibility.feasible_moves(points, j, values, activity)]
            if values.size == 0:
                continue
            gain = self._gains(j, points, scores, values, oracle)
            k = int(np.argmax(gain))
            if gain[k] > best_gain:
                best_gain, best_move = gain[k], [(j, int(values[k]))]
        move = self._best_binary_move(points, scores, activity, oracle, best_gain)
        if move is not None:
            best_move = [move[1]]
        return best_move

    def _best_swap(self, points, scores, activity, oracle):
        checker = self.feasibility
        best_gain, best_move = _MIN_GAIN, None
        used = np.flatnonzero(points)
        decreases = None
        if self._binary_columns.nnz >= _RECOUNT_NNZ and np.all(self._is_binary[used]):
            decreases = oracle.decreases_without(self._binary_columns, scores, self._shifts,
                                                 int(np.abs(points[used]).max(initial=0)))
        for j in used:
            without = points.copy()
            without[j] = 0
            # the cost of dropping j
            removal = -self._gains(j, points, scores, np.array([0]), oracle)[0]
            scores_without = scores - np.multiply(self._X[:, j], points[j],
                                                  dtype=self._score_dtype)
            activity_without = (
                activity - checker.points_matrix[:, j] * points[j] - checker.used_matrix[:, j]
            )
            for k in np.flatnonzero((points == 0) & ~self._is_binary):
                if self._column_rows[k].size == 0:
                    continue
                values = self._candidate_values[k]
                values = values[values != 0]
                if values.size == 0:
                    continue
                values = values[checker.feasible_moves(without, k, values, activity_without)]
                if values.size == 0:
                    continue
                gain = self._gains(k, without, scores_without, values, oracle) - removal
                best = int(np.argmax(gain))
                if gain[best] > best_gain:
                    best_gain, best_move = gain[best], [(j, 0), (k, int(values[best]))]
            # into the columns unused before the swap (re-adding j would be a
            # change move, or a no-op that rounding can make look like a gain)
            move = self._best_binary_move(
                without, scores_without, activity_without, oracle, best_gain + removal,
                frozen=points != 0,
                by_shift=None if decreases is None else decreases.dropped(
                    self._column_rows[j], int(points[j])))
            if move is not None:
                best_gain, best_move = move[0] - removal, [(j, 0), move[1]]
        return best_move

    def _best_binary_move(self, points, scores, activity, oracle, threshold, frozen=None,
                          by_shift=None):
        """The admissible change of one binary column's point with the largest
        objective decrease above ``threshold``, columns where the mask
        ``frozen`` is True left out: ``(gain, (column, value))``, or None. The
        decrease of every (column, value) comes from one product of the binary
        columns with the rows' loss differences.
        """
        if self._binary.size == 0:
            return None
        # (binary columns, shifts)
        if by_shift is None:  # else given: the decreases at these scores
            by_shift = oracle.decreases_by_column(self._binary_columns, scores, self._shifts)
        current = points[self._binary]
        shift_index = self._values[None, :] - current[:, None] - self._shifts[0]
        gains = np.take_along_axis(by_shift, shift_index.astype(np.intp), axis=1)
        gains -= self.c0[self._binary][:, None] * (
            (self._values != 0)[None, :].astype(float) - (current != 0)[:, None])
        checker = self.feasibility
        # support limits for all moves at once (a full support rules out every
        # new column: mushroom's scan checked 70 moves one by one per call)
        gains[~self._allowed | (self._values[None, :] == current[:, None])
              | ~checker.support_allows(points, current[:, None], self._values)] = -np.inf
        if frozen is not None:
            gains[frozen[self._binary]] = -np.inf
        for flat in np.argsort(-gains, axis=None, kind="stable"):
            position, i = divmod(int(flat), len(self._values))
            if not gains[position, i] > threshold:
                return None
            k, value = int(self._binary[position]), int(self._values[i])
            if not checker.has_constraints or checker.feasible_moves(
                    points, k, np.array([value]), activity)[0]:
                return float(gains[position, i]), (k, value)
        return None


# A swap pass recounts each dropped feature's rows (LossOracle.decreases_without)
# only over this many non-zeros of the binary columns: below, one product per
# dropped feature costs less than recounting's fixed costs (unbounded scan,
# 10 features: heloc, 512,000 non-zeros, 2.6 s -> 1.6 s; mushroom, 130,000,
# 1.4 s -> 1.8 s; compas, 5,600, 0.52 s -> 0.63 s).
_RECOUNT_NNZ = 250_000


def _sparse_by_row(X: np.ndarray, columns: np.ndarray) -> sparse.csr_matrix:
    """``csr_matrix(X[:, columns])``, built a block of rows at a time: no
    dense copy of the columns, nor a coordinate list of all their non-zeros
    (500,000 rows x 60 columns: 0.4 GB less at the peak).
    """
    blocks = [sparse.csr_matrix(X[start:start + BLOCK_ROWS, columns])
              for start in range(0, X.shape[0], BLOCK_ROWS)]
    if not blocks:
        return sparse.csr_matrix((0, len(columns)))
    return sparse.vstack(blocks, format="csr")


def _narrowest_integer(X: np.ndarray):
    """The smallest signed integer type holding every value of integral ``X``."""
    low, high = X.min(initial=0), X.max(initial=0)
    for dtype in (np.int8, np.int16, np.int32):
        if np.iinfo(dtype).min <= low and high <= np.iinfo(dtype).max:
            return dtype
    return np.int64


# Moves must improve the objective by more than rounding noise.
_MIN_GAIN = 1e-12
# A used 0/1 column's point may move, intercept refitted, to each of its this
# many nearest 0/1 columns that differ from it (or from its complement) on at
# most this share of the rows' weight (IntegerSearch._best_near_move).
_NEAR_AT_MOST = 4
_NEAR_SHARE = 0.12
