"""Fit one heuristic peer in *its own* virtualenv; print a JSON result.

Run by benchmarks/bench_solver.py as
    <peer venv>/bin/python run_peer.py METHOD DATA.npz K MAX_POINTS
DATA.npz holds X (float, n x d) and y (0/1). The peers need packages that
cannot share an environment with ours (FasterRisk pins scikit-learn 1.2 and
NumPy 1; imodels needs numba), hence the subprocess.
"""

import json
import sys
import time

import numpy as np


def fit_imodels(X, y, k, max_points):
    from imodels import FastRiskScoreClassifier

    warm = time.perf_counter()
    FastRiskScoreClassifier(k=1, max_points=max_points, binarize=False).fit(X[:50], y[:50])
    compile_seconds = time.perf_counter() - warm
    start = time.perf_counter()
    model = FastRiskScoreClassifier(k=k, max_points=max_points, binarize=False).fit(X, y)
    seconds = time.perf_counter() - start
    # risk = sigmoid(scale * points.x + intercept)
    return dict(points=[int(p) for p in model.coef_], scale=1.0 / float(model.scale_),
                intercept=float(model.intercept_) / float(model.scale_), seconds=seconds,
                compile_seconds=compile_seconds)


def fit_fasterrisk(X, y, k, max_points):
    from fasterrisk.fasterrisk import RiskScoreOptimizer

    signs = np.where(y == 1, 1, -1)
    start = time.perf_counter()
    optimizer = RiskScoreOptimizer(X=X, y=signs, k=k, lb=-max_points, ub=max_points)
    optimizer.optimize()
    multipliers, intercepts, coefficients = optimizer.get_models()
    seconds = time.perf_counter() - start
    # risk = sigmoid((intercept + points.x) / multiplier), best model first
    return dict(points=[int(round(c)) for c in coefficients[0]], scale=float(multipliers[0]),
                intercept=float(intercepts[0]), seconds=seconds, compile_seconds=0.0)


def fit_fasterrisk_pool(X, y, k, max_points):
    """FasterRisk's whole "diverse pool": up to 50 cards (select_top_m) whose
    logistic loss, with their own multiplier, is within its gap_tolerance (5 %)
    of its best; best first.
    """
    from fasterrisk.fasterrisk import RiskScoreOptimizer

    signs = np.where(y == 1, 1, -1)
    start = time.perf_counter()
    optimizer = RiskScoreOptimizer(X=X, y=signs, k=k, lb=-max_points, ub=max_points)
    optimizer.optimize()
    multipliers, intercepts, coefficients = optimizer.get_models()
    seconds = time.perf_counter() - start
    return dict(pool=[[int(round(c)) for c in row] for row in np.atleast_2d(coefficients)],
                scales=[float(m) for m in np.atleast_1d(multipliers)],
                intercepts=[float(b) for b in np.atleast_1d(intercepts)], seconds=seconds)


if __name__ == "__main__":
    method, path, k, max_points = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
    data = np.load(path)
    fit = {"imodels": fit_imodels, "fasterrisk": fit_fasterrisk,
           "fasterrisk_pool": fit_fasterrisk_pool}[method]
    print(json.dumps(fit(data["X"].astype(float), data["y"].astype(int), k, max_points)))
