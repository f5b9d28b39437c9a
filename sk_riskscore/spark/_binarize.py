"""Fitting a RiskScoreBinarizer on Spark: Spark counts, the binning policy cuts."""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np

from .._binarizer import RiskScoreBinarizer
from .._binning import (
    binary_rule,
    category_rules,
    check_special_values,
    count_below_from_value_counts,
    cut_points,
    excluded_value_rules,
    frequent_categories,
    is_binary,
    readable_candidates,
    slack_rows,
    special_values_of,
    split_special_values,
    threshold_rules,
    tie_aware_pairs,
)
from .._compat import validate_params
from .._io._binarizer import json_params
from ._frames import (
    _RESERVED,
    _check_spark_frame,
    _collect,
    _column,
    _feature_list,
    _import_pyspark,
)
from ._transform import transform_on_spark

__all__ = ["SparkBinarization", "binarize_on_spark"]

logger = logging.getLogger(__name__)


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
      ``min_frequency`` of the rows;
    * missing values (null or NaN) and ``special_values`` are counted apart
      and get their own rules (``"BMI is missing"``, ``"Delq is -7"``), left
      out of the quantiles, as in ``binarizer.fit``.

    Parameters
    ----------
    binarizer : RiskScoreBinarizer
        Its parameters (``n_thresholds``, ``directions``,
        ``categorical_features``, ``min_frequency``, ``handle_unknown``,
        ``missing``, ``special_values``) are used; it is not modified.
        ``strategy`` must be ``"quantile"``.
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
    validate_params(binarizer)
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
    check_special_values(
        binarizer.special_values, features, [c for c in features if kinds[c] == "categorical"]
    )
    specials = {
        c: special_values_of(binarizer.special_values, c)
        for c in features
        if kinds[c] == "numeric"
    }

    profile = _profile(df, features, specials, F, T)
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
    # Rows holding a regular value (not missing, not special) of each column.
    n_values = {
        c: n - profile.missing[c] - sum(profile.special_counts[c].values()) for c in approximate
    }
    quantile_cuts = _quantile_pairs(
        df, approximate, specials, binarizer.n_thresholds, relative_error, n_values, F
    )

    rules, groups, column_types, categories = [], [], {}, {}
    for column in features:
        n_missing = profile.missing[column]
        if kinds[column] == "categorical":
            known, kept = frequent_categories(*category_counts[column], n, binarizer.min_frequency)
            extra = excluded_value_rules(column, n_missing, {}, n, binarizer.missing)
            categories[column] = known
            column_types[column] = "categorical" if len(known) > 1 or extra else "constant"
            if len(known) > 1:
                rules += category_rules(column, kept)
            rules += extra
            continue
        if column in counts:
            distinct, weights, special_counts = split_special_values(
                *counts[column], specials[column]
            )
            extra = excluded_value_rules(
                column, n_missing, special_counts, n, binarizer.missing
            )
            if len(distinct) < 2 or is_binary(distinct):
                if len(distinct) >= 2:
                    column_types[column] = "binary"
                    rules.append(binary_rule(column, specials[column]))
                else:
                    column_types[column] = "numeric" if extra else "constant"
                rules += extra
                continue
            n_regular = int(weights.sum())
            pairs = tie_aware_pairs(distinct, weights, n_regular, binarizer.n_thresholds)
            count_below = count_below_from_value_counts(distinct, weights)
        else:
            extra = excluded_value_rules(
                column, n_missing, profile.special_counts[column], n, binarizer.missing
            )
            n_regular = n_values[column]
            pairs, count_below = quantile_cuts[column]
        column_types[column] = "numeric"
        cuts = cut_points(
            pairs,
            count_below,
            n_regular,
            binarizer.min_frequency,
            slack_rows(n_regular),
            n_rows=n,
        )
        column_rules, column_groups = threshold_rules(
            column, cuts, binarizer.directions, specials[column]
        )
        rules += column_rules + extra
        groups += column_groups
        if not column_rules + extra:
            logger.info("binarize_on_spark: column %r gives no feature", column)

    fitted = RiskScoreBinarizer.from_dict(
        {
            "params": json_params(binarizer.get_params()),
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


# ------------------------------------------------- binarization statistics
@dataclass(frozen=True)
class _Profile:
    n_rows: int
    approx_distinct: dict
    missing: dict  # column: rows with null or NaN
    special_counts: dict  # numeric column: {special value: rows}


def _column_kinds(df, features, forced, T) -> dict:
    """Per column, "categorical" or "numeric", as RiskScoreBinarizer reads them."""
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


def _profile(df, features, specials, F, T) -> _Profile:
    """Rows, missing, special and infinite values, estimated distinct values: one
    Spark job.
    """
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
        for j, special in enumerate(specials.get(column, ())):
            hit = value.cast("double") == special
            aggregates.append(F.sum(hit.cast("long")).alias(f"special{i}_{j}"))
    row = df.agg(*aggregates).first().asDict()
    n = int(row["n"])
    missing, special_counts = {}, {}
    for i, column in enumerate(features):
        missing[column] = n - int(row[f"present{i}"]) + int(row.get(f"nan{i}") or 0)
        special_counts[column] = {
            special: int(row[f"special{i}_{j}"] or 0)
            for j, special in enumerate(specials.get(column, ()))
        }
        infinite = int(row.get(f"inf{i}") or 0)
        if infinite:
            raise ValueError(
                f"Column {column!r} has {infinite} infinite value(s); replace them "
                "with finite numbers or drop the rows."
            )
    return _Profile(
        n_rows=n,
        approx_distinct={c: int(row[f"distinct{i}"]) for i, c in enumerate(features)},
        missing=missing,
        special_counts=special_counts,
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
    """Exact (sorted distinct values, counts) of numeric columns, missing values
    left out: one Spark job.
    """
    if not columns:
        return {}
    table = _counts_by_column(df, columns, "double", F)
    out = {}
    for i, column in enumerate(columns):
        part = table[(table["k"] == i) & table["v"].notna()].sort_values("v")
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
        part = table[(table["k"] == i) & table["v"].notna()]
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


def _quantile_pairs(df, columns, specials, n_thresholds, relative_error, n_values, F) -> dict:
    """Cuts of many-valued columns from approxQuantile, made tie-aware.

    Missing and special values are nulls here, which approxQuantile and the
    counts skip (Spark orders NaN above every number, so it must not stay
    NaN); ``n_values`` counts each column's remaining rows.

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

    def regular(column):
        x = _column(F, column).cast("double")
        excluded = F.isnan(x) | x.isin(list(specials[column])) if specials[column] else F.isnan(x)
        return F.when(~excluded, x)

    numeric = df.select(
        *[regular(c).alias(a) for c, a in zip(columns, aliases, strict=True)]
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
        pairs, counts, n = [], {}, n_values[column]
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
    return _complete_counts(numeric, dict(zip(columns, aliases)), out, n_values, F)


def _complete_counts(numeric, aliases, found, n_values, F) -> dict:
    """Count the rows below every value readable_cut may ask about: one Spark job."""
    aggregates, keys = [], []
    for i, (column, (pairs, counts)) in enumerate(found.items()):
        slack = slack_rows(n_values[column])
        values = {v for low, high in pairs for v in readable_candidates(low, high, slack)}
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
