"""
Champion and challenger risk scores in the MLflow Model Registry
=================================================================

Two risk scores for the mammography data are logged with the ``riskscore``
MLflow flavor and registered under one name: a 2-feature score, the current
``champion``, and a 4-feature ``challenger``. Both are loaded back through
their aliases (``models:/<name>@<alias>``) and compared on a held-out set with
the ``riskscore`` evaluator; the challenger is promoted only if it has a lower
held-out log loss.

The tracking store is a sqlite file and the artifact location a directory,
both explicit (MLflow 3 refuses the plain file store). They go into the
directory given on the command line, or the ``SK_RISKSCORE_EXAMPLES_OUTPUT``
environment variable, or a temporary directory.

Run it with ``python examples/mlflow_registry.py [directory]``.
"""

from __future__ import annotations

import os
import sys
import tempfile
import warnings
from dataclasses import dataclass
from pathlib import Path

import mlflow
import sk_riskscore_mlflow
from mlflow import MlflowClient
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split

from sk_riskscore import RiskScoreClassifier
from sk_riskscore.datasets import load_mammo

MODEL_NAME = "mammo-risk-score"


@dataclass(frozen=True)
class Promotion:
    """What happened: which version is champion now, and why."""

    tracking_uri: str
    model_name: str
    champion_version: int
    promoted: bool
    incumbent_log_loss: float
    challenger_log_loss: float
    incumbent_points: list
    challenger_points: list


def fit(max_features, X, y):
    model = RiskScoreClassifier(max_features=max_features, max_coef=5, time_limit=10,
                                random_state=0)
    with warnings.catch_warnings():
        # A fit stopped by time_limit is still a valid (not proven optimal) score.
        warnings.simplefilter("ignore", ConvergenceWarning)
        return model.fit(X, y)


def held_out_log_loss(model_uri, X_test, y_test) -> float:
    result = mlflow.models.evaluate(
        model_uri, X_test.assign(outcome=y_test), targets="outcome",
        model_type="classifier", evaluators=["riskscore"],
    )
    return result.metrics["log_loss"]


def main(directory) -> Promotion:
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    tracking_uri = f"sqlite:///{directory / 'mlflow.db'}"
    mlflow.set_tracking_uri(tracking_uri)
    try:
        return _run(directory, tracking_uri)
    finally:
        mlflow.set_tracking_uri(None)


def _run(directory: Path, tracking_uri: str) -> Promotion:
    client = MlflowClient()
    experiment = client.get_experiment_by_name("risk-score-registry")
    experiment_id = experiment.experiment_id if experiment else client.create_experiment(
        "risk-score-registry", artifact_location=(directory / "artifacts").as_uri()
    )
    X, y = load_mammo(return_X_y=True, as_frame=True)
    X_train, X_test, y_train, y_test = train_test_split(
        X, y, test_size=0.3, random_state=0, stratify=y
    )

    versions = {}
    for role, max_features in (("champion", 2), ("challenger", 4)):
        model = fit(max_features, X_train, y_train)
        with mlflow.start_run(experiment_id=experiment_id, run_name=role):
            info = sk_riskscore_mlflow.log_model(
                model, name=role, X=X_test, y=y_test, input_example=X_train.head(3),
                registered_model_name=MODEL_NAME,
            )
        versions[role] = int(info.registered_model_version)
        client.set_registered_model_alias(MODEL_NAME, role, versions[role])

    # The decision uses only what the registry serves under each alias.
    with mlflow.start_run(experiment_id=experiment_id, run_name="promotion"):
        losses = {
            role: held_out_log_loss(f"models:/{MODEL_NAME}@{role}", X_test, y_test)
            for role in ("champion", "challenger")
        }
    points = {
        role: sk_riskscore_mlflow.load_model(f"models:/{MODEL_NAME}@{role}").coef_.tolist()
        for role in ("champion", "challenger")
    }
    promoted = losses["challenger"] < losses["champion"]
    if promoted:
        client.set_registered_model_alias(MODEL_NAME, "champion", versions["challenger"])
        client.delete_registered_model_alias(MODEL_NAME, "challenger")
    champion = int(client.get_model_version_by_alias(MODEL_NAME, "champion").version)
    return Promotion(
        tracking_uri=tracking_uri,
        model_name=MODEL_NAME,
        champion_version=champion,
        promoted=promoted,
        incumbent_log_loss=float(losses["champion"]),
        challenger_log_loss=float(losses["challenger"]),
        incumbent_points=points["champion"],
        challenger_points=points["challenger"],
    )


if __name__ == "__main__":
    target = (sys.argv[1] if len(sys.argv) > 1
              else os.environ.get("SK_RISKSCORE_EXAMPLES_OUTPUT") or tempfile.mkdtemp())
    outcome = main(Path(target) / "mlflow_registry")
    print(f"tracking store: {outcome.tracking_uri}")
    print(f"held-out log loss: champion {outcome.incumbent_log_loss:.4f}, "
          f"challenger {outcome.challenger_log_loss:.4f}")
    verdict = "promoted to champion" if outcome.promoted else "kept as challenger"
    print(f"challenger {verdict}; champion is now version {outcome.champion_version}")
