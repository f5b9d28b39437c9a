"""The main job end to end, as run by ``sk-riskscore demo`` (and ``make demo``).

Fit a risk score on the bundled mammography data with live progress, print its
card, save it as JSON, log and register it in a local MLflow store (sqlite,
alias ``champion``), export it to ONNX, score a few rows through onnxruntime
and check them against Python, then say where everything went.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path

from .._io._atomic import write_atomically

__all__ = ["DemoResult", "run_demo"]

REGISTERED_NAME = "mammo-risk-score"
ALIAS = "champion"
EXPERIMENT = "sk-riskscore-demo"
_N_ONNX_ROWS = 5
_RISK_TOLERANCE = 1e-12


@dataclass(frozen=True)
class DemoResult:
    """Where the demo put everything."""

    output: Path
    model_file: Path
    card_files: tuple
    onnx_file: Path
    tracking_uri: str
    artifact_location: Path
    run_id: str
    registry_uri: str


def run_demo(output="demo_output", *, time_limit=30.0, stream=None) -> DemoResult:
    """Run the demo, writing every file under ``output`` and a report to ``stream``.

    Parameters
    ----------
    output : str or path-like, default="demo_output"
        Directory for the model, card, MLflow store and ONNX file (created).
    time_limit : float, default=30.0
        Seconds the fit may take.
    stream : text stream, default=sys.stdout
        Where the report goes; live progress goes to ``sys.stderr``.

    Returns
    -------
    DemoResult

    Raises
    ------
    RuntimeError
        If onnxruntime's predictions differ from Python's, or the model loaded
        back from the registry predicts differently.
    """
    import numpy as np
    from sklearn.model_selection import train_test_split

    from .._classifier import RiskScoreClassifier
    from .._io._envelope import save_json
    from .._scorecard import ScoreCard
    from ..datasets import load_mammo
    from ._plugin import log_to_mlflow

    out = sys.stdout if stream is None else stream

    def say(text=""):
        out.write(text + "\n")
        out.flush()

    output = Path(output).resolve()
    output.mkdir(parents=True, exist_ok=True)

    say("== 1. Data ==")
    X, y = load_mammo(return_X_y=True, as_frame=True)
    X_train, X_test, y_train, y_test = train_test_split(
        X, y, test_size=0.25, random_state=0, stratify=y
    )
    say(f"Mammographic mass (bundled, UCI; see sk_riskscore/datasets/README.md): "
        f"{len(X)} rows, {X.shape[1]} features, outcome {y.name!r}.")
    say(f"Train {len(X_train)} rows, test {len(X_test)} rows.")

    say()
    say(f"== 2. Fit a risk score (at most 5 features, points in -5..5, "
        f"time limit {time_limit:g} s) ==")
    model = RiskScoreClassifier(
        max_features=5, max_coef=5, time_limit=time_limit, random_state=0, verbose=1
    ).fit(X_train, y_train)
    say(f"status {model.status_}, optimality gap {model.optimality_gap_:.3%}, "
        f"objective {model.objective_:.6f}, proven lower bound {model.lower_bound_:.6f}")

    say()
    say("== 3. The card (observed rates on the test rows) ==")
    card = ScoreCard.from_estimator(model, X_test, y_test)
    say(card.to_text())
    model_file = save_json(model, output / "model.json")
    card_files = (output / "card.md", output / "card.html")
    write_atomically(card_files[0], (card.to_markdown() + "\n").encode("utf-8"))
    write_atomically(card_files[1], (card.to_html() + "\n").encode("utf-8"))

    say()
    say("== 4. MLflow: log, register, alias ==")
    tracking_uri = f"sqlite:///{output / 'mlflow.db'}"
    artifact_location = output / "mlartifacts"
    logged = log_to_mlflow(
        model, X_test, y_test,
        tracking_uri=tracking_uri,
        experiment=EXPERIMENT,
        artifact_location=str(artifact_location),
        registered_name=REGISTERED_NAME,
        alias=ALIAS,
        params={"data": "mammo (bundled)", "max_features": 5, "max_coef": 5,
                "time_limit": time_limit, "random_state": 0},
    )
    import sk_riskscore_mlflow

    served = sk_riskscore_mlflow.load_model(logged.registry_uri)
    if not np.array_equal(served.predict_proba(X_test), model.predict_proba(X_test)):
        raise RuntimeError(f"{logged.registry_uri} predicts differently from the fitted model")
    say(f"run {logged.run_id} in experiment {EXPERIMENT!r}")
    say(f"registered model: {logged.registry_uri} (version {logged.version}); loaded "
        "back from the registry, it predicts exactly as the fitted model")

    say()
    say(f"== 5. ONNX: export and score {_N_ONNX_ROWS} test rows with onnxruntime ==")
    onnx_file, table = _onnx_check(model, X_test.head(_N_ONNX_ROWS), output / "model.onnx")
    say(table)

    say()
    say("== Where everything went ==")
    for label, path in (
        ("model (JSON)", model_file),
        ("card", f"{card_files[0]}, {card_files[1]}"),
        ("ONNX model", onnx_file),
        ("MLflow store", output / "mlflow.db"),
        ("MLflow artifacts", artifact_location),
    ):
        say(f"  {label + ':':<18}{path}")
    say(f"  {'registered model:':<18}{logged.registry_uri}")
    say()
    say("Open the MLflow UI on it (then browse http://127.0.0.1:5000):")
    say(f"  {_installed('mlflow')} ui --backend-store-uri {tracking_uri} "
        f"--default-artifact-root {artifact_location}")
    say("Load the registered model in Python (the registry lives in that store, so set "
        "the tracking URI first):")
    say("  import mlflow, sk_riskscore_mlflow")
    say(f"  mlflow.set_tracking_uri({tracking_uri!r})")
    say(f"  model = sk_riskscore_mlflow.load_model({logged.registry_uri!r})")
    say("Use the model from the command line:")
    say(f"  {_installed('sk-riskscore')} show {model_file}")
    say(f"  {_installed('sk-riskscore')} predict {model_file} DATA.csv")
    return DemoResult(
        output=output,
        model_file=model_file,
        card_files=card_files,
        onnx_file=onnx_file,
        tracking_uri=tracking_uri,
        artifact_location=artifact_location,
        run_id=logged.run_id,
        registry_uri=logged.registry_uri,
    )


def _installed(command: str) -> str:
    """The command as installed beside this Python (e.g. ``.venv/bin/mlflow``), so
    the printed line works without activating the virtual environment.
    """
    path = Path(sys.executable).parent / command
    if not path.exists():
        return command
    try:
        return str(path.relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def _onnx_check(model, X, path):
    """Export, score ``X`` with onnxruntime, compare with Python; the table as text."""
    import numpy as np
    import onnxruntime

    from .._model import total_points
    from ..onnx import to_onnx

    write_atomically(path, to_onnx(model).SerializeToString())
    session = onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    labels, probabilities, scores = session.run(
        ["label", "probabilities", "score"], {"X": X.to_numpy(dtype=np.float64)}
    )
    python_scores = total_points(model, X)  # the card's score, as ONNX's
    python_risks = model.predict_proba(X)[:, 1]
    python_labels = model.predict(X)
    # Scores and labels are exact; onnxruntime's Sigmoid may differ from numpy's
    # exp in the last bit of a float64, so risks are compared to 1e-12.
    risk_difference = float(np.max(np.abs(probabilities[:, 1] - python_risks)))
    if not (
        np.array_equal(scores, python_scores)
        and np.array_equal(labels, python_labels)
        and risk_difference <= _RISK_TOLERANCE
    ):
        raise RuntimeError(
            "onnxruntime's predictions differ from Python's: scores "
            f"{scores.tolist()} vs {python_scores.tolist()}, risks "
            f"{probabilities[:, 1].tolist()} vs {python_risks.tolist()}"
        )
    lines = [f"{'row':>5} {'score py':>9} {'score onnx':>11} {'risk py':>20} "
             f"{'risk onnx':>20} {'label py':>9} {'label onnx':>11}"]
    for i in range(len(X)):
        lines.append(
            f"{X.index[i]:>5} {python_scores[i]:>9g} {scores[i]:>11} "
            f"{python_risks[i]:>20.17f} {probabilities[i, 1]:>20.17f} "
            f"{python_labels[i]!s:>9} {labels[i]!s:>11}"
        )
    lines.append(
        "ONNX predictions equal the Python ones: scores and labels identical, risks "
        f"within {risk_difference:.1e} (largest difference)"
    )
    return path, "\n".join(lines)
