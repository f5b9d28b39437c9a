"""ONNX export: parity with Python, options, errors, laziness and MLflow logging."""

from __future__ import annotations

import json
import subprocess
import sys
import warnings
from functools import cache

import numpy as np
import pandas as pd
import pytest
from sklearn.exceptions import ConvergenceWarning, NotFittedError
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline

from sk_riskscore import MustUse, RiskScoreBinarizer, RiskScoreClassifier
from sk_riskscore._model import total_points

from .conftest import (
    DATASETS,
    HELOC_SPECIAL_VALUES,
    REPO,
    load_dataset,
    load_heloc,
    node_limit,
)

onnx = pytest.importorskip("onnx")
ort = pytest.importorskip("onnxruntime")
skl2onnx = pytest.importorskip("skl2onnx")
sk_onnx = pytest.importorskip("sk_riskscore.onnx")

# Rows used to fit: enough for a model with several features, few enough for
# a fast test; parity is then checked on every row of the data set.
FIT_ROWS = 1500
PROBA_TOLERANCE = {np.float32: 1e-6, np.float64: 1e-12}


@cache
def fitted(name: str, with_binarizer: bool):
    """(model, X, y) for a data set; cached across tests in this module."""
    X, y = load_dataset(name)
    rows = np.random.default_rng(0).permutation(len(X))[:FIT_ROWS]
    # A node limit, not a short time limit: the same model on any machine.
    classifier = RiskScoreClassifier(max_features=4, max_coef=3, time_limit=60, random_state=0)
    model = make_pipeline(RiskScoreBinarizer(), classifier) if with_binarizer else classifier
    with warnings.catch_warnings(), node_limit(50):
        warnings.simplefilter("ignore", ConvergenceWarning)
        model.fit(X.iloc[rows], y.iloc[rows])
    return model, X, y


def session_for(onx):
    return ort.InferenceSession(onx.SerializeToString(), providers=["CPUExecutionProvider"])


def run(onx, X):
    """Outputs of the graph as a dict, for a numpy X fed to input "X"."""
    session = session_for(onx)
    names = [output.name for output in session.get_outputs()]
    return dict(zip(names, session.run(None, {"X": X}), strict=True))


def threshold_rows(binarizer, X: pd.DataFrame, dtype) -> pd.DataFrame:
    """Rows with each rule's column exactly on its threshold and one ulp either side.

    The ulp is that of ``dtype``, the type the ONNX graph receives.
    """
    base = X.iloc[[0]].astype(np.float64)
    rows = []
    for rule in binarizer.rules_:
        if rule.threshold is None:  # the missing rule: NaN rows test it
            continue
        t = dtype(rule.threshold)
        for value in (
            t,
            np.nextafter(t, dtype(-np.inf)),
            np.nextafter(t, dtype(np.inf)),
        ):
            row = base.copy()
            row[rule.column] = float(value)
            rows.append(row)
    return pd.concat(rows, ignore_index=True)


def assert_parity(model, X: pd.DataFrame, dtype):
    """ONNX outputs equal Python's: labels and integer scores exactly."""
    values = X.to_numpy(dtype)
    # Python sees exactly the values the graph sees (float32 widened to float64).
    frame = pd.DataFrame(values, columns=X.columns)
    out = run(sk_onnx.to_onnx(model, dtype=dtype), values)

    np.testing.assert_array_equal(out["label"], model.predict(frame))
    scores = total_points(model, frame)  # the card's score: points, no intercept
    assert np.array_equal(scores, np.round(scores)), "integer features give whole scores"
    # int64 only behind a binarizer, whose 0/1 features bound the total
    assert out["score"].dtype == (np.int64 if hasattr(model, "steps") else np.float64)
    np.testing.assert_array_equal(out["score"], scores)
    assert out["probabilities"].dtype == dtype
    assert out["probabilities"].shape == (len(X), 2)
    np.testing.assert_allclose(
        out["probabilities"],
        model.predict_proba(frame),
        rtol=0,
        atol=PROBA_TOLERANCE[dtype],
    )


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("with_binarizer", [False, True], ids=["classifier", "pipeline"])
@pytest.mark.parametrize("name", DATASETS)
def test_parity_on_data_sets(name, with_binarizer, dtype):
    model, X, _ = fitted(name, with_binarizer)
    classifier = model[-1] if with_binarizer else model
    assert np.count_nonzero(classifier.coef_) >= 2, "a model that uses features"
    if with_binarizer:
        X = pd.concat([X, threshold_rows(model[0], X, dtype)], ignore_index=True)
    assert_parity(model, X, dtype)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_binarizer_graph_matches_transform_on_thresholds(dtype):
    """The binarizer alone, on rows at and one ulp around every threshold."""
    X, y = load_dataset("breastcancer")
    X = X + np.random.default_rng(1).uniform(-0.5, 0.5, X.shape)  # real-valued
    binarizer = RiskScoreBinarizer(n_thresholds=4).fit(X, y)
    rows = pd.concat([X, threshold_rows(binarizer, X, dtype)], ignore_index=True)
    values = rows.to_numpy(dtype)
    onx = skl2onnx.to_onnx(binarizer, values[:1], target_opset=sk_onnx.TARGET_OPSET)
    (got,) = session_for(onx).run(None, {onx.graph.input[0].name: values})
    expected = binarizer.transform(pd.DataFrame(values, columns=X.columns)).to_numpy()
    assert got.dtype == dtype
    np.testing.assert_array_equal(got, expected)
    # The threshold rows really do fall on both sides of each threshold.
    assert 0 < expected[len(X) :].mean() < 1


@cache
def heloc_with_missing_values():
    """A pipeline fitted on 1500 HELOC rows with 5% NaN cells and special codes,
    and the whole NaN copy (10459 rows) to check it on. The card must use a
    missing rule and a special-value rule, so that parity covers both."""
    X_fit, y_fit = load_heloc(nan_share=0.05, rows=1500)
    X, _ = load_heloc(nan_share=0.05)
    model = make_pipeline(
        RiskScoreBinarizer(special_values=HELOC_SPECIAL_VALUES),
        RiskScoreClassifier(
            max_features=5,
            max_coef=3,
            time_limit=2,
            random_state=0,
            constraints=[MustUse("ExternalRiskEstimate is missing"),
                         MustUse("MSinceMostRecentDelq is -7")],
        ),
    ).set_output(transform="pandas")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model.fit(X_fit, y_fit)
    return model, X


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_binarizer_graph_with_missing_and_special_values(dtype):
    """NaN and special codes meet no threshold in ONNX either, on every HELOC row."""
    model, X = heloc_with_missing_values()
    binarizer = model[0]
    assert any(rule.is_missing_rule for rule in binarizer.rules_)
    assert any(rule.excluded for rule in binarizer.rules_)
    rows = pd.concat([X, threshold_rows(binarizer, X, dtype)], ignore_index=True)
    values = rows.to_numpy(dtype)
    onx = skl2onnx.to_onnx(binarizer, values[:1], target_opset=sk_onnx.TARGET_OPSET)
    (got,) = session_for(onx).run(None, {onx.graph.input[0].name: values})
    expected = binarizer.transform(pd.DataFrame(values, columns=X.columns))
    np.testing.assert_array_equal(got, expected.to_numpy())


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_pipeline_parity_on_heloc_with_missing_values(dtype):
    model, X = heloc_with_missing_values()
    assert X.isna().any(axis=1).mean() > 0.5, "most rows hold a NaN"
    used = model[-1].coef_[0] != 0
    assert used.sum() >= 3 and used[[r.operator == "is" for r in model[0].rules_]].sum() >= 2
    assert_parity(model, X, dtype)


def test_missing_rule_on_a_text_input_is_refused_clearly():
    X = pd.DataFrame({"sex": ["F", "M", None, "M"] * 5, "age": np.arange(20.0)})
    y = np.array([0, 1] * 10)
    model = make_pipeline(RiskScoreBinarizer(n_thresholds=1),
                          RiskScoreClassifier(max_features=2, time_limit=1)).fit(X, y)
    with pytest.raises(ValueError, match="'sex' for missing values"):
        skl2onnx.to_onnx(model, X.head(), target_opset=sk_onnx.TARGET_OPSET)


def test_calibrated_scale_is_exported():
    X, y = load_dataset("breastcancer")
    clf = RiskScoreClassifier(max_features=2, max_coef=2, calibrate_scale=True).fit(X, y)
    assert clf.scale_ != 1.0
    out = run(sk_onnx.to_onnx(clf), X.to_numpy(np.float64))
    expected = clf.predict_proba(X)
    np.testing.assert_allclose(out["probabilities"], expected, rtol=0, atol=1e-12)
    # Independent recomputation of the calibrated risk.
    risk = 1 / (1 + np.exp(-clf.decision_function(X) / clf.scale_))
    np.testing.assert_allclose(out["probabilities"][:, 1], risk, rtol=0, atol=1e-12)


def test_string_labels_and_zipmap_options():
    X, y = load_dataset("breastcancer")
    labels = np.where(y == 1, "malignant", "benign")
    clf = RiskScoreClassifier(max_features=3, max_coef=3).fit(X, labels)
    values = X.to_numpy(np.float64)
    expected_label = clf.predict(X)
    expected_proba = clf.predict_proba(X)

    out = run(sk_onnx.to_onnx(clf), values)
    np.testing.assert_array_equal(out["label"], expected_label)

    out = run(sk_onnx.to_onnx(clf, zipmap=True), values)
    assert list(out) == ["output_label", "output_probability", "score"]
    np.testing.assert_array_equal(out["output_label"], expected_label)
    as_matrix = np.array([[row["benign"], row["malignant"]] for row in out["output_probability"]])
    np.testing.assert_allclose(as_matrix, expected_proba, rtol=0, atol=1e-6)  # ZipMap is float32

    out = run(sk_onnx.to_onnx(clf, zipmap="columns"), values)
    np.testing.assert_allclose(out["smalignant"], expected_proba[:, 1], rtol=0, atol=1e-12)

    out = run(sk_onnx.to_onnx(clf, nocl=True), values)
    np.testing.assert_array_equal(out["label"], (clf.decision_function(X) > 0).astype(int))


@pytest.mark.parametrize("kind", ["bool", "whole float"])
def test_other_label_types_and_int64_input(kind):
    X, y = load_dataset("breastcancer")
    labels = y.astype(bool) if kind == "bool" else y.astype(float) + 1.0
    clf = RiskScoreClassifier(max_features=2, max_coef=2).fit(X, labels)
    out = run(sk_onnx.to_onnx(clf, dtype=np.int64), X.to_numpy(np.int64))
    assert out["label"].dtype == np.int64
    np.testing.assert_array_equal(out["label"], clf.predict(X).astype(np.int64))
    np.testing.assert_array_equal(out["score"], total_points(clf, X))
    assert out["probabilities"].dtype == np.float64


def test_skl2onnx_to_onnx_uses_registered_converters():
    """skl2onnx.to_onnx, its default options, a DataFrame (one input per column)."""
    model, X, _ = fitted("mammo", True)
    onx = skl2onnx.to_onnx(model, X.to_numpy(np.float32)[:1], target_opset=sk_onnx.TARGET_OPSET)
    session = session_for(onx)
    assert [o.name for o in session.get_outputs()] == [
        "output_label",
        "output_probability",
        "score",
    ]
    label, _, score = session.run(None, {session.get_inputs()[0].name: X.to_numpy(np.float32)})
    np.testing.assert_array_equal(label, model.predict(X))
    assert score.dtype == np.int64
    np.testing.assert_array_equal(score, total_points(model, X))

    onx = skl2onnx.to_onnx(
        model,
        X.head(),
        target_opset=sk_onnx.TARGET_OPSET,
        options={RiskScoreClassifier: {"zipmap": False}},
    )
    session = session_for(onx)
    assert [i.name for i in session.get_inputs()] == list(X.columns)
    feed = {column: X[[column]].to_numpy() for column in X.columns}
    label, proba, score = session.run(None, feed)
    np.testing.assert_array_equal(label, model.predict(X))
    np.testing.assert_allclose(proba, model.predict_proba(X), rtol=0, atol=1e-12)


def test_text_categories_export_with_one_input_per_column():
    rng = np.random.default_rng(3)
    n = 600
    X = pd.DataFrame(
        {
            "age": rng.uniform(20, 90, n).round(1),
            "sex": rng.choice(["F", "M"], n),
            "grade": rng.integers(1, 4, n),
        }
    )
    logit = 2.0 * (X["sex"] == "F") + 0.08 * (X["age"] - 55) + (X["grade"] == 3) - 1
    y = (rng.random(n) < 1 / (1 + np.exp(-logit))).astype(int)
    model = make_pipeline(
        RiskScoreBinarizer(n_thresholds=2, categorical_features=["grade"]),
        RiskScoreClassifier(max_features=3, max_coef=3),
    ).fit(X, y)
    names = model[0].get_feature_names_out()
    points = dict(zip(names, model[-1].coef_[0], strict=True))
    used = [name for name, value in points.items() if value]
    assert any(name.startswith("sex = ") for name in used), used

    with pytest.raises(ValueError, match="text category 'F'.*one input per column"):
        sk_onnx.to_onnx(model)

    onx = skl2onnx.to_onnx(
        model,
        X.head(),
        target_opset=sk_onnx.TARGET_OPSET,
        options={RiskScoreClassifier: {"zipmap": False}},
    )
    session = session_for(onx)
    assert {i.name: i.type for i in session.get_inputs()}["sex"] == "tensor(string)"
    label, proba, score = session.run(None, {c: X[[c]].to_numpy() for c in X.columns})
    np.testing.assert_array_equal(label, model.predict(X))
    np.testing.assert_array_equal(score, total_points(model, X))
    np.testing.assert_allclose(proba, model.predict_proba(X), rtol=0, atol=1e-12)


def test_real_valued_features_score_output():
    """Real-valued features: the score is the float64 total; int64 is refused."""
    X, y = load_dataset("breastcancer")
    X = X / 3.0 + np.random.default_rng(2).uniform(0, 0.1, X.shape)
    clf = RiskScoreClassifier(max_features=3, max_coef=3).fit(X, y)
    values = X.to_numpy(np.float64)
    scores = total_points(clf, X)
    assert not np.array_equal(scores, np.round(scores))
    for integer_score in ("auto", False):
        exact = run(sk_onnx.to_onnx(clf, integer_score=integer_score), values)
        assert exact["score"].dtype == np.float64
        np.testing.assert_array_equal(exact["score"], scores)
        np.testing.assert_array_equal(exact["label"], clf.predict(X))
        np.testing.assert_allclose(exact["probabilities"], clf.predict_proba(X), atol=1e-12)
    with pytest.raises(ValueError, match="integer_score=True needs a RiskScoreBinarizer"):
        sk_onnx.to_onnx(clf, integer_score=True)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("value", [1e17, 1e19, 3e38, 1e300, -1e300])
def test_huge_inputs_never_wrap_the_score(dtype, value):
    # before: int64 score of -9223372036854775808 at 1e300 / 3e38, off by 16 at 1e17
    if dtype == np.float32 and abs(value) > np.finfo(np.float32).max:
        pytest.skip("not a float32 value")
    model, X, _ = fitted("mammo", False)
    values = X.head(3).to_numpy(np.float64, copy=True)
    values[:, int(np.flatnonzero(model.coef_[0])[0])] = value
    values = values.astype(dtype)
    out = run(sk_onnx.to_onnx(model, dtype=dtype), values)
    python = total_points(model, values.astype(np.float64))
    assert out["score"].dtype == np.float64
    np.testing.assert_array_equal(out["score"], python)
    assert np.all(np.abs(out["score"]) >= abs(float(dtype(value))))  # the right size and sign
    np.testing.assert_array_equal(out["label"], model.predict(values.astype(np.float64)))


def test_calibrated_score_output_is_the_cards_total(mammo):
    """With a fitted scale the ONNX score is the card's total points, as in Python."""
    X, y = mammo
    model = make_pipeline(
        RiskScoreBinarizer(), RiskScoreClassifier(max_features=3, max_coef=3,
                                                  calibrate_scale=True, time_limit=10),
    ).set_output(transform="pandas")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model.fit(X, y)
    clf = model[-1]
    assert clf.scale_ != 1.0 and not float(clf.intercept_[0]).is_integer()
    out = run(sk_onnx.to_onnx(model), X.to_numpy(np.float64))
    assert out["score"].dtype == np.int64
    np.testing.assert_array_equal(out["score"], total_points(model, X))
    card_totals = model[0].transform(X).to_numpy() @ clf.coef_[0]  # what a person adds up
    np.testing.assert_array_equal(out["score"], card_totals)
    np.testing.assert_allclose(out["score"] + clf.intercept_[0], model.decision_function(X),
                               rtol=0, atol=1e-12)
    np.testing.assert_allclose(out["probabilities"], model.predict_proba(X), rtol=0, atol=1e-12)
    np.testing.assert_array_equal(out["label"], model.predict(X))


def test_pinned_opset_and_metadata():
    model, X, _ = fitted("mammo", False)
    onx = sk_onnx.to_onnx(model)
    opsets = {entry.domain: entry.version for entry in onx.opset_import}
    # skl2onnx declares the least opset the graph's operators need, up to the
    # target, so it depends on the card (this fit's: 16; others' 18)
    assert 13 <= opsets[""] <= sk_onnx.TARGET_OPSET
    assert {e.domain: e.version for e in sk_onnx.to_onnx(model, target_opset=13).opset_import}[
        ""] == 13
    onnx.checker.check_model(onx)
    props = {p.key: p.value for p in onx.metadata_props}
    assert json.loads(props["feature_names"]) == list(X.columns)
    assert json.loads(props["classes"]) == model.classes_.tolist()

    older = sk_onnx.to_onnx(model, target_opset=13)
    assert {e.domain: e.version for e in older.opset_import}[""] <= 13
    out = run(older, X.to_numpy(np.float64))
    np.testing.assert_array_equal(out["label"], model.predict(X))


def test_bad_input_fails_in_onnxruntime_naming_the_expected_input():
    model, X, _ = fitted("mammo", True)
    session = session_for(sk_onnx.to_onnx(model))
    n = X.shape[1]
    with pytest.raises(Exception, match=rf"(?s)input: X .*Got: {n - 1} Expected: {n}") as info:
        session.run(None, {"X": X.to_numpy(np.float64)[:, :-1]})
    assert "InvalidArgument" in type(info.value).__name__
    with pytest.raises(Exception, match=r"expected: \(tensor\(double\)\)"):
        session.run(None, {"X": X.to_numpy(np.float32)})
    with pytest.raises(Exception, match=r"expected: \(tensor\(double\)\)"):
        session.run(None, {"X": X.to_numpy(np.int64)})
    with pytest.raises(ValueError, match=r"Required inputs \(\['X'\]\)"):
        session.run(None, {"features": X.to_numpy(np.float64)})


def test_converter_refuses_unfitted_and_bad_settings():
    for model in (
        RiskScoreClassifier(),
        make_pipeline(RiskScoreBinarizer(), RiskScoreClassifier()),
    ):
        with pytest.raises(NotFittedError, match="not fitted: call fit before"):
            sk_onnx.to_onnx(model)
    with pytest.raises(NotFittedError, match="RiskScoreClassifier is not fitted"):
        skl2onnx.to_onnx(RiskScoreClassifier(), np.zeros((1, 3), np.float32))

    model, X, y = fitted("breastcancer", False)
    with pytest.raises(ValueError, match="dtype must be one of"):
        sk_onnx.to_onnx(model, dtype=np.int8)
    with pytest.raises(ValueError, match="cannot be combined"):
        sk_onnx.to_onnx(model, zipmap="columns", nocl=True)
    with pytest.raises(ValueError, match="ending in LogisticRegression"):
        sk_onnx.to_onnx(LogisticRegression().fit(X, y))
    with pytest.raises(ValueError, match="have 3 columns in all but it was fitted on 9"):
        skl2onnx.to_onnx(model, np.zeros((1, 3)), target_opset=sk_onnx.TARGET_OPSET)


def test_package_import_stays_lazy_and_missing_extra_is_named():
    code = (
        "import sys, sk_riskscore\n"
        "heavy = [m for m in ('onnx', 'skl2onnx', 'onnxruntime') if m in sys.modules]\n"
        "assert not heavy, heavy\n"
        "sys.modules['skl2onnx'] = None  # as if not installed\n"
        "try:\n"
        "    sk_riskscore.to_onnx(None)\n"
        "except ImportError as exc:\n"
        "    print(exc)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        cwd=REPO,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert 'pip install "sk-riskscore[onnx]"' in result.stdout


def test_top_level_to_onnx_is_the_onnx_module_function():
    import sk_riskscore

    model, X, _ = fitted("breastcancer", False)
    via_package = sk_riskscore.to_onnx(model, dtype=np.float32)
    direct = sk_onnx.to_onnx(model, dtype=np.float32)
    assert via_package.graph == direct.graph


@pytest.fixture
def tracking(tmp_path, mlflow_store):
    mlflow = pytest.importorskip("mlflow")
    previous = mlflow.get_tracking_uri()
    mlflow.set_tracking_uri(mlflow_store(tmp_path))
    experiment = mlflow.create_experiment(
        "onnx-test", artifact_location=(tmp_path / "artifacts").as_uri()
    )
    yield mlflow, experiment
    mlflow.set_tracking_uri(previous)


def test_mlflow_logging_with_signature(tracking):
    from sk_riskscore_mlflow._onnx import log_onnx_model

    mlflow, experiment = tracking
    model, X, _ = fitted("mammo", True)
    with mlflow.start_run(experiment_id=experiment):
        info = log_onnx_model(
            model,
            "risk_onnx",
            input_example=X.head(3),
            registered_model_name="risk-onnx",
        )

    inputs = info.signature.inputs.to_dict()
    assert len(inputs) == 1 and tuple(inputs[0]["tensor-spec"]["shape"]) == (
        -1,
        X.shape[1],
    )
    assert inputs[0]["tensor-spec"]["dtype"] == "float64"
    assert info.signature.outputs.input_names() == ["label", "probabilities", "score"]
    flavor = info.flavors["onnx"]
    assert flavor["providers"] == ["CPUExecutionProvider"]

    loaded = mlflow.pyfunc.load_model("models:/risk-onnx/1")
    scored = loaded.predict(X.to_numpy(np.float64))
    np.testing.assert_array_equal(scored["label"], model.predict(X))
    np.testing.assert_array_equal(scored["score"], total_points(model, X))
    np.testing.assert_allclose(scored["probabilities"], model.predict_proba(X), atol=1e-12)

    with pytest.raises(ValueError, match="lacks the fitted columns"):
        log_onnx_model(model, input_example=X.drop(columns=X.columns[0]).head())
