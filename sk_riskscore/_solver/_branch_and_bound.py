"""Branch-and-bound of our own over python-mip LP relaxations with loss cuts.

Why not CBC's own tree with lazy constraints: on 10 random small problems
checked by enumeration, python-mip's CBC lazy-callback tree marked a wrong
model optimal in 10 of 10 (4 of 10 with cut generators too), and one run
aborted the process (double free). Here the engine only
solves LPs; this module owns branching, pruning, cuts and incumbents, and the
lower bound it reports is the minimum LP bound over the open and pruned nodes.

Variables are laid out as ``[b, l_1..l_d, z_1..z_d]`` in every bound array.
"""

from __future__ import annotations

import collections
import contextlib
import heapq
import itertools
import logging
import signal
import threading
import time
import warnings
from dataclasses import dataclass

import numpy as np
from scipy import sparse
from threadpoolctl import threadpool_limits

from ._admissible import find_admissible_model
from ._dual import DualBound, root_point
from ._enumerate import (
    box_candidates,
    column_facts,
    count_models,
    fit_intercepts,
    fit_real_intercepts,
    intercept_range,
    last_slot_models,
)
from ._feasibility import FeasibilityChecker
from ._heuristics import IntegerSearch
from ._lattice import LatticeBound
from ._loss import LossOracle, RowBlocks
from ._lp import BACKENDS, LPInfeasible, LPSolution, RelaxationLP
from ._parallel import Explore, Report, WorkerFailure, WorkerPool, effective_n_jobs
from ._problem import (
    RiskScoreProblem,
    intercept_bound,
    largest_score,
    max_abs_score,
    root_box,
)
from ._result import (
    Progress,
    ScoreModel,
    SolverError,
    SolverResult,
    SolverStatistics,
    SolverStatus,
    relative_gap,
)
from ._saturated import (
    BUILD_SHARE,
    SaturatedBound,
    ScreenSchedule,
    saturated_bound,
    valuing_deadlines,
)
from ._separable import nonseparable_loss, separation_bound

__all__ = ["BranchAndBound", "serve_worker"]

logger = logging.getLogger(__name__)

_INTEGRALITY = 1e-6
# A cut is added at a fractional LP point only when it moves theta by this much
# relative to the loss; at integer points every violation is cut.
_NODE_CUT_TOLERANCE = 1e-4
_NODE_CUT_ROUNDS = 4
# ... and up to _NODE_CUT_MAX_ROUNDS while the bound, rising at the pace of the
# last _CLOSING_WINDOW rounds, would reach the prune threshold within them.
# Many open nodes are a few dozen rounds from being pruned (adult k=5 after
# 30 s: of the 15 lowest, 6 crossed the incumbent after 19-92 rounds), and a
# node branched instead leaves children at its weak bound. Uniformly 50
# rounds lost (adult k=5: 159 nodes in 30 s instead of 3,013); this rule
# certified compas k=7 in 26.6 s where 4 rounds left a 0.12 % gap at 30 s, and
# left adult, heloc, breastcancer and mushroom within noise.
_NODE_CUT_MAX_ROUNDS = 40
_CLOSING_WINDOW = 2
_ROOT_CUT_TOLERANCE = 1e-7
_ROOT_CUT_ROUNDS = 2000
_PROGRESS_INTERVAL = 0.5
_PURGE_EVERY = 10
_PLUNGE_FRACTION = 0.5
_BEAM_SHARE = 0.25  # of the time limit, at most, for the first incumbent's beam search
_FIRST_INCUMBENT_SHARE = 0.3  # of the time limit, at most, for polishing the empty model
_LARGE_ENTRIES = 5_000_000  # ... on data this large (distinct rows x features)
_HEURISTIC_SHARE = 0.05  # of the time limit, at most, per rounding and polishing there
# With few features the tree finds good incumbents within a fraction of a second
# and the beam's fixed cost dominates (breastcancer: 0.43 s without, 0.63 s with).
_BEAM_MIN_FEATURES = 15
# Node heuristics run every _HEURISTIC_EVERY nodes; each call that finds no
# better model doubles the interval (up to _HEURISTIC_MAX_EVERY), a success
# resets it. Counted in nodes, not seconds, so a solve is reproducible.
_HEURISTIC_EVERY = 10
_HEURISTIC_MAX_EVERY = 320
_STALL_ROUNDS = 25
_STALL_FRACTION = 1e-2



_CUT_MAX_IDLE = 100
# Each LP round cuts the loss of each of this many blocks of rows, split where
# the incumbent's loss curves (LossOracle.blocks_by_curvature): a plane of the
# whole loss at a point averages the rows' slopes away, the blocks' planes keep
# them apart. Binarized mushroom, k = 10, 60 s: gap 17 % against 36 %; compas
# k = 10 certified in 16 s against 27 s (RESULTS "bench_certify block cuts").
# Eight blocks took mushroom to 14 % but adult's gaps further back (k = 7:
# 1.4 % against 0.5 %); blocks at random were no better than none. A round adds up
# to this many cuts, and an LP re-solve costs about in proportion to its cuts:
# with blocks, cuts idle for _BLOCK_CUT_MAX_IDLE solves go at every node and
# every round of the root (its rounds run to hundreds: with eight blocks and
# no purge there, heloc k = 7 made 4 nodes/s against 26), and a node makes
# _NODE_BLOCK_ROUNDS rounds before the closing rule
# (adult k = 7 / 10 and mushroom k = 10: gaps 1.08 / 1.47 / 20.7 % against
# 1.17 / 1.61 / 21.2 % with four).
_CUT_BLOCKS = 4
_BLOCK_CUT_MAX_IDLE = 20
_NODE_BLOCK_ROUNDS = 2


def cut_blocks(real_intercept: bool, n_rows: int) -> int:
    """Blocks of rows the LP cuts apart, in the tree and in the Rashomon
    enumeration: one with a real intercept (a fitted scale), where blocks were
    slower (compas and mammo k = 10 certified in 40 s and 25 s against 21 s and 21 s).
    """
    return 1 if real_intercept else min(_CUT_BLOCKS, n_rows)


def row_blocks_at(oracle: LossOracle, model, n_blocks: int) -> RowBlocks:
    """The blocks of rows the LP cuts apart, by the loss's curvature at
    ``model``'s scores (zero scores without a model), in the tree (at its
    incumbent) and in the Rashomon enumeration (at its best card).
    """
    scores = (oracle.scores(model.intercept, np.asarray(model.points, dtype=float))
              if model is not None else np.zeros(oracle.n_rows))
    return oracle.blocks_by_curvature(scores, n_blocks)


# The root's LP-free dual bound (accelerated gradient steps on the relaxation,
# bounded by tangent planes, see _dual): up to this share of the time limit,
# in rounds of _ROOT_DUAL_STEPS steps while a round still lifts it by
# _ROOT_DUAL_PROGRESS (relative). With many rows the LP's cut loop climbs
# slowly (adult k=5: bound ~0 after 2 s of cuts on a loaded machine, 0.342
# after 1,585 rounds) while the dual reaches 0.33 in 300 steps. Measured as a
# pre-check at every node it did not pay: from the parent's point it never
# rose above the parent's bound (3 prunes in 600 nodes), so nodes keep the LP.
_ROOT_DUAL_SHARE = 0.1
_ROOT_DUAL_STEPS = 50
_ROOT_DUAL_ROUNDS = 20
_ROOT_DUAL_PROGRESS = 1e-4
# ... only on data this large (distinct rows x features): below it the LP's
# cut rounds are cheap and reach the same bound.
_ROOT_DUAL_MIN_ENTRIES = 100_000
# With an integer intercept and integer columns, on data this large (distinct
# rows x features) nodes are first bounded by lines under the loss between
# integer scores (see _lattice), which sees that the scores are integers where
# the LP's cuts climb too slowly to (500,000 rows x 60 columns, k = 5: root
# 0.32260 in 3 s against the LP's 0.31776 after 9 s, optimum 0.32271; binarized
# adult, k = 10: a 1.7 % gap after 60 s instead of 4.3 %, heloc 2.8 % instead
# of 4.4 %); at most this many L-BFGS-B steps per smoothing width at the root
# and at a node.
_LATTICE_MIN_ENTRIES = 100_000
# Where it neither prunes nor comes within this share of the best of the
# node's other bounds and the LP's, it is sought at nodes ever further apart,
# at most this many (see _lattice_paid). Its warm-started value at a child
# often equals the parent's, which came from it (500,000 rows).
_LATTICE_SLACK = 1e-3
_LATTICE_MAX_EVERY = 64
_LATTICE_ROOT_STEPS = 100
_LATTICE_NODE_STEPS = 30
# Where a better model must separate the classes (its loss is under that of
# one row at margin 0), the least penalty of a separating support is sought
# for up to this share of the time limit (mushroom binarized, fitted scale,
# k = 7: 4 s to prove that seven points are needed, where the tree's bound
# stayed at 4 % of the objective after 60 s).
_SEPARATION_SHARE = 0.25
# The root's cut loop stops after this share of the time limit (it also stops
# when stalled): 500,000 rows spent the whole limit there, leaving no tree.
_ROOT_TIME_SHARE = 0.8
# A node with at most this many admissible points vectors is closed by
# evaluating all of them (each at its best integer intercept in the node's
# range) instead of by LPs and branching: once a node's support is decided,
# its LP bound stays far under its integer optimum (breastcancer binarized,
# k=5: open nodes with all five features fixed at 0.082 against 0.104), and
# the tree then branched on point values node by node. Measured at 200, 1,000
# and 4,096 (30 s): 200-1,000 certified compas k=5 in 13-20 s instead of 15.5 s
# and left breastcancer k=5's gap at 0.21; 4,096 spent half the time building
# candidates and lost on both.
_ENUMERATE_AT_MOST = 256
# ... and on large data where the lattice bound applies (an LP node costs
# seconds: a pass over the rows per cut), at most this many: their fits run on
# the rows' few patterns over the columns they use (500,000 rows, a decided
# support of 5: 32 patterns, 3,125 points vectors).
_ENUMERATE_LARGE_AT_MOST = 20_000
# A node with at most one support slot left is closed exactly when that takes
# at most this many array entries (see last_slot_models). At 30 s: 20 million
# let compas k=5 spend 30 ms a node there (certified in 28 s instead of 13 s);
# 2 million certified it in 11 s and left heloc k=3 at a 6.0 % gap (7.4 % with
# 500,000; 7.7 % without).
_LAST_SLOT_AT_MOST = 2_000_000
# A node splits into one child per listed support it allows when there are at
# most this many (see _by_support).
_SUPPORT_CHILDREN_AT_MOST = 4096
# On several cores the workers search in rounds of this share of the time
# limit (within the two ends): a report, new nodes for idle workers and the
# bound's update come between rounds. A worker gives at most _GIVE_AT_MOST
# nodes a round to an idle one.
_ROUND_SHARE = 0.01
_ROUND_MIN = 0.1
_ROUND_MAX = 1.0
_ROUND_GRACE = 60.0  # seconds past a round's end before a silent worker counts as failed
_GIVE_AT_MOST = 64
# Tests set this to make the coordinator wait for its workers instead of going
# on alone while they start, so that small problems reach the rounds.
_WAIT_FOR_WORKERS = False
_WORKER_MODULE = "sk_riskscore._solver._worker"  # its main() serves


@dataclass(frozen=True)
class _Complements:
    """Columns whose negative points need another column in the model (see
    ``BranchAndBound._complement_pairs``): ``flipped[i]`` needs ``other[i]``;
    ``grouped[i]`` needs one of the columns in row i of ``required``.
    """

    flipped: np.ndarray
    other: np.ndarray
    grouped: np.ndarray
    required: sparse.csr_matrix


@dataclass
class _Node:
    lower: np.ndarray
    upper: np.ndarray
    bound: float
    depth: int
    # the parent's point of the lattice bound ([b, l]): its warm start
    start: np.ndarray | None = None


class _Frontier:
    """Open nodes by bound, and the least bound of the regions closed so far."""

    def __init__(self):
        self._heap: list[tuple[float, int, _Node]] = []
        self._counter = itertools.count()
        self.closed = np.inf

    def __len__(self) -> int:
        return len(self._heap)

    def push(self, node: _Node) -> None:
        heapq.heappush(self._heap, (node.bound, next(self._counter), node))

    def push_all(self, nodes) -> None:
        for node in nodes:
            self.push(node)

    def pop_open(self, threshold: float) -> _Node | None:
        """The best node whose bound is under ``threshold`` (those at or above
        it are closed on the way), or None when none is left.
        """
        while self._heap:
            _, _, node = heapq.heappop(self._heap)
            if node.bound < threshold:
                return node
            self.close(node.bound)
        return None

    def close(self, bound: float) -> None:
        self.closed = min(self.closed, bound)

    def best_open(self) -> float:
        return self._heap[0][0] if self._heap else np.inf

    def bound(self) -> float:
        return min(self.closed, self.best_open())

    def take(self, count: int) -> list[_Node]:
        """Remove up to ``count`` open nodes for another worker: all of them,
        or every other one in order of bound, so that both sides keep good ones.
        """
        ordered = sorted(self._heap)
        if count >= len(ordered):
            given, kept = ordered, []
        else:
            given = ordered[1::2][:count]
            chosen = {entry[1] for entry in given}
            kept = [entry for entry in ordered if entry[1] not in chosen]
        self._heap = kept  # sorted, so a heap
        return [entry[2] for entry in given]


class BranchAndBound:
    """Certifiably optimal RiskSLIM models by LP-based branch-and-bound.

    Parameters
    ----------
    problem : RiskScoreProblem
    backend : {"cbc", "highs"}
        python-mip engine for the LPs; the other one takes over, with a warning
        logged, if it fails.
    time_limit : float, seconds
    gap_tolerance : float
        Stop once ``(objective - lower_bound) / objective`` is at most this.
    pool_size : int
        How many of the best distinct models to keep.
    progress : callable, optional
        Called with a :class:`Progress` about every half second.
    max_nodes : int, optional
    random_state : int, numpy Generator or None
        Seeds the random perturbations of the local search.
    initial_models : sequence of (intercept, points), optional
        Models to start from (e.g. the answer at a neighbouring scale); each is
        polished and offered, and kept only if admissible.
    rows : LossOracle, optional
        The problem's rows already compressed (at any scale), so that a search
        over many scales compresses them once.
    n_jobs : int or None, default=None
        Processes for the tree search, by scikit-learn's convention (None: one,
        -1: every core). The root and the first incumbents are found here; the
        open nodes then go to the workers (see ``_parallel``), each with its
        own LP, which search in rounds and get the best model found between
        rounds. Workers start only when the root leaves the tree open, and
        take about half a second to start.
    cutoff : float, default=inf
        Only models with an objective below this are sought: nodes whose bound
        reaches it are pruned even while the incumbent is worse. A search over
        several problems that wants the least objective among them (the scale
        search: each scale is one problem) passes the best objective found so
        far, so that a scale with nothing better ends early. Lower bounds stay
        valid for this problem; a search exhausted at the cutoff ends with
        status ``CUTOFF`` and the cutoff as its bound.
    """

    def __init__(
        self,
        problem: RiskScoreProblem,
        *,
        backend: str = "cbc",
        time_limit: float = 60.0,
        gap_tolerance: float = 1e-4,
        pool_size: int = 10,
        progress=None,
        max_nodes: int | None = None,
        random_state=None,
        initial_models=(),
        rows: LossOracle | None = None,
        n_jobs: int | None = None,
        cutoff: float = np.inf,
    ):
        self.problem = problem
        self.backend = backend
        self.time_limit = float(time_limit)
        self.gap_tolerance = float(gap_tolerance)
        self.pool_size = int(pool_size)
        self.progress = progress
        self.max_nodes = max_nodes
        self.random_state = random_state
        self.initial_models = tuple(initial_models)
        self.rows = rows
        self.n_jobs = n_jobs
        self.cutoff = float(cutoff)
        self._listed_supports = None  # a worker's: the coordinator's list of supports

    # ------------------------------------------------------------------ public
    def solve(self) -> SolverResult:
        # The search is sequential and its matrix products are small, so BLAS
        # threads only add synchronisation; on a loaded machine (GridSearchCV
        # n_jobs, other jobs) their spinning slowed mushroom from 62 s to over
        # 150 s. One thread for the whole solve.
        self.lp = None
        with threadpool_limits(limits=1, user_api="blas"), _interrupt_guard() as interrupted:
            self._interrupted = interrupted
            try:
                return self._solve()
            finally:
                if self.lp is not None:
                    self.lp.close()

    def _solve(self) -> SolverResult:
        self._start = time.perf_counter()
        self._prepare()
        status, lower_bound, message = self._run()
        return self._result(status, lower_bound, message)

    def _prepare(self) -> None:
        """The search's state: rows, checks, heuristics, the LP and counters."""
        problem = self.problem
        self.d = problem.n_features
        largest = largest_score(problem.X, problem.coef_lower, problem.coef_upper,
                                problem.max_support)
        max_abs = max_abs_score(problem, largest)
        if self.rows is None:
            self.oracle = LossOracle(problem.X, problem.y, problem.sample_weight, max_abs,
                                     scale=problem.score_scale)
        else:
            self.oracle = self.rows.at_scale(problem.score_scale, max_abs)
        self.feasibility = FeasibilityChecker(problem)
        self._twins = self._twin_pairs()
        self._complements = self._complement_pairs(largest)
        self.real_intercept = not problem.integer_intercept
        self.search = IntegerSearch(self.oracle, self.feasibility, problem.c0,
                                    real_intercept=self.real_intercept,
                                    deadline=self._start + self.time_limit)
        self.lp = RelaxationLP(problem, self.backend,
                               cut_blocks(self.real_intercept, self.oracle.n_rows))
        self._blocks = None  # RowBlocks, made at the first cut (_row_blocks)
        self.dual = DualBound(self.oracle, problem)
        entries = self.oracle.n_rows * self.d
        self.lattice = (LatticeBound(self.dual)
                        if LatticeBound.applies(self.oracle, not self.real_intercept)
                        and entries >= _LATTICE_MIN_ENTRIES else None)
        # large data with the lattice bound: an LP round costs a pass over the rows
        self._lattice_large = self.lattice is not None and entries >= _LARGE_ENTRIES
        self.saturated = None  # built once a first incumbent is in hand: _build_saturated
        self._saturated_spent = 0.0
        self.root_dual_bound = -np.inf
        # The separation bound (see _separable): sought by the coordinator once
        # an incumbent is better than every model that does not separate.
        self._separation = -np.inf
        # a bound for every model, beside the tree's (see _lattice_bounded)
        self._root_floor = -np.inf
        self._nonseparable = nonseparable_loss(self.oracle.weight, self.oracle.negative_weight)
        self._worker = False
        self.incumbent: ScoreModel | None = None
        self.lp.set_cutoff(self._lp_cutoff())
        self.pool: dict[tuple, ScoreModel] = {}
        self.n_nodes = 0
        self.n_incumbent_updates = 0
        self.fallbacks = 0
        self.time_to_first = float("nan")
        self._heuristic_every = _HEURISTIC_EVERY
        self._next_heuristic_node = _HEURISTIC_EVERY
        self._lattice_every = 1
        self._next_lattice_node = 0
        self._screens = ScreenSchedule()
        self.rng = np.random.default_rng(self.random_state)
        self._last_progress = 0.0
        self._bound_trace: list[tuple[float, float]] = []  # (elapsed, proven bound)
        self._workers_used = 1
        self._worker_counts = (0, 0, 0)  # LP nodes, solves and cuts, as workers reported
        self._lost_regions = 0  # workers lost with their part of the tree (_lose_worker)
        # Reduced-cost fixing, safe screening and the split by listed supports
        # leave out parts of nodes that cannot beat the prune threshold; no
        # closed node records them, so the least of their bounds is kept here.
        self._left_out_at = np.inf

    # ---------------------------------------------------------------- the tree
    def _run(self):
        lower, upper = root_box(self.problem)
        if not self._propagate(lower, upper):
            return SolverStatus.INFEASIBLE, np.inf, "the constraints admit no model"
        if not self._initial_incumbent():
            return SolverStatus.INFEASIBLE, np.inf, "the constraints admit no model"
        # the first incumbent is reported before the saturated bound is built
        # (heloc, k = 5: its list of supports takes 6 s)
        self._maybe_report(-np.inf, 0, now=True)
        self._build_saturated((lower, upper))
        n_workers = effective_n_jobs(self.n_jobs)
        if n_workers == 1:
            return self._search(lower, upper, None)
        # started now, the workers are ready when the root is done (heloc: 6-9 s)
        seed = int(self.rng.integers(2**31 - 1))
        options = dict(backend=self.backend, gap_tolerance=self.gap_tolerance,
                       pool_size=self.pool_size, time_limit=self.time_limit,
                       cutoff=self.cutoff)
        # the saturated bound's list of supports costs seconds to build: the
        # workers get this one
        listed = self.saturated.supports if self.saturated is not None else None
        pool = WorkerPool(_WORKER_MODULE, (self.problem, options, self._start, seed, listed),
                          n_workers)
        try:
            return self._search(lower, upper, pool)
        finally:
            pool.close()

    def _search(self, lower: np.ndarray, upper: np.ndarray, pool: WorkerPool | None):
        """The root, then the tree: here, or on ``pool``."""
        root = _Node(lower, upper, -np.inf, 0)
        try:
            outcome = self._process(root, root_node=True)
        except _Stop as stop:
            return stop.status, stop.bound, stop.message
        if outcome is None:
            return self._finish(root.bound)
        frontier = _Frontier()
        if pool is not None:
            return self._run_parallel(frontier, outcome, pool)
        ended = self._explore(frontier, outcome, self._should_stop)
        return ended if ended is not None else self._finish(frontier.closed)

    def _explore(self, frontier: _Frontier, dive, should_stop):
        """Best-first search with plunging: ``dive`` (children to go on with,
        or None) first, then the frontier's best node, until the frontier is
        empty (returns None) or ``should_stop(bound)`` gives ``(status,
        message)``; then returns ``(status, bound, message)``, every node not
        closed back in the frontier and ``bound`` the least over it.
        """
        while True:
            if dive is None:
                node = frontier.pop_open(self._prune_threshold())
                if node is None:
                    return None
            else:
                node, *others = dive
                frontier.push_all(others)
            bound = min(node.bound, frontier.bound())
            self._maybe_report(bound, len(frontier))
            reason = should_stop(bound)
            if reason is not None:
                frontier.push(node)
                return reason[0], bound, reason[1]
            try:
                dive = self._process(node)
            except _Stop as stop:
                node.bound = min(node.bound, stop.bound)
                frontier.push(node)
                return stop.status, frontier.bound(), stop.message
            if dive is None:
                frontier.close(node.bound)
            elif len(frontier) and not self._worth_diving(node.bound, frontier.best_open()):
                frontier.push_all(dive)
                dive = None

    # ---------------------------------------------------------- on many cores
    def _run_parallel(self, frontier: _Frontier, dive, pool: WorkerPool):
        """The tree on the workers of ``pool`` (see ``_parallel``).

        This process goes on alone until the workers have started; then it
        only deals nodes and collects reports, round by round. The bound is
        the least over its own frontier (nodes in transit and regions closed
        here) and every worker's last report.
        """
        failed = []

        def until_ready(bound):
            # never raises: _explore has this node in hand, not in the frontier
            reason = self._should_stop(bound)
            if reason is not None or failed:
                return reason
            try:
                if pool.ready():
                    return None, "workers ready"
            except WorkerFailure as failure:
                failed.append(failure)
                warnings.warn(f"{failure}; the search goes on in this process alone.",
                              RuntimeWarning, stacklevel=2)
            return None

        if _WAIT_FOR_WORKERS:
            # the bound of what is open: a gap check against anything higher lies
            open_bound = min([frontier.bound()] + [node.bound for node in dive or []])
            while not failed and until_ready(open_bound) is None:
                time.sleep(0.05)
        ended = self._explore(frontier, dive, until_ready)
        if ended is None:
            return self._finish(frontier.closed)
        if ended[0] is not None:
            return ended
        self._workers_used = len(pool)
        return self._rounds(pool, frontier)

    def _rounds(self, pool: WorkerPool, frontier: _Frontier):
        n = len(pool)
        alive = list(range(n))
        bounds, n_open = [np.inf] * n, [0] * n
        counts = [(0, 0, 0)] * n  # nodes, LP solves, cuts per worker
        sent = [None] * n  # the incumbent each worker has
        planes = self.lp.planes  # the cuts so far, with each worker's first order
        started = [False] * n
        own_nodes = self.n_nodes
        seconds = min(max(_ROUND_SHARE * self.time_limit, _ROUND_MIN), _ROUND_MAX)
        while True:
            bound = min([frontier.bound()] + [bounds[i] for i in alive])
            total_open = len(frontier) + sum(n_open[i] for i in alive)
            self.n_nodes = own_nodes + sum(c[0] for c in counts)
            self._worker_counts = tuple(map(sum, zip(*counts)))
            self._maybe_report(bound, total_open)
            reason = self._should_stop(bound)
            if reason is not None:
                return reason[0], bound, reason[1]
            if total_open == 0:
                return self._finish(bound)
            if not alive:  # every worker failed: the rest of the tree here
                ended = self._explore(frontier, None, self._should_stop)
                return ended if ended is not None else self._finish(frontier.closed)
            orders = self._deal(frontier, alive, n_open, sent)
            for i, order in orders.items():
                bounds[i] = min([bounds[i]] + [node.bound for node in order.nodes])
                order.seconds = seconds
                if not started[i]:
                    order.planes, started[i] = planes, True
                    order.blocks = self._blocks.of_row if self._blocks is not None else None
                try:
                    pool.send(i, order)
                except WorkerFailure as failure:
                    self._lose_worker(i, failure, alive, frontier, bounds)
            for i in list(orders):
                if i not in alive:
                    continue
                try:
                    report = pool.receive(i, self._interrupted, timeout=seconds + _ROUND_GRACE)
                except WorkerFailure as failure:
                    self._lose_worker(i, failure, alive, frontier, bounds)
                    continue
                bounds[i], n_open[i] = report.bound, report.n_open
                counts[i] = (report.n_nodes, report.n_lp_solves, report.n_cuts)
                frontier.push_all(report.given)
                for intercept, points, objective, loss in report.models:
                    self._record(ScoreModel(np.asarray(points, dtype=int), intercept,
                                            objective, loss))

    def _deal(self, frontier: _Frontier, alive: list, n_open: list, sent: list) -> dict:
        """Orders for the next round: the frontier's nodes to the least loaded
        workers, and, for a worker left with none, half of the busiest one's.
        """
        orders = {i: Explore(0.0) for i in alive}
        load = {i: n_open[i] for i in alive}
        for node in frontier.take(len(frontier)):  # best first, each to the least loaded
            least = min(alive, key=load.__getitem__)
            orders[least].nodes.append(node)
            load[least] += 1
        idle = [i for i in alive if n_open[i] == 0 and not orders[i].nodes]
        busiest = max(alive, key=lambda i: n_open[i])
        if idle and n_open[busiest] >= 2:
            orders[busiest].give = min(n_open[busiest] // 2, _GIVE_AT_MOST)
        incumbent = self.incumbent
        for i in alive:
            if incumbent is not None and sent[i] is not incumbent:
                orders[i].incumbent = (incumbent.intercept, incumbent.points)
                sent[i] = incumbent
        return orders

    def _lose_worker(self, i: int, failure: WorkerFailure, alive: list,
                     frontier: _Frontier, bounds: list) -> None:
        """Go on without worker ``i``: its part of the tree keeps the bound it
        last reported, which no later search can raise.
        """
        alive.remove(i)
        frontier.close(bounds[i])
        self._lost_regions += 1
        warnings.warn(f"{failure}; the search goes on without it, and the lower bound "
                      "keeps its part of the tree at the bound it last reported.",
                      RuntimeWarning, stacklevel=2)

    def _prepare_worker(self, start: float, listed) -> None:
        """A worker's search state: no root, no first incumbents, and the
        saturated bound from the coordinator's ``listed`` supports (or its
        table, rebuilt here) instead of its own list.
        """
        self._start = start  # one clock: perf_counter is system-wide
        self._listed_supports = listed
        self._interrupted = lambda: False
        self._prepare()
        self._worker = True
        self._build_saturated()

    def _serve(self, connection) -> None:
        """A worker's life: a round for each order (see ``_parallel.Explore``)
        until the coordinator sends None.
        """
        frontier = _Frontier()
        while (order := connection.recv()) is not None:
            connection.send(self._serve_round(frontier, order))

    def _serve_round(self, frontier: _Frontier, order: Explore) -> Report:
        """One round of a worker: take the order's cuts, nodes and model,
        search its nodes for the order's seconds (at least one node: every
        round progresses), give up what it asks for, and report.
        """
        if order.blocks is not None:  # the coordinator's, which its planes refer to
            self._blocks = RowBlocks(order.blocks, self.lp.n_blocks)
        self.lp.add_planes(order.planes)
        frontier.push_all(order.nodes)
        if order.incumbent is not None:
            self._offer(*order.incumbent)
        until, first = time.perf_counter() + order.seconds, self.n_nodes

        def slice_over(bound):
            over = time.perf_counter() >= until and self.n_nodes > first
            return (None, "") if over else None

        ended = self._explore(frontier, None, slice_over)
        if ended is not None and ended[0] == SolverStatus.ERROR:
            raise SolverError(ended[2])
        given = frontier.take(order.give)
        best_models = sorted(self.pool.values(), key=lambda m: m.objective)
        return Report(
            bound=min(frontier.bound(), self._left_out_at), n_open=len(frontier), given=given,
            models=[(m.intercept, m.points, m.objective, m.loss)
                    for m in best_models[: max(self.pool_size, 1)]],
            n_nodes=self.n_nodes, n_lp_solves=self.lp.n_solves, n_cuts=self.lp.n_cuts_added)

    def _worth_diving(self, bound: float, best_open: float) -> bool:
        """Dive on (warm LP, quick incumbents) only while the node is among the
        more promising ones; otherwise return to the best open node.
        """
        if self.incumbent is None:
            return True
        return bound <= best_open + _PLUNGE_FRACTION * (self.incumbent.objective - best_open)

    def _finish(self, pruned_bound: float):
        """The end of a tree with no open node left. A pruned node's bound
        reached the prune threshold of its time, which only falls; a region
        lost with its worker (``_lose_worker``) keeps the bound last reported.
        """
        objective = np.inf if self.incumbent is None else self.incumbent.objective
        pruned_bound = self._proven(pruned_bound)
        bound = min(pruned_bound, objective)
        if self.incumbent is not None and relative_gap(objective, bound) <= self.gap_tolerance:
            return SolverStatus.OPTIMAL, bound, ""
        if np.isfinite(self.cutoff) and pruned_bound >= self.cutoff:
            return (SolverStatus.CUTOFF, bound,
                    f"no model has an objective below the cutoff {self.cutoff:.12g}")
        if self._lost_regions:
            return (SolverStatus.INCOMPLETE, bound,
                    f"{self._lost_regions} search worker(s) lost: their part of the tree "
                    "keeps the bound they last reported")
        if self.incumbent is None:
            return SolverStatus.INFEASIBLE, np.inf, "the constraints admit no model"
        # every node pruned at the incumbent's threshold: within tolerance
        # but for rounding in the gap's division
        return SolverStatus.OPTIMAL, bound, ""

    def _process(self, node: _Node, root_node: bool = False):
        """Bound one node; return the children to explore, or None if pruned."""
        self.n_nodes += 1
        lower, upper = node.lower, node.upper
        self._seek_separation()
        node.bound = max(node.bound, self._separation)
        if node.bound >= self._prune_threshold():
            return None
        if (self.saturated is not None and self._screens.due(self.n_nodes)
                and not self._screened(node)):
            return None
        by_support = self._by_support(node)
        if by_support is not None:
            return by_support
        if not root_node and self._enumerated(node):
            return None
        lattice_bound = None  # where the lattice bound was sought at this node
        if self.lattice is not None and (root_node or self.n_nodes >= self._next_lattice_node):
            others = node.bound  # the parent's and this node's bounds before it
            lattice_bound = self._lattice_bounded(node, root_node)
            if lattice_bound is None:
                self._lattice_paid(True)
                return None
        elif root_node and self.oracle.n_rows * self.d >= _ROOT_DUAL_MIN_ENTRIES:
            node.bound = max(node.bound, self._root_dual_bound(lower, upper))
        self.lp.set_bounds(lower, upper)
        # on large data the lattice bound is above what the root's cuts reach in its time
        rounds = (_ROOT_CUT_ROUNDS if root_node and not self._lattice_large
                  else _NODE_CUT_ROUNDS if self.lp.n_blocks == 1 else _NODE_BLOCK_ROUNDS)
        tolerance = _ROOT_CUT_TOLERANCE if root_node else _NODE_CUT_TOLERANCE
        solution = None
        separated = set()  # integral points already cut at this node
        history = []  # the LP's bound after each round
        for round_ in itertools.count():
            self._check_time(node.bound)
            solution = self._solve_lp()
            if solution is None:  # infeasible within these bounds
                node.bound = np.inf
                return None
            node.bound = max(node.bound, solution.bound)
            if node.bound >= self._prune_threshold():
                return None
            if root_node and self.lp.n_blocks > 1:
                # the root's rounds run long (binarized heloc: hundreds), and
                # with blocks its pool would grow by a cut per block a round
                self.lp.purge_cuts(solution, _BLOCK_CUT_MAX_IDLE)
            if root_node:
                # the root's bound holds for the whole search, and its cut loop
                # can take seconds (binarized heloc, k = 7: 11 s, from 1 s)
                self._maybe_report(node.bound, 1)
            # the LP's own progress: a node raised by the saturated bound (a
            # listed support's relaxed loss) would look stalled while the
            # cuts still climb (mammo, k = 10: its root is certified by them)
            history.append(solution.bound)
            cuts = self.oracle.block_cuts(solution.intercept, solution.points,
                                          not self.real_intercept, self._row_blocks())
            loss = float(cuts[0].sum())  # the plane of the whole loss, at this point
            violation = loss - solution.theta
            candidate = self._integral_model(solution)
            if candidate is not None:
                model = self._offer(*candidate)
                if model is not None and model.objective - node.bound <= self._tolerance():
                    return None  # the node's best model is in hand
                key = (candidate[0] if not self.real_intercept else None, *candidate[1])
                if violation > 1e-12 and key not in separated:
                    separated.add(key)
                    if self.real_intercept and model is not None:
                        # The tangent at the points' best intercept has no slope in b:
                        # at these points it lifts the LP's bound to their exact loss.
                        self.lp.add_cut(*self.oracle.loss_and_gradient(model.intercept,
                                                                       model.points),
                                        model.intercept, model.points)
                    else:
                        self.lp.add_block_cuts(cuts, solution)
                    continue
                if model is not None:
                    # Its cut did not move the LP: the point's objective is within
                    # LP precision of the node's bound, so nothing in this node
                    # beats it by more than that; the node keeps its honest bound.
                    return None
            if root_node and round_ % 50 == 0:
                self._round_and_polish(solution, perturb=True)
            if (
                violation > tolerance * max(loss, 1e-12)
                and (round_ < rounds or (not root_node and self._closing(history)))
                and not self._stalled(history)
                and (not root_node or self._elapsed() < _ROOT_TIME_SHARE * self.time_limit)
            ):
                self.lp.add_block_cuts(cuts, solution)
                continue
            break
        if lattice_bound is not None:
            best = max(others, solution.bound)
            self._lattice_paid(lattice_bound >= best - _LATTICE_SLACK * abs(best))
        if not root_node and self.n_nodes >= self._next_heuristic_node:
            improved = self._round_and_polish(solution)
            self._heuristic_every = (
                _HEURISTIC_EVERY if improved
                else min(2 * self._heuristic_every, _HEURISTIC_MAX_EVERY)
            )
            self._next_heuristic_node = self.n_nodes + self._heuristic_every
        if self.lp.n_blocks > 1:
            self.lp.purge_cuts(solution, _BLOCK_CUT_MAX_IDLE)
        elif self.n_nodes % _PURGE_EVERY == 0:
            self.lp.purge_cuts(solution, _CUT_MAX_IDLE)
        self._fix_by_reduced_cost(solution, node, lower, upper)
        return self._branch(solution, node)

    def _build_saturated(self, box: tuple | None = None) -> None:
        """Set the saturated bound, and the time spent on it before this search;
        with the root's ``box`` (lower, upper), its listed supports under the
        incumbent valued at their relaxed losses at this scale
        (``SaturatedBound.at_box``; a worker's list comes valued from its
        coordinator).
        """
        self.saturated = self._saturated_bound()
        self._saturated_spent = self.saturated.seconds if self.saturated is not None else 0.0
        if self.saturated is not None and box is not None:
            deadlines = valuing_deadlines(time.perf_counter(), self.time_limit,
                                          self._start + self.time_limit)
            # before the workers start: every core values supports
            self.saturated = self.saturated.at_box(
                self.oracle, *box, self._prune_threshold(), *deadlines,
                effective_n_jobs(self.n_jobs), report=lambda bound: self._maybe_report(bound, 1))

    def _proven(self, tree_bound: float) -> float:
        """What the search proved, given the tree's bound: no lower than the
        separation bound or the root's refined lattice bound, and no higher
        than the parts left out beside the tree (``_left_out_at``).
        """
        return max(min(tree_bound, self._left_out_at), self._separation, self._root_floor)

    def _seek_separation(self) -> None:
        """Find the separation bound (see ``_separable``) once every model
        worth finding (under the incumbent and the cutoff) must separate the
        classes; it bounds every node. The coordinator's alone: it is raised
        into the bounds it reports.
        """
        if self._worker or self._nonseparable is None or self.incumbent is None:
            return
        sought = min(self.incumbent.objective, self.cutoff) * (1.0 - self.gap_tolerance)
        if sought >= self._nonseparable:
            return
        self._nonseparable = None  # sought once
        problem = self.problem
        allowed = problem.usable
        max_coef = float(np.maximum(-problem.coef_lower, problem.coef_upper)[allowed].max(
            initial=1.0))
        found = separation_bound(
            self.oracle, problem.c0, allowed, self.feasibility.max_support, max_coef,
            min(time.perf_counter() + _SEPARATION_SHARE * self.time_limit,
                self._start + self.time_limit),
            enough=sought)
        if found is not None:
            self._separation = found.value

    def _saturated_bound(self) -> SaturatedBound | None:
        """The saturated bound for this problem's rows (see ``saturated_bound``),
        or None where it does not apply.
        """
        return saturated_bound(self.oracle, self.feasibility.max_support,
                               time.perf_counter() + BUILD_SHARE * self.time_limit,
                               self._listed_supports)

    def _screened(self, node: _Node) -> bool:
        """Raise the node's bound to its saturated bound and leave out the free
        features that cannot beat the incumbent (see ``_saturated``); False if
        that prunes the node. Records whether it paid (``ScreenSchedule``).
        """
        threshold = self._prune_threshold()
        bound, left_out, left_out_bound = self.saturated.screen(
            node.lower, node.upper, self.problem.c0, threshold, self._elapsed(),
            self._saturated_spent)
        self._screens.record(self.n_nodes, left_out or bound > node.bound)
        node.bound = max(node.bound, bound)
        if node.bound >= threshold:
            return False
        self._left_out_at = min(self._left_out_at, left_out_bound)
        if left_out and not self._propagate(node.lower, node.upper):
            node.bound = np.inf
            return False
        return True

    def _by_support(self, node: _Node) -> list[_Node] | None:
        """Split a node by the listed supports it allows under the prune
        threshold (``SaturatedBound.split``): one child per support, the
        features of its partitions allowed and every other left out. heloc
        binarized, k = 5: the root allows 938 of 7.0 million supports;
        branching on features reached 487 of them in a minute, 3,000 LP nodes
        mostly on the way. None where the list does not apply or allows more
        than ``_SUPPORT_CHILDREN_AT_MOST``.
        """
        if self.saturated is None:
            return None
        split = self.saturated.split(node.lower, node.upper, self._prune_threshold(),
                                     _SUPPORT_CHILDREN_AT_MOST)
        if split is None:
            return None
        parts, rest = split
        self._left_out_at = min(self._left_out_at, rest)
        children = [_Node(lower, upper, max(node.bound, value), node.depth + 1)
                    for lower, upper, value in parts if self._propagate(lower, upper)]
        if not children:
            node.bound = np.inf
            return None
        return children

    def _enumerated(self, node: _Node) -> bool:
        """Close a small node exactly: its bound becomes its minimum objective
        (with a real intercept, a lower bound on it within rounding) and its
        best models are offered. False if the node is too large.
        """
        lower, upper, d = node.lower, node.upper, self.d
        at_most = _ENUMERATE_LARGE_AT_MOST if self._lattice_large else _ENUMERATE_AT_MOST
        if count_models(lower, upper, d, self.feasibility) > at_most:
            if self.real_intercept:
                return False
            # too many to list one by one; a box with one slot left is still
            # cheap as one pass (a few hundred models are cheaper listed: raw
            # breastcancer's integer columns make that pass's table large)
            last_slot = last_slot_models(self.oracle, lower, upper, d, self.feasibility,
                                         self.problem.c0, _LAST_SLOT_AT_MOST,
                                         max(self.pool_size, 1))
            if last_slot is None:
                return False
            objectives, intercepts, points = last_slot
            for intercept, pts in zip(intercepts, points):
                self._offer(int(intercept), pts)
            node.bound = (max(node.bound, float(objectives[0]) - 1e-12) if len(objectives)
                          else np.inf)
            return True
        candidates = box_candidates(lower, upper, d, self.feasibility)
        if self.real_intercept:
            intercept_low, intercept_high = lower[0], upper[0]
        else:
            intercept_low, intercept_high = intercept_range(lower, upper)
        if len(candidates) == 0 or intercept_low > intercept_high:
            node.bound = np.inf
            return True
        fit = fit_real_intercepts if self.real_intercept else fit_intercepts
        intercepts, losses = fit(self.oracle, candidates, intercept_low, intercept_high)
        objectives = losses + (candidates != 0) @ self.problem.c0
        best = np.argsort(objectives)[: max(self.pool_size, 1)]
        for i in best:
            self._offer(intercepts[i] if self.real_intercept else int(intercepts[i]),
                        candidates[i])
        # merged rows' losses agree with the exact ones to rounding only
        node.bound = max(node.bound, float(objectives[best[0]]) - 1e-12)
        return True

    def _lattice_bounded(self, node: _Node, root_node: bool) -> float | None:
        """Raise the node's bound by the lattice bound (see ``_lattice``),
        from its parent's point or, at the root, the incumbent; the lines
        also become an LP cut. Returns the lattice bound, or None if it
        prunes the node.
        """
        threshold = self._prune_threshold()
        if node.start is not None:
            start = node.start
        elif self.incumbent is not None:
            start = np.concatenate([[self.incumbent.intercept], self.incumbent.points])
        else:
            start = np.zeros(self.d + 1)
        steps = _LATTICE_ROOT_STEPS if root_node else _LATTICE_NODE_STEPS
        bound, point = self.lattice.bound(start, node.lower, node.upper, steps,
                                          self._start + self.time_limit, threshold)
        if root_node:
            self.root_dual_bound = float(bound)
        node.bound = max(node.bound, bound)
        node.start = point
        if node.bound >= threshold:
            return None
        if root_node and not self._lattice_large:  # seconds a width on large data
            # A bound for the whole search, kept beside the tree: as the root's
            # own, its children would inherit it and seek their lattice bounds
            # less often, coming short of it (binarized adult, k = 7 and 10:
            # 0.2-0.5 % more gap after 60 s).
            self._root_floor = self.lattice.refine(point, node.lower, node.upper, steps,
                                                   self._start + self.time_limit, threshold)
            self.root_dual_bound = float(max(bound, self._root_floor))
            if self._root_floor >= threshold:
                node.bound = self._root_floor
                return None
        self.lp.add_cut(*self.oracle.lattice_loss_and_gradient(point[0], point[1:]),
                        point[0], point[1:])
        return bound

    def _row_blocks(self) -> RowBlocks:
        """The blocks of rows whose losses the LP cuts apart: by the loss's
        curvature at the incumbent, made once, since the LP's estimates and
        cuts refer to them (a worker takes the coordinator's).
        """
        if self._blocks is None:
            self._blocks = row_blocks_at(self.oracle, self.incumbent, self.lp.n_blocks)
        return self._blocks

    def _lattice_paid(self, paid: bool) -> None:
        """Seek the lattice bound at the next node where it pruned its node or
        came near the best of the node's other bounds and the LP's; else at
        nodes ever further apart (binarized mushroom, nearly separable: 0.0004
        at the root against an optimum of 0.07; sought at every node, it took
        half the time of the nodes that certify five features).
        """
        self._lattice_every = 1 if paid else min(2 * self._lattice_every, _LATTICE_MAX_EVERY)
        self._next_lattice_node = self.n_nodes + self._lattice_every

    def _root_dual_bound(self, lower: np.ndarray, upper: np.ndarray) -> float:
        """The root's dual bound; its last point also seeds the LP with a cut."""
        point = root_point(self.problem)
        bound = -np.inf
        deadline = min(time.perf_counter() + _ROOT_DUAL_SHARE * self.time_limit,
                       self._start + self.time_limit)
        for _ in range(_ROOT_DUAL_ROUNDS):
            if time.perf_counter() >= deadline:
                break
            lifted, point = self.dual.descend(point, lower, upper, _ROOT_DUAL_STEPS)
            progress = lifted - bound
            bound = max(bound, lifted)
            if progress <= _ROOT_DUAL_PROGRESS * max(abs(bound), 1e-12):
                break
        if np.isfinite(bound):
            self.lp.add_cut(*self.oracle.loss_and_gradient(point.intercept, point.points),
                            point.intercept, point.points)
        self.root_dual_bound = float(bound)
        return bound

    def _closing(self, history: list[float]) -> bool:
        """Whether a node's bound, rising at the pace of its last rounds, would
        reach the prune threshold within its remaining extra rounds.
        """
        if len(history) < _CLOSING_WINDOW + 1 or len(history) > _NODE_CUT_MAX_ROUNDS:
            return False
        pace = (history[-1] - history[-1 - _CLOSING_WINDOW]) / _CLOSING_WINDOW
        need = self._prune_threshold() - history[-1]
        return pace > 0 and need <= pace * (_NODE_CUT_MAX_ROUNDS - len(history))

    def _stalled(self, history: list[float]) -> bool:
        """Cutting planes at one point converge slowly (Kelley): stop once the
        last rounds closed only a sliver of the remaining gap; branching takes over.
        """
        if len(history) <= _STALL_ROUNDS or self.incumbent is None:
            return False
        progress = history[-1] - history[-1 - _STALL_ROUNDS]
        return progress < _STALL_FRACTION * (self.incumbent.objective - history[-1])

    # -------------------------------------------------------------- branching
    def _branch(self, solution: LPSolution, node: _Node):
        """Split on a feature's support first, then on a point value, then on b.

        A feature whose sign is still open is split three ways, ``l_j = 0``,
        ``l_j >= 1`` and ``l_j <= -1``: unlike ``z_j = 1`` alone, the nonzero
        branches move the LP point, so every side can raise the bound. Among
        candidates the one with the largest ``|l_j|`` (capped at 1) goes first:
        its zero branch moves the LP furthest and is often pruned at once.
        Measured against most-fractional and pseudo-cost rules (RESULTS.md).
        """
        d = self.d
        lower, upper = node.lower, node.upper
        values = solution.values
        points, used = values[1 : 1 + d], values[1 + d :]
        low, high = lower[1 : 1 + d], upper[1 : 1 + d]
        frac = np.abs(values - np.round(values))
        if self.real_intercept:
            frac[0] = 0.0
        open_sign = (low <= 0) & (high >= 0) & (low < high)
        support_split = open_sign & (
            (frac[1 : 1 + d] > _INTEGRALITY)
            | (frac[1 + d :] > _INTEGRALITY)
            | ((np.round(used) == 1) & (np.abs(points) < _INTEGRALITY))
        )
        weight = np.minimum(np.abs(points), 1.0)
        if support_split.any():
            j = int(np.argmax(np.where(support_split, weight, -1.0)))
            k, value = 1 + j, points[j]
            children = [(abs(value), self._child(node, k, 0.0, 0.0))]
            if high[j] >= 1:
                children.append((1.0 - value, self._child(node, k, 1.0, high[j], z_one=j)))
            if low[j] <= -1:
                children.append((1.0 + value, self._child(node, k, low[j], -1.0, z_one=j)))
        else:
            fractional = frac[1 : 1 + d] > _INTEGRALITY
            if fractional.any():
                k = 1 + int(np.argmax(np.where(fractional, weight, -1.0)))
            elif frac[0] > _INTEGRALITY:
                k = 0
            else:
                raise SolverError("internal error: integral LP point left unbranched")
            value = values[k]
            down, up = np.floor(value), np.ceil(value)
            children = [
                (value - down, self._child(node, k, lower[k], down)),
                (up - value, self._child(node, k, up, upper[k])),
            ]
        # the child nearest the LP point first: the search dives into it
        children.sort(key=lambda pair: pair[0])
        kept = [c for _, c in children if self._propagate(c.lower, c.upper)]
        if not kept:
            node.bound = np.inf  # no admissible integer model below this node
            return None
        return kept

    def _child(self, node: _Node, k: int, lo: float, hi: float, z_one: int | None = None):
        lower, upper = node.lower.copy(), node.upper.copy()
        lower[k], upper[k] = lo, hi
        if z_one is not None:
            lower[1 + self.d + z_one] = 1.0
        return _Node(lower, upper, node.bound, node.depth + 1, node.start)

    def _propagate(self, lower: np.ndarray, upper: np.ndarray) -> bool:
        """Make the bounds of l and z consistent; False if nothing is left.

        Twin features (see ``_twin_pairs``) are used in index order: a later
        twin only with the earlier one. Any model has a twin with the same
        objective that obeys this (its used twins moved to the lowest
        indices), so cutting the others off keeps the optimum and the bound.
        """
        d = self.d
        lz, uz = lower[1 + d :], upper[1 + d :]
        ll, ul = lower[1 : 1 + d], upper[1 : 1 + d]
        first, second = self._twins
        comp = self._complements
        # each pass fixes at least one more indicator or ends: at most d + 1 passes
        for _ in range(d + 1):
            settled = np.count_nonzero(lz > 0.5) + np.count_nonzero(uz < 0.5)
            off = uz < 0.5
            ll[off] = np.maximum(ll[off], 0.0)
            ul[off] = np.minimum(ul[off], 0.0)
            lz[(ll > 0) | (ul < 0)] = 1.0
            uz[(ll == 0) & (ul == 0)] = 0.0
            if np.any(lz > uz) or not self.feasibility.propagate_support(lz, uz):
                return False
            if len(first):
                uz[second] = np.minimum(uz[second], uz[first])
                lz[first] = np.maximum(lz[first], lz[second])
            if len(comp.flipped):
                # a negative point on a column needs its complement in the model
                lz[comp.other] = np.maximum(lz[comp.other],
                                            (ul[comp.flipped] < 0).astype(float))
                off = uz[comp.other] < 0.5
                ll[comp.flipped[off]] = np.maximum(ll[comp.flipped[off]], 0.0)
            if len(comp.grouped):
                # ... or, behind the binarizer, a column of the complement's group
                required = comp.required
                may = required @ (uz > 0.5).astype(float)
                none = comp.grouped[may < 0.5]
                ll[none] = np.maximum(ll[none], 0.0)
                last = np.flatnonzero((ul[comp.grouped] < 0) & (may > 0.5) & (may < 1.5)
                                      & (required @ (lz > 0.5).astype(float) < 0.5))
                for i in last:  # the one column left that may be used must be
                    members = required.indices[required.indptr[i] : required.indptr[i + 1]]
                    lz[members[uz[members] > 0.5]] = 1.0
            if np.count_nonzero(lz > 0.5) + np.count_nonzero(uz < 0.5) == settled:
                break
        if np.any(ll > ul) or np.any(lz > uz) or lower[0] > upper[0]:
            return False
        if lz.sum() > self.feasibility.max_support:
            return False
        if uz.sum() < self.feasibility.min_support:
            return False
        return True

    def _complement_pairs(self, largest: float):
        """Columns ``j`` whose negative points need another column in the
        model: 0/1 columns with a complement ``j'`` (the binarizer's ``x <= t``
        and ``x > t``: every column of heloc and binarized breastcancer) of
        equal c0 and equal, symmetric bounds.

        A model with ``l_j < 0`` has a twin with the same scores, support size
        and objective: ``-l_j`` on ``j'`` and the intercept lowered by
        ``-l_j``. The twin must still meet the constraint rows (see
        ``_flip_requires``): with none, it does when ``j'`` is unused; behind
        the binarizer (an ``AtMost(1)`` over each variable's thresholds of one
        direction), when no column of ``j'``'s group is used. So models with a
        negative point on ``j`` and none of those required columns may be cut
        off (``_propagate``): flipping lowers the number of negative points,
        so every model leads to one that obeys the rule for all columns. Only
        when the intercept range holds ``intercept_bound``'s, which no best
        intercept of any points leaves, so the twin's intercept stays in range.
        ``largest`` is the problem's ``largest_score``. Returns the columns
        that need their complement (``flipped``, ``other``) and those that
        need a column of a group (``grouped``, with ``required``: a sparse 0/1
        matrix, one row per column of ``grouped``).
        """
        d = self.d
        none = _Complements(np.zeros(0, dtype=int), np.zeros(0, dtype=int),
                            np.zeros(0, dtype=int), sparse.csr_matrix((0, d)))
        p = self.problem
        binary = column_facts(self.oracle).binary
        if not binary.any():
            return none
        reach = intercept_bound(p.X, p.y, p.sample_weight, p.coef_lower, p.coef_upper,
                                p.max_support, p.score_scale, largest)
        if p.intercept_lower > -reach or p.intercept_upper < reach:
            return none
        candidates = binary & (p.coef_lower == -p.coef_upper)
        X = self.oracle.X
        keys = [X[:, j].tobytes() for j in range(X.shape[1])]
        # columns with a twin are left out: the twin rule already orders them,
        # and a complement shared by twins would be demanded twice
        count = collections.Counter(keys)
        by_column = {keys[j]: j for j in np.flatnonzero(candidates)}
        flipped, required = [], []
        for j in np.flatnonzero(candidates):
            complement = (1.0 - X[:, j]).tobytes()
            if count[keys[j]] > 1 or count[complement] > 1:
                continue
            k = by_column.get(complement)
            if k is None or p.coef_upper[k] != p.coef_upper[j] or p.c0[k] != p.c0[j]:
                continue
            members = self._flip_requires(j, k)
            if members is not None:
                flipped.append(j)
                required.append(members)
        if not flipped:
            return none
        single = np.array([len(m) == 1 for m in required], dtype=bool)
        flipped = np.array(flipped, dtype=int)
        groups = [m for m, one in zip(required, single) if not one]
        rows = np.repeat(np.arange(len(groups)), [len(m) for m in groups])
        matrix = sparse.csr_matrix(
            (np.ones(len(rows)), (rows, np.concatenate(groups) if groups else rows)),
            shape=(len(groups), d))
        other = np.array([m[0] for m, one in zip(required, single) if one], dtype=int)
        return _Complements(flipped[single], other, flipped[~single], matrix)

    def _flip_requires(self, j: int, k: int):
        """The columns one of which must be used for moving ``j``'s use to
        ``k`` to keep every constraint row, or None when no such set says it.

        Rows with equal coefficients on both are untouched. A row holding
        ``j`` only, with a positive coefficient and no lower limit, only loses
        a member. A row holding ``k`` only as an ``AtMost(1)`` (0/1
        coefficients, upper limit 1, no lower limit) gains one, which it
        admits exactly when none of its columns is used: ``k``'s group behind
        the binarizer. Any other row, or two such, or rows on points: None.
        """
        f = self.feasibility
        if np.any(f.points_matrix[:, [j, k]]):
            return None
        used = f.used_matrix
        gaining = None
        for r in np.flatnonzero(used[:, j] != used[:, k]):
            unbounded_below = f.lower[r] == -np.inf
            if used[r, j] > 0 and used[r, k] == 0 and unbounded_below:
                continue
            at_most_one = (unbounded_below and 1 <= f.upper[r] < 2
                           and np.all((used[r] == 0) | (used[r] == 1)))
            if used[r, k] == 1 and used[r, j] == 0 and at_most_one and gaining is None:
                gaining = r
                continue
            return None
        return np.array([k]) if gaining is None else np.flatnonzero(used[gaining])

    def _twin_pairs(self):
        """Consecutive pairs ``(j, j')``, ``j < j'``, of features that are
        interchangeable: equal columns, bounds, c0 and constraint
        coefficients (binarized data repeat columns: mushroom 5 of 113).
        Returns the two index arrays.
        """
        p, f = self.problem, self.feasibility
        X = self.oracle.X
        # columns compared by a hash of their bytes first (np.unique over whole
        # columns took over 30 s on 500,000 rows), then confirmed exactly
        fingerprint = np.array([hash(X[:, j].tobytes()) for j in range(X.shape[1])],
                               dtype=float)
        keys = np.vstack([fingerprint, p.coef_lower, p.coef_upper, p.c0,
                          f.points_matrix, f.used_matrix]).T
        _, group = np.unique(keys, axis=0, return_inverse=True)
        group = group.ravel()
        first, second = [], []
        for members in np.split(np.argsort(group, kind="stable"),
                                np.cumsum(np.bincount(group))[:-1]):
            if len(members) < 2:
                continue
            twins = [j for j in members if np.array_equal(X[:, j], X[:, members[0]])]
            first += twins[:-1]
            second += twins[1:]
        return np.array(first, dtype=int), np.array(second, dtype=int)

    def _fix_by_reduced_cost(self, solution, node, lower, upper):
        """Tighten bounds that would push the LP bound past the incumbent."""
        if self.incumbent is None:
            return
        room = self._prune_threshold() - solution.bound
        if not np.isfinite(room) or room <= 0:
            return
        values, rc = solution.values, solution.reduced_costs
        at_lower = (values <= lower + 1e-9) & (rc > 1e-9)
        at_upper = (values >= upper - 1e-9) & (rc < -1e-9)
        if self.real_intercept:  # the rounding below holds for integers only
            at_lower[0] = at_upper[0] = False
        with np.errstate(divide="ignore"):
            reach_up = np.floor(room / np.where(at_lower, rc, np.inf) + 1e-9)
            reach_down = np.floor(room / np.where(at_upper, -rc, np.inf) + 1e-9)
        # a value one past the reach raises the LP's bound by more than the room
        cut_up = at_lower & (lower + reach_up < upper)
        cut_down = at_upper & (upper - reach_down > lower)
        if cut_up.any() or cut_down.any():
            past = np.concatenate([rc[cut_up] * (reach_up[cut_up] + 1),
                                   -rc[cut_down] * (reach_down[cut_down] + 1)])
            self._left_out_at = min(self._left_out_at, solution.bound + float(past.min()))
        upper[at_lower] = np.minimum(upper[at_lower], lower[at_lower] + reach_up[at_lower])
        lower[at_upper] = np.maximum(lower[at_upper], upper[at_upper] - reach_down[at_upper])

    # ------------------------------------------------------------- incumbents
    def _initial_incumbent(self) -> bool:
        """A first incumbent: the given initial models polished; without them,
        the empty model (or the sparsest admissible one when the constraints
        rule it out) polished, plus the beam search on larger problems.
        False if no model is admissible.
        """
        for b, pts in self.initial_models:
            if self.incumbent is not None and self._elapsed() >= self.time_limit:
                break  # polishing every start can outlast a short slice of a scale search
            pts = np.asarray(pts, dtype=int)
            if self.feasibility.is_feasible(pts):
                b, pts, _ = self.search.polish(int(round(b)), pts)
                self._offer(b, pts)
        if self.incumbent is not None:
            return True
        start = np.zeros(self.d, dtype=int)
        if not self.feasibility.is_feasible(start):
            start = find_admissible_model(self.problem)
            if start is None:
                return False
        # On many rows polishing is slow (500,000 rows: the first incumbent came
        # at 53 s of 60, leaving the root no LP): there its time is capped.
        with self._heuristics_until(self._start + _FIRST_INCUMBENT_SHARE * self.time_limit):
            b, pts, _ = self.search.polish(0, start)
        self._offer(b, pts)
        if self.d > _BEAM_MIN_FEATURES:
            deadline = self._start + _BEAM_SHARE * self.time_limit
            for b, pts in self.search.from_beam(self.feasibility.max_support, deadline=deadline):
                self._offer(b, pts)
        return True

    def _round_and_polish(self, solution: LPSolution, perturb: bool = False) -> bool:
        """Round and polish the LP point; with ``perturb``, also perturb the
        incumbent and polish (root only: at nodes it cost more than it found).
        True if the incumbent improved.
        """
        before = self.n_incumbent_updates
        # On many rows one polish can take the rest of the time (500,000 rows:
        # one run in two spent 60 s of 60 in the root): there each call is capped.
        with self._heuristics_until(time.perf_counter() + _HEURISTIC_SHARE * self.time_limit):
            rounded = self.search.sequential_round(solution.intercept, solution.points)
            if rounded is not None:
                b, pts, _ = self.search.polish(*rounded)
                self._offer(b, pts)
            if perturb and self.incumbent is not None:
                for b, pts in self.search.perturb(self.incumbent.intercept,
                                                  self.incumbent.points, self.rng, trials=2):
                    self._offer(b, pts)
        return self.n_incumbent_updates > before

    @contextlib.contextmanager
    def _heuristics_until(self, deadline: float):
        """The local search stops at ``deadline`` (within the time limit) on
        large data (``_LARGE_ENTRIES``), at the time limit otherwise.
        """
        end = self._start + self.time_limit
        if self.oracle.n_rows * self.d >= _LARGE_ENTRIES:
            self.search.deadline = min(deadline, end)
        try:
            yield
        finally:
            self.search.deadline = end

    def _integral_model(self, solution: LPSolution):
        values = solution.values[1:] if self.real_intercept else solution.values
        if np.max(np.abs(values - np.round(values))) > _INTEGRALITY:
            return None
        intercept = solution.intercept if self.real_intercept else int(round(solution.intercept))
        return intercept, np.round(solution.points).astype(int)

    def _offer(self, intercept: float, points: np.ndarray) -> ScoreModel | None:
        """Record a candidate model if it is feasible; returns it if so.

        With a real intercept, the heuristics' integer intercept (or the LP's
        value) is replaced by the best real one for the points.
        """
        points = np.asarray(points, dtype=int)
        penalty = float(self.problem.c0 @ (points != 0))
        if self.real_intercept:
            if not self.feasibility.is_feasible(points):
                return None
            intercept, loss = self.search.best_real_intercept(self.search.scores(0, points),
                                                              int(round(intercept)))
            objective = loss + penalty
        elif not self.feasibility.is_feasible(points, intercept):
            return None
        else:
            intercept = int(intercept)
            objective = self.search.objective(intercept, points)
        return self._record(ScoreModel(points.copy(), intercept, objective,
                                       objective - penalty))

    def _record(self, model: ScoreModel) -> ScoreModel:
        """Keep ``model`` (admissible, its objective exact) in the pool, and as
        the incumbent if it is the best so far.
        """
        objective = model.objective
        key = model.key()
        if key not in self.pool:
            self.pool[key] = model
            if len(self.pool) > 4 * max(self.pool_size, 1):
                best = sorted(self.pool.values(), key=lambda m: m.objective)
                self.pool = {m.key(): m for m in best[: max(self.pool_size, 1)]}
        if self.incumbent is None or objective < self.incumbent.objective - 1e-15:
            if self.incumbent is None:
                self.time_to_first = time.perf_counter() - self._start
            self.incumbent = model
            self.n_incumbent_updates += 1
            self.lp.set_cutoff(self._lp_cutoff())
        return model

    # --------------------------------------------------------------- plumbing
    def _tolerance(self) -> float:
        if self.incumbent is None:
            return 0.0
        return self.gap_tolerance * abs(self.incumbent.objective)

    def _lp_cutoff(self) -> float:
        """The LP's cutoff: no point above the incumbent's objective or the
        search's cutoff is of interest.
        """
        objective = np.inf if self.incumbent is None else self.incumbent.objective
        return min(objective, self.cutoff) + 1e-9

    def _prune_threshold(self) -> float:
        if self.incumbent is None:
            return self.cutoff
        return min(self.incumbent.objective - self._tolerance(), self.cutoff)

    def _solve_lp(self) -> LPSolution | None:
        try:
            return self.lp.solve()
        except LPInfeasible:
            if self._incumbent_in_box():
                # the incumbent satisfies every row and cut: the claim is false
                return self._fall_back(SolverError(
                    f"the {self.lp.backend!r} LP engine called an LP infeasible that a "
                    "known point satisfies"))
            return None
        except SolverError as exc:
            return self._fall_back(exc)

    def _incumbent_in_box(self) -> bool:
        if self.incumbent is None:
            return False
        model = self.incumbent
        at = np.concatenate([[model.intercept], model.points, model.points != 0])
        lower, upper = self.lp._bounds
        return bool(np.all(at >= lower - 1e-9) and np.all(at <= upper + 1e-9))

    def _fall_back(self, error: SolverError) -> LPSolution | None:
        other = [name for name in BACKENDS if name != self.lp.backend]
        if self.fallbacks >= 1 or not other:
            raise _Stop(SolverStatus.ERROR, -np.inf, f"LP engine failure: {error}")
        self.fallbacks += 1
        warnings.warn(
            f"{error}; the solve continues on the {other[0]!r} engine with the cuts "
            "found so far.",
            RuntimeWarning,
            stacklevel=2,
        )
        old = self.lp
        try:
            self.lp = RelaxationLP(self.problem, other[0], old.n_blocks)
        except SolverError as exc:
            raise _Stop(SolverStatus.ERROR, -np.inf, f"LP engine failure: {exc}") from exc
        self.lp.add_planes(old.planes)
        self.lp.n_solves += old.n_solves
        self.lp.set_cutoff(self._lp_cutoff())
        self.lp.set_bounds(old._bounds[0], old._bounds[1])
        old.close()
        try:
            return self.lp.solve()
        except LPInfeasible:
            return None
        except SolverError as exc:
            raise _Stop(SolverStatus.ERROR, -np.inf, f"LP engine failure: {exc}") from exc

    def _elapsed(self) -> float:
        return time.perf_counter() - self._start

    def _check_time(self, bound: float):
        if self._interrupted():
            raise KeyboardInterrupt
        if self._elapsed() >= self.time_limit:
            raise _Stop(SolverStatus.TIME_LIMIT, bound, "time limit reached")

    def _should_stop(self, bound: float):
        incumbent = self.incumbent
        bound = max(bound, self._separation, self._root_floor)
        if incumbent is not None and relative_gap(incumbent.objective, bound) <= self.gap_tolerance:
            return SolverStatus.OPTIMAL, ""
        if self._elapsed() >= self.time_limit:
            return SolverStatus.TIME_LIMIT, "time limit reached"
        if self.max_nodes is not None and self.n_nodes >= self.max_nodes:
            return SolverStatus.NODE_LIMIT, "node limit reached"
        return None

    def _maybe_report(self, bound: float, n_open: int, now: bool = False):
        """Report progress at most every ``_PROGRESS_INTERVAL``, or ``now``;
        the proven bound is kept at the same pace (``_bound_at``).
        """
        elapsed = self._elapsed()
        if not now and elapsed - self._last_progress < _PROGRESS_INTERVAL:
            return
        self._last_progress = elapsed
        bound = max(bound, self._root_floor)
        self._bound_trace.append((elapsed, self._proven(bound)))
        if self.progress is None:
            return
        objective = self.incumbent.objective if self.incumbent else np.inf
        self.progress(Progress(elapsed, objective, bound, relative_gap(objective, bound),
                               self.n_nodes, n_open, self.lp.n_cuts))

    def _bound_at(self, elapsed: float) -> float:
        """The proven bound last recorded by ``elapsed`` seconds, as ``_result``
        reports bounds (never below 0); -inf if none was proven by then.
        """
        recorded = [bound for at, bound in self._bound_trace if at <= elapsed]
        if not recorded or not np.isfinite(recorded[-1]):
            return -np.inf
        return float(max(recorded[-1], 0.0))

    def _result(self, status: SolverStatus, lower_bound: float, message: str) -> SolverResult:
        elapsed = self._elapsed()
        stats = SolverStatistics(
            time=elapsed,
            time_to_first_incumbent=self.time_to_first,
            n_nodes=self.n_nodes,
            n_cuts=self.lp.n_cuts_added + self._worker_counts[2],
            n_lp_solves=self.lp.n_solves + self._worker_counts[1],
            n_incumbent_updates=self.n_incumbent_updates,
            n_distinct_rows=self.oracle.n_rows,
            backend=self.lp.backend,
            backend_fallbacks=self.fallbacks,
            root_dual_bound=self.root_dual_bound,
            n_jobs=self._workers_used,
            lower_bound_at_half_time=self._bound_at(elapsed / 2),
        )
        pool = tuple(sorted(self.pool.values(), key=lambda m: m.objective)[: self.pool_size])
        # loss and penalty are never negative: a valid bound even before the root LP
        lower_bound = float(max(self._proven(lower_bound), 0.0))
        model = self.incumbent
        if model is None:
            return SolverResult(None, np.inf, lower_bound, np.inf, status, stats, pool, message)
        # The incumbent bounds the optimum from above: a bound past it only
        # says that the incumbent's own part of the tree was left out at some
        # threshold (two processes at a steep scale: 0.0006011 against 0.0006,
        # which the independent check rejected)
        lower_bound = float(min(lower_bound, model.objective))
        return SolverResult(model, model.objective, lower_bound,
                            relative_gap(model.objective, lower_bound), status, stats, pool,
                            message)


@contextlib.contextmanager
def _interrupt_guard():
    """Ctrl-C raises KeyboardInterrupt as usual and also sets a flag that the
    search checks at every node, so that an interrupt swallowed on the way (a
    broad ``except`` in a callback, an engine) still stops the solve. Only in
    the main thread, and only over Python's default handler.
    """
    received = threading.Event()
    if (threading.current_thread() is not threading.main_thread()
            or signal.getsignal(signal.SIGINT) is not signal.default_int_handler):
        yield received.is_set
        return

    def handler(signum, frame):
        received.set()
        raise KeyboardInterrupt

    signal.signal(signal.SIGINT, handler)
    try:
        yield received.is_set
    finally:
        signal.signal(signal.SIGINT, signal.default_int_handler)


class _Stop(Exception):
    def __init__(self, status: SolverStatus, bound: float, message: str):
        super().__init__(message)
        self.status, self.bound, self.message = status, bound, message


def serve_worker(connection, index, problem, options, start, seed, listed=None) -> None:
    """A search worker's life (see ``BranchAndBound._run_parallel``): the
    search state without root or first incumbents, then rounds until told to
    stop. A failure is sent back, never raised here.
    """
    search = None
    try:
        with threadpool_limits(limits=1, user_api="blas"):
            search = BranchAndBound(problem, random_state=seed + index, **options)
            search.lp = None
            search._prepare_worker(start, listed)
            connection.send("ready")
            search._serve(connection)
    except BaseException as exc:  # the coordinator turns it into a warning
        with contextlib.suppress(OSError, EOFError):
            connection.send(RuntimeError(f"{type(exc).__name__}: {exc}"))
    finally:
        if search is not None and search.lp is not None:
            search.lp.close()
        connection.close()
