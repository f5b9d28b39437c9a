"""Applying a fitted RiskScoreBinarizer's rules to a Spark DataFrame."""

from __future__ import annotations

from .._binarizer import RiskScoreBinarizer
from .._binning import is_number
from ._frames import _GROUP_METADATA, _check_spark_frame, _column, _import_pyspark

__all__ = ["transform_on_spark"]


def transform_on_spark(binarizer, df):
    """Apply a fitted :class:`~sk_riskscore.RiskScoreBinarizer` to a Spark DataFrame.

    Every rule becomes a 0/1 integer column named as the rule, computed as
    :meth:`BinaryRule.apply` does (numbers compared in double precision).
    The binarizer's input columns are replaced by its features; the other
    columns pass through in front. A missing value (null or NaN) gives 1 on
    its column's ``"is missing"`` rule and 0 on the others, a special value 0
    on every threshold, as in pandas (a column without a missing rule: 0 on
    all its rules, with no warning). Nothing runs until Spark evaluates the
    result; a missing value with ``missing="error"``, or a category unseen in
    ``fit`` when ``handle_unknown="error"``, then fails the job with a
    message naming the column.

    Parameters
    ----------
    binarizer : RiskScoreBinarizer
        Fitted on a DataFrame (its ``feature_names_in_`` name the columns),
        in pandas or by :func:`binarize_on_spark`.
    df : pyspark.sql.DataFrame
        Holds the columns the rules read.

    Returns
    -------
    frame : pyspark.sql.DataFrame

    Examples
    --------
    >>> import pandas as pd
    >>> from pyspark.sql import SparkSession  # doctest: +SKIP
    >>> from sk_riskscore import RiskScoreBinarizer
    >>> from sk_riskscore.spark import transform_on_spark
    >>> X = pd.DataFrame({"Age": [25, 38, 47, 52, 61, 70], "Sex": list("FMFMFF")})
    >>> binarizer = RiskScoreBinarizer(n_thresholds=1, directions=">=").fit(X)
    >>> spark = SparkSession.builder.master("local[1]").getOrCreate()  # doctest: +SKIP
    >>> df = spark.createDataFrame(X.assign(id=range(6)))  # doctest: +SKIP
    >>> transform_on_spark(binarizer, df).show()  # doctest: +SKIP
    +---+---------+-------+-------+
    | id|Age >= 50|Sex = F|Sex = M|
    +---+---------+-------+-------+
    |  0|        0|      1|      0|
    |  1|        0|      0|      1|
    |  2|        0|      1|      0|
    |  3|        1|      0|      1|
    |  4|        1|      1|      0|
    |  5|        1|      1|      0|
    +---+---------+-------+-------+
    <BLANKLINE>
    """
    DataFrame, F, T = _import_pyspark()
    from sklearn.utils.validation import check_is_fitted

    _check_spark_frame(df, DataFrame, "transform_on_spark")
    if not isinstance(binarizer, RiskScoreBinarizer):
        raise TypeError(
            f"transform_on_spark takes a fitted RiskScoreBinarizer, got {type(binarizer).__name__}."
        )
    check_is_fitted(binarizer, "rules_")
    names_in = getattr(binarizer, "feature_names_in_", None)
    if names_in is None:
        raise ValueError(
            "This RiskScoreBinarizer was fitted on an array without column names, so "
            "it cannot find its columns in a Spark DataFrame; fit it on a pandas "
            "DataFrame whose columns match the Spark ones."
        )
    columns = list(df.columns)
    read = list(dict.fromkeys(rule.column for rule in binarizer.rules_))
    missing = [c for c in read if c not in columns]
    if missing:
        raise ValueError(
            f"The Spark DataFrame lacks the columns {missing} that the binarizer reads."
        )
    kinds = {f.name: f.dataType for f in df.schema.fields}
    for column in read:
        reads_numbers = any(
            r.operator in (">=", "<") or (r.operator == "is" and r.threshold is not None)
            for r in binarizer.rules_
            if r.column == column
        )
        if reads_numbers and not isinstance(kinds[column], (T.NumericType, T.BooleanType)):
            raise ValueError(
                f"Column {column!r} is numeric for the binarizer but "
                f"{kinds[column].simpleString()} in the Spark DataFrame; cast it "
                "to a number first."
            )
    inputs = {str(n) for n in names_in}
    keep = [c for c in columns if c not in inputs]
    clash = [rule.name for rule in binarizer.rules_ if rule.name in keep]
    if clash:
        raise ValueError(
            f"The binarized features {clash} would clash with columns the Spark "
            "DataFrame already has; rename those columns first."
        )
    group_of = {name: f"{group[0]}" for group in binarizer.feature_groups_ for name in group}
    expressions = [
        _rule_expression(F, T, kinds[rule.column], rule, binarizer).alias(
            rule.name,
            metadata=({_GROUP_METADATA: group_of[rule.name]} if rule.name in group_of else {}),
        )
        for rule in binarizer.rules_
    ]
    return df.select(*[_column(F, c) for c in keep], *expressions)


def _rule_expression(F, T, dtype, rule, binarizer):
    """The Spark column of one BinaryRule: 0/1, failing on unseen values (and on
    missing ones with ``missing="error"``).
    """
    column = _column(F, rule.column)
    numeric_column = isinstance(dtype, (T.NumericType, T.BooleanType))
    x = column.cast("double")
    missing = (x.isNull() | F.isnan(x)) if numeric_column else column.isNull()
    if rule.is_missing_rule:
        return F.when(missing, 1).otherwise(0).cast("int")
    if binarizer.missing == "error":
        expression = F.when(
            missing,
            F.raise_error(
                F.lit(
                    f"Column {rule.column!r} has a missing value (null or NaN); with "
                    "missing='error' impute it or drop those rows before binarizing."
                )
            ),
        )
    else:
        expression = F.when(missing, 0)
    if rule.excluded:
        expression = expression.when(x.isin(list(rule.excluded)), 0)
    if rule.operator == ">=":
        test = x >= rule.threshold
    elif rule.operator == "<":
        test = x < rule.threshold
    elif rule.operator == "is":
        test = x == rule.threshold
    else:
        known = binarizer.categories_.get(rule.column)
        key, literal = _category_key(F, column, numeric_column, known or (rule.threshold,))
        test = key == literal(rule.threshold)
        if known is not None and binarizer.handle_unknown == "error":
            expression = expression.when(
                ~key.isin([literal(c) for c in known]),
                F.raise_error(
                    F.concat(
                        F.lit(f"Column {rule.column!r} has the category '"),
                        column.cast("string"),
                        F.lit(
                            "' not seen in fit; refit on data that includes it, or use "
                            "RiskScoreBinarizer(handle_unknown='ignore') to give it no "
                            "points."
                        ),
                    )
                ),
            )
    return expression.when(test, 1).otherwise(0).cast("int")


def _category_key(F, column, numeric_column, categories):
    """How to compare a column with its categories: as booleans, numbers or text."""
    if all(isinstance(c, bool) for c in categories):
        return column.cast("boolean"), F.lit
    if numeric_column and all(is_number(c) for c in categories):
        return column.cast("double"), lambda c: F.lit(float(c))
    return column.cast("string"), lambda c: F.lit(str(c))
