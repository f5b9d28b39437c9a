"""Exact evaluation of small boxes against brute force over every model."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from sk_riskscore._solver import RiskScoreProblem
from sk_riskscore._solver._enumerate import box_candidates, count_models, last_slot_models
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
