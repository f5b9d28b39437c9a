"""
Serving a risk score with ONNX
==============================

Export a fitted ``RiskScoreBinarizer`` + ``RiskScoreClassifier`` pipeline to
ONNX, score a batch with onnxruntime (no scikit-learn or sk-riskscore needed
at serving time) and check it against Python; then log the ONNX model to
MLflow with a signature and score it back through ``mlflow.pyfunc``.

Needs ``pip install "sk-riskscore[onnx,mlflow]"``. Files go to a temporary
directory, or to ``$SK_RISKSCORE_EXAMPLES_OUTPUT`` when set.
"""

import json
import os
import tempfile
from pathlib import Path

import mlflow
import numpy as np
import onnxruntime as ort
from sk_riskscore_mlflow._onnx import log_onnx_model
from sklearn.pipeline import make_pipeline

from sk_riskscore import RiskScoreBinarizer, RiskScoreClassifier, to_onnx
from sk_riskscore.datasets import load_mammo

# %%
# Fit a risk score on the mammography data
# ----------------------------------------
X, y = load_mammo(return_X_y=True, as_frame=True)
model = make_pipeline(RiskScoreBinarizer(), RiskScoreClassifier(max_features=5, max_coef=5)).fit(
    X, y
)

output = Path(os.environ.get("SK_RISKSCORE_EXAMPLES_OUTPUT") or tempfile.mkdtemp())
output.mkdir(parents=True, exist_ok=True)

# %%
# Export to ONNX
# --------------
# One float64 input ``X`` whose columns are the fitted columns, in order (also
# stored in the model's metadata). Outputs: ``label``, ``probabilities``
# (``[n, 2]``) and the integer ``score``.
onnx_model = to_onnx(model)
path = output / "mammo_risk_score.onnx"
path.write_bytes(onnx_model.SerializeToString())
metadata = {prop.key: prop.value for prop in onnx_model.metadata_props}
print("input columns:", json.loads(metadata["feature_names"]))
print("written:", path, f"({path.stat().st_size} bytes)")

# %%
# Score a batch with onnxruntime
# ------------------------------
session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
batch = X.sample(1000, replace=True, random_state=0)
label, probabilities, score = session.run(None, {"X": batch.to_numpy(np.float64)})
print(batch.head(3).assign(score=score[:3], risk=probabilities[:3, 1], label=label[:3]))

# The same numbers as Python: labels and scores exactly, risks to rounding.
assert (label == model.predict(batch)).all()
# ``score`` is the card's total points; decision_function adds the intercept.
assert (score + model[-1].intercept_[0] == model.decision_function(batch)).all()
assert np.abs(probabilities - model.predict_proba(batch)).max() < 1e-12

# %%
# Log the ONNX model to MLflow
# ----------------------------
# ``log_onnx_model`` calls ``mlflow.onnx.log_model`` with a signature inferred
# from the input example and the outputs onnxruntime computes for it, and runs
# on the CPU execution provider. (``sk_riskscore_mlflow.log_model(...,
# onnx=True)`` logs it next to the JSON ``riskscore`` model.)
mlflow.set_tracking_uri(f"sqlite:///{output / 'mlflow.db'}")
experiment = mlflow.create_experiment(
    f"onnx-serving-{os.getpid()}", artifact_location=(output / "mlruns").as_uri()
)
with mlflow.start_run(experiment_id=experiment):
    info = log_onnx_model(model, "mammo_onnx", input_example=X.head(5))
print(info.signature)

served = mlflow.pyfunc.load_model(info.model_uri).predict(batch.to_numpy(np.float64))
assert (served["label"] == label).all()
print("pyfunc outputs:", {name: value.shape for name, value in served.items()})
