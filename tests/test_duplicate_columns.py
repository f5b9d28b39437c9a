"""Interchangeable (twin) columns: the search uses them in index order only,
and must still find the enumerated optimum and a valid bound."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from sk_riskscore._solver import BranchAndBound, ConstraintRow, SolverStatus, solve

from .oracle import enumerate_optimum
from .test_solver_oracle import random_problem


def with_twin(seed: int, constrained: bool):
    """random_problem with its first column repeated at the end (and, if
    ``constrained``, a rule that treats both copies alike)."""
    base = random_problem(seed)
    if base.n_features > 5:
        base = dataclasses.replace(
            base, X=base.X[:, :5], coef_lower=base.coef_lower[:5],
            coef_upper=base.coef_upper[:5], c0=base.c0[:5],
            max_features=min(base.max_features, 5), min_features=min(base.min_features, 1))
    X = np.column_stack([base.X, base.X[:, 0]])

    def extend(values):
        return np.append(values, values[0])

    # points within [-2, 2]: few enough models to enumerate quickly
    problem = dataclasses.replace(base, X=X,
                                  coef_lower=np.maximum(extend(base.coef_lower), -2),
                                  coef_upper=np.minimum(extend(base.coef_upper), 2),
                                  c0=extend(base.c0))
    if constrained:
        d = problem.n_features
        rule = np.zeros(d)
        rule[[0, 1, d - 1]] = 1.0
        problem = dataclasses.replace(problem, constraints=(
            ConstraintRow(np.zeros(d), rule, upper=2.0),))
    return problem


@pytest.mark.parametrize("constrained", [False, True])
@pytest.mark.parametrize("seed", range(0, 40, 5))
def test_twin_columns_keep_the_optimum(seed, constrained):
    problem = with_twin(seed, constrained)
    wide = problem.intercept_upper + 50
    truth = enumerate_optimum(problem.X, problem.y, problem.sample_weight, problem.coef_lower,
                              problem.coef_upper, -wide, wide, problem.c0,
                              problem.min_features, problem.max_features,
                              rows=problem.constraints)
    result = solve(problem, time_limit=60, gap_tolerance=1e-9)
    assert result.status == SolverStatus.OPTIMAL, result.message
    assert result.objective == pytest.approx(truth.objective, abs=1e-9, rel=0)
    assert result.lower_bound <= truth.objective + 1e-9


def test_twins_are_found_only_when_interchangeable():
    problem = with_twin(0, constrained=False)
    d = problem.n_features
    search = BranchAndBound(problem, time_limit=5)
    search.solve()
    first, second = search._twin_pairs()
    assert list(zip(first, second)) == [(0, d - 1)]
    # different bounds: not twins
    upper = problem.coef_upper.copy()
    upper[-1] -= 1
    search = BranchAndBound(dataclasses.replace(problem, coef_upper=upper), time_limit=5)
    search.solve()
    assert len(search._twin_pairs()[0]) == 0
