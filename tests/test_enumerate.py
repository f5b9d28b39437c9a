"""Exact evaluation of small boxes against brute force over every model."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from sk_riskscore._solver import RiskScoreProblem, _enumerate
from sk_riskscore._solver._enumerate import (
    best_integer_intercepts,
    box_candidates,
    count_models,
    last_slot_models,
)
from sk_riskscore._solver._feasibility import FeasibilityChecker
from sk_riskscore._solver._loss import LossOracle


def _box(rng, d, max_support, fix_first=False):
    """A random box in the tree's layout [b, l, z] with at most one slot left
    (with ``fix_first``, feature 0 among the fixed ones)."""
    lower = np.concatenate([[rng.integers(-6, 0)], np.full(d, -2), np.zeros(d)]).astype(float)
    upper = np.concatenate([[rng.integers(0, 6)], np.full(d, 2), np.ones(d)]).astype(float)
    order = rng.permutation(d)
    if fix_first:
        order = np.concatenate([[0], order[order != 0]])
    n_fixed = max_support - int(rng.integers(0, 2))
    fixed = order[: max(n_fixed, 1) if fix_first else n_fixed]
    for j in fixed:
        lower[1 + d + j] = 1.0
        sign = rng.integers(0, 3)
        if sign == 0:
            lower[1 + j] = 1.0
        elif sign == 1:
            upper[1 + j] = -1.0
    for j in order[len(fixed):]:
        kind = rng.integers(0, 4)
        if kind == 0:  # switched off
            lower[1 + j] = upper[1 + j] = 0.0
            upper[1 + d + j] = 0.0
        elif kind == 1:  # one sign only
            lower[1 + j] = 0.0
    return lower, upper


def _brute_force(oracle, lower, upper, d, feasibility, c0):
    """Every admissible (intercept, points) in the box, by plain loops."""
    values = []
    for j in range(d):
        options = [v for v in range(int(lower[1 + j]), int(upper[1 + j]) + 1)
                   if (v != 0 or lower[1 + d + j] < 0.5) and (v == 0 or upper[1 + d + j] > 0.5)]
        values.append(options)
    best = np.inf
    for points in itertools.product(*values):
        points = np.array(points)
        if not feasibility.min_support <= np.count_nonzero(points) <= feasibility.max_support:
            continue
        for b in range(int(lower[0]), int(upper[0]) + 1):
            best = min(best, oracle.loss(b, points) + c0 @ (points != 0))
    return best


@pytest.mark.parametrize("seed", range(40))
def test_last_slot_models_finds_the_exact_minimum_of_the_box(seed):
    rng = np.random.default_rng(seed)
    d, n = 5, 120
    X = (rng.random((n, d)) < rng.uniform(0.2, 0.8, d)).astype(float)
    if seed % 4 == 1:  # a fixed column may be any integer; free ones must be 0/1
        X[:, 0] = rng.integers(0, 4, n)
    y = np.where(rng.random(n) < 0.4, 1, -1)
    max_support = int(rng.integers(1, 4))
    min_support = int(rng.integers(0, 2)) if seed % 3 == 0 else 0
    c0 = rng.choice([1e-6, 1e-3, 0.02], d)
    problem = RiskScoreProblem(X, y, np.ones(n), np.full(d, -2), np.full(d, 2), -6, 6, c0,
                               min_features=min_support, max_features=max_support)
    feasibility = FeasibilityChecker(problem)
    oracle = LossOracle(X, y, np.ones(n), max_abs_score=20, scale=(1.0, 0.7)[seed % 2])
    # an integer column is fixed in, never free
    lower, upper = _box(rng, d, max_support, fix_first=seed % 4 == 1)
    found = last_slot_models(oracle, lower, upper, d, feasibility, c0, 10**8, 3)
    expected = _brute_force(oracle, lower, upper, d, feasibility, c0)
    if found is None:
        pytest.fail("a box with at most one slot left and 0/1 free columns must qualify")
    objectives, intercepts, points = found
    if not np.isfinite(expected):
        assert len(objectives) == 0
        return
    assert objectives[0] == pytest.approx(expected, rel=1e-10, abs=1e-12)
    # the models returned are what they claim, and inside the box
    for objective, b, pts in zip(objectives, intercepts, points):
        assert objective == pytest.approx(oracle.loss(b, pts) + c0 @ (pts != 0), rel=1e-10)
        assert lower[0] <= b <= upper[0]
        assert np.all(pts >= lower[1 : 1 + d]) and np.all(pts <= upper[1 : 1 + d])
    assert np.all(np.diff(objectives) >= 0)
    # the same box through the general enumeration agrees on the models' count
    assert len(box_candidates(lower, upper, d, feasibility)) <= count_models(
        lower, upper, d, feasibility)


@pytest.mark.parametrize("seed", range(30))
def test_count_models_counts_every_points_vector_of_the_box(seed):
    # boxes with features forced in, switched off, one-signed, empty (nothing
    # admissible) and zero only; counted against every points vector listed
    rng = np.random.default_rng(seed)
    d = int(rng.integers(1, 6))
    max_support = int(rng.integers(0, d + 1))
    min_support = int(rng.integers(0, max_support + 1))
    low = rng.integers(-3, 2, d)
    used_low = np.where(rng.random(d) < 0.25, 1.0, 0.0)
    used_high = np.where(rng.random(d) < 0.2, 0.0, 1.0)
    lower = np.concatenate([[-3.0], low, used_low]).astype(float)
    upper = np.concatenate([[3.0], low + rng.integers(0, 4, d), used_high]).astype(float)
    problem = RiskScoreProblem(np.zeros((2, d)), np.array([1, -1]), np.ones(2),
                               np.full(d, -3), np.full(d, 3), -3, 3, np.zeros(d),
                               min_features=min_support, max_features=max_support)
    feasibility = FeasibilityChecker(problem)

    def values(j):
        points = range(int(lower[1 + j]), int(upper[1 + j]) + 1)
        return [v for v in points
                if (v != 0 or lower[1 + d + j] < 0.5) and (v == 0 or upper[1 + d + j] > 0.5)]

    expected = sum(min_support <= np.count_nonzero(points) <= max_support
                   for points in itertools.product(*(values(j) for j in range(d))))
    assert count_models(lower, upper, d, feasibility) == expected


@pytest.mark.parametrize("seed", range(12))
@pytest.mark.parametrize("by_grid", [True, False])
def test_best_integer_intercepts_are_each_models_exact_best(seed, by_grid, monkeypatch):
    # both routes (scores summed over a grid, bisection) against every intercept
    if not by_grid:
        monkeypatch.setattr(_enumerate, "_GRID_ENTRIES_PER_ROW", 0)
    rng = np.random.default_rng(seed)
    n, d, n_models = 80, 4, 30
    X = rng.integers(0, 1 + 3 * (seed % 3), (n, d)).astype(float)
    y = np.where(rng.random(n) < rng.uniform(0.1, 0.9), 1, -1)
    oracle = LossOracle(X, y, rng.uniform(0.5, 2, n), max_abs_score=(None, 60, 100)[seed % 3],
                        scale=(1.0, 0.6, 2.5)[seed % 3])
    if seed % 4 == 3:
        oracle = oracle.shifted(0.37)
    points = rng.integers(-3, 4, (n_models, d))
    lower, upper = sorted(int(v) for v in rng.integers(-12, 13, 2))
    base = oracle.X.astype(np.int64) @ points.T  # the oracle's distinct rows
    intercepts, losses = best_integer_intercepts(oracle, base, lower, upper)
    every = np.array([[oracle.loss(b, pts) for b in range(lower, upper + 1)] for pts in points])
    assert np.all((lower <= intercepts) & (intercepts <= upper))
    np.testing.assert_allclose(losses, every.min(axis=1), rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(losses, every[np.arange(n_models), intercepts - lower],
                               rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("seed", range(12))
def test_real_intercepts_bound_each_models_least_loss(seed):
    """The tree's real-intercept closing of small boxes: each model's bound lies
    under its least loss over the range (found by scipy) and within 1e-9 of
    it, and the intercept returned attains it; ranges without an integer
    (bisected) and ranges that cut the optimum off included."""
    from scipy.optimize import minimize_scalar

    rng = np.random.default_rng(seed)
    n, d, n_models = 80, 4, 30
    X = rng.integers(0, 1 + 3 * (seed % 3), (n, d)).astype(float)
    y = np.where(rng.random(n) < rng.uniform(0.1, 0.9), 1, -1)
    oracle = LossOracle(X, y, rng.uniform(0.5, 2, n), scale=(1.0, 0.6, 2.5)[seed % 3])
    candidates = rng.integers(-3, 4, (n_models, d))
    if seed % 4 == 1:
        lower, upper = 0.2, 0.7  # no integer within
    else:
        lower, upper = sorted(rng.uniform(-12, 12, 2))
    intercepts, bounds = _enumerate.fit_real_intercepts(oracle, candidates, lower, upper)
    for points, intercept, bound in zip(candidates, intercepts, bounds):
        best = minimize_scalar(lambda b, pts=points: oracle.loss(b, pts), bounds=(lower, upper),
                               method="bounded", options={"xatol": 1e-12})
        least = min(best.fun, oracle.loss(lower, points), oracle.loss(upper, points))
        assert lower <= intercept <= upper
        assert bound <= least + 1e-12
        assert bound >= least - 1e-9
        assert oracle.loss(intercept, points) <= least + 1e-9


def test_last_slot_models_declines_boxes_it_cannot_do_exactly():
    rng = np.random.default_rng(0)
    d, n = 4, 60
    X = (rng.random((n, d)) < 0.5).astype(float)
    y = np.where(rng.random(n) < 0.4, 1, -1)
    problem = RiskScoreProblem(X, y, np.ones(n), np.full(d, -2), np.full(d, 2), -5, 5,
                               np.full(d, 1e-6), max_features=3)
    feasibility = FeasibilityChecker(problem)
    oracle = LossOracle(X, y, np.ones(n))
    lower = np.concatenate([[-5], np.full(d, -2), np.zeros(d)]).astype(float)
    upper = np.concatenate([[5], np.full(d, 2), np.ones(d)]).astype(float)
    assert last_slot_models(oracle, lower, upper, d, feasibility, problem.c0, 10**8, 1) is None
    lower[1 + d] = lower[2 + d] = 1.0  # two of three slots taken: one left
    assert last_slot_models(oracle, lower, upper, d, feasibility, problem.c0, 10**8, 1) \
        is not None
    assert last_slot_models(oracle, lower, upper, d, feasibility, problem.c0, 10, 1) is None
    real = LossOracle(X + 0.5, y, np.ones(n))  # a free column that is not 0/1
    assert last_slot_models(real, lower, upper, d, feasibility, problem.c0, 10**8, 1) is None


def test_last_slot_models_respects_the_smallest_support():
    """With one feature fixed and at least two required, the fixed feature
    alone is no model, however good its loss."""
    rng = np.random.default_rng(7)
    d, n = 4, 200
    X = (rng.random((n, d)) < 0.5).astype(float)
    y = np.where(X[:, 0] + rng.normal(scale=0.3, size=n) > 0.5, 1, -1)  # column 0 alone fits
    c0 = np.full(d, 1e-6)
    problem = RiskScoreProblem(X, y, np.ones(n), np.full(d, -2), np.full(d, 2), -5, 5, c0,
                               min_features=2, max_features=2)
    feasibility = FeasibilityChecker(problem)
    oracle = LossOracle(X, y, np.ones(n))
    lower = np.concatenate([[-5], np.full(d, -2), np.zeros(d)]).astype(float)
    upper = np.concatenate([[5], np.full(d, 2), np.ones(d)]).astype(float)
    lower[1 + d] = 1.0
    objectives, _, points = last_slot_models(oracle, lower, upper, d, feasibility, c0,
                                             10**8, 5)
    assert np.all(np.count_nonzero(points, axis=1) == 2)
    assert objectives[0] == pytest.approx(
        _brute_force(oracle, lower, upper, d, feasibility, c0), rel=1e-10)


def _support_rows(rng, d):
    """Random rows on the support alone, as the constraint kinds compile them:
    at most / at least / exactly m of a group, and "j implies k"."""
    from sk_riskscore._solver._problem import ConstraintRow

    rows = []
    for _ in range(int(rng.integers(1, 4))):
        kind = rng.integers(0, 4)
        group = rng.choice(d, size=int(rng.integers(2, d + 1)), replace=False)
        used = np.zeros(d)
        used[group] = 1.0
        m = float(rng.integers(0, 3))
        if kind == 0:
            rows.append(ConstraintRow(np.zeros(d), used, -np.inf, m))
        elif kind == 1:
            rows.append(ConstraintRow(np.zeros(d), used, m, np.inf))
        elif kind == 2:
            rows.append(ConstraintRow(np.zeros(d), used, m, m))
        else:  # used[j] <= used[k]
            j, k = group[:2]
            implies = np.zeros(d)
            implies[j], implies[k] = 1.0, -1.0
            rows.append(ConstraintRow(np.zeros(d), implies, -np.inf, 0.0))
    return tuple(rows)


def _meets_rows(rows, points):
    used = points != 0
    return all(row.lower - 1e-9 <= row.used_coef @ used <= row.upper + 1e-9 for row in rows)


@pytest.mark.parametrize("seed", range(40))
def test_last_slot_models_with_support_rows_is_the_exact_minimum(seed):
    """Groups, counts and implications on the support filter the closing's
    models; brute force checks every row by its coefficients."""
    rng = np.random.default_rng(100 + seed)
    d, n = 5, 120
    X = (rng.random((n, d)) < rng.uniform(0.2, 0.8, d)).astype(float)
    y = np.where(rng.random(n) < 0.4, 1, -1)
    max_support = int(rng.integers(1, 4))
    c0 = rng.choice([1e-6, 1e-3, 0.02], d)
    rows = _support_rows(rng, d)
    problem = RiskScoreProblem(X, y, np.ones(n), np.full(d, -2), np.full(d, 2), -6, 6, c0,
                               max_features=max_support, constraints=rows)
    feasibility = FeasibilityChecker(problem)
    oracle = LossOracle(X, y, np.ones(n), max_abs_score=20)
    lower, upper = _box(rng, d, max_support)
    found = last_slot_models(oracle, lower, upper, d, feasibility, c0, 10**8, 50)
    assert found is not None, "support rows alone must not make the closing decline"
    objectives, intercepts, points = found
    values = []
    for j in range(d):
        values.append([v for v in range(int(lower[1 + j]), int(upper[1 + j]) + 1)
                       if (v != 0 or lower[1 + d + j] < 0.5)
                       and (v == 0 or upper[1 + d + j] > 0.5)])
    expected = np.inf
    for pts in itertools.product(*values):
        pts = np.array(pts)
        if np.count_nonzero(pts) > max_support or not _meets_rows(rows, pts):
            continue
        for b in range(int(lower[0]), int(upper[0]) + 1):
            expected = min(expected, oracle.loss(b, pts) + c0 @ (pts != 0))
    if not np.isfinite(expected):
        assert len(objectives) == 0
        return
    assert objectives[0] == pytest.approx(expected, rel=1e-10, abs=1e-12)
    for pts in points:
        assert _meets_rows(rows, pts)


def test_last_slot_models_declines_constraints_on_points():
    from sk_riskscore._solver._problem import ConstraintRow

    rng = np.random.default_rng(3)
    d, n = 4, 60
    X = (rng.random((n, d)) < 0.5).astype(float)
    y = np.where(rng.random(n) < 0.4, 1, -1)
    row = ConstraintRow(np.array([1.0, -1.0, 0.0, 0.0]), np.zeros(d), 0.0, np.inf)
    problem = RiskScoreProblem(X, y, np.ones(n), np.full(d, -2), np.full(d, 2), -5, 5,
                               np.full(d, 1e-6), max_features=2, constraints=(row,))
    feasibility = FeasibilityChecker(problem)
    assert not feasibility.support_only
    lower = np.concatenate([[-5], np.full(d, -2), np.zeros(d)]).astype(float)
    upper = np.concatenate([[5], np.full(d, 2), np.ones(d)]).astype(float)
    lower[1 + d] = 1.0
    assert last_slot_models(LossOracle(X, y, np.ones(n)), lower, upper, d, feasibility,
                            problem.c0, 10**8, 1) is None


@pytest.mark.parametrize("seed", range(60))
def test_support_propagation_keeps_every_admissible_support(seed):
    """Propagation may only fix what every admissible support in the bounds
    agrees on, and may call the bounds empty only when they are."""
    rng = np.random.default_rng(seed)
    d = 6
    rows = _support_rows(rng, d)
    problem = RiskScoreProblem(np.zeros((2, d)), np.array([1, -1]), np.ones(2),
                               np.full(d, -1), np.full(d, 1), -1, 1, np.zeros(d),
                               constraints=rows)
    feasibility = FeasibilityChecker(problem)
    used_lower = (rng.random(d) < 0.2).astype(float)
    used_upper = np.maximum(used_lower, (rng.random(d) < 0.8).astype(float))
    admissible = [np.array(z) for z in itertools.product((0, 1), repeat=d)
                  if np.all(np.array(z) >= used_lower) and np.all(np.array(z) <= used_upper)
                  and _meets_rows(rows, np.array(z))]
    lower_after, upper_after = used_lower.copy(), used_upper.copy()
    kept = feasibility.propagate_support(lower_after, upper_after)
    if not admissible:
        # a single-row test need not see every contradiction; if it passes the
        # bounds on, they must still hold no admissible support
        return
    assert kept, (rows, used_lower, used_upper)
    for z in admissible:
        assert np.all(z >= lower_after) and np.all(z <= upper_after), (rows, z)
    # and it tightens: a group of at most one with a member in leaves the rest out
    assert np.all(lower_after >= used_lower) and np.all(upper_after <= used_upper)


def test_support_propagation_fixes_what_the_rows_decide():
    from sk_riskscore._solver._problem import ConstraintRow

    d = 4
    group = np.array([1.0, 1.0, 1.0, 0.0])
    at_most_one = ConstraintRow(np.zeros(d), group, -np.inf, 1.0)
    at_least_two = ConstraintRow(np.zeros(d), group, 2.0, np.inf)

    def propagated(row, used_lower, used_upper):
        problem = RiskScoreProblem(np.zeros((2, d)), np.array([1, -1]), np.ones(2),
                                   np.full(d, -1), np.full(d, 1), -1, 1, np.zeros(d),
                                   constraints=(row,))
        lower, upper = np.array(used_lower, float), np.array(used_upper, float)
        return FeasibilityChecker(problem).propagate_support(lower, upper), lower, upper

    # one member of an at-most-one group in: the others out, the outsider free
    kept, lower, upper = propagated(at_most_one, [1, 0, 0, 0], [1, 1, 1, 1])
    assert kept and upper.tolist() == [1, 0, 0, 1] and lower.tolist() == [1, 0, 0, 0]
    # two of three needed and one out: the other two in
    kept, lower, upper = propagated(at_least_two, [0, 0, 0, 0], [0, 1, 1, 1])
    assert kept and lower.tolist() == [0, 1, 1, 0]
    # two members in: nothing admissible
    assert not propagated(at_most_one, [1, 1, 0, 0], [1, 1, 1, 1])[0]
