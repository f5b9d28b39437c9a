"""risk_score_metrics against scikit-learn and against hand computations."""

from __future__ import annotations

import itertools
import json
import math

import numpy as np
import pandas as pd
import pytest
from sklearn.exceptions import UndefinedMetricWarning
from sklearn.metrics import brier_score_loss, log_loss, roc_auc_score

from sk_riskscore import RiskScoreMetrics, risk_score_metrics


def risk_score_data(rng, n=500):
    scores = rng.integers(-4, 5, size=n).astype(float)
    risk = 1 / (1 + np.exp(-scores / 1.5))
    y = (rng.random(n) < 1 / (1 + np.exp(-scores))).astype(int)
    return y, risk, scores


def test_matches_sklearn(rng):
    y, risk, scores = risk_score_data(rng)
    weights = rng.uniform(0.2, 3.0, size=len(y))
    for sample_weight in (None, weights):
        metrics = risk_score_metrics(
            y, risk, scores=scores, sample_weight=sample_weight
        )
        assert isinstance(metrics, RiskScoreMetrics)
        assert metrics.auc == pytest.approx(
            roc_auc_score(y, risk, sample_weight=sample_weight)
        )
        assert metrics.brier == pytest.approx(
            brier_score_loss(y, risk, sample_weight=sample_weight)
        )
        assert metrics.log_loss == pytest.approx(
            log_loss(y, risk, sample_weight=sample_weight)
        )
        assert metrics.n_samples == len(y)


def test_auc_by_counting_pairs(rng):
    y, risk, _ = risk_score_data(rng, n=120)
    positives, negatives = risk[y == 1], risk[y == 0]
    wins = sum(
        (p > q) + 0.5 * (p == q) for p, q in itertools.product(positives, negatives)
    )
    assert risk_score_metrics(y, risk).auc == pytest.approx(
        wins / (len(positives) * len(negatives))
    )


def test_calibration_error_by_hand(rng):
    y, risk, scores = risk_score_data(rng)
    total = 0.0
    for score in np.unique(scores):
        rows = scores == score
        total += rows.sum() * abs(risk[rows].mean() - y[rows].mean())
    expected = total / len(y)
    metrics = risk_score_metrics(y, risk, scores=scores)
    assert metrics.calibration_error == pytest.approx(expected)
    # Grouping by distinct risk is the same when the risk is a function of the score.
    assert risk_score_metrics(y, risk).calibration_error == pytest.approx(expected)


def test_weighted_calibration_error_by_hand():
    y = np.array([0, 1, 1, 0, 1])
    risk = np.array([0.2, 0.2, 0.7, 0.7, 0.7])
    weights = np.array([3.0, 1.0, 2.0, 2.0, 0.0])
    # Score A: weight 4, observed 1/4, predicted 0.2; score B: weight 4, observed 2/4.
    expected = (4 * abs(0.2 - 0.25) + 4 * abs(0.7 - 0.5)) / 8
    metrics = risk_score_metrics(y, risk, scores=[1, 1, 2, 2, 2], sample_weight=weights)
    assert metrics.calibration_error == pytest.approx(expected)


def test_by_score_equals_a_groupby(rng):
    y, risk, scores = risk_score_data(rng)
    by_score = risk_score_metrics(y, risk, scores=scores).by_score
    frame = pd.DataFrame({"score": scores, "y": y, "risk": risk})
    expected = frame.groupby("score").agg(
        count=("y", "size"),
        events=("y", "sum"),
        observed=("y", "mean"),
        predicted=("risk", "mean"),
    )
    assert by_score.columns.tolist() == [
        "score",
        "count",
        "events",
        "observed",
        "predicted",
    ]
    np.testing.assert_array_equal(by_score["score"], expected.index.to_numpy())
    for column in ("count", "events", "observed", "predicted"):
        np.testing.assert_allclose(by_score[column], expected[column].to_numpy())
    assert by_score["score"].dtype.kind == "i"


def test_string_labels_need_pos_label(rng):
    y, risk, _ = risk_score_data(rng)
    labels = np.where(y == 1, "sick", "well")
    with pytest.raises(ValueError, match="pos_label"):
        risk_score_metrics(labels, risk)
    metrics = risk_score_metrics(labels, risk, pos_label="sick")
    assert metrics.auc == pytest.approx(roc_auc_score(y, risk))
    with pytest.raises(ValueError, match="pos_label='ill' is not one of the labels"):
        risk_score_metrics(labels, risk, pos_label="ill")


def test_minus_one_plus_one_and_boolean_labels(rng):
    y, risk, _ = risk_score_data(rng)
    expected = risk_score_metrics(y, risk).brier
    assert risk_score_metrics(np.where(y == 1, 1, -1), risk).brier == pytest.approx(
        expected
    )
    assert risk_score_metrics(y.astype(bool), risk).brier == pytest.approx(expected)


def test_single_class_has_undefined_auc():
    with pytest.warns(UndefinedMetricWarning, match="one class"):
        metrics = risk_score_metrics([0, 0, 0], [0.1, 0.2, 0.3])
    assert math.isnan(metrics.auc)
    assert metrics.brier == pytest.approx((0.01 + 0.04 + 0.09) / 3)


def test_to_dict_is_plain_json(rng):
    y, risk, scores = risk_score_data(rng)
    values = risk_score_metrics(y, risk, scores=scores).to_dict()
    assert set(values) == {"auc", "brier", "log_loss", "calibration_error"}
    assert all(type(v) is float for v in values.values())
    json.dumps(values)


def test_result_is_immutable(rng):
    y, risk, _ = risk_score_data(rng)
    metrics = risk_score_metrics(y, risk)
    with pytest.raises(AttributeError):
        metrics.auc = 1.0


@pytest.mark.parametrize(
    "y, risk, kwargs, message",
    [
        ([0, 1], [0.1, 1.2], {}, r"risk must be probabilities in \[0, 1\]"),
        ([0, 1, 1], [0.1, 0.2], {}, "y_true has 3 rows but risk has 2"),
        ([0, 1], [0.1, np.nan], {}, "NaN or infinite"),
        ([0, 1, 2], [0.1, 0.2, 0.3], {}, "two labels at most"),
        ([0, 1], [0.1, 0.2], {"scores": [1]}, "scores has 1 rows"),
        ([0, 1], [0.1, 0.2], {"sample_weight": [1, -1]}, "non-negative"),
        ([0, 1], [0.1, 0.2], {"sample_weight": [0, 0]}, "sums to zero"),
        ([0, 1], [0.1, 0.2], {"sample_weight": [1.0]}, "sample_weight has 1 rows"),
        ([], [], {}, "at least one row"),
        ([0, 1], ["a", "b"], {}, "risk must be a 1-D array of numbers"),
    ],
)
def test_bad_input(y, risk, kwargs, message):
    with pytest.raises(ValueError, match=message):
        risk_score_metrics(y, risk, **kwargs)
