"""sk-riskscore: certifiably optimal integer risk scores for scikit-learn."""

from ._actions import Action, ActionSet, InvalidActionSetError, Link
from ._binarizer import BinaryRule, RiskScoreBinarizer
from ._classifier import RiskScoreClassifier
from ._constraints import (
    AtLeast,
    AtMost,
    Exactly,
    Implies,
    LinearConstraint,
    Monotonic,
    MustNotUse,
    MustUse,
    constraints_from_dict,
    constraints_to_dict,
)
from ._io._envelope import (
    InvalidModelFileError,
    load_json,
    model_from_dict,
    model_to_dict,
    save_json,
)
from ._metrics import RiskScoreMetrics, risk_score_metrics
from ._rashomon import RashomonSet, RashomonStatistics, rashomon_set
from ._recourse import RecourseResult, recourse
from ._recourse_audit import RecourseAudit, audit_recourse
from ._scorecard import ScoreCard
from ._solver import SolverError, SolverStatistics, SolverStatus

__version__ = "0.1.0"

__all__ = [
    "Action",
    "ActionSet",
    "AtLeast",
    "AtMost",
    "BinaryRule",
    "Exactly",
    "Implies",
    "InvalidActionSetError",
    "InvalidModelFileError",
    "LinearConstraint",
    "Link",
    "Monotonic",
    "MustNotUse",
    "MustUse",
    "RecourseAudit",
    "RecourseResult",
    "RashomonSet",
    "RashomonStatistics",
    "RiskScoreBinarizer",
    "RiskScoreClassifier",
    "RiskScoreMetrics",
    "ScoreCard",
    "SolverError",
    "SolverStatistics",
    "SolverStatus",
    "__version__",
    "audit_recourse",
    "constraints_from_dict",
    "constraints_to_dict",
    "recourse",
    "rashomon_set",
    "risk_score_metrics",
    "load_json",
    "model_from_dict",
    "model_to_dict",
    "save_json",
    "to_onnx",
]


def to_onnx(model, **options):
    """Convert a fitted risk score to ONNX; see :func:`sk_riskscore.onnx.to_onnx`.

    Imports :mod:`sk_riskscore.onnx` (and with it onnx and skl2onnx) on first
    use, so ``import sk_riskscore`` never needs the ``onnx`` extra.

    Examples
    --------
    >>> from sk_riskscore import RiskScoreClassifier, to_onnx
    >>> from sk_riskscore.datasets import load_breastcancer
    >>> X, y = load_breastcancer(return_X_y=True, as_frame=True)
    >>> clf = RiskScoreClassifier(max_features=2, max_coef=3).fit(X, y)
    >>> [output.name for output in to_onnx(clf).graph.output]
    ['label', 'probabilities', 'score']
    """
    from .onnx import to_onnx as convert  # raises an ImportError naming the extra

    return convert(model, **options)
