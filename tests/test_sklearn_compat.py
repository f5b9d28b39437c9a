"""scikit-learn conformance of every estimator in the package, in one place."""

from __future__ import annotations

from sklearn.utils.estimator_checks import parametrize_with_checks

from sk_riskscore import RiskScoreBinarizer, RiskScoreClassifier

# Expected failures, each with its reason.
EXPECTED_FAILED_CHECKS = {
    "RiskScoreClassifier": {},
    "RiskScoreBinarizer": {},
}


def _estimators():
    yield RiskScoreClassifier(max_features=3, max_coef=3, time_limit=10)
    yield RiskScoreBinarizer()


@parametrize_with_checks(
    list(_estimators()),
    expected_failed_checks=lambda est: EXPECTED_FAILED_CHECKS.get(type(est).__name__, {}),
)
def test_sklearn_compatible(estimator, check):
    check(estimator)
