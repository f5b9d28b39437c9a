"""sk-riskscore: certifiably optimal integer risk scores for scikit-learn."""

from ._classifier import RiskScoreClassifier
from ._constraints import (
    AtLeast,
    AtMost,
    Exactly,
    Implies,
    LinearConstraint,
    MustNotUse,
    MustUse,
    constraints_from_dict,
    constraints_to_dict,
)
from ._solver import SolverError, SolverStatistics, SolverStatus

__version__ = "0.1.0"

__all__ = [
    "AtLeast",
    "AtMost",
    "Exactly",
    "Implies",
    "LinearConstraint",
    "MustNotUse",
    "MustUse",
    "RiskScoreClassifier",
    "SolverError",
    "SolverStatistics",
    "SolverStatus",
    "__version__",
    "constraints_from_dict",
    "constraints_to_dict",
]
