"""The plain-JSON model format: exact round trips, and refusal of bad files."""

from __future__ import annotations

import copy
import dataclasses
import json
import math
import warnings

import numpy as np
import pandas as pd
import pytest
from sklearn.exceptions import ConvergenceWarning, NotFittedError
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils.validation import check_is_fitted

from sk_riskscore import (
    AtMost,
    InvalidModelFileError,
    LinearConstraint,
    MustUse,
    RiskScoreClassifier,
    load_json,
    model_from_dict,
    model_to_dict,
    save_json,
)
from sk_riskscore._io._envelope import SCHEMA_VERSION, _checksum

from .conftest import DATASETS, load_dataset

# A round trip only needs *a* fitted model: a short, honest time limit, and at
# most FIT_ROWS rows to fit on (predictions are compared on every row).
SMALL_FIT = dict(max_features=3, max_coef=3, time_limit=0.5, random_state=0)
FIT_ROWS = 3000


def fit_quietly(estimator, X, y):
    """Fit, accepting the ConvergenceWarning a short time limit may raise."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return estimator.fit(X, y)


@pytest.fixture(scope="module")
def fitted(request):
    """One small fitted classifier per data set, shared by the module."""
    cache = {}

    def get(name):
        if name not in cache:
            X, y = load_dataset(name)
            clf = fit_quietly(RiskScoreClassifier(**SMALL_FIT), X[:FIT_ROWS], y[:FIT_ROWS])
            cache[name] = (clf, X, y)
        return cache[name]

    return get


@pytest.fixture(scope="module")
def small_breastcancer():
    X, y = load_dataset("breastcancer")
    return X.iloc[:250, :4], y.iloc[:250]


def fitted_attributes(estimator):
    return sorted(k for k in vars(estimator) if k.endswith("_") and not k.startswith("_"))


def assert_same_classifier(loaded, original, X):
    """Identical predictions, certificate, statistics, pool and parameters."""
    assert type(loaded) is type(original)
    check_is_fitted(loaded)
    assert fitted_attributes(loaded) == fitted_attributes(original)
    np.testing.assert_array_equal(loaded.decision_function(X), original.decision_function(X))
    np.testing.assert_array_equal(loaded.predict_proba(X), original.predict_proba(X))
    np.testing.assert_array_equal(loaded.predict_log_proba(X), original.predict_log_proba(X))
    predicted, expected = loaded.predict(X), original.predict(X)
    assert predicted.dtype == expected.dtype
    np.testing.assert_array_equal(predicted, expected)
    assert loaded.classes_.dtype == original.classes_.dtype
    assert loaded.classes_.tolist() == original.classes_.tolist()
    assert [type(c) for c in loaded.classes_] == [type(c) for c in original.classes_]
    assert loaded.coef_.dtype == np.int64
    assert loaded.intercept_.dtype == original.intercept_.dtype
    np.testing.assert_array_equal(loaded.coef_, original.coef_)
    np.testing.assert_array_equal(loaded.intercept_, original.intercept_)
    for name in ("scale_", "objective_", "lower_bound_", "optimality_gap_", "status_",
                 "n_features_in_"):
        assert getattr(loaded, name) == getattr(original, name), name
    if hasattr(original, "feature_names_in_"):
        np.testing.assert_array_equal(loaded.feature_names_in_, original.feature_names_in_)
    assert_same_statistics(loaded.solver_statistics_, original.solver_statistics_)
    pd.testing.assert_frame_equal(loaded.pool_, original.pool_)
    assert loaded.get_params() == original.get_params()


def assert_same_statistics(a, b):
    for field in dataclasses.fields(b):
        x, y = getattr(a, field.name), getattr(b, field.name)
        if isinstance(y, float) and math.isnan(y):
            assert isinstance(x, float) and math.isnan(x), field.name
        else:
            assert x == y and type(x) is type(y), field.name


# --------------------------------------------------------------- round trips


@pytest.mark.parametrize("name", DATASETS)
def test_classifier_round_trip_on_every_data_set(name, fitted, tmp_path):
    clf, X, _ = fitted(name)
    path = save_json(clf, tmp_path / f"{name}.json")
    assert_same_classifier(load_json(path), clf, X)


def test_file_is_plain_strict_json(fitted, tmp_path):
    clf, X, _ = fitted("mammo")
    path = save_json(clf, tmp_path / "model.json")
    text = path.read_text(encoding="utf-8")
    # Strict JSON (no NaN / Infinity tokens): any JSON reader can open it.
    document = json.loads(text, parse_constant=lambda c: pytest.fail(f"bare {c} in file"))
    assert document["schema_version"] == SCHEMA_VERSION
    assert document["format"] == "sk-riskscore"
    block = document["classifier"]
    assert block["points"] == clf.coef_[0].tolist()
    assert block["intercept"] == int(clf.intercept_[0])
    assert block["feature_names"] == list(X.columns)
    assert block["certificate"] == {
        "objective": clf.objective_, "lower_bound": clf.lower_bound_,
        "optimality_gap": clf.optimality_gap_, "status": clf.status_,
    }
    assert document["checksum"].startswith("sha256:")
    assert [p.name for p in tmp_path.iterdir()] == ["model.json"]


@pytest.mark.parametrize(
    "encode",
    [
        pytest.param(lambda y: y.astype(np.int64), id="int64"),
        pytest.param(lambda y: y.to_numpy().astype(np.int32), id="int32"),
        pytest.param(lambda y: y.to_numpy().astype(np.uint8), id="uint8"),
        pytest.param(lambda y: y.astype(float) * 2.0 - 1.0, id="float"),
        pytest.param(lambda y: y.astype(bool), id="bool"),
        pytest.param(lambda y: y.map({0: "benign", 1: "malignant"}).astype(object),
                     id="str-object"),
        pytest.param(lambda y: np.where(y == 1, "yes", "no"), id="str-unicode"),
    ],
)
def test_class_labels_round_trip_with_their_type(encode, small_breastcancer, tmp_path):
    X, y = small_breastcancer
    clf = fit_quietly(RiskScoreClassifier(**SMALL_FIT), X, encode(y))
    loaded = load_json(save_json(clf, tmp_path / "m.json"))
    assert_same_classifier(loaded, clf, X)


def test_numpy_input_without_feature_names(small_breastcancer, tmp_path):
    X, y = small_breastcancer
    clf = fit_quietly(RiskScoreClassifier(**SMALL_FIT), X.to_numpy(), y.to_numpy())
    assert not hasattr(clf, "feature_names_in_")
    loaded = load_json(save_json(clf, tmp_path / "m.json"))
    assert not hasattr(loaded, "feature_names_in_")
    assert_same_classifier(loaded, clf, X.to_numpy())


def test_parameters_constraints_and_scale_round_trip(small_breastcancer, tmp_path):
    X, y = small_breastcancer
    names = list(X.columns)
    clf = RiskScoreClassifier(
        max_features=3, max_coef=4, c0=1e-4, calibrate_scale=True, time_limit=5.0,
        coef_bounds={names[0]: (0, 3)},
        constraints=[MustUse(names[1]), AtMost(1, names[2:4]),
                     LinearConstraint(points={names[0]: 1, names[1]: -1}, upper=2)],
        random_state=7,
    )
    clf = fit_quietly(clf, X, y)
    assert clf.scale_ != 1.0  # the calibrated scale must travel too
    loaded = load_json(save_json(clf, tmp_path / "m.json"))
    assert_same_classifier(loaded, clf, X)
    assert loaded.constraints == clf.constraints
    assert loaded.coef_bounds == {names[0]: (0, 3)}


def test_non_finite_statistics_survive_as_strict_json(fitted, tmp_path):
    clf, X, _ = fitted("breastcancer")
    clf = copy.deepcopy(clf)
    clf.solver_statistics_ = dataclasses.replace(
        clf.solver_statistics_, time_to_first_incumbent=math.nan
    )
    clf.lower_bound_ = -math.inf  # e.g. no bound proven before the time ran out
    path = save_json(clf, tmp_path / "m.json")
    assert "NaN" in path.read_text() and "-Infinity" in path.read_text()
    loaded = load_json(path)
    assert math.isnan(loaded.solver_statistics_.time_to_first_incumbent)
    assert loaded.lower_bound_ == -math.inf


def test_loaded_model_refits_like_a_fresh_one(small_breastcancer, fitted):
    X, y = small_breastcancer
    clf, _, _ = fitted("breastcancer")
    loaded = model_from_dict(model_to_dict(clf))
    refit = fit_quietly(loaded, X, y)  # parameters are live, not frozen
    assert refit.n_features_in_ == X.shape[1]


# --------------------------------------------------------------- pipelines


@pytest.fixture(scope="module")
def binarizer_cls():
    module = pytest.importorskip(
        "sk_riskscore._binarizer", reason="RiskScoreBinarizer not available yet"
    )
    return module.RiskScoreBinarizer


@pytest.mark.parametrize(
    ("name", "output"),
    [(name, "pandas") for name in DATASETS] + [("breastcancer", "default")],
)
def test_pipeline_round_trip_on_every_data_set(name, output, binarizer_cls, tmp_path):
    X, y = load_dataset(name)
    pipe = Pipeline([("binarize", binarizer_cls()),
                     ("score", RiskScoreClassifier(**SMALL_FIT))])
    if output == "pandas":
        pipe.set_output(transform="pandas")
    pipe = fit_quietly(pipe, X[:FIT_ROWS], y[:FIT_ROWS])
    loaded = load_json(save_json(pipe, tmp_path / f"{name}.json"))
    assert isinstance(loaded, Pipeline)
    assert [n for n, _ in loaded.steps] == ["binarize", "score"]
    check_is_fitted(loaded)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # e.g. "X does not have valid feature names"
        np.testing.assert_array_equal(loaded.predict_proba(X), pipe.predict_proba(X))
        np.testing.assert_array_equal(loaded.decision_function(X), pipe.decision_function(X))
        np.testing.assert_array_equal(loaded.predict(X), pipe.predict(X))
    np.testing.assert_array_equal(
        loaded[0].transform(X), pipe[0].transform(X)
    )
    assert_same_classifier(loaded[-1], pipe[-1], pipe[0].transform(X))


def test_pipeline_with_categorical_and_boolean_columns(binarizer_cls, tmp_path, rng):
    n = 400
    X = pd.DataFrame({
        "age": rng.integers(20, 90, n),
        "sex": rng.choice(["F", "M"], n),
        "site": pd.Categorical(rng.choice(["north", "south", "east"], n)),
        "smoker": rng.random(n) < 0.3,
    })
    logit = 0.05 * (X["age"] - 55) + 1.2 * X["smoker"] - 0.8 * (X["sex"] == "F")
    y = np.where(rng.random(n) < 1 / (1 + np.exp(-logit)), "sick", "well")
    pipe = Pipeline([("binarize", binarizer_cls(n_thresholds=2)),
                     ("score", RiskScoreClassifier(**SMALL_FIT))])
    pipe = fit_quietly(pipe.set_output(transform="pandas"), X, y)
    loaded = load_json(save_json(pipe, tmp_path / "m.json"))
    np.testing.assert_array_equal(loaded.predict_proba(X), pipe.predict_proba(X))
    np.testing.assert_array_equal(loaded.predict(X), pipe.predict(X))
    assert loaded.predict(X).dtype == pipe.predict(X).dtype
    assert loaded[0].get_feature_names_out().tolist() == pipe[0].get_feature_names_out().tolist()


def test_pipeline_with_missing_and_special_values(binarizer_cls, tmp_path, rng):
    """Missing-value and special-value rules survive the model file; a file
    written before they existed (no missing, special_values or excluded
    fields) still loads, and refuses missing values as it did."""
    n = 400
    months = rng.integers(0, 60, n).astype(float)
    months[rng.random(n) < 0.2] = -7.0
    months[rng.random(n) < 0.1] = np.nan
    X = pd.DataFrame({"months": months, "age": rng.integers(20, 90, n).astype(float)})
    X.loc[rng.random(n) < 0.1, "age"] = np.nan
    logit = 0.04 * (X["age"].fillna(55) - 55) + 1.5 * (X["months"] == -7) - X["months"].isna()
    y = (rng.random(n) < 1 / (1 + np.exp(-logit))).astype(int)
    binarizer = binarizer_cls(n_thresholds=2, special_values={"months": [-7, -8]})
    pipe = Pipeline([("binarize", binarizer), ("score", RiskScoreClassifier(**SMALL_FIT))])
    pipe = fit_quietly(pipe.set_output(transform="pandas"), X, y)
    path = save_json(pipe, tmp_path / "m.json")
    loaded = load_json(path)
    assert loaded[0].rules_ == pipe[0].rules_
    assert loaded[0].special_values == {"months": [-7.0, -8.0]}
    assert any(rule.excluded == (-8.0, -7.0) for rule in loaded[0].rules_)
    np.testing.assert_array_equal(loaded.predict_proba(X), pipe.predict_proba(X))

    # The same file as an older sk-riskscore wrote it, for a binarizer without
    # missing or special values.
    complete = X.dropna().query("months >= 0")
    old = fit_quietly(
        Pipeline([("binarize", binarizer_cls(n_thresholds=2)),
                  ("score", RiskScoreClassifier(**SMALL_FIT))]),
        complete, y[complete.index],
    )
    document = model_to_dict(old)
    for key in ("missing", "special_values"):
        del document["pipeline"]["binarizer"]["params"][key]
    loaded = model_from_dict(rechecksummed(document))
    np.testing.assert_array_equal(loaded.predict_proba(complete), old.predict_proba(complete))
    assert loaded[0].missing == "error"
    with pytest.raises(ValueError, match="missing value"):
        loaded.predict(X)


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (lambda p: p.__setitem__("step_names", ["same", "same"]),
         r"pipeline\.step_names: the two steps need different names"),
        (lambda p: p.__setitem__("transform_output", "spark"),
         r"pipeline\.transform_output: expected one of"),
        (lambda p: p["binarizer"]["rules"].pop(),
         r"pipeline\.binarizer"),
        (lambda p: p.pop("binarizer"), r"missing field 'pipeline\.binarizer'"),
    ],
)
def test_malformed_pipeline_fields_are_named(binarizer_cls, small_breastcancer, edit, message):
    X, y = small_breastcancer
    pipe = fit_quietly(Pipeline([("binarize", binarizer_cls(n_thresholds=2)),
                                 ("score", RiskScoreClassifier(**SMALL_FIT))]), X, y)
    document = model_to_dict(pipe)
    edit(document["pipeline"])
    with pytest.raises(InvalidModelFileError, match=message):
        model_from_dict(rechecksummed(document))


def test_other_pipelines_are_refused_clearly(small_breastcancer):
    X, y = small_breastcancer
    pipe = fit_quietly(Pipeline([("scale", StandardScaler()),
                                 ("score", RiskScoreClassifier(**SMALL_FIT))]), X, y)
    with pytest.raises(TypeError, match=r"RiskScoreBinarizer, RiskScoreClassifier.*StandardScaler"):
        model_to_dict(pipe)


# --------------------------------------------------------------- refusals


def test_unfitted_and_foreign_models_are_refused():
    with pytest.raises(NotFittedError):
        model_to_dict(RiskScoreClassifier())
    with pytest.raises(TypeError, match="fitted RiskScoreClassifier"):
        model_to_dict(StandardScaler())


@pytest.fixture
def document(fitted):
    clf, _, _ = fitted("breastcancer")
    return model_to_dict(clf)


def rechecksummed(document):
    """A document edited by someone who also recomputed the checksum."""
    document = dict(document)
    document["checksum"] = _checksum(document)
    return document


def test_tampered_content_is_refused(document, tmp_path):
    document["classifier"]["points"][0] += 1
    path = tmp_path / "tampered.json"
    path.write_text(json.dumps(document))
    with pytest.raises(InvalidModelFileError, match="does not match its checksum"):
        load_json(path)


def test_tampered_text_in_file_is_refused(fitted, tmp_path):
    clf, _, _ = fitted("mammo")
    path = save_json(clf, tmp_path / "m.json")
    text = path.read_text()
    status = f'"status": "{clf.status_}"'
    assert status in text
    path.write_text(text.replace(status, '"status": "node_limit"'))
    with pytest.raises(InvalidModelFileError, match="checksum"):
        load_json(path)


@pytest.mark.parametrize(
    ("version", "message"),
    [(SCHEMA_VERSION + 1, "newer than the 1 this sk-riskscore reads; upgrade"),
     (0, "reads only schema_version 1"),
     ("1", "schema_version: expected an integer"),
     (None, "schema_version: expected an integer")],
)
def test_wrong_schema_version_is_refused(document, version, message, tmp_path):
    document["schema_version"] = version
    path = tmp_path / "m.json"
    path.write_text(json.dumps(rechecksummed(document)))
    with pytest.raises(InvalidModelFileError, match=message):
        load_json(path)


@pytest.mark.parametrize(
    ("path", "message"),
    [
        (("classifier", "points"), r"missing field 'classifier\.points'"),
        (("classifier", "classes"), r"missing field 'classifier\.classes'"),
        (("classifier", "certificate", "lower_bound"),
         r"missing field 'classifier\.certificate\.lower_bound'"),
        (("checksum",), r"missing field 'checksum'"),
        (("schema_version",), r"missing field 'schema_version'"),
    ],
)
def test_missing_field_is_named(document, path, message):
    target = document
    for key in path[:-1]:
        target = target[key]
    del target[path[-1]]
    edited = document if path == ("checksum",) else rechecksummed(document)
    with pytest.raises(InvalidModelFileError, match=message):
        model_from_dict(edited)


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (lambda c: c["points"].pop(), r"classifier\.points: expected 9 entries"),
        (lambda c: c["points"].__setitem__(0, "2"),
         r"classifier\.points\[0\]: expected an integer"),
        (lambda c: c["points"].__setitem__(0, 1.5),
         r"classifier\.points\[0\]: expected an integer"),
        (lambda c: c.__setitem__("intercept", True),
         r"classifier\.intercept: expected an integer"),
        (lambda c: c.__setitem__("scale", -1.0), r"classifier\.scale: expected a positive"),
        (lambda c: c["feature_names"].append("extra"),
         r"classifier\.feature_names: expected 9 entries"),
        (lambda c: c["classes"].__setitem__("values", [0, 1, 2]),
         r"classifier\.classes\.values: expected 2 class labels"),
        (lambda c: c["classes"].__setitem__("values", ["0", "1"]),
         r"classifier\.classes\.values: dtype '<i8' needs integers"),
        (lambda c: c["classes"].__setitem__("dtype", "<c16"),
         r"classifier\.classes\.dtype: '<c16' is not a label type"),
        (lambda c: c["classes"].__setitem__("values", [1, 0]),
         r"classifier\.classes\.values: expected two distinct labels in sorted order"),
        (lambda c: c["certificate"].__setitem__("status", "error"),
         r"classifier\.certificate\.status: expected one of"),
        (lambda c: c["params"].__setitem__("max_coef", -3),
         r"classifier\.params: .*max_coef"),
        (lambda c: c["params"].__setitem__("bogus", 1),
         r"classifier\.params: \['bogus'\] are not parameters"),
        (lambda c: c.__setitem__("surprise", 1), r"unknown field 'classifier\.surprise'"),
        (lambda c: c["pool"][0]["points"].pop(),
         r"classifier\.pool\[0\]\.points: expected 9 entries"),
        (lambda c: c["solver_statistics"].__setitem__("n_nodes", "many"),
         r"classifier\.solver_statistics\.n_nodes: expected an integer"),
    ],
)
def test_malformed_fields_are_named(document, edit, message):
    edit(document["classifier"])
    with pytest.raises(InvalidModelFileError, match=message):
        model_from_dict(rechecksummed(document))


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("not json at all", "is not valid JSON"),
        ('{"format": "sk-riskscore", "schema_version": NaN}', "bare constant NaN"),
        ("[1, 2, 3]", "a model document is a JSON object, got list"),
        ('{"format": "onnx"}', "not a sk-riskscore model"),
    ],
)
def test_files_that_are_not_models_are_refused(text, message, tmp_path):
    path = tmp_path / "m.json"
    path.write_text(text)
    with pytest.raises(InvalidModelFileError, match=message):
        load_json(path)


def test_missing_file_is_reported_by_path(tmp_path):
    with pytest.raises(FileNotFoundError, match="no model file at"):
        load_json(tmp_path / "absent.json")


def test_pipeline_block_on_a_classifier_is_refused(document):
    document["pipeline"] = {"step_names": ["a", "b"]}
    with pytest.raises(InvalidModelFileError, match="pipeline: must be null"):
        model_from_dict(rechecksummed(document))


def test_real_intercept_needs_calibrated_scale(fitted):
    document = model_to_dict(fitted("mammo")[0])
    block = document["classifier"]
    assert isinstance(block["intercept"], int)
    block["intercept"] += 0.5
    with pytest.raises(InvalidModelFileError, match=r"classifier\.intercept: expected an integer"):
        model_from_dict(rechecksummed(document))


# ------------------------------------------------------- files of older versions
def _resealed(document):
    document = copy.deepcopy(document)
    document.pop("checksum", None)
    document["checksum"] = _checksum(document)
    return document


def test_target_name_and_row_count_round_trip_and_older_files_load(fitted):
    clf, X, y = fitted("breastcancer")
    document = model_to_dict(clf)
    assert document["classifier"]["training"] == {
        "target": y.name, "n_samples": min(len(y), FIT_ROWS)}
    loaded = model_from_dict(document)
    assert (loaded.target_name_, loaded.n_samples_fit_) == (y.name, min(len(y), FIT_ROWS))
    # a file from before the "training" block: loads, without a target name
    del document["classifier"]["training"]
    old = model_from_dict(_resealed(document))
    assert old.target_name_ is None and not hasattr(old, "n_samples_fit_")
    np.testing.assert_array_equal(old.decision_function(X), clf.decision_function(X))


def test_pipeline_file_fitted_on_arrays_still_predicts_without_warnings():
    """Before the binarizer output a DataFrame, a pipeline's classifier had no
    feature names; such a file must load and predict silently."""
    from sklearn.pipeline import make_pipeline

    from sk_riskscore import RiskScoreBinarizer

    X, y = load_dataset("mammo")
    pipe = fit_quietly(make_pipeline(RiskScoreBinarizer(n_thresholds=2),
                                     RiskScoreClassifier(**SMALL_FIT)), X, y)
    document = model_to_dict(pipe)
    document["classifier"]["feature_names"] = None
    document["classifier"].pop("training")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        old = model_from_dict(_resealed(document))
        np.testing.assert_array_equal(old.predict_proba(X), pipe.predict_proba(X))
