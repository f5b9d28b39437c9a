"""The MLflow ``riskscore`` flavor, autolog, evaluator and registry, on sqlite."""

from __future__ import annotations

import json
import warnings
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest
import yaml
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics import accuracy_score
from sklearn.pipeline import Pipeline

mlflow = pytest.importorskip("mlflow")

import sk_riskscore_mlflow  # noqa: E402
from mlflow import MlflowClient  # noqa: E402
from mlflow.exceptions import MlflowException  # noqa: E402
from sk_riskscore_mlflow._pyfunc import RiskScorePyfunc  # noqa: E402

from sk_riskscore import (  # noqa: E402
    RiskScoreBinarizer,
    RiskScoreClassifier,
    ScoreCard,
    model_to_dict,
    risk_score_metrics,
)
from sk_riskscore._io._envelope import _checksum  # noqa: E402
from sk_riskscore._model import total_points  # noqa: E402

from .conftest import DATASETS, load_dataset, node_limit  # noqa: E402

SMALL_FIT = dict(max_features=3, max_coef=3, time_limit=0.5, random_state=0)
FIT_ROWS = 3000
# Explicit requirements skip MLflow's ~3 s requirement-inference subprocess.
REQUIREMENTS = ["sk-riskscore"]


def fit_quietly(estimator, X, y):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return estimator.fit(X, y)


@pytest.fixture(scope="module")
def tracking(tmp_path_factory, mlflow_store):
    """A sqlite tracking store and an explicit artifact location, for this module."""
    from mlflow.tracking._tracking_service import utils

    root = tmp_path_factory.mktemp("mlflow")
    previous = utils._tracking_uri
    uri = mlflow_store(root)  # root/mlflow.db
    mlflow.set_tracking_uri(uri)
    experiment_id = mlflow.create_experiment(
        "sk-riskscore-flavor", artifact_location=(root / "artifacts").as_uri()
    )
    yield SimpleNamespace(uri=uri, experiment_id=experiment_id, root=root)
    mlflow.set_tracking_uri(previous)


@pytest.fixture
def run(tracking):
    with mlflow.start_run(experiment_id=tracking.experiment_id) as active:
        yield active


@pytest.fixture(scope="module")
def mammo_split():
    X, y = load_dataset("mammo")
    rows = np.random.default_rng(0).permutation(len(X))
    train, test = rows[:700], rows[700:]
    return X.iloc[train], y.iloc[train], X.iloc[test], y.iloc[test]


@pytest.fixture(scope="module")
def mammo_model(mammo_split):
    X, y, _, _ = mammo_split
    return fit_quietly(RiskScoreClassifier(**SMALL_FIT), X, y)


def assert_pyfunc_matches(pyfunc_model, model, X):
    """The pyfunc frame equals the estimator's own score, risk and label."""
    frame = pyfunc_model.predict(X)
    assert list(frame.columns) == ["score", "risk", "label"]
    scores = total_points(model, X)  # the card's total points, without the intercept
    np.testing.assert_array_equal(frame["score"].to_numpy(), scores)
    assert frame["score"].dtype == np.int64  # binary / integer features: whole scores
    np.testing.assert_array_equal(frame["risk"].to_numpy(), model.predict_proba(X)[:, 1])
    np.testing.assert_array_equal(frame["label"].to_numpy(), model.predict(X))


def assert_double_inputs(signature):
    """Integer example rows must not make a column ``long``: a server would
    then cast a request's 5.99 to 5."""
    types = {spec["name"]: spec["type"] for spec in signature.inputs.to_dict()}
    assert set(types.values()) == {"double"}, types


# --------------------------------------------------------------- save / load


@pytest.mark.parametrize("name", DATASETS)
@pytest.mark.parametrize("kind", ["classifier", "pipeline"])
def test_save_load_round_trip_on_every_data_set(name, kind, tmp_path):
    X, y = load_dataset(name)
    if kind == "classifier":
        model = RiskScoreClassifier(**SMALL_FIT)
    else:
        model = Pipeline([("binarize", RiskScoreBinarizer()),
                          ("score", RiskScoreClassifier(**SMALL_FIT))])
        model.set_output(transform="pandas")
    model = fit_quietly(model, X[:FIT_ROWS], y[:FIT_ROWS])
    path = tmp_path / "model"
    sk_riskscore_mlflow.save_model(model, path, pip_requirements=REQUIREMENTS)

    loaded = sk_riskscore_mlflow.load_model(str(path))
    assert type(loaded) is type(model)
    np.testing.assert_array_equal(loaded.decision_function(X), model.decision_function(X))
    np.testing.assert_array_equal(loaded.predict_proba(X), model.predict_proba(X))
    np.testing.assert_array_equal(loaded.predict(X), model.predict(X))
    assert_pyfunc_matches(mlflow.pyfunc.load_model(str(path)), model, X)


def test_model_directory_holds_json_card_and_no_pickle(mammo_model, mammo_split, tmp_path):
    X_train, y_train, X_test, y_test = mammo_split
    path = tmp_path / "model"
    sk_riskscore_mlflow.save_model(mammo_model, path, X=X_test, y=y_test,
                                   pip_requirements=REQUIREMENTS)
    files = {p.relative_to(path).as_posix() for p in path.rglob("*") if p.is_file()}
    assert {"MLmodel", "model.json", "card/score_card.md", "card/score_card.html",
            "card/risk_by_score.png", "card/reliability.png"} <= files
    assert not any(f.endswith((".pkl", ".pickle", ".skops", ".joblib")) for f in files)
    assert json.loads((path / "model.json").read_text()) == model_to_dict(mammo_model)
    card = ScoreCard.from_estimator(mammo_model, X=X_test, y=y_test)
    assert (path / "card/score_card.md").read_text() == card.to_markdown()
    assert (path / "card/score_card.html").read_text() == card.to_html()
    for png in ("card/risk_by_score.png", "card/reliability.png"):
        assert (path / png).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    conf = mlflow.models.Model.load(str(path)).flavors
    assert conf["python_function"]["loader_module"] == "sk_riskscore_mlflow"
    assert conf["riskscore"]["model_file"] == "model.json"
    assert conf["riskscore"]["schema_version"] == 1


def test_default_requirements_and_environment(mammo_model, tmp_path):
    path = tmp_path / "model"
    sk_riskscore_mlflow.save_model(mammo_model, path)
    requirements = (path / "requirements.txt").read_text().split()
    import sklearn

    import sk_riskscore

    assert f"sk-riskscore=={sk_riskscore.__version__}" in requirements
    assert f"scikit-learn=={sklearn.__version__}" in requirements
    assert any(r.startswith("mlflow==") for r in requirements)
    assert sk_riskscore_mlflow.get_default_pip_requirements() == [
        f"sk-riskscore=={sk_riskscore.__version__}", f"scikit-learn=={sklearn.__version__}"
    ]
    conda_pip = sk_riskscore_mlflow.get_default_conda_env()["dependencies"][-1]["pip"]
    assert f"sk-riskscore=={sk_riskscore.__version__}" in conda_pip


def test_pyfunc_outputs_and_signature(mammo_model, mammo_split, tmp_path):
    X, _, X_test, _ = mammo_split
    # columns are double in the signature, and MLflow refuses int64 values
    # other than 0/1 against double ("not safely" convertible): floats in process
    X_test = X_test.astype(float)
    path = tmp_path / "model"
    sk_riskscore_mlflow.save_model(mammo_model, path, input_example=X.head(5),
                                   pip_requirements=REQUIREMENTS)
    pyfunc_model = mlflow.pyfunc.load_model(str(path))
    signature = pyfunc_model.metadata.signature
    assert signature.inputs.input_names() == list(X.columns)
    assert_double_inputs(signature)
    assert [p.name for p in signature.params.params] == ["output"]
    assert signature.outputs.input_names() == ["score", "risk", "label"]
    labels = pyfunc_model.predict(X_test, params={"output": "label"})
    np.testing.assert_array_equal(labels, mammo_model.predict(X_test))
    assert np.ndim(labels) == 1
    risk = pyfunc_model.predict(X_test, params={"output": "risk"})
    np.testing.assert_array_equal(risk, mammo_model.predict_proba(X_test)[:, 1])
    assert_pyfunc_matches(pyfunc_model, mammo_model, X_test)
    assert pyfunc_model.get_raw_model() is not None
    with pytest.raises(MlflowException, match="output must be one of"):
        pyfunc_model.predict(X_test, params={"output": "everything"})


def test_pyfunc_scores_missing_values_in_integer_columns(mammo_split, tmp_path):
    """A binarizer that scores missing values gets a signature that lets them in."""
    X, y, _, _ = mammo_split
    X = X.astype("int64")
    model = fit_quietly(
        Pipeline([("binarize", RiskScoreBinarizer(n_thresholds=2)),
                  ("score", RiskScoreClassifier(**SMALL_FIT))]), X, y)
    path = tmp_path / "model"
    sk_riskscore_mlflow.save_model(model, path, input_example=X.head(5),
                                   pip_requirements=REQUIREMENTS)
    pyfunc_model = mlflow.pyfunc.load_model(str(path))
    with_missing = X.head(20).astype(float)
    with_missing.iloc[::3, 0] = np.nan
    scores = pyfunc_model.predict(with_missing, params={"output": "risk"})
    np.testing.assert_array_equal(scores, model.predict_proba(with_missing)[:, 1])


def test_the_old_output_spellings_still_work_with_a_warning(mammo_model, mammo_split, tmp_path):
    """0.1 called the risk "probability": as an output, and as a saved model's column."""
    X, _, X_test, _ = mammo_split
    X_test = X_test.astype(float)  # the signature's double columns, as MLflow wants
    path = tmp_path / "model"
    with pytest.warns(FutureWarning, match="output='probability' is deprecated"):
        sk_riskscore_mlflow.save_model(mammo_model, path, input_example=X.head(5),
                                       pyfunc_output="probability",
                                       pip_requirements=REQUIREMENTS)
    pyfunc_model = mlflow.pyfunc.load_model(str(path))
    expected = mammo_model.predict_proba(X_test)[:, 1]
    np.testing.assert_array_equal(pyfunc_model.predict(X_test), expected)
    with pytest.warns(FutureWarning, match="use output='risk'"):
        old = pyfunc_model.predict(X_test, params={"output": "probability"})
    np.testing.assert_array_equal(old, expected)

    # A model saved by 0.1 has no output_columns in its MLmodel: it keeps the
    # frame its signature declares, (score, probability, label).
    legacy = tmp_path / "legacy"
    sk_riskscore_mlflow.save_model(mammo_model, legacy, pip_requirements=REQUIREMENTS)
    mlmodel = yaml.safe_load((legacy / "MLmodel").read_text())
    assert mlmodel["flavors"]["riskscore"].pop("output_columns") == ["score", "risk", "label"]
    (legacy / "MLmodel").write_text(yaml.safe_dump(mlmodel))
    frame = mlflow.pyfunc.load_model(str(legacy)).predict(X_test)
    assert list(frame.columns) == ["score", "probability", "label"]
    np.testing.assert_array_equal(frame["probability"].to_numpy(), expected)


def test_pyfunc_default_output_label_serves_the_builtin_evaluator(
    mammo_model, mammo_split, tracking, run, tmp_path
):
    _, _, X_test, y_test = mammo_split
    info = sk_riskscore_mlflow.log_model(mammo_model, name="labels", pyfunc_output="label",
                                         pip_requirements=REQUIREMENTS)
    labels = mlflow.pyfunc.load_model(info.model_uri).predict(X_test)
    np.testing.assert_array_equal(labels, mammo_model.predict(X_test))
    result = mlflow.models.evaluate(
        info.model_uri, X_test.assign(outcome=y_test), targets="outcome",
        model_type="classifier", evaluators=["default"],
        evaluator_config={"default": {"log_model_explainability": False}},
    )
    assert result.metrics["accuracy_score"] == pytest.approx(
        accuracy_score(y_test, mammo_model.predict(X_test))
    )


@pytest.mark.parametrize(
    ("labels", "kind"),
    [(lambda y: y.map({0: "benign", 1: "malignant"}).astype(object), str),
     (lambda y: y.astype(bool), bool)],
)
def test_pyfunc_keeps_label_types(labels, kind, tmp_path):
    X, y = load_dataset("breastcancer")
    clf = fit_quietly(RiskScoreClassifier(**SMALL_FIT), X, labels(y))
    sk_riskscore_mlflow.save_model(clf, tmp_path / "m", pip_requirements=REQUIREMENTS)
    pyfunc_model = mlflow.pyfunc.load_model(str(tmp_path / "m"))
    frame = pyfunc_model.predict(X)
    assert frame["label"].tolist() == clf.predict(X).tolist()
    assert {type(v) for v in frame["label"].tolist()} == {kind}
    labels_only = pyfunc_model.predict(X, params={"output": "label"})
    assert labels_only.tolist() == clf.predict(X).tolist()


def test_pyfunc_accepts_arrays_and_reports_bad_input(mammo_model, mammo_split, tmp_path):
    X, _, X_test, _ = mammo_split
    sk_riskscore_mlflow.save_model(mammo_model, tmp_path / "m", pip_requirements=REQUIREMENTS)
    pyfunc_model = mlflow.pyfunc.load_model(str(tmp_path / "m"))
    from_array = pyfunc_model.predict(X_test.to_numpy(), params=None)
    pd.testing.assert_frame_equal(from_array, pyfunc_model.predict(X_test))
    shuffled = X_test[X_test.columns[::-1]]
    pd.testing.assert_frame_equal(pyfunc_model.predict(shuffled), pyfunc_model.predict(X_test))
    with pytest.raises(MlflowException,
                       match=r"missing 1 of the model's 14 columns: \['Density'\]"):
        pyfunc_model.predict(X_test.drop(columns="Density"))
    with pytest.raises(MlflowException, match="numeric features"):
        pyfunc_model.predict(X_test.assign(Density="dense"))
    with pytest.raises(MlflowException, match="expected a DataFrame"):
        pyfunc_model.predict("Age=70")


def test_unsupported_models_are_refused_before_anything_is_written(tmp_path):
    from sklearn.exceptions import NotFittedError

    with pytest.raises(TypeError, match="fitted RiskScoreClassifier"):
        sk_riskscore_mlflow.save_model(object(), tmp_path / "m")
    with pytest.raises(NotFittedError):
        sk_riskscore_mlflow.save_model(RiskScoreClassifier(), tmp_path / "m")
    with pytest.raises(MlflowException, match="output must be one of"):
        sk_riskscore_mlflow.save_model(RiskScoreClassifier(), tmp_path / "m",
                                       pyfunc_output="scores")
    assert not (tmp_path / "m").exists()


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (lambda doc: doc["classifier"]["points"].__setitem__(0, 5),
         "does not match its checksum"),
        (lambda doc: doc.__setitem__("schema_version", 2), "schema_version 2, newer"),
        (lambda doc: doc["classifier"].pop("intercept"),
         "missing field 'classifier.intercept'"),
    ],
)
def test_tampered_models_are_refused_on_load(mammo_model, tmp_path, edit, message):
    path = tmp_path / "model"
    sk_riskscore_mlflow.save_model(mammo_model, path, pip_requirements=REQUIREMENTS)
    document = json.loads((path / "model.json").read_text())
    edit(document)
    if "checksum" not in message:  # a careful forger also fixes the checksum
        document["checksum"] = _checksum(document)
    (path / "model.json").write_text(json.dumps(document))
    with pytest.raises(MlflowException, match=message):
        sk_riskscore_mlflow.load_model(str(path))
    with pytest.raises(MlflowException, match=message):
        mlflow.pyfunc.load_model(str(path))


# --------------------------------------------------------------- logging


def test_log_model_logs_card_and_metrics(mammo_model, mammo_split, tracking, run):
    _, _, X_test, y_test = mammo_split
    info = sk_riskscore_mlflow.log_model(mammo_model, name="mammo", X=X_test, y=y_test,
                                         input_example=X_test.head(3),
                                         pip_requirements=REQUIREMENTS)
    expected = risk_score_metrics(y_test, mammo_model.predict_proba(X_test)[:, 1],
                                  scores=mammo_model.decision_function(X_test)).to_dict()
    expected.update(objective=mammo_model.objective_,
                    lower_bound=mammo_model.lower_bound_,
                    optimality_gap=mammo_model.optimality_gap_,
                    fit_time=mammo_model.solver_statistics_.time)
    logged = {m.key: m.value for m in mlflow.get_logged_model(info.model_id).metrics}
    assert logged == pytest.approx(expected, rel=1e-12)
    run_metrics = MlflowClient().get_run(run.info.run_id).data.metrics
    assert run_metrics == pytest.approx(expected, rel=1e-12)

    local = Path(mlflow.artifacts.download_artifacts(info.model_uri))
    for name in ("model.json", "card/score_card.md", "card/score_card.html",
                 "card/risk_by_score.png", "card/reliability.png"):
        assert (local / name).is_file(), name
    loaded = sk_riskscore_mlflow.load_model(info.model_uri)
    np.testing.assert_array_equal(loaded.predict_proba(X_test),
                                  mammo_model.predict_proba(X_test))
    assert "serving_input_example.json" in {p.name for p in local.iterdir()}


def test_log_model_needs_both_x_and_y(mammo_model, mammo_split, tracking, run):
    X, _, _, _ = mammo_split
    with pytest.raises(ValueError, match="pass both X and y"):
        sk_riskscore_mlflow.log_model(mammo_model, name="m", X=X,
                                      pip_requirements=REQUIREMENTS)


def test_log_model_with_onnx_logs_a_second_model(mammo_model, mammo_split, tracking, run):
    pytest.importorskip("onnxruntime")
    pytest.importorskip("skl2onnx")
    _, _, X_test, _ = mammo_split
    info = sk_riskscore_mlflow.log_model(mammo_model, name="scored", onnx=True,
                                         input_example=X_test.head(3),
                                         pip_requirements=REQUIREMENTS)
    models = mlflow.search_logged_models(
        experiment_ids=[tracking.experiment_id], output_format="list",
        filter_string=f"source_run_id = '{run.info.run_id}'",
    )
    names = {m.name: m for m in models}
    assert {"scored", "scored-onnx"} <= set(names)
    onnx_model = mlflow.pyfunc.load_model(f"models:/{names['scored-onnx'].model_id}")
    outputs = onnx_model.predict(X_test.to_numpy(np.float64))
    np.testing.assert_array_equal(np.asarray(outputs["label"]).ravel(),
                                  mammo_model.predict(X_test))
    assert info.model_id == names["scored"].model_id


# --------------------------------------------------------------- registry


def test_registry_aliases_round_trip(mammo_split, tracking):
    X, y, X_test, y_test = mammo_split
    client = MlflowClient()
    name = "mammo-risk"
    small = fit_quietly(RiskScoreClassifier(max_features=1, max_coef=3, time_limit=2), X, y)
    large = fit_quietly(RiskScoreClassifier(**SMALL_FIT), X, y)
    versions = {}
    for label, model in (("small", small), ("large", large)):
        with mlflow.start_run(experiment_id=tracking.experiment_id):
            info = sk_riskscore_mlflow.log_model(model, name=label, registered_model_name=name,
                                                 pip_requirements=REQUIREMENTS)
        versions[label] = info.registered_model_version
    assert versions == {"small": 1, "large": 2}
    client.set_registered_model_alias(name, "champion", versions["small"])
    client.set_registered_model_alias(name, "challenger", versions["large"])
    for alias, model in (("champion", small), ("challenger", large)):
        loaded = sk_riskscore_mlflow.load_model(f"models:/{name}@{alias}")
        assert loaded.coef_.tolist() == model.coef_.tolist()
        served = mlflow.pyfunc.load_model(f"models:/{name}@{alias}").predict(X_test)
        np.testing.assert_array_equal(served["risk"], model.predict_proba(X_test)[:, 1])
    assert int(client.get_model_version_by_alias(name, "champion").version) == versions["small"]


def test_registry_example_promotes_the_better_challenger(tracking, monkeypatch):
    import importlib.util
    import sys

    path = Path(__file__).resolve().parents[1] / "examples" / "mlflow_registry.py"
    spec = importlib.util.spec_from_file_location("mlflow_registry_example", path)
    example = importlib.util.module_from_spec(spec)
    monkeypatch.setitem(sys.modules, spec.name, example)
    spec.loader.exec_module(example)
    try:
        # The same directory as this module's store: no second sqlite migration.
        outcome = example.main(tracking.root)
    finally:
        mlflow.set_tracking_uri(tracking.uri)
    assert outcome.tracking_uri == tracking.uri
    champion = MlflowClient().get_model_version_by_alias(outcome.model_name, "champion")
    loaded = sk_riskscore_mlflow.load_model(f"models:/{outcome.model_name}@champion")
    better = outcome.challenger_log_loss < outcome.incumbent_log_loss
    assert outcome.promoted == better
    assert int(champion.version) == outcome.champion_version == (2 if better else 1)
    assert loaded.coef_.tolist() == (
        outcome.challenger_points if better else outcome.incumbent_points
    )
    aliases = MlflowClient().get_registered_model(outcome.model_name).aliases
    assert ("challenger" in aliases) == (not better)


# --------------------------------------------------------------- autolog


@pytest.fixture
def autologging(monkeypatch):
    # Surface errors in our patch code instead of MLflow's warn-and-continue.
    monkeypatch.setenv("MLFLOW_AUTOLOGGING_TESTING", "true")
    sk_riskscore_mlflow.autolog()
    yield
    sk_riskscore_mlflow.autolog(disable=True)


def test_autolog_logs_params_metrics_certificate_model_and_card(
    mammo_split, tracking, autologging
):
    X, y, _, _ = mammo_split
    with mlflow.start_run(experiment_id=tracking.experiment_id) as active:
        clf = fit_quietly(RiskScoreClassifier(**SMALL_FIT), X, y)
    client = MlflowClient()
    data = client.get_run(active.info.run_id).data
    assert data.params["max_features"] == "3" and data.params["max_coef"] == "3"
    assert data.params["time_limit"] == "0.5"
    assert data.tags["riskscore.status"] == clf.status_
    training = risk_score_metrics(y, clf.predict_proba(X)[:, 1],
                                  scores=clf.decision_function(X)).to_dict()
    for key, value in training.items():
        assert data.metrics[f"training_{key}"] == pytest.approx(value, rel=1e-12)
    assert data.metrics["objective"] == clf.objective_
    assert data.metrics["lower_bound"] == clf.lower_bound_
    assert data.metrics["optimality_gap"] == clf.optimality_gap_
    assert data.metrics["n_nodes"] == clf.solver_statistics_.n_nodes
    certificate = mlflow.artifacts.load_dict(f"{active.info.artifact_uri}/certificate.json")
    assert certificate["status"] == clf.status_
    assert certificate["lower_bound"] == clf.lower_bound_
    models = mlflow.search_logged_models(
        experiment_ids=[tracking.experiment_id], output_format="list",
        filter_string=f"source_run_id = '{active.info.run_id}'",
    )
    assert len(models) == 1
    local = Path(mlflow.artifacts.download_artifacts(f"models:/{models[0].model_id}"))
    assert (local / "card" / "score_card.md").is_file()
    assert (local / "card" / "reliability.png").is_file()
    loaded = sk_riskscore_mlflow.load_model(f"models:/{models[0].model_id}")
    assert loaded.coef_.tolist() == clf.coef_.tolist()
    assert_double_inputs(mlflow.models.get_model_info(f"models:/{models[0].model_id}").signature)


def test_autolog_logs_a_pipeline_once_in_a_run_it_starts(
    mammo_split, tracking, autologging, monkeypatch
):
    X, y, _, _ = mammo_split
    monkeypatch.setenv("MLFLOW_EXPERIMENT_ID", tracking.experiment_id)
    assert mlflow.active_run() is None
    pipe = Pipeline([("binarize", RiskScoreBinarizer(n_thresholds=2)),
                     ("score", RiskScoreClassifier(**SMALL_FIT))])
    pipe = fit_quietly(pipe.set_output(transform="pandas"), X, y)
    assert mlflow.active_run() is None  # the run autolog started is ended
    run_id = mlflow.last_active_run().info.run_id
    run_data = MlflowClient().get_run(run_id)
    assert run_data.info.status == "FINISHED"
    assert run_data.data.params["score__max_features"] == "3"
    assert run_data.data.params["binarize__n_thresholds"] == "2"
    assert run_data.data.tags["mlflow.autologging"] == "riskscore"
    models = mlflow.search_logged_models(
        experiment_ids=[tracking.experiment_id], output_format="list",
        filter_string=f"source_run_id = '{run_id}'",
    )
    assert len(models) == 1  # the pipeline, not also its final classifier
    loaded = sk_riskscore_mlflow.load_model(f"models:/{models[0].model_id}")
    assert isinstance(loaded, Pipeline)
    np.testing.assert_array_equal(loaded.predict_proba(X), pipe.predict_proba(X))


def test_autolog_puts_a_second_fit_in_a_nested_run(mammo_split, tracking, autologging):
    X, y, _, _ = mammo_split
    with mlflow.start_run(experiment_id=tracking.experiment_id) as parent:
        # Node-limited, not 0.5 s: two fits that differ on every machine.
        with node_limit(50):
            first = fit_quietly(RiskScoreClassifier(**{**SMALL_FIT, "time_limit": 60}), X, y)
            second = fit_quietly(
                RiskScoreClassifier(**{**SMALL_FIT, "time_limit": 60, "max_features": 2}), X, y
            )
        assert mlflow.active_run().info.run_id == parent.info.run_id
    client = MlflowClient()
    assert client.get_run(parent.info.run_id).data.params["max_features"] == "3"
    children = client.search_runs(
        [tracking.experiment_id],
        filter_string=f"tags.mlflow.parentRunId = '{parent.info.run_id}'",
    )
    assert len(children) == 1
    child = children[0].data
    assert child.params["max_features"] == "2"
    assert child.metrics["objective"] == second.objective_ != first.objective_


def test_autolog_leaves_other_pipelines_alone(mammo_split, tracking, autologging):
    from sklearn.linear_model import LogisticRegression

    X, y, _, _ = mammo_split
    before = mlflow.last_active_run()
    Pipeline([("lr", LogisticRegression(max_iter=200))]).fit(X, y)
    after = mlflow.last_active_run()
    assert (before and before.info.run_id) == (after and after.info.run_id)


def test_autolog_without_models_still_logs_metrics(mammo_split, tracking, monkeypatch):
    X, y, _, _ = mammo_split
    monkeypatch.setenv("MLFLOW_AUTOLOGGING_TESTING", "true")
    sk_riskscore_mlflow.autolog(log_models=False)
    try:
        with mlflow.start_run(experiment_id=tracking.experiment_id) as active:
            clf = fit_quietly(RiskScoreClassifier(**SMALL_FIT), X, y)
    finally:
        sk_riskscore_mlflow.autolog(disable=True)
    metrics = MlflowClient().get_run(active.info.run_id).data.metrics
    assert metrics["optimality_gap"] == clf.optimality_gap_
    assert "training_auc" in metrics
    assert not mlflow.search_logged_models(
        experiment_ids=[tracking.experiment_id], output_format="list",
        filter_string=f"source_run_id = '{active.info.run_id}'",
    )


# --------------------------------------------------------------- evaluator


def test_evaluator_is_registered():
    assert "riskscore" in mlflow.models.list_evaluators()


@pytest.mark.parametrize("labels", ["int", "str"])
def test_evaluator_metrics_equal_direct_computation(mammo_split, tracking, labels):
    X, y, X_test, y_test = mammo_split
    if labels == "str":
        y, y_test = (v.map({0: "benign", 1: "malignant"}).astype(object) for v in (y, y_test))
    clf = fit_quietly(RiskScoreClassifier(**SMALL_FIT), X, y)
    with mlflow.start_run(experiment_id=tracking.experiment_id) as active:
        info = sk_riskscore_mlflow.log_model(clf, name="evaluated",
                                             pip_requirements=REQUIREMENTS)
        result = mlflow.models.evaluate(
            info.model_uri, X_test.assign(outcome=y_test.to_numpy()), targets="outcome",
            model_type="classifier", evaluators=["riskscore"],
        )
    # "score" is the card's total of points (decision_function less the intercept)
    direct = risk_score_metrics(y_test, clf.predict_proba(X_test)[:, 1],
                                scores=total_points(clf, X_test),
                                pos_label=clf.classes_[1])
    assert result.metrics == pytest.approx(direct.to_dict(), rel=1e-12)
    table = result.artifacts["calibration_by_score"].content
    pd.testing.assert_frame_equal(table.reset_index(drop=True),
                                  direct.by_score.reset_index(drop=True), check_dtype=False)
    assert "calibration_by_score_plot" in result.artifacts
    logged = MlflowClient().get_run(active.info.run_id)
    assert logged.data.metrics["calibration_error"] == pytest.approx(direct.calibration_error)
    artifacts = {a.path for a in MlflowClient().list_artifacts(active.info.run_id)}
    assert {"calibration_by_score.csv", "calibration_by_score_plot.png"} <= artifacts


def test_evaluator_on_static_probabilities(mammo_model, mammo_split, tracking):
    _, _, X_test, y_test = mammo_split
    risk = mammo_model.predict_proba(X_test)[:, 1]
    data = pd.DataFrame({"outcome": y_test.to_numpy(), "risk": risk})
    with mlflow.start_run(experiment_id=tracking.experiment_id):
        result = mlflow.models.evaluate(
            data=data, targets="outcome", predictions="risk", model_type="classifier",
            evaluators=["riskscore"], evaluator_config={"riskscore": {"metric_prefix": "test_"}},
        )
    direct = risk_score_metrics(y_test, risk)
    assert result.metrics == pytest.approx(
        {f"test_{k}": v for k, v in direct.to_dict().items()}, rel=1e-12
    )


def test_evaluator_refuses_labels_the_model_does_not_know(mammo_model, mammo_split, tracking):
    _, _, X_test, y_test = mammo_split
    with mlflow.start_run(experiment_id=tracking.experiment_id):
        info = sk_riskscore_mlflow.log_model(mammo_model, name="m",
                                             pip_requirements=REQUIREMENTS)
        with pytest.raises(MlflowException, match=r"labels \['7'\] are not classes"):
            mlflow.models.evaluate(
                info.model_uri, X_test.assign(outcome=np.where(y_test == 1, 7, 0)),
                targets="outcome", model_type="classifier", evaluators=["riskscore"],
            )


def test_markdown_card_escapes_html_in_names(mammo_split, tmp_path):
    X, y, _, _ = mammo_split
    hostile = X.rename(columns={"IrregularShape": "<script>alert(1)</script>"})
    model = fit_quietly(RiskScoreClassifier(**SMALL_FIT), hostile, y)
    sk_riskscore_mlflow.save_model(model, tmp_path / "model", pip_requirements=REQUIREMENTS)
    markdown = (tmp_path / "model" / "card" / "score_card.md").read_text()
    assert "<script" not in markdown and "&lt;script&gt;alert(1)&lt;/script&gt;" in markdown


@pytest.mark.parametrize("flavors", [["riskscore"], ["python_function"],
                                     ["riskscore", "python_function"]])
def test_loaders_refuse_a_code_entry_and_leave_sys_path_alone(mammo_model, tmp_path,
                                                               flavors):
    import importlib
    import sys

    import yaml

    path = tmp_path / "model"
    sk_riskscore_mlflow.save_model(mammo_model, path, pip_requirements=REQUIREMENTS)
    (path / "code").mkdir()
    module = f"planted_{'_'.join(flavors)}"
    (path / "code" / f"{module}.py").write_text(
        "import pathlib; pathlib.Path(__file__).with_name('ran').write_text('yes')\n")
    mlmodel = yaml.safe_load((path / "MLmodel").read_text())
    for flavor in flavors:
        mlmodel["flavors"][flavor]["code"] = "code"
    (path / "MLmodel").write_text(yaml.safe_dump(mlmodel))

    for load in (sk_riskscore_mlflow.load_model, mlflow.pyfunc.load_model):
        with pytest.raises(MlflowException, match="'code' entry"):
            load(str(path))
        assert str(path / "code") not in sys.path
        with pytest.raises(ModuleNotFoundError):
            importlib.import_module(module)
    assert not (path / "code" / "ran").exists()


def test_save_model_refuses_code_paths(mammo_model, tmp_path):
    (tmp_path / "helper.py").write_text("")
    with pytest.raises(MlflowException, match="code_paths is not supported"):
        sk_riskscore_mlflow.save_model(mammo_model, tmp_path / "model",
                                       code_paths=[str(tmp_path / "helper.py")])
    assert not (tmp_path / "model").exists()


def test_pyfunc_scores_fractional_input_to_a_model_logged_with_whole_numbers(
        mammo_model, mammo_split, tmp_path):
    # before: signature 'long'; in process "Can not safely convert float64 to
    # int64", served 5.99 -> 5 with status 200
    X, _, X_test, _ = mammo_split
    assert all(pd.api.types.is_integer_dtype(t) for t in X.dtypes)
    sk_riskscore_mlflow.save_model(mammo_model, tmp_path / "model", input_example=X.head(5),
                                   pip_requirements=REQUIREMENTS)
    pyfunc_model = mlflow.pyfunc.load_model(str(tmp_path / "model"))
    used = X.columns[np.flatnonzero(mammo_model.coef_[0])[0]]
    fractional = X_test.head(20).astype(float).assign(**{used: 0.9})
    frame = pyfunc_model.predict(fractional)
    np.testing.assert_array_equal(frame["risk"],
                                  mammo_model.predict_proba(fractional)[:, 1])
    np.testing.assert_array_equal(frame["score"], total_points(mammo_model, fractional))
    assert frame["score"].dtype == np.float64  # 0.9 times a point: not a whole number


@pytest.mark.parametrize("value", [1e17, 1e19, 3e38, 1e300, -1e300])
def test_pyfunc_score_never_wraps_around_int64(mammo_model, mammo_split, value):
    # before: 1e19 gave a score of -9223372036854775808
    _, _, X_test, _ = mammo_split
    used = X_test.columns[np.flatnonzero(mammo_model.coef_[0])[0]]
    huge = X_test.head(3).astype(float).assign(**{used: value})
    frame = RiskScorePyfunc(mammo_model).predict(huge)
    expected = total_points(mammo_model, huge)
    np.testing.assert_array_equal(frame["score"], expected)
    assert np.all(np.sign(frame["score"]) == np.sign(value))
    assert frame["score"].dtype == (np.int64 if abs(value) <= 2**53 else np.float64)


def test_pyfunc_errors_are_short_and_do_not_echo_the_input(mammo_model, mammo_split):
    _, _, X_test, _ = mammo_split
    pyfunc_model = RiskScorePyfunc(mammo_model)
    bad_inputs = [
        X_test.astype(object).assign(Density="x" * 100_000),
        X_test.astype(float).assign(Density=np.inf),
        np.zeros((3, 2)),
        object(),
    ]
    for bad in bad_inputs:
        with pytest.raises(MlflowException) as caught:
            pyfunc_model.predict(bad)
        message = caught.value.message
        assert len(message) <= 300 and "Traceback" not in message and "xxxxxxxx" not in message
    with pytest.raises(MlflowException) as caught:
        pyfunc_model.predict(X_test, params={"output": "y" * 10_000})
    assert len(caught.value.message) <= 300


def test_calibrated_pyfunc_score_is_the_cards_total(mammo_split):
    X, y, X_test, _ = mammo_split
    model = fit_quietly(RiskScoreClassifier(**{**SMALL_FIT, "calibrate_scale": True}), X, y)
    assert not float(model.intercept_[0]).is_integer()
    frame = RiskScorePyfunc(model).predict(X_test)
    card_totals = X_test.to_numpy(float) @ model.coef_[0]  # what a person adds up
    assert frame["score"].dtype == np.int64
    np.testing.assert_array_equal(frame["score"], card_totals)
    np.testing.assert_allclose(frame["score"] + model.intercept_[0],
                               model.decision_function(X_test), rtol=0, atol=1e-12)


def test_evaluator_logs_recourse_audit_and_rashomon_set(mammo_model, mammo_split, tracking):
    from sklearn.base import clone

    from sk_riskscore import audit_recourse, rashomon_set

    _, _, X_test, y_test = mammo_split
    actions = {"variables": {name: {"values": [0, 1], "direction": "decrease"}
                             for name in ("IrregularShape", "SpiculatedMargin")}}
    config = {"actions": actions, "rashomon_epsilon": 0.02, "rashomon_time_limit": 20,
              "rashomon_max_models": 200}
    with mlflow.start_run(experiment_id=tracking.experiment_id) as active:
        info = sk_riskscore_mlflow.log_model(mammo_model, name="audited",
                                             pip_requirements=REQUIREMENTS)
        result = mlflow.models.evaluate(
            info.model_uri, X_test.assign(outcome=y_test.to_numpy()), targets="outcome",
            model_type="classifier", evaluators=["riskscore"],
            evaluator_config={"riskscore": config})
    audit = audit_recourse(mammo_model, X_test, actions)
    for key, value in audit.metrics().items():
        assert result.metrics[key] == pytest.approx(value, rel=1e-12), key
    rset = rashomon_set(clone(mammo_model), X_test, y_test, epsilon=0.02, time_limit=20,
                        max_models=200)
    assert rset.complete_
    overall = rset.multiplicity(X_test).loc["all"]
    assert result.metrics["rashomon_size"] == len(rset)
    assert result.metrics["rashomon_complete"] == 1.0
    assert result.metrics["rashomon_ambiguity"] == pytest.approx(overall["ambiguity"])
    assert result.metrics["rashomon_discrepancy"] == pytest.approx(overall["discrepancy"])
    logged = MlflowClient().get_run(active.info.run_id).data.metrics
    assert logged["recourse_share"] == pytest.approx(audit.metrics()["recourse_share"])
    assert logged["rashomon_size"] == len(rset)
    artifacts = {a.path for a in MlflowClient().list_artifacts(active.info.run_id)}
    assert {"recourse_summary.csv", "recourse_responsiveness.csv", "recourse_people.csv",
            "recourse_plot.png", "rashomon_cards.csv",
            "rashomon_prediction_ranges.png"} <= artifacts
    assert len(result.artifacts["rashomon_cards"].content) == len(rset)


def test_evaluator_audits_are_off_by_default_and_need_a_model(mammo_model, mammo_split,
                                                              tracking):
    _, _, X_test, y_test = mammo_split
    data = pd.DataFrame({"outcome": y_test.to_numpy(),
                         "risk": mammo_model.predict_proba(X_test)[:, 1]})
    with mlflow.start_run(experiment_id=tracking.experiment_id):
        with pytest.raises(MlflowException, match="need a riskscore model"):
            mlflow.models.evaluate(
                data=data, targets="outcome", predictions="risk", model_type="classifier",
                evaluators=["riskscore"],
                evaluator_config={"riskscore": {"rashomon_epsilon": 0.01}})
        info = sk_riskscore_mlflow.log_model(mammo_model, name="plain",
                                             pip_requirements=REQUIREMENTS)
        with pytest.raises(MlflowException, match="option 'actions'.*direction"):
            mlflow.models.evaluate(
                info.model_uri, X_test.assign(outcome=y_test.to_numpy()),
                targets="outcome", model_type="classifier", evaluators=["riskscore"],
                evaluator_config={"riskscore": {"actions": {"variables": {
                    "IrregularShape": {"direction": "sideways"}}}}})
