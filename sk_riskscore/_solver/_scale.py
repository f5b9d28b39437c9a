"""Searching the score scale: risk = 1 / (1 + exp(-score / s)) with s fitted.

Heuristic peers fit a real multiplier and a real intercept on the score (Platt
scaling). At a fixed scale ``s`` the best integer points with a real intercept
are again a RiskSLIM problem (``score_scale=s``, ``integer_intercept=False``),
so the scale is searched by certified solves: first the best scales of a
heuristic scan (star-ray rounding over a fine grid, see ``_scan``), then a
geometric grid (stepping past its ends while the end is best), a golden-section
refinement around the best point, and last the scale that Platt scaling gives
the best points, so that no refit of (scale, intercept) on the chosen points
can improve on the answer. Every solve starts from the best models so far.
The result is certified for the scale it reports; other scales are only as
good as the search found.
"""

from __future__ import annotations

import dataclasses
import math
import time

import numpy as np
from threadpoolctl import threadpool_limits

from ._branch_and_bound import BranchAndBound
from ._certify import certify
from ._feasibility import FeasibilityChecker
from ._loss import LossOracle
from ._parallel import effective_n_jobs
from ._problem import RiskScoreProblem, max_abs_score, root_box
from ._result import SolverResult, SolverStatus, relative_gap
from ._saturated import BUILD_SHARE, saturated_bound, valuing_deadlines
from ._scan import ScaledModel, platt_scale, rescaled, scan_scales

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
_MIN_SLICE = 0.05  # of the time limit: below this, no further scale is tried
_GOLDEN = (math.sqrt(5) - 1) / 2
_PLATT_STEPS = 3
_SCAN_SHARE = 0.75  # of the time limit, at most, for the heuristic scan of scales
_SCANNED = 2  # the scan's best scales are solved first


def search_scale(problem: RiskScoreProblem, *, time_limit: float, gap_tolerance: float,
                 **options) -> SolverResult:
    """The best (scale, model) pair found; ``result.score_scale`` is the scale."""
    start = time.perf_counter()
    rows = LossOracle(problem.X, problem.y, problem.sample_weight)  # at scale 1
    progress = options.pop("progress", None)
    # Workers take a second to start: they serve the final certificate (the
    # chosen scale, with the time left), not each scale's short solve.
    n_jobs = options.pop("n_jobs", None)
    # one BLAS thread, as in BranchAndBound.solve: small products, and spinning
    # threads slow a loaded machine
    with threadpool_limits(limits=1, user_api="blas"):
        scanned = scan_scales(problem, rows,
                              deadline=start + _SCAN_SHARE * time_limit)[:_SCANNED]
        # The saturated bound holds at every scale, so every solve below shares
        # it (cached on the rows); built here, it gets the share of the whole
        # time limit, not of one scale's slice (heloc binarized, k = 5: its
        # list of supports takes 6 s, more than a quarter of any slice).
        bound = saturated_bound(rows, FeasibilityChecker(problem).max_support,
                                time.perf_counter() + BUILD_SHARE * time_limit)
        if bound is not None and bound.supports is None and scanned:
            _value_supports(bound, problem, rows, scanned[0], start + time_limit, n_jobs)
    evaluations = len(scanned) + len(GRID) + REFINEMENTS + _PLATT_STEPS
    results: dict[float, SolverResult] = {}
    best_models = [(m.objective, m.intercept, m.points, m.scale) for m in scanned]

    def evaluate(scale: float, n_jobs=None, final: bool = False) -> float:
        if scale in results:
            return results[scale].objective
        offset = time.perf_counter() - start
        remaining = time_limit - offset
        if results and remaining <= _MIN_SLICE * time_limit:
            return math.inf  # out of time: the scales searched so far must do
        left = max(evaluations - len(results), 1)
        # the first scale (the scan's best, or scale 1) is the fallback: a larger slice
        share = _FIRST_SHARE if not results else 1.0 / left
        scaled = rescaled(problem, scale)
        # one clock for the whole search, not one per scale
        report = None if progress is None else (
            lambda p: progress(dataclasses.replace(p, elapsed=p.elapsed + offset))
        )
        # Only a model better than every scale's so far, by more than the gap
        # tolerance, can change the answer: a scale with none ends as soon as
        # its bound shows it (breastcancer binarized, k = 7: scales 3, 4 and 6
        # took 10 s to certify their own, worse, optima; separable mushroom:
        # the separation bound, the same at every scale, meets the best
        # objective up to its last bits). The chosen scale's last solve proves
        # its own optimum.
        best = min((r.objective for r in results.values()), default=math.inf)
        cutoff = math.inf if final else best * (1.0 - gap_tolerance)
        result = BranchAndBound(
            scaled, time_limit=max(remaining * share, 0.05), gap_tolerance=gap_tolerance,
            initial_models=_starts(problem, best_models, scale),
            progress=report, rows=rows, n_jobs=n_jobs, cutoff=cutoff, **options,
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

    for scale in [m.scale for m in scanned] + list(GRID):
        evaluate(scale)
        if scale in results and results[scale].status in (SolverStatus.INFEASIBLE,
                                                          SolverStatus.ERROR):
            return results[scale]
    # Step past an end of the grid while that end is the grid's best (the
    # scan's scales aside: mushroom's scan settles at s = 0.03 while the grid
    # leads down to a better model at 0.15).
    stepped = [scale for scale in GRID if scale in results]
    for end, factor in ((GRID[0], 1 / _STEP), (GRID[-1], _STEP)):
        scale = end
        for _ in range(_MAX_STEPS):
            if not stepped or min(stepped, key=lambda s: results[s].objective) != scale:
                break
            evaluations += 1
            scale = round(scale * factor, 4)
            evaluate(scale)
            if scale not in results:
                break
            stepped.append(scale)
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
    # The Platt scale of the best Platt fit among every model the solves kept
    # (their pools), not the best model's alone: compas binarized, k = 10, the
    # fit of a model from scale 6's pool is better (0.604326 at s = 5.72) than
    # the best model found (0.604358 at 6.50), whose own fit stays there. A
    # better model at that scale has its own Platt scale in turn: repeat while
    # that moves the answer.
    for _ in range(_PLATT_STEPS):
        scale = platt_scale(rows, [(model.points, model.intercept, result.score_scale)
                                   for result in results.values() for model in result.pool],
                            problem.c0)
        if scale is None or scale in results:
            break
        evaluate(scale)
    # Whatever time is left goes to the chosen scale's certificate (the scales'
    # slices often end early, and runs returned after 22-25 s of 30): a second
    # search there, its bound combined with the first one's.
    scale = best_scale()
    first = results[scale]
    if (first.status in (SolverStatus.TIME_LIMIT, SolverStatus.NODE_LIMIT,
                         SolverStatus.INCOMPLETE)
            and time_limit - (time.perf_counter() - start) > _MIN_SLICE * time_limit):
        del results[scale]
        evaluations = len(results) + 1 if results else 1
        evaluate(scale, n_jobs, final=True)
        results[scale] = _combined(first, results.get(scale), gap_tolerance)
    return results[scale]


def _value_supports(bound, problem: RiskScoreProblem, rows: LossOracle, best: ScaledModel,
                    end: float, n_jobs) -> None:
    """Value the supports that the saturated bound lists for the box (none
    built for the rows) at the scan's best scale, with the shares of the whole
    time left (``SaturatedBound.at_box`` keeps the result for that scale): that
    scale is solved first and, when chosen,
    last, and its first slice is too short for large lists (breastcancer
    binarized, k = 10: 16-19 s to value 184,096 supports; the first slice is a
    third of the time limit, of which the list gets half).
    """
    scaled = rescaled(problem, best.scale)
    oracle = rows.at_scale(best.scale, max_abs_score(scaled))
    now = time.perf_counter()
    # the solve's threshold is its incumbent's objective, at most the scan's
    # model's (it starts from it), give or take rounding
    threshold = best.objective + 1e-9 * (1.0 + abs(best.objective))
    bound.at_box(oracle, *root_box(scaled), threshold,
                 *valuing_deadlines(now, max(end - now, 0.0)), effective_n_jobs(n_jobs))


def _combined(first: SolverResult, second: SolverResult | None,
              gap_tolerance: float) -> SolverResult:
    """Two certified searches of one problem: the better model, the higher of
    the two proven bounds.
    """
    if second is None or second.model is None or second.status == SolverStatus.ERROR:
        return first
    best = second if second.objective < first.objective else first
    lower_bound = min(max(first.lower_bound, second.lower_bound), best.objective)
    gap = relative_gap(best.objective, lower_bound)
    status = SolverStatus.OPTIMAL if gap <= gap_tolerance else second.status
    # the second search runs after the first, so its bound at half its time
    # counts the first one's final bound too, as the combined bound does
    half_time = min(max(first.lower_bound, second.statistics.lower_bound_at_half_time),
                    lower_bound)
    statistics = dataclasses.replace(
        second.statistics, time=first.statistics.time + second.statistics.time,
        n_nodes=first.statistics.n_nodes + second.statistics.n_nodes,
        n_lp_solves=first.statistics.n_lp_solves + second.statistics.n_lp_solves,
        lower_bound_at_half_time=half_time)
    return dataclasses.replace(best, lower_bound=lower_bound, gap=gap, status=status,
                               statistics=statistics, message=second.message)


def _starts(problem: RiskScoreProblem, best_models, scale: float) -> list:
    """First incumbents at ``scale``: the best models so far as they are, and
    stretched by the ratio of the scales (the same risks, if rounding allowed),
    which is where good points at the new scale usually lie.
    """
    starts = []
    for _, intercept, points, old_scale in best_models:
        starts.append((intercept, points))
        ratio = scale / old_scale
        stretched = np.clip(np.round(points * ratio), problem.coef_lower, problem.coef_upper)
        if not np.array_equal(stretched, points):
            starts.append((intercept * ratio, stretched.astype(int)))
    return starts
