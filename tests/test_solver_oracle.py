"""The solver against brute-force enumeration on random small problems."""

from __future__ import annotations

import dataclasses
import functools

import numpy as np
import pytest

from sk_riskscore._solver import (
    RiskScoreProblem,
    SolverStatus,
    intercept_bound,
    solve,
)
from sk_riskscore._solver._feasibility import FeasibilityChecker

from .oracle import enumerate_optimum

N_PROBLEMS = 100


def random_problem(seed: int) -> RiskScoreProblem:
    """n <= 300, d <= 6, |points| <= 3, varied sparsity, penalty and weights."""
    rng = np.random.default_rng(seed)
    n = int(rng.integers(40, 301))
    d = int(rng.integers(2, 7))
    kind = ("binary", "integer", "real")[seed % 3]
    if kind == "binary":
        X = (rng.random((n, d)) < rng.uniform(0.2, 0.7, d)).astype(float)
    elif kind == "integer":
        X = rng.integers(0, 5, (n, d)).astype(float)
    else:
        X = np.round(rng.normal(size=(n, d)), 2)
    truth = rng.integers(-2, 3, d) * (rng.random(d) < 0.6)
    logits = X @ truth + rng.normal(scale=1.0, size=n) + rng.normal()
    y = np.where(rng.random(n) < 1 / (1 + np.exp(-logits)), 1, -1)
    y[:2] = [1, -1]  # both classes present
    max_coef = 3 if d <= 5 else 2
    if seed % 4 == 3:
        weights = rng.uniform(0.0, 3.0, n)
        weights[rng.random(n) < 0.1] = 0.0
        weights[:2] = 1.0
    else:
        weights = np.ones(n)
    c0 = float((1e-6, 1e-3, 0.02)[seed % 3 if seed % 5 else 1])
    max_features = int(min(d, (1, 2, 3, d)[seed % 4]))
    min_features = 1 if seed % 7 == 0 else 0
    lower = np.full(d, -max_coef)
    upper = np.full(d, max_coef)
    if seed % 6 == 5:
        lower[0] = 0  # a sign constraint
    reach = intercept_bound(X, y, weights, lower, upper, max_features)
    return RiskScoreProblem(
        X, y, weights, lower, upper, -reach, reach, np.full(d, c0),
        min_features=min_features, max_features=max_features,
    )


@functools.cache
def ground_truth(seed: int):
    p = random_problem(seed)
    # search the intercept far beyond the derived bound: a bound that cut off
    # the optimum would show up as a mismatch
    wide = p.intercept_upper + 50
    return enumerate_optimum(
        p.X, p.y, p.sample_weight, p.coef_lower, p.coef_upper, -wide, wide, p.c0,
        p.min_features, p.max_features,
    )


@pytest.mark.parametrize("backend", ["cbc", "highs"])
@pytest.mark.parametrize("seed", range(N_PROBLEMS))
def test_solver_matches_enumeration(seed, backend):
    problem = random_problem(seed)
    truth = ground_truth(seed)
    result = solve(problem, backend=backend, time_limit=60, gap_tolerance=1e-9)

    assert result.status == SolverStatus.OPTIMAL, result.message
    assert result.objective == pytest.approx(truth.objective, abs=1e-9, rel=0)
    # the proven bound must be valid: never above the true optimum
    assert result.lower_bound <= truth.objective + 1e-9
    assert result.gap <= 1e-9
    model = result.model
    assert FeasibilityChecker(problem).is_feasible(model.points, model.intercept)
    assert problem.objective(model.points, model.intercept) == pytest.approx(
        result.objective, abs=1e-12
    )


@pytest.mark.parametrize("seed", [3, 17, 41])
def test_early_stop_is_not_called_optimal_and_bound_stays_valid(seed):
    problem = random_problem(seed)
    truth = ground_truth(seed)
    result = solve(problem, backend="cbc", max_nodes=1, gap_tolerance=0.0)
    assert result.lower_bound <= truth.objective + 1e-9
    if result.status == SolverStatus.OPTIMAL:
        # only allowed when the root alone proved it
        assert result.objective == pytest.approx(truth.objective, abs=1e-9)
    else:
        assert result.status == SolverStatus.NODE_LIMIT
        assert result.gap >= 0


@pytest.mark.parametrize("scale", [0.6, 3.7])
@pytest.mark.parametrize("seed", range(0, N_PROBLEMS, 4))
def test_real_intercept_at_a_scale_matches_enumeration(seed, scale):
    """The calibrated-scale problem: score / scale with a real intercept."""
    base = random_problem(seed)
    reach = intercept_bound(base.X, base.y, base.sample_weight, base.coef_lower,
                            base.coef_upper, base.max_features, scale)
    problem = dataclasses.replace(base, score_scale=scale, integer_intercept=False,
                                  intercept_lower=-reach, intercept_upper=reach)
    wide = reach + 50
    truth = enumerate_optimum(
        problem.X, problem.y, problem.sample_weight, problem.coef_lower,
        problem.coef_upper, -wide, wide, problem.c0, problem.min_features,
        problem.max_features, scale=scale, real_intercept=True,
    )
    result = solve(problem, backend="cbc", time_limit=60, gap_tolerance=1e-9)

    assert result.status == SolverStatus.OPTIMAL, result.message
    assert result.objective == pytest.approx(truth.objective, abs=1e-9, rel=0)
    assert result.lower_bound <= truth.objective + 1e-9
    model = result.model
    assert problem.objective(model.points, model.intercept) == pytest.approx(
        result.objective, abs=1e-12
    )
    # a real intercept is never worse than the best integer one
    integer = enumerate_optimum(
        problem.X, problem.y, problem.sample_weight, problem.coef_lower,
        problem.coef_upper, -wide, wide, problem.c0, problem.min_features,
        problem.max_features, scale=scale,
    )
    assert truth.objective <= integer.objective + 1e-12
