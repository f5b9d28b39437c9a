"""Risk scores on Spark: fit through the distinct rows, binarize and score at scale.

The solver's cost grows with the number of *distinct* rows, not with the number
of rows: binary or small-integer features take few distinct values, so millions
of rows collapse to thousands. Spark does that reduction (a ``groupBy`` over
the features and the label), the small table of distinct rows and their counts
comes to the driver, and :class:`~sk_riskscore.RiskScoreClassifier` is fitted on
it with the counts as ``sample_weight``. The objective is a weighted *mean*
loss, so this fit is the same optimisation problem as a fit on every row.

- :func:`binarize_on_spark` chooses the cut points of numeric columns with
  Spark (exact value counts or ``approxQuantile``) and returns a fitted
  :class:`~sk_riskscore.RiskScoreBinarizer` with the binarized Spark columns;
- :func:`distinct_rows` / :func:`fit_on_spark` aggregate and fit;
- :func:`sk_riskscore_mlflow.spark.score_on_spark` (in the MLflow plugin)
  scores a logged or registered model on Spark through ``mlflow.pyfunc.spark_udf``.

Requires the ``spark`` extra: ``pip install "sk-riskscore[spark]"`` (and Java).
pyspark is imported only when a function of this module is called.
"""

from __future__ import annotations

import warnings

from ._binarize import SparkBinarization, binarize_on_spark
from ._rows import DistinctRows, distinct_rows, fit_on_spark
from ._transform import transform_on_spark

__all__ = [
    "DistinctRows",
    "SparkBinarization",
    "binarize_on_spark",
    "distinct_rows",
    "fit_on_spark",
    "score_on_spark",
    "transform_on_spark",
]


def score_on_spark(df, model_uri, *, result_col="risk", env_manager="local"):
    """Deprecated: use :func:`sk_riskscore_mlflow.spark.score_on_spark`.

    Scoring through ``mlflow.pyfunc.spark_udf`` belongs to the MLflow plugin;
    this forwarder imports it on call (the core never imports MLflow at module
    level) and will be removed in a future version.

    Parameters
    ----------
    df : pyspark.sql.DataFrame
    model_uri : str
    result_col : str, default="risk"
    env_manager : str, default="local"

    Returns
    -------
    scored : pyspark.sql.DataFrame
    """
    warnings.warn(
        "sk_riskscore.spark.score_on_spark moved to the MLflow plugin: use "
        "sk_riskscore_mlflow.spark.score_on_spark.",
        DeprecationWarning,
        stacklevel=2,
    )
    from sk_riskscore_mlflow.spark import score_on_spark as score

    return score(df, model_uri, result_col=result_col, env_manager=env_manager)
