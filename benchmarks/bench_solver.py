"""Our certified solver against the heuristic peers, measured in one run.

    .venv/bin/python benchmarks/bench_solver.py            # everything (about an hour)
    .venv/bin/python benchmarks/bench_solver.py --quick    # breastcancer + mammo only
    .venv/bin/python benchmarks/bench_solver.py --data mammo --cv-only   # one part

Peers (each in its own virtualenv under benchmarks/.venvs, created on first
use): imodels' FastRiskScoreClassifier, FasterRisk, and L1-logistic
regression rounded to integers (in-process). Every method gets the same
features (no extra binarisation), at most k features, points in [-5, 5].

Per data set and k, on an 80/20 split (seed 0): fit seconds, our objective
(loss at scale 1 + c0 * L0) of each method's points, our certified gap,
train / test AUC and log loss with each method's own risk mapping (the peers
fit a real scale on the score, and imodels a real intercept too), the same
with a fitted scale for us, and train log loss at scale 1 for everyone (the
peers' points with their best integer intercept). Then 5-fold CV AUC.
Results go to stdout and replace the "bench_solver" section of RESULTS.md.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import log_loss, roc_auc_score
from sklearn.model_selection import StratifiedKFold, train_test_split

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from benchmarks._results import markdown_table, replace_section  # noqa: E402
from sk_riskscore import RiskScoreClassifier  # noqa: E402

DATA = ROOT.parent / "shared" / "data" / "riskslim"
VENVS = ROOT / "benchmarks" / ".venvs"
PEER_PACKAGES = {
    "imodels": ["imodels==3.0.4", "six", "numba"],
    "fasterrisk": ["fasterrisk==0.1.10"],
}
MAX_POINTS = 5
C0 = 1e-6
TIME_LIMITS = {"breastcancer": 60, "mammo": 60, "mushroom": 300, "adult": 300}
CV_TIME_LIMIT = 60


def load(name):
    frame = pd.read_csv(DATA / f"{name}_data.csv")
    return frame.iloc[:, 1:].to_numpy(float), frame.iloc[:, 0].to_numpy(int)


def ensure_venv(method):
    python = VENVS / method / "bin" / "python"
    if not python.exists():
        subprocess.run([sys.executable, "-m", "venv", str(VENVS / method)], check=True)
        subprocess.run([str(python), "-m", "pip", "install", "-q", *PEER_PACKAGES[method]],
                       check=True)
    return python


def run_peer(method, X, y, k):
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "train.npz"
        np.savez(path, X=X, y=y)
        out = subprocess.run(
            [str(ensure_venv(method)), str(ROOT / "benchmarks" / "peers" / "run_peer.py"),
             method, str(path), str(k), str(MAX_POINTS)],
            check=True, capture_output=True, text=True,
        )
    return json.loads(out.stdout.strip().splitlines()[-1])


def fitted_risk(points, intercept, scale, X):
    """Risk under a fitted scale: ``1 / (1 + exp(-(X @ points + intercept) / scale))``.

    The mapping of a peer's fit (``run_peer``'s points, intercept and scale)
    and of ours with ``calibrate_scale=True`` (``coef_``, ``intercept_``,
    ``scale_``).
    """
    return 1 / (1 + np.exp(-(X @ np.asarray(points, dtype=float) + intercept) / scale))


def fitted_logloss(points, intercept, scale, X, y):
    """Training log loss of :func:`fitted_risk`, computed from the margins
    (``log(1 + exp(-y (X @ points + intercept) / scale))``, y in {0, 1} or
    {-1, 1}), so that risks rounding to 0 or 1 do not clip.
    """
    signs = np.where(np.asarray(y) == 1, 1.0, -1.0)
    margins = (X @ np.asarray(points, dtype=float) + intercept) / scale
    return float(np.logaddexp(0, -signs * margins).mean())


def peer_fitted_logloss(peer, X, y):
    """Training log loss of a peer's fit (``run_peer``) with its own scale and intercept."""
    return fitted_logloss(peer["points"], peer["intercept"], peer["scale"], X, y)


def ours_fitted_logloss(clf, X, y):
    """Training log loss of our fit with its ``scale_`` and ``intercept_``
    (``predict_proba``'s mapping, from the margins).
    """
    return fitted_logloss(clf.coef_[0], float(clf.intercept_[0]), clf.scale_, X, y)


def best_integer_intercept(score, y):
    """The integer intercept minimising the log loss of ``score + b`` (scale 1)."""
    signs = np.where(y == 1, 1.0, -1.0)
    candidates = np.arange(-60, 61)
    losses = [np.logaddexp(0, -signs * (score + b)).mean() for b in candidates]
    return int(candidates[int(np.argmin(losses))])


def l1_rounded(X, y, k):
    """L1-logistic regression along its path, coefficients clipped and rounded;
    of the rounded models with <= k features, the one with the best scale-1 loss.
    """
    best, best_objective = np.zeros(X.shape[1], dtype=int), np.inf
    for C in np.logspace(-4, 1, 40):
        lr = LogisticRegression(l1_ratio=1.0, C=C, solver="liblinear", max_iter=2000).fit(X, y)
        points = np.round(np.clip(lr.coef_[0], -MAX_POINTS, MAX_POINTS)).astype(int)
        if np.count_nonzero(points) <= k:
            objective, _ = scale1_metrics(points, X, y)
            if objective < best_objective:
                best, best_objective = points, objective
    return best


def scale1_metrics(points, X, y):
    score = X @ points
    b = best_integer_intercept(score, y)
    signs = np.where(y == 1, 1.0, -1.0)
    loss = float(np.logaddexp(0, -signs * (score + b)).mean())
    return loss + C0 * np.count_nonzero(points), b


def evaluate(name, k):
    X, y = load(name)
    Xtr, Xte, ytr, yte = train_test_split(X, y, test_size=0.2, random_state=0)
    rows = []

    def row(method, points, proba_train, proba_test, seconds, **extra):
        objective, _ = scale1_metrics(points, Xtr, ytr)
        rows.append(dict(
            data=name, k=k, method=method, fit_s=seconds, objective_scale1=objective,
            train_auc=roc_auc_score(ytr, proba_train), test_auc=roc_auc_score(yte, proba_test),
            train_logloss=log_loss(ytr, proba_train), test_logloss=log_loss(yte, proba_test),
            **extra,
        ))

    def ours(label, time_limit, **params):
        clf = RiskScoreClassifier(max_features=k, max_coef=MAX_POINTS, c0=C0,
                                  time_limit=time_limit, random_state=0, **params)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            start = time.perf_counter()
            clf.fit(Xtr, ytr)
            seconds = time.perf_counter() - start
        stats = clf.solver_statistics_
        row(label, clf.coef_[0], clf.predict_proba(Xtr)[:, 1], clf.predict_proba(Xte)[:, 1],
            seconds, gap=clf.optimality_gap_, status=clf.status_, scale=clf.scale_,
            first_incumbent_s=stats.time_to_first_incumbent)

    peers = {}
    for method in ("imodels", "fasterrisk"):
        fit = peers[method] = run_peer(method, Xtr, ytr, k)
        points = np.array(fit["points"])
        risk = [fitted_risk(points, fit["intercept"], fit["scale"], A) for A in (Xtr, Xte)]
        row(method, points, *risk, fit["seconds"], compile_s=fit["compile_seconds"])

    ours("sk-riskscore (scale 1)", TIME_LIMITS[name])
    ours("sk-riskscore (calibrate_scale)", TIME_LIMITS[name], calibrate_scale=True)
    # the same, stopped when FasterRisk (the slower peer) is done
    budget = max(peers["fasterrisk"]["seconds"], 1.0)
    ours(f"sk-riskscore (scale 1, {budget:.1f} s = FasterRisk's time)", budget)
    ours(f"sk-riskscore (calibrate_scale, {budget:.1f} s)", budget, calibrate_scale=True)

    start = time.perf_counter()
    points = l1_rounded(Xtr, ytr, k)
    seconds = time.perf_counter() - start
    _, b = scale1_metrics(points, Xtr, ytr)

    def rounded_risk(A):
        return 1 / (1 + np.exp(-(A @ points + b)))

    row("L1-logistic rounded", points, rounded_risk(Xtr), rounded_risk(Xte), seconds)
    return rows


def cv_auc(name, k):
    X, y = load(name)
    out = {}
    folds = list(StratifiedKFold(5, shuffle=True, random_state=0).split(X, y))
    for label, calibrate in (("sk-riskscore", False),
                             ("sk-riskscore (calibrate_scale)", True)):
        aucs = []
        for train, test in folds:
            clf = RiskScoreClassifier(max_features=k, max_coef=MAX_POINTS, c0=C0,
                                      time_limit=CV_TIME_LIMIT, calibrate_scale=calibrate)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", ConvergenceWarning)
                clf.fit(X[train], y[train])
            aucs.append(roc_auc_score(y[test], clf.decision_function(X[test])))
        out[label] = aucs
    for method in ("imodels", "fasterrisk"):
        aucs = []
        for train, test in folds:
            points = np.array(run_peer(method, X[train], y[train], k)["points"])
            aucs.append(roc_auc_score(y[test], X[test] @ points))
        out[method] = aucs
    aucs = []
    for train, test in folds:
        aucs.append(roc_auc_score(y[test], X[test] @ l1_rounded(X[train], y[train], k)))
    out["L1-logistic rounded"] = aucs
    return {m: (float(np.mean(v)), float(np.std(v))) for m, v in out.items()}


def like_with_like(frame):
    """Per data set and k: best peer train log loss vs our calibrated fits."""
    rows = []
    for (name, k), group in frame.groupby(["data", "k"], sort=False):
        by_method = group.set_index("method")["train_logloss"]
        peers = by_method[["imodels", "fasterrisk"]]
        best = float(peers.min())
        full = float(by_method["sk-riskscore (calibrate_scale)"])
        timed = [m for m in by_method.index if m.startswith("sk-riskscore (calibrate_scale, ")]
        short = float(by_method[timed[0]]) if timed else float("nan")
        rows.append({
            "data": name, "k": k, "best peer": peers.idxmin(), "peer logloss": best,
            "ours (full)": full, "ours vs peer % (full)": 100 * (full / best - 1),
            "ours (FasterRisk's time)": short,
            "ours vs peer % (FasterRisk's time)": 100 * (short / best - 1),
        })
    return pd.DataFrame(rows)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--no-cv", action="store_true")
    parser.add_argument("--cv-only", action="store_true",
                        help="only the cross-validated AUC section")
    parser.add_argument("--data", nargs="+", choices=list(TIME_LIMITS),
                        help="only these data sets (results go to the section "
                        "bench_solver_partial, leaving the full run's alone)")
    parser.add_argument("--k", nargs="+", type=int, default=[5, 10])
    args = parser.parse_args()
    names = ["breastcancer", "mammo"]
    if not args.quick:
        names += ["mushroom", "adult"]
    partial = args.data is not None or args.k != [5, 10]
    names = args.data or names
    if not args.cv_only:
        write_split_results(names, args, partial)
    if not args.no_cv:
        write_cv_results(names, args, partial)


def write_split_results(names, args, partial):
    rows = []
    for name in names:
        for k in args.k:
            rows.extend(evaluate(name, k))
            print(pd.DataFrame(rows).tail(5).to_string(), flush=True)
    frame = pd.DataFrame(rows)
    lines = [
        "Command: `" + " ".join(["python", "benchmarks/bench_solver.py", *sys.argv[1:]]) + "`",
        "",
        "80/20 split (seed 0), points in [-5, 5], c0 = 1e-6, time limits "
        + ", ".join(f"{k} {v} s" for k, v in TIME_LIMITS.items() if k in names) + ".",
        "`objective_scale1`: loss at scale 1 + c0 L0 of each method's points with the best "
        "integer intercept (our objective; lower is better). Log losses use each method's "
        "own risk mapping (peers: fitted real scale; imodels also a real intercept; "
        "ours with calibrate_scale: fitted scale and real intercept).",
        "",
        markdown_table(frame),
        "",
        "Fitted-scale target: our calibrated training log loss against the best peer's, "
        "with our full time limit and with FasterRisk's time (`+` = worse than the best "
        "peer, in %):",
        "",
        markdown_table(like_with_like(frame), float_format=".6g"),
    ]
    replace_section("bench_solver_partial" if partial else "bench_solver", "\n".join(lines))


def write_cv_results(names, args, partial):
    lines = [
        "Command: `" + " ".join(["python", "benchmarks/bench_solver.py", *sys.argv[1:]]) + "`",
        "",
        f"5-fold CV test AUC of the score (mean +- sd; our time limit {CV_TIME_LIMIT} s "
        "per fold, scale 1 and calibrate_scale):",
        "",
    ]
    cv_rows = []
    for name in names:
        for k in args.k:
            for method, (mean, sd) in cv_auc(name, k).items():
                cv_rows.append(dict(data=name, k=k, method=method,
                                    cv_auc=f"{mean:.4f} +- {sd:.4f}"))
            print(pd.DataFrame(cv_rows).tail(4).to_string(), flush=True)
    lines.append(markdown_table(pd.DataFrame(cv_rows)))
    replace_section("bench_solver_cv_partial" if partial else "bench_solver_cv",
                    "\n".join(lines))


if __name__ == "__main__":
    main()
