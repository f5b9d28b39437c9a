"""A model file written by sk-riskscore 0.1.0 loads and predicts the same, forever.

``tests/data/model_v0_1.json`` (a binarizer + risk score pipeline on mammo) and
the predictions recorded with it were written once by
``tests/data/write_model_v0_1.py``. If this test fails, old model files no
longer load the same way: bump the schema version and add a reader for the old
one, do not regenerate the files.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.pipeline import Pipeline

from sk_riskscore import RiskScoreBinarizer, RiskScoreClassifier, load_json

DATA = Path(__file__).resolve().parent / "data"


def test_model_written_by_version_0_1_predicts_as_recorded():
    model = load_json(DATA / "model_v0_1.json")
    expected = json.loads((DATA / "model_v0_1_expected.json").read_text())
    assert expected["sk_riskscore_version"] == "0.1.0"
    assert isinstance(model, Pipeline)
    assert isinstance(model[0], RiskScoreBinarizer)
    assert isinstance(model[-1], RiskScoreClassifier)
    rows = pd.DataFrame(expected["rows"], columns=expected["columns"])
    np.testing.assert_array_equal(model.predict_proba(rows)[:, 1], expected["proba"])
    np.testing.assert_array_equal(model.predict(rows), expected["labels"])
    np.testing.assert_array_equal(model.decision_function(rows), expected["decision"])
    assert len(set(expected["labels"])) == 2, "the recorded rows cover both labels"
