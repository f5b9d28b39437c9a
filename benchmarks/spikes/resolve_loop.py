"""Spike A (not shipped): verify-and-resolve loop around a from-scratch MIP.

Master problem: the RiskSLIM MIP with the loss replaced by the cuts found so
far, solved to optimality by CBC or HiGHS *without callbacks* (CBC's lazy
callbacks returned a wrong "optimal" model on 10 of 10 random small problems
checked by enumeration). Its optimum is a valid lower bound;
the true objective at its solution is an upper bound; a cut at that solution
is added and the MIP solved again until the two meet. Correct, but every round
re-solves a whole MIP.

Kept to reproduce the design comparison in benchmarks/RESULTS.md; the shipped
solver is the branch-and-bound in sk_riskscore/_solver.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import mip
import numpy as np

from sk_riskscore._solver import RiskScoreProblem
from sk_riskscore._solver._loss import LossOracle
from sk_riskscore._solver._lp import _quiet_c_stdout


@dataclass
class LoopResult:
    objective: float
    lower_bound: float
    points: np.ndarray
    intercept: int
    rounds: int
    seconds: float
    optimal: bool


def resolve_loop(problem: RiskScoreProblem, backend="cbc", time_limit=60.0,
                 gap_tolerance=1e-4) -> LoopResult:
    start = time.perf_counter()
    oracle = LossOracle(problem.X, problem.y, problem.sample_weight)
    d = problem.n_features
    m = mip.Model(solver_name={"cbc": mip.CBC, "highs": mip.HIGHS}[backend])
    m.verbose = 0
    m.threads = 0
    b = m.add_var(var_type=mip.INTEGER, lb=problem.intercept_lower, ub=problem.intercept_upper)
    pts = [m.add_var(var_type=mip.INTEGER, lb=int(lo), ub=int(hi))
           for lo, hi in zip(problem.coef_lower, problem.coef_upper)]
    used = [m.add_var(var_type=mip.BINARY) for _ in range(d)]
    theta = m.add_var(lb=0)
    for j in range(d):
        m += pts[j] <= int(problem.coef_upper[j]) * used[j]
        m += pts[j] >= int(problem.coef_lower[j]) * used[j]
    if problem.max_features is not None:
        m += mip.xsum(used) <= problem.max_features
    if problem.min_features:
        m += mip.xsum(used) >= problem.min_features
    m.objective = mip.minimize(theta + mip.xsum(float(c) * z for c, z in zip(problem.c0, used)))
    m.max_mip_gap = 1e-9
    m.max_mip_gap_abs = 1e-12

    def add_cut(intercept, points):
        loss, gb, gl = oracle.loss_and_gradient(intercept, points)
        const = loss - gb * intercept - float(gl @ points)
        m.add_constr(theta >= const + gb * b + mip.xsum(float(g) * v for g, v in zip(gl, pts)))

    add_cut(0.0, np.zeros(d))
    best = (np.inf, None, None)
    lower = -np.inf
    rounds = 0
    while time.perf_counter() - start < time_limit:
        rounds += 1
        m.max_seconds = max(1.0, time_limit - (time.perf_counter() - start))
        with _quiet_c_stdout():
            status = m.optimize()
        if status != mip.OptimizationStatus.OPTIMAL:
            break
        lower = max(lower, float(m.objective_bound))
        intercept = int(round(b.x))
        points = np.array([int(round(v.x)) for v in pts])
        objective = oracle.loss(intercept, points) + float(problem.c0 @ (points != 0))
        if objective < best[0]:
            best = (objective, intercept, points)
        if best[0] - lower <= gap_tolerance * best[0]:
            break
        add_cut(intercept, points)
    return LoopResult(best[0], lower, best[2], best[1], rounds,
                      time.perf_counter() - start,
                      best[0] - lower <= gap_tolerance * best[0])
