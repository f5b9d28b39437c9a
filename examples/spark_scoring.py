"""
Fitting and batch scoring a risk score on Spark
===============================================

A risk score on data too big for one machine: Spark chooses the cut points of
the numeric columns and shrinks the rows to their distinct combinations, the
solver fits on that small table, and the model, registered in MLflow, scores
the Spark DataFrame through ``mlflow.pyfunc.spark_udf`` with one struct column
``(score, risk, label)`` per row.

The breast-cancer data (683 rows, nine cytology scores from 1 to 10) is
replicated 200 times (136,600 rows) to stand for a large table; replication
only multiplies the counts, so the fitted model is the one pandas finds on the
original rows, which is checked at the end, as is every Spark score against
the model's own Python scores.

Needs ``pip install "sk-riskscore[spark,mlflow]"`` and Java 17 or later. The
tracking store (sqlite) and the artifacts go to ``$SK_RISKSCORE_EXAMPLES_OUTPUT``
when set, else to a temporary directory.
"""

import os
import sys
import tempfile
import warnings
from pathlib import Path

import mlflow
import numpy as np
import sk_riskscore_mlflow
from pyspark.sql import SparkSession
from sk_riskscore_mlflow.spark import score_on_spark
from sklearn.pipeline import make_pipeline

from sk_riskscore import RiskScoreBinarizer, RiskScoreClassifier, ScoreCard
from sk_riskscore.datasets import load_breastcancer
from sk_riskscore.spark import binarize_on_spark, fit_on_spark

warnings.filterwarnings("ignore", message="PySpark does not yet fully support")

# %%
# A local Spark session
# ---------------------
# The executors' Python workers run the model, so they must use an interpreter
# with sk-riskscore installed: here the one running this script.
os.environ["PYSPARK_PYTHON"] = sys.executable
spark = (
    SparkSession.builder.master("local[2]")
    .appName("sk-riskscore-example")
    .config("spark.driver.host", "127.0.0.1")
    .config("spark.driver.bindAddress", "127.0.0.1")
    .config("spark.ui.enabled", "false")
    .config("spark.ui.showConsoleProgress", "false")
    .config("spark.sql.shuffle.partitions", "4")
    .getOrCreate()
)
spark.sparkContext.setLogLevel("ERROR")

data = load_breastcancer(as_frame=True)
label = data.target_name
features = list(data.feature_names)
copies = spark.range(200).withColumnRenamed("id", "copy")
df = spark.createDataFrame(data.frame).crossJoin(copies).drop("copy")
print(f"{df.count():,} rows on Spark")

# %%
# Binarize on Spark, fit through the distinct rows
# ------------------------------------------------
# ``binarize_on_spark`` reads the binarizer's settings, computes the cut points
# with Spark and returns the fitted binarizer with the binarized DataFrame.
# ``fit_on_spark`` groups that DataFrame by features and label and fits on the
# distinct rows, weighted by their counts.
binarizer = RiskScoreBinarizer(n_thresholds=2, directions=">=")
binarization = binarize_on_spark(binarizer, df, features)
clf = fit_on_spark(
    RiskScoreClassifier(max_features=4, max_coef=3, random_state=0),
    binarization.frame,
    label,
    feature_cols=binarization.feature_names,
)
print(
    f"{clf.status_}: objective {clf.objective_:.6f} on "
    f"{clf.solver_statistics_.n_distinct_rows} distinct rows"
)

# The fitted binarizer in front of the classifier scores raw rows anywhere.
model = make_pipeline(binarization.binarizer, clf)
print(ScoreCard.from_estimator(model).to_text())

# Same model as in pandas on the original 683 rows:
reference = make_pipeline(
    RiskScoreBinarizer(n_thresholds=2, directions=">=").set_output(transform="pandas"),
    RiskScoreClassifier(max_features=4, max_coef=3, random_state=0),
).fit(data.data, data.target)
assert np.array_equal(reference[-1].coef_, clf.coef_)
assert abs(reference[-1].objective_ - clf.objective_) < 1e-12

# %%
# Register the model in MLflow
# ----------------------------
output = Path(os.environ.get("SK_RISKSCORE_EXAMPLES_OUTPUT") or tempfile.mkdtemp())
store = output / "spark_scoring"
store.mkdir(parents=True, exist_ok=True)
mlflow.set_tracking_uri(f"sqlite:///{store / 'mlflow.db'}")
experiment = mlflow.get_experiment_by_name("spark-scoring")
experiment_id = (
    experiment.experiment_id
    if experiment
    else mlflow.create_experiment("spark-scoring", artifact_location=(store / "artifacts").as_uri())
)
with mlflow.start_run(experiment_id=experiment_id):
    info = sk_riskscore_mlflow.log_model(
        model,
        name="breastcancer",
        input_example=data.data.head(5),  # the signature: inputs and result columns
        pip_requirements=["sk-riskscore"],
        registered_model_name="breastcancer-risk",
    )
mlflow.MlflowClient().set_registered_model_alias(
    "breastcancer-risk", "champion", info.registered_model_version
)

# %%
# Batch scoring with ``spark_udf``
# --------------------------------
# ``score_on_spark`` builds ``mlflow.pyfunc.spark_udf`` for the model, feeds it
# the model's input columns by name and adds one struct column.
scored = score_on_spark(df, "models:/breastcancer-risk@champion")
scored.printSchema()

# %%
# The struct's fields are ordinary columns: the risk table, counted on Spark.
scored.groupBy("prediction.score", "prediction.risk").count().orderBy("score").show()

# %%
# Every Spark score equals the model's own
# ----------------------------------------
rows = scored.select(*features, "prediction.*").toPandas()
# ``score`` is the card's total points; decision_function adds the intercept.
assert np.array_equal(rows["score"] + clf.intercept_[0], model.decision_function(rows[features]))
assert np.array_equal(rows["risk"], model.predict_proba(rows[features])[:, 1])
assert np.array_equal(rows["label"], model.predict(rows[features]))
print(f"{len(rows):,} Spark scores equal the in-process ones")

mlflow.set_tracking_uri(None)
spark.stop()
