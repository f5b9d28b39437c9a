"""Save, log and load risk scores as MLflow models (the ``riskscore`` flavor).

The model directory holds the plain-JSON file written by
:func:`sk_riskscore.save_json` (never a pickle), the score card and its plots,
and the usual ``MLmodel`` / environment files. The ``python_function`` flavor
points back at this package, so ``mlflow.pyfunc.load_model`` and
``mlflow models serve`` work for any risk score.
"""

from __future__ import annotations

import logging
import os
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import yaml
from mlflow import pyfunc
from mlflow.exceptions import MlflowException
from mlflow.models import Model, ModelSignature
from mlflow.models.model import MLMODEL_FILE_NAME
from mlflow.models.utils import _save_example
from mlflow.protos.databricks_pb2 import INVALID_PARAMETER_VALUE
from mlflow.tracking._model_registry import DEFAULT_AWAIT_MAX_SLEEP_SECONDS
from mlflow.tracking.artifact_utils import _download_artifact_from_uri
from mlflow.utils.environment import (
    _CONDA_ENV_FILE_NAME,
    _CONSTRAINTS_FILE_NAME,
    _PYTHON_ENV_FILE_NAME,
    _REQUIREMENTS_FILE_NAME,
    _mlflow_conda_env,
    _process_conda_env,
    _process_pip_requirements,
    _PythonEnv,
    _validate_env_arguments,
)
from mlflow.utils.file_utils import get_total_file_size, write_to
from mlflow.utils.model_utils import (
    _copy_extra_files,
    _get_flavor_configuration,
    _validate_and_prepare_target_save_path,
)
from mlflow.utils.requirements_utils import _get_pinned_requirement

import sk_riskscore
from sk_riskscore import InvalidModelFileError, load_json, model_to_dict, save_json
from sk_riskscore._io._envelope import SCHEMA_VERSION
from sk_riskscore._model import OUTPUT_NAMES

from ._card import compute_metrics, final_classifier, write_card
from ._pyfunc import (
    LEGACY_COLUMNS,
    OUTPUTS,
    RENAMED_OUTPUTS,
    RiskScorePyfunc,
    validate_output,
)

_logger = logging.getLogger(__name__)

FLAVOR_NAME = "riskscore"
MODEL_FILE = "model.json"
CARD_DIR = "card"
_PACKAGE = "sk_riskscore_mlflow"  # the pyfunc loader module; must stay importable


def get_default_pip_requirements() -> list[str]:
    """Pip requirements of a logged risk score, unless ``pip_requirements`` is given.

    ``sk-riskscore`` pinned to the version that saved the model (it contains
    this flavor's loader) and the scikit-learn it was fitted with. MLflow
    adds ``mlflow`` itself.

    sk-riskscore is not on PyPI yet: serve with ``--env-manager local`` from
    an environment where it is installed, or pass ``pip_requirements`` naming
    a wheel or a git URL (see the MLflow section of the docs).

    Returns
    -------
    requirements : list of str

    Examples
    --------
    >>> from sk_riskscore_mlflow import get_default_pip_requirements
    >>> get_default_pip_requirements()[0].startswith("sk-riskscore==")
    True
    """
    return [
        f"sk-riskscore=={sk_riskscore.__version__}",
        _get_pinned_requirement("scikit-learn", module="sklearn"),
    ]


def get_default_conda_env() -> dict:
    """Conda environment of a logged risk score: Python plus the pip requirements.

    Returns
    -------
    env : dict
        The ``conda.yaml`` content.

    Examples
    --------
    >>> from sk_riskscore_mlflow import get_default_conda_env
    >>> pip = get_default_conda_env()["dependencies"][-1]["pip"]
    >>> any(r.startswith("sk-riskscore==") for r in pip)
    True
    """
    return _mlflow_conda_env(additional_pip_deps=get_default_pip_requirements())


def save_model(
    model,
    path,
    *,
    X=None,
    y=None,
    pyfunc_output="frame",
    signature=None,
    input_example=None,
    pip_requirements=None,
    extra_pip_requirements=None,
    conda_env=None,
    code_paths=None,
    mlflow_model=None,
    metadata=None,
    extra_files=None,
):
    """Save a fitted risk score as an MLflow model directory.

    Parameters
    ----------
    model : RiskScoreClassifier or Pipeline
        A fitted :class:`~sk_riskscore.RiskScoreClassifier` or
        ``Pipeline([RiskScoreBinarizer, RiskScoreClassifier])``.
    path : str or path-like
        Directory to create; it must not exist yet.
    X, y : array-like, default=None
        Labelled data (a held-out set, ideally) for the data-dependent plots
        of the score card.
    pyfunc_output : {"frame", "label", "risk"}, default="frame"
        What the ``python_function`` flavor's ``predict`` returns unless the
        call passes ``params={"output": ...}``: a DataFrame with ``score``,
        ``risk`` (probability of ``classes_[1]``) and ``label``; the labels
        only (1-D, as MLflow's built-in classifier evaluator needs); or the
        risks only. ``"probability"``, the 0.1 spelling of ``"risk"``, is
        deprecated (FutureWarning).
    signature : mlflow.models.ModelSignature or False, default=None
        Inferred from ``input_example`` when not given. Either way it gets an
        ``output`` parameter, so callers can switch outputs per request with
        ``params={"output": "label"}``. A signature you pass is used as is
        (include that parameter to keep the switch); ``False`` stores none.
    input_example : pandas.DataFrame, default=None
        A few input rows, stored with the model.
    pip_requirements, extra_pip_requirements, conda_env
        As in every MLflow flavor; see :func:`get_default_pip_requirements`.
    code_paths : None
        Must be None (or empty): a risk score needs no code, and MLflow puts a
        model's code folder first on ``sys.path`` when it loads the model, so
        the loaders of this flavor refuse any model that carries one.
    mlflow_model, metadata, extra_files
        As in every MLflow flavor.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> import sk_riskscore_mlflow
    >>> from sk_riskscore import RiskScoreClassifier
    >>> from sk_riskscore.datasets import load_breastcancer
    >>> X, y = load_breastcancer(return_X_y=True, as_frame=True)
    >>> clf = RiskScoreClassifier(max_features=3, max_coef=3).fit(X, y)
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     path = pathlib.Path(tmp) / "model"
    ...     sk_riskscore_mlflow.save_model(clf, path, input_example=X.head(3))
    ...     loaded = sk_riskscore_mlflow.load_model(str(path))
    ...     print(sorted(p.name for p in path.iterdir())[:3])
    ['MLmodel', 'card', 'conda.yaml']
    >>> bool((loaded.predict_proba(X) == clf.predict_proba(X)).all())
    True
    """
    pyfunc_output = validate_output(pyfunc_output)
    if code_paths:
        raise MlflowException(
            "code_paths is not supported: a risk score needs no code, and the "
            "riskscore flavor refuses to load models that carry a code folder "
            "(MLflow would put it first on sys.path, where its modules shadow "
            "installed ones).",
            error_code=INVALID_PARAMETER_VALUE,
        )
    _validate_env_arguments(conda_env, pip_requirements, extra_pip_requirements)
    model_to_dict(model)  # refuses unfitted or unsupported models before any write
    path = os.path.abspath(os.fspath(path))
    _validate_and_prepare_target_save_path(path)
    save_json(model, os.path.join(path, MODEL_FILE))

    if mlflow_model is None:
        mlflow_model = Model()
    saved_example = _save_example(mlflow_model, input_example, path)
    if signature is None and saved_example is not None:
        signature = _infer_signature(model, saved_example.inference_data, pyfunc_output)
    elif signature is None:
        # Without a params schema MLflow drops params={"output": ...} at predict.
        signature = ModelSignature(params=_output_param(pyfunc_output))
    elif signature is False:
        signature = None
    if signature is not None:
        mlflow_model.signature = signature
    if metadata is not None:
        mlflow_model.metadata = metadata

    card_files = write_card(model, Path(path) / CARD_DIR, X=X, y=y)
    extra_files_config = _copy_extra_files(extra_files, path)

    pyfunc.add_to_model(
        mlflow_model,
        loader_module=_PACKAGE,
        data=MODEL_FILE,
        conda_env=_CONDA_ENV_FILE_NAME,
        python_env=_PYTHON_ENV_FILE_NAME,
    )
    mlflow_model.add_flavor(
        FLAVOR_NAME,
        model_file=MODEL_FILE,
        sk_riskscore_version=sk_riskscore.__version__,
        schema_version=SCHEMA_VERSION,
        model_type=type(model).__name__,
        pyfunc_output=pyfunc_output,
        output_columns=list(OUTPUT_NAMES),
        card=[str(Path(CARD_DIR) / f.name) for f in card_files],
        **extra_files_config,
    )
    if size := get_total_file_size(path):
        mlflow_model.model_size_bytes = size
    mlflow_model.save(os.path.join(path, MLMODEL_FILE_NAME))

    if conda_env is None:
        # Our requirements are known exactly: no slow inference subprocess.
        default = get_default_pip_requirements() if pip_requirements is None else None
        conda_env, pip_requirements, pip_constraints = _process_pip_requirements(
            default, pip_requirements, extra_pip_requirements
        )
    else:
        conda_env, pip_requirements, pip_constraints = _process_conda_env(conda_env)
    with open(os.path.join(path, _CONDA_ENV_FILE_NAME), "w") as stream:
        yaml.safe_dump(conda_env, stream=stream, default_flow_style=False)
    if pip_constraints:
        write_to(os.path.join(path, _CONSTRAINTS_FILE_NAME), "\n".join(pip_constraints))
    write_to(os.path.join(path, _REQUIREMENTS_FILE_NAME), "\n".join(pip_requirements))
    _PythonEnv.current().to_yaml(os.path.join(path, _PYTHON_ENV_FILE_NAME))


def _infer_signature(model, example, pyfunc_output):
    """The signature of ``example``'s columns, with integer columns as double.

    Inferred from whole-number rows, a column would be ``long``, and
    ``mlflow models serve`` would then cast a request's 5.99 to 5 and answer
    for the wrong row (in process, pyfunc refuses the float instead). The
    model computes in float64 anyway.
    """
    from mlflow.models import infer_signature

    steps = getattr(model, "steps", None)
    if steps and getattr(steps[0][1], "missing", None) == "indicator" and hasattr(
        example, "select_dtypes"
    ):
        # The binarizer scores missing values, which MLflow's schema enforcement
        # refuses in a column declared integer: declare such columns double.
        integers = example.select_dtypes("integer").columns
        example = example.astype(dict.fromkeys(integers, "float64"))
    wrapper = RiskScorePyfunc(model, pyfunc_output)
    output = wrapper.predict(example)
    return infer_signature(_integers_as_double(example), output,
                           params={"output": pyfunc_output})


def _integers_as_double(example):
    if isinstance(example, pd.DataFrame):
        integer = [c for c, t in example.dtypes.items() if pd.api.types.is_integer_dtype(t)]
        return example.astype(dict.fromkeys(integer, np.float64)) if integer else example
    if isinstance(example, np.ndarray) and example.dtype.kind in "iu":
        return example.astype(np.float64)
    return example


def _output_param(pyfunc_output):
    from mlflow.types import ParamSchema, ParamSpec

    return ParamSchema([ParamSpec("output", "string", pyfunc_output)])


def log_model(
    model,
    name=None,
    *,
    X=None,
    y=None,
    pyfunc_output="frame",
    signature=None,
    input_example=None,
    registered_model_name=None,
    await_registration_for=DEFAULT_AWAIT_MAX_SLEEP_SECONDS,
    pip_requirements=None,
    extra_pip_requirements=None,
    conda_env=None,
    code_paths=None,
    metadata=None,
    extra_files=None,
    params=None,
    tags=None,
    onnx=False,
    **kwargs,
):
    """Log a fitted risk score, its score card and its metrics to the active run.

    The model is stored as plain JSON (see :func:`sk_riskscore.save_json`)
    with the score card as Markdown and HTML and its plots as PNG. The
    certificate (objective, lower bound, optimality gap) and the fit time are
    logged as metrics of the model and of the run; with ``X`` and ``y`` so are
    the AUC, log loss, Brier score and calibration error on that data
    (``auc``, ``log_loss``, ``brier``, ``calibration_error``).

    Parameters
    ----------
    model : RiskScoreClassifier or Pipeline
        A fitted :class:`~sk_riskscore.RiskScoreClassifier` or
        ``Pipeline([RiskScoreBinarizer, RiskScoreClassifier])``.
    name : str, default="model"
        Name of the logged model.
    X, y : array-like, default=None
        Labelled data (a held-out set, ideally) for the metrics and plots.
    pyfunc_output : {"frame", "label", "risk"}, default="frame"
        Default output of the ``python_function`` flavor; see :func:`save_model`.
    signature, input_example
        The signature is inferred from ``input_example`` when not given.
    registered_model_name : str, default=None
        Also register the model under this name (created if needed).
    await_registration_for : int, default=300
        Seconds to wait for the model version to become ready.
    pip_requirements, extra_pip_requirements, conda_env, metadata, \
extra_files, params, tags
        As in every MLflow flavor.
    code_paths : None
        Must be None; see :func:`save_model`.
    onnx : bool, default=False
        Also log the ONNX export of the model as a second model of the run,
        named ``"<name>-onnx"`` (needs ``pip install "sk-riskscore[onnx]"``).
    **kwargs
        Passed to :meth:`mlflow.models.Model.log`.

    Returns
    -------
    model_info : mlflow.models.model.ModelInfo
        ``model_info.model_uri`` loads it back; ``registered_model_version``
        is set when registered.

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
    ...     "doctest", artifact_location=pathlib.Path(tmp.name, "artifacts").as_uri())
    >>> with mlflow.start_run(experiment_id=experiment):
    ...     info = sk_riskscore_mlflow.log_model(
    ...         clf, name="mammo", X=X, y=y, input_example=X.head(3),
    ...         pip_requirements=["sk-riskscore"])
    >>> loaded = sk_riskscore_mlflow.load_model(info.model_uri)
    >>> bool((loaded.decision_function(X) == clf.decision_function(X)).all())
    True
    >>> sorted(mlflow.get_logged_model(info.model_id).metrics, key=lambda m: m.key)[0].key
    'auc'
    >>> mlflow.set_tracking_uri(None); tmp.cleanup()
    """
    return _log_model(
        model, name, X=X, y=y, pyfunc_output=pyfunc_output, signature=signature,
        input_example=input_example, registered_model_name=registered_model_name,
        await_registration_for=await_registration_for, pip_requirements=pip_requirements,
        extra_pip_requirements=extra_pip_requirements, conda_env=conda_env,
        code_paths=code_paths, metadata=metadata, extra_files=extra_files, params=params,
        tags=tags, onnx=onnx, metric_prefix="", **kwargs,
    )


def _log_model(model, name, *, X, y, input_example, metric_prefix, onnx=False, **kwargs):
    """log_model; autolog passes ``metric_prefix="training_"`` for its fitted data."""
    import mlflow

    package = sys.modules[_PACKAGE]
    metrics = _certificate_metrics(model)
    if X is not None or y is not None:
        if X is None or y is None:
            raise ValueError("pass both X and y to log metrics on data, or neither")
        metrics.update({
            metric_prefix + key: value for key, value in compute_metrics(model, X, y).items()
        })
    info = Model.log(
        artifact_path=None,
        name=name or "model",
        flavor=package,
        model=model,
        X=X,
        y=y,
        input_example=input_example,
        flavor_name=FLAVOR_NAME,
        **kwargs,
    )
    if metrics:
        mlflow.log_metrics(metrics, run_id=info.run_id, model_id=info.model_id)
    if onnx:
        _log_onnx(model, info, input_example)
    return info


def _certificate_metrics(model) -> dict[str, float]:
    classifier = final_classifier(model)
    statistics = getattr(classifier, "solver_statistics_", None)
    metrics = {
        "objective": float(classifier.objective_),
        "lower_bound": float(classifier.lower_bound_),
        "optimality_gap": float(classifier.optimality_gap_),
    }
    if statistics is not None:
        metrics["fit_time"] = float(statistics.time)
    return metrics


def _log_onnx(model, info, input_example):
    try:
        from ._onnx import log_onnx_model
    except ImportError as exc:
        raise ImportError(
            "logging the ONNX export needs the ONNX extra: pip install "
            f'"sk-riskscore[onnx]" ({exc})'
        ) from exc
    return log_onnx_model(model, name=f"{info.name}-onnx", input_example=input_example)


def load_model(model_uri, dst_path=None, signing_key=None):
    """Load a risk score logged with this flavor, as the fitted estimator.

    Parameters
    ----------
    model_uri : str
        Any MLflow model URI: a local path, ``runs:/<run_id>/<name>``,
        ``models:/<model_id>``, ``models:/<name>/<version>`` or
        ``models:/<name>@<alias>``.
    dst_path : str, default=None
        Local directory to download the model to.
    signing_key : str or bytes, default=None
        Require the model file to be signed with this key (HMAC-SHA256), as
        :func:`sk_riskscore.load_json` does; ``SK_RISKSCORE_SIGNING_KEY`` in the
        environment has the same effect, and is how ``mlflow.pyfunc.load_model``
        and ``mlflow models serve`` are told the key.

    Returns
    -------
    model : RiskScoreClassifier or Pipeline
        Fitted; predicts exactly as the logged model did.

    Raises
    ------
    mlflow.exceptions.MlflowException
        The model has no ``riskscore`` flavor, its ``MLmodel`` has a ``code``
        entry (refused before anything is added to ``sys.path``), or its JSON
        file is malformed, too large, tampered with, of an unsupported schema
        version, or not signed with the key given.

    Examples
    --------
    See :func:`log_model`.
    """
    local = _download_artifact_from_uri(artifact_uri=model_uri, output_path=dst_path)
    conf = _get_flavor_configuration(model_path=local, flavor_name=FLAVOR_NAME)
    _refuse_code(local)
    return _load_json_file(
        os.path.join(local, conf.get("model_file", MODEL_FILE)), signing_key=signing_key
    )


def _refuse_code(model_dir) -> None:
    """Refuse a model whose MLmodel names a code folder, in any flavor.

    We never write one. MLflow prepends that folder to ``sys.path`` on load,
    so any module in it would shadow an installed one at its next import: a
    model file would run code. ``mlflow.pyfunc.load_model`` has already done so
    when it calls :func:`_load_pyfunc`; the folder is taken off ``sys.path``
    again before refusing.
    """
    flavors = Model.load(os.path.join(model_dir, MLMODEL_FILE_NAME)).flavors
    entries = {name: conf.get("code") for name, conf in flavors.items()
               if isinstance(conf, dict) and conf.get("code")}
    if not entries:
        return
    for code in entries.values():
        folder = os.path.join(model_dir, str(code))
        sys.path[:] = [entry for entry in sys.path if entry != folder]
    shown = ", ".join(f"{name}: {str(code)[:100]!r}" for name, code in sorted(entries.items()))
    raise MlflowException(
        f"refusing to load the risk score at {model_dir}: its MLmodel has a 'code' "
        f"entry ({shown}). sk-riskscore models never carry code, and MLflow would put "
        "that folder first on sys.path, where its modules run at the next import.",
        error_code=INVALID_PARAMETER_VALUE,
    )


def _load_json_file(path, signing_key=None):
    try:
        return load_json(path, signing_key=signing_key)
    except (InvalidModelFileError, FileNotFoundError) as exc:
        raise MlflowException(
            f"cannot load the risk score at {path}: {exc}",
            error_code=INVALID_PARAMETER_VALUE,
        ) from exc


def _load_pyfunc(path, model_config=None):
    """The ``python_function`` implementation; called by ``mlflow.pyfunc.load_model``."""
    model_file = path if os.path.isfile(path) else os.path.join(path, MODEL_FILE)
    model_dir = os.path.dirname(model_file)
    if os.path.isfile(os.path.join(model_dir, MLMODEL_FILE_NAME)):
        _refuse_code(model_dir)
    output, columns = "frame", OUTPUT_NAMES
    try:
        conf = _get_flavor_configuration(model_path=model_dir, flavor_name=FLAVOR_NAME)
        output = conf.get("pyfunc_output", output)
        # Saved by sk-riskscore 0.1: keep the columns its signature declares.
        columns = tuple(conf.get("output_columns", LEGACY_COLUMNS))
    except MlflowException:
        _logger.warning("no %r flavor configuration next to %s; predicting frames",
                        FLAVOR_NAME, model_file)
    if output not in OUTPUTS and output not in RENAMED_OUTPUTS:
        raise MlflowException(
            f"MLmodel: pyfunc_output {output!r} is not one of {list(OUTPUTS)}",
            error_code=INVALID_PARAMETER_VALUE,
        )
    if columns != OUTPUT_NAMES:
        _logger.warning(
            "%s was saved by sk-riskscore 0.1: its frame keeps the column %r for what is "
            "now called 'risk'. Log the model again to get the columns %s.",
            model_dir, "probability", list(OUTPUT_NAMES),
        )
    return RiskScorePyfunc(_load_json_file(model_file), output, columns)
