"""
=========================================
A score card from a binarizer pipeline
=========================================

Fit ``RiskScoreBinarizer -> RiskScoreClassifier`` on the mammographic mass
data, print the resulting score card, compute its metrics and draw its two
plots: risk by score (with observed event rates and row counts) and a
reliability diagram.

The PNG files are written to the directory named by the environment variable
``SK_RISKSCORE_EXAMPLES_OUTPUT`` (the current directory by default).
"""

import os
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # write files; no window needed

import matplotlib.pyplot as plt  # noqa: E402
from sklearn.pipeline import Pipeline  # noqa: E402

from sk_riskscore import (  # noqa: E402
    RiskScoreBinarizer,
    RiskScoreClassifier,
    ScoreCard,
    risk_score_metrics,
)
from sk_riskscore.datasets import load_mammo  # noqa: E402

output = Path(os.environ.get("SK_RISKSCORE_EXAMPLES_OUTPUT", "."))
output.mkdir(parents=True, exist_ok=True)

# %%
# Fit the pipeline. With pandas output the binarizer tells the classifier
# which thresholds are nested, so the card uses at most one per variable and
# direction.
X, y = load_mammo(return_X_y=True, as_frame=True)
model = Pipeline(
    [
        ("binarize", RiskScoreBinarizer(n_thresholds=3)),
        ("score", RiskScoreClassifier(max_features=4, max_coef=3, time_limit=20)),
    ]
).set_output(transform="pandas")
model.fit(X, y)

# %%
# The card, as text (``card.to_markdown()`` and ``card.to_html()`` give the
# same card for documents and notebooks).
card = ScoreCard.from_estimator(model, X, y)
print(card.to_text())

# %%
# Metrics of the risks, with the calibration error by score (CAL).
metrics = risk_score_metrics(
    y, model.predict_proba(X)[:, 1], scores=model.decision_function(X)
)
print({name: round(value, 4) for name, value in metrics.to_dict().items()})

# %%
# Risk by total score: the curve is the card's risk, circles the observed
# event rate (area grows with the number of rows), bars the row counts.
ax = card.plot_risk()
ax.figure.savefig(output / "scorecard_risk.png", dpi=100)

# %%
# Reliability diagram: one marker per score; on the diagonal the predicted
# risk equals the observed rate.
ax = card.plot_reliability()
ax.figure.savefig(output / "scorecard_reliability.png", dpi=100)
plt.close("all")
