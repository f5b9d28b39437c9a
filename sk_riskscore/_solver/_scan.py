"""A heuristic scan of score scales, to tell the certified scale search where to look.

The loss of the best points as a function of the scale has many local minima
(mammo, 5 features: 0.46016 at scale 1.79, 0.46025 at 3.04), and a certified
solve per scale is too dear to sample them finely. FasterRisk and imodels
search the scale by "star-ray" rounding: a continuous sparse fit ``beta`` at
scale 1 becomes integer points ``round(s beta)`` at scale ``s``. This does the
same with our own sequential rounding and discrete polishing, on the beam
search's best supports and a fine geometric grid of scales, then alternates
Platt scaling and polishing on the best few models. The models it returns are
only heuristic; the caller solves their scales certified and starts from them.
"""

from __future__ import annotations

import dataclasses
import itertools
import math
import time

import numpy as np
from scipy.special import expit

from ._beam import beam_supports
from ._feasibility import FeasibilityChecker
from ._heuristics import IntegerSearch
from ._loss import LossOracle
from ._problem import (
    RiskScoreProblem,
    intercept_bound,
    largest_score,
    max_abs_score,
    separating_gap,
)

__all__ = ["ScaledModel", "platt_scale", "rescaled", "scan_scales"]

# 25 scales from 1/4 to 16: neighbours 19 % apart, fine enough that the
# rounding of s beta changes by about one point between them.
SCAN_SCALES = tuple(float(s) for s in np.geomspace(0.25, 16.0, 25))
_SUPPORTS = 4  # beam supports rounded at each scale
# (rounded models polished, best models refined by alternating calibrated
# moves and polishing) of each stage, cumulative
_STAGES = ((10, 2), (30, 5))
_REFINE_STEPS = 3
_CALIBRATED_MOVES = 20
_JOINT_SIZES = (2, 3)  # points moved together where no single move improves
_NEWTON_STEPS = 50
# Separable rows: the loss falls towards 0 as the scale does, without a
# minimum. The fit stops where every row's margin (score / scale, from the
# threshold) is at least this: there expit rounds to 0 or 1 in double precision
# (expit(37) == 1.0), so no steeper scale changes a risk, and each row's loss is
# below 1e-16.
_SATURATING_MARGIN = 37.0
_EXTEND = 4  # extra halvings below the grid while the lowest scale is best


@dataclasses.dataclass(frozen=True)
class ScaledModel:
    """Integer points with a real intercept at a score scale, and their objective."""

    objective: float
    scale: float
    intercept: float
    points: np.ndarray


def scan_scales(problem: RiskScoreProblem, rows: LossOracle,
                deadline: float) -> list[ScaledModel]:
    """Heuristic models over a grid of scales, best first, at most one per scale.

    ``rows`` is the problem's loss oracle at scale 1. Stops adding models at
    ``deadline`` (a ``time.perf_counter()`` value).
    """
    # Fits within the point bounds at the smallest scale, so that rounding
    # s beta can still reach them at every scale of the grid.
    widest = 1.0 / SCAN_SCALES[0]
    supports = beam_supports(rows, problem.coef_lower * widest, problem.coef_upper * widest,
                             problem.max_support, deadline=deadline)[:_SUPPORTS]
    if not supports:
        return []
    searches: dict[float, IntegerSearch] = {}
    largest = largest_score(problem.X, problem.coef_lower, problem.coef_upper,
                            problem.max_support)

    def search_at(scale: float) -> IntegerSearch:
        if scale not in searches:
            scaled = rescaled(problem, scale, largest)
            oracle = rows.at_scale(scale, max_abs_score(scaled, largest))
            if searches:
                searches[scale] = next(iter(searches.values())).at_scale(
                    oracle, FeasibilityChecker(scaled))
            else:
                searches[scale] = IntegerSearch(oracle, FeasibilityChecker(scaled), problem.c0,
                                                real_intercept=True)
        return searches[scale]

    def star_ray(scale: float) -> list[tuple[float, int, np.ndarray]]:
        """The supports' fits stretched to ``scale`` and rounded to the nearest
        admissible points: (objective, b, points). Polishing does the rest.
        """
        search = search_at(scale)
        out = []
        for support, intercept, coefs, _ in supports:
            points = np.zeros(problem.n_features, dtype=int)
            points[list(support)] = np.round(coefs * scale)
            points = np.clip(points, problem.coef_lower, problem.coef_upper)
            if search.feasibility.is_feasible(points):
                b, loss = search.best_intercept(search.scores(0, points),
                                                int(round(intercept * scale)))
                out.append((loss, b, points))
        return out

    # Round everywhere first (cheap), then polish the most promising first, so
    # that a short deadline still leaves the best of the grid polished.
    rounded = [(objective, scale, b, points)
               for scale in SCAN_SCALES for objective, b, points in star_ray(scale)]
    found: dict[float, ScaledModel] = {}

    def polish(scale: float, intercept: float, points, swaps: bool) -> ScaledModel:
        b, points, objective = search_at(scale).polish(intercept, points, swaps=swaps)
        model = ScaledModel(objective, scale, b, points)
        if scale not in found or model.objective < found[scale].objective:
            found[scale] = model
        return model

    def calibrated_descent(model: ScaledModel) -> ScaledModel:
        """Moves of one point by one, each scored with its refitted (scale,
        intercept), as the peers' local search does; the best move while any
        improves. At a fixed scale a move that needs a steeper or flatter
        score looks worse than it is (breastcancer, 10 features: one point
        5 instead of 4 at scale 10.26 instead of 9.92). Where no single move
        improves, two or three points shrink or grow by one together: the
        scale's refit makes up for the rest (compas, 10 features: three
        points one smaller at scale 5.72 instead of 6.50, imodels' model,
        where each alone made the loss worse).
        """
        points = model.points.copy()
        S = rows.X @ points
        fit = _platt_fit(rows, S, (1.0 / model.scale, model.intercept / model.scale))
        if fit is None:
            return model
        penalty = float(problem.c0 @ (points != 0))
        checker = search_at(model.scale).feasibility

        def best_of(moves):
            best = None
            for columns, values in moves:
                if time.perf_counter() > deadline:
                    break
                trial = points.copy()
                trial[columns] = values
                if not checker.is_feasible(trial):
                    continue
                moved = _platt_fit(rows, S + rows.X[:, columns] @ (values - points[columns]),
                                   fit[:2])
                if moved is None:
                    continue
                change = _penalty_change(problem.c0, columns, points[columns], values)
                if moved[2] + change < fit[2] + (best[0] if best else 0.0) - 1e-12:
                    best = (moved[2] + change - fit[2], columns, values, moved)
            return best

        for _ in range(_CALIBRATED_MOVES):
            if time.perf_counter() > deadline:
                break
            best = best_of(_single_moves(points)) or best_of(_joint_moves(points))
            if best is None:
                break
            _, columns, values, fit = best
            S = S + rows.X[:, columns] @ (values - points[columns])
            penalty += _penalty_change(problem.c0, columns, points[columns], values)
            points[columns] = values
        a, c, loss = fit
        scale = _rounded_scale(a)
        return ScaledModel(loss + penalty, scale, c / a, points)

    def extend_low_end() -> None:
        """Separable data want ever steeper scores: follow the low end down."""
        scale = SCAN_SCALES[0]
        for _ in range(_EXTEND):
            if not found or min(found.values(), key=_objective).scale != scale:
                break
            if time.perf_counter() > deadline:
                break
            scale = scale / 2
            for _, b, points in star_ray(scale):
                polish(scale, b, points, swaps=False)

    refined = set()

    def refine(model: ScaledModel) -> None:
        """Alternate calibrated moves and polishing, once per (scale, points)."""
        key = (model.scale, model.points.tobytes())
        if key in refined:
            return
        refined.add(key)
        for _ in range(_REFINE_STEPS):
            if time.perf_counter() > deadline:
                break
            moved = calibrated_descent(model)
            if moved.objective >= model.objective - 1e-12:
                break
            model = polish(moved.scale, moved.intercept, moved.points, swaps=True)

    swept = set()

    def swap_across_scales() -> None:
        """The best points moved to the other scales found: there, swaps that
        no move at their own scale reaches can pay (mushroom, 5 features: from
        0.0190 at s = 0.030 to 0.0142 at s = 0.177, and 0.0127 after
        calibrated moves).
        """
        best = min(found.values(), key=_objective)
        for scale in sorted(found, key=lambda s: abs(math.log(s / best.scale))):
            if time.perf_counter() > deadline:
                break
            if scale != best.scale and (scale, best.points.tobytes()) not in swept:
                swept.add((scale, best.points.tobytes()))
                polish(scale, best.intercept, best.points, swaps=True)

    # A few of everything first, so that a short deadline still gets the
    # cross-scale swaps and calibrated moves (all stages found the same best
    # models on the four benchmark data sets); the rest while time remains.
    ranked = sorted(rounded, key=lambda entry: entry[0])
    polished = 0
    for stage, (polish_until, refine_count) in enumerate(_STAGES):
        for _, scale, b, points in ranked[polished:polish_until]:
            if time.perf_counter() > deadline and found:
                break
            polish(scale, b, points, swaps=False)
        polished = polish_until
        if not found:  # no rounding met the constraints: the certified search must do
            return []
        swap_across_scales()
        for model in sorted(found.values(), key=_objective)[:refine_count]:
            refine(model)
        if stage == 0:
            extend_low_end()
    return sorted(found.values(), key=_objective)


def _penalty_change(c0: np.ndarray, columns, before, after) -> float:
    return float(c0[columns] @ ((after != 0).astype(float) - (before != 0)))


def _single_moves(points: np.ndarray):
    """Each used point one up or one down: (columns, values)."""
    for j in np.flatnonzero(points):
        for value in (points[j] - 1, points[j] + 1):
            yield np.array([j]), np.array([value])


def _joint_moves(points: np.ndarray):
    """Two or three used points one smaller together, or one larger."""
    used = np.flatnonzero(points)
    for size in _JOINT_SIZES:
        for columns in itertools.combinations(used, size):
            columns = np.array(columns)
            signs = np.sign(points[columns])
            for direction in (-1, 1):
                yield columns, points[columns] + direction * signs


def _objective(model: ScaledModel) -> float:
    return model.objective


def platt_scale(oracle: LossOracle, models, c0: np.ndarray) -> float | None:
    """The scale of the best Platt fit among ``models`` (triples ``(points,
    intercept, scale)``): for each, the best fit ``1 / (1 + exp(-(a
    x.points + c)))`` on the distinct rows of ``oracle`` (built at scale 1),
    started from the model's own ``(1 / scale, intercept / scale)``; the scale
    ``1 / a`` of the fit with the least objective (its loss plus ``c0`` on the
    points used), or None if no fit gives a positive scale.
    """
    best, found = np.inf, None
    seen = set()
    for points, intercept, scale in models:
        points = np.asarray(points)
        key = points.tobytes()
        if key in seen:  # the fit depends on the points (its start aside)
            continue
        seen.add(key)
        fit = _platt_fit(oracle, oracle.X @ points.astype(float),
                         (1.0 / scale, intercept / scale))
        if fit is None:
            continue
        objective = fit[2] + float(c0 @ (points != 0))
        if objective < best:
            best, found = objective, fit[0]
    return None if found is None else _rounded_scale(found)


def _rounded_scale(a: float) -> float:
    """``1 / a`` to 9 significant digits: a stable key for the scales solved,
    and precise enough for the steep scores of separable rows.
    """
    return float(f"{1.0 / a:.9g}")


def _platt_fit(oracle: LossOracle, S: np.ndarray, start):
    """``(a, c, loss)`` minimising the scale-1 loss of ``a S + c`` over the
    distinct rows (Newton's method with backtracking on this smooth convex
    function of two variables), or None unless ``a > 0``. Rows with equal
    scores are merged first (integer points on mushroom: 6499 rows, about
    30 scores).

    If the scores separate the rows, the loss has no minimum: the fit is then
    the limit of the loss's descent (the threshold midway between the classes,
    where the margin is largest) at the first steepness where every risk is 0
    or 1 in double precision.
    """
    S, merged = oracle.by_score(S)
    weight, negative = merged.weight, merged.negative_weight

    def loss(a, c):
        margin = a * S + c
        return float(weight @ np.logaddexp(0.0, -margin) + negative @ margin)

    # weight - negative is exact: 0 for a score of negative rows only
    gap = separating_gap(S, weight - negative, negative)
    if gap is not None:
        low, high = gap
        a = _SATURATING_MARGIN / ((high - low) / 2)
        c = -a * (low + high) / 2
        return a, c, loss(a, c)

    a, c = float(start[0]), float(start[1])
    value = loss(a, c)
    for _ in range(_NEWTON_STEPS):
        margin = a * S + c
        p = expit(-margin)
        slope = negative - weight * p
        curvature = weight * p * (1.0 - p)
        gradient = np.array([slope @ S, slope.sum()])
        hessian = np.array([[curvature @ S**2, curvature @ S], [curvature @ S, curvature.sum()]])
        hessian[np.diag_indices(2)] += 1e-12
        try:
            step = np.linalg.solve(hessian, gradient)
        except np.linalg.LinAlgError:
            break
        decrease = float(gradient @ step)
        if not decrease > 1e-12 * value:
            break
        t = 1.0
        while t > 1e-6:
            trial = loss(a - t * step[0], c - t * step[1])
            if trial <= value - 1e-4 * t * decrease:
                break
            t /= 2
        else:
            break
        a, c, value = a - t * step[0], c - t * step[1], trial
    if not (np.isfinite(a) and np.isfinite(c) and a > 0):
        return None
    return a, c, value


def rescaled(problem: RiskScoreProblem, scale: float,
             largest: float | None = None) -> RiskScoreProblem:
    """``problem`` at score scale ``scale`` with a real intercept, its bounds widened
    so that they cannot exclude the best intercept at that scale. ``largest``:
    the problem's ``largest_score``, if already known.
    """
    reach = max(
        intercept_bound(problem.X, problem.y, problem.sample_weight, problem.coef_lower,
                        problem.coef_upper, problem.max_features, scale, largest),
        abs(problem.intercept_lower), abs(problem.intercept_upper),
    )
    return dataclasses.replace(problem, score_scale=scale, integer_intercept=False,
                               intercept_lower=-reach, intercept_upper=reach)
