"""The independent check: never trust a status, recompute the certificate."""

from __future__ import annotations

import dataclasses
import logging
from dataclasses import dataclass

import numpy as np

from ._branch_and_bound import BranchAndBound
from ._feasibility import FeasibilityChecker
from ._heuristics import IntegerSearch
from ._loss import LossOracle
from ._problem import RiskScoreProblem
from ._result import ScoreModel, SolverError, SolverResult, SolverStatus, relative_gap

__all__ = ["CardCertificate", "certify", "certify_points"]

logger = logging.getLogger(__name__)

# The search evaluates losses on merged rows; the raw-row sum may differ in
# the last bits only.
_AGREEMENT = 1e-9


def certify(problem: RiskScoreProblem, result: SolverResult, gap_tolerance: float):
    """Recompute the objective of ``result.model`` from the raw data.

    Returns a result whose objective is the recomputed one and whose status is
    OPTIMAL only if the model is feasible, the recomputed objective agrees with
    the search's, and the gap to the proven lower bound is within tolerance.
    """
    model = result.model
    if model is None:
        return result
    if not FeasibilityChecker(problem).is_feasible(model.points, model.intercept):
        return dataclasses.replace(
            result,
            status=SolverStatus.ERROR,
            message="internal error: the returned model breaks a constraint",
        )
    objective = problem.objective(model.points, model.intercept)
    tolerance = _AGREEMENT * max(1.0, abs(objective))
    # The bound and the objective may both be the optimum, summed over merged
    # and over raw rows: the bound's last bits must not claim more than the
    # model attains.
    lower_bound = min(result.lower_bound, objective)
    gap = relative_gap(objective, lower_bound)
    status, message = result.status, result.message
    if result.lower_bound > objective + tolerance:
        status = SolverStatus.ERROR
        message = (f"the proven lower bound {result.lower_bound:.12g} exceeds the objective "
                   f"{objective:.12g} of an admissible model")
    elif abs(objective - model.objective) > tolerance:
        logger.warning(
            "recomputed objective %.12g differs from the search's %.12g",
            objective, model.objective,
        )
        status = SolverStatus.ERROR
        message = "the recomputed objective disagrees with the search's value"
    elif status == SolverStatus.OPTIMAL and gap > gap_tolerance + _AGREEMENT:
        status = SolverStatus.ERROR
        message = (
            f"the search reported optimal but the certified gap is {gap:.3g}, above "
            f"the tolerance {gap_tolerance:.3g}"
        )
    model = dataclasses.replace(model, objective=objective)
    return dataclasses.replace(
        result, model=model, objective=objective, lower_bound=lower_bound, gap=gap,
        status=status, message=message,
    )


@dataclass(frozen=True)
class CardCertificate:
    """How far a given card (points and intercept) is proven to be from optimal.

    ``objective`` is the card's own objective (loss + c0 per point used),
    recomputed from the raw rows; ``lower_bound`` is proven for every
    admissible model of the problem; ``gap = (objective - lower_bound) /
    objective``. ``certified`` is True when the gap is within the tolerance.
    ``best`` is the best model the search met (at least as good as the card,
    often the card itself): when its objective is below the card's, the card
    is proven suboptimal by that difference.
    """

    points: np.ndarray
    intercept: float
    objective: float
    lower_bound: float
    gap: float
    certified: bool
    best: ScoreModel | None
    result: SolverResult


def certify_points(problem: RiskScoreProblem, points, intercept=None, *,
                   gap_tolerance: float = 1e-4, **options) -> CardCertificate:
    """Prove a lower bound on ``problem`` and measure ``points`` against it.

    ``intercept`` None takes the card's best intercept (an integer, or a real
    one when the problem has a real intercept). ``options`` are those of
    :class:`BranchAndBound`; the card and its polished neighbours are its first
    incumbents, so the search only needs to prove the bound. Raises
    ValueError when the card is not an admissible model of the problem.
    """
    points = np.asarray(points)
    if points.shape != (problem.n_features,) or not np.all(points == np.round(points)):
        raise ValueError(f"points must be {problem.n_features} integers, one per feature.")
    points = points.astype(int)
    feasibility = FeasibilityChecker(problem)
    if not feasibility.is_feasible(points):
        raise ValueError(
            "The card is not an admissible model of this problem: its points break a "
            "point bound, the feature limits or a constraint. Widen max_coef, "
            "max_features or the constraints to include it.")
    if intercept is None:
        intercept = _best_intercept(problem, points)
    objective = problem.objective(points, intercept)
    result = BranchAndBound(problem, gap_tolerance=gap_tolerance,
                            initial_models=[(intercept, points)], **options).solve()
    result = certify(problem, result, gap_tolerance)
    if result.status == SolverStatus.ERROR:
        raise SolverError(f"the search behind the certificate failed: {result.message}")
    lower_bound = min(result.lower_bound, objective)
    gap = relative_gap(objective, lower_bound)
    return CardCertificate(points, intercept, objective, lower_bound, gap,
                           gap <= gap_tolerance + _AGREEMENT, result.model, result)


def _best_intercept(problem: RiskScoreProblem, points: np.ndarray) -> float:
    """The card's best intercept within the problem's bounds, by the search's own routine."""
    oracle = LossOracle(problem.X, problem.y, problem.sample_weight, scale=problem.score_scale)
    search = IntegerSearch(oracle, FeasibilityChecker(problem), problem.c0,
                           real_intercept=not problem.integer_intercept)
    scores = oracle.X @ points
    if problem.integer_intercept:
        return float(search.best_intercept(scores, 0)[0])
    return float(search.best_real_intercept(scores, 0)[0])
