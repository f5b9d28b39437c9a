"""The ``sk-riskscore`` console script, driven in subprocesses as a user would (and
through ``main()`` in this process where a test is about a command, not the script)."""

from __future__ import annotations

import io
import json
import os
import signal
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from sk_riskscore import ScoreCard, load_json, save_json
from sk_riskscore._model import total_points
from sk_riskscore.cli import main

from .conftest import CERTIFY_TIME_LIMIT, HELOC_SPECIAL_VALUES, load_heloc, node_limit

SCRIPT = Path(sys.executable).with_name("sk-riskscore")
TIMEOUT = 300


@pytest.fixture(scope="module", autouse=True)
def _installed():
    if not SCRIPT.exists():
        pytest.fail(f"console script {SCRIPT} not found; install the package: pip install -e .")


def run(*args, cwd=None, timeout=TIMEOUT):
    return subprocess.run(
        [str(SCRIPT), *map(str, args)], capture_output=True, text=True, cwd=cwd,
        timeout=timeout, env=_env(),
    )


def _env():
    env = dict(os.environ, MLFLOW_DISABLE_TELEMETRY="true", DO_NOT_TRACK="true")
    env.pop("MLFLOW_TRACKING_URI", None)
    return env


def assert_one_line_error(result, code, *fragments):
    assert result.returncode == code, (result.returncode, result.stderr)
    assert "Traceback" not in result.stderr
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("sk-riskscore: error: "), lines[0]
    for fragment in fragments:
        assert fragment in lines[0], lines[0]


@pytest.fixture(scope="module")
def work(tmp_path_factory):
    """A directory with data files and one model fitted through the CLI."""
    root = tmp_path_factory.mktemp("cli")
    from sk_riskscore.datasets import load_mammo

    X, y = load_mammo(return_X_y=True, as_frame=True)
    frame = pd.concat([y, X], axis=1)
    frame.to_csv(root / "mammo.csv", index=False)
    frame.drop(columns="Malignant").head(20).assign(id=range(100, 120)).to_csv(
        root / "new_rows.csv", index=False
    )
    # --no-binarize: Density (1 to 4) keeps points per unit, a plain classifier.
    # The fit must certify optimality (a few hundred nodes, about a second when
    # idle): the generous limit keeps a loaded CI runner from deciding the outcome.
    result = run("fit", "mammo.csv", "--target", "Malignant", "--max-features", "3",
                 "--max-coef", "3", "--time-limit", CERTIFY_TIME_LIMIT, "-o", "model.json",
                 "--no-binarize", cwd=root, timeout=TIMEOUT + CERTIFY_TIME_LIMIT)
    assert result.returncode == 0, result.stderr
    return root, X, y, result


# ------------------------------------------------------------------ success


def test_fit_saves_the_model_and_prints_its_card(work):
    root, X, y, result = work
    model = load_json(root / "model.json")
    params = model.get_params()
    assert (params["max_features"], params["max_coef"], params["time_limit"]) == (
        3, 3, CERTIFY_TIME_LIMIT)
    assert np.count_nonzero(model.coef_) <= 3 and np.abs(model.coef_).max() <= 3
    card = ScoreCard.from_estimator(model, X, y).to_text()
    assert result.stdout.startswith(card + "\n")
    assert f"optimality gap {model.optimality_gap_:.3%}" in result.stdout
    assert "model saved to model.json" in result.stdout
    # Off a terminal, progress is plain lines on stderr ending with the final gap.
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith("RiskSLIM optimal after")
    assert f"gap {model.optimality_gap_:.3%}" in last


def test_predict_writes_scores_risks_and_labels(work):
    root, X, _, _ = work
    model = load_json(root / "model.json")
    result = run("predict", "model.json", "new_rows.csv", "--keep", "id", cwd=root)
    assert result.returncode == 0, result.stderr
    out = pd.read_csv(io.StringIO(result.stdout))
    assert list(out.columns) == ["id", "score", "risk", "label"]
    rows = X.head(20)
    assert out["id"].tolist() == list(range(100, 120))
    np.testing.assert_array_equal(out["score"], total_points(model, rows))
    np.testing.assert_array_equal(out["risk"], model.predict_proba(rows)[:, 1])
    np.testing.assert_array_equal(out["label"], model.predict(rows))
    # score: the card's points; risk = logistic(score + intercept), independent
    # of the model's own predict_proba
    decision = out["score"] + model.intercept_[0]
    np.testing.assert_allclose(out["risk"], 1 / (1 + np.exp(-decision)), rtol=1e-15)


def test_predict_to_a_file(work, tmp_path, capsys):
    root, X, _, _ = work
    target = tmp_path / "scores.csv"
    assert main(["predict", str(root / "model.json"), str(root / "mammo.csv"),
                 "-o", str(target)]) == 0
    out = pd.read_csv(target)
    assert len(out) == len(X) and f"{len(X)} predictions written" in capsys.readouterr().out


def test_show_renders_the_card(work):
    root, X, y, _ = work
    model = load_json(root / "model.json")
    result = run("show", "model.json", "--data", "mammo.csv", "--target", "Malignant",
                 cwd=root)
    assert result.returncode == 0, result.stderr
    card = ScoreCard.from_estimator(model, X, y).to_text()
    assert result.stdout.startswith(card + "\n\nstatus: optimal (optimality gap ")
    statistics = model.solver_statistics_
    assert result.stdout.endswith(
        f"fitted in {statistics.time:.1f} s on 961 rows; "
        f"{np.count_nonzero(model.coef_)} of 14 features with points\n"
        "event: Malignant = 1\n")


@pytest.mark.parametrize("fmt", ["markdown", "html"])
def test_show_formats(work, fmt, monkeypatch, capsys):
    root, X, y, _ = work
    model = load_json(root / "model.json")
    monkeypatch.chdir(root)
    assert main(["show", "model.json", "--format", fmt, "--data", "mammo.csv",
                 "--target", "Malignant"]) == 0
    out = capsys.readouterr().out
    card = ScoreCard.from_estimator(model, X, y)
    assert (card.to_markdown() if fmt == "markdown" else card.to_html()) in out
    if fmt == "html":
        assert out.startswith("<!DOCTYPE html>") and out.rstrip().endswith("</html>")


def test_show_without_data_notes_its_assumption(work, tmp_path, capsys):
    root, _, _, _ = work
    assert main(["show", str(root / "model.json"), "--title", "Mammo",
                 "-o", str(tmp_path / "c.txt")]) == 0
    text = (tmp_path / "c.txt").read_text()
    assert text.startswith("Mammo\n") and "0 or 1" in text
    assert "--data" in capsys.readouterr().err


def test_export_onnx_matches_python(work, tmp_path, capsys):
    import onnxruntime

    root, X, _, _ = work
    model = load_json(root / "model.json")
    target = tmp_path / "model.onnx"
    # in-process: the console script itself is run by the tests of fit, predict, show,
    # the errors and the demo
    assert main(["export-onnx", str(root / "model.json"), "-o", str(target)]) == 0
    assert ", ".join(X.columns) in capsys.readouterr().out
    session = onnxruntime.InferenceSession(str(target), providers=["CPUExecutionProvider"])
    label, proba, score = session.run(None, {"X": X.to_numpy(np.float64)})
    np.testing.assert_array_equal(score, total_points(model, X))
    np.testing.assert_array_equal(label, model.predict(X))
    np.testing.assert_allclose(proba[:, 1], model.predict_proba(X)[:, 1], atol=1e-12)


def test_binarize_and_constraints(work, tmp_path, monkeypatch, capsys):
    root, X, y, _ = work
    frame = pd.concat([y, X], axis=1)
    frame["Shape"] = np.select(
        [X["RoundShape"] == 1, X["OvalShape"] == 1, X["LobularShape"] == 1],
        ["round", "oval", "lobular"], "irregular",
    )
    frame = frame.drop(columns=["RoundShape", "OvalShape", "LobularShape", "IrregularShape"])
    frame.to_csv(tmp_path / "shapes.csv", index=False)
    (tmp_path / "rules.yaml").write_text(
        "- kind: must_not_use\n  features: [Shape = irregular]\n"
        "- kind: must_use\n  features: [Density >= 3]\n"
    )
    monkeypatch.chdir(tmp_path)
    result = run_in_process(capsys, "fit", "shapes.csv", "--target", "Malignant", "--binarize",
                            "--max-features", "3", "--max-coef", "3", "--constraints",
                            "rules.yaml", "--quiet")
    assert result.returncode == 0, result.stderr
    assert "RiskSLIM" not in result.stderr  # --quiet
    model = load_json(tmp_path / "model.json")
    names = list(model[-1].feature_names_in_)
    points = dict(zip(names, model[-1].coef_[0]))
    assert "Shape = irregular" in names and points["Shape = irregular"] == 0
    assert points["Density >= 3"] != 0
    assert "Density >= 3" in result.stdout  # the card shows the binarized feature
    # The same constraints as JSON give the same model.
    (tmp_path / "rules.json").write_text(json.dumps([
        {"kind": "must_not_use", "features": ["Shape = irregular"]},
        {"kind": "must_use", "features": ["Density >= 3"]},
    ]))
    assert main(["fit", "shapes.csv", "--target", "Malignant", "--binarize",
                 "--max-features", "3", "--max-coef", "3", "--constraints", "rules.json",
                 "-q", "-o", "again.json"]) == 0
    assert load_json(tmp_path / "again.json")[-1].objective_ == pytest.approx(
        model[-1].objective_, abs=1e-9
    )


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    output = tmp_path_factory.mktemp("demo") / "out"
    # The demo's fit certifies optimality in ~1,400 nodes (3 s on an idle machine);
    # its default 30 s limit is for a user's machine. A loaded CI runner must not
    # decide the outcome, so the test gives the same fit a generous limit.
    result = run("demo", "--output", output, "--time-limit", CERTIFY_TIME_LIMIT,
                 timeout=TIMEOUT + CERTIFY_TIME_LIMIT)
    return output.resolve(), result


@pytest.mark.slow
def test_demo_runs_end_to_end(demo):
    out, result = demo
    assert result.returncode == 0, result.stderr
    for name in ("model.json", "model.onnx", "mlflow.db", "card.md", "card.html"):
        assert (out / name).is_file(), name
    assert (out / "mlartifacts").is_dir()
    model = load_json(out / "model.json")
    assert "Risk of Malignant" in result.stdout
    assert f"optimality gap {model.optimality_gap_:.3%}" in result.stdout
    assert "models:/mammo-risk-score@champion" in result.stdout
    assert "ONNX predictions equal the Python ones" in result.stdout
    assert (f"mlflow ui --backend-store-uri sqlite:///{out}/mlflow.db "
            f"--default-artifact-root {out}/mlartifacts") in result.stdout
    assert "RiskSLIM optimal after" in result.stderr
    assert "Traceback" not in result.stderr
    # The alias points at a version whose files hold the demo's model.
    from mlflow import MlflowClient

    client = MlflowClient(tracking_uri=f"sqlite:///{out}/mlflow.db")
    version = client.get_model_version_by_alias("mammo-risk-score", "champion")
    assert version.run_id in result.stdout
    logged = list((out / "mlartifacts").rglob("model.json"))
    assert logged and all(
        load_json(path).coef_.tolist() == model.coef_.tolist() for path in logged
    )


@pytest.fixture
def mlflow_in_process(monkeypatch, tmp_path):
    """main() logging to MLflow in this process, as the console script would in its
    own: no MLFLOW_TRACKING_URI, no telemetry, the current directory tmp_path; the
    global tracking URI and log levels the plugin sets are restored afterwards."""
    import logging

    import mlflow
    from mlflow.tracking._tracking_service import utils

    monkeypatch.setenv("MLFLOW_DISABLE_TELEMETRY", "true")
    monkeypatch.setenv("DO_NOT_TRACK", "true")
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    monkeypatch.chdir(tmp_path)
    loggers = {name: logging.getLogger(name).level for name in ("mlflow", "alembic")}
    previous = utils._tracking_uri
    try:
        yield
    finally:
        # main() set the tracking URI, which also sets MLFLOW_TRACKING_URI; monkeypatch
        # then puts back any value the variable had before
        mlflow.set_tracking_uri(previous)
        os.environ.pop("MLFLOW_TRACKING_URI", None)
        for name, level in loggers.items():
            logging.getLogger(name).setLevel(level)


def run_in_process(capsys, *args):
    """main(args) in this process, as a CompletedProcess (the console script is
    tested in subprocesses elsewhere in this module; these tests are about options)."""
    capsys.readouterr()
    code = main([str(arg) for arg in args])
    captured = capsys.readouterr()
    return subprocess.CompletedProcess(args, code, captured.out, captured.err)


@pytest.mark.slow
def test_fit_logs_registers_and_aliases_in_mlflow(work, demo, tmp_path, mlflow_in_process,
                                                  capsys):
    root = work[0]
    store = demo[0] / "mlflow.db"  # an existing store: no schema migration to wait for
    uri = f"sqlite:///{store}"
    result = run_in_process(
        capsys, "fit", root / "mammo.csv", "--target", "Malignant", "--max-features", "2",
        "--max-coef", "3", "-q", "-o", tmp_path / "m.json", "--tracking-uri", uri,
        "--no-binarize",
        "--experiment", "cli-test", "--artifact-location", tmp_path / "artifacts",
        "--registered-name", "mammo-cli", "--alias", "champion")
    assert result.returncode == 0, result.stderr
    assert "registered model models:/mammo-cli@champion" in result.stdout
    from mlflow import MlflowClient

    client = MlflowClient(tracking_uri=uri)
    version = client.get_model_version_by_alias("mammo-cli", "champion")
    run_info = client.get_run(version.run_id)
    assert run_info.data.params["max_features"] == "2"
    assert client.get_experiment(run_info.info.experiment_id).artifact_location == (
        (tmp_path / "artifacts").as_uri()
    )
    logged = next((tmp_path / "artifacts").rglob("model.json"))
    assert load_json(logged).coef_.tolist() == load_json(tmp_path / "m.json").coef_.tolist()


# ------------------------------------------------------------------- errors
#
# Bad files, a missing target column and bad option values. One case of each
# way the console script's own process can end on an error (a data file, a model
# file, a constraints file, the argument parser) is a real run of the script: they
# start together (each spends most of its time importing) and each test checks
# its own result. Every other case runs in-process through main(), which the
# script's process only wraps (``sys.exit(main())``).


def _error_files(root: Path) -> None:
    (root / "empty.csv").write_text("")
    (root / "header_only.csv").write_text("a,b,y\n")
    (root / "binary.csv").write_bytes(bytes(range(256)) * 4)
    (root / "ragged.csv").write_text("a,b,y\n1,2,0\n3,4,1,5,6\n")
    (root / "text.csv").write_text("a,b,y\n1,x,0\n2,z,1\n3,x,0\n")
    (root / "nan.csv").write_text("a,b,y\n1,,0\n2,3,1\n3,1,0\n")
    (root / "one_class.csv").write_text("a,b,y\n1,2,0\n2,3,0\n3,1,0\n")
    (root / "bad_target.csv").write_text("a,b,y\n1,2,0\n2,3,\n3,1,1\n")
    (root / "not_json.json").write_text('{"format": "sk-riskscore",')
    (root / "bad.yaml").write_text("- kind: at_most\n  k: [1\n")
    (root / "unknown_kind.yaml").write_text("- kind: sometimes\n  features: [a]\n")
    (root / "unknown_feature.json").write_text('[{"kind": "must_use", "features": ["zz"]}]')
    (root / "rules.txt").write_text("must_use a")
    (root / "a_dir").mkdir(exist_ok=True)
    document = json.loads((root / "model.json").read_text())
    document["classifier"]["points"][0] += 1
    (root / "tampered.json").write_text(json.dumps(document))


FIT = ["fit", "mammo.csv", "--target", "Malignant"]

SCRIPT_ERRORS = {
    "missing data": (["fit", "nope.csv", "--target", "y"], 1, ["nope.csv", "no such file"]),
    "tampered model": (["predict", "tampered.json", "mammo.csv"], 1, ["checksum"]),
    "constraints bad yaml": ([*FIT, "--constraints", "bad.yaml"], 1, ["bad.yaml", "YAML"]),
    "no target option": (["fit", "mammo.csv"], 2, ["--target"]),
}

# The same checks in-process through main(): every other way a run can fail.
MAIN_ERRORS = {
    # bad files
    "empty data": (["fit", "empty.csv", "--target", "y"], 1, ["empty.csv", "empty"]),
    "binary data": (["fit", "binary.csv", "--target", "y"], 1, ["binary.csv", "not"]),
    "ragged csv": (["fit", "ragged.csv", "--target", "y"], 1, ["ragged.csv", "CSV"]),
    "model not json": (["show", "not_json.json"], 1, ["not_json.json", "not valid JSON"]),
    # the target column
    "missing target column": (["fit", "mammo.csv", "--target", "Benign"], 1,
                              ["'Benign'", "Malignant", "RoundShape"]),
    # bad option values
    "max features negative": ([*FIT, "--max-features", "-1"], 2,
                              ["--max-features", "'-1'"]),
    "time limit not a number": ([*FIT, "--time-limit", "soon"], 2,
                                ["--time-limit", "'soon'"]),
    "gap tolerance above one": ([*FIT, "--gap-tolerance", "2"], 2,
                                ["--gap-tolerance", "at most 1"]),
    "unknown solver": ([*FIT, "--solver", "gurobi"], 2, ["--solver", "gurobi"]),
    # every other way a run can fail
    "header only": (["fit", "header_only.csv", "--target", "y"], 1, ["no data rows"]),
    "constraints suffix": ([*FIT, "--constraints", "rules.txt"], 1,
                           [".json, .yaml or .yml"]),
    "max coef not integer": ([*FIT, "--max-coef", "2.5"], 2, ["--max-coef", "integer"]),
    "alias without name": ([*FIT, "--alias", "x"], 2, ["--alias", "--registered-name"]),
    "data is a directory": (["fit", "a_dir", "--target", "y"], 1, ["a_dir", "directory"]),
    "text features": (["fit", "text.csv", "--target", "y", "--no-binarize"], 1,
                      ["'b'", "drop --no-binarize"]),
    "pdf to stdout": (["show", "model.json", "--format", "pdf"], 2, ["-o CARD.pdf"]),
    "missing values": (["fit", "nan.csv", "--target", "y", "--no-binarize"], 1,
                       ["'b'", "missing"]),
    "special values without binarize": ([*FIT, "--no-binarize", "--special-values", "-7",
                                         "-9"], 2, ["--special-values needs --binarize"]),
    "one class": (["fit", "one_class.csv", "--target", "y"], 1, ["one class"]),
    "missing target values": (["fit", "bad_target.csv", "--target", "y"], 1,
                              ["'y'", "missing"]),
    "missing model": (["show", "nope.json"], 1, ["nope.json", "no such model file"]),
    "model is a directory": (["show", "a_dir"], 1, ["a_dir", "directory"]),
    "data not a model": (["export-onnx", "mammo.csv"], 1, ["mammo.csv", "JSON"]),
    "predict columns missing": (["predict", "model.json", "text.csv"], 1,
                                ["text.csv", "lacks"]),
    "predict keep unknown": (["predict", "model.json", "mammo.csv", "--keep", "zz"], 1,
                             ["'zz'", "--keep"]),
    "show target without data": (["show", "model.json", "--target", "y"], 2, ["--data"]),
    "constraints missing": ([*FIT, "--constraints", "nope.yaml"], 1, ["nope.yaml"]),
    "constraints unknown kind": ([*FIT, "--constraints", "unknown_kind.yaml"], 1,
                                 ["unknown_kind.yaml", "sometimes"]),
    "constraints unknown feature": ([*FIT, "--constraints", "unknown_feature.json"], 1,
                                    ["'zz'", "Valid variables are ['RoundShape'"]),
    "output dir missing": ([*FIT, "-o", "no/such/dir/m.json"], 1, ["does not exist"]),
    "output is a directory": ([*FIT, "-o", "a_dir"], 1, ["a_dir", "directory"]),
    "max coef zero": ([*FIT, "--max-coef", "0"], 2, ["--max-coef", "at least 1"]),
    "time limit zero": ([*FIT, "--time-limit", "0"], 2, ["--time-limit", "above 0"]),
    "time limit infinite": ([*FIT, "--time-limit", "inf"], 2, ["--time-limit"]),
    "unknown format": (["show", "model.json", "--format", "svg"], 2, ["--format", "svg"]),
    "unknown option": ([*FIT, "--fast"], 2, ["--fast"]),
    "unknown command": (["train", "mammo.csv"], 2, ["'train'"]),
    "no command": ([], 2, ["COMMAND"]),
}


@pytest.fixture(scope="module")
def error_dir(work):
    root = work[0]
    _error_files(root)
    return root


@pytest.fixture(scope="module")
def script_errors(error_dir):
    with ThreadPoolExecutor(max_workers=max(2, os.cpu_count() or 2)) as pool:
        futures = {name: pool.submit(run, *args, cwd=error_dir)
                   for name, (args, _, _) in SCRIPT_ERRORS.items()}
        return {name: future.result() for name, future in futures.items()}


@pytest.mark.parametrize("case", list(SCRIPT_ERRORS))
def test_console_script_errors_are_one_line(script_errors, case):
    _, code, fragments = SCRIPT_ERRORS[case]
    assert_one_line_error(script_errors[case], code, *fragments)


@pytest.mark.parametrize("case", list(MAIN_ERRORS))
def test_main_errors_are_one_line(error_dir, monkeypatch, capsys, case):
    args, code, fragments = MAIN_ERRORS[case]
    monkeypatch.chdir(error_dir)
    returned = main(args)
    captured = capsys.readouterr()
    result = subprocess.CompletedProcess(args, returned, captured.out, captured.err)
    assert_one_line_error(result, code, *fragments)


def test_interrupt_is_one_line(work):
    root = work[0]
    process = subprocess.Popen(
        [str(SCRIPT), "fit", "mammo.csv", "--target", "Malignant", "--max-features", "12",
         "--max-coef", "10", "--time-limit", "120", "-o", "interrupted.json"],
        cwd=root, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=_env(),
        # Ctrl-C as at a terminal: a test run started in the background by a
        # shell passes SIGINT on ignored, and the child would never see it.
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    # Wait for the solve to start (the first progress line), then press Ctrl-C.
    first = process.stderr.readline()
    assert first.startswith("["), first
    time.sleep(0.3)
    process.send_signal(signal.SIGINT)
    _, rest = process.communicate(timeout=60)
    assert process.returncode == 130
    lines = [line for line in rest.splitlines() if not line.startswith("[")]
    assert lines == ["sk-riskscore: error: interrupted"], rest
    assert not (root / "interrupted.json").exists()


def test_help_and_version(capsys):
    assert main(["--help"]) == 0
    out = capsys.readouterr().out
    for command in ("fit", "show", "predict", "export-onnx", "demo"):
        assert command in out
    from sk_riskscore import __version__

    assert main(["--version"]) == 0
    assert capsys.readouterr().out.strip() == f"sk-riskscore {__version__}"


def test_debug_lets_the_exception_through(work, monkeypatch):
    from sk_riskscore.cli._parser import CommandError

    monkeypatch.chdir(work[0])
    with pytest.raises(CommandError, match="no such model file"):
        main(["--debug", "show", "nope.json"])


def test_model_saved_from_python_is_usable(tmp_path, breastcancer, monkeypatch, capsys):
    """A model file written by the Python API works with the commands."""
    from sk_riskscore import RiskScoreClassifier

    X, y = breastcancer
    save_json(RiskScoreClassifier(max_features=2, max_coef=3).fit(X, y), tmp_path / "m.json")
    pd.concat([y, X], axis=1).to_csv(tmp_path / "bc.csv", index=False)
    monkeypatch.chdir(tmp_path)
    assert main(["show", "m.json", "--data", "bc.csv"]) == 0
    assert "(1 to 10)" in capsys.readouterr().out  # integer features, ranges from the data
    assert main(["export-onnx", "m.json"]) == 0
    assert (tmp_path / "m.onnx").is_file()


def test_fit_refuses_huge_values_in_one_line(tmp_path, breastcancer, monkeypatch, capsys):
    # before: "unexpected InterfacingError ... please report it" after solving
    X, y = breastcancer
    X = X.astype(float)
    X.iloc[0, 0] = 1e60
    X.assign(y=y).to_csv(tmp_path / "cents.csv", index=False)
    monkeypatch.chdir(tmp_path)
    returned = main(["fit", "cents.csv", "--target", "y", "-o", "m.json", "--no-binarize"])
    captured = capsys.readouterr()
    # a warning line (--no-binarize on non-0/1 columns) may come first
    errors = [line for line in captured.err.splitlines() if "error" in line]
    result = subprocess.CompletedProcess([], returned, captured.out, "\n".join(errors))
    assert_one_line_error(result, 1, "'ClumpThickness'", "2**24", "RiskScoreBinarizer")
    assert "unexpected" not in captured.err and "Traceback" not in captured.err


def test_show_markdown_escapes_html_in_names(tmp_path, mammo, monkeypatch, capsys):
    X, y = mammo
    X = X.rename(columns={"IrregularShape": "<script>alert(1)</script>"})
    X.assign(y=y).to_csv(tmp_path / "hostile.csv", index=False)
    monkeypatch.chdir(tmp_path)
    assert main(["fit", "hostile.csv", "--target", "y", "-o", "m.json", "--max-features",
                 "4", "--max-coef", "3", "--time-limit", "20"]) == 0
    capsys.readouterr()
    assert main(["show", "m.json", "--format", "markdown"]) == 0
    out = capsys.readouterr().out
    assert "<script" not in out and "&lt;script&gt;" in out


# ------------------------------------------------- real-valued data, as a new user
def _diabetes_like(path, n=300):
    rng = np.random.default_rng(3)
    frame = pd.DataFrame({
        "BMI": np.round(rng.normal(28, 5, n), 1),
        "Age": rng.integers(21, 80, n),
        "Sex": rng.choice(["F", "M"], n),
    })
    logit = -1 + 0.15 * (frame["BMI"] - 28) + 0.03 * (frame["Age"] - 50)
    frame["Diabetes"] = np.where(rng.random(n) < 1 / (1 + np.exp(-logit)), "yes", "no")
    frame.to_csv(path, index=False)
    return frame


def test_real_valued_data_is_binarized_by_default(tmp_path, monkeypatch, capsys):
    from sk_riskscore import Monotonic
    from sk_riskscore.cli._commands import SCREENFUL

    _diabetes_like(tmp_path / "d.csv")
    monkeypatch.chdir(tmp_path)
    fit = ["fit", "d.csv", "--target", "Diabetes", "--max-features", "3", "--max-coef", "3",
           "--time-limit", "20", "-q"]
    assert main(fit) == 0
    out = capsys.readouterr().out
    card = out.split("\n\nstatus:")[0]
    assert card.startswith("Risk of Diabetes\n")
    assert "per unit" not in card and ">=" in card or "<" in card
    assert card.count("\n") < SCREENFUL
    assert "on 300 rows" in out and "event: Diabetes = yes" in out
    model = load_json(tmp_path / "model.json")
    assert hasattr(model, "steps")  # binarizer + classifier

    # show: the stored target name, status, gap, time, rows and features
    assert main(["show", "model.json"]) == 0
    shown = capsys.readouterr().out
    assert shown.startswith("Risk of Diabetes\n")
    for fragment in ("status: ", "optimality gap", "fitted in", "on 300 rows",
                     "features with points", "event: Diabetes = yes"):
        assert fragment in shown

    # a constraints file in variable names
    (tmp_path / "rules.yaml").write_text(
        "- kind: must_not_use\n  features: [Sex]\n"
        "- kind: monotonic\n  variable: BMI\n  direction: decreasing\n"
        "- kind: at_most\n  k: 1\n  features: [Age]\n")
    assert main([*fit, "--constraints", "rules.yaml", "-o", "c.json"]) == 0
    capsys.readouterr()
    constrained = load_json(tmp_path / "c.json")
    rules, points = constrained[0].rules_, constrained[-1].coef_[0]
    by_column = {}
    for rule, p in zip(rules, points):
        by_column.setdefault(rule.column, []).append((rule, p))
    assert all(p == 0 for _, p in by_column["Sex"])
    assert sum(p != 0 for _, p in by_column["Age"]) <= 1
    grid = np.linspace(10, 50, 401)
    bmi = sum(p * rule.apply(grid) for rule, p in by_column["BMI"])
    assert np.all(np.diff(bmi) <= 0), Monotonic("BMI", "decreasing")

    # --no-binarize: allowed, but the warning says what it does, in CLI words
    pd.read_csv("d.csv").drop(columns="Sex").to_csv("numeric.csv", index=False)
    assert main(["fit", "numeric.csv", "--target", "Diabetes", "--max-features", "1",
                 "--time-limit", "10", "-q", "--no-binarize", "-o", "raw.json"]) == 0
    err = capsys.readouterr().err
    assert "warning: columns 'BMI', 'Age' are not 0/1" in err
    assert "Drop --no-binarize" in err


def test_show_writes_a_one_page_pdf(work, tmp_path, monkeypatch, capsys):
    pytest.importorskip("matplotlib")
    root = work[0]
    monkeypatch.chdir(root)
    assert main(["show", "model.json", "--format", "pdf", "-o", str(tmp_path / "card.pdf")]) == 0
    data = (tmp_path / "card.pdf").read_bytes()
    assert data.startswith(b"%PDF-")
    import re

    assert len(re.findall(rb"/Type\s*/Page\b", data)) == 1


def test_library_messages_speak_cli():
    from sk_riskscore.cli._commands import _one_line_warnings, cli_words

    assert cli_words(
        "raise time_limit, reduce max_features or max_coef, or accept a larger "
        "gap_tolerance") == ("raise --time-limit, reduce --max-features or --max-coef, or "
                             "accept a larger --gap-tolerance")
    assert cli_words("found within time_limit=60 s") == "found within --time-limit 60 s"
    assert cli_words("raise time_limit, or use n_jobs=-1.") == (
        "raise --time-limit, or use --n-jobs -1.")
    assert cli_words("Binarize the features, e.g. with RiskScoreBinarizer in the Pipeline."
                     ) == "Binarize the features, e.g. with --binarize (the default)."
    assert cli_words("a column named c0 stays") == "a column named c0 stays"
    assert cli_words("far easier to prove: fit with calibrate_scale=False (points as "
                     "log-odds).") == ("far easier to prove: fit without --calibrate-scale "
                                       "(points as log-odds).")
    assert cli_words("or use calibrate_scale=False") == "or use no --calibrate-scale"
    import warnings

    stream = io.StringIO()
    with _one_line_warnings(), pytest.MonkeyPatch.context() as patch:
        patch.setattr(sys, "stderr", stream)
        warnings.warn("raise time_limit", UserWarning, stacklevel=1)
    assert stream.getvalue() == "sk-riskscore: warning: raise --time-limit\n"


@pytest.mark.slow
def test_mlflow_artifacts_go_beside_the_sqlite_store(work, demo, tmp_path, mlflow_in_process,
                                                     capsys):
    root, store = work[0], demo[0] / "mlflow.db"
    result = run_in_process(
        capsys, "fit", root / "mammo.csv", "--target", "Malignant", "--max-features", "2",
        "--max-coef", "3", "-q", "-o", tmp_path / "m.json", "--tracking-uri",
        f"sqlite:///{store}", "--experiment", "beside-the-store")
    assert result.returncode == 0, result.stderr
    from mlflow import MlflowClient

    experiment = MlflowClient(tracking_uri=f"sqlite:///{store}").get_experiment_by_name(
        "beside-the-store")
    assert experiment.artifact_location == (demo[0] / "mlartifacts").as_uri()
    assert not (tmp_path / "mlruns").exists()


def test_export_onnx_with_text_categories_uses_one_input_per_column(tmp_path, monkeypatch,
                                                                      capsys):
    import onnxruntime

    frame = _diabetes_like(tmp_path / "d.csv", n=200)
    monkeypatch.chdir(tmp_path)
    assert main(["fit", "d.csv", "--target", "Diabetes", "--max-features", "3",
                 "--max-coef", "3", "--time-limit", "10", "-q"]) == 0
    assert main(["export-onnx", "model.json"]) == 0
    out = capsys.readouterr().out
    assert "Sex (string)" in out and "BMI (float64)" in out
    model = load_json(tmp_path / "model.json")
    X = frame.drop(columns="Diabetes")
    session = onnxruntime.InferenceSession(str(tmp_path / "model.onnx"),
                                           providers=["CPUExecutionProvider"])
    feeds = {c: X[[c]].to_numpy(str if c == "Sex" else np.float64) for c in X.columns}
    labels, probabilities, scores = session.run(["label", "probabilities", "score"], feeds)
    np.testing.assert_array_equal(scores.ravel(), total_points(model, X))
    np.testing.assert_array_equal(labels.ravel(), model.predict(X))
    np.testing.assert_allclose(probabilities[:, 1], model.predict_proba(X)[:, 1], atol=1e-12)


def test_a_card_longer_than_a_screen_warns_in_cli_words(tmp_path, monkeypatch, capsys):
    """A real-valued column fitted with --no-binarize: points per unit give a
    score per value, and the warning says which option fixes it."""
    rng = np.random.default_rng(0)
    x = np.round(rng.uniform(0.05, 2.5, 400), 2)
    y = (rng.random(400) < 1 / (1 + np.exp(1.5 - 1.2 * x))).astype(int)
    pd.DataFrame({"pedigree": x, "y": y}).to_csv(tmp_path / "p.csv", index=False)
    monkeypatch.chdir(tmp_path)
    assert main(["fit", "p.csv", "--target", "y", "--time-limit", "10", "-q",
                 "--no-binarize"]) == 0
    err = capsys.readouterr().err.splitlines()
    assert err[0].startswith("sk-riskscore: warning: column 'pedigree' is not 0/1")
    assert err[-1].startswith("sk-riskscore: warning: the card is ")
    assert err[-1].endswith("more than a screen: drop --no-binarize so that numeric "
                            "columns become threshold rules.")


# ------------------------------------------------ missing and special values


def test_heloc_with_empty_cells_and_special_codes_end_to_end(tmp_path, monkeypatch, capsys):
    """fit, show, predict and export-onnx on HELOC rows with 5% empty cells and the
    codes -7, -8, -9; ONNX equals the saved model on every row, NaN rows included."""
    ort = pytest.importorskip("onnxruntime")
    X, y = load_heloc(nan_share=0.05, rows=1200, seed=1)
    X.assign(bad_credit=y).to_csv(tmp_path / "heloc.csv", index=False)
    assert ",," in (tmp_path / "heloc.csv").read_text()  # empty cells, not "nan"
    codes = [str(v) for v in HELOC_SPECIAL_VALUES]
    monkeypatch.chdir(tmp_path)
    # In-process (the console script is run by the tests above), and stopped by a node
    # limit before the time limit: nothing below depends on how good the model is.
    with node_limit(20):
        result = run_in_process(
            capsys, "fit", "heloc.csv", "--target", "bad_credit", "--binarize",
            "--special-values", *codes, "--max-features", "5", "--max-coef", "3",
            "--time-limit", "2", "-q")
    assert result.returncode == 0, result.stderr
    assert "status:" in result.stdout and "model saved to" in result.stdout
    model = load_json(tmp_path / "model.json")
    binarizer = model[0]
    assert binarizer.special_values == [-7.0, -8.0, -9.0]
    names = set(binarizer.get_feature_names_out())
    assert {"ExternalRiskEstimate is missing", "MSinceMostRecentDelq is -7"} <= names

    assert main(["show", "model.json", "--data", "heloc.csv", "--target", "bad_credit"]) == 0
    card = capsys.readouterr().out
    assert "OBSERVED" in card and "1200 rows" in card
    assert main(["predict", "model.json", "heloc.csv", "-o", "predictions.csv"]) == 0
    assert main(["export-onnx", "model.json", "-o", "model.onnx"]) == 0
    capsys.readouterr()

    frame = pd.read_csv(tmp_path / "heloc.csv").drop(columns="bad_credit")
    assert frame.isna().any(axis=1).mean() > 0.5
    predictions = pd.read_csv(tmp_path / "predictions.csv")
    np.testing.assert_array_equal(predictions["label"], model.predict(frame))
    np.testing.assert_allclose(predictions["risk"], model.predict_proba(frame)[:, 1],
                               rtol=0, atol=1e-15)
    session = ort.InferenceSession(str(tmp_path / "model.onnx"),
                                   providers=["CPUExecutionProvider"])
    label, proba, score = session.run(None, {"X": frame.to_numpy(np.float64)})
    np.testing.assert_array_equal(score, total_points(model, frame))
    assert score.dtype == np.int64  # a binarizer in front: whole points, bounded
    np.testing.assert_array_equal(label, model.predict(frame))
    np.testing.assert_allclose(proba, model.predict_proba(frame), rtol=0, atol=1e-12)
