"""MLflow flavor for sk-riskscore: ``riskscore`` models stored as plain JSON.

``save_model`` / ``log_model`` / ``load_model`` store and restore a fitted
:class:`~sk_riskscore.RiskScoreClassifier` (or a binarizer + classifier
pipeline) as the JSON document of :func:`sk_riskscore.save_json`, with its
score card, plots and metrics; no pickle, so loading never runs code. The
``python_function`` flavor predicts a frame of score, risk and label
and is what ``mlflow models serve`` serves. ``autolog`` logs every fit;
``RiskScoreEvaluator`` (registered as the ``riskscore`` evaluator) computes
risk-score metrics in ``mlflow.models.evaluate``.
"""

try:
    import mlflow  # noqa: F401
except ImportError as exc:  # pragma: no cover - depends on the environment
    raise ImportError(
        'sk_riskscore_mlflow needs MLflow: pip install "sk-riskscore[mlflow]"'
    ) from exc

from ._autolog import autolog
from ._flavor import (  # _load_pyfunc: MLmodel names this package as pyfunc loader
    FLAVOR_NAME,
    _load_pyfunc,  # noqa: F401
    get_default_conda_env,
    get_default_pip_requirements,
    load_model,
    log_model,
    save_model,
)

__all__ = [
    "FLAVOR_NAME",
    "autolog",
    "get_default_conda_env",
    "get_default_pip_requirements",
    "load_model",
    "log_model",
    "save_model",
]
