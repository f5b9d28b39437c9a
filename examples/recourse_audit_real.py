"""
===========================================================
Recourse audit of COMPAS and HELOC risk scores (real data)
===========================================================

Fits a ``RiskScoreBinarizer -> RiskScoreClassifier`` risk score on ProPublica's
COMPAS data (two-year recidivism) and on FICO's HELOC data (bad credit), then
audits recourse under the action sets below: who, predicted to reoffend or to
default, can change that prediction by acting on what they control, at what
cost, and who cannot (fixed predictions), overall and per group.

Not run by the docs build (the data live outside the repository)::

    python examples/recourse_audit_real.py                # data in ../shared/data/real
    python examples/recourse_audit_real.py --data DIR --out DIR --time-limit 30

The action sets are written to ``<out>/compas_actions.yaml`` and
``<out>/heloc_actions.yaml`` and read back, so the same files serve the CLI.

**COMPAS** (favourable decision: not predicted to reoffend). Age only
increases (a person can wait, one year at a time); the count of prior offences
never decreases (it can only grow, one at a time); race, sex, juvenile
records and the current charge are immutable. Costs are percentile shifts
(Ustun et al.): moving age from the 40th to the 60th percentile of the data
costs 0.2. Race is not a feature of the model; it is the audit's group.

**HELOC** (favourable decision: not predicted bad credit). Balances and
utilisation can be reduced (revolving and instalment burden, trades with a
balance, percentage of trades with a balance, trades with high utilisation);
recent inquiries can only fall (count) or age (months since the last one);
credit history length only increases: the age of the oldest trade rises
month by month, and the average age of trades and the months since the most
recent trade rise with it (links). The special codes -7, -8 and -9 (no record,
not applicable, condition not met) are immutable: a person holding one
cannot change that variable, and the bounds (0 and up) keep actions out of
them. Everything else (the bureau's external risk estimate, delinquencies,
trade counts) is immutable. Costs are percentile shifts.
"""

from __future__ import annotations

import argparse
import logging
import time
import warnings
from pathlib import Path

import pandas as pd
from sklearn.exceptions import ConvergenceWarning
from sklearn.pipeline import Pipeline

from sk_riskscore import (
    ActionSet,
    RiskScoreBinarizer,
    RiskScoreClassifier,
    ScoreCard,
    audit_recourse,
)

ROOT = Path(__file__).resolve().parents[1]
SPECIAL = [-9, -8, -7]

COMPAS_ACTIONS = {
    "variables": {
        "age": {"direction": "increase", "step": 1, "upper": 100, "cost": "percentile"},
        "priors_count": {"direction": "increase", "step": 1, "cost": "percentile"},
        "sex": {"actionable": False},
        "race": {"actionable": False},
        "juv_fel_count": {"actionable": False},
        "juv_misd_count": {"actionable": False},
        "juv_other_count": {"actionable": False},
        "charge_degree": {"actionable": False},
    }
}


def _heloc_reduce(step=1, upper=None):
    settings = {"direction": "decrease", "lower": 0, "step": step, "cost": "percentile",
                "special_values": SPECIAL}
    if upper is not None:
        settings["upper"] = upper
    return settings


HELOC_ACTIONS = {
    "variables": {
        # balances and utilisation
        "NetFractionRevolvingBurden": _heloc_reduce(),
        "NetFractionInstallBurden": _heloc_reduce(),
        "NumRevolvingTradesWBalance": _heloc_reduce(),
        "NumInstallTradesWBalance": _heloc_reduce(),
        "PercentTradesWBalance": _heloc_reduce(upper=100),
        "NumBank2NatlTradesWHighUtilization": _heloc_reduce(),
        # recent inquiries
        "NumInqLast6M": _heloc_reduce(),
        "NumInqLast6Mexcl7days": _heloc_reduce(),
        "MSinceMostRecentInqexcl7days": {
            "direction": "increase", "lower": 0, "step": 1, "cost": "percentile",
            "special_values": SPECIAL},
        # history length: only increases, and the other ages rise with it
        "MSinceOldestTradeOpen": {
            "direction": "increase", "lower": 0, "step": 1, "cost": "percentile",
            "special_values": SPECIAL,
            "links": [{"target": "AverageMInFile", "scale": 1.0},
                      {"target": "MSinceMostRecentTradeOpen", "scale": 1.0}]},
        "AverageMInFile": {"actionable": False, "special_values": SPECIAL},
        "MSinceMostRecentTradeOpen": {"actionable": False, "special_values": SPECIAL},
    }
}


def fit(X, y, time_limit):
    model = Pipeline([
        ("binarizer", RiskScoreBinarizer(n_thresholds=3)),
        ("classifier", RiskScoreClassifier(max_features=5, max_coef=5, time_limit=time_limit,
                                           random_state=0)),
    ]).set_output(transform="pandas")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return model.fit(X, y)


def audit(name, frame, label, action_document, out, time_limit, group=None):
    y = frame[label]
    groups = frame[group] if group else None
    X = frame.drop(columns=[label] + ([group] if group else []))
    started = time.perf_counter()
    model = fit(X, y, time_limit)
    fitted = time.perf_counter() - started
    path = ActionSet.from_dict(action_document).to_file(out / f"{name}_actions.yaml")
    actions = ActionSet.from_file(path)
    started = time.perf_counter()
    report = audit_recourse(model, X, actions, groups=groups)
    seconds = time.perf_counter() - started
    classifier = model[-1]
    print(f"\n## {name}: {len(X)} rows, fit {fitted:.1f} s ({classifier.status_}, gap "
          f"{classifier.optimality_gap_:.2%}), audit {seconds:.2f} s\n")
    print(ScoreCard.from_estimator(model, X, y).to_text())
    print()
    print(report.to_markdown())
    fixed = report.fixed()
    print(f"\nFixed predictions: {len(fixed)} people; most common reasons without recourse:")
    print(fixed["reasons"].value_counts().head(5).to_string())
    reachable = report.to_frame()
    reachable = reachable[~reachable["favourable"] & reachable["reachable"]]
    print("\nCheapest actions (most common):")
    print(reachable["action"].value_counts().head(5).to_string())
    figure = report.plot()
    figure.savefig(out / f"{name}_recourse.png", dpi=100)
    report.to_frame().to_csv(out / f"{name}_recourse.csv")
    return report


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[1])
    parser.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data" / "real")
    parser.add_argument("--out", type=Path, default=Path("recourse_audit"))
    parser.add_argument("--time-limit", type=float, default=30.0)
    args = parser.parse_args(argv)
    import matplotlib

    matplotlib.use("Agg")
    args.out.mkdir(parents=True, exist_ok=True)
    logging.basicConfig(level=logging.WARNING)
    compas = pd.read_csv(args.data / "compas.csv")
    audit("compas", compas, "two_year_recid", COMPAS_ACTIONS, args.out, args.time_limit,
          group="race")
    heloc = pd.read_csv(args.data / "heloc.csv")
    audit("heloc", heloc, "bad_credit", HELOC_ACTIONS, args.out, args.time_limit)


if __name__ == "__main__":
    main()
