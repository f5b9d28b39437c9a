"""The MLflow plugin, called on demand: the command line holds no MLflow code."""

from __future__ import annotations

import os

from ._parser import CommandError, _message

__all__ = ["log_to_mlflow"]


def log_to_mlflow(model, X, y, **options):
    """The MLflow plugin's log_and_register, with its errors as CommandError."""
    # Nothing leaves the machine: no usage telemetry.
    os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")
    os.environ.setdefault("DO_NOT_TRACK", "true")
    try:
        from mlflow.exceptions import MlflowException
        from sk_riskscore_mlflow._registry import log_and_register
    except ImportError as exc:
        raise CommandError(
            f'logging to MLflow needs the mlflow extra: pip install "sk-riskscore[mlflow]" '
            f"({exc})"
        ) from None
    try:
        return log_and_register(model, X, y, **options)
    except MlflowException as exc:
        raise CommandError(f"MLflow: {_message(exc)}") from None
