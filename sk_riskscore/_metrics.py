"""Metrics of a risk score: discrimination, accuracy and calibration by score."""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd
from sklearn.exceptions import UndefinedMetricWarning
from sklearn.metrics import brier_score_loss, log_loss, roc_auc_score
from sklearn.utils.validation import column_or_1d

__all__ = ["RiskScoreMetrics", "risk_score_metrics"]


@dataclass(frozen=True)
class RiskScoreMetrics:
    """How well predicted risks match outcomes; see :func:`risk_score_metrics`.

    Attributes
    ----------
    auc : float
        Area under the ROC curve (NaN when only one class is present).
    brier : float
        Mean squared difference between risk and outcome (0 is perfect).
    log_loss : float
        Mean negative log-likelihood of the outcomes.
    calibration_error : float
        CAL of the RiskSLIM paper: the mean, over distinct scores weighted by
        their number of rows, of ``|predicted risk - observed event rate|``.
    n_samples : int
        Number of rows scored.
    by_score : pandas.DataFrame
        One row per distinct score (or distinct risk when no scores were
        given), ascending: ``score`` (only with scores), ``count``,
        ``events``, ``observed`` (event rate) and ``predicted`` (mean risk).
        ``count`` and ``events`` are sums of weights when weights are given.
    """

    auc: float
    brier: float
    log_loss: float
    calibration_error: float
    n_samples: int
    by_score: pd.DataFrame

    def to_dict(self) -> dict:
        """The scalar metrics as plain floats, e.g. for ``mlflow.log_metrics``."""
        return {
            "auc": float(self.auc),
            "brier": float(self.brier),
            "log_loss": float(self.log_loss),
            "calibration_error": float(self.calibration_error),
        }


def risk_score_metrics(
    y_true, risk, *, scores=None, sample_weight=None, pos_label=None
):
    """AUC, Brier score, log loss and calibration error by score of predicted risks.

    Parameters
    ----------
    y_true : array-like of shape (n_samples,)
        Observed outcomes, two labels at most.
    risk : array-like of shape (n_samples,)
        Predicted probability of the event ``pos_label``, e.g.
        ``clf.predict_proba(X)[:, 1]``.
    scores : array-like of shape (n_samples,), default=None
        Total score of each row (e.g. ``clf.decision_function(X)``). Rows are
        grouped by score for ``by_score`` and the calibration error; without
        scores they are grouped by distinct risk, which is the same for a
        risk score because the risk is a function of the score.
    sample_weight : array-like of shape (n_samples,), default=None
        Non-negative row weights.
    pos_label : int, float, bool or str, default=None
        The event label. Needed unless the labels are {0, 1}, {-1, 1} or
        {False, True}, where the event is 1 (True).

    Returns
    -------
    metrics : RiskScoreMetrics

    Examples
    --------
    >>> from sk_riskscore import risk_score_metrics
    >>> metrics = risk_score_metrics([0, 0, 1, 1], [0.1, 0.4, 0.4, 0.8],
    ...                              scores=[-2, 0, 0, 1])
    >>> round(metrics.auc, 3), round(metrics.calibration_error, 3)
    (0.875, 0.125)
    >>> metrics.by_score
       score  count  events  observed  predicted
    0     -2    1.0     0.0       0.0        0.1
    1      0    2.0     1.0       0.5        0.4
    2      1    1.0     1.0       1.0        0.8
    """
    y_true = column_or_1d(y_true)
    risk = _as_float_vector(risk, "risk")
    if len(y_true) != len(risk):
        raise ValueError(
            f"y_true has {len(y_true)} rows but risk has {len(risk)}; pass one risk "
            "per row."
        )
    if len(risk) == 0:
        raise ValueError("risk_score_metrics needs at least one row; got none.")
    if np.any((risk < 0) | (risk > 1)):
        raise ValueError(
            f"risk must be probabilities in [0, 1]; got values from {risk.min():g} to "
            f"{risk.max():g}. Pass predict_proba(X)[:, 1], not decision_function(X)."
        )
    events = _events(y_true, pos_label)
    weights = _weights(sample_weight, risk)
    if scores is not None:
        scores = _as_float_vector(scores, "scores")
        if len(scores) != len(risk):
            raise ValueError(
                f"scores has {len(scores)} rows but risk has {len(risk)}; pass one "
                "score "
                "per row."
            )

    if events.min() == events.max():
        warnings.warn(
            "Only one class is present in y_true, so the AUC is undefined (NaN).",
            UndefinedMetricWarning,
            stacklevel=2,
        )
        auc = math.nan
    else:
        auc = float(roc_auc_score(events, risk, sample_weight=weights))
    brier = float(brier_score_loss(events, risk, sample_weight=weights, pos_label=1))
    loss = float(log_loss(events, risk, sample_weight=weights, labels=[0, 1]))
    by_score = _by_score(events, risk, scores, weights)
    calibration = float(
        np.sum(by_score["count"] * np.abs(by_score["predicted"] - by_score["observed"]))
        / by_score["count"].sum()
    )
    return RiskScoreMetrics(
        auc=auc,
        brier=brier,
        log_loss=loss,
        calibration_error=calibration,
        n_samples=int(len(risk)),
        by_score=by_score,
    )


def _by_score(events, risk, scores, weights) -> pd.DataFrame:
    key = "score" if scores is not None else "predicted"
    frame = pd.DataFrame(
        {
            key: scores if scores is not None else risk,
            "count": weights,
            "events": weights * events,
            "weighted_risk": weights * risk,
        }
    )
    grouped = frame.groupby(key, sort=True).sum()
    grouped = grouped[grouped["count"] > 0]
    out = pd.DataFrame(
        {
            "count": grouped["count"].to_numpy(),
            "events": grouped["events"].to_numpy(),
            "observed": (grouped["events"] / grouped["count"]).to_numpy(),
            "predicted": (grouped["weighted_risk"] / grouped["count"]).to_numpy(),
        }
    )
    if scores is not None:
        values = grouped.index.to_numpy(dtype=np.float64)
        whole = np.all(values == np.round(values))
        out.insert(0, "score", values.astype(np.int64) if whole else values)
    else:
        out["predicted"] = grouped.index.to_numpy(dtype=np.float64)
    return out


def _events(y_true, pos_label) -> np.ndarray:
    labels = np.unique(y_true)
    if len(labels) > 2:
        raise ValueError(
            f"y_true must hold two labels at most (event or not); got {len(labels)}: "
            f"{labels.tolist()[:10]}"
        )
    if pos_label is None:
        label_set = set(labels.tolist())
        if label_set <= {0, 1} or label_set <= {-1, 1}:
            pos_label = 1
        else:
            raise ValueError(
                f"y_true has the labels {labels.tolist()}; say which one is the event "
                f"with pos_label=, e.g. pos_label={labels.tolist()[-1]!r}."
            )
    elif len(labels) == 2 and pos_label not in labels.tolist():
        raise ValueError(
            f"pos_label={pos_label!r} is not one of the labels in y_true: "
            f"{labels.tolist()}"
        )
    return (y_true == pos_label).astype(np.float64)


def _as_float_vector(values, name) -> np.ndarray:
    try:
        out = column_or_1d(np.asarray(values), dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{name} must be a 1-D array of numbers: {exc}") from None
    if not np.all(np.isfinite(out)):
        raise ValueError(
            f"{name} holds {int(np.sum(~np.isfinite(out)))} NaN or infinite "
            "value(s); every row needs a finite value."
        )
    return out


def _weights(sample_weight, risk) -> np.ndarray:
    if sample_weight is None:
        return np.ones(len(risk))
    weights = _as_float_vector(sample_weight, "sample_weight")
    if len(weights) != len(risk):
        raise ValueError(
            f"sample_weight has {len(weights)} rows but risk has {len(risk)}; pass one "
            "weight per row."
        )
    if np.any(weights < 0):
        raise ValueError("sample_weight must be finite and non-negative.")
    if weights.sum() <= 0:
        raise ValueError("sample_weight sums to zero; at least one row needs weight.")
    return weights
