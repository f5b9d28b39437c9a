"""The cutting-plane relaxation of the RiskSLIM problem, on python-mip.

Variables: intercept ``b``, points ``l_j``, used-indicators ``z_j`` in [0, 1] and
loss estimates ``theta_1..theta_B``, one per block of the distinct rows (the
estimate of the whole loss is their sum). The objective ``sum(theta) + c0 . z``
is bounded below by tangent planes of the (convex) logistic loss, of the whole
loss or of one block's, so every optimum of this LP is a valid lower bound on
the true objective within the current variable bounds.

Only LP solves are used: python-mip's CBC callbacks returned wrong "optimal"
models on small problems checked by enumeration, and our own branch-and-bound
owns every decision instead.
"""

from __future__ import annotations

import contextlib
import ctypes
import logging
import os
import sys
import threading
from dataclasses import dataclass

import mip
import mip.cbc
import numpy as np
from mip.cbc import ffi as _cbc_ffi

from ._problem import RiskScoreProblem
from ._result import SolverError

__all__ = ["BACKENDS", "LPSolution", "RelaxationLP", "release"]

logger = logging.getLogger(__name__)


def release(model: mip.Model) -> None:
    """Free the engine's copy of ``model`` now, not when Python collects it.

    A python-mip ``Model`` and its solver object refer to each other, so only
    the cyclic garbage collector frees them, at an arbitrary moment; the
    solver's ``__del__`` then calls into cffi. If that moment falls while cffi
    holds its lock (parsing a type for ``ffi.new``, e.g. in ``remove_constrs``),
    the first lookup of the delete function waits on the same lock and the
    process hangs forever (measured: a scale search stuck in ``purge_cuts``).
    Freed here, the collector's later ``__del__`` finds nothing to do.
    """
    solver = getattr(model, "solver", None)
    if solver is not None and getattr(solver, "_model", None) is not None:
        solver.__del__()
        solver._model = None


BACKENDS = {"cbc": mip.CBC, "highs": mip.HIGHS}


@dataclass(frozen=True)
class LPSolution:
    """An LP optimum as the engine reports it, and ``bound``: a lower bound on
    the LP (and so on every model in the node) that does not trust the engine.
    """

    objective: float
    bound: float
    intercept: float
    points: np.ndarray
    used: np.ndarray
    thetas: np.ndarray  # each block's loss estimate
    reduced_costs: np.ndarray  # over [b, l_1..l_d, z_1..z_d]

    @property
    def theta(self) -> float:
        """The whole loss's estimate: the sum of the blocks'."""
        return float(self.thetas.sum())

    @property
    def values(self) -> np.ndarray:
        return np.concatenate([[self.intercept], self.points, self.used])


class LPInfeasible(Exception):
    """The relaxation has no solution within the current bounds."""


class RelaxationLP:
    """One LP kept alive for a whole solve; bounds change from node to node.

    Parameters
    ----------
    problem : RiskScoreProblem
    backend : {"cbc", "highs"}
    n_blocks : int, default=1
        Loss estimates, one per block of rows (see ``LossOracle.block_cuts``):
        a round of cuts at one point then gives one plane per block, whose
        maximum over the rounds' points follows the loss more closely than a
        plane of the whole loss per point.
    """

    def __init__(self, problem: RiskScoreProblem, backend: str = "cbc", n_blocks: int = 1):
        if backend not in BACKENDS:
            raise ValueError(f"backend must be one of {sorted(BACKENDS)}, got {backend!r}")
        self.backend = backend
        self.problem = problem
        d = problem.n_features
        try:
            model = mip.Model(sense=mip.MINIMIZE, solver_name=BACKENDS[backend])
        except Exception as exc:  # the engine's shared library failed to load
            raise SolverError(f"could not start the {backend!r} LP engine: {exc}") from exc
        model.verbose = 0
        model.threads = 0
        self.model = model
        _tighten_tolerances(model, backend)
        self.intercept = model.add_var(
            lb=problem.intercept_lower, ub=problem.intercept_upper, name="b"
        )
        self.points = [
            model.add_var(lb=float(lo), ub=float(hi), name=f"l{j}")
            for j, (lo, hi) in enumerate(zip(problem.coef_lower, problem.coef_upper))
        ]
        self.used = [model.add_var(lb=0.0, ub=1.0, name=f"z{j}") for j in range(d)]
        self.n_blocks = int(n_blocks)
        self.thetas = [model.add_var(lb=0.0, ub=mip.INF, name=f"theta{i}")
                       for i in range(self.n_blocks)]
        self._cutoff = mip.INF
        self._column_box = None  # the columns' bounds for the safe bound (_safe_bound)
        # The structural rows again as arrays over the columns [b, l, z, thetas],
        # in the engine's order, for the safe bound: (coefficients, sense, rhs).
        rows: list[tuple[np.ndarray, int, float]] = []

        def add_row(points_coef, used_coef, sense, rhs):
            coefficients = np.concatenate([[0.0], points_coef, used_coef,
                                           np.zeros(self.n_blocks)])
            expr = mip.xsum(float(a) * v for a, v in zip(points_coef, self.points) if a) + \
                mip.xsum(float(a) * v for a, v in zip(used_coef, self.used) if a)
            model.add_constr(expr >= rhs if sense > 0 else expr <= rhs)
            rows.append((coefficients, sense, float(rhs)))

        for j in range(d):
            lo, hi = float(problem.coef_lower[j]), float(problem.coef_upper[j])
            unit = np.zeros(d)
            unit[j] = 1.0
            if hi > 0:  # l_j <= hi z_j
                add_row(unit, -hi * unit, -1, 0.0)
            if lo < 0:  # l_j >= lo z_j
                add_row(unit, -lo * unit, +1, 0.0)
            if lo == 0 and hi == 0:
                self.used[j].ub = 0.0
        if problem.min_features > 0:
            add_row(np.zeros(d), np.ones(d), +1, problem.min_features)
        if problem.max_features is not None and problem.max_features < d:
            add_row(np.zeros(d), np.ones(d), -1, problem.max_features)
        for constraint in problem.constraints:
            points_coef = np.asarray(constraint.points_coef, dtype=float)
            used_coef = np.asarray(constraint.used_coef, dtype=float)
            if np.isfinite(constraint.lower):
                add_row(points_coef, used_coef, +1, constraint.lower)
            if np.isfinite(constraint.upper):
                add_row(points_coef, used_coef, -1, constraint.upper)
        self._row_matrix = np.array([r[0] for r in rows]).reshape(
            len(rows), 2 * d + 1 + self.n_blocks)
        self._row_sense = np.array([r[1] for r in rows], dtype=float)
        self._row_at_least = self._row_sense > 0
        self._row_rhs = np.array([r[2] for r in rows], dtype=float)
        self._global_lower = np.concatenate(
            [[problem.intercept_lower], problem.coef_lower]).astype(float)
        self._global_upper = np.concatenate(
            [[problem.intercept_upper], problem.coef_upper]).astype(float)
        self._cost = np.concatenate([[0.0], np.zeros(d), problem.c0,
                                     np.ones(self.n_blocks)]).astype(float)
        model.objective = mip.minimize(
            mip.xsum(self.thetas) + mip.xsum(float(c) * z for c, z in zip(problem.c0, self.used))
        )
        self._all_vars = [self.intercept, *self.points, *self.used]
        self._score_vars = [self.intercept, *self.points]
        self._bounds = np.array(
            [[v.lb for v in self._all_vars], [v.ub for v in self._all_vars]]
        )
        # CBC takes each cut's row from arrays here: building a python-mip
        # expression per cut cost more than the engine's re-solve (mushroom,
        # k = 10: 164 us a cut, 26,000 cuts in 30 s). Its rows then have no
        # python-mip Constr; they follow the structural rows in the engine's
        # order, as the arrays below do. HiGHS keeps python-mip's way.
        self._direct_rows = backend == "cbc" and _cbc_rows_available()
        self._n_structural = len(rows)
        # a cut row's columns, [thetas, b, l], as _add_cbc_rows lays them out
        self._cut_columns = np.array([v.idx for v in (*self.thetas, *self._score_vars)],
                                     dtype=np.intc)
        self._cut_constrs: list = []
        self._n_cuts = 0
        # the cuts' constants, gradients over (b, l) and last solve at which each
        # was tight, in the engine's order: arrays with spare room, since the
        # safe bound reads them after every solve
        self._cut_const = np.empty(64)
        self._cut_gradient = np.empty((64, d + 1))
        self._cut_last_active = np.empty(64, dtype=np.int64)
        self._cut_block = np.empty(64, dtype=np.int64)  # the block bounded; -1: the whole loss
        self.n_cuts_added = 0
        self.n_solves = 0

    def close(self) -> None:
        """Free the engine's model; the LP cannot be used afterwards."""
        release(self.model)

    def set_bounds(self, lower: np.ndarray, upper: np.ndarray) -> None:
        """Bounds on ``[b, l_1..l_d, z_1..z_d]``; only changed ones reach the engine."""
        for k in np.flatnonzero(lower != self._bounds[0]):
            self._all_vars[k].lb = float(lower[k])
        for k in np.flatnonzero(upper != self._bounds[1]):
            self._all_vars[k].ub = float(upper[k])
        self._bounds = np.array([lower, upper], dtype=float)
        self._column_box = None

    def set_cutoff(self, value: float) -> None:
        """No point with ``theta > value`` (the incumbent's objective) can beat
        the incumbent, so the safe bound counts only the others. The engine is
        not told: with ``theta <= value`` as a bound, "infeasible" would be its
        way to say a node cannot beat the incumbent (a fifth of all LPs), a
        claim we could not check, and engines have called feasible LPs
        infeasible (see ``add_cut``). Without it every prune rests on duals we
        check. Measured no slower (LP solves to certify: breastcancer 1131
        instead of 1220, mammo 4519 instead of 4391).
        """
        self._cutoff = float(value)
        self._column_box = None

    def add_cut(self, loss: float, grad_intercept: float, grad_points: np.ndarray,
                intercept: float, points: np.ndarray, block: int = -1) -> None:
        """Add the cut theta >= loss + g . ((b, l) - (b0, l0)), a tangent plane
        of the loss: of the whole loss (``theta`` the sum of the blocks'
        estimates), or of ``block``'s rows only (``theta`` its estimate).
        """
        gradient = np.concatenate([[grad_intercept], grad_points])[None, :]
        self._add_tangents(np.array([loss], dtype=float), gradient,
                           np.array([block]), np.concatenate([[intercept], points]))

    def add_block_cuts(self, cuts, solution: LPSolution) -> None:
        """Add each block's plane (``cuts`` as ``LossOracle.block_cuts`` gives
        them, at ``solution``'s point) whose estimate lies below it there; at
        least the most violated block's. With one block its estimate is the
        whole loss's, and its plane the whole loss's cut.
        """
        losses, grad_b, grad_l = cuts
        violation = losses - solution.thetas
        violated = np.flatnonzero(violation > 1e-12 * max(1.0, float(losses.sum())))
        if violated.size == 0:
            violated = np.array([int(np.argmax(violation))])
        gradients = np.empty((violated.size, 1 + grad_l.shape[1]))
        gradients[:, 0] = grad_b[violated]
        gradients[:, 1:] = grad_l[violated]
        self._add_tangents(np.asarray(losses, dtype=float)[violated], gradients, violated,
                           np.concatenate([[solution.intercept], solution.points]))

    def _add_tangents(self, losses: np.ndarray, gradients: np.ndarray, blocks: np.ndarray,
                      at: np.ndarray) -> None:
        """The planes ``theta >= losses[i] + gradients[i] . ((b, l) - at)``, one
        per row of ``gradients`` (over (b, l); changed in place), of block
        ``blocks[i]``'s estimate (-1: the whole loss's).
        """
        # Coefficients near zero (the slope in b at a best intercept is ~1e-17)
        # upset the engine's scaling: CBC then called feasible LPs infeasible.
        # Dropping g_k x_k keeps the plane valid if its constant gives up the
        # most that term could contribute over the variable's range.
        magnitude = np.abs(gradients)
        tiny = magnitude < _TINY_COEFFICIENT * np.maximum(1.0, magnitude.max(axis=1))[:, None]
        if tiny.any():
            reach = np.maximum(np.abs(self._global_lower - at), np.abs(self._global_upper - at))
            losses = losses - np.where(tiny, magnitude, 0.0) @ reach
            gradients[tiny] = 0.0
        # one dot per plane, not one matrix product: the same rounding as a
        # plane added alone, so that a search does not depend on how its
        # planes were batched
        consts = np.array([loss - gradient @ at for loss, gradient in zip(losses, gradients)])
        self._insert_planes(consts, gradients, blocks)

    def add_planes(self, planes) -> None:
        """Add planes ``theta >= const + gradient . (b, l)``, given as
        ``(const, gradient, block)`` (block -1: the whole loss), as ``planes``
        lists them.
        """
        planes = list(planes)
        if planes:
            consts, gradients, blocks = zip(*planes)
            self._insert_planes(np.array(consts, dtype=float), np.array(gradients, dtype=float),
                                np.array(blocks, dtype=np.int64))

    def _insert_planes(self, consts: np.ndarray, gradients: np.ndarray,
                       blocks: np.ndarray) -> None:
        """Rows ``theta - gradients[i] . (b, l) >= consts[i]`` into the engine,
        after the cuts already there, and into the cuts' arrays.
        """
        if self._direct_rows:
            self._add_cbc_rows(consts, gradients, blocks)
        else:
            for const, gradient, block in zip(consts, gradients, blocks):
                thetas = self.thetas if block < 0 else [self.thetas[block]]
                variables = [*thetas, *self._score_vars]
                # theta - gradient . (b, l) - const >= 0; LinExpr's constructor is
                # several times faster than building the sum term by term
                expr = mip.LinExpr(
                    variables=variables,
                    coeffs=[*([1.0] * len(thetas)), *(-float(g) for g in gradient)],
                    const=-float(const),
                    sense=">",
                )
                self._cut_constrs.append(self.model.add_constr(expr))
        first, m = self._n_cuts, len(consts)
        if first + m > len(self._cut_const):
            size = max(2 * len(self._cut_const), first + m)
            self._cut_const = np.resize(self._cut_const, size)
            self._cut_gradient = np.resize(self._cut_gradient, (size, gradients.shape[1]))
            self._cut_last_active = np.resize(self._cut_last_active, size)
            self._cut_block = np.resize(self._cut_block, size)
        self._cut_const[first:first + m] = consts
        self._cut_gradient[first:first + m] = gradients
        self._cut_last_active[first:first + m] = self.n_solves
        self._cut_block[first:first + m] = blocks
        self._n_cuts += m
        self.n_cuts_added += m

    def _add_cbc_rows(self, consts: np.ndarray, gradients: np.ndarray,
                      blocks: np.ndarray) -> None:
        """The cuts' rows straight into CBC, their nonzeros found in one pass
        (a plane's row: 1 on its block's theta, or on every theta for the
        whole loss, and ``-gradient`` on (b, l)).
        """
        n_blocks = self.n_blocks
        matrix = np.zeros((len(consts), n_blocks + gradients.shape[1]))
        whole = blocks < 0
        matrix[whole, :n_blocks] = 1.0
        own = np.flatnonzero(~whole)
        matrix[own, blocks[own]] = 1.0
        matrix[:, n_blocks:] = -gradients
        row, position = np.nonzero(matrix)
        columns = self._cut_columns[position]
        coefficients = np.ascontiguousarray(matrix[row, position])
        ends = np.cumsum(np.bincount(row, minlength=len(consts)))
        engine = self.model.solver._model
        column_buffer = _cbc_ffi.from_buffer("int[]", columns)
        coefficient_buffer = _cbc_ffi.from_buffer("double[]", coefficients)
        start = 0
        for i, end in enumerate(ends.tolist()):
            _cbc.Cbc_addRow(engine, b"", end - start, column_buffer + start,
                            coefficient_buffer + start, b">", float(consts[i]))
            start = end

    @property
    def planes(self) -> list[tuple[float, np.ndarray, int]]:
        n = self.n_cuts
        return list(zip(self._cut_const[:n].tolist(), self._cut_gradient[:n].copy(),
                        self._cut_block[:n].tolist()))

    @property
    def n_cuts(self) -> int:
        return self._n_cuts

    def purge_cuts(self, solution: LPSolution, max_idle: int) -> None:
        """Drop cuts slack for more than ``max_idle`` solves: a small LP re-solves fast.

        Dropping a cut only weakens the relaxation, so bounds stay valid.
        """
        n = self.n_cuts
        if not n:
            return
        at = np.concatenate([[solution.intercept], solution.points])
        block = self._cut_block[:n]
        theta = np.where(block < 0, solution.theta, solution.thetas[np.maximum(block, 0)])
        slack = theta - (self._cut_const[:n] + self._cut_gradient[:n] @ at)
        last = self._cut_last_active[:n]  # a view: the update below is kept
        last[slack <= 1e-9 * max(1.0, abs(solution.theta))] = self.n_solves
        is_idle = self.n_solves - last > max_idle
        if not is_idle.any():
            return
        idle, keep = np.flatnonzero(is_idle), np.flatnonzero(~is_idle)
        if self._direct_rows:
            rows = (self._n_structural + idle).astype(np.intc)
            _cbc.Cbc_deleteRows(self.model.solver._model, len(rows),
                                _cbc_ffi.from_buffer("int[]", rows))
        else:
            self.model.remove([self._cut_constrs[k] for k in idle])
            self._cut_constrs = [self._cut_constrs[k] for k in keep]
        self._n_cuts = len(keep)
        for array in (self._cut_const, self._cut_gradient, self._cut_last_active,
                      self._cut_block):
            array[: len(keep)] = array[keep]

    def solve(self) -> LPSolution:
        self.n_solves += 1
        try:
            if self.n_solves == 1 and self.backend == "cbc":
                # CLP prints its first solve to the C stdout whatever the log level
                with _quiet_c_stdout():
                    status = self.model.optimize(relax=True)
            else:
                status = self.model.optimize(relax=True)
        except Exception as exc:
            raise SolverError(f"the {self.backend!r} LP engine failed: {exc}") from exc
        if status == mip.OptimizationStatus.INFEASIBLE:
            raise LPInfeasible
        if status != mip.OptimizationStatus.OPTIMAL:
            raise SolverError(f"the {self.backend!r} LP engine returned {status.name}")
        values, reduced_costs = self._read_columns()
        d = self.problem.n_features
        objective = float(self.model.objective_value)
        bound, safe_reduced_costs = self._safe_bound()
        if safe_reduced_costs is not None:
            reduced_costs = safe_reduced_costs
        return LPSolution(
            objective=objective,
            bound=min(objective, bound),
            intercept=float(values[0]),
            points=values[1 : 1 + d],
            used=values[1 + d : 1 + 2 * d],
            thetas=values[1 + 2 * d:],
            reduced_costs=reduced_costs[: 1 + 2 * d],
        )

    def _safe_bound(self) -> tuple[float, np.ndarray | None]:
        """A lower bound on the LP from the engine's row duals, by weak duality.

        For any duals ``y`` of the right signs (>= 0 on >= rows, <= 0 on <= rows),
        ``y . rhs + sum_j min over [lb_j, ub_j] of (c - A'y)_j x_j`` bounds the LP
        from below, however far from optimal ``y`` is. So the bound stays valid
        when the engine reports "optimal" for a point that is not (measured: CBC
        claimed 0.0818 at a root where a feasible point had 0.0772). Also returns
        the reduced costs ``c - A'y`` of ``[b, l, z]``, for fixing by reduced cost
        on the same footing (None without duals). Each ``theta`` ranges up to
        the cutoff only (a block's loss is at most the whole objective): the
        bound is over the points that could beat the incumbent, which is all
        that pruning and the final lower bound need.
        """
        duals = self._read_row_duals()
        n_cuts = self.n_cuts
        n_structural = len(self._row_rhs)
        if duals is None or len(duals) != n_structural + n_cuts:
            return -np.inf, None
        # rows: >= rows take duals >= 0, <= rows duals <= 0; every cut
        # theta - g . (b, l) >= const is a >= row
        row_duals = duals[:n_structural]
        row_duals = np.where(self._row_at_least, np.maximum(row_duals, 0.0),
                             np.minimum(row_duals, 0.0))
        cut_duals = np.maximum(duals[n_structural:], 0.0)
        reduced = self._cost - self._row_matrix.T @ row_duals
        reduced[: self._cut_gradient.shape[1]] += self._cut_gradient[:n_cuts].T @ cut_duals
        # a cut of the whole loss has 1 on every theta, a block's on its own
        block = self._cut_block[:n_cuts]
        of_block = block >= 0
        n_blocks = self.n_blocks
        reduced[-n_blocks:] -= cut_duals[~of_block].sum() + np.bincount(
            block[of_block], weights=cut_duals[of_block], minlength=n_blocks)
        if self._column_box is None:  # each theta in [0, cutoff]
            self._column_box = (np.concatenate([self._bounds[0], np.zeros(n_blocks)]),
                                np.concatenate([self._bounds[1], np.full(n_blocks, self._cutoff)]))
        lower, upper = self._column_box
        bound = float(row_duals @ self._row_rhs + cut_duals @ self._cut_const[:n_cuts]
                      + np.where(reduced > 0, reduced * lower, reduced * upper).sum())
        if not np.isfinite(bound):
            return -np.inf, None
        return bound, reduced[:-n_blocks]

    def _read_row_duals(self) -> np.ndarray | None:
        m = self._n_structural + self._n_cuts
        solver = self.model.solver
        if self._direct_rows and _cbc.Cbc_getNumRows(solver._model) != m:
            return None  # rows out of step with the cuts' arrays: no bound rather than a wrong one
        if self.backend == "cbc":
            pi = getattr(solver, "_SolverCbc__pi", None)
            if pi is not None and isinstance(pi, _cbc_ffi.CData):
                return np.frombuffer(_cbc_ffi.buffer(pi, 8 * m), dtype=float).copy()
        elif isinstance(getattr(solver, "_pi", None), list) and len(solver._pi) == m:
            return np.array(solver._pi, dtype=float)
        try:
            return np.array([c.pi for c in self.model.constrs], dtype=float)
        except Exception:  # no duals available: no safe bound
            return None

    def _read_columns(self):
        """Primal values and reduced costs of all columns, read in bulk."""
        n = self.model.num_cols
        solver = self.model.solver
        if self.backend == "cbc":
            x, rc = getattr(solver, "_SolverCbc__x", None), getattr(solver, "_SolverCbc__rc", None)
            if x is not None and rc is not None:
                return (np.frombuffer(_cbc_ffi.buffer(x, 8 * n), dtype=float).copy(),
                        np.frombuffer(_cbc_ffi.buffer(rc, 8 * n), dtype=float).copy())
        elif isinstance(getattr(solver, "_x", None), list) and len(solver._x) == n:
            return np.array(solver._x, dtype=float), np.array(solver._rc, dtype=float)
        columns = self._all_vars + self.thetas
        return np.array([v.x for v in columns]), np.array([v.rc for v in columns])


# python-mip's handle on CBC's C library; absent where the library did not load
_cbc = getattr(mip.cbc, "cbclib", None)


def _cbc_rows_available() -> bool:
    return _cbc is not None and all(
        hasattr(_cbc, name) for name in ("Cbc_addRow", "Cbc_deleteRows", "Cbc_getNumRows"))


# Default LP tolerances (1e-7) leave LP bounds up to ~1e-7 off in relative terms,
# which is what limits how small a gap can be certified; 1e-9 is still well
# above double precision for these small, well-scaled LPs.
_LP_TOLERANCE = 1e-9
_TINY_COEFFICIENT = 1e-9


def _tighten_tolerances(model: mip.Model, backend: str) -> None:
    solver = model.solver
    try:
        if backend == "cbc":
            from mip.cbc import cbclib

            cbclib.Cbc_setPrimalTolerance(solver._model, _LP_TOLERANCE)
            cbclib.Cbc_setDualTolerance(solver._model, _LP_TOLERANCE)
        else:
            solver._set_double_option_value("primal_feasibility_tolerance", _LP_TOLERANCE)
            solver._set_double_option_value("dual_feasibility_tolerance", _LP_TOLERANCE)
    except (AttributeError, TypeError) as exc:  # a python-mip without these hooks
        logger.debug("could not tighten LP tolerances: %s", exc)


# File descriptor 1 belongs to the whole process: fits in several threads share
# one redirect, counted, so that it starts with the first quiet section and
# ends with the last. Each thread restoring its own saved copy would leave fd 1
# on /dev/null when sections overlap, and let engine logs through in between.
_quiet_lock = threading.Lock()
_quiet_depth = 0
_saved_stdout_fd: int | None = None


@contextlib.contextmanager
def _quiet_c_stdout():
    """Send what C code writes to file descriptor 1 to /dev/null for a moment.

    Thread-safe: overlapping sections in several threads share one redirect.
    """
    global _quiet_depth, _saved_stdout_fd
    with _quiet_lock:
        if _quiet_depth == 0:
            try:
                sys.stdout.flush()
                saved = os.dup(1)
            except (OSError, ValueError, AttributeError):  # no real stdout (embedded)
                saved = None
            if saved is not None:
                devnull = os.open(os.devnull, os.O_WRONLY)
                try:
                    os.dup2(devnull, 1)
                finally:
                    os.close(devnull)
            _saved_stdout_fd = saved
        _quiet_depth += 1
    try:
        yield
    finally:
        with _quiet_lock:
            _quiet_depth -= 1
            if _quiet_depth == 0 and _saved_stdout_fd is not None:
                # the engine writes through C stdio: empty its buffer into
                # /dev/null before fd 1 points at the real stdout again
                _flush_c_stdio()
                os.dup2(_saved_stdout_fd, 1)
                os.close(_saved_stdout_fd)
                _saved_stdout_fd = None


def _flush_c_stdio() -> None:
    try:
        ctypes.CDLL(None).fflush(None)
    except (OSError, AttributeError, TypeError):  # no C library handle here
        pass
