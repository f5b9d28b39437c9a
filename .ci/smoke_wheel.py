"""Smoke test of an installed sk-riskscore wheel (run by .ci/smoke_wheel.sh).

Run it with the fresh venv's interpreter, in isolated mode (``python -I``),
from a directory outside the source tree: every import must then come from
the installed wheel. It fits a tiny model on a bundled data set, saves and
loads it as JSON, exports it to ONNX, runs the ``sk-riskscore`` console script
(by its name on PATH, so the module behind it may move) and checks the
plugin's MLflow entry point. Exits non-zero with one line on the first failure.
"""

from __future__ import annotations

import csv
import importlib.metadata as metadata
import subprocess
import sys
import sysconfig
from pathlib import Path

import numpy as np


def check(condition, message):
    """Stop the smoke test with ``message`` unless ``condition`` holds."""
    if not condition:
        sys.exit(f"smoke: FAILED: {message}")


def step(message):
    """Report one passed check."""
    print(f"smoke: ok  {message}", flush=True)


def close(a, b, atol=1e-12):
    """Equal up to float64 rounding."""
    return np.allclose(np.asarray(a, dtype=float), np.asarray(b, dtype=float), rtol=0, atol=atol)


def main(workdir: Path) -> None:
    """Run every check in ``workdir`` (outside the source tree)."""
    import sk_riskscore
    from sk_riskscore import RiskScoreClassifier, load_json, save_json, to_onnx
    from sk_riskscore.datasets import load_breastcancer, load_mammo

    purelib = Path(sysconfig.get_paths()["purelib"]).resolve()
    where = Path(sk_riskscore.__file__).resolve()
    check(purelib in where.parents, f"sk_riskscore imported from {where}, not from {purelib}")
    installed = metadata.version("sk-riskscore")
    check(installed == sk_riskscore.__version__,
          f"wheel metadata says {installed}, sk_riskscore.__version__ {sk_riskscore.__version__}")
    step(f"sk-riskscore {installed} imported from the wheel ({where.parent})")

    # Data sets: the CSV files are package data of the wheel.
    X, y = load_breastcancer(return_X_y=True, as_frame=True)
    mammo = load_mammo(as_frame=True)
    check(X.shape == (683, 9) and mammo.frame.shape == (961, 15),
          f"bundled data sets have shapes {X.shape}, {mammo.frame.shape}")
    step("bundled data sets load (breastcancer 683x9, mammo 961x14 + target)")

    # Fit, JSON round trip.
    clf = RiskScoreClassifier(max_features=3, max_coef=3, time_limit=30, random_state=0)
    clf.fit(X, y)
    path = workdir / "model.json"
    save_json(clf, path)
    loaded = load_json(path)
    check(np.array_equal(loaded.predict(X), clf.predict(X)), "JSON round trip changed predict")
    check(np.array_equal(loaded.predict_proba(X), clf.predict_proba(X)),
          "JSON round trip changed predict_proba")
    step(f"fit ({clf.status_}, {np.count_nonzero(clf.coef_)} features), "
         "save_json/load_json give equal predictions")

    # ONNX: onnxruntime agrees with Python.
    import onnxruntime

    model = to_onnx(clf)
    session = onnxruntime.InferenceSession(
        model.SerializeToString(), providers=["CPUExecutionProvider"]
    )
    outputs = dict(zip((o.name for o in session.get_outputs()),
                       session.run(None, {session.get_inputs()[0].name: X.to_numpy(np.float64)})))
    # The probability output's spelling may change (issue 22): match its prefix.
    probability = next(v for k, v in outputs.items() if k.startswith("prob"))
    check(np.array_equal(outputs["label"].ravel(), clf.predict(X)), "ONNX labels differ")
    probability = np.asarray(probability)
    check(close(probability if probability.ndim == 2 else np.c_[1 - probability, probability],
                clf.predict_proba(X)), "ONNX probabilities differ from predict_proba")
    # "score" is the card's total of points: decision_function less the intercept
    points = clf.decision_function(X) - clf.intercept_
    check(close(outputs["score"].ravel(), points), "ONNX scores differ from the card's points")
    step(f"ONNX export: onnxruntime {onnxruntime.__version__} matches Python "
         f"on {len(X)} rows (outputs {sorted(outputs)})")

    # The console script, by name, on a small CSV.
    data = workdir / "mammo.csv"
    mammo.frame.head(300).to_csv(data, index=False)
    cli_model = workdir / "cli_model.json"
    scores = workdir / "scores.csv"

    def cli(*args):
        done = subprocess.run(["sk-riskscore", *map(str, args)], capture_output=True, text=True)
        check(done.returncode == 0,
              f"sk-riskscore {' '.join(map(str, args))} exited {done.returncode}: "
              f"{done.stderr.strip()[-500:]}")
        return done.stdout

    version = cli("--version").strip()
    check(version == f"sk-riskscore {installed}", f"sk-riskscore --version printed {version!r}")
    cli("fit", data, "--target", mammo.target_name, "--max-features", 3, "--max-coef", 3,
        "--time-limit", 30, "-q", "-o", cli_model)
    card = cli("show", cli_model)
    check(card.strip(), "sk-riskscore show printed nothing")
    cli("predict", cli_model, data, "-o", scores)
    with scores.open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    from_file = load_json(cli_model)
    expected = from_file.predict_proba(mammo.frame.head(300).drop(columns=mammo.target_name))
    # The risk column is spelled "risk" today; issue 22 may rename it "probability".
    column = next(c for c in ("probability", "risk") if c in rows[0])
    check(len(rows) == 300 and close([float(r[column]) for r in rows], expected[:, 1], atol=1e-9),
          f"sk-riskscore predict's {column!r} column differs from predict_proba")
    step(f"console script: --version, fit, show ({len(card.splitlines())} lines), "
         f"predict (300 rows, column {column!r} = predict_proba)")

    # The MLflow plugin is in the wheel and registered as an evaluator.
    entries = [e for e in metadata.entry_points(group="mlflow.model_evaluator")
               if e.name == "riskscore"]
    check(len(entries) == 1,
          f"{len(entries)} entry points 'riskscore' in group 'mlflow.model_evaluator', not 1")
    (entry,) = entries
    from mlflow.models.evaluation import ModelEvaluator

    evaluator = entry.load()
    check(isinstance(evaluator, type) and issubclass(evaluator, ModelEvaluator),
          f"entry point {entry.value} is not a ModelEvaluator")
    step(f"entry point mlflow.model_evaluator:riskscore -> {entry.value} loads")
    print("smoke: all checks passed", flush=True)


if __name__ == "__main__":
    main(Path.cwd())
