"""Rows per second when scoring a fitted risk score, on one core.

    .venv/bin/python benchmarks/bench_serving.py           # batches of 1, 1k, 1M rows
    .venv/bin/python benchmarks/bench_serving.py --quick   # 1, 1k, 100k rows, shorter

Model: mammo (961 x 14), fitted alone and as Pipeline(RiskScoreBinarizer,
RiskScoreClassifier) with max_features=5, max_coef=5. Batches are rows of
mammo drawn with replacement (seed 0). Scorers:

* ``onnxruntime``: ``InferenceSession.run`` on the :func:`sk_riskscore.to_onnx`
  export (float64 input, all three outputs), one intra- and inter-op thread;
* ``numpy``: the estimator's ``predict_proba`` on a float64 array;
* ``pyfunc``: ``mlflow.pyfunc`` of the ``riskscore`` flavor (score,
  risk and label as a DataFrame, from a DataFrame);
* ``pyfunc-onnx``: ``mlflow.pyfunc`` of the ``mlflow.onnx`` model logged by
  ``sk_riskscore_mlflow._onnx.log_onnx_model`` (from a float64 array).

The process is pinned to one CPU and BLAS / OpenMP limited to one thread.
Each cell is the median over repeated calls (at least ``--seconds`` of work,
at least 3 calls). Results go to stdout and replace the "bench_serving"
section of RESULTS.md.
"""

from __future__ import annotations

import os

for _variable in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_variable] = "1"
if hasattr(os, "sched_setaffinity"):
    os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})

import argparse  # noqa: E402
import logging  # noqa: E402
import statistics  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
import warnings  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from sklearn.exceptions import ConvergenceWarning  # noqa: E402
from sklearn.pipeline import make_pipeline  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from benchmarks._results import replace_section  # noqa: E402
from sk_riskscore import RiskScoreClassifier, to_onnx  # noqa: E402
from sk_riskscore._binarizer import RiskScoreBinarizer  # noqa: E402
from sk_riskscore.datasets import load_mammo  # noqa: E402

COMMAND = ".venv/bin/python benchmarks/bench_serving.py"


def fit_models():
    X, y = load_mammo(return_X_y=True, as_frame=True)
    settings = dict(max_features=5, max_coef=5, time_limit=60, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        models = {
            "classifier": RiskScoreClassifier(**settings).fit(X, y),
            "pipeline": make_pipeline(RiskScoreBinarizer(), RiskScoreClassifier(**settings)).fit(
                X, y
            ),
        }
    return X, models


def make_scorers(model, columns, workdir: Path):
    """{name: function(float64 array) -> outputs} for one fitted model."""
    import mlflow
    import onnxruntime as ort
    import sk_riskscore_mlflow
    from sk_riskscore_mlflow._onnx import log_onnx_model

    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    options.inter_op_num_threads = 1
    session = ort.InferenceSession(
        to_onnx(model).SerializeToString(), options, providers=["CPUExecutionProvider"]
    )

    flavor_path = workdir / "riskscore"
    sk_riskscore_mlflow.save_model(model, flavor_path)
    flavor = mlflow.pyfunc.load_model(str(flavor_path))

    mlflow.set_tracking_uri(f"sqlite:///{workdir / 'mlflow.db'}")
    experiment = mlflow.create_experiment(
        "bench", artifact_location=(workdir / "artifacts").as_uri()
    )
    with mlflow.start_run(experiment_id=experiment):
        info = log_onnx_model(model, "bench_onnx")
    onnx_pyfunc = mlflow.pyfunc.load_model(info.model_uri)

    return {
        "onnxruntime": lambda X: session.run(None, {"X": X}),
        "numpy": lambda X: model.predict_proba(X),
        "pyfunc": lambda X: flavor.predict(pd.DataFrame(X, columns=columns)),
        "pyfunc-onnx": lambda X: onnx_pyfunc.predict(X),
    }


def rows_per_second(score, X, seconds: float) -> float:
    timings = []
    started = time.perf_counter()
    while len(timings) < 3 or time.perf_counter() - started < seconds:
        tic = time.perf_counter()
        score(X)
        timings.append(time.perf_counter() - tic)
        if len(timings) >= 100_000:
            break
    return len(X) / statistics.median(timings)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="largest batch 100k rows")
    parser.add_argument(
        "--seconds",
        type=float,
        default=1.0,
        help="least time spent per cell (default 1)",
    )
    parser.add_argument("--no-write", action="store_true", help="do not touch RESULTS.md")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    warnings.filterwarnings("ignore")

    batches = [1, 1_000, 100_000 if args.quick else 1_000_000]
    X, models = fit_models()
    rng = np.random.default_rng(0)
    data = X.to_numpy(np.float64)[rng.integers(0, len(X), max(batches))]
    columns = list(X.columns)

    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for model_name, model in models.items():
            workdir = Path(tmp) / model_name
            workdir.mkdir()
            scorers = make_scorers(model, columns, workdir)
            labels = scorers["onnxruntime"](data)[0]
            frame = pd.DataFrame(data, columns=columns)
            if not np.array_equal(labels, model.predict(frame)):
                raise SystemExit(f"{model_name}: ONNX labels differ from Python")
            for scorer_name, score in scorers.items():
                cells = []
                for batch in batches:
                    rate = rows_per_second(score, data[:batch], args.seconds)
                    cells.append(rate)
                    print(
                        f"{model_name:10s} {scorer_name:12s} batch {batch:>9,d}: "
                        f"{rate:>14,.0f} rows/s",
                        flush=True,
                    )
                rows.append((model_name, scorer_name, cells))

    header = "| model | scorer | " + " | ".join(f"batch {b:,}" for b in batches) + " |"
    table = [header, "|---|---|" + "---:|" * len(batches)]
    for model_name, scorer_name, cells in rows:
        table.append(
            f"| {model_name} | {scorer_name} | " + " | ".join(f"{c:,.0f}" for c in cells) + " |"
        )
    onnx_big = {m: c[-1] for m, s, c in rows if s == "onnxruntime"}
    verdict = ", ".join(
        f"{m} {rate / 1e6:.2f}M rows/s ({'meets' if rate >= 1e6 else 'misses'} the 1M target)"
        for m, rate in onnx_big.items()
    )
    body = (
        f"Command: `{COMMAND}{' --quick' if args.quick else ''}`\n\n"
        "Rows per second (median over repeated calls) scoring mammo rows drawn with "
        "replacement; one CPU (affinity), one BLAS / onnxruntime thread. "
        "`classifier` is RiskScoreClassifier alone, `pipeline` is RiskScoreBinarizer + "
        "RiskScoreClassifier (max_features=5, max_coef=5). onnxruntime returns label, "
        "probabilities and integer score; numpy is `predict_proba`; pyfunc is the "
        "`riskscore` MLflow flavor (score, risk, label frame from a DataFrame); "
        "pyfunc-onnx is the `mlflow.onnx` model from `log_onnx_model` (from an array). "
        "ONNX labels were checked equal to Python's on the largest batch. The 2-core "
        "machine may be shared with other jobs: single cells can vary by 2x between "
        "runs; compare orders of magnitude.\n\n"
        + "\n".join(table)
        + f"\n\nLargest-batch onnxruntime throughput: {verdict}.\n"
    )
    print()
    print(body)
    if not args.no_write:
        replace_section("bench_serving", body)


if __name__ == "__main__":
    main()
