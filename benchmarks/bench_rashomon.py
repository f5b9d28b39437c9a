"""Rashomon sets on the RiskSLIM data: size, time to a proven complete set, multiplicity.

    .venv/bin/python benchmarks/bench_rashomon.py [--time-limit 60] [--data breastcancer,mammo]

Settings of REFERENCE.md section 2 (all rows, points in [-5, 5], at most 5
features, c0 = 1e-6, scale 1), epsilon in {0.5 %, 1 %, 5 %}, one run each with
``time_limit`` seconds (finding the optimum included). The measures are on the
training rows at threshold 0.5, against the optimal card. Replaces the
"bench_rashomon" section of RESULTS.md.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from benchmarks._results import markdown_table, replace_section  # noqa: E402
from sk_riskscore import RiskScoreClassifier, rashomon_set  # noqa: E402

DATA = Path("/work/shared/data/riskslim")
EPSILONS = (0.005, 0.01, 0.05)
MAX_MODELS = 20_000


def load(name: str):
    frame = pd.read_csv(DATA / f"{name}_data.csv")
    return frame.iloc[:, 1:], frame.iloc[:, 0]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--time-limit", type=float, default=60.0)
    parser.add_argument("--data", default="breastcancer,mammo,mushroom,adult")
    args = parser.parse_args()
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT,
                            capture_output=True, text=True).stdout.strip()
    dirty = subprocess.run(["git", "status", "--porcelain", "--", "sk_riskscore"], cwd=ROOT,
                           capture_output=True, text=True).stdout.strip()
    rows = []
    for name in args.data.split(","):
        X, y = load(name)
        for epsilon in EPSILONS:
            estimator = RiskScoreClassifier(max_features=5, max_coef=5, c0=1e-6)
            rset = rashomon_set(estimator, X, y, epsilon=epsilon, max_models=MAX_MODELS,
                                time_limit=args.time_limit)
            table = rset.multiplicity(X, threshold=0.5, delta=0.1)
            use = rset.feature_use()
            stats = rset.statistics_
            rows.append({
                "data": name,
                "epsilon": f"{100 * epsilon:g} %",
                "cards": len(rset),
                "complete": rset.complete_,
                "status": rset.status_ + (" (truncated)" if rset.truncated_ else ""),
                "s to complete set": stats.time if rset.complete_ else float("nan"),
                "s total": stats.time,
                "s to optimum": stats.time_to_optimum,
                "optimum": rset.optimum_,
                "lower bound": rset.lower_bound_,
                "nodes": stats.n_nodes,
                "cards evaluated": stats.n_evaluated,
                "ambiguity": table.loc["all", "ambiguity"],
                "discrepancy": table.loc["all", "discrepancy"],
                "mean range": table.loc["all", "mean_range"],
                "range > 10 pts": table.loc["all", "share_range_above"],
                "features used by some card": int((use["n_cards"] > 0).sum()),
            })
            print(pd.DataFrame(rows).tail(1).to_string(), flush=True)
            print(rset.summary(X), flush=True)
    frame = pd.DataFrame(rows)
    lines = [
        f"Command: `python benchmarks/bench_rashomon.py --time-limit {args.time_limit:g}` "
        f"on commit {commit}{' plus uncommitted changes' if dirty else ''}.",
        "",
        "REFERENCE section 2 settings: all rows, points in [-5, 5], at most 5 features, "
        f"c0 = 1e-6, scale 1; `time_limit={args.time_limit:g}` s per run (finding the "
        f"optimum included), max_models={MAX_MODELS}. `s to complete set` is blank when "
        "the set was not proven complete. Measures on the training rows, threshold 0.5, "
        "against the optimal card: ambiguity (share of people some card decides "
        "differently), discrepancy (largest share any one card flips), mean width of the "
        "risk ranges and the share of people whose range exceeds 10 points. One run each "
        "on a machine shared with other jobs (2 cores, several agents): times are noisy.",
        "",
        markdown_table(frame, float_format=".4g"),
    ]
    replace_section("bench_rashomon", "\n".join(lines))


if __name__ == "__main__":
    main()
