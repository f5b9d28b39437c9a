"""
===================================================
Every near-optimal score card: the Rashomon set
===================================================

Find every risk score within 5 % of the best one on the breast cancer data,
with a proof that none is missing, then measure how much these equally good
cards disagree about individual people: each person's range of risks, the
share of decisions some card would reverse (ambiguity), the largest share any
one card reverses (discrepancy), per group, and which features the cards use.

The PNG file is written to the directory named by the environment variable
``SK_RISKSCORE_EXAMPLES_OUTPUT`` (the current directory by default).
"""

import os
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # write files; no window needed

import matplotlib.pyplot as plt  # noqa: E402

from sk_riskscore import RiskScoreClassifier, ScoreCard, rashomon_set  # noqa: E402
from sk_riskscore.datasets import load_breastcancer  # noqa: E402

output = Path(os.environ.get("SK_RISKSCORE_EXAMPLES_OUTPUT", "."))
output.mkdir(parents=True, exist_ok=True)

# %%
# The set: every card with at most 3 features and points in [-3, 3] whose
# objective (log loss plus a tiny penalty per feature) is within 5 % of the
# optimum. ``complete_`` says whether the search proved that none is missing.
X, y = load_breastcancer(return_X_y=True, as_frame=True)
rset = rashomon_set(RiskScoreClassifier(max_features=3, max_coef=3), X, y,
                    epsilon=0.05, time_limit=30)
print(rset)
print(rset.summary(X))
print(rset.cards_.loc[:, (rset.cards_ != 0).any()].to_string())

# %%
# Multiplicity overall and per group (here: clump thickness above 5). A card
# decides "malignant" when its risk exceeds 50 %.
groups = (X["ClumpThickness"] > 5).map({True: "thick clump", False: "thin clump"})
print(rset.multiplicity(X, threshold=0.5, groups=groups.to_numpy()).round(3).to_string())

# %%
# Which features the cards use, and with how many points.
print(rset.feature_use().to_string())

# %%
# Every card is an ordinary fitted model: print the last one as a card.
print(ScoreCard.from_estimator(rset.to_classifier(len(rset) - 1), X, y).to_text())

# %%
# Each person's risk range over the set against the optimal card's risk.
ax = rset.plot_prediction_ranges(X)
ax.figure.savefig(output / "rashomon_ranges.png", dpi=100)
plt.close(ax.figure)
