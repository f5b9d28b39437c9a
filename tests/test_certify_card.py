"""Certify any card: the proven bound and gap of points from anywhere."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from sk_riskscore import RiskScoreClassifier, certify_card
from sk_riskscore._solver import certify_points

from .test_solver_oracle import ground_truth, random_problem

BREASTCANCER = "/work/shared/data/riskslim/breastcancer_data.csv"


@pytest.mark.parametrize("seed", range(0, 40, 3))
def test_card_gap_is_honest_against_enumeration(seed):
    """Any card, even a poor one: its objective is exact, its gap >= 0, and the
    bound never exceeds the enumerated optimum, also when the search stops
    after a few nodes."""
    problem = random_problem(seed)
    truth = ground_truth(seed)
    rng = np.random.default_rng(seed)
    points = np.zeros(problem.n_features, dtype=int)
    j = int(rng.integers(problem.n_features))
    points[j] = int(np.clip(1, problem.coef_lower[j], problem.coef_upper[j]))
    if not problem.min_features <= np.count_nonzero(points) <= problem.max_support:
        points = truth.points[0].astype(int)
    for max_nodes in (2, None):
        card = certify_points(problem, points, max_nodes=max_nodes, time_limit=60)
        assert card.gap >= 0
        assert card.lower_bound <= truth.objective + 1e-9
        assert card.objective == pytest.approx(
            problem.objective(points, card.intercept), abs=1e-12)
        assert card.objective >= truth.objective - 1e-9
        assert card.best.objective <= card.objective + 1e-12
    # the full search proves the card optimal exactly when it is
    optimal = card.objective <= truth.objective + 1e-4 * truth.objective
    assert card.certified == optimal


def test_known_optimal_card_certifies_on_breastcancer():
    """The RiskSLIM paper's golden optimum: intercept -17, one point each for five features."""
    frame = pd.read_csv(BREASTCANCER)
    X, y = frame.iloc[:, 1:], frame.iloc[:, 0]
    card = {name: 1 for name in ("ClumpThickness", "MarginalAdhesion", "BareNuclei",
                                 "BlandChromatin", "Mitoses")}
    estimator = RiskScoreClassifier(max_coef=5, max_features=5, c0=1e-6, max_intercept=50)
    certificate = certify_card(card, X, y, estimator=estimator)
    assert certificate.intercept == -17
    assert certificate.objective == pytest.approx(0.11336464701598783, abs=1e-12)
    assert certificate.certified
    assert 0 <= certificate.gap <= 1e-4
    # a worse card on the same data: proven suboptimal
    worse = dict(card, ClumpThickness=2)
    certificate = certify_card(worse, X, y, estimator=estimator)
    assert not certificate.certified
    assert certificate.lower_bound <= 0.11336464701598783 + 1e-9
    assert certificate.gap > 0.05


def test_card_outside_the_class_is_refused():
    rng = np.random.default_rng(0)
    X = (rng.random((100, 4)) < 0.5).astype(float)
    y = rng.integers(0, 2, 100)
    estimator = RiskScoreClassifier(max_features=2, time_limit=5)
    with pytest.raises(ValueError, match="not an admissible model"):
        certify_card([1, 1, 1, 0], X, y, estimator=estimator)
    with pytest.raises(ValueError, match="4 integers"):
        certify_card([1, 0.5, 0, 0], X, y, estimator=estimator)
    with pytest.raises(ValueError, match="columns that X does not have"):
        certify_card({"age": 1}, pd.DataFrame(X, columns=list("abcd")), y,
                     estimator=estimator)
    with pytest.raises(ValueError, match="calibrate_scale=False"):
        certify_card([1, 0, 0, 0], X, y,
                     estimator=RiskScoreClassifier(calibrate_scale=True))
