"""sk_riskscore.spark against a real local Spark session (started here, once).

The session is local[2], bound to 127.0.0.1, without UI; tests skip only when
Java is missing (pyspark itself is part of the test extra).
"""

from __future__ import annotations

import doctest
import os
import shutil
import subprocess
import sys
import warnings

import numpy as np
import pandas as pd
import pytest

from sk_riskscore import RiskScoreBinarizer, RiskScoreClassifier
from sk_riskscore._model import total_points

from .conftest import CERTIFY_TIME_LIMIT, FAST, load_dataset, node_limit

pytestmark = [
    pytest.mark.spark,
    # pyspark warns that it does not yet fully support pandas 3
    pytest.mark.filterwarnings("ignore:PySpark does not yet fully support:FutureWarning"),
    # ... and calls pandas with the copy keyword pandas 3 deprecates
    pytest.mark.filterwarnings("ignore:The copy keyword is deprecated"),
]

JAVA_MISSING = shutil.which("java") is None and not (
    os.environ.get("JAVA_HOME")
    and os.path.exists(os.path.join(os.environ["JAVA_HOME"], "bin", "java"))
)


@pytest.fixture(scope="module")
def spark():
    if JAVA_MISSING:
        pytest.skip("Spark needs Java and no `java` is on PATH (install a JRE >= 17)")
    from pyspark.sql import SparkSession

    # Python workers (UDFs) must run this interpreter, which has sk-riskscore;
    # pyspark reads the variable once, when the context starts.
    previous = os.environ.get("PYSPARK_PYTHON")
    os.environ["PYSPARK_PYTHON"] = sys.executable
    with warnings.catch_warnings():
        # pyspark warns that it does not yet fully support pandas 3.
        warnings.simplefilter("ignore", FutureWarning)
        session = (
            SparkSession.builder.master("local[2]")
            .appName("sk-riskscore-tests")
            .config("spark.driver.host", "127.0.0.1")
            .config("spark.driver.bindAddress", "127.0.0.1")
            .config("spark.ui.enabled", "false")
            .config("spark.ui.showConsoleProgress", "false")
            # A short-lived JVM on small data: the C1 compiler only and the serial
            # collector halve the JVM's CPU time here (~70 s to ~35 s), CPU the
            # other pytest-xdist worker needs. Speed only: Spark's results are the same.
            .config("spark.driver.extraJavaOptions",
                    "-XX:TieredStopAtLevel=1 -XX:+UseSerialGC")
            .config("spark.sql.shuffle.partitions", "4")
            .config("spark.sql.execution.arrow.pyspark.enabled", "true")
            .getOrCreate()
        )
    if previous is None:
        os.environ.pop("PYSPARK_PYTHON")
    else:
        os.environ["PYSPARK_PYTHON"] = previous
    session.sparkContext.setLogLevel("ERROR")
    yield session
    session.stop()


def _spark_frame(spark, X, y):
    frame = X.copy()
    frame[y.name] = y.to_numpy()
    return spark.createDataFrame(frame)


# ------------------------------------------------- same model, same objective
# Both fits must certify optimality, so they are bounded by nodes, not by the clock
# (a loaded CI runner stopped adult with 3 features and points up to 3 at the
# default 60 s limit: ~950 nodes, 10 s per fit on an idle machine). Adult keeps all
# 32,561 rows (8,551 distinct, the aggregation under test) with 2 features:
# ~190 nodes; mammo's defaults take ~1,600.
@pytest.mark.parametrize(
    "name, params",
    [("mammo", {}), ("adult", {"max_features": 2, "max_coef": 3})],
)
def test_spark_fit_equals_pandas_fit(spark, name, params):
    from sk_riskscore.spark import fit_on_spark

    X, y = load_dataset(name)
    params = dict(params, time_limit=CERTIFY_TIME_LIMIT, random_state=0)
    # shuffle the Spark side so equality cannot come from row order
    df = _spark_frame(spark, X, y).repartition(3)
    with node_limit(10_000):
        on_spark = fit_on_spark(RiskScoreClassifier(**params), df, y.name)
        on_pandas = RiskScoreClassifier(**params).fit(X, y)

    assert on_pandas.status_ == on_spark.status_ == "optimal"
    np.testing.assert_array_equal(on_spark.coef_, on_pandas.coef_)
    np.testing.assert_array_equal(on_spark.intercept_, on_pandas.intercept_)
    assert on_spark.objective_ == pytest.approx(on_pandas.objective_, abs=1e-12, rel=0)
    assert list(on_spark.feature_names_in_) == list(X.columns)
    np.testing.assert_array_equal(on_spark.classes_, on_pandas.classes_)
    # the objective the Spark fit reports is the one of the raw rows
    sign = np.where(y.to_numpy() == on_spark.classes_[1], 1.0, -1.0)
    score = X.to_numpy(float) @ on_spark.coef_[0] + on_spark.intercept_[0]
    raw = np.logaddexp(0, -sign * score).mean() + 1e-6 * np.count_nonzero(on_spark.coef_)
    assert on_spark.objective_ == pytest.approx(raw, abs=1e-12, rel=0)
    assert on_spark.solver_statistics_.n_distinct_rows == len(X.drop_duplicates())


# --------------------------------------------------------- the aggregation
def test_distinct_rows_match_a_pandas_groupby(spark, rng):
    from sk_riskscore.spark import distinct_rows

    n = 2_000
    frame = pd.DataFrame(
        {
            "age.over 60": rng.integers(0, 2, n),  # a dot and a space in the name
            "level": rng.integers(1, 5, n),
            "flag": rng.integers(0, 2, n).astype(bool),
            "outcome": rng.choice(["no", "yes"], n),
            "w": rng.uniform(0.5, 2.0, n),
        }
    )
    features = ["level", "age.over 60", "flag"]
    expected = (
        frame.groupby([*features, "outcome"])
        .agg(count=("w", "size"), weight=("w", "sum"))
        .reset_index()
    )
    df = spark.createDataFrame(frame).repartition(5)

    rows = distinct_rows(df, "outcome", feature_cols=features, weight_col="w")
    assert list(rows.X.columns) == features
    assert rows.n_rows == n and rows.n_distinct == len(expected)
    got = rows.X.assign(outcome=rows.y.to_numpy(), weight=rows.sample_weight)
    merged = expected.merge(got, on=[*features, "outcome"], how="outer", indicator=True)
    assert (merged["_merge"] == "both").all()
    np.testing.assert_allclose(merged["weight_x"], merged["weight_y"], rtol=1e-12)

    counted = distinct_rows(df, "outcome", feature_cols=features)
    got = counted.X.assign(outcome=counted.y.to_numpy(), count=counted.sample_weight)
    merged = expected.merge(got, on=[*features, "outcome"], suffixes=("", "_spark"))
    assert len(merged) == len(expected)
    np.testing.assert_array_equal(merged["count"], merged["count_spark"])

    # the result does not depend on Spark's partitioning
    again = distinct_rows(df.repartition(2), "outcome", feature_cols=features)
    pd.testing.assert_frame_equal(again.X, counted.X)
    pd.testing.assert_series_equal(again.y, counted.y)
    np.testing.assert_array_equal(again.sample_weight, counted.sample_weight)


def test_default_features_are_all_other_columns(spark):
    from sk_riskscore.spark import distinct_rows

    df = spark.createDataFrame(
        pd.DataFrame({"b": [1, 0], "y": [0, 1], "a": [2, 2], "w": [1.0, 3.0]})
    )
    rows = distinct_rows(df, "y", weight_col="w")
    assert list(rows.X.columns) == ["b", "a"]
    assert sorted(rows.sample_weight.tolist()) == [1.0, 3.0]


def test_weighted_spark_fit_equals_weighted_pandas_fit(spark, mammo, rng):
    from sk_riskscore.spark import fit_on_spark

    X, y = mammo
    weight = rng.integers(1, 4, len(X)).astype(float)
    frame = X.assign(**{y.name: y.to_numpy(), "weight": weight})
    # equal models only if both are certified optima: bounded by nodes, not the clock
    params = dict(FAST, time_limit=CERTIFY_TIME_LIMIT, random_state=0)
    with node_limit(5_000):
        on_spark = fit_on_spark(
            RiskScoreClassifier(**params),
            spark.createDataFrame(frame),
            y.name,
            weight_col="weight",
        )
        on_pandas = RiskScoreClassifier(**params).fit(X, y, sample_weight=weight)
    assert on_pandas.status_ == on_spark.status_ == "optimal"
    np.testing.assert_array_equal(on_spark.coef_, on_pandas.coef_)
    np.testing.assert_array_equal(on_spark.intercept_, on_pandas.intercept_)
    assert on_spark.objective_ == pytest.approx(on_pandas.objective_, abs=1e-12, rel=0)


# ------------------------------------------------------------------ errors
@pytest.fixture(scope="module")
def small(spark):
    return spark.createDataFrame(
        pd.DataFrame(
            {
                "a": [1, 0, 1, 0],
                "b": [0, 0, 1, 1],
                "y": [1, 0, 1, 0],
                "name": ["p", "q", "r", "s"],
                "w": [1.0, 2.0, None, 1.0],
                "neg": [1.0, -1.0, 1.0, 1.0],
                "x": [0.5, float("nan"), 1.0, 2.0],
                "ynull": [1.0, None, 0.0, 1.0],
            }
        )
    )


@pytest.mark.parametrize(
    "kwargs, error, message",
    [
        ({"label_col": "nope"}, ValueError, "label_col='nope' is not a column"),
        ({"feature_cols": ["a", "zzz"]}, ValueError, r"does not have: \['zzz'\]"),
        ({"feature_cols": "a"}, TypeError, "must be a list of column names"),
        ({"feature_cols": ["a", "a"]}, ValueError, "more than once"),
        ({"feature_cols": ["a", "y"]}, ValueError, "must not include the label"),
        ({"feature_cols": ["a", "name"]}, ValueError, r"name \(string\)"),
        ({"feature_cols": ["a", "x"]}, ValueError, r"\['x'\] contain null or NaN"),
        (
            {"feature_cols": ["a"], "label_col": "ynull"},
            ValueError,
            "contains nulls; drop",
        ),
        ({"feature_cols": ["a"], "weight_col": "w"}, ValueError, "'w' contains nulls"),
        ({"feature_cols": ["a"], "weight_col": "neg"}, ValueError, "non-negative"),
        ({"feature_cols": ["a"], "weight_col": "name"}, ValueError, "must be numeric"),
        (
            {"feature_cols": ["a", "b"], "max_distinct_rows": 2},
            ValueError,
            "more than max_distinct_rows=2 distinct rows",
        ),
        (
            {"feature_cols": ["a"], "max_distinct_rows": 0},
            ValueError,
            "positive integer",
        ),
    ],
)
def test_bad_input_gets_a_clear_message(small, kwargs, error, message):
    from sk_riskscore.spark import distinct_rows

    kwargs = {"label_col": "y", **kwargs}
    with pytest.raises(error, match=message):
        distinct_rows(small, **kwargs)


def test_empty_and_pandas_input(spark, small):
    from sk_riskscore.spark import distinct_rows, fit_on_spark

    with pytest.raises(ValueError, match="no rows"):
        distinct_rows(small.limit(0), "y", feature_cols=["a"])
    with pytest.raises(TypeError, match="pyspark.sql.DataFrame, got DataFrame.* own fit"):
        distinct_rows(pd.DataFrame({"a": [1], "y": [0]}), "y")
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import FunctionTransformer

    pipe = make_pipeline(FunctionTransformer(), RiskScoreClassifier())
    with pytest.raises(TypeError, match="accepts sample_weight.*got Pipeline"):
        fit_on_spark(pipe, small, "y", feature_cols=["a"])


def test_single_class_is_reported_by_the_classifier(spark):
    from sk_riskscore.spark import fit_on_spark

    df = spark.createDataFrame(pd.DataFrame({"a": [1, 0, 1], "y": [1, 1, 1]}))
    with pytest.raises(ValueError, match="only one class"):
        fit_on_spark(RiskScoreClassifier(), df, "y")


# ------------------------------------------------------------ binarization
@pytest.fixture(scope="module")
def mixed():
    """Every kind of column RiskScoreBinarizer knows, with ties and rare values."""
    rng = np.random.default_rng(0)
    n = 3_000
    return pd.DataFrame(
        {
            "id": np.arange(n),
            "age": rng.integers(18, 90, n),
            "bmi": np.round(rng.normal(27, 5, n), 4),
            "income": np.where(rng.random(n) < 0.6, 0.0, np.round(rng.lognormal(10, 1, n), 2)),
            "smoker": rng.integers(0, 2, n),
            "flag": rng.random(n) < 0.3,
            "sex": rng.choice(["F", "M", "X"], n, p=[0.5, 0.495, 0.005]),
            "code": rng.choice([1, 2, 3], n),
            "constant": np.ones(n),
            "y": rng.integers(0, 2, n),
        }
    )


MIXED_FEATURES = ["age", "bmi", "income", "smoker", "flag", "sex", "code", "constant"]


@pytest.mark.parametrize(
    "params, spark_options",
    [
        ({}, {}),  # exact value counts for every numeric column
        (
            {"directions": ">=", "n_thresholds": 5, "categorical_features": ["code"]},
            {"max_exact_values": 50, "relative_error": 0.0},
        ),  # approxQuantile, exact
    ],
)
def test_binarize_on_spark_equals_pandas_fit(spark, mixed, params, spark_options):
    from sk_riskscore.spark import binarize_on_spark

    df = spark.createDataFrame(mixed).repartition(3)
    template = RiskScoreBinarizer(**params)
    binarization = binarize_on_spark(template, df, MIXED_FEATURES, **spark_options)
    expected = RiskScoreBinarizer(**params).fit(mixed[MIXED_FEATURES])
    fitted = binarization.binarizer

    assert fitted.rules_ == expected.rules_
    assert fitted.feature_groups_ == expected.feature_groups_
    assert fitted.column_types_ == expected.column_types_
    assert fitted.categories_ == expected.categories_
    assert not hasattr(template, "rules_")  # the template is left unfitted
    assert binarization.feature_names == tuple(expected.get_feature_names_out())
    if spark_options:  # the many-valued columns did take the approximate path
        assert any(r.column == "bmi" for r in fitted.rules_)

    # Spark's columns are the binarizer's transform of the same rows
    out = binarization.frame.toPandas().sort_values("id")
    assert list(out.columns) == ["id", "y", *binarization.feature_names]
    np.testing.assert_array_equal(
        out[list(binarization.feature_names)].to_numpy(float),
        expected.transform(mixed[MIXED_FEATURES]),
    )


@pytest.fixture(scope="module")
def with_missing():
    """Numeric columns with NaN, nulls and special codes; a category with nulls."""
    rng = np.random.default_rng(2)
    n = 2_000
    months = rng.integers(0, 80, n).astype(float)
    months[rng.random(n) < 0.3] = -7.0
    months[rng.random(n) < 0.05] = -8.0
    months[rng.random(n) < 0.05] = np.nan
    burden = np.round(rng.normal(50, 20, n), 3)
    burden[rng.random(n) < 0.1] = -8.0
    burden[rng.random(n) < 0.05] = np.nan
    flag = rng.integers(0, 2, n).astype(float)
    flag[rng.random(n) < 0.05] = -9.0
    flag[rng.random(n) < 0.05] = np.nan
    sex = rng.choice(["F", "M"], n).astype(object)
    sex[rng.random(n) < 0.05] = None
    return pd.DataFrame(
        {"id": np.arange(n), "months": months, "burden": burden, "flag": flag, "sex": sex,
         "complete": rng.integers(0, 5, n).astype(float)}
    )


@pytest.mark.parametrize("spark_options", [{}, {"max_exact_values": 50, "relative_error": 0.0}])
@pytest.mark.parametrize(
    "special_values", [[-7, -8, -9], {"months": [-7, -8], "flag": [-9]}], ids=["list", "dict"]
)
def test_binarize_on_spark_with_missing_and_special_values(
    spark, with_missing, special_values, spark_options
):
    """Same rules and the same 0/1 matrix as pandas, NaN rows and codes included."""
    from sk_riskscore.spark import binarize_on_spark

    features = ["months", "burden", "flag", "sex", "complete"]
    params = dict(n_thresholds=4, special_values=special_values)
    df = spark.createDataFrame(with_missing).repartition(2)
    binarization = binarize_on_spark(RiskScoreBinarizer(**params), df, features, **spark_options)
    expected = RiskScoreBinarizer(**params).fit(with_missing[features])
    assert binarization.binarizer.rules_ == expected.rules_
    assert binarization.binarizer.column_types_ == expected.column_types_
    names = set(binarization.feature_names)
    assert {"months is missing", "months is -7", "flag is missing", "sex is missing"} <= names
    assert ("burden is -8" in names) == isinstance(special_values, list)
    assert not any(n.startswith("complete is") for n in names)
    out = binarization.frame.toPandas().sort_values("id")
    np.testing.assert_array_equal(
        out[list(binarization.feature_names)].to_numpy(float),
        expected.transform(with_missing[features]),
    )


def test_approximate_cut_points_stay_within_the_relative_error(spark):
    from sk_riskscore.spark import binarize_on_spark

    rng = np.random.default_rng(1)
    n = 3_000
    values = rng.normal(0, 1, n)
    df = spark.createDataFrame(pd.DataFrame({"x": values}))
    relative_error = 0.01
    binarization = binarize_on_spark(
        RiskScoreBinarizer(n_thresholds=3, directions=">="),
        df,
        ["x"],
        relative_error=relative_error,
        max_exact_values=100,
    )
    cuts = sorted(rule.threshold for rule in binarization.binarizer.rules_)
    assert len(cuts) == 3
    shares = [np.mean(values < cut) for cut in cuts]
    # rank error of approxQuantile + the readable-number slack (1% of rows) + 1 row
    tolerance = relative_error + 0.01 + 1 / n
    np.testing.assert_allclose(shares, [0.25, 0.5, 0.75], atol=tolerance)


def test_spark_binarized_fit_equals_pandas_pipeline(spark, breastcancer):
    from sklearn.pipeline import make_pipeline

    from sk_riskscore.spark import binarize_on_spark, distinct_rows

    X, y = breastcancer
    df = _spark_frame(spark, X, y)
    binarization = binarize_on_spark(
        RiskScoreBinarizer(n_thresholds=2, directions=">="), df, list(X.columns)
    )
    rows = distinct_rows(binarization.frame, y.name, feature_cols=binarization.feature_names)
    # nested thresholds travel in the column metadata to the classifier's groups
    assert rows.X.attrs["sk_riskscore.feature_groups"] == (binarization.binarizer.feature_groups_)
    on_spark = RiskScoreClassifier(**FAST, random_state=0).fit(
        rows.X, rows.y, sample_weight=rows.sample_weight
    )

    binarizer = RiskScoreBinarizer(n_thresholds=2, directions=">=").set_output(transform="pandas")
    pandas_pipeline = make_pipeline(binarizer, RiskScoreClassifier(**FAST, random_state=0)).fit(
        X, y
    )
    on_pandas = pandas_pipeline[-1]
    np.testing.assert_array_equal(on_spark.coef_, on_pandas.coef_)
    np.testing.assert_array_equal(on_spark.intercept_, on_pandas.intercept_)
    assert on_spark.objective_ == pytest.approx(on_pandas.objective_, abs=1e-12, rel=0)
    assert list(on_spark.feature_names_in_) == list(binarization.feature_names)

    # the returned binarizer in front of the Spark-fitted classifier scores raw rows
    spark_pipeline = make_pipeline(binarization.binarizer, on_spark)
    np.testing.assert_array_equal(spark_pipeline.predict_proba(X), pandas_pipeline.predict_proba(X))


def test_transform_on_spark_applies_a_pandas_fitted_binarizer(spark, mixed):
    from sk_riskscore.spark import transform_on_spark

    binarizer = RiskScoreBinarizer(categorical_features=["code"]).fit(mixed[MIXED_FEATURES])
    out = transform_on_spark(binarizer, spark.createDataFrame(mixed)).toPandas()
    out = out.sort_values("id")
    names = list(binarizer.get_feature_names_out())
    assert list(out.columns) == ["id", "y", *names]
    assert (out[names].dtypes == np.int32).all()
    np.testing.assert_array_equal(
        out[names].to_numpy(float), binarizer.transform(mixed[MIXED_FEATURES])
    )


def test_transform_on_spark_fails_on_missing_and_unseen_values(spark):
    from sk_riskscore.spark import transform_on_spark

    X = pd.DataFrame({"age": [20.0, 40.0, 60.0, 80.0], "sex": ["F", "M", "F", "M"]})
    binarizer = RiskScoreBinarizer(n_thresholds=1).fit(X)
    unseen = spark.createDataFrame(pd.DataFrame({"age": [30.0], "sex": ["X"]}))
    with pytest.raises(Exception, match="category 'X' not seen in fit"):
        transform_on_spark(binarizer, unseen).collect()
    missing = spark.createDataFrame(pd.DataFrame({"age": [float("nan")], "sex": ["F"]}))
    strict = RiskScoreBinarizer(n_thresholds=1, missing="error").fit(X)
    with pytest.raises(Exception, match="'age' has a missing value.*missing='error'"):
        transform_on_spark(strict, missing).collect()
    # The default: no points from a column without a missing rule, as in pandas.
    row = transform_on_spark(binarizer, missing).first().asDict()
    ages = [v for name, v in row.items() if name.startswith("age")]
    assert len(ages) == 2 and ages == [0, 0] and row["sex = F"] == 1
    ignoring = RiskScoreBinarizer(n_thresholds=1, handle_unknown="ignore").fit(X)
    row = transform_on_spark(ignoring, unseen).first().asDict()
    assert row["sex = F"] == row["sex = M"] == 0

    with pytest.raises(ValueError, match="lacks the columns"):
        transform_on_spark(binarizer, unseen.drop("sex"))
    text_age = spark.createDataFrame(pd.DataFrame({"age": ["30"], "sex": ["F"]}))
    with pytest.raises(ValueError, match="'age' is numeric for the binarizer but string"):
        transform_on_spark(binarizer, text_age)
    anonymous = RiskScoreBinarizer(n_thresholds=1).fit(X[["age"]].to_numpy())
    with pytest.raises(ValueError, match="without column names"):
        transform_on_spark(anonymous, unseen)
    with pytest.raises(Exception, match="not fitted"):
        transform_on_spark(RiskScoreBinarizer(), unseen)


@pytest.mark.parametrize(
    "frame, binarizer, options, error, message",
    [
        (
            pd.DataFrame({"a": [1.0, None, 3.0]}),
            RiskScoreBinarizer(missing="error"),
            {},
            ValueError,
            r"'a' has 1 missing value\(s\)",
        ),
        (
            pd.DataFrame({"a": [1.0, float("nan"), 3.0]}),
            RiskScoreBinarizer(missing="error"),
            {},
            ValueError,
            r"'a' has 1 missing value\(s\).*Imputer",
        ),
        (
            pd.DataFrame({"a": ["x", None, "y"]}),
            RiskScoreBinarizer(missing="error"),
            {},
            ValueError,
            "missing='indicator'",
        ),
        (
            pd.DataFrame({"a": [1.0, -7.0, 3.0]}),
            RiskScoreBinarizer(special_values={"b": [-7]}),
            {},
            ValueError,
            r"special_values names columns not in X: \['b'\]",
        ),
        (
            pd.DataFrame({"a": [1.0, float("inf"), 3.0]}),
            RiskScoreBinarizer(),
            {},
            ValueError,
            "1 infinite value",
        ),
        (
            pd.DataFrame({"a": list("abcdef")}),
            RiskScoreBinarizer(),
            {"max_exact_values": 3},
            ValueError,
            "more than max_exact_values=3 categories",
        ),
        (
            pd.DataFrame({"a": [1, 2]}),
            RiskScoreBinarizer(strategy="supervised"),
            {},
            ValueError,
            "strategy='supervised' needs every row",
        ),
        (
            pd.DataFrame({"a": [1, 2]}),
            RiskScoreBinarizer(categorical_features=["b"]),
            {},
            ValueError,
            r"categorical_features names columns not in feature_cols",
        ),
        (
            pd.DataFrame({"a": [1, 2]}),
            RiskScoreClassifier(),
            {},
            TypeError,
            "takes a RiskScoreBinarizer",
        ),
        (
            pd.DataFrame({"a": [1, 2]}),
            RiskScoreBinarizer(),
            {"relative_error": 1.5},
            ValueError,
            "relative_error must be",
        ),
        (
            pd.DataFrame({"a": [1, 2]}),
            RiskScoreBinarizer(n_thresholds=0),
            {},
            Exception,
            "n_thresholds",
        ),
    ],
)
def test_binarize_on_spark_bad_input(spark, frame, binarizer, options, error, message):
    from sk_riskscore.spark import binarize_on_spark

    df = spark.createDataFrame(frame)
    with pytest.raises(error, match=message):
        binarize_on_spark(binarizer, df, ["a"], **options)


def test_binarize_on_spark_rejects_dates(spark):
    import datetime

    from sk_riskscore.spark import binarize_on_spark

    df = spark.createDataFrame(pd.DataFrame({"d": [datetime.date(2020, 1, 1)]}))
    with pytest.raises(ValueError, match=r"d \(date\).*datediff"):
        binarize_on_spark(RiskScoreBinarizer(), df, ["d"])


# ------------------------------------------------------- scoring with MLflow
@pytest.fixture(scope="module")
def tracking(tmp_path_factory, mlflow_store):
    """A sqlite tracking store with an explicit artifact location, for this module."""
    mlflow = pytest.importorskip("mlflow")
    from mlflow.tracking._tracking_service import utils

    root = tmp_path_factory.mktemp("mlflow")
    previous = utils._tracking_uri
    mlflow.set_tracking_uri(mlflow_store(root))
    experiment_id = mlflow.create_experiment(
        "sk-riskscore-spark", artifact_location=(root / "artifacts").as_uri()
    )
    yield experiment_id
    mlflow.set_tracking_uri(previous)


def test_registered_pipeline_scores_on_spark_as_in_process(spark, tracking, breastcancer):
    import mlflow
    import sk_riskscore_mlflow
    from sk_riskscore_mlflow.spark import score_on_spark
    from sklearn.pipeline import make_pipeline

    X, y = breastcancer
    pipeline = make_pipeline(
        RiskScoreBinarizer(n_thresholds=2, directions=">=").set_output(transform="pandas"),
        RiskScoreClassifier(**FAST, random_state=0),
    ).fit(X, y)
    with mlflow.start_run(experiment_id=tracking):
        info = sk_riskscore_mlflow.log_model(
            pipeline,
            name="breastcancer",
            input_example=X.head(3),
            pip_requirements=["sk-riskscore"],
            registered_model_name="bc-risk",
        )
    mlflow.MlflowClient().set_registered_model_alias(
        "bc-risk", "champion", info.registered_model_version
    )

    df = spark.createDataFrame(X.assign(row_id=np.arange(len(X)))).coalesce(1)
    scored = score_on_spark(df, "models:/bc-risk@champion")
    assert scored.schema["prediction"].dataType.fieldNames() == ["score", "risk", "label"]
    out = scored.select("row_id", "prediction.*").toPandas().sort_values("row_id")

    np.testing.assert_array_equal(out["score"], total_points(pipeline, X))  # the card's
    np.testing.assert_array_equal(out["risk"], pipeline.predict_proba(X)[:, 1])
    np.testing.assert_array_equal(out["label"], pipeline.predict(X))

    # The old import path still works, warns, and keeps its default column name.
    from sk_riskscore.spark import score_on_spark as old_score_on_spark

    with pytest.warns(DeprecationWarning, match="sk_riskscore_mlflow.spark.score_on_spark"):
        old = old_score_on_spark(df, "models:/bc-risk@champion")
    assert old.schema["risk"].dataType.fieldNames() == ["score", "risk", "label"]


def test_score_on_spark_errors(spark, tracking, mammo):
    import mlflow
    import sk_riskscore_mlflow
    from sk_riskscore_mlflow.spark import score_on_spark

    X, y = mammo
    clf = RiskScoreClassifier(max_features=1, max_coef=2, random_state=0).fit(X, y)
    with mlflow.start_run(experiment_id=tracking):
        unsigned = sk_riskscore_mlflow.log_model(
            clf, name="unsigned", pip_requirements=["sk-riskscore"]
        )
        signed = sk_riskscore_mlflow.log_model(
            clf, name="signed", input_example=X.head(2), pip_requirements=["sk-riskscore"]
        )
    df = spark.createDataFrame(X.head(5))
    with pytest.raises(ValueError, match="does not declare the outputs.*input_example"):
        score_on_spark(df, unsigned.model_uri)
    with pytest.raises(ValueError, match=r"lacks 1 of the model's input columns: \['Density'\]"):
        score_on_spark(df.drop("Density"), signed.model_uri)
    with pytest.raises(ValueError, match="already a column"):
        score_on_spark(df, signed.model_uri, result_col="Density")


# ------------------------------------------------------------- packaging
def test_module_imports_without_starting_pyspark():
    code = "import sys, sk_riskscore.spark; print('pyspark' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_missing_pyspark_names_the_extra(monkeypatch):
    from sk_riskscore.spark import distinct_rows

    monkeypatch.setitem(sys.modules, "pyspark.sql", None)
    with pytest.raises(ImportError, match=r'pip install "sk-riskscore\[spark\]"'):
        distinct_rows(None, "y")


def test_docstring_examples_run(spark):
    """The Examples sections are +SKIP for the plain doctest run (they need Java);
    here they run for real in the shared session."""
    import sk_riskscore_mlflow.spark

    modules = [
        sys.modules[f"sk_riskscore.spark.{name}"] for name in ("_rows", "_binarize", "_transform")
    ] + [sk_riskscore_mlflow.spark]
    runner = doctest.DocTestRunner(optionflags=doctest.NORMALIZE_WHITESPACE)
    finder = doctest.DocTestFinder()
    tests = [t for module in modules for t in finder.find(module) if t.examples]
    assert len(tests) >= 6
    for test in tests:
        for example in test.examples:
            example.options.pop(doctest.SKIP, None)
        runner.run(test)
    results = runner.summarize(verbose=False)
    assert results.failed == 0, f"{results.failed} docstring example(s) failed, see output"
