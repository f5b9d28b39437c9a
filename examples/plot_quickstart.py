"""
Quickstart: a risk score for breast cancer biopsies
===================================================

Fit a certifiably optimal risk score on the bundled Wisconsin breast cancer
data, read its certificate, print the card, check the risk formula by hand,
measure it on held-out rows, and save it as plain JSON.
"""

import os
import tempfile
from pathlib import Path

import numpy as np
from sklearn.model_selection import train_test_split

from sk_riskscore import (
    RiskScoreClassifier,
    ScoreCard,
    load_json,
    risk_score_metrics,
    save_json,
)
from sk_riskscore.datasets import load_breastcancer

output = Path(os.environ.get("SK_RISKSCORE_EXAMPLES_OUTPUT") or tempfile.mkdtemp())

# %%
# The data: 683 biopsies, nine cytology features graded 1 to 10, and whether
# the tumour was malignant. A quarter of the rows is kept aside.
X, y = load_breastcancer(return_X_y=True, as_frame=True)
X_train, X_test, y_train, y_test = train_test_split(
    X, y, test_size=0.25, random_state=0, stratify=y
)
print(X.shape, "malignant:", f"{y.mean():.1%}")

# %%
# Fit: at most five features, each with an integer number of points between
# -5 and 5. ``verbose=1`` would show the solver's progress live.
clf = RiskScoreClassifier(max_features=5, max_coef=5, time_limit=60, random_state=0)
clf.fit(X_train, y_train)

# %%
# The certificate: the model found, a proven lower bound on the objective of
# *every* admissible model, and the relative gap between them. A gap below
# ``gap_tolerance`` (1e-4) makes the status ``"optimal"``.
print("status:", clf.status_)
print(f"objective {clf.objective_:.6f}, lower bound {clf.lower_bound_:.6f}, "
      f"gap {clf.optimality_gap_:.4%}")
print("intercept:", int(clf.intercept_[0]))
print({name: int(p) for name, p in zip(X.columns, clf.coef_[0]) if p})

# %%
# The card, as it would be printed for the clinic; the risk table lists each
# total score with the observed rate among the held-out rows.
card = ScoreCard.from_estimator(clf, X_test, y_test)
print(card.to_text())

# %%
# The risk is the logistic function of the total score: nothing hidden.
scores = X_test.to_numpy() @ clf.coef_[0] + clf.intercept_[0]
risk = 1 / (1 + np.exp(-scores))
assert np.allclose(risk, clf.predict_proba(X_test)[:, 1])
assert np.array_equal(scores, clf.decision_function(X_test))

# %%
# How good is it on rows it has not seen?
metrics = risk_score_metrics(y_test, risk, scores=scores)
print({name: round(value, 3) for name, value in metrics.to_dict().items()})

# %%
# Risk by total score on the held-out rows: the curve is the model's risk,
# the circles the observed event rates (their area grows with the row count).
ax = card.plot_risk()

# %%
# A saved risk score is a small, readable JSON file (no pickle): load it
# anywhere sk-riskscore is installed and it predicts exactly as before.
path = save_json(clf, output / "breastcancer_risk_score.json")
loaded = load_json(path)
assert np.array_equal(loaded.predict_proba(X_test), clf.predict_proba(X_test))
print(path.name, f"{path.stat().st_size} bytes")
