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
- :func:`score_on_spark` scores a logged or registered model on Spark through
  ``mlflow.pyfunc.spark_udf``, one struct column ``(score, probability, label)``.

Requires the ``spark`` extra: ``pip install "sk-riskscore[spark]"`` (and Java).
pyspark is imported only when a function of this module is called.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal

import numpy as np
import pandas as pd

from ._binarizer import (
    _ROUNDING_SLACK,
    FEATURE_GROUPS_ATTR,
    BinaryRule,
    RiskScoreBinarizer,
    _category_order,
    _format_category,
    _is_number,
)

__all__ = [
    "DistinctRows",
    "SparkBinarization",
    "binarize_on_spark",
    "distinct_rows",
    "fit_on_spark",
    "score_on_spark",
    "transform_on_spark",
]

logger = logging.getLogger(__name__)

_INSTALL_HINT = 'pip install "sk-riskscore[spark]"'
# Names of helper columns in aggregated tables; the prefix is reserved (checked).
_RESERVED = "__sk_riskscore_"
_COUNT = "__sk_riskscore_count__"
_WEIGHT = "__sk_riskscore_weight__"
_WEIGHTED_ROWS = "__sk_riskscore_weighted_rows__"
_MIN_WEIGHT = "__sk_riskscore_min_weight__"
# Spark column metadata key marking the binarized features of which at most one
# should get points (the nested thresholds of one column and direction).
_GROUP_METADATA = "sk_riskscore.feature_group"
# The result columns of a risk score's pyfunc (sk_riskscore_mlflow).
_SCORE_FIELDS = ("score", "probability", "label")


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


# ------------------------------------------------------------ binarization
@dataclass(frozen=True)
class SparkBinarization:
    """A binarizer fitted on Spark and the Spark data it binarized.

    Attributes
    ----------
    binarizer : RiskScoreBinarizer
        Fitted (from its rules, via :meth:`RiskScoreBinarizer.from_dict`), with
        pandas output: put it in front of the classifier,
        ``make_pipeline(binarization.binarizer, clf)``, to score raw rows in
        pandas, ONNX or MLflow exactly as Spark binarized them.
    frame : pyspark.sql.DataFrame
        The input's other columns (label, weights, ids...) followed by one 0/1
        integer column per rule, named as the rule ("Age >= 60"); nested
        thresholds are marked in the column metadata (see
        :func:`distinct_rows`).
    feature_names : tuple of str
        The binary feature columns of ``frame``, in the binarizer's order.
    """

    binarizer: RiskScoreBinarizer
    frame: object
    feature_names: tuple


def binarize_on_spark(
    binarizer,
    df,
    feature_cols,
    *,
    relative_error: float = 1e-4,
    max_exact_values: int = 10_000,
) -> SparkBinarization:
    """Fit a :class:`~sk_riskscore.RiskScoreBinarizer` on Spark data, binarize it.

    The cut points follow ``RiskScoreBinarizer(strategy="quantile")``: for
    each level ``k / (n_thresholds + 1)`` the observed value whose share of
    rows below it is nearest the level, then the shortest readable number
    splitting the rows (almost) the same way, dropped unless ``min_frequency``
    of the rows lies on each side. Spark computes the statistics:

    * columns with at most ``max_exact_values`` distinct values (binary,
      small integers, codes) get exact value counts: the rules are then those
      of ``binarizer.fit`` on the same rows collected into pandas;
    * other numeric columns get ``approxQuantile`` with ``relative_error``
      (0 is exact but costly), refined with exact counts around each
      quantile, so each cut's rank is within ``relative_error`` of the one the
      pandas fit chooses (identical rules with ``relative_error=0``);
    * string columns, and those in ``categorical_features``, get exact
      category counts: one ``"Sex = F"`` rule per category covering at least
      ``min_frequency`` of the rows.

    Parameters
    ----------
    binarizer : RiskScoreBinarizer
        Its parameters (``n_thresholds``, ``directions``,
        ``categorical_features``, ``min_frequency``, ``handle_unknown``) are
        used; it is not modified. ``strategy`` must be ``"quantile"``.
    df : pyspark.sql.DataFrame
    feature_cols : list of str
        Columns to binarize; the other columns pass through to ``frame``.
    relative_error : float, default=1e-4
        Rank precision of ``approxQuantile`` for many-valued numeric columns.
    max_exact_values : int, default=10_000
        Numeric columns with at most this many distinct values (estimated)
        get exact value counts; categorical columns may have at most this
        many categories.

    Returns
    -------
    binarization : SparkBinarization
        The fitted binarizer and the binarized Spark DataFrame.

    See Also
    --------
    transform_on_spark : Apply a fitted binarizer to other Spark data.

    Examples
    --------
    >>> from pyspark.sql import SparkSession  # doctest: +SKIP
    >>> from sk_riskscore import RiskScoreBinarizer
    >>> from sk_riskscore.datasets import load_breastcancer
    >>> from sk_riskscore.spark import binarize_on_spark
    >>> spark = SparkSession.builder.master("local[1]").getOrCreate()  # doctest: +SKIP
    >>> frame = load_breastcancer(as_frame=True).frame
    >>> df = spark.createDataFrame(
    ...     frame[["ClumpThickness", "BareNuclei", "Malignant"]])  # doctest: +SKIP
    >>> binarization = binarize_on_spark(
    ...     RiskScoreBinarizer(n_thresholds=2, directions=">="), df,
    ...     ["ClumpThickness", "BareNuclei"])  # doctest: +SKIP
    >>> binarization.frame.columns  # doctest: +SKIP +NORMALIZE_WHITESPACE
    ['Malignant', 'ClumpThickness >= 3', 'ClumpThickness >= 6',
     'BareNuclei >= 2', 'BareNuclei >= 4']
    """
    DataFrame, F, T = _import_pyspark()
    _check_spark_frame(df, DataFrame, "binarize_on_spark")
    if not isinstance(binarizer, RiskScoreBinarizer):
        raise TypeError(
            "binarize_on_spark takes a RiskScoreBinarizer (its parameters say how to "
            f"binarize), got {type(binarizer).__name__}."
        )
    binarizer._validate_params()
    if binarizer.strategy != "quantile":
        raise ValueError(
            f"binarize_on_spark computes quantile cut points; strategy="
            f"{binarizer.strategy!r} needs every row in memory. Fit the binarizer on a "
            "sample in pandas and apply it with transform_on_spark, or use "
            "strategy='quantile'."
        )
    if not (isinstance(relative_error, (int, float)) and 0 <= relative_error < 1):
        raise ValueError(f"relative_error must be a number in [0, 1), got {relative_error!r}.")
    if not isinstance(max_exact_values, (int, np.integer)) or max_exact_values < 2:
        raise ValueError(f"max_exact_values must be an integer >= 2, got {max_exact_values!r}.")
    features = _feature_list(df, feature_cols)
    forced = {str(c) for c in binarizer.categorical_features or ()}
    unknown = sorted(forced - set(features))
    if unknown:
        raise ValueError(f"categorical_features names columns not in feature_cols: {unknown}.")
    kinds = _column_kinds(df, features, forced, T)

    profile = _profile(df, features, kinds, F, T)
    n = profile.n_rows
    if n == 0:
        raise ValueError("The Spark DataFrame has no rows; nothing to binarize.")
    exact = [
        c
        for c in features
        if kinds[c] == "numeric" and profile.approx_distinct[c] <= max_exact_values
    ]
    approximate = [c for c in features if kinds[c] == "numeric" and c not in exact]
    categorical = [c for c in features if kinds[c] == "categorical"]
    too_many = [c for c in categorical if profile.approx_distinct[c] > 1.1 * max_exact_values]
    if too_many:
        raise _too_many_categories(too_many, max_exact_values)
    category_counts = _category_counts(df, categorical, max_exact_values, F, T)
    counts = _value_counts(df, exact, F)
    slack = math.floor(_ROUNDING_SLACK * n)
    quantile_cuts = _quantile_pairs(
        df, approximate, binarizer.n_thresholds, relative_error, n, slack, F
    )

    rules, groups, column_types, categories = [], [], {}, {}
    for column in features:
        if kinds[column] == "categorical":
            known, kept = _frequent_categories(*category_counts[column], n, binarizer.min_frequency)
            categories[column] = known
            column_types[column] = "categorical" if len(known) > 1 else "constant"
            if len(known) > 1:
                rules += [
                    BinaryRule(column, "==", c, f"{column} = {_format_category(c)}") for c in kept
                ]
            continue
        if column in counts:
            distinct, weights = counts[column]
            if len(distinct) < 2:
                column_types[column] = "constant"
                continue
            if len(distinct) == 2 and distinct[0] == 0.0 and distinct[1] == 1.0:
                column_types[column] = "binary"
                rules.append(BinaryRule(column, ">=", 1.0, column))
                continue
            pairs = _tie_aware_pairs(distinct, weights, n, binarizer.n_thresholds)
            count_below = _counter_from_value_counts(distinct, weights)
        else:
            pairs, count_below = quantile_cuts[column]
        column_types[column] = "numeric"
        cuts = _cuts(pairs, count_below, n, binarizer.min_frequency, slack)
        column_rules, column_groups = binarizer._threshold_rules(column, cuts)
        rules += column_rules
        groups += column_groups
        if not column_rules:
            logger.info("binarize_on_spark: column %r gives no feature", column)

    params = binarizer.get_params()
    if params.get("categorical_features") is not None:
        params["categorical_features"] = [str(c) for c in params["categorical_features"]]
    fitted = RiskScoreBinarizer.from_dict(
        {
            "params": params,
            "feature_names_in": features,
            "n_features_in": len(features),
            "column_types": column_types,
            "categories": {c: list(v) for c, v in categories.items()},
            "rules": [rule.to_dict() for rule in rules],
            "feature_groups": groups,
        }
    )
    fitted.set_output(transform="pandas")
    frame = transform_on_spark(fitted, df)
    return SparkBinarization(
        binarizer=fitted,
        frame=frame,
        feature_names=tuple(rule.name for rule in fitted.rules_),
    )


def transform_on_spark(binarizer, df):
    """Apply a fitted :class:`~sk_riskscore.RiskScoreBinarizer` to a Spark DataFrame.

    Every rule becomes a 0/1 integer column named as the rule, computed as
    :meth:`BinaryRule.apply` does (numbers compared in double precision).
    The binarizer's input columns are replaced by its features; the other
    columns pass through in front. Nothing runs until Spark evaluates the
    result; a missing value (null or NaN) in an input column, or a category
    unseen in ``fit`` when ``handle_unknown="error"``, then fails the job with
    a message naming the column.

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
        reads_numbers = any(r.operator != "==" for r in binarizer.rules_ if r.column == column)
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


# ----------------------------------------------------------------- scoring
def score_on_spark(df, model_uri: str, *, result_col: str = "risk", env_manager: str = "local"):
    """Score a Spark DataFrame with a logged risk score, through ``spark_udf``.

Wraps :func:`mlflow.pyfunc.spark_udf` around a model logged or saved by
    :mod:`sk_riskscore_mlflow` (any model URI: ``models:/<name>@<alias>``,
    ``models:/m-<id>``, ``runs:/<run_id>/<name>``, a local path...) and adds one struct
    column ``result_col`` with the fields ``score`` (total points),
    ``probability`` (of ``classes_[1]``) and ``label``: the same values the
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
    result_col : str, default="risk"
        Name of the added struct column; ``df.select("*", "risk.*")`` flattens it.
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
    >>> from sk_riskscore.spark import score_on_spark
    >>> X, y = load_mammo(return_X_y=True, as_frame=True)
    >>> clf = RiskScoreClassifier(max_features=3, max_coef=3).fit(X, y)
    >>> tmp = tempfile.TemporaryDirectory()
    >>> path = str(pathlib.Path(tmp.name, "mammo"))
    >>> sk_riskscore_mlflow.save_model(clf, path, input_example=X.head(3))
    >>> spark = SparkSession.builder.master("local[1]").getOrCreate()  # doctest: +SKIP
    >>> df = spark.createDataFrame(X.head(4))  # doctest: +SKIP
    >>> scored = score_on_spark(df, path)  # doctest: +SKIP
    >>> scored.select("risk.*").toPandas().round(3)  # doctest: +SKIP
       score  probability  label
    0      0        0.500      0
    1     -2        0.119      0
    2      1        0.731      1
    3     -2        0.119      0
    >>> tmp.cleanup()
    """
    DataFrame, F, T = _import_pyspark()
    _check_spark_frame(df, DataFrame, "score_on_spark")
    try:
        import mlflow.pyfunc
        from mlflow.models import get_model_info
    except ImportError as exc:
        raise ImportError(
            'score_on_spark needs MLflow: pip install "sk-riskscore[mlflow,spark]"'
        ) from exc
    signature = get_model_info(model_uri).signature
    outputs = (
        [] if signature is None or signature.outputs is None else signature.outputs.input_names()
    )
    if list(outputs) != list(_SCORE_FIELDS):
        raise ValueError(
            f"The model at {model_uri!r} does not declare the outputs "
            f"{list(_SCORE_FIELDS)} (it declares {list(outputs) or 'none'}). Log it "
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
    udf = mlflow.pyfunc.spark_udf(df.sparkSession, model_uri, env_manager=env_manager)
    return df.withColumn(result_col, udf(F.struct(*[_column(F, c) for c in inputs])))


# ------------------------------------------------------------------ helpers
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


def _collect(spark_frame) -> pd.DataFrame:
    """The (small) Spark table as pandas, through Arrow when pyspark has it."""
    if hasattr(spark_frame, "toArrow"):  # pyspark >= 4.0: Arrow regardless of config
        return spark_frame.toArrow().to_pandas()
    return spark_frame.toPandas()


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


# ------------------------------------------------- binarization statistics
@dataclass(frozen=True)
class _Profile:
    n_rows: int
    approx_distinct: dict


def _column_kinds(df, features, forced, T) -> dict:
    """ "categorical" or "numeric" per column, as RiskScoreBinarizer reads them."""
    types = {f.name: f.dataType for f in df.schema.fields}
    atomic = (T.NumericType, T.BooleanType, T.StringType)
    kinds, bad = {}, []
    for column in features:
        dtype = types[column]
        if not isinstance(dtype, atomic):
            bad.append(f"{column} ({dtype.simpleString()})")
        elif column in forced or isinstance(dtype, T.StringType):
            kinds[column] = "categorical"
        else:
            kinds[column] = "numeric"
    if bad:
        raise ValueError(
            f"binarize_on_spark reads numeric, boolean and string columns; these are "
            f"not: {bad}. Convert them first (e.g. a date to days since a reference "
            "date with pyspark.sql.functions.datediff) or leave them out of "
            "feature_cols."
        )
    return kinds


def _profile(df, features, kinds, F, T) -> _Profile:
    """Rows, missing and infinite values, estimated distinct values: one Spark job."""
    types = {f.name: f.dataType for f in df.schema.fields}
    aggregates = [F.count(F.lit(1)).alias("n")]
    for i, column in enumerate(features):
        value = _column(F, column)
        aggregates += [
            F.count(value).alias(f"present{i}"),
            F.approx_count_distinct(value).alias(f"distinct{i}"),
        ]
        if isinstance(types[column], (T.FloatType, T.DoubleType)):
            aggregates += [
                F.sum(F.isnan(value).cast("long")).alias(f"nan{i}"),
                F.sum((F.abs(value) == float("inf")).cast("long")).alias(f"inf{i}"),
            ]
    row = df.agg(*aggregates).first().asDict()
    n = int(row["n"])
    for i, column in enumerate(features):
        missing = n - int(row[f"present{i}"]) + int(row.get(f"nan{i}") or 0)
        if missing:
            fix = (
                f"fill them with an explicit category first, e.g. "
                f"df.fillna({{{column!r}: 'missing'}})"
                if kinds[column] == "categorical"
                else "impute them first (e.g. pyspark.ml.feature.Imputer)"
            )
            raise ValueError(
                f"Column {column!r} has {missing} missing value(s) (null or NaN). A "
                f"risk score does not guess what a missing value means: {fix}, or drop "
                "the rows."
            )
        infinite = int(row.get(f"inf{i}") or 0)
        if infinite:
            raise ValueError(
                f"Column {column!r} has {infinite} infinite value(s); replace them "
                "with finite numbers or drop the rows."
            )
    return _Profile(
        n_rows=n,
        approx_distinct={c: int(row[f"distinct{i}"]) for i, c in enumerate(features)},
    )


def _counts_by_column(df, columns, cast: str, F):
    """Counts of (column index k, value v cast to ``cast``) pairs: one Spark job."""
    pairs = F.explode(
        F.array(
            *[
                F.struct(F.lit(i).alias("k"), _column(F, c).cast(cast).alias("v"))
                for i, c in enumerate(columns)
            ]
        )
    )
    return _collect(df.select(pairs.alias("p")).select("p.k", "p.v").groupBy("k", "v").count())


def _value_counts(df, columns, F) -> dict:
    """Exact (sorted distinct values, counts) of numeric columns: one Spark job."""
    if not columns:
        return {}
    table = _counts_by_column(df, columns, "double", F)
    out = {}
    for i, column in enumerate(columns):
        part = table[table["k"] == i].sort_values("v")
        out[column] = (
            part["v"].to_numpy(dtype=np.float64) + 0.0,
            part["count"].to_numpy(dtype=np.int64),
        )
    return out


def _category_counts(df, columns, max_values, F, T) -> dict:
    """Exact (categories, counts) of each categorical column: one Spark job.

    Values travel as text and are read back with their column's type, so a
    category is the same Python value RiskScoreBinarizer sees in pandas.
    """
    if not columns:
        return {}
    types = {f.name: f.dataType for f in df.schema.fields}
    table = _counts_by_column(df, columns, "string", F)
    out = {}
    for i, column in enumerate(columns):
        part = table[table["k"] == i]
        if len(part) > max_values:
            raise _too_many_categories([column], max_values)
        read = _category_reader(types[column], T)
        out[column] = ([read(v) for v in part["v"].tolist()], part["count"].tolist())
    return out


def _category_reader(dtype, T):
    """Text from Spark back to the Python value pandas would hold."""
    if isinstance(dtype, T.BooleanType):
        return lambda text: text == "true"
    if isinstance(dtype, T.IntegralType):
        return int
    if isinstance(dtype, T.NumericType):
        return float
    return str


def _too_many_categories(columns, max_values) -> ValueError:
    return ValueError(
        f"Columns {columns} have more than max_exact_values={max_values} categories; a "
        "risk score gives points per category, so group rare categories first, leave "
        "identifier-like columns out of feature_cols, or raise max_exact_values."
    )


def _frequent_categories(values, counts, n, min_frequency):
    """(all categories, those frequent enough), ordered as RiskScoreBinarizer does."""
    order = _category_order(values)
    needed = min_frequency * n
    known = tuple(values[i] for i in order)
    kept = tuple(values[i] for i in order if counts[i] >= needed and counts[i] > 0)
    return known, kept


def _tie_aware_pairs(distinct, counts, n, n_thresholds) -> list[tuple[float, float]]:
    """(value below, cut value) for each cut, from exact value counts.

    As RiskScoreBinarizer: for each level the distinct value whose share of
    rows below it is nearest the level; every gap when there are few values.
    """
    below = np.concatenate([[0], np.cumsum(counts)[:-1]])
    if len(distinct) <= n_thresholds + 1:
        positions = np.arange(1, len(distinct))
    else:
        levels = np.arange(1, n_thresholds + 1) / (n_thresholds + 1)
        share_below = below[1:] / n
        positions = 1 + np.argmin(np.abs(share_below[None, :] - levels[:, None]), axis=1)
    positions = np.unique(positions[(positions > 0) & (positions < len(distinct))])
    return [(float(distinct[p - 1]), float(distinct[p])) for p in positions]


def _counter_from_value_counts(distinct, counts):
    cumulative = np.concatenate([[0], np.cumsum(counts)])

    def count_below(value: float) -> int:
        return int(cumulative[np.searchsorted(distinct, value, side="left")])

    return count_below


def _quantile_pairs(df, columns, n_thresholds, relative_error, n, slack, F) -> dict:
    """Cuts of many-valued columns from approxQuantile, made tie-aware.

    Returns ``{column: (pairs, count_below)}``: the (value below, cut value)
    pairs and a function giving the exact number of rows below every value
    the readable-number search asks about (counted in one more Spark job).
    For each level ``p``
    Spark's quantile ``q`` and its neighbours give two candidate cuts, ``q``
    (share below ``#{x < q} / n``) and the next value above ``q`` (share
    ``#{x <= q} / n``); the nearer to ``p`` wins, the lower on a tie. With
    ``relative_error=0`` that is exactly RiskScoreBinarizer's choice.
    """
    if not columns:
        return {}
    aliases = [f"{_RESERVED}q{i}" for i in range(len(columns))]
    numeric = df.select(
        *[_column(F, c).cast("double").alias(a) for c, a in zip(columns, aliases, strict=True)]
    )
    levels = [k / (n_thresholds + 1) for k in range(1, n_thresholds + 1)]
    quantiles = numeric.approxQuantile(aliases, levels, float(relative_error))
    aggregates, keys = [], []
    for i, (alias, values) in enumerate(zip(aliases, quantiles, strict=True)):
        x = F.col(alias)
        for j, q in enumerate(sorted(set(values))):
            name = f"s{i}_{j}_"
            keys.append((i, q, name))
            aggregates += [
                F.sum((x < q).cast("long")).alias(name + "lt"),
                F.sum((x <= q).cast("long")).alias(name + "le"),
                F.max(F.when(x < q, x)).alias(name + "pred"),
                F.min(F.when(x > q, x)).alias(name + "succ"),
            ]
    row = numeric.agg(*aggregates).first().asDict()
    stats = {
        (i, q): {k: row[name + k] for k in ("lt", "le", "pred", "succ")} for i, q, name in keys
    }
    out = {}
    for i, column in enumerate(columns):
        pairs, counts = [], {}
        for level, q in zip(levels, quantiles[i], strict=True):
            found = stats[(i, q)]
            options = []
            if found["pred"] is not None:  # q is not the smallest value
                options.append((abs(found["lt"] / n - level), 0, (found["pred"], q)))
                counts[q] = int(found["lt"])
            if found["succ"] is not None:
                options.append((abs(found["le"] / n - level), 1, (q, found["succ"])))
                counts[found["succ"]] = int(found["le"])
            if options:
                pairs.append(min(options)[2])
        out[column] = (sorted(set(pairs)), counts)
    return _complete_counts(numeric, dict(zip(columns, aliases)), out, slack, F)


def _complete_counts(numeric, aliases, found, slack, F) -> dict:
    """Count the rows below every value _readable_cut may ask about: one Spark job."""
    aggregates, keys = [], []
    for i, (column, (pairs, counts)) in enumerate(found.items()):
        values = {v for low, high in pairs for v in _readable_candidates(low, high, slack)}
        x = F.col(aliases[column])
        for k, value in enumerate(sorted(values - set(counts))):
            keys.append((column, value, f"c{i}_{k}"))
            aggregates.append(F.sum((x < value).cast("long")).alias(f"c{i}_{k}"))
    row = numeric.agg(*aggregates).first().asDict() if aggregates else {}
    out = {}
    for column, (pairs, counts) in found.items():
        counts = dict(counts)
        counts.update({value: int(row[name]) for c, value, name in keys if c == column})
        out[column] = (pairs, counts.__getitem__)
    return out


def _cuts(pairs, count_below, n, min_frequency, slack) -> list[float]:
    """Readable cut points leaving ``min_frequency`` of the rows on each side."""
    cuts = set()
    for low, high in pairs:
        cut = _readable_cut(low, high, count_below, slack)
        below = count_below(cut)
        if min(below, n - below) >= max(min_frequency * n, 1):
            cuts.add(cut)
    return sorted(cuts)


def _readable_steps(high: float):
    """(floor, ceiling) of ``high`` at ever finer decimals, coarsest first."""
    exact = Decimal(repr(float(high)))  # shortest decimal that reads back as high
    start = -math.floor(math.log10(abs(high))) if high != 0 else 0
    for decimals in range(start, 18):
        step = Decimal(1).scaleb(-decimals)
        yield (
            float(exact.quantize(step, rounding=ROUND_FLOOR)),
            float(exact.quantize(step, rounding=ROUND_CEILING)),
        )


def _readable_cut(low, high, count_below, slack) -> float:
    """RiskScoreBinarizer's readable threshold, with rows counted by Spark.

    The shortest decimal ``t`` with ``low < t <= high`` (same split as
    ``x >= high``), or a shorter one moving at most ``slack`` rows across.
    """
    rows_below = count_below(high) if slack else 0
    for down, up in _readable_steps(high):
        if low < down <= high:
            return down + 0.0  # drop a negative zero
        if slack:
            moved = {c: abs(count_below(c) - rows_below) for c in (down, up)}
            best = min(moved, key=moved.get)
            if moved[best] <= slack:
                return best + 0.0
    return float(high)


def _readable_candidates(low, high, slack) -> list[float]:
    """Every value _readable_cut may pass to count_below (a superset)."""
    values = [float(high)]
    for down, up in _readable_steps(high):
        values.append(down + 0.0)
        if low < down <= high:
            break
        if slack:
            values.append(up + 0.0)
    return values


def _rule_expression(F, T, dtype, rule, binarizer):
    """The Spark column of one BinaryRule: 0/1, failing on missing or unseen values."""
    column = _column(F, rule.column)
    numeric_column = isinstance(dtype, (T.NumericType, T.BooleanType))
    x = column.cast("double")
    missing = (x.isNull() | F.isnan(x)) if numeric_column else column.isNull()
    expression = F.when(
        missing,
        F.raise_error(
            F.lit(
                f"Column {rule.column!r} has a missing value (null or NaN); impute it or drop "
                "those rows before binarizing."
            )
        ),
    )
    if rule.operator == ">=":
        test = x >= rule.threshold
    elif rule.operator == "<":
        test = x < rule.threshold
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
    if numeric_column and all(_is_number(c) for c in categories):
        return column.cast("double"), lambda c: F.lit(float(c))
    return column.cast("string"), lambda c: F.lit(str(c))
