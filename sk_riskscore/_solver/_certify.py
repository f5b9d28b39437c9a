"""The independent check: never trust a status, recompute the certificate."""

from __future__ import annotations

import dataclasses
import logging

from ._feasibility import FeasibilityChecker
from ._problem import RiskScoreProblem
from ._result import SolverResult, SolverStatus, relative_gap

__all__ = ["certify"]

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
