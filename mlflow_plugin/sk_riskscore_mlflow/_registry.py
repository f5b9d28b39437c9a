"""Log a fitted risk score in a new MLflow run, register it and set an alias.

What ``sk-riskscore fit --tracking-uri ...`` and ``sk-riskscore demo`` call
(the command line imports this module only when it logs).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

import mlflow
from mlflow import MlflowClient

from ._flavor import log_model

__all__ = ["LoggedModel", "log_and_register"]


@dataclass(frozen=True)
class LoggedModel:
    """Where :func:`log_and_register` put a model."""

    tracking_uri: str
    experiment_id: str
    run_id: str
    model_uri: str
    registered_name: str | None = None
    version: int | None = None
    alias: str | None = None

    @property
    def registry_uri(self) -> str | None:
        """``models:/<name>@<alias>`` (or ``models:/<name>/<version>``) when registered."""
        if self.registered_name is None:
            return None
        if self.alias is not None:
            return f"models:/{self.registered_name}@{self.alias}"
        return f"models:/{self.registered_name}/{self.version}"


def log_and_register(model, X, y, *, tracking_uri, experiment, artifact_location=None,
                     registered_name=None, alias=None, params=None) -> LoggedModel:
    """Log a fitted model in a new run; optionally register it and set an alias.

    The experiment is created with ``artifact_location`` when it does not
    exist yet. ``X`` and ``y`` give the card's plots and the logged metrics.
    MLflow's own errors (``MlflowException``) propagate.
    """
    # MLflow and its database layer log every step at INFO; only problems matter here.
    for name in ("mlflow", "alembic"):
        logging.getLogger(name).setLevel(logging.WARNING)
    if tracking_uri is not None:
        mlflow.set_tracking_uri(tracking_uri)
    client = MlflowClient()
    found = client.get_experiment_by_name(experiment)
    if found is None:
        location = None
        if artifact_location is not None:
            location = (artifact_location if "://" in artifact_location
                        else Path(artifact_location).resolve().as_uri())
        experiment_id = client.create_experiment(experiment, artifact_location=location)
    else:
        experiment_id = found.experiment_id
    with mlflow.start_run(experiment_id=experiment_id) as run:
        if params:
            mlflow.log_params({k: v for k, v in params.items() if v is not None})
        info = log_model(
            model, name="risk_score", X=X, y=y, input_example=X.head(5),
            registered_model_name=registered_name,
        )
    version = None
    if registered_name is not None:
        version = int(info.registered_model_version)
        if alias is not None:
            client.set_registered_model_alias(registered_name, alias, str(version))
    return LoggedModel(
        tracking_uri=mlflow.get_tracking_uri(),
        experiment_id=str(experiment_id),
        run_id=run.info.run_id,
        model_uri=info.model_uri,
        registered_name=registered_name,
        version=version,
        alias=alias,
    )
