"""Recourse audit time for 10,000 people on a 5-rule card (target: under 1 s).

    .venv/bin/python benchmarks/bench_recourse.py            # 7 timed runs per case
    .venv/bin/python benchmarks/bench_recourse.py --runs 3

Cases (each the median of ``--runs`` calls after one warm-up call, on one CPU
with BLAS / OpenMP limited to one thread):

* ``synthetic``: a hand-made 5-rule card (two nested thresholds on ``a``, a
  ``<`` rule on ``b``, a category of ``c``, a threshold on ``e`` that moves
  with ``a`` through a link) on 10,000 random people, with unit costs and
  with percentile costs;
* ``heloc``: ``Pipeline(RiskScoreBinarizer, RiskScoreClassifier)`` fitted on
  the first 10,000 rows of ``../shared/data/real/heloc.csv`` (max_features=5,
  max_coef=5, 10 s; the card need not be proven optimal) under the action set
  of ``examples/recourse_audit_real.py``; skipped when the data are absent.

``audit_recourse`` is timed (per-person search, responsiveness, reason codes
and the texts of the actions), then ``recourse`` with two alternatives per
person. ``ip`` times the integer program on 200 people of the synthetic card
(per person) and checks that it finds the enumeration's costs. Results go to
stdout and replace the "bench_recourse" section of RESULTS.md.
"""

from __future__ import annotations

import os

for _variable in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_variable] = "1"
if hasattr(os, "sched_setaffinity"):
    os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})

import argparse  # noqa: E402
import statistics  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
import warnings  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from sklearn.exceptions import ConvergenceWarning  # noqa: E402
from sklearn.pipeline import Pipeline  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "examples"))
from benchmarks._results import markdown_table, replace_section  # noqa: E402
from sk_riskscore import (  # noqa: E402
    ActionSet,
    RiskScoreBinarizer,
    RiskScoreClassifier,
    audit_recourse,
    recourse,
)

COMMAND = ".venv/bin/python benchmarks/bench_recourse.py"
N = 10_000


def synthetic_card():
    binarizer = RiskScoreBinarizer.from_dict({
        "n_features_in": 4,
        "feature_names_in": ["a", "b", "c", "e"],
        "column_types": {"a": "numeric", "b": "numeric", "c": "categorical", "e": "numeric"},
        "categories": {"c": ["x", "y", "z"]},
        "rules": [
            {"column": "a", "operator": ">=", "threshold": 2.0, "name": "a >= 2"},
            {"column": "a", "operator": ">=", "threshold": 5.0, "name": "a >= 5"},
            {"column": "b", "operator": "<", "threshold": 3.0, "name": "b < 3"},
            {"column": "c", "operator": "==", "threshold": "x", "name": "c = x"},
            {"column": "e", "operator": ">=", "threshold": 10.0, "name": "e >= 10"},
        ],
    })
    classifier = RiskScoreClassifier()
    classifier.coef_ = np.array([[2, 1, 2, 2, -2]])
    classifier.intercept_ = np.array([-2])
    classifier.classes_ = np.array([0, 1])
    classifier.scale_ = 1.0
    classifier.n_features_in_ = 5
    model = Pipeline([("binarizer", binarizer), ("classifier", classifier)])
    rng = np.random.default_rng(0)
    X = pd.DataFrame({
        "a": rng.integers(0, 9, N).astype(float),
        "b": rng.integers(0, 9, N).astype(float),
        "c": rng.choice(["x", "y", "z"], N),
        "e": rng.integers(4, 14, N).astype(float),
    })
    unit = ActionSet.from_dict({"variables": {
        "a": {"direction": "decrease", "lower": 0, "step": 1,
              "links": [{"target": "e", "scale": 1.0}]},
        "b": {"direction": "increase", "upper": 10, "step": 1, "weight": 2},
        "c": {"categories": ["y", "z"], "weight": 3},
        "e": {"actionable": False},
    }})
    percentile = ActionSet.from_dict({"variables": {
        "a": {"direction": "any", "lower": 0, "upper": 10, "step": 1, "cost": "percentile",
              "links": [{"target": "e"}]},
        "b": {"direction": "increase", "upper": 10, "step": 1, "cost": "percentile"},
        "c": {"categories": ["y", "z"]},
        "e": {"actionable": False},
    }})
    return model, X, {"unit": unit, "percentile": percentile}


def heloc_card():
    path = ROOT.parent / "shared" / "data" / "real" / "heloc.csv"
    if not path.exists():
        return None
    import recourse_audit_real

    frame = pd.read_csv(path).head(N)
    y = frame.pop("bad_credit")
    model = recourse_audit_real.fit(frame, y, time_limit=10)
    return model, frame, ActionSet.from_dict(recourse_audit_real.HELOC_ACTIONS)


def median_seconds(function, runs):
    function()
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        function()
        times.append(time.perf_counter() - started)
    return statistics.median(times), min(times), max(times)


def main(argv=None):
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args(argv)
    rows = []

    def record(case, costs, call, model, X, actions, **options):
        median, low, high = median_seconds(lambda: call(model, X, actions, **options), args.runs)
        people = recourse(model, X, actions, n_alternatives=0).people
        rows.append({
            "card": case, "costs": costs, "call": call.__name__,
            "rules": int(np.count_nonzero(model[-1].coef_)),
            "people": len(X), "unfavourable": int((~people["favourable"]).sum()),
            "fixed": int((~people["reachable"]).sum()),
            "median_s": median, "min_s": low, "max_s": high,
        })
        print(rows[-1], flush=True)

    model, X, action_sets = synthetic_card()
    for costs, actions in action_sets.items():
        record("synthetic", costs, audit_recourse, model, X, actions)
        record("synthetic", costs, recourse, model, X, actions, n_alternatives=2)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        heloc = heloc_card()
    if heloc is not None:
        record("heloc", "percentile", audit_recourse, *heloc)
        record("heloc", "percentile", recourse, *heloc, n_alternatives=2)

    sample = X.head(200)
    started = time.perf_counter()
    by_ip = recourse(model, sample, action_sets["unit"], method="ip", n_alternatives=0).people
    ip_seconds = time.perf_counter() - started
    by_enumeration = recourse(model, sample, action_sets["unit"], method="enumerate",
                              n_alternatives=0).people
    agree = bool(np.allclose(by_ip["cost"], by_enumeration["cost"]))
    n_ip = int((~by_ip["favourable"]).sum())

    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT,
                            capture_output=True, text=True).stdout.strip()
    table = pd.DataFrame(rows)
    body = (
        f"Command: `{COMMAND} --runs {args.runs}` at commit {commit}; one CPU of the "
        "shared 2-core machine (other agents were running, so times are noisy).\n\n"
        "Seconds per call for 10,000 people (median, min and max of the timed runs "
        "after a warm-up). `audit_recourse` = cheapest action, responsiveness and reason "
        "codes per person plus the texts; `recourse` also finds 2 alternatives per "
        "person. Target: audit under 1 s for a 5-rule card.\n\n"
        f"{markdown_table(table, '.3g')}\n\n"
        f"Integer program (CBC) on the {n_ip} unfavourable people among 200 of the "
        f"synthetic card, unit costs: {ip_seconds:.2f} s "
        f"({1000 * ip_seconds / max(n_ip, 1):.1f} ms per person); same costs as "
        f"enumeration: {agree}. The audit uses enumeration whenever the product of the "
        "option counts of the blocks is at most 4096 (always on these cards)."
    )
    print(body)
    replace_section("bench_recourse", body)


if __name__ == "__main__":
    main()
