"""
==============================================
Recourse audit: who can change the decision?
==============================================

Fit a ``RiskScoreBinarizer -> RiskScoreClassifier`` risk score of
reoffending on a synthetic, COMPAS-like frame, declare what people can
change (an action set), and audit recourse: who, predicted to reoffend, can
reach the favourable prediction by acting on what they control, at what
cost, and who has a *fixed prediction*. The data are made up (a real-data
run on COMPAS and HELOC is ``examples/recourse_audit_real.py``).

The PNG file is written to the directory named by the environment variable
``SK_RISKSCORE_EXAMPLES_OUTPUT`` (the current directory by default).
"""

import os
import warnings
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # write files; no window needed

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from sklearn.exceptions import ConvergenceWarning  # noqa: E402
from sklearn.pipeline import Pipeline  # noqa: E402

from sk_riskscore import (  # noqa: E402
    ActionSet,
    RiskScoreBinarizer,
    RiskScoreClassifier,
    ScoreCard,
    audit_recourse,
    recourse,
)

output = Path(os.environ.get("SK_RISKSCORE_EXAMPLES_OUTPUT", "."))
output.mkdir(parents=True, exist_ok=True)

# %%
# A COMPAS-like frame: age, prior offences, juvenile offences, the charge's
# degree and sex; ``group`` is an attribute the model does not read, kept for
# the audit. Younger people and people with more priors reoffend more often.
rng = np.random.default_rng(0)
n = 3000
group = rng.choice(["A", "B"], n, p=[0.6, 0.4])
age = np.clip(rng.gamma(4.0, 6.0, n) + 18 + 3 * (group == "B"), 18, 80).round()
priors = rng.poisson(np.where(group == "A", 3.0, 2.0))
juvenile = rng.poisson(0.3, n)
charge = rng.choice(["F", "M"], n, p=[0.65, 0.35])
sex = rng.choice(["Male", "Female"], n, p=[0.8, 0.2])
logit = (1.2 - 0.06 * (age - 18) + 0.25 * priors + 0.4 * juvenile + 0.3 * (charge == "F")
         + 0.3 * (sex == "Male") - 0.8)
reoffend = (rng.random(n) < 1 / (1 + np.exp(-logit))).astype(int)
X = pd.DataFrame({"sex": sex, "age": age, "juvenile_count": juvenile,
                  "priors_count": priors, "charge_degree": charge})

model = Pipeline([
    ("binarizer", RiskScoreBinarizer(n_thresholds=3)),
    ("classifier", RiskScoreClassifier(max_features=4, max_coef=3, time_limit=5,
                                       random_state=0)),
]).set_output(transform="pandas")
with warnings.catch_warnings():
    warnings.simplefilter("ignore", ConvergenceWarning)
    model.fit(X, reoffend)
print(ScoreCard.from_estimator(model, X, reoffend).to_text())

# %%
# The action set. Age only increases (waiting, a year at a time), priors
# never decrease, the juvenile record, the charge and sex are immutable.
# Costs are percentile shifts (Ustun et al.): moving age from the 40th to the
# 60th percentile of the data costs 0.2. The same document can live in a
# YAML or JSON file (``ActionSet.from_file``).
actions = ActionSet.from_dict({
    "variables": {
        "age": {"direction": "increase", "step": 1, "upper": 90, "cost": "percentile"},
        "priors_count": {"direction": "increase", "step": 1, "cost": "percentile"},
        "juvenile_count": {"actionable": False},
        "charge_degree": {"actionable": False},
        "sex": {"actionable": False},
    }
})

# %%
# Per person: the cheapest action, a few alternatives (a flipset) and the
# reason codes that the person can act on, ranked by responsiveness.
result = recourse(model, X, actions, n_alternatives=2)
denied = result.people[~result.people["favourable"]]
print(denied[["cost", "action", "reasons", "reasons_with_recourse"]].head(8).to_string())

# %%
# The audit: share with recourse, fixed predictions, cost, per group.
audit = audit_recourse(model, X, actions, groups=pd.Series(group, name="group"))
print(audit.summary().round(3).to_string())
print(audit.responsiveness().round(3).to_string())
print(f"{len(audit.fixed())} fixed predictions")

# %%
# Everyone predicted to reoffend can reach the favourable prediction, but
# only by growing older: age is the one responsive variable, and the
# juvenile record and priors are reasons without recourse. Within five years,
# many of them cannot: their predictions are fixed.
within_five_years = ActionSet.from_dict({
    "variables": {
        "age": {"direction": "increase", "step": 1, "max_change": 5,
                "cost": "percentile"},
        "priors_count": {"direction": "increase", "step": 1, "cost": "percentile"},
    }
})
soon = audit_recourse(model, X, within_five_years, groups=pd.Series(group, name="group"))
print(soon.summary()[["group", "value", "n_unfavourable", "recourse_share", "n_fixed"]]
      .round(3).to_string())
print(soon.fixed()["reasons"].value_counts().head().to_string())

figure = soon.plot()
figure.savefig(output / "recourse_audit.png", dpi=100)
