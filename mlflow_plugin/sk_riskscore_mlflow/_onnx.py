"""Log the ONNX export of a risk score with ``mlflow.onnx``.

mlflow, onnx, skl2onnx and onnxruntime are imported inside the function, so
importing this module needs none of them.
"""

from __future__ import annotations

import logging

import numpy as np

__all__ = ["log_onnx_model"]

logger = logging.getLogger(__name__)


def log_onnx_model(
    model,
    name="onnx_model",
    *,
    input_example=None,
    dtype=np.float64,
    registered_model_name=None,
    pip_requirements=None,
    metadata=None,
):
    """Export a fitted risk score to ONNX and log it with ``mlflow.onnx.log_model``.

    The signature is built with ``mlflow.models.infer_signature`` from the
    input example and the outputs onnxruntime computes for it: a tensor input
    ``X`` of shape ``(-1, n_features)`` and the tensors ``label``,
    ``probabilities`` and ``score``. The model is logged to run on
    ``CPUExecutionProvider``; its pyfunc takes a numpy array (or a DataFrame
    whose columns are in the fitted order) and returns a dict of arrays.

    Parameters
    ----------
    model : RiskScoreClassifier or Pipeline
        Fitted classifier, or a fitted pipeline ending in one.
    name : str, default="onnx_model"
        Name of the logged model.
    input_example : array-like or DataFrame of shape (n_rows, n_features), default=None
        A few rows of input; logged with the model and used for the signature.
        A DataFrame is put in the fitted column order. ``None`` builds the
        signature from one row of zeros and logs no example.
    dtype : {numpy.float64, numpy.float32}, default=numpy.float64
        Element type of the ONNX input (see :func:`sk_riskscore.onnx.to_onnx`).
    registered_model_name : str, default=None
        Also register the model under this name.
    pip_requirements : list of str, default=None
        Requirements of the logged model; by default the installed onnx and
        onnxruntime versions (which skips MLflow's slow requirement inference).
    metadata : dict, default=None
        Extra metadata stored in the MLmodel file.

    Returns
    -------
    mlflow.models.model.ModelInfo

    Examples
    --------
    >>> import tempfile, pathlib, mlflow
    >>> from sk_riskscore import RiskScoreClassifier
    >>> from sk_riskscore.datasets import load_breastcancer
    >>> from sk_riskscore_mlflow._onnx import log_onnx_model
    >>> X, y = load_breastcancer(return_X_y=True, as_frame=True)
    >>> clf = RiskScoreClassifier(max_features=2, max_coef=3).fit(X, y)
    >>> tmp = pathlib.Path(tempfile.mkdtemp())
    >>> previous_uri = mlflow.get_tracking_uri()
    >>> mlflow.set_tracking_uri(f"sqlite:///{tmp / 'mlflow.db'}")
    >>> experiment = mlflow.create_experiment(
    ...     "onnx", artifact_location=(tmp / "artifacts").as_uri())
    >>> with mlflow.start_run(experiment_id=experiment):
    ...     info = log_onnx_model(clf, input_example=X.head())
    >>> scored = mlflow.pyfunc.load_model(info.model_uri).predict(X.to_numpy(float))
    >>> bool((scored["label"] == clf.predict(X)).all())
    True
    >>> mlflow.set_tracking_uri(previous_uri)
    """
    try:
        import mlflow.onnx
        import onnx
        import onnxruntime
        from mlflow.models import infer_signature
    except ImportError as exc:
        raise ImportError(
            f"Logging an ONNX risk score needs mlflow, onnx and onnxruntime ({exc}): "
            'pip install "sk-riskscore[mlflow,onnx]"'
        ) from exc
    from sk_riskscore.onnx import to_onnx

    dtype = np.dtype(dtype)
    if dtype not in (np.dtype(np.float64), np.dtype(np.float32)):
        raise ValueError(f"dtype must be float64 or float32, got {dtype}.")
    onx = to_onnx(model, dtype=dtype, zipmap=False)
    example = _example_matrix(model, input_example, dtype)
    session = onnxruntime.InferenceSession(
        onx.SerializeToString(), providers=["CPUExecutionProvider"]
    )
    output_names = [output.name for output in session.get_outputs()]
    outputs = dict(zip(output_names, session.run(None, {"X": example}), strict=True))
    signature = infer_signature(example, outputs)
    if pip_requirements is None:
        pip_requirements = [
            f"onnx=={onnx.__version__}",
            f"onnxruntime=={onnxruntime.__version__}",
        ]
    logger.info("Logging the ONNX export of %s as %r.", type(model).__name__, name)
    return mlflow.onnx.log_model(
        onx,
        name=name,
        signature=signature,
        input_example=example if input_example is not None else None,
        onnx_execution_providers=["CPUExecutionProvider"],
        pip_requirements=pip_requirements,
        registered_model_name=registered_model_name,
        metadata=metadata,
    )


def _example_matrix(model, input_example, dtype) -> np.ndarray:
    """The input example as the ONNX input: a 2-D array in the fitted column order."""
    n_features = int(model.n_features_in_)
    if input_example is None:
        return np.zeros((1, n_features), dtype=dtype)
    names = getattr(model, "feature_names_in_", None)
    if hasattr(input_example, "columns") and names is not None:
        missing = [str(c) for c in names if c not in input_example.columns]
        if missing:
            raise ValueError(
                f"input_example lacks the fitted columns {missing}; give rows with "
                f"the columns {list(map(str, names))}."
            )
        input_example = input_example[list(names)]
    try:
        example = np.asarray(input_example, dtype=dtype)
    except (TypeError, ValueError) as exc:
        raise ValueError(
            f"input_example must be numeric rows of the model's input ({exc})."
        ) from None
    if example.ndim != 2 or example.shape[1] != n_features:
        raise ValueError(
            f"input_example must have shape (n_rows, {n_features}), got {example.shape}."
        )
    return example
