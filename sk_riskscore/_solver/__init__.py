"""The RiskSLIM solver: arrays in, a :class:`SolverResult` out; no scikit-learn."""

from ._admissible import explain_infeasibility, find_admissible_model
from ._branch_and_bound import BranchAndBound
from ._certify import certify
from ._problem import (
    ConstraintRow,
    RiskScoreProblem,
    intercept_bound,
    largest_score,
    separating_gap,
)
from ._rashomon import Calibration, RashomonResult, RashomonStatistics, enumerate_rashomon
from ._result import (
    Progress,
    ScoreModel,
    SolverError,
    SolverResult,
    SolverStatistics,
    SolverStatus,
)
from ._scale import search_scale
from ._scan import rescaled
from ._solve import solve

__all__ = [
    "BranchAndBound",
    "ConstraintRow",
    "Calibration",
    "Progress",
    "RashomonResult",
    "RashomonStatistics",
    "RiskScoreProblem",
    "ScoreModel",
    "SolverError",
    "SolverResult",
    "SolverStatistics",
    "SolverStatus",
    "certify",
    "enumerate_rashomon",
    "explain_infeasibility",
    "find_admissible_model",
    "intercept_bound",
    "largest_score",
    "rescaled",
    "search_scale",
    "separating_gap",
    "solve",
]
