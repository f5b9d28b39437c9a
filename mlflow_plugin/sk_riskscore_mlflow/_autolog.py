"""Autologging of RiskScoreClassifier fits (alone or at the end of a Pipeline)."""

from __future__ import annotations

import contextvars
import json
import logging

import mlflow
import numpy as np
import pandas as pd
from mlflow.utils.autologging_utils import (
    autologging_integration,
    get_autologging_config,
    safe_patch,
)
from mlflow.utils.mlflow_tags import MLFLOW_AUTOLOGGING

from sk_riskscore import RiskScoreClassifier, constraints_to_dict
from sk_riskscore._model import split_pipeline

from ._flavor import FLAVOR_NAME

_logger = logging.getLogger(__name__)

STATUS_TAG = "riskscore.status"
# MLflow stores at most this many characters per parameter value.
_MAX_PARAM_LENGTH = 6000
_INPUT_EXAMPLE_ROWS = 5
# Set while an autologged Pipeline fits, so its final classifier is not logged twice.
_inside_logged_pipeline = contextvars.ContextVar("sk_riskscore_pipeline", default=False)


@autologging_integration(FLAVOR_NAME)
def autolog(
    *,
    log_models=True,
    log_input_examples=True,
    registered_model_name=None,
    disable=False,
    exclusive=False,
    silent=False,
):
    """Log every fit of a risk score to MLflow, with no other code.

    After ``autolog()``, each ``RiskScoreClassifier.fit`` and each fit of a
    ``Pipeline`` ending in one logs to the active run (a new run is started
    and ended when none is active; a fit in a run that already holds one,
    e.g. the next fold of a cross-validation, gets a nested child run):

    - parameters: those of the classifier (and, for a pipeline, of every
      step, as ``step__param``);
    - metrics: the certificate (``objective``, ``lower_bound``,
      ``optimality_gap``), ``fit_time``, the solver's node and cut counts,
      and ``training_auc``, ``training_log_loss``, ``training_brier``,
      ``training_calibration_error`` on the fitted data;
    - tags: ``riskscore.status`` (``"optimal"``, ``"time_limit"``, ...);
    - ``certificate.json``: the certificate and the solver statistics;
    - the model (see :func:`log_model`) with its score card and plots.

    Parameters
    ----------
    log_models : bool, default=True
        Log the fitted model (and its card). Metrics and parameters are
        logged either way.
    log_input_examples : bool, default=True
        Store the first rows of ``X`` with the model, and infer its
        signature from them.
    registered_model_name : str, default=None
        Register each logged model under this name.
    disable : bool, default=False
        Turn autologging off (undo a previous call).
    exclusive : bool, default=False
        Log only into runs started by autologging, never into a user's run.
    silent : bool, default=False
        Suppress MLflow's event logs and warnings during autologging.

    Examples
    --------
    >>> import tempfile, pathlib, mlflow
    >>> import sk_riskscore_mlflow
    >>> from sk_riskscore import RiskScoreClassifier
    >>> from sk_riskscore.datasets import load_breastcancer
    >>> X, y = load_breastcancer(return_X_y=True, as_frame=True)
    >>> tmp = tempfile.TemporaryDirectory()
    >>> mlflow.set_tracking_uri(f"sqlite:///{tmp.name}/mlflow.db")
    >>> experiment = mlflow.create_experiment(
    ...     "autolog", artifact_location=pathlib.Path(tmp.name, "artifacts").as_uri())
    >>> sk_riskscore_mlflow.autolog()
    >>> with mlflow.start_run(experiment_id=experiment) as run:
    ...     clf = RiskScoreClassifier(max_features=3, max_coef=3).fit(X, y)
    >>> data = mlflow.get_run(run.info.run_id).data
    >>> data.params["max_features"], data.tags["riskscore.status"]
    ('3', 'optimal')
    >>> data.metrics["optimality_gap"] == clf.optimality_gap_
    True
    >>> sk_riskscore_mlflow.autolog(disable=True)
    >>> mlflow.set_tracking_uri(None); tmp.cleanup()
    """
    from sklearn.pipeline import Pipeline

    safe_patch(FLAVOR_NAME, RiskScoreClassifier, "fit", _patched_classifier_fit)
    safe_patch(FLAVOR_NAME, Pipeline, "fit", _patched_pipeline_fit)


def _patched_classifier_fit(original, self, *args, **kwargs):
    if _inside_logged_pipeline.get():
        return original(self, *args, **kwargs)
    return _fit_and_log(original, self, args, kwargs)


def _patched_pipeline_fit(original, self, *args, **kwargs):
    if not isinstance(split_pipeline(self)[1], RiskScoreClassifier):
        return original(self, *args, **kwargs)
    token = _inside_logged_pipeline.set(True)
    try:
        return _fit_and_log(original, self, args, kwargs)
    finally:
        _inside_logged_pipeline.reset(token)


def _fit_and_log(original, estimator, args, kwargs):
    started = None
    active = mlflow.active_run()
    if active is None:
        started = mlflow.start_run(tags={MLFLOW_AUTOLOGGING: FLAVOR_NAME})
    elif STATUS_TAG in mlflow.get_run(active.info.run_id).data.tags:
        # One fit per run: a later fit (another model, a CV fold) gets a child
        # run rather than clashing with the parameters already logged.
        started = mlflow.start_run(experiment_id=active.info.experiment_id, nested=True,
                                   tags={MLFLOW_AUTOLOGGING: FLAVOR_NAME})
    try:
        mlflow.log_params(_loggable_params(estimator))
        fitted = original(estimator, *args, **kwargs)
        X, y = _fit_data(args, kwargs)
        _log_fitted(estimator, X, y)
    except BaseException:
        if started is not None:
            mlflow.end_run("FAILED")
        raise
    if started is not None:
        mlflow.end_run()
    return fitted


def _fit_data(args, kwargs):
    X = args[0] if args else kwargs.get("X")
    y = args[1] if len(args) > 1 else kwargs.get("y")
    return X, y


def _log_fitted(model, X, y) -> None:
    from ._card import final_classifier
    from ._flavor import _log_model

    classifier = final_classifier(model)
    mlflow.set_tag(STATUS_TAG, classifier.status_)
    statistics = classifier.solver_statistics_
    mlflow.log_metrics({
        "n_nodes": float(statistics.n_nodes),
        "n_cuts": float(statistics.n_cuts),
        "n_lp_solves": float(statistics.n_lp_solves),
    })
    mlflow.log_dict(_certificate(classifier), "certificate.json")
    has_data = X is not None and y is not None
    if get_autologging_config(FLAVOR_NAME, "log_models", True):
        example = None
        if get_autologging_config(FLAVOR_NAME, "log_input_examples", True) and X is not None:
            example = _head(X, _INPUT_EXAMPLE_ROWS)
        _log_model(
            model,
            name="model",
            X=X if has_data else None,
            y=y if has_data else None,
            input_example=example,
            registered_model_name=get_autologging_config(
                FLAVOR_NAME, "registered_model_name", None
            ),
            metric_prefix="training_",
        )
    else:
        from ._card import compute_metrics
        from ._flavor import _certificate_metrics

        metrics = _certificate_metrics(model)
        if has_data:
            metrics.update({
                f"training_{k}": v for k, v in compute_metrics(model, X, y).items()
            })
        mlflow.log_metrics(metrics)


def _certificate(classifier) -> dict:
    import dataclasses

    return {
        "objective": classifier.objective_,
        "lower_bound": classifier.lower_bound_,
        "optimality_gap": classifier.optimality_gap_,
        "status": classifier.status_,
        "solver_statistics": dataclasses.asdict(classifier.solver_statistics_),
    }


def _head(X, n):
    if isinstance(X, pd.DataFrame):
        return X.head(n)
    return np.asarray(X)[:n]


def _loggable_params(estimator) -> dict[str, str]:
    """Parameters as strings; nested estimators and long values kept readable."""
    from sklearn.base import BaseEstimator

    deep = not isinstance(estimator, RiskScoreClassifier)
    out = {}
    for name, value in estimator.get_params(deep=deep).items():
        if isinstance(value, BaseEstimator) or name in ("steps", "memory"):
            continue
        if name.endswith("constraints") and value:
            value = json.dumps(constraints_to_dict(value))
        text = str(value)
        if len(text) > _MAX_PARAM_LENGTH:
            _logger.info("parameter %s is too long for MLflow; logged truncated", name)
            text = text[: _MAX_PARAM_LENGTH - 3] + "..."
        out[name] = text
    return out
