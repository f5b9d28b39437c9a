"""Searching the score scale: risk = 1 / (1 + exp(-score / s)) with s fitted.

Heuristic peers fit a real multiplier and a real intercept on the score (Platt
scaling). At a fixed scale ``s`` the best integer points with a real intercept
are again a RiskSLIM problem (``score_scale=s``, ``integer_intercept=False``),
so the scale is searched by certified solves: a geometric grid (stepping past
its ends while the end is best), a golden-section refinement around the best
point, and last the scale that Platt scaling gives the best points, so that no
refit of (scale, intercept) on the chosen points can improve on the answer.
The result is certified for the scale it reports; other scales are only as
good as the search found.
"""

from __future__ import annotations

import dataclasses
import math
import time

import numpy as np
from scipy.optimize import minimize

from ._branch_and_bound import BranchAndBound
from ._certify import certify
from ._loss import LossOracle
from ._problem import RiskScoreProblem, intercept_bound
from ._result import SolverResult, SolverStatus

__all__ = ["search_scale"]

GRID = (1.0, 1.5, 2.0, 3.0, 4.0, 6.0)
REFINEMENTS = 4
# When the best scale is at an end of the grid, the search steps past it by this
# factor while that keeps improving: below 1 for nearly separable data, where
# the points would need to exceed max_coef to be as steep as the data allow.
_STEP = 2.0
_MAX_STEPS = 3
_FIRST_SHARE = 1 / 3
_STARTS = 2  # best models so far, polished as first incumbents at the next scale
_MIN_SLICE = 0.01  # of the time limit: below this, no further scale is tried
_GOLDEN = (math.sqrt(5) - 1) / 2
_PLATT_STEPS = 3


def search_scale(problem: RiskScoreProblem, *, time_limit: float, gap_tolerance: float,
                 **options) -> SolverResult:
    """The best (scale, model) pair found; ``result.score_scale`` is the scale."""
    start = time.perf_counter()
    evaluations = len(GRID) + REFINEMENTS + _PLATT_STEPS
    results: dict[float, SolverResult] = {}
    best_models: list = []

    progress = options.pop("progress", None)
    rows = LossOracle(problem.X, problem.y, problem.sample_weight)  # for the Platt fits

    def evaluate(scale: float) -> float:
        if scale in results:
            return results[scale].objective
        offset = time.perf_counter() - start
        remaining = time_limit - offset
        if results and remaining <= _MIN_SLICE * time_limit:
            return math.inf  # out of time: the scales searched so far must do
        left = max(evaluations - len(results), 1)
        # scale 1 (the plain RiskSLIM problem, and the fallback) gets a larger slice
        share = _FIRST_SHARE if not results else 1.0 / left
        scaled = _rescaled(problem, scale)
        # one clock for the whole search, not one per scale
        report = None if progress is None else (
            lambda p: progress(dataclasses.replace(p, elapsed=p.elapsed + offset))
        )
        result = BranchAndBound(
            scaled, time_limit=max(remaining * share, 0.05), gap_tolerance=gap_tolerance,
            initial_models=_starts(problem, best_models, scale),
            progress=report, **options,
        ).solve()
        result = dataclasses.replace(certify(scaled, result, gap_tolerance), score_scale=scale)
        results[scale] = result
        if result.model is not None:
            best_models.append((result.objective, result.model.intercept, result.model.points,
                                scale))
            best_models.sort(key=lambda entry: entry[0])
            del best_models[_STARTS:]
        return result.objective

    def best_scale() -> float:
        return min(results, key=lambda s: results[s].objective)

    for scale in GRID:
        evaluate(scale)
        if results[scale].status in (SolverStatus.INFEASIBLE, SolverStatus.ERROR):
            return results[scale]
    for end, factor in ((GRID[0], 1 / _STEP), (GRID[-1], _STEP)):
        scale = end
        for _ in range(_MAX_STEPS):
            if best_scale() != scale:
                break
            evaluations += 1
            scale = round(scale * factor, 4)
            evaluate(scale)
    ordered = sorted(results)
    position = ordered.index(best_scale())
    low = ordered[max(position - 1, 0)]
    high = ordered[min(position + 1, len(ordered) - 1)]
    # golden-section search on [low, high] (in log scale), the grid best inside
    a, b = math.log(low), math.log(high)
    for _ in range(REFINEMENTS // 2):
        c = b - _GOLDEN * (b - a)
        e = a + _GOLDEN * (b - a)
        fc, fe = evaluate(round(math.exp(c), 4)), evaluate(round(math.exp(e), 4))
        if fc <= fe:
            b = e
        else:
            a = c
    # The best points' own Platt scale; a better model there has its own Platt
    # scale in turn: repeat while that moves the answer.
    for _ in range(_PLATT_STEPS):
        best = results[best_scale()]
        if best.model is None:
            break
        scale = platt_scale(rows, best.model.points, best.model.intercept, best.score_scale)
        if scale is None or scale in results:
            break
        evaluate(scale)
    return results[best_scale()]


def platt_scale(oracle: LossOracle, points, intercept: float,
                scale: float) -> float | None:
    """The scale of the best fit ``1 / (1 + exp(-(a x.points + c)))`` (``1 / a``)
    on the distinct rows of ``oracle`` (built at scale 1), starting from the
    model's own ``(1 / scale, intercept / scale)``; None if the fit fails or
    does not give a positive scale."""
    S = oracle.X @ np.asarray(points, dtype=float)
    weight, negative = oracle.weight, oracle.negative_weight

    def loss(params):
        margin = params[0] * S + params[1]
        p = 1.0 / (1.0 + np.exp(np.clip(margin, -700, 700)))  # sigmoid(-margin)
        value = weight @ np.logaddexp(0.0, -margin) + negative @ margin
        slope = negative - weight * p
        return value, np.array([slope @ S, slope.sum()]), weight * p * (1.0 - p)

    def hessian(params):
        c = loss(params)[2]
        return np.array([[c @ S**2, c @ S], [c @ S, c.sum()]])

    start = np.array([1.0 / scale, intercept / scale])
    fit = minimize(lambda v: loss(v)[:2], start, jac=True, hess=hessian, method="trust-exact")
    if not (np.all(np.isfinite(fit.x)) and fit.x[0] > 0 and fit.fun <= loss(start)[0]):
        return None
    return round(float(1.0 / fit.x[0]), 6)


def _starts(problem: RiskScoreProblem, best_models, scale: float) -> list:
    """First incumbents at ``scale``: the best models so far as they are, and
    stretched by the ratio of the scales (the same risks, if rounding allowed),
    which is where good points at the new scale usually lie."""
    starts = []
    for _, intercept, points, old_scale in best_models:
        starts.append((intercept, points))
        ratio = scale / old_scale
        stretched = np.clip(np.round(points * ratio), problem.coef_lower, problem.coef_upper)
        if not np.array_equal(stretched, points):
            starts.append((intercept * ratio, stretched.astype(int)))
    return starts


def _rescaled(problem: RiskScoreProblem, scale: float) -> RiskScoreProblem:
    reach = max(
        intercept_bound(problem.X, problem.y, problem.sample_weight, problem.coef_lower,
                        problem.coef_upper, problem.max_features, scale),
        abs(problem.intercept_lower), abs(problem.intercept_upper),
    )
    return dataclasses.replace(problem, score_scale=scale, integer_intercept=False,
                               intercept_lower=-reach, intercept_upper=reach)
