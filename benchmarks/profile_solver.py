"""Where the solver spends its time on the problems it does not certify quickly.

    .venv/bin/python benchmarks/profile_solver.py            # adult k=5, mammo k=10: 120 s each
    .venv/bin/python benchmarks/profile_solver.py --seconds 30

Runs the solver under cProfile and splits the wall time of ``solve`` by what
the branch-and-bound calls: the LP engine (python-mip), cut computation (the
loss oracle), cut insertion, heuristics, and its own bookkeeping. Replaces
the "profile_solver" section of RESULTS.md.
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import sys
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from benchmarks._results import markdown_table, replace_section  # noqa: E402
from benchmarks.bench_reference import problem  # noqa: E402
from sk_riskscore._solver import solve  # noqa: E402

BNB_MODULE = "_branch_and_bound.py"
# callee (file, function) -> the part of the solver it belongs to
PARTS = {
    ("_lp.py", "solve"): "LP solves (python-mip engine)",
    ("_lp.py", "add_planes"): "cut insertion",
    ("_lp.py", "add_cut"): "cut insertion",
    ("_lp.py", "purge_cuts"): "cut insertion",
    ("_lp.py", "set_bounds"): "LP bound changes",
    ("_lp.py", "set_theta_upper"): "LP bound changes",
    ("_loss.py", "loss_and_gradient"): "cut computation (loss oracle)",
    ("_loss.py", "loss"): "cut computation (loss oracle)",
    ("_beam.py", "beam_supports"): "heuristics",
}


def breakdown(stats: pstats.Stats) -> dict[str, float]:
    """Seconds per part: edges from the branch-and-bound module to the rest,
    plus the module's own time; nothing is counted twice.
    """
    parts: dict[str, float] = {}
    for (filename, _, function), (_, _, own, _, callers) in stats.stats.items():
        if filename.endswith(BNB_MODULE):
            parts["branch-and-bound bookkeeping"] = parts.get(
                "branch-and-bound bookkeeping", 0.0) + own
            continue
        from_bnb = sum(edge[3] for caller, edge in callers.items()
                       if caller[0].endswith(BNB_MODULE))
        if from_bnb:
            short = Path(filename).name
            part = PARTS.get((short, function))
            if part is None:
                if short == "_heuristics.py":
                    part = "heuristics"
                elif short.startswith("_") and short.endswith(".py") and "~" not in filename:
                    part = f"{short[1:-3]}: {function}"
                else:
                    part = "numpy and built-in calls"
            parts[part] = parts.get(part, 0.0) + from_bnb
    return parts


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=120.0)
    args = parser.parse_args()
    rows, summaries = [], []
    for name, k in (("adult", 5), ("mammo", 10)):
        profiler = cProfile.Profile()
        result = profiler.runcall(solve, problem(name, max_features=k), time_limit=args.seconds,
                                  random_state=0)
        stats = pstats.Stats(profiler)
        total = result.statistics.time
        parts = breakdown(stats)
        other = total - sum(parts.values())
        parts["setup, certificate, rest"] = max(other, 0.0)
        s = result.statistics
        summaries.append(
            f"* {name}, k={k}: {s.n_nodes} nodes, {s.n_lp_solves} LP solves "
            f"({1000 * parts.get('LP solves (python-mip engine)', 0.0) / max(s.n_lp_solves, 1):.2f}"
            f" ms each), {s.n_cuts} cuts, status {result.status.value}, "
            f"gap {result.gap:.2%}, objective {result.objective:.10f}."
        )
        small = sum(v for v in parts.values() if v < 0.01 * total)
        parts = {part: v for part, v in parts.items() if v >= 0.01 * total}
        parts["everything under 1 % each"] = small
        for part, seconds in sorted(parts.items(), key=lambda item: -item[1]):
            rows.append({"problem": f"{name} k={k}", "part": part,
                         "seconds": f"{seconds:.1f}", "share": f"{seconds / total:.0%}"})
        print(summaries[-1], flush=True)
    body = "\n".join([
        "Command: `python benchmarks/profile_solver.py"
        + (f" --seconds {args.seconds:g}" if args.seconds != 120 else "") + "`",
        "",
        f"cProfile of `solve` (points in [-5, 5], c0 = 1e-6, {args.seconds:g} s limit; "
        "profiling overhead included). Time split by what the branch-and-bound calls.",
        "",
        *summaries,
        "",
        markdown_table(pd.DataFrame(rows)),
    ])
    replace_section("profile_solver", body)


if __name__ == "__main__":
    main()
