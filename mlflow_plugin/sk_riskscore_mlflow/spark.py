"""Scoring a logged risk score on Spark, through ``mlflow.pyfunc.spark_udf``.

Requires the ``spark`` extra besides ``mlflow``: ``pip install
"sk-riskscore[mlflow,spark]"`` (and Java). pyspark is imported only when
:func:`score_on_spark` is called.
"""

from __future__ import annotations

import warnings

import mlflow.pyfunc
from mlflow.models import get_model_info

from sk_riskscore._model import OUTPUT_NAMES
from sk_riskscore.spark._frames import _check_spark_frame, _column, _import_pyspark

from ._pyfunc import LEGACY_COLUMNS

__all__ = ["score_on_spark"]


def score_on_spark(
    df, model_uri: str, *, result_col: str = "prediction", env_manager: str = "local"
):
    """Score a Spark DataFrame with a logged risk score, through ``spark_udf``.

    Wraps :func:`mlflow.pyfunc.spark_udf` around a model logged or saved by
    :mod:`sk_riskscore_mlflow` (any model URI: ``models:/<name>@<alias>``,
    ``models:/m-<id>``, ``runs:/<run_id>/<name>``, a local path...) and adds one struct
    column ``result_col`` with the fields ``score`` (total points),
    ``risk`` (probability of ``classes_[1]``) and ``label``: the same values the
    model gives in process, row by row. The model's input columns are read by
    name from its signature, so ``df`` may hold other columns too.

    Parameters
    ----------
    df : pyspark.sql.DataFrame
        Holds the model's input columns (for a binarizer pipeline: the raw
        columns).
    model_uri : str
        A risk score logged with ``sk_riskscore_mlflow.log_model(...,
        input_example=...)``: the signature says which columns it reads and
        the types of its results.
    result_col : str, default="prediction"
        Name of the added struct column; ``df.select("*", "prediction.*")``
        flattens it. (The deprecated ``sk_riskscore.spark.score_on_spark``
        defaults to ``"risk"``.)
    env_manager : {"local", "virtualenv", "uv", "conda"}, default="local"
        Where the executors run the model; ``"local"`` uses their current
        Python environment, which must have sk-riskscore installed (set
        ``PYSPARK_PYTHON`` to that interpreter).

    Returns
    -------
    scored : pyspark.sql.DataFrame
        ``df`` with the struct column ``result_col`` appended.

    Examples
    --------
    >>> import pathlib, tempfile
    >>> import sk_riskscore_mlflow
    >>> from pyspark.sql import SparkSession  # doctest: +SKIP
    >>> from sk_riskscore import RiskScoreClassifier
    >>> from sk_riskscore.datasets import load_mammo
    >>> from sk_riskscore_mlflow.spark import score_on_spark
    >>> X, y = load_mammo(return_X_y=True, as_frame=True)
    >>> clf = RiskScoreClassifier(max_features=3, max_coef=3).fit(X, y)
    >>> tmp = tempfile.TemporaryDirectory()
    >>> path = str(pathlib.Path(tmp.name, "mammo"))
    >>> sk_riskscore_mlflow.save_model(clf, path, input_example=X.head(3))
    >>> spark = SparkSession.builder.master("local[1]").getOrCreate()  # doctest: +SKIP
    >>> df = spark.createDataFrame(X.head(4))  # doctest: +SKIP
    >>> scored = score_on_spark(df, path)  # doctest: +SKIP
    >>> scored.select("prediction.*").toPandas().round(3)  # doctest: +SKIP
       score   risk  label
    0      1  0.500      0
    1     -1  0.119      0
    2      2  0.731      1
    3     -1  0.119      0
    >>> tmp.cleanup()
    """
    DataFrame, F, T = _import_pyspark()
    _check_spark_frame(df, DataFrame, "score_on_spark")
    signature = get_model_info(model_uri).signature
    outputs = (
        [] if signature is None or signature.outputs is None else signature.outputs.input_names()
    )
    if list(outputs) == list(LEGACY_COLUMNS):
        warnings.warn(
            f"The model at {model_uri!r} was logged by sk-riskscore 0.1: its struct "
            "field 'probability' is what is now called 'risk'. Log it again to get the "
            f"fields {list(OUTPUT_NAMES)}.",
            FutureWarning,
            stacklevel=2,
        )
    elif list(outputs) != list(OUTPUT_NAMES):
        raise ValueError(
            f"The model at {model_uri!r} does not declare the outputs "
            f"{list(OUTPUT_NAMES)} (it declares {list(outputs) or 'none'}). Log it "
            "with sk_riskscore_mlflow.log_model(model, input_example=X.head(), "
            "pyfunc_output='frame') so that its signature tells Spark the result "
            "columns."
        )
    inputs = [str(name) for name in signature.inputs.input_names()]
    missing = [c for c in inputs if c not in df.columns]
    if missing:
        raise ValueError(
            f"The Spark DataFrame lacks {len(missing)} of the model's input columns: "
            f"{missing[:10]}{' ...' if len(missing) > 10 else ''}."
        )
    if result_col in df.columns:
        raise ValueError(
            f"result_col={result_col!r} is already a column of the Spark DataFrame; "
            "choose another name."
        )
    # Feature columns are double in our signatures (a long column would
    # truncate 0.9 to 0), and MLflow refuses int64 values other than 0/1 there.
    types = {str(spec.get("name")): spec.get("type") for spec in signature.inputs.to_dict()}
    columns = [_column(F, c).cast("double").alias(c) if types.get(c) == "double"
               else _column(F, c) for c in inputs]
    udf = mlflow.pyfunc.spark_udf(df.sparkSession, model_uri, env_manager=env_manager)
    return df.withColumn(result_col, udf(F.struct(*columns)))
