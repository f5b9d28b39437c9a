"""Time to certify against the CPLEX reference (risk-slim master + CPLEX 22.2).

    .venv/bin/python benchmarks/bench_reference.py            # all four data sets
    .venv/bin/python benchmarks/bench_reference.py --quick    # breastcancer + mammo

Same settings as the reference: points in [-5, 5], at most 5 features,
c0 = 1e-6, intercept within +-50, all rows, unit weights, gap tolerance 1e-4.
Breastcancer and mammo run 7 times each (the machine's speed drifts: the
median, and the range), mushroom once, adult once with a
300 s limit. Also: doubling n by duplicating every row (fit time ratio).
The section "bench_reference" of RESULTS.md is replaced with the results.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from benchmarks._results import markdown_table, replace_section  # noqa: E402
from sk_riskscore._solver import RiskScoreProblem, solve  # noqa: E402

DATA = ROOT.parent / "shared" / "data" / "riskslim"
# Measured here: risk-slim master + CPLEX 22.2 Community Edition, one thread, 3 runs
# each, same settings as the golden problem; CPLEX's relative gap tolerance ~1e-4.
CPLEX = {
    "breastcancer": ("0.56-0.67", 0.11336464701598793, "9.5e-6"),
    "mammo": ("6.6-6.9", 0.46855923131671157, "9.4e-5"),
    "mushroom": ("155", 0.06869287661159862, "9.5e-5"),
    "adult": ("300 (limit)", 0.3840562351480868, "0.085"),
}
LIMITS = {"breastcancer": 60, "mammo": 60, "mushroom": 300, "adult": 300}


def problem(name, copies=1, max_features=5):
    """The golden problem on a data set (rows repeated ``copies`` times).

    |points| <= 5, at most 5 features, C0 = 1e-6, intercept within +-50.
    """
    frame = pd.read_csv(DATA / f"{name}_data.csv")
    X = np.tile(frame.iloc[:, 1:].to_numpy(float), (copies, 1))
    y = np.tile(np.where(frame.iloc[:, 0].to_numpy() == 1, 1, -1), copies)
    n, d = X.shape
    return RiskScoreProblem(X, y, np.ones(n), np.full(d, -5), np.full(d, 5), -50, 50,
                            np.full(d, 1e-6), 0, max_features)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    names = ["breastcancer", "mammo"] if args.quick else list(CPLEX)
    rows = []
    for name in names:
        runs = 7 if name in ("breastcancer", "mammo") else 1
        results = [solve(problem(name), time_limit=LIMITS[name]) for _ in range(runs)]
        times = [r.statistics.time for r in results]
        best = results[-1]
        cplex_s, cplex_obj, cplex_gap = CPLEX[name]
        rows.append({
            "data set": name,
            "wall s (median; range)": (f"{np.median(times):.2f}; {min(times):.2f}-{max(times):.2f}"
                                       if len(times) > 1 else f"{times[0]:.2f}"),
            "CPLEX wall s": cplex_s,
            "objective": f"{best.objective:.14f}",
            "CPLEX objective": f"{cplex_obj:.14f}",
            "gap": f"{best.gap:.1e}",
            "CPLEX gap": cplex_gap,
            "status": best.status.value,
            "nodes": best.statistics.n_nodes,
            "first incumbent s": f"{best.statistics.time_to_first_incumbent:.2f}",
        })
        print(rows[-1], flush=True)
    scaling = []
    for name in ("breastcancer", "mammo"):
        # interleaved, so drifts of the machine hit both sizes alike
        once, twice = problem(name), problem(name, copies=2)
        runs = [(solve(once, random_state=0), solve(twice, random_state=0)) for _ in range(7)]
        t1 = np.median([a.statistics.time for a, _ in runs])
        t2 = np.median([b.statistics.time for _, b in runs])
        a, b = runs[0]
        scaling.append({
            "data set": name, "n x1 s (median of 7)": f"{t1:.3f}",
            "n x2 (rows duplicated) s": f"{t2:.3f}", "ratio": f"{t2 / t1:.3f}",
            "nodes x1 / x2": f"{a.statistics.n_nodes} / {b.statistics.n_nodes}",
            "LP solves x1 / x2": f"{a.statistics.n_lp_solves} / {b.statistics.n_lp_solves}",
        })
        print(scaling[-1], flush=True)
    body = "\n".join([
        "Command: `python benchmarks/bench_reference.py" + (" --quick" if args.quick else "") + "`",
        "",
        "Points within [-5, 5], at most 5 features, C0 = 1e-6; CPLEX columns: risk-slim master + "
        "CPLEX 22.2, one thread, measured on the same machine type.",
        "",
        markdown_table(pd.DataFrame(rows)),
        "",
        "Doubling n by duplicating every row (the solver works on distinct rows):",
        "",
        markdown_table(pd.DataFrame(scaling)),
    ])
    replace_section("bench_reference", body)


if __name__ == "__main__":
    main()
