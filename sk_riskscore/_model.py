"""What every consumer of a fitted model needs: its parts, its names, its outputs.

The score card, the model file, ONNX, the CLI and the MLflow plugin all ask
the same questions of a fitted ``RiskScoreClassifier`` or of a ``Pipeline``
ending in one; they ask them here.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = [
    "OUTPUT_NAMES",
    "feature_names",
    "prediction_frame",
    "split_pipeline",
    "total_points",
    "whole_if_possible",
]

#: The three outputs of a risk score, everywhere (CLI, MLflow pyfunc, Spark,
#: ONNX): the ``score`` (the card's total points, without the intercept), the
#: ``risk`` (probability of ``classes_[1]``) and the predicted ``label``.
OUTPUT_NAMES = ("score", "risk", "label")


def split_pipeline(model):
    """``(preprocessing, final_estimator)`` of a model.

    For a ``Pipeline``, its steps before the last (a ``Pipeline``, or ``None``
    when there is only one step) and its last step; for anything else,
    ``(None, model)``. Callers check that the final estimator is the one they
    need.
    """
    steps = getattr(model, "steps", None)
    if not steps:
        return None, model
    return (model[:-1] if len(steps) > 1 else None), steps[-1][1]


def feature_names(names, n_features: int) -> list[str]:
    """The names a model gives its input columns: its own, or ``x0, x1, ...``.

    Parameters
    ----------
    names : array-like of str or None
        Typically ``getattr(estimator, "feature_names_in_", None)``.
    n_features : int
        Used when ``names`` is None.
    """
    if names is None:
        return [f"x{j}" for j in range(int(n_features))]
    return [str(name) for name in names]


#: Past 2**53 a float64 total is not exact to the unit, and int64 ends at 2**63:
#: such totals stay float64 rather than pretend to an exact integer (or wrap).
_EXACT_INTEGER = 2.0**53


def whole_if_possible(values) -> np.ndarray:
    """Values as int64 when all are whole numbers within +-2**53 (totals of
    binary or integer features), else float64: never a wrapped integer.
    """
    values = np.asarray(values, dtype=np.float64)
    if (np.all(np.abs(values) <= _EXACT_INTEGER)  # also False for NaN
            and np.all(values == np.round(values))):
        return values.astype(np.int64)
    return values


def total_points(model, X) -> np.ndarray:
    """The card's score of each row: the sum of its points, without the
    intercept (what a person adds up on the card), as float64.

    ``model`` is a fitted RiskScoreClassifier or a pipeline ending in one;
    ``model.decision_function(X)`` is this plus the classifier's intercept.
    """
    preprocessing, classifier = split_pipeline(model)
    if preprocessing is not None:
        X = preprocessing.transform(X)
    return classifier._total_points(X)


def prediction_frame(model, X, index=None) -> pd.DataFrame:
    """One row per row of ``X``: ``score``, ``risk`` and ``label`` (:data:`OUTPUT_NAMES`)."""
    score, risk, label = OUTPUT_NAMES
    return pd.DataFrame(
        {
            score: whole_if_possible(total_points(model, X)),
            risk: model.predict_proba(X)[:, 1],
            label: model.predict(X),
        },
        index=index,
    )
