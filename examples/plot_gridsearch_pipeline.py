"""
Choosing thresholds and size with GridSearchCV
==============================================

A :class:`~sk_riskscore.RiskScoreBinarizer` turns the 1-10 grades of the
breast cancer data into yes/no facts ("BareNuclei >= 4"), and a
:class:`~sk_riskscore.RiskScoreClassifier` gives them points. Both are
ordinary scikit-learn estimators, so cross-validation picks the number of
thresholds and of features.
"""

import matplotlib.pyplot as plt
import pandas as pd
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import GridSearchCV, train_test_split
from sklearn.pipeline import Pipeline

from sk_riskscore import RiskScoreBinarizer, RiskScoreClassifier, ScoreCard
from sk_riskscore.datasets import load_breastcancer

X, y = load_breastcancer(return_X_y=True, as_frame=True)
X_train, X_test, y_train, y_test = train_test_split(
    X, y, test_size=0.3, random_state=0, stratify=y
)

# %%
# The pipeline. Pandas output lets the binarizer tell the classifier which
# thresholds of one grade are nested, so the card uses at most one of them.
pipe = Pipeline([
    ("binarize", RiskScoreBinarizer(directions=">=")),
    ("score", RiskScoreClassifier(max_coef=3, time_limit=10, random_state=0)),
]).set_output(transform="pandas")

grid = GridSearchCV(
    pipe,
    {"binarize__n_thresholds": [1, 2], "score__max_features": [2, 3, 4]},
    cv=3,
    scoring="neg_log_loss",
)
grid.fit(X_train, y_train)
print("best:", grid.best_params_)

# %%
# Cross-validated log loss for each setting.
results = pd.DataFrame(grid.cv_results_)
table = results.pivot_table(
    index="param_score__max_features", columns="param_binarize__n_thresholds",
    values="mean_test_score",
)
print(-table.round(4))

fig, ax = plt.subplots(figsize=(5, 3))
for thresholds, column in (-table).items():
    ax.plot(column.index, column.values, marker="o", label=f"{thresholds} threshold(s)")
ax.set_xlabel("max_features")
ax.set_ylabel("cross-validated log loss")
ax.legend()
fig.tight_layout()

# %%
# The chosen model, refitted on all training rows, as a card with held-out
# event rates, and its held-out AUC.
best = grid.best_estimator_
print(ScoreCard.from_estimator(best, X_test, y_test).to_text())
print("test AUC:", round(roc_auc_score(y_test, best.predict_proba(X_test)[:, 1]), 3))
