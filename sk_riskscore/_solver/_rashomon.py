"""Every admissible model within epsilon of the optimum: the Rashomon set.

A branch-and-bound over the same LP relaxation as the optimiser
(:class:`RelaxationLP` with tangent-plane cuts of the loss), but it prunes a
node only when its proven bound exceeds ``(1 + epsilon)`` times the best
objective known, and it never stops at a node because the node's best model is
in hand: it branches on the points until each box holds at most a few dozen
points vectors, and then evaluates every one of them exactly. A model is a
points vector; its intercept is always its best one (the loss is minimised over
the intercept), which is why the tree never branches on the intercept: the
LP's bound over a node, with the intercept free within its proven range, bounds
every points vector in the node at its best intercept.

Why the answer is complete when the tree is exhausted: the thresholds used to
prune only ever decrease (the best known objective only improves), and each
pruned node's bound exceeded the threshold in force then, so it exceeds the
final one; every other node ended in an exact evaluation of all its points
vectors. The final set is filtered by objectives recomputed from the raw rows.
"""

from __future__ import annotations

import dataclasses
import logging
import time
from dataclasses import dataclass

import numpy as np
from threadpoolctl import threadpool_limits

from ._branch_and_bound import _BLOCK_CUT_MAX_IDLE, cut_blocks, row_blocks_at
from ._enumerate import box_candidates, count_models, fit_intercepts
from ._feasibility import FeasibilityChecker
from ._heuristics import IntegerSearch
from ._loss import LossOracle
from ._lp import LPInfeasible, RelaxationLP
from ._problem import RiskScoreProblem, max_abs_score, root_box
from ._result import Progress, ScoreModel, SolverError, SolverStatus, relative_gap
from ._saturated import BUILD_SHARE, ScreenSchedule, saturated_bound, valuing_deadlines
from ._scan import _platt_fit
from ._solve import solve

__all__ = ["Calibration", "RashomonResult", "RashomonStatistics", "enumerate_rashomon"]

logger = logging.getLogger(__name__)

# A box with at most this many admissible points vectors is evaluated model by
# model instead of bounded by an LP.
_EVALUATE_AT_MOST = 48
# A box that allows at most this many of the saturated bound's listed supports
# within the threshold is split by them (see BranchAndBound._by_support).
_SUPPORT_PARTS_AT_MOST = 4096
# Pruning keeps models up to this relative slack above the threshold (LP bounds
# and merged-row losses are exact to ~1e-9 only); the final filter is exact.
_SLACK = 1e-7
_ROOT_CUT_ROUNDS = 2000
_ROOT_CUT_TOLERANCE = 1e-7
_NODE_CUT_ROUNDS = 6
_NODE_CUT_TOLERANCE = 1e-3
_STALL_ROUNDS = 25
_STALL_FRACTION = 1e-2
_PURGE_EVERY = 20
_CUT_MAX_IDLE = 200
_PROGRESS_INTERVAL = 0.5
_FIX_BY_REDUCED_COST = True
# Share of the time limit, at most, for finding and certifying the optimum
# before the enumeration starts.
_OPTIMUM_SHARE = 0.5


@dataclass(frozen=True)
class RashomonStatistics:
    """How an enumeration went.

    ``time_to_optimum`` is the time of the optimiser's run that starts it,
    ``n_nodes`` and ``n_lp_solves`` count the enumeration tree only, and
    ``n_evaluated`` the points vectors whose loss was computed exactly.
    """

    time: float = 0.0
    time_to_optimum: float = 0.0
    n_nodes: int = 0
    n_lp_solves: int = 0
    n_cuts: int = 0
    n_evaluated: int = 0
    n_pruned: int = 0


@dataclass(frozen=True)
class Calibration:
    """A model's own best risk mapping ``1 / (1 + exp(-(score + intercept) /
    scale))`` with its points fixed (a Platt fit), and its objective there.
    """

    scale: float
    intercept: float
    objective: float


@dataclass(frozen=True)
class RashomonResult:
    """The models within ``(1 + epsilon) * optimum``, best first.

    ``models`` hold objectives recomputed from the raw rows; ``optimum`` is the
    best of them, ``threshold`` is ``(1 + epsilon) * optimum``. ``complete``:
    the tree was exhausted, so no admissible model with objective at most
    ``threshold`` is missing. ``truncated``: more than ``max_models`` models
    lie within the threshold; then ``models`` are the best ``max_models``
    found, and if the tree was still exhausted, ``complete_below`` is the
    objective below which they are provably every model (else NaN).
    ``lower_bound`` is a proven bound on every admissible model (the optimum
    itself once the search is complete). With a real intercept (a fitted score
    scale), ``calibrations`` give each model's own best scale and intercept:
    membership is decided at the problem's scale, the same for all.
    """

    models: tuple[ScoreModel, ...]
    optimum: float
    threshold: float
    epsilon: float
    lower_bound: float
    complete: bool
    truncated: bool
    complete_below: float
    status: SolverStatus
    statistics: RashomonStatistics
    score_scale: float = 1.0
    message: str = ""
    calibrations: tuple[Calibration, ...] = ()  # one per model, for real intercepts

    # what progress displays read, as for a SolverResult
    @property
    def objective(self) -> float:
        return self.optimum

    @property
    def gap(self) -> float:
        return relative_gap(self.optimum, self.lower_bound)


@dataclass
class _Box:
    lower: np.ndarray  # over [b, l_1..l_d, z_1..z_d]
    upper: np.ndarray
    bound: float


class _Stop(Exception):
    def __init__(self, status: SolverStatus, message: str):
        super().__init__(message)
        self.status, self.message = status, message


def enumerate_rashomon(
    problem: RiskScoreProblem,
    *,
    epsilon: float,
    max_models: int = 10_000,
    time_limit: float = 60.0,
    max_nodes: int | None = None,
    backend: str = "cbc",
    progress=None,
    initial_models=(),
    random_state=None,
) -> RashomonResult:
    """Every admissible model of ``problem`` whose objective (at its best
    intercept) is at most ``(1 + epsilon)`` times the optimum.

    First the optimiser (:func:`solve`, at most half the time limit) finds and
    usually certifies the optimum, starting from ``initial_models`` (pairs
    ``(intercept, points)``); then the enumeration tree runs with what is left.
    ``max_nodes`` limits the enumeration tree. ``progress`` is called with
    :class:`Progress` snapshots, as during a solve.
    """
    if not epsilon >= 0:
        raise ValueError(f"epsilon must be non-negative, got {epsilon!r}")
    if max_models < 1:
        raise ValueError(f"max_models must be at least 1, got {max_models!r}")

    start = time.perf_counter()
    # one compression of the rows (and one saturated bound) for both searches
    rows = LossOracle(problem.X, problem.y, problem.sample_weight, max_abs_score(problem),
                      scale=problem.score_scale)
    with threadpool_limits(limits=1, user_api="blas"):
        _value_supports_first(problem, rows, float(epsilon), initial_models,
                              start + time_limit)
    first = solve(problem, backend=backend, time_limit=_OPTIMUM_SHARE * time_limit,
                  progress=progress, initial_models=initial_models,
                  random_state=random_state, pool_size=max(10, min(max_models, 100)),
                  rows=rows)
    time_to_optimum = time.perf_counter() - start
    if first.status == SolverStatus.ERROR:
        raise SolverError(f"finding the optimum failed: {first.message}")
    if first.model is None:
        complete = first.status == SolverStatus.INFEASIBLE
        return RashomonResult((), np.inf, np.inf, float(epsilon), first.lower_bound,
                              complete, False, np.inf if complete else np.nan, first.status,
                              RashomonStatistics(time_to_optimum, time_to_optimum),
                              problem.score_scale, first.message)
    tree = _Enumeration(problem, rows, epsilon=float(epsilon), max_models=int(max_models),
                        deadline=start + time_limit, max_nodes=max_nodes, backend=backend,
                        progress=progress, start=start, lower_bound=first.lower_bound)
    with threadpool_limits(limits=1, user_api="blas"):
        try:
            tree.run((first.model, *first.pool))
        finally:
            tree.close()
    return tree.result(problem, time_to_optimum, first.lower_bound)


def _value_supports_first(problem: RiskScoreProblem, rows: LossOracle, epsilon: float,
                          starts, end: float) -> None:
    """Value the supports that the saturated bound lists for the root box (none
    built for the rows) under ``(1 + epsilon)`` times a first model's
    objective, with the shares of the whole time left: the solve for the
    optimum and the enumeration after it then both read them
    (``SaturatedBound.at_box`` keeps them for the scale). Within the solve's
    half of the time, the list's share was too short (breastcancer binarized,
    k = 10: about 20 s to value 184,096 supports, against 15 s). The first
    model is the best of ``starts`` polished, or the empty model polished.
    """
    feasibility = FeasibilityChecker(problem)
    now = time.perf_counter()
    bound = saturated_bound(rows, feasibility.max_support,
                            now + BUILD_SHARE * max(end - now, 0.0))
    if bound is None or bound.supports is not None:
        return  # no list, or one built for the rows: each search values it itself
    search = IntegerSearch(rows, feasibility, problem.c0,
                           real_intercept=not problem.integer_intercept, deadline=end)
    best = np.inf
    for intercept, points in (*starts, (0, np.zeros(problem.n_features, dtype=int))):
        points = np.asarray(points, dtype=int)
        if feasibility.is_feasible(points):
            best = min(best, search.polish(int(round(intercept)), points)[2])
    if not np.isfinite(best):
        return
    # above the enumeration's limit, (1 + epsilon) times the optimum and a slack
    threshold = best * (1.0 + epsilon) * (1.0 + 2 * _SLACK) + 1e-12
    now = time.perf_counter()
    bound.at_box(rows, *root_box(problem), threshold,
                 *valuing_deadlines(now, max(end - now, 0.0)))


class _Enumeration:
    """The enumeration tree; see the module docstring."""

    def __init__(self, problem, rows: LossOracle, *, epsilon, max_models, deadline, max_nodes,
                 backend, progress, start, lower_bound):
        self.problem = problem
        self.epsilon = epsilon
        self.max_models = max_models
        self.deadline = deadline
        self.max_nodes = max_nodes
        self.progress = progress
        self.start = start
        self.proven_bound = lower_bound
        self.d = problem.n_features
        self.real_intercept = not problem.integer_intercept
        self.oracle = rows
        self.unit_oracle = self.oracle.at_scale(1.0)
        self.feasibility = FeasibilityChecker(problem)
        self.search = IntegerSearch(self.oracle, self.feasibility, problem.c0,
                                    real_intercept=self.real_intercept)
        self.lp = RelaxationLP(problem, backend, cut_blocks(self.real_intercept, rows.n_rows))
        self._blocks = None  # made at the first cut, from the best model known (_row_blocks)
        now = time.perf_counter()
        self.saturated = saturated_bound(self.oracle, self.feasibility.max_support,
                                         now + BUILD_SHARE * max(deadline - now, 0.0))
        self._saturated_spent = self.saturated.seconds if self.saturated is not None else 0.0
        self._screens = ScreenSchedule()
        self.models: dict[tuple, ScoreModel] = {}
        self.best = np.inf
        self.threshold = np.inf
        self.truncated = False
        self.status = SolverStatus.OPTIMAL
        self.message = ""
        self.n_nodes = self.n_evaluated = self.n_pruned = 0
        self._last_progress = 0.0
        self._n_open = 0

    def close(self):
        self.lp.close()

    # ------------------------------------------------------------------ models
    def _keep(self, model: ScoreModel) -> None:
        if model.objective < self.best:
            self.best = model.objective
            self._set_threshold((1.0 + self.epsilon) * self.best)
        if model.objective <= self._limit():
            self.models[tuple(model.points.tolist())] = model
            if len(self.models) > self.max_models:
                self._truncate()

    def _limit(self) -> float:
        return self.threshold * (1.0 + _SLACK)

    def _set_threshold(self, threshold: float) -> None:
        if threshold >= self.threshold:
            return
        self.threshold = threshold
        self.lp.set_cutoff(self._limit())
        self.models = {k: m for k, m in self.models.items() if m.objective <= self._limit()}

    def _truncate(self) -> None:
        """Keep the ``max_models`` best: the threshold drops below the next one."""
        self.truncated = True
        objectives = np.sort([m.objective for m in self.models.values()])
        cut = objectives[self.max_models]
        self.threshold = cut * (1.0 - 2 * _SLACK)
        self.lp.set_cutoff(self._limit())
        self.models = {k: m for k, m in self.models.items() if m.objective < cut}

    def _evaluate(self, candidates: np.ndarray, start_intercept: float = 0.0) -> None:
        """Exact objectives of integer points vectors (rows), each at its best intercept."""
        if len(candidates) == 0:
            return
        self.n_evaluated += len(candidates)
        penalties = (candidates != 0) @ self.problem.c0
        if self.real_intercept:
            for points, penalty in zip(candidates, penalties):
                intercept, loss = self.search.best_real_intercept(
                    self.search.scores(0, points), start_intercept)
                self._keep(ScoreModel(points, float(intercept), loss + penalty, loss))
            return
        intercepts, losses = fit_intercepts(self.oracle, candidates,
                                            self.feasibility.intercept_lower,
                                            self.feasibility.intercept_upper)
        objectives = losses + penalties
        for points, intercept, loss, objective in zip(candidates, intercepts, losses,
                                                      objectives):
            if objective <= self._limit():
                self._keep(ScoreModel(points.copy(), int(intercept), float(objective),
                                      float(loss)))

    # -------------------------------------------------------------------- tree
    def run(self, starts) -> None:
        for model in starts:
            if self.feasibility.is_feasible(model.points):
                self._evaluate(np.asarray(model.points, dtype=np.int64)[None, :],
                               model.intercept)
        lower, upper = root_box(self.problem)
        self.lp.set_cutoff(self._limit())
        stack = [_Box(lower, upper, -np.inf)] if self._propagate(lower, upper) else []
        if self.saturated is not None and stack:
            # the supports under the threshold at their relaxed losses, for this box
            now = time.perf_counter()
            self.saturated = self.saturated.at_box(
                self.oracle, lower, upper, np.nextafter(self._limit(), np.inf),
                *valuing_deadlines(now, max(self.deadline - now, 0.0)))
        root = True
        try:
            while stack:
                self._n_open = len(stack)
                self._check_limits()
                box = stack.pop()
                if box.bound > self._limit():
                    self.n_pruned += 1
                    continue
                stack.extend(reversed(self._process(box, root)))
                root = False
        except _Stop as stop:
            self.status, self.message = stop.status, stop.message
        self._report(force=True)

    def _check_limits(self) -> None:
        self._report()
        if time.perf_counter() >= self.deadline:
            raise _Stop(SolverStatus.TIME_LIMIT, "time limit reached")
        if self.max_nodes is not None and self.n_nodes >= self.max_nodes:
            raise _Stop(SolverStatus.NODE_LIMIT, "node limit reached")

    def _process(self, box: _Box, root: bool) -> list[_Box]:
        """Evaluate a small box outright, else bound it and return its children."""
        self.n_nodes += 1
        if (self.saturated is not None and self._screens.due(self.n_nodes)
                and not self._screened(box)):
            self.n_pruned += 1
            return []
        parts = self._by_support(box)
        if parts is not None:
            return parts
        if not root and self._small(box):
            self._evaluate(self._candidates(box))
            return []
        solution = self._bound(box, root)
        if solution is None:
            self.n_pruned += 1
            return []
        if _FIX_BY_REDUCED_COST:
            self._fix_by_reduced_cost(box, solution)
            if not self._propagate(box.lower, box.upper):
                return []
            if self._small(box):
                self._evaluate(self._candidates(box))
                return []
        return self._branch(box, solution)

    def _screened(self, box: _Box) -> bool:
        """Raise the box's bound to its saturated bound and leave out the free
        features that no model within the threshold uses (see ``_saturated``);
        False if that prunes the box. Records whether it paid (``ScreenSchedule``).
        """
        threshold = np.nextafter(self._limit(), np.inf)  # models at the limit are kept
        bound, left_out, _ = self.saturated.screen(box.lower, box.upper, self.problem.c0,
                                                   threshold, time.perf_counter() - self.start,
                                                   self._saturated_spent)
        self._screens.record(self.n_nodes, left_out or bound > box.bound)
        box.bound = max(box.bound, bound)
        if box.bound >= threshold:
            return False
        return not left_out or self._propagate(box.lower, box.upper)

    def _by_support(self, box: _Box) -> list[_Box] | None:
        """Split a box by the listed supports it allows within the threshold,
        as the tree does (``BranchAndBound._by_support``): the parts may
        overlap, and a model found twice is kept once.
        """
        split = self.saturated.split(box.lower, box.upper,
                                     np.nextafter(self._limit(), np.inf),
                                     _SUPPORT_PARTS_AT_MOST) if self.saturated else None
        if split is None:
            return None
        parts, _ = split  # what no part holds is beyond the limit: not enumerated
        return [_Box(lower, upper, max(box.bound, value))
                for lower, upper, value in parts if self._propagate(lower, upper)]

    def _fix_by_reduced_cost(self, box: _Box, solution) -> None:
        """Shrink the points' ranges by the LP's (safe) reduced costs: moving a
        point ``t`` units off the bound it sits at raises the bound by at least
        ``t`` times its reduced cost, so past ``room / cost`` units no model
        stays under the threshold.
        """
        room = self._limit() - solution.bound
        if not np.isfinite(room) or room < 0:
            return
        d = self.d
        values = solution.points
        cost = solution.reduced_costs[1 : 1 + d]
        lower, upper = box.lower[1 : 1 + d], box.upper[1 : 1 + d]
        at_lower = (values <= lower + 1e-9) & (cost > 1e-9)
        at_upper = (values >= upper - 1e-9) & (cost < -1e-9)
        with np.errstate(divide="ignore"):
            reach_up = np.floor(room / np.where(at_lower, cost, np.inf) + 1e-9)
            reach_down = np.floor(room / np.where(at_upper, -cost, np.inf) + 1e-9)
        upper[at_lower] = np.minimum(upper[at_lower], lower[at_lower] + reach_up[at_lower])
        lower[at_upper] = np.maximum(lower[at_upper], upper[at_upper] - reach_down[at_upper])

    def _bound(self, box: _Box, root: bool):
        """The node's LP bound after rounds of loss cuts; None if it is pruned."""
        self.lp.set_bounds(box.lower, box.upper)
        rounds = _ROOT_CUT_ROUNDS if root else _NODE_CUT_ROUNDS
        tolerance = _ROOT_CUT_TOLERANCE if root else _NODE_CUT_TOLERANCE
        history = []
        for round_ in range(rounds + 1):
            if root and time.perf_counter() >= self.deadline:
                raise _Stop(SolverStatus.TIME_LIMIT, "time limit reached")
            try:
                solution = self.lp.solve()
            except LPInfeasible:
                if self._holds_known_model(box):  # an engine fault: no silent prune
                    raise _Stop(SolverStatus.ERROR, f"the {self.lp.backend!r} LP engine "
                                "called a box infeasible that holds a known model") from None
                return None
            box.bound = max(box.bound, solution.bound)
            if box.bound > self._limit():
                return None
            history.append(box.bound)
            if root and self.lp.n_blocks > 1:
                self.lp.purge_cuts(solution, _BLOCK_CUT_MAX_IDLE)  # as the tree's root does
            cuts = self.oracle.block_cuts(solution.intercept, solution.points,
                                          not self.real_intercept, self._row_blocks())
            loss = float(cuts[0].sum())
            violation = loss - solution.theta
            stalled = (len(history) > _STALL_ROUNDS and history[-1] - history[-1 - _STALL_ROUNDS]
                       < _STALL_FRACTION * (self.threshold - history[-1]))
            if round_ == rounds or violation <= tolerance * max(loss, 1e-12) or stalled:
                break
            self.lp.add_block_cuts(cuts, solution)
        if self.n_nodes % _PURGE_EVERY == 0:
            # With blocks a round adds up to a cut per block, so idle ones go
            # sooner; at every node, as in the tree, the purges cost the small
            # nodes here more than they saved (breastcancer k = 10: 58,000
            # nodes in 70 s against 72,800 purging every 20 nodes).
            self.lp.purge_cuts(solution, _BLOCK_CUT_MAX_IDLE if self.lp.n_blocks > 1
                               else _CUT_MAX_IDLE)
        return solution

    def _row_blocks(self):
        """The blocks of rows the LP cuts apart, by the loss's curvature at the
        best model known (``row_blocks_at``), made once.
        """
        if self._blocks is None:
            best = min(self.models.values(), key=lambda model: model.objective, default=None)
            self._blocks = row_blocks_at(self.oracle, best, self.lp.n_blocks)
        return self._blocks

    def _holds_known_model(self, box: _Box) -> bool:
        d = self.d
        for points in self.models:
            points = np.asarray(points)
            used = points != 0
            if (np.all(points >= box.lower[1 : 1 + d]) and np.all(points <= box.upper[1 : 1 + d])
                    and np.all(used >= box.lower[1 + d :]) and np.all(used <= box.upper[1 + d :])):
                return True
        return False

    def _branch(self, box: _Box, solution) -> list[_Box]:
        """Children, the one nearest the LP point first (it is explored first).

        A feature whose support is open splits three ways (``l_j = 0``,
        ``l_j >= 1``, ``l_j <= -1``), the one with the largest ``|l_j|`` first;
        once every support is decided, a point value splits at the LP's value:
        floor / ceil if fractional, else that value alone and either side, so
        that every child moves the LP or is a smaller box to evaluate.
        """
        d = self.d
        low, high = box.lower[1 : 1 + d], box.upper[1 : 1 + d]
        points = solution.points
        open_ = low < high
        weight = np.minimum(np.abs(points), 1.0)
        open_support = open_ & (low <= 0) & (high >= 0) & (box.lower[1 + d :] < 0.5)
        children: list[tuple[float, np.ndarray, np.ndarray]] = []
        if open_support.any():
            j = int(np.argmax(np.where(open_support, weight + 1e-9, -1.0)))
            k, value = 1 + j, points[j]
            children.append((abs(value), *self._restrict(box, k, 0.0, 0.0)))
            if high[j] >= 1:
                children.append((1.0 - value, *self._restrict(box, k, 1.0, high[j], j)))
            if low[j] <= -1:
                children.append((1.0 + value, *self._restrict(box, k, low[j], -1.0, j)))
        else:
            if not open_.any():  # a single points vector: evaluate it
                self._evaluate(self._candidates(box), solution.intercept)
                return []
            fraction = np.abs(points - np.round(points))
            width = high - low
            j = int(np.argmax(np.where(open_, fraction + 1e-3 * width, -1.0)))
            k = 1 + j
            value = min(max(points[j], low[j]), high[j])
            if fraction[j] > 1e-6:
                down, up = np.floor(value), np.ceil(value)
                children.append((value - down, *self._restrict(box, k, low[j], down)))
                children.append((up - value, *self._restrict(box, k, up, high[j])))
            else:
                v = float(np.round(value))
                children.append((0.0, *self._restrict(box, k, v, v)))
                if v > low[j]:
                    children.append((1.0, *self._restrict(box, k, low[j], v - 1)))
                if v < high[j]:
                    children.append((1.0, *self._restrict(box, k, v + 1, high[j])))
        children.sort(key=lambda child: child[0])
        return [_Box(lo, hi, box.bound) for _, lo, hi in children
                if self._propagate(lo, hi)]

    def _restrict(self, box: _Box, k: int, lo: float, hi: float, used: int | None = None):
        lower, upper = box.lower.copy(), box.upper.copy()
        lower[k], upper[k] = lo, hi
        if used is not None:
            lower[1 + self.d + used] = 1.0
        return lower, upper

    def _propagate(self, lower: np.ndarray, upper: np.ndarray) -> bool:
        """Make the bounds of l and z agree; False if no model is left."""
        d = self.d
        ll, ul = lower[1 : 1 + d], upper[1 : 1 + d]
        lz, uz = lower[1 + d :], upper[1 + d :]
        off = uz < 0.5
        ll[off] = np.maximum(ll[off], 0.0)
        ul[off] = np.minimum(ul[off], 0.0)
        lz[(ll > 0) | (ul < 0)] = 1.0
        uz[(ll == 0) & (ul == 0)] = 0.0
        return not (np.any(ll > ul) or np.any(lz > uz)
                    or lz.sum() > self.feasibility.max_support
                    or uz.sum() < self.feasibility.min_support)

    def _small(self, box: _Box) -> bool:
        return count_models(box.lower, box.upper, self.d, self.feasibility) <= _EVALUATE_AT_MOST

    def _candidates(self, box: _Box) -> np.ndarray:
        return box_candidates(box.lower, box.upper, self.d, self.feasibility)

    # --------------------------------------------------------------- reporting
    def _report(self, force: bool = False) -> None:
        if self.progress is None:
            return
        now = time.perf_counter() - self.start
        if not force and now - self._last_progress < _PROGRESS_INTERVAL:
            return
        self._last_progress = now
        self.progress(Progress(now, self.best, self.proven_bound,
                               relative_gap(self.best, self.proven_bound), self.n_nodes,
                               self._n_open, self.lp.n_cuts))

    def result(self, problem, time_to_optimum: float, lower_bound: float) -> RashomonResult:
        exhausted = self.status == SolverStatus.OPTIMAL
        found = list(self.models.values())
        objectives = _raw_objectives(problem, np.array([m.points for m in found]),
                                     np.array([float(m.intercept) for m in found]))
        models = [
            dataclasses.replace(model, objective=float(objective),
                                loss=float(objective - problem.c0 @ (model.points != 0)))
            for model, objective in zip(found, objectives)
        ]
        # ties (e.g. complementary thresholds of a binarizer) by support and points,
        # whatever the last bits of their sums
        models.sort(key=lambda m: (float(f"{m.objective:.12g}"), m.support,
                                   tuple(m.points.tolist())))
        optimum = models[0].objective if models else np.inf
        threshold = (1.0 + self.epsilon) * optimum
        complete_below = np.nan
        if self.truncated:
            # the search's threshold, measured on merged rows, is exact to ~1e-12
            complete_below = self.threshold * (1.0 - _SLACK) if exhausted else np.nan
            models = [m for m in models if m.objective <= threshold]
        else:
            models = [m for m in models if m.objective <= threshold]
            if exhausted:
                complete_below = threshold
        complete = exhausted and not self.truncated
        # exhausted, the tree proves no model beats the best found
        bound = optimum if exhausted else min(lower_bound, optimum)
        if self.truncated and self.status == SolverStatus.OPTIMAL:
            message = (f"more than {self.max_models} models within epsilon: the best "
                       f"{len(models)} are kept")
        else:
            message = self.message
        statistics = RashomonStatistics(
            time=time.perf_counter() - self.start,
            time_to_optimum=time_to_optimum,
            n_nodes=self.n_nodes,
            n_lp_solves=self.lp.n_solves,
            n_cuts=self.lp.n_cuts_added,
            n_evaluated=self.n_evaluated,
            n_pruned=self.n_pruned,
        )
        calibrations = (tuple(self._calibration(problem, m) for m in models)
                        if self.real_intercept else ())
        return RashomonResult(tuple(models), optimum, threshold, self.epsilon, bound,
                              complete, self.truncated, complete_below, self.status,
                              statistics, problem.score_scale, message, calibrations)

    def _calibration(self, problem: RiskScoreProblem, model: ScoreModel) -> Calibration:
        """The Platt fit of the model's points (its scale and intercept kept if
        the fit gives no positive scale).
        """
        scale, intercept = problem.score_scale, float(model.intercept)
        fit = _platt_fit(self.unit_oracle, self.unit_oracle.X @ model.points.astype(float),
                         (1.0 / scale, intercept / scale))
        if fit is None or fit[2] + model.objective - model.loss > model.objective:
            # no positive scale, or the fit stopped short of the shared scale's fit
            return Calibration(float(scale), intercept, float(model.objective))
        # the fit's loss is on the merged rows: exact to the last bits
        return Calibration(1.0 / fit[0], fit[1] / fit[0], fit[2] + model.objective - model.loss)


def _raw_objectives(problem: RiskScoreProblem, points: np.ndarray, intercepts: np.ndarray,
                    chunk: int = 256) -> np.ndarray:
    """:meth:`RiskScoreProblem.objective` of many models at once, from the raw rows."""
    objectives = np.empty(len(points))
    weight = problem.sample_weight / problem.sample_weight.sum()
    for start in range(0, len(points), chunk):
        block = points[start : start + chunk].astype(float)
        scores = problem.X @ block.T + intercepts[None, start : start + chunk]
        margins = problem.y[:, None] * scores / problem.score_scale
        objectives[start : start + chunk] = (weight @ np.logaddexp(0.0, -margins)
                                             + (block != 0) @ problem.c0)
    return objectives
