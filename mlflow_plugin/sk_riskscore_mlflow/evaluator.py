"""``mlflow.models.evaluate`` for risk scores: calibration by score, not just labels.

MLflow's built-in classifier evaluator reads probabilities only from built-in
flavors. This evaluator, registered under the ``mlflow.model_evaluator`` entry
point as ``riskscore``, asks the risk score for its probabilities and total
scores and logs the AUC, Brier score, log loss and the calibration error by
score (CAL, RiskSLIM paper), with the observed-vs-predicted table per score as
CSV and as a plot.
"""

from __future__ import annotations

import logging
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
from mlflow import MlflowClient
from mlflow.entities import Metric
from mlflow.exceptions import MlflowException
from mlflow.models.evaluation import EvaluationResult, ModelEvaluator
from mlflow.models.evaluation.artifacts import (
    CsvEvaluationArtifact,
    ImageEvaluationArtifact,
)
from mlflow.protos.databricks_pb2 import INVALID_PARAMETER_VALUE
from mlflow.utils.time import get_current_time_millis

from sk_riskscore._model import split_pipeline, total_points

__all__ = ["RiskScoreEvaluator"]

_logger = logging.getLogger(__name__)

TABLE_ARTIFACT = "calibration_by_score"
PLOT_ARTIFACT = "calibration_by_score_plot"
RECOURSE_SUMMARY = "recourse_summary"
RECOURSE_RESPONSIVENESS = "recourse_responsiveness"
RECOURSE_PEOPLE = "recourse_people"
RECOURSE_PLOT = "recourse_plot"
RASHOMON_CARDS = "rashomon_cards"
RASHOMON_PLOT = "rashomon_prediction_ranges"


class RiskScoreEvaluator(ModelEvaluator):
    """Risk-score metrics and calibration by score for ``mlflow.models.evaluate``.

    Use with ``evaluators=["riskscore"]`` and ``model_type="classifier"``.
    Metrics (see :func:`sk_riskscore.risk_score_metrics`): ``auc``,
    ``brier``, ``log_loss``, ``calibration_error``;
    artifacts: ``calibration_by_score`` (score, count, events, observed,
    predicted) as CSV and ``calibration_by_score_plot``, the score card's
    risk-by-score plot, as PNG (only when scores are known, i.e. not for
    static predictions).

    The probabilities come from the risk score itself when ``model`` is a
    ``riskscore`` model (any pyfunc whose predict returns a ``probability``
    column works too); with static predictions (``model=None``) the
    predictions must be probabilities of the positive class.

    ``evaluator_config`` keys: ``pos_label`` (the event; default: the
    model's ``classes_[1]``, else ``1`` / ``True``) and ``metric_prefix``.
    Two optional audits, off by default (both need a riskscore model):

    - ``actions`` (an action set: dict or path of a ``.yaml``/``.json``
      file) and ``recourse_threshold`` (default: the model's): the recourse
      audit of :func:`sk_riskscore.audit_recourse` on the evaluation data;
      its ``metrics()`` (``recourse_share``, ``recourse_fixed_share``, ...),
      artifacts ``recourse_summary``, ``recourse_responsiveness``,
      ``recourse_people`` (CSV) and ``recourse_plot`` (PNG).
    - ``rashomon_epsilon`` with ``rashomon_time_limit`` (default 60 s) and
      ``rashomon_max_models`` (default 1000): the Rashomon set of
      :func:`sk_riskscore.rashomon_set` for the model's settings, computed
      on the *evaluation* data (the set is defined by the data it is fitted
      on; the evaluator has no other); metrics ``rashomon_size``,
      ``rashomon_complete`` (1 or 0), ``rashomon_ambiguity``,
      ``rashomon_discrepancy`` and ``rashomon_mean_range`` (at risk 0.5,
      against the set's best card), artifacts ``rashomon_cards`` (CSV) and
      ``rashomon_prediction_ranges`` (PNG).

    Examples
    --------
    >>> import tempfile, pathlib, mlflow
    >>> import sk_riskscore_mlflow
    >>> from sk_riskscore import RiskScoreClassifier
    >>> from sk_riskscore.datasets import load_mammo
    >>> X, y = load_mammo(return_X_y=True, as_frame=True)
    >>> clf = RiskScoreClassifier(max_features=3, max_coef=3).fit(X, y)
    >>> tmp = tempfile.TemporaryDirectory()
    >>> mlflow.set_tracking_uri(f"sqlite:///{tmp.name}/mlflow.db")
    >>> experiment = mlflow.create_experiment(
    ...     "evaluate", artifact_location=pathlib.Path(tmp.name, "artifacts").as_uri())
    >>> with mlflow.start_run(experiment_id=experiment):
    ...     info = sk_riskscore_mlflow.log_model(clf, name="m", pip_requirements=[])
    ...     result = mlflow.models.evaluate(
    ...         info.model_uri, X.assign(label=y), targets="label",
    ...         model_type="classifier", evaluators=["riskscore"])
    >>> sorted(result.metrics)
    ['auc', 'brier', 'calibration_error', 'log_loss']
    >>> mlflow.set_tracking_uri(None); tmp.cleanup()
    """

    @classmethod
    def can_evaluate(cls, *, model_type, evaluator_config, **kwargs) -> bool:
        """Whether this evaluator handles ``model_type``: classifiers only."""
        return model_type == "classifier"

    def evaluate(
        self,
        *,
        model_type,
        dataset,
        run_id,
        evaluator_config,
        model=None,
        extra_metrics=None,
        custom_artifacts=None,
        predictions=None,
        model_id=None,
        **kwargs,
    ) -> EvaluationResult:
        """Log the risk-score metrics of ``model`` on ``dataset`` to ``run_id``."""
        from sk_riskscore import risk_score_metrics

        config = evaluator_config or {}
        prefix = config.get("metric_prefix", "")
        if not dataset.has_targets:
            raise MlflowException(
                "the riskscore evaluator needs labels: pass targets= to evaluate",
                error_code=INVALID_PARAMETER_VALUE,
            )
        risk, scores, classes = _risk_and_scores(model, dataset, predictions)
        labels = np.asarray(dataset.labels_data)
        pos_label = config.get("pos_label")
        if classes is not None:
            _check_labels_known(labels, classes)
            pos_label = classes[1] if pos_label is None else pos_label
        try:
            result = risk_score_metrics(labels, risk, scores=scores, pos_label=pos_label)
        except ValueError as exc:
            raise MlflowException(
                f"riskscore evaluator: {exc} (set evaluator_config={{'pos_label': ...}} "
                "to name the event label)",
                error_code=INVALID_PARAMETER_VALUE,
            ) from None
        metrics = {prefix + key: value for key, value in result.to_dict().items()}
        client = MlflowClient()
        timestamp = get_current_time_millis()
        client.log_batch(
            run_id,
            metrics=[
                Metric(key=key, value=value, timestamp=timestamp, step=0,
                       model_id=model_id, dataset_name=dataset.name,
                       dataset_digest=dataset.digest, run_id=run_id)
                for key, value in metrics.items()
            ],
        )
        artifacts = self._log_artifacts(client, run_id, result.by_score, prefix)
        if config.get("actions") is not None or config.get("rashomon_epsilon") is not None:
            raw = _raw_risk_score(model) if model is not None else None
            if raw is None:
                raise MlflowException(
                    "the riskscore evaluator's 'actions' and 'rashomon_epsilon' options "
                    "need a riskscore model, not static predictions",
                    error_code=INVALID_PARAMETER_VALUE,
                )
            extra_metrics, extra_artifacts = _audits(raw, dataset, labels, config, prefix,
                                                     client, run_id)
            client.log_batch(run_id, metrics=[
                Metric(key=key, value=value, timestamp=timestamp, step=0,
                       model_id=model_id, dataset_name=dataset.name,
                       dataset_digest=dataset.digest, run_id=run_id)
                for key, value in extra_metrics.items()
            ])
            metrics.update(extra_metrics)
            artifacts.update(extra_artifacts)
        return EvaluationResult(metrics=metrics, artifacts=artifacts, run_id=run_id)

    @staticmethod
    def _log_artifacts(client, run_id, table: pd.DataFrame, prefix: str) -> dict:
        artifacts = {}
        with tempfile.TemporaryDirectory() as tmp:
            csv_path = Path(tmp) / f"{prefix}{TABLE_ARTIFACT}.csv"
            table.to_csv(csv_path, index=False)
            uri = _log_file(client, run_id, csv_path)
            artifacts[prefix + TABLE_ARTIFACT] = CsvEvaluationArtifact(uri=uri, content=table)
            png_path = Path(tmp) / f"{prefix}{PLOT_ARTIFACT}.png"
            try:
                if "score" not in table.columns:
                    raise LookupError("static predictions carry no scores")
                _plot_calibration(table, png_path)
            except ImportError:
                _logger.warning(
                    "matplotlib is not installed: no calibration plot. "
                    'Install it with: pip install "sk-riskscore[plot]"'
                )
            except LookupError as reason:
                _logger.info("no calibration plot: %s", reason)
            else:
                artifacts[prefix + PLOT_ARTIFACT] = _image_artifact(client, run_id, png_path)
        return artifacts


def _log_file(client, run_id, path: Path) -> str:
    """Log one file at the run's artifact root; its URI."""
    client.log_artifact(run_id, str(path))
    return f"{client.get_run(run_id).info.artifact_uri}/{path.name}"


def _image_artifact(client, run_id, path: Path) -> ImageEvaluationArtifact:
    image = ImageEvaluationArtifact(uri=_log_file(client, run_id, path))
    image._load(str(path))
    return image


def _audits(raw, dataset, labels, config, prefix, client, run_id):
    """The optional recourse audit and Rashomon set: (metrics, artifacts)."""
    from sk_riskscore import audit_recourse

    X = dataset.features_data
    metrics, artifacts = {}, {}
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)

        def table(name, frame, **options):
            path = tmp / f"{prefix}{name}.csv"
            frame.to_csv(path, **options)
            artifacts[prefix + name] = CsvEvaluationArtifact(
                uri=_log_file(client, run_id, path), content=frame)

        def figure(name, draw):
            path = tmp / f"{prefix}{name}.png"
            try:
                draw(path)
            except ImportError:
                _logger.warning('matplotlib is not installed: no %s plot. Install it with: '
                                'pip install "sk-riskscore[plot]"', name)
            else:
                artifacts[prefix + name] = _image_artifact(client, run_id, path)

        if config.get("actions") is not None:
            audit = _evaluator_step(
                "actions", lambda: audit_recourse(raw, X, config["actions"],
                                                  threshold=config.get("recourse_threshold")))
            metrics.update({prefix + k: v for k, v in audit.metrics().items()})
            table(RECOURSE_SUMMARY, audit.summary(), index=False)
            table(RECOURSE_RESPONSIVENESS, audit.responsiveness(), index=False)
            table(RECOURSE_PEOPLE, audit.to_frame(), index=False)
            figure(RECOURSE_PLOT, lambda path: _save_pyplot(audit.plot(), path))
        if config.get("rashomon_epsilon") is not None:
            rset = _evaluator_step("rashomon_epsilon", lambda: _rashomon(raw, X, labels,
                                                                          config))
            overall = rset.multiplicity(X).loc["all"]
            metrics.update({
                prefix + "rashomon_size": float(len(rset)),
                prefix + "rashomon_complete": float(rset.complete_),
                prefix + "rashomon_ambiguity": float(overall["ambiguity"]),
                prefix + "rashomon_discrepancy": float(overall["discrepancy"]),
                prefix + "rashomon_mean_range": float(overall["mean_range"]),
            })
            table(RASHOMON_CARDS, rset.cards_, index_label="rank")
            figure(RASHOMON_PLOT, lambda path: _plot_ranges(rset, X, path))
    return metrics, artifacts


def _evaluator_step(option, compute):
    """``compute()``, its input errors as MlflowException naming the option."""
    try:
        return compute()
    except (TypeError, ValueError) as exc:  # InvalidActionSetError is a ValueError
        raise MlflowException(f"riskscore evaluator, option {option!r}: {exc}",
                              error_code=INVALID_PARAMETER_VALUE) from None


def _rashomon(raw, X, labels, config):
    from sklearn.base import clone

    from sk_riskscore import rashomon_set

    # The set needs training data; the evaluation data stand in for it, with
    # the model's settings refitted from scratch (an unfitted clone).
    return rashomon_set(clone(raw), X, labels, epsilon=config["rashomon_epsilon"],
                        time_limit=config.get("rashomon_time_limit", 60.0),
                        max_models=config.get("rashomon_max_models", 1000))


def _save_pyplot(figure, path: Path) -> None:
    import matplotlib.pyplot as plt

    try:
        figure.savefig(path, dpi=100, bbox_inches="tight")
    finally:
        plt.close(figure)


def _plot_ranges(rset, X, path: Path) -> None:
    from matplotlib.figure import Figure

    figure = Figure(figsize=(6.4, 4.2))
    rset.plot_prediction_ranges(X, ax=figure.add_subplot())
    figure.savefig(path, dpi=100, bbox_inches="tight")


def _risk_and_scores(model, dataset, predictions):
    """Probabilities of the event, total scores (or None) and class labels (or None)."""
    if model is None:
        if dataset.predictions_data is None:
            raise MlflowException(
                "pass a model, or data with a predictions column holding the "
                "probability of the positive class",
                error_code=INVALID_PARAMETER_VALUE,
            )
        return _as_probability(dataset.predictions_data, "the predictions column"), None, None
    X = dataset.features_data
    raw = _raw_risk_score(model)
    if raw is not None:
        return raw.predict_proba(X)[:, 1], total_points(raw, X), _classes(raw)
    output = model.predict(X, params={"output": "frame"})
    # "probability": the frame of a model saved by sk-riskscore 0.1.
    risk = next((c for c in ("risk", "probability") if c in getattr(output, "columns", ())), None)
    if isinstance(output, pd.DataFrame) and risk is not None:
        scores = output["score"].to_numpy(float) if "score" in output.columns else None
        return _as_probability(output[risk], f"the {risk} column"), scores, None
    column = predictions if isinstance(output, pd.DataFrame) and predictions else None
    values = output[column] if column else output
    return _as_probability(values, "the model's output"), None, None


def _raw_risk_score(model):
    from sk_riskscore import RiskScoreClassifier

    try:
        raw = model.get_raw_model()
    except (AttributeError, NotImplementedError):
        return None
    return raw if isinstance(split_pipeline(raw)[1], RiskScoreClassifier) else None


def _classes(raw):
    return split_pipeline(raw)[1].classes_


def _as_probability(values, what) -> np.ndarray:
    array = np.asarray(values)
    if array.ndim != 1:
        array = array.reshape(len(array), -1)
        if array.shape[1] != 1:
            raise MlflowException(
                f"{what} has {array.shape[1]} columns; the riskscore evaluator needs the "
                "probability of the positive class (one column)",
                error_code=INVALID_PARAMETER_VALUE,
            )
        array = array[:, 0]
    try:
        array = array.astype(np.float64)
    except (TypeError, ValueError):
        raise MlflowException(
            f"{what} is not numeric; the riskscore evaluator needs probabilities",
            error_code=INVALID_PARAMETER_VALUE,
        ) from None
    if not np.all((array >= 0) & (array <= 1)):
        raise MlflowException(
            f"{what} has values outside [0, 1]; the riskscore evaluator needs "
            "probabilities of the positive class",
            error_code=INVALID_PARAMETER_VALUE,
        )
    return array


def _check_labels_known(labels, classes) -> None:
    unknown = set(np.unique(labels).tolist()) - set(np.asarray(classes).tolist())
    if unknown:
        raise MlflowException(
            f"labels {sorted(map(str, unknown))[:5]} are not classes of the model "
            f"{np.asarray(classes).tolist()}",
            error_code=INVALID_PARAMETER_VALUE,
        )


def _plot_calibration(table: pd.DataFrame, path: Path) -> None:
    """The score card's risk-by-score plot, drawn from the evaluation table."""
    from matplotlib.figure import Figure

    from sk_riskscore._plotting import plot_risk_by_score

    figure = Figure(figsize=(6.4, 4.2))
    plot_risk_by_score(table.rename(columns={"predicted": "risk"}),
                       title="Observed vs predicted risk by score", ax=figure.add_subplot())
    figure.savefig(path, dpi=100, bbox_inches="tight")
