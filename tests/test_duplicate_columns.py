"""Interchangeable (twin) columns: the search uses them in index order only,
and must still find the enumerated optimum and a valid bound."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from sk_riskscore._solver import (
    BranchAndBound,
    ConstraintRow,
    RiskScoreProblem,
    SolverStatus,
    solve,
)
from sk_riskscore._solver._problem import intercept_bound

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


def with_complements(seed: int, narrow: bool):
    """0/1 columns and their complements (a binarizer's ``x <= t`` and
    ``x > t``), in shuffled order; the intercept range holds
    ``intercept_bound``'s unless ``narrow``."""
    rng = np.random.default_rng(seed)
    n = 80
    base = (rng.random((n, 3)) < rng.uniform(0.2, 0.8, 3)).astype(float)
    X = np.column_stack([base, 1.0 - base])[:, rng.permutation(6)]
    logit = base @ rng.normal(0, 1.5, 3) + rng.normal(0, 0.5)
    y = np.where(rng.random(n) < 1 / (1 + np.exp(-logit)), 1, -1)
    d = X.shape[1]
    k = int(rng.integers(2, 4))
    lower, upper = np.full(d, -2), np.full(d, 2)
    reach = 1 if narrow else intercept_bound(X, y, np.ones(n), lower, upper, k)
    return RiskScoreProblem(X, y, np.ones(n), lower, upper, -reach, reach,
                            np.full(d, 1e-3), 0, k)


@pytest.mark.parametrize("narrow", [False, True])
@pytest.mark.parametrize("seed", range(12))
def test_complement_columns_keep_the_optimum(seed, narrow):
    """A negative point needs the column's complement in the model; the
    others are reached by flipping to the complement, with the intercept
    moved. The enumerated optimum must survive, and with a narrow intercept
    range (where a flip could leave it) the rule must stay off."""
    problem = with_complements(seed, narrow)
    truth = enumerate_optimum(problem.X, problem.y, problem.sample_weight, problem.coef_lower,
                              problem.coef_upper, problem.intercept_lower,
                              problem.intercept_upper, problem.c0, problem.min_features,
                              problem.max_features)
    search = BranchAndBound(problem, time_limit=60, gap_tolerance=1e-9)
    result = search.solve()
    assert len(search._complements.flipped) == (0 if narrow else 6)
    assert result.status == SolverStatus.OPTIMAL, result.message
    assert result.objective == pytest.approx(truth.objective, abs=1e-9, rel=0)
    assert result.lower_bound <= truth.objective + 1e-9


def with_threshold_groups(seed: int):
    """Two variables binarized as a RiskScoreBinarizer does: thresholds
    ``x <= t`` and their complements ``x > t``, at most one threshold of each
    variable and direction (an AtMost(1) row per group)."""
    rng = np.random.default_rng(seed)
    n = 80
    values = rng.integers(0, 3, (n, 2))
    columns, groups = [], []
    for v in range(2):
        for direction in ("<=", ">"):
            group = []
            for t in (0, 1):
                group.append(len(columns))
                columns.append(values[:, v] <= t if direction == "<=" else values[:, v] > t)
            groups.append(group)
    X = np.column_stack(columns).astype(float)
    order = rng.permutation(X.shape[1])  # the rule must not rely on the column order
    X = X[:, order]
    position = np.argsort(order)
    d = X.shape[1]
    rows = []
    for group in groups:
        used = np.zeros(d)
        used[position[group]] = 1.0
        rows.append(ConstraintRow(np.zeros(d), used, upper=1.0))
    logit = (values @ rng.normal(0, 1.0, 2)) - 1.5 + rng.normal(0, 0.5)
    y = np.where(rng.random(n) < 1 / (1 + np.exp(-logit)), 1, -1)
    k = int(rng.integers(2, 4))
    lower, upper = np.full(d, -2), np.full(d, 2)
    reach = intercept_bound(X, y, np.ones(n), lower, upper, k)
    return RiskScoreProblem(X, y, np.ones(n), lower, upper, -reach, reach,
                            np.full(d, 1e-3), 0, k, constraints=tuple(rows))


@pytest.mark.parametrize("seed", range(12))
def test_complement_rule_behind_threshold_groups(seed):
    """Behind the binarizer's groups a negative point needs a column of its
    complement's group in the model (flipping into a group already in use
    would break its AtMost(1)). The enumerated optimum must survive."""
    problem = with_threshold_groups(seed)
    truth = enumerate_optimum(problem.X, problem.y, problem.sample_weight, problem.coef_lower,
                              problem.coef_upper, problem.intercept_lower,
                              problem.intercept_upper, problem.c0, problem.min_features,
                              problem.max_features, rows=problem.constraints)
    search = BranchAndBound(problem, time_limit=60, gap_tolerance=1e-9)
    result = search.solve()
    complements = search._complements
    assert len(complements.grouped) == problem.n_features
    # each column needs a column of the other direction's group: two thresholds
    assert np.all(np.asarray(complements.required.sum(axis=1)).ravel() == 2)
    assert result.status == SolverStatus.OPTIMAL, result.message
    assert result.objective == pytest.approx(truth.objective, abs=1e-9, rel=0)
    assert result.lower_bound <= truth.objective + 1e-9
