"""``mlflow models serve`` of a registered risk score, over real HTTP on 127.0.0.1."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
import warnings
from types import SimpleNamespace

import numpy as np
import pytest
from sklearn.exceptions import ConvergenceWarning

mlflow = pytest.importorskip("mlflow")

import sk_riskscore_mlflow  # noqa: E402
from mlflow import MlflowClient  # noqa: E402

from sk_riskscore import RiskScoreClassifier  # noqa: E402

from .conftest import load_dataset  # noqa: E402

pytestmark = pytest.mark.serve

MODEL_NAME = "served-risk-score"
STARTUP_TIMEOUT = 120.0  # seconds; the server imports MLflow and loads the model


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def request(url, body, content_type="application/json"):
    """POST ``body``; return (HTTP status, decoded JSON or text)."""
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    req = urllib.request.Request(url, data=data, headers={"Content-Type": content_type})
    try:
        with urllib.request.urlopen(req, timeout=30) as response:
            status, text = response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        status, text = error.code, error.read().decode()
    try:
        return status, json.loads(text)
    except json.JSONDecodeError:
        return status, text


def wait_until_up(url, process, log_path):
    deadline = time.monotonic() + STARTUP_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"the model server exited with {process.returncode}:\n"
                        f"{log_path.read_text()[-3000:]}")
        try:
            with urllib.request.urlopen(f"{url}/ping", timeout=2) as response:
                if response.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        time.sleep(0.5)
    pytest.fail(f"the model server did not answer within {STARTUP_TIMEOUT:.0f} s:\n"
                f"{log_path.read_text()[-3000:]}")


def stop(process):
    """End the server and the workers it started (its own process group)."""
    if process.poll() is not None:
        return
    os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=15)


@pytest.fixture(scope="module")
def server(tmp_path_factory, mlflow_store):
    from mlflow.tracking._tracking_service import utils

    root = tmp_path_factory.mktemp("serve")
    tracking_uri = mlflow_store(root)
    X, y = load_dataset("mammo")
    X_train, y_train, X_test = X.iloc[:700], y.iloc[:700], X.iloc[700:]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model = RiskScoreClassifier(max_features=3, max_coef=3, time_limit=2).fit(
            X_train, y_train)

    previous = utils._tracking_uri
    mlflow.set_tracking_uri(tracking_uri)
    try:
        experiment_id = mlflow.create_experiment(
            "served", artifact_location=(root / "artifacts").as_uri())
        with mlflow.start_run(experiment_id=experiment_id):
            info = sk_riskscore_mlflow.log_model(
                model, name="served", input_example=X_train.head(3),
                registered_model_name=MODEL_NAME, pip_requirements=["sk-riskscore"],
            )
        MlflowClient().set_registered_model_alias(
            MODEL_NAME, "champion", info.registered_model_version)
        in_process = mlflow.pyfunc.load_model(f"models:/{MODEL_NAME}@champion")
    finally:
        mlflow.set_tracking_uri(previous)

    port = free_port()
    log_path = root / "server.log"
    # The server execs ``uvicorn``: find it next to this interpreter, as in an
    # activated virtualenv.
    scripts = os.path.dirname(sys.executable)
    env = {**os.environ, "MLFLOW_TRACKING_URI": tracking_uri,
           "PATH": scripts + os.pathsep + os.environ.get("PATH", "")}
    command = [sys.executable, "-m", "mlflow", "models", "serve",
               "-m", f"models:/{MODEL_NAME}@champion", "--env-manager", "local",
               "-h", "127.0.0.1", "-p", str(port), "-w", "1"]
    with open(log_path, "wb") as log:
        process = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT,
                                   start_new_session=True)
    try:
        url = f"http://127.0.0.1:{port}"
        wait_until_up(url, process, log_path)
        yield SimpleNamespace(url=url, invocations=f"{url}/invocations", model=model,
                              in_process=in_process, X=X_test, process=process)
    finally:
        stop(process)


def assert_same_frame(predictions, expected):
    assert [set(row) for row in predictions] == [{"score", "risk", "label"}] * len(
        expected)
    np.testing.assert_array_equal([row["score"] for row in predictions], expected["score"])
    np.testing.assert_array_equal([row["risk"] for row in predictions], expected["risk"])
    np.testing.assert_array_equal([row["label"] for row in predictions], expected["label"])


def test_dataframe_split_matches_in_process(server):
    X = server.X
    status, body = request(server.invocations,
                           {"dataframe_split": json.loads(X.to_json(orient="split"))})
    assert status == 200, body
    expected = server.in_process.predict(X.astype(float))  # the signature's type
    assert_same_frame(body["predictions"], expected)
    np.testing.assert_array_equal(expected["risk"], server.model.predict_proba(X)[:, 1])


def test_inputs_payload_matches_in_process(server):
    X = server.X.head(50)
    columns = {name: X[name].tolist() for name in X.columns}
    status, body = request(server.invocations, {"inputs": columns})
    assert status == 200, body
    assert_same_frame(body["predictions"], server.in_process.predict(X.astype(float)))


@pytest.mark.parametrize("output", ["label", "risk", "probability"])
def test_output_param_switches_to_one_column(server, output):
    X = server.X.head(20)
    status, body = request(server.invocations, {
        "dataframe_split": json.loads(X.to_json(orient="split")), "params": {"output": output},
    })
    assert status == 200, body
    expected = (server.model.predict(X) if output == "label"
                else server.model.predict_proba(X)[:, 1])
    np.testing.assert_array_equal(body["predictions"], expected)


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (b"{not json", "Invalid input"),
        ({"rows": [[1, 2, 3]]}, "dataframe_split"),
        ("drop-Density", "Density"),
        ("text-Density", "Density"),
        ({"dataframe_split": {"columns": ["Density"], "data": [[1, 2]]}},
         "not a valid dataframe"),
        ("bad-output", "output must be one of ['frame', 'label', 'risk']"),
        ("missing-values", "contains NaN"),
    ],
)
def test_malformed_requests_get_a_clear_4xx(server, body, expected):
    X = server.X.head(3)
    if body == "drop-Density":
        body = {"dataframe_split": json.loads(X.drop(columns="Density").to_json(orient="split"))}
    elif body == "text-Density":
        body = {"dataframe_split": json.loads(
            X.astype({"Density": object}).assign(Density="dense").to_json(orient="split"))}
    elif body == "bad-output":
        body = {"dataframe_split": json.loads(X.to_json(orient="split")),
                "params": {"output": "everything"}}
    elif body == "missing-values":
        body = {"dataframe_split": {"columns": list(X.columns), "data": [[None] * X.shape[1]]}}
    status, answer = request(server.invocations, body)
    assert 400 <= status < 500, answer
    message = answer.get("message", "") if isinstance(answer, dict) else answer
    assert message and expected in message
    assert server.process.poll() is None  # the server is still up
    with urllib.request.urlopen(f"{server.url}/ping", timeout=5) as response:
        assert response.status == 200


def test_fractional_values_are_not_truncated(server):
    # before: the signature said long (inferred from whole-number rows) and the
    # server turned 0.9 into 0 and 5.99 into 5, answering 200 for another row
    X = server.X.head(20).astype(float)
    used = X.columns[np.flatnonzero(server.model.coef_[0])]
    X[used] = X[used] * 0.9 + 0.09
    status, body = request(server.invocations,
                           {"dataframe_split": json.loads(X.to_json(orient="split"))})
    assert status == 200, body
    np.testing.assert_array_equal([row["risk"] for row in body["predictions"]],
                                  server.model.predict_proba(X)[:, 1])


def test_csv_input_matches_in_process(server):
    X = server.X.head(30)
    status, body = request(server.invocations, X.to_csv(index=False).encode(), "text/csv")
    assert status == 200, body
    assert_same_frame(body["predictions"], server.in_process.predict(X.astype(float)))


def test_errors_from_the_model_are_short_and_carry_no_stack_trace(server):
    X = server.X.astype(float)
    X.iloc[5, 0] = np.nan
    body = {"dataframe_split": json.loads(X.to_json(orient="split"))}
    status, answer = request(server.invocations, body)
    assert status == 400, answer
    assert "stack_trace" not in answer and "Traceback" not in answer["message"]
    # MLflow prefixes "Failed to predict data '<the frame's repr>'": pandas
    # abbreviates it, so the body stays far smaller than the request
    assert len(answer["message"]) < 5000 < len(json.dumps(body))
