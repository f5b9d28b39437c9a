"""Fitting on Spark through the distinct (features, label) rows and their counts."""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np
import pandas as pd

from .._binning import FEATURE_GROUPS_ATTR
from ._frames import (
    _GROUP_METADATA,
    _RESERVED,
    _check_spark_frame,
    _collect,
    _column,
    _feature_list,
    _import_pyspark,
)

__all__ = ["DistinctRows", "distinct_rows", "fit_on_spark"]

logger = logging.getLogger(__name__)

_COUNT = "__sk_riskscore_count__"
_WEIGHT = "__sk_riskscore_weight__"
_WEIGHTED_ROWS = "__sk_riskscore_weighted_rows__"
_MIN_WEIGHT = "__sk_riskscore_min_weight__"


@dataclass(frozen=True)
class DistinctRows:
    """The distinct (features, label) rows of a Spark DataFrame and their weights.

    Fitting an estimator on ``X``, ``y`` with ``sample_weight`` solves the same
    weighted-mean-loss problem as fitting it on every row of the Spark data.

    Attributes
    ----------
    X : pandas.DataFrame of shape (n_distinct, n_features)
        Distinct feature rows (a row appears once per label it has), sorted so
        that the result does not depend on Spark's partitioning. Features made
        by :func:`binarize_on_spark` carry their groups of nested thresholds in
        ``X.attrs["sk_riskscore.feature_groups"]``, as the pandas output of
        :class:`~sk_riskscore.RiskScoreBinarizer` does.
    y : pandas.Series of shape (n_distinct,)
        Label of each distinct row.
    sample_weight : ndarray of shape (n_distinct,)
        Number of Spark rows (or their summed ``weight_col``) behind each row.
    n_rows : int
        Number of rows of the Spark DataFrame.

    Examples
    --------
    >>> import pandas as pd
    >>> from pyspark.sql import SparkSession  # doctest: +SKIP
    >>> from sk_riskscore.spark import distinct_rows
    >>> spark = SparkSession.builder.master("local[1]").getOrCreate()  # doctest: +SKIP
    >>> df = spark.createDataFrame(pd.DataFrame(
    ...     {"smoker": [1, 1, 0, 1], "old": [0, 0, 1, 0], "sick": [1, 1, 0, 0]}
    ... ))  # doctest: +SKIP
    >>> rows = distinct_rows(df, "sick")  # doctest: +SKIP
    >>> rows.n_rows, rows.n_distinct  # doctest: +SKIP
    (4, 3)
    >>> rows.sample_weight.tolist()  # doctest: +SKIP
    [1.0, 1.0, 2.0]
    """

    X: pd.DataFrame
    y: pd.Series
    sample_weight: np.ndarray
    n_rows: int

    @property
    def n_distinct(self) -> int:
        """Number of distinct (features, label) rows."""
        return len(self.X)


def distinct_rows(
    df,
    label_col: str,
    *,
    feature_cols=None,
    weight_col: str | None = None,
    max_distinct_rows: int = 1_000_000,
) -> DistinctRows:
    """Group a Spark DataFrame by its features and label and collect the counts.

    Spark computes one row per distinct combination of feature values and
    label, with the number of rows (or the sum of ``weight_col``) behind it;
    only that table travels to the driver.

    Parameters
    ----------
    df : pyspark.sql.DataFrame
        Numeric or boolean feature columns and a label column (two classes).
    label_col : str
        Name of the label column.
    feature_cols : list of str, default=None
        Feature columns, in the order the model will use. By default every
        column except ``label_col`` and ``weight_col``.
    weight_col : str, default=None
        Column of non-negative row weights; each distinct row gets the sum of
        its rows' weights. By default every row weighs 1.
    max_distinct_rows : int, default=1_000_000
        Refuse to bring more distinct rows than this to the driver: numeric
        columns with many values must be binarized first
        (:func:`binarize_on_spark`).

    Returns
    -------
    rows : DistinctRows
        ``rows.X.attrs["sk_riskscore.feature_groups"]`` lists the groups of
        nested thresholds that :func:`binarize_on_spark` marked in the column
        metadata, so that ``RiskScoreClassifier(binarizer_groups=True)`` gives
        points to at most one threshold per column and direction.

    Examples
    --------
    >>> import pandas as pd
    >>> from pyspark.sql import SparkSession  # doctest: +SKIP
    >>> from sk_riskscore.spark import distinct_rows
    >>> spark = SparkSession.builder.master("local[1]").getOrCreate()  # doctest: +SKIP
    >>> df = spark.createDataFrame(pd.DataFrame(
    ...     {"a": [1, 1, 1, 0], "b": [0, 0, 0, 1], "y": [1, 1, 0, 0]}
    ... ))  # doctest: +SKIP
    >>> rows = distinct_rows(df, "y")  # doctest: +SKIP
    >>> rows.X.assign(y=rows.y, weight=rows.sample_weight)  # doctest: +SKIP
       a  b  y  weight
    0  0  1  0     1.0
    1  1  0  0     1.0
    2  1  0  1     2.0
    """
    DataFrame, F, T = _import_pyspark()
    _check_spark_frame(df, DataFrame, "distinct_rows")
    if not isinstance(max_distinct_rows, (int, np.integer)) or max_distinct_rows < 1:
        raise ValueError(
            f"max_distinct_rows must be a positive integer, got {max_distinct_rows!r}."
        )
    features = _resolve_columns(df, label_col, feature_cols, weight_col, T)

    keys = [_column(F, name) for name in (*features, label_col)]
    aggregates = [F.count(F.lit(1)).alias(_COUNT)]
    if weight_col is not None:
        weight = _column(F, weight_col).cast("double")
        aggregates += [
            F.sum(weight).alias(_WEIGHT),
            F.count(weight).alias(_WEIGHTED_ROWS),
            F.min(weight).alias(_MIN_WEIGHT),
        ]
    grouped = (
        df.select(
            *[_numeric(F, T, df, name) for name in features],
            _column(F, label_col),
            *([_column(F, weight_col)] if weight_col is not None else []),
        )
        .groupBy(*keys)
        .agg(*aggregates)
    )
    table = _collect(grouped.limit(max_distinct_rows + 1))

    if len(table) > max_distinct_rows:
        raise ValueError(
            f"The data has more than max_distinct_rows={max_distinct_rows} distinct "
            f"rows over {len(features)} features: some columns take too many values "
            "for the risk score to be fitted on the driver. Binarize numeric columns "
            "first (sk_riskscore.spark.binarize_on_spark), drop identifier-like "
            "columns, or raise max_distinct_rows."
        )
    if table.empty:
        raise ValueError("The Spark DataFrame has no rows; nothing to fit.")
    _check_complete(table, features, label_col, weight_col)

    table = table.sort_values([*features, label_col], kind="stable", ignore_index=True)
    n_rows = int(table[_COUNT].sum())
    weights = (table[_WEIGHT] if weight_col is not None else table[_COUNT]).to_numpy(
        dtype=np.float64
    )
    logger.info(
        "Spark aggregation: %d rows -> %d distinct (features, label) rows",
        n_rows,
        len(table),
    )
    X = table[features].reset_index(drop=True)
    groups = _marked_groups(df, features)
    if groups:
        X.attrs[FEATURE_GROUPS_ATTR] = groups
    return DistinctRows(
        X=X,
        y=table[label_col].rename(label_col),
        sample_weight=weights,
        n_rows=n_rows,
    )


def fit_on_spark(
    estimator,
    df,
    label_col: str,
    *,
    feature_cols=None,
    weight_col: str | None = None,
    max_distinct_rows: int = 1_000_000,
):
    """Fit an estimator on a Spark DataFrame through its distinct rows.

    Runs :func:`distinct_rows` and calls
    ``estimator.fit(rows.X, rows.y, sample_weight=rows.sample_weight)``; for a
    :class:`~sk_riskscore.RiskScoreClassifier` this is the same problem, model
    and objective as a fit on all the rows collected into pandas. On the
    ``frame`` of :func:`binarize_on_spark` (with
    ``feature_cols=binarization.feature_names``) it is the fit of the pandas
    pipeline ``make_pipeline(binarizer, classifier)``, nested thresholds
    included.

    Parameters
    ----------
    estimator : RiskScoreClassifier
        An estimator whose ``fit`` accepts ``sample_weight``; it is fitted in
        place and returned.
    df : pyspark.sql.DataFrame
        Numeric or boolean feature columns and a label column.
    label_col : str
        Name of the label column.
    feature_cols : list of str, default=None
        Feature columns; by default every column except ``label_col`` and
        ``weight_col``.
    weight_col : str, default=None
        Column of non-negative row weights.
    max_distinct_rows : int, default=1_000_000
        Largest number of distinct rows brought to the driver.

    Returns
    -------
    estimator
        The fitted estimator.

    Examples
    --------
    >>> from pyspark.sql import SparkSession  # doctest: +SKIP
    >>> from sk_riskscore import RiskScoreClassifier
    >>> from sk_riskscore.datasets import load_mammo
    >>> from sk_riskscore.spark import fit_on_spark
    >>> spark = SparkSession.builder.master("local[1]").getOrCreate()  # doctest: +SKIP
    >>> frame = load_mammo(as_frame=True).frame
    >>> df = spark.createDataFrame(frame)  # doctest: +SKIP
    >>> clf = RiskScoreClassifier(max_features=3, max_coef=3)
    >>> clf = fit_on_spark(clf, df, "Malignant")  # doctest: +SKIP
    >>> clf.status_, clf.solver_statistics_.n_distinct_rows  # doctest: +SKIP
    ('optimal', 104)
    """
    from sklearn.utils.validation import has_fit_parameter

    if not has_fit_parameter(estimator, "sample_weight"):
        raise TypeError(
            f"fit_on_spark needs an estimator whose fit accepts sample_weight (the row "
            f"counts), such as RiskScoreClassifier; got {type(estimator).__name__}. "
            "Do the preprocessing on Spark (e.g. binarize_on_spark) and pass the "
            "classifier itself."
        )
    rows = distinct_rows(
        df,
        label_col,
        feature_cols=feature_cols,
        weight_col=weight_col,
        max_distinct_rows=max_distinct_rows,
    )
    return estimator.fit(rows.X, rows.y, sample_weight=rows.sample_weight)


def _marked_groups(df, features) -> list[list[str]]:
    """Groups of nested thresholds marked by transform_on_spark, among features."""
    members = {}
    for name in features:
        key = df.schema[name].metadata.get(_GROUP_METADATA)
        if key is not None:
            members.setdefault(key, []).append(name)
    return [group for group in members.values() if len(group) > 1]


def _numeric(F, T, df, name: str):
    """The column, with decimals as doubles (pandas would get Python Decimals)."""
    column = _column(F, name)
    if isinstance(df.schema[name].dataType, T.DecimalType):
        return column.cast("double").alias(name)
    return column


def _resolve_columns(df, label_col, feature_cols, weight_col, T) -> list[str]:
    columns = list(df.columns)
    for role, name in (("label_col", label_col), ("weight_col", weight_col)):
        if name is not None and name not in columns:
            raise ValueError(
                f"{role}={name!r} is not a column of the Spark DataFrame; "
                f"columns: {columns[:20]}{' ...' if len(columns) > 20 else ''}."
            )
    if weight_col is not None and weight_col == label_col:
        raise ValueError("weight_col and label_col must be different columns.")
    if feature_cols is None:
        features = [c for c in columns if c not in (label_col, weight_col)]
    else:
        features = _feature_list(df, feature_cols)
        clash = [c for c in features if c in (label_col, weight_col)]
        if clash:
            raise ValueError(f"feature_cols must not include the label or weight column: {clash}.")
    if not features:
        raise ValueError("No feature columns: the DataFrame holds only the label.")
    reserved = [c for c in (*features, label_col) if c.startswith(_RESERVED)]
    if reserved:
        raise ValueError(f"Column names starting with {_RESERVED!r} are reserved: {reserved}.")
    kinds = {f.name: f.dataType for f in df.schema.fields}
    bad = [
        f"{c} ({kinds[c].simpleString()})"
        for c in features
        if not isinstance(kinds[c], (T.NumericType, T.BooleanType))
    ]
    if bad:
        raise ValueError(
            f"Risk score features must be numeric or boolean; these columns are not: "
            f"{bad}. Encode them first, e.g. with sk_riskscore.spark.binarize_on_spark "
            "or pyspark.ml.feature.OneHotEncoder, or leave them out of feature_cols."
        )
    if weight_col is not None and not isinstance(kinds[weight_col], T.NumericType):
        raise ValueError(
            f"weight_col={weight_col!r} must be numeric, it is {kinds[weight_col].simpleString()}."
        )
    return features


def _check_complete(table: pd.DataFrame, features, label_col, weight_col) -> None:
    """Clear errors for missing values, which Spark groups instead of rejecting."""
    missing = [c for c in features if table[c].isna().any()]
    if missing:
        raise ValueError(
            f"Feature columns {missing} contain null or NaN values; a risk score needs "
            "a value for every feature. Impute them or add an indicator column and "
            "fill the nulls (DataFrame.fillna) before fitting."
        )
    if table[label_col].isna().any():
        raise ValueError(
            f"The label column {label_col!r} contains nulls; drop those rows "
            f"(df.dropna(subset=[{label_col!r}])) before fitting."
        )
    if weight_col is None:
        return
    if (table[_WEIGHTED_ROWS] != table[_COUNT]).any():
        raise ValueError(f"weight_col={weight_col!r} contains nulls; give every row a weight.")
    if (table[_MIN_WEIGHT] < 0).any() or not np.isfinite(table[_WEIGHT]).all():
        raise ValueError(f"weight_col={weight_col!r} must hold finite non-negative weights.")
