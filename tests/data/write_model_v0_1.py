"""Writes model_v0_1.json and model_v0_1_expected.json (run once, with sk-riskscore 0.1.0).

The files are committed; tests/test_format_stability.py checks that every
later version loads the model and predicts exactly what is recorded here.
Do not re-run this to make that test pass: a failure there means old model
files no longer load the same way.
"""

from __future__ import annotations

import json
from pathlib import Path

from sklearn.pipeline import Pipeline

import sk_riskscore
from sk_riskscore import RiskScoreBinarizer, RiskScoreClassifier, save_json
from sk_riskscore.datasets import load_mammo

HERE = Path(__file__).resolve().parent


def main() -> None:
    X, y = load_mammo(return_X_y=True, as_frame=True)
    model = Pipeline([
        ("binarize", RiskScoreBinarizer(n_thresholds=3)),
        ("score", RiskScoreClassifier(max_features=3, max_coef=3, time_limit=60,
                                      random_state=0)),
    ]).set_output(transform="pandas").fit(X, y)
    save_json(model, HERE / "model_v0_1.json")
    rows = X.iloc[::32]
    expected = {
        "sk_riskscore_version": sk_riskscore.__version__,
        "columns": list(rows.columns),
        "rows": rows.to_numpy().tolist(),
        "proba": model.predict_proba(rows)[:, 1].tolist(),
        "labels": model.predict(rows).tolist(),
        "decision": model.decision_function(rows).tolist(),
    }
    (HERE / "model_v0_1_expected.json").write_text(json.dumps(expected, indent=1) + "\n")


if __name__ == "__main__":
    main()
