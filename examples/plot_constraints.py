"""
Operational constraints: a score clinicians agree to use
========================================================

A model that is best on paper may still be refused: it uses an odd mix of
age thresholds, or gives negative points that make a card hard to add up.
Constraints state such requirements, and the solver honours them *exactly*
while still certifying optimality among the models that satisfy them.
"""

import matplotlib.pyplot as plt
import numpy as np
import yaml

from sk_riskscore import (
    AtMost,
    MustUse,
    RiskScoreClassifier,
    ScoreCard,
    constraints_from_dict,
)
from sk_riskscore.datasets import load_mammo

X, y = load_mammo(return_X_y=True, as_frame=True)
ages = ["Age_lt_30", "Age_geq_30", "Age_geq_45", "Age_geq_60"]

# %%
# Without constraints: the best score with at most four features.
free = RiskScoreClassifier(max_features=4, max_coef=4, random_state=0).fit(X, y)
print(ScoreCard.from_estimator(free, X, y).to_text())

# %%
# The clinic's requirements: breast density must be on the card, at most one
# age threshold, and only positive points (every feature adds risk), set by
# per-feature point bounds.
constraints = [MustUse("Density"), AtMost(1, ages)]
positive = {name: (0, 4) for name in X.columns}
agreed = RiskScoreClassifier(
    max_features=4, max_coef=4, constraints=constraints, coef_bounds=positive,
    random_state=0,
).fit(X, y)
print(ScoreCard.from_estimator(agreed, X, y).to_text())

# %%
# Every requirement holds, and the certificate is for the constrained
# problem: no model meeting the requirements does better.
points = dict(zip(X.columns, agreed.coef_[0]))
assert points["Density"] != 0
assert sum(points[a] != 0 for a in ages) <= 1
assert min(points.values()) >= 0
print(f"status {agreed.status_}, gap {agreed.optimality_gap_:.3%}")

# %%
# The price of the requirements, in training log loss per row (the objective
# also counts a tiny penalty per feature used).
fig, ax = plt.subplots(figsize=(5, 2.5))
names = ["unconstrained", "with requirements"]
values = [free.objective_, agreed.objective_]
ax.barh(names, values, color=["tab:gray", "tab:blue"])
ax.set_xlim(min(values) * 0.95, max(values) * 1.02)
ax.set_xlabel("objective (mean log loss + penalty)")
for i, value in enumerate(values):
    ax.text(value, i, f" {value:.4f}", va="center")
fig.tight_layout()

# %%
# The same constraints as a file (YAML or JSON), as the command line reads
# them with ``sk-riskscore fit ... --constraints rules.yaml``.
rules = yaml.safe_load("""
- kind: must_use
  features: [Density]
- kind: at_most
  k: 1
  features: [Age_lt_30, Age_geq_30, Age_geq_45, Age_geq_60]
""")
assert constraints_from_dict(rules) == constraints

# %%
# Requirements that contradict each other are found before solving, and the
# error names the ones in conflict.
try:
    RiskScoreClassifier(
        max_features=2, constraints=[MustUse(["Density", "IrregularShape", "Age_geq_60"])]
    ).fit(X, y)
except ValueError as error:
    print(error)

# %%
# Predictions follow the constrained points as usual.
print(np.round(agreed.predict_proba(X.head(3))[:, 1], 3))
