"""Spark plumbing shared by the Spark functions: imports, column access, checks."""

from __future__ import annotations

import pandas as pd

_INSTALL_HINT = 'pip install "sk-riskscore[spark]"'
# Names of helper columns in aggregated tables; the prefix is reserved (checked).
_RESERVED = "__sk_riskscore_"
# Spark column metadata key marking the binarized features of which at most one
# should get points (the nested thresholds of one column and direction).
_GROUP_METADATA = "sk_riskscore.feature_group"


def _import_pyspark():
    """The pyspark modules this file uses, or an error naming the extra."""
    try:
        from pyspark.sql import DataFrame, functions, types
    except ImportError as exc:
        raise ImportError(
            "sk_riskscore.spark needs pyspark, which is not installed: "
            f"{_INSTALL_HINT} "
            "(Spark also needs Java 17 or later on the machine)."
        ) from exc
    return DataFrame, functions, types


def _column(F, name: str):
    """A column by its exact name, even when the name holds dots or spaces."""
    return F.col("`" + name.replace("`", "``") + "`")


def _check_spark_frame(df, DataFrame, function: str) -> None:
    if not isinstance(df, DataFrame):
        hint = (
            " For a pandas DataFrame call the estimator's own fit or transform."
            if isinstance(df, pd.DataFrame)
            else ""
        )
        raise TypeError(
            f"{function} expects a pyspark.sql.DataFrame, got {type(df).__name__}.{hint}"
        )
    columns = list(df.columns)
    duplicated = sorted({c for c in columns if columns.count(c) > 1})
    if duplicated:
        raise ValueError(
            f"The Spark DataFrame has duplicated column names {duplicated}; rename "
            "them (e.g. with withColumnRenamed) so each column is unambiguous."
        )


def _feature_list(df, feature_cols) -> list[str]:
    """Validated feature column names, in the given order."""
    if isinstance(feature_cols, str) or not hasattr(feature_cols, "__iter__"):
        raise TypeError(
            f"feature_cols must be a list of column names, got {feature_cols!r}; "
            f"write [{feature_cols!r}]."
        )
    columns = list(df.columns)
    features = [str(c) for c in feature_cols]
    if not features:
        raise ValueError("feature_cols is empty; name at least one column.")
    missing = [c for c in features if c not in columns]
    if missing:
        raise ValueError(
            f"feature_cols names columns the Spark DataFrame does not have: {missing}."
        )
    repeated = sorted({c for c in features if features.count(c) > 1})
    if repeated:
        raise ValueError(f"feature_cols lists {repeated} more than once.")
    reserved = [c for c in features if c.startswith(_RESERVED)]
    if reserved:
        raise ValueError(f"Column names starting with {_RESERVED!r} are reserved: {reserved}.")
    return features


def _collect(spark_frame) -> pd.DataFrame:
    """The (small) Spark table as pandas, through Arrow when pyspark has it."""
    if hasattr(spark_frame, "toArrow"):  # pyspark >= 4.0: Arrow regardless of config
        return spark_frame.toArrow().to_pandas()
    return spark_frame.toPandas()
