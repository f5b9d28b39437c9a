"""Untrusted model files: every malformed file is refused with one clear error.

Cases that would take gigabytes on a regression (``"<U500000000"`` labels, a
binarizer claiming 10**9 columns) run in :mod:`tests.test_hostile` under
resource limits; the cases here are cheap even when the guard is missing.
"""

from __future__ import annotations

import json
import warnings

import numpy as np
import pytest
from sklearn.exceptions import ConvergenceWarning
from sklearn.pipeline import Pipeline

from sk_riskscore import (
    InvalidModelFileError,
    RiskScoreBinarizer,
    RiskScoreClassifier,
    load_json,
    model_from_dict,
    model_to_dict,
    save_json,
)
from sk_riskscore._io._envelope import MAX_MODEL_BYTES, _checksum
from sk_riskscore.cli import main
from sk_riskscore.datasets import load_mammo

KEY = "correct horse battery staple"


@pytest.fixture(scope="module")
def pipeline_model():
    X, y = load_mammo(return_X_y=True, as_frame=True)
    pipe = Pipeline([
        ("binarize", RiskScoreBinarizer(n_thresholds=2)),
        ("score", RiskScoreClassifier(max_features=2, max_coef=3, time_limit=20)),
    ]).set_output(transform="pandas")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        pipe.fit(X, y)
    return pipe, X


@pytest.fixture
def document(pipeline_model):
    return model_to_dict(pipeline_model[0])


def write(path, document, *, reseal=True):
    """Write ``document``; a careful forger also fixes the checksum."""
    if reseal:
        document["checksum"] = _checksum(document)
    path.write_text(json.dumps(document), encoding="utf-8")
    return path


def assert_refused(path, match):
    with pytest.raises(InvalidModelFileError, match=match):
        load_json(path)


# --------------------------------------------------------------- malformed files


def test_deep_nesting_is_refused_not_a_recursion_error(tmp_path):
    path = tmp_path / "deep.json"
    path.write_text('{"format": "sk-riskscore", "x": ' + "[" * 100_000 + "]" * 100_000 + "}")
    assert_refused(path, "nested too deeply")


def test_deep_nesting_inside_a_field_is_refused(document, tmp_path):
    nested = []
    for _ in range(900):  # below the JSON parser's recursion limit
        nested = [nested]
    document["classifier"]["params"]["max_coef"] = nested
    with pytest.raises(InvalidModelFileError) as error:
        load_json(write(tmp_path / "m.json", document))
    assert len(str(error.value)) < 600


def test_huge_point_is_refused_not_an_overflow_error(document, tmp_path):
    document["classifier"]["points"][0] = 10**18 + 1
    assert_refused(write(tmp_path / "m.json", document), r"classifier.points\[0\].*out of range")
    document["classifier"]["points"][0] = 10**19  # 20 digits: past int64
    assert_refused(write(tmp_path / "m.json", document), "out of range")


def test_integer_with_thousands_of_digits_is_refused_quickly(tmp_path):
    path = tmp_path / "m.json"
    path.write_text('{"format": "sk-riskscore", "schema_version": ' + "9" * 5000 + "}")
    assert_refused(path, "integer of 5000 digits")


@pytest.mark.parametrize(
    ("edit", "match"),
    [
        (lambda b: b.__setitem__("categories", ["a"]), "categories must be a dict"),
        (lambda b: b.__setitem__("rules", {"a": 1}), "rules must be a list"),
        (lambda b: b["rules"].__setitem__(0, "x"), "rule #1 must be an object"),
        (lambda b: b.__setitem__("params", [1]), "params must be a dict"),
        (lambda b: b.__setitem__("feature_groups", [1]), r"feature_groups\[\] must be a list"),
        (lambda b: b.__setitem__("n_features_in", "15"), "n_features_in must be a positive"),
        (lambda b: b.__setitem__("column_types", [["Age", "numeric"]]),
         "column_types must be a dict"),
        (lambda b: b.__setitem__("backdoor", 1), r"unknown keys \['backdoor'\]"),
        (lambda b: b["rules"][0].__setitem__("extra", 1), "exactly the keys"),
    ],
)
def test_malformed_binarizer_block_is_refused(document, tmp_path, edit, match):
    edit(document["pipeline"]["binarizer"])
    assert_refused(write(tmp_path / "m.json", document), match)


def test_binarizer_claiming_more_columns_than_it_describes_is_refused(document, tmp_path):
    document["pipeline"]["binarizer"]["n_features_in"] = 10**6
    document["pipeline"]["binarizer"]["feature_names_in"] = None
    assert_refused(write(tmp_path / "m.json", document), "column_types describes")


def test_oversized_label_dtype_is_refused_before_numpy_sees_it(document, tmp_path):
    document["classifier"]["classes"] = {"dtype": "<U500000000", "values": ["a", "b"]}
    assert_refused(write(tmp_path / "m.json", document), "wider than the labels")
    document["classifier"]["classes"] = {"dtype": "(1000000000,)i8", "values": [0, 1]}
    assert_refused(write(tmp_path / "m.json", document), "not a label type")


def test_duplicate_keys_are_refused(document, tmp_path):
    text = json.dumps(document)
    # The second "format" would win in Python, the first in some other readers.
    path = tmp_path / "m.json"
    path.write_text(text.replace('"format": "sk-riskscore"',
                                 '"format": "sk-riskscore", "format": "sk-riskscore"', 1))
    assert_refused(path, "appears more than once")


def test_long_values_are_quoted_briefly_in_errors(document, tmp_path):
    document["model_type"] = "x" * 100_000
    with pytest.raises(InvalidModelFileError) as error:
        load_json(write(tmp_path / "m.json", document))
    assert len(str(error.value)) < 600


@pytest.mark.parametrize(
    "edit",
    [
        lambda d: d["pipeline"]["binarizer"]["rules"][-1].__setitem__("threshold", 1e9),
        lambda d: d["pipeline"].__setitem__("step_names", ["a", "b"]),
        lambda d: d["classifier"]["points"].__setitem__(0, d["classifier"]["points"][0] + 1),
        lambda d: d.__setitem__("sk_riskscore_version", "9.9"),
    ],
)
def test_the_checksum_covers_every_block(document, tmp_path, edit):
    # The checksum detects accidents anywhere: an edited binarizer threshold too.
    edit(document)
    assert_refused(write(tmp_path / "m.json", document, reseal=False),
                   "does not match its checksum")


# --------------------------------------------------------------- size limit


def test_files_over_the_size_limit_are_refused_and_the_limit_is_overridable(
    pipeline_model, tmp_path, monkeypatch
):
    path = save_json(pipeline_model[0], tmp_path / "m.json")
    size = path.stat().st_size
    assert size < MAX_MODEL_BYTES
    with pytest.raises(InvalidModelFileError, match=f"larger than {size - 1} bytes"):
        load_json(path, max_bytes=size - 1)
    load_json(path, max_bytes=size)
    monkeypatch.setenv("SK_RISKSCORE_MAX_MODEL_BYTES", str(size - 1))
    assert_refused(path, "SK_RISKSCORE_MAX_MODEL_BYTES")
    monkeypatch.setenv("SK_RISKSCORE_MAX_MODEL_BYTES", "lots")
    with pytest.raises(ValueError, match="must be a number of bytes"):
        load_json(path)


def test_a_big_file_is_refused_before_it_is_parsed(tmp_path):
    path = tmp_path / "big.json"
    with open(path, "w") as stream:
        stream.write('{"format": "sk-riskscore", "pad": "')
        stream.write("x" * (MAX_MODEL_BYTES + 10))
        stream.write('"}')
    assert_refused(path, "larger than")


# --------------------------------------------------------------- signing


def test_signed_model_round_trips_and_unsigned_or_forged_files_are_refused(
    pipeline_model, tmp_path
):
    pipe, X = pipeline_model
    path = save_json(pipe, tmp_path / "signed.json", signing_key=KEY)
    document = json.loads(path.read_text())
    assert document["signature"].startswith("hmac-sha256:")
    loaded = load_json(path, signing_key=KEY)
    np.testing.assert_array_equal(loaded.predict_proba(X), pipe.predict_proba(X))
    # Without a key the file still loads (the signature is only checked with one).
    load_json(path)
    with pytest.raises(InvalidModelFileError, match="does not match the signing key"):
        load_json(path, signing_key=KEY + "!")
    # A forger edits a point and fixes the checksum, but cannot fix the signature.
    document["classifier"]["points"][0] += 1
    with pytest.raises(InvalidModelFileError, match="does not match the signing key"):
        load_json(write(tmp_path / "forged.json", document), signing_key=KEY)
    # Dropping the signature does not help either.
    del document["signature"]
    with pytest.raises(InvalidModelFileError, match="not signed"):
        load_json(write(tmp_path / "stripped.json", document), signing_key=KEY)
    with pytest.raises(InvalidModelFileError, match="not signed"):
        model_from_dict(document, signing_key=KEY.encode())


def test_signing_key_from_the_environment(pipeline_model, tmp_path, monkeypatch):
    pipe, _ = pipeline_model
    unsigned = save_json(pipe, tmp_path / "plain.json")
    monkeypatch.setenv("SK_RISKSCORE_SIGNING_KEY", KEY)
    signed = save_json(pipe, tmp_path / "signed.json")
    assert "signature" in json.loads(signed.read_text())
    load_json(signed)
    assert_refused(unsigned, "not signed")
    monkeypatch.setenv("SK_RISKSCORE_SIGNING_KEY", "another key")
    assert_refused(signed, "does not match the signing key")


def test_signature_must_be_well_formed(document, tmp_path):
    document["signature"] = ["x"] * 1000
    assert_refused(write(tmp_path / "m.json", document), "signature: expected a string")


def test_cli_verifies_signatures_with_the_environment_key(
    pipeline_model, tmp_path, monkeypatch, capsys
):
    pipe, X = pipeline_model
    X.iloc[:5].to_csv(tmp_path / "rows.csv", index=False)
    path = save_json(pipe, tmp_path / "m.json")
    monkeypatch.setenv("SK_RISKSCORE_SIGNING_KEY", KEY)
    assert main(["predict", str(path), str(tmp_path / "rows.csv")]) == 1
    assert "not signed" in capsys.readouterr().err
    save_json(pipe, path)
    assert main(["predict", str(path), str(tmp_path / "rows.csv")]) == 0


# --------------------------------------------------------------- every loader


@pytest.mark.parametrize(
    ("text", "match"),
    [
        ("[" * 50_000 + "]" * 50_000, "nested too deeply"),
        ('{"format": "sk-riskscore", "schema_version": ' + "1" * 4400 + "}", "digits"),
        ('{"format": "sk-riskscore", "format": "x"}', "more than once"),
    ],
)
def test_cli_and_mlflow_loaders_refuse_malformed_files(tmp_path, capsys, text, match):
    mlflow = pytest.importorskip("mlflow")
    import sk_riskscore_mlflow
    from mlflow.exceptions import MlflowException

    path = tmp_path / "m.json"
    path.write_text(text)
    assert main(["show", str(path)]) == 1
    err = capsys.readouterr().err
    assert match in err and "Traceback" not in err and len(err.splitlines()) == 1

    model_dir = tmp_path / "mlflow_model"
    model_dir.mkdir()
    (model_dir / "model.json").write_text(text)
    (model_dir / "MLmodel").write_text(
        "flavors:\n"
        "  python_function:\n    loader_module: sk_riskscore_mlflow\n"
        "    python_version: 3.11.0\n  riskscore:\n    model_file: model.json\n"
        "    pyfunc_output: frame\n"
    )
    for load in (sk_riskscore_mlflow.load_model, mlflow.pyfunc.load_model):
        with pytest.raises(MlflowException, match=match) as error:
            load(str(model_dir))
        assert isinstance(error.value.__cause__, InvalidModelFileError)


def test_mlflow_loaders_require_the_signature_when_a_key_is_given(
    pipeline_model, tmp_path, monkeypatch
):
    mlflow = pytest.importorskip("mlflow")
    import sk_riskscore_mlflow
    from mlflow.exceptions import MlflowException

    pipe, X = pipeline_model
    sk_riskscore_mlflow.save_model(pipe, tmp_path / "plain", pip_requirements=[])
    with pytest.raises(MlflowException, match="not signed"):
        sk_riskscore_mlflow.load_model(str(tmp_path / "plain"), signing_key=KEY)
    monkeypatch.setenv("SK_RISKSCORE_SIGNING_KEY", KEY)
    with pytest.raises(MlflowException, match="not signed"):
        mlflow.pyfunc.load_model(str(tmp_path / "plain"))
    sk_riskscore_mlflow.save_model(pipe, tmp_path / "signed", pip_requirements=[])
    loaded = sk_riskscore_mlflow.load_model(str(tmp_path / "signed"), signing_key=KEY)
    np.testing.assert_array_equal(loaded.predict(X), pipe.predict(X))
    mlflow.pyfunc.load_model(str(tmp_path / "signed"))
