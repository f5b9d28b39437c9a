"""The RiskSLIM solver: arrays in, a :class:`SolverResult` out; no scikit-learn."""

from ._admissible import explain_infeasibility, find_admissible_model
from ._branch_and_bound import BranchAndBound
from ._certify import CardCertificate, certify, certify_points
from ._problem import (
    LinearConstraint,
    RiskScoreProblem,
    intercept_bound,
    largest_score,
    separating_gap,
)
from ._result import (
    Progress,
    ScoreModel,
    SolverError,
    SolverResult,
    SolverStatistics,
    SolverStatus,
)
from ._scale import search_scale

__all__ = [
    "BranchAndBound",
    "CardCertificate",
    "LinearConstraint",
    "Progress",
    "RiskScoreProblem",
    "ScoreModel",
    "SolverError",
    "SolverResult",
    "SolverStatistics",
    "SolverStatus",
    "certify",
    "certify_points",
    "explain_infeasibility",
    "find_admissible_model",
    "intercept_bound",
    "largest_score",
    "search_scale",
    "separating_gap",
    "solve",
]


def solve(problem: RiskScoreProblem, **options) -> SolverResult:
    """Solve ``problem`` and certify the answer independently of the search.

    ``options`` are those of :class:`BranchAndBound`. The returned model's
    objective is recomputed here from the raw rows (not the compressed ones the
    search used) and "optimal" is kept only if it agrees with the search's
    value and with the proven lower bound within the gap tolerance.
    """
    result = BranchAndBound(problem, **options).solve()
    return certify(problem, result, options.get("gap_tolerance", 1e-4))
