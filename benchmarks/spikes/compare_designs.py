"""Design comparison: spike A (resolve loop) vs the shipped branch-and-bound.

    .venv/bin/python benchmarks/spikes/compare_designs.py

Part 1: the 100 random oracle problems of tests/test_solver_oracle.py against
brute-force enumeration. Part 2: the golden data sets
(|points| <= 5, at most 5 features, C0 = 1e-6).
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).parent))

from resolve_loop import resolve_loop  # noqa: E402

from sk_riskscore._solver import RiskScoreProblem, solve  # noqa: E402
from tests.test_solver_oracle import ground_truth, random_problem  # noqa: E402

DATA = ROOT.parent / "shared" / "data" / "riskslim"
GOLDEN = {"breastcancer": 0.11336464701598783, "mammo": 0.4685592313167107}


def oracle_part(backend):
    rows = []
    for seed in range(100):
        problem, truth = random_problem(seed), ground_truth(seed).objective
        t = time.perf_counter()
        loop = resolve_loop(problem, backend=backend, time_limit=60, gap_tolerance=1e-9)
        loop_s = time.perf_counter() - t
        t = time.perf_counter()
        bnb = solve(problem, backend=backend, time_limit=60, gap_tolerance=1e-9)
        bnb_s = time.perf_counter() - t
        rows.append(dict(
            loop_ok=abs(loop.objective - truth) <= 1e-9 and loop.optimal, loop_s=loop_s,
            bnb_ok=abs(bnb.objective - truth) <= 1e-9 and bnb.status.value == "optimal",
            bnb_s=bnb_s,
        ))
    frame = pd.DataFrame(rows)
    return (f"| {backend} | resolve loop | {frame.loop_ok.sum()}/100 | "
            f"{frame.loop_s.median():.3f} | {frame.loop_s.max():.2f} |\n"
            f"| {backend} | branch-and-bound | {frame.bnb_ok.sum()}/100 | "
            f"{frame.bnb_s.median():.3f} | {frame.bnb_s.max():.2f} |")


def golden_part(name, backend, limit):
    frame = pd.read_csv(DATA / f"{name}_data.csv")
    y = np.where(frame.iloc[:, 0].to_numpy() == 1, 1, -1)
    X = frame.iloc[:, 1:].to_numpy(float)
    n, d = X.shape
    problem = RiskScoreProblem(X, y, np.ones(n), np.full(d, -5), np.full(d, 5), -50, 50,
                               np.full(d, 1e-6), 0, 5)
    loop = resolve_loop(problem, backend=backend, time_limit=limit)
    bnb = solve(problem, backend=backend, time_limit=limit)
    gap = (loop.objective - loop.lower_bound) / loop.objective
    return (f"| {name} | {backend} | resolve loop | {loop.seconds:.1f} | {loop.objective:.10f} | "
            f"{gap:.1e} | {loop.rounds} rounds |\n"
            f"| {name} | {backend} | branch-and-bound | {bnb.statistics.time:.1f} | "
            f"{bnb.objective:.10f} | {bnb.gap:.1e} | {bnb.statistics.n_nodes} nodes |")


if __name__ == "__main__":
    print("| engine | design | optimum found and certified | median s | max s |")
    print("|---|---|---|---|---|")
    for backend in ("cbc", "highs"):
        print(oracle_part(backend), flush=True)
    print()
    print("| data | engine | design | seconds | objective | gap | work |")
    print("|---|---|---|---|---|---|---|")
    for name in GOLDEN:
        for backend in ("cbc", "highs"):
            print(golden_part(name, backend, 120), flush=True)
