"""The LP-free dual bound against brute-force enumeration on small problems.

A bound above the true optimum (of the whole problem, or of a node with
fixed variables) is a failing test: weights, asymmetric point bounds, user
constraints (which the bound leaves out), a score scale other than 1 and a
real intercept are all covered.
"""

from __future__ import annotations

import dataclasses
import itertools

import numpy as np
import pytest

from sk_riskscore._solver import ConstraintRow, intercept_bound
from sk_riskscore._solver._dual import DualBound, FrankWolfePoint, oracle_bound
from sk_riskscore._solver._loss import LossOracle
from sk_riskscore._solver._problem import max_abs_score

from .oracle import enumerate_optimum
from .test_solver_oracle import random_problem


def node_arrays(problem, fixed_out=(), fixed_in=(), positive=(), negative=()):
    """Node bounds over [b, l, z]: features out (l = 0), in (z = 1, l != 0),
    and with a sign (l >= 1 or l <= -1)."""
    d = problem.n_features
    lower = np.concatenate([[problem.intercept_lower], problem.coef_lower,
                            np.zeros(d)]).astype(float)
    upper = np.concatenate([[problem.intercept_upper], problem.coef_upper,
                            np.ones(d)]).astype(float)
    for j in fixed_out:
        lower[1 + j] = upper[1 + j] = 0.0
        upper[1 + d + j] = 0.0
    for j in fixed_in:
        lower[1 + d + j] = 1.0
    for j in positive:
        lower[1 + j] = max(lower[1 + j], 1.0)
        lower[1 + d + j] = 1.0
    for j in negative:
        upper[1 + j] = min(upper[1 + j], -1.0)
        lower[1 + d + j] = 1.0
    return lower, upper


def random_nodes(problem, seed, rng, count):
    """``count`` nodes (lower, upper): random features out and, by seed, one
    with a sign."""
    d = problem.n_features
    for _ in range(count):
        features = rng.permutation(d)
        out, rest = features[: rng.integers(0, d)], features[d // 2 :]
        sign = [j for j in rest if j not in out][:1]
        yield node_arrays(
            problem, fixed_out=out,
            positive=[j for j in sign if problem.coef_upper[j] >= 1 and seed % 2],
            negative=[j for j in sign if problem.coef_lower[j] <= -1 and not seed % 2])


def node_optimum(problem, lower, upper, scale=1.0, real_intercept=False):
    """The enumerated optimum of the models within a node, with the problem's
    constraints (which the dual bound ignores) and every 'used' fixing."""
    d = problem.n_features
    rows = list(problem.constraints)
    for j in np.flatnonzero(lower[1 + d :] > 0.5):
        used = np.zeros(d)
        used[j] = 1.0
        rows.append(ConstraintRow(np.zeros(d), used, lower=1.0))
    wide = 50 + max(abs(problem.intercept_lower), abs(problem.intercept_upper))
    return enumerate_optimum(
        problem.X, problem.y, problem.sample_weight, lower[1 : 1 + d], upper[1 : 1 + d],
        -wide, wide, problem.c0, problem.min_features, problem.max_features, rows=rows,
        scale=scale, real_intercept=real_intercept,
    ).objective


def variant(seed):
    """random_problem with, by seed: a constraint, a score scale with a real
    intercept, asymmetric bounds."""
    problem = random_problem(seed)
    d = problem.n_features
    rng = np.random.default_rng(seed)
    if seed % 3 == 1:
        rule = np.zeros(d)
        rule[: min(2, d)] = 1.0
        problem = dataclasses.replace(problem, constraints=(
            ConstraintRow(rule, np.zeros(d), upper=1.0),))
    if seed % 4 == 2:
        scale = float(rng.uniform(0.5, 3.0))
        reach = intercept_bound(problem.X, problem.y, problem.sample_weight,
                                problem.coef_lower, problem.coef_upper,
                                problem.max_features, scale)
        problem = dataclasses.replace(problem, score_scale=scale, integer_intercept=False,
                                      intercept_lower=-reach, intercept_upper=reach)
    if seed % 5 == 4:
        lower = problem.coef_lower.copy()
        upper = problem.coef_upper.copy()
        lower[-1] = -1
        upper[0] = 1
        problem = dataclasses.replace(problem, coef_lower=lower, coef_upper=upper)
    return problem


def oracle_of(problem):
    return LossOracle(problem.X, problem.y, problem.sample_weight, max_abs_score(problem),
                      scale=problem.score_scale)


@pytest.mark.parametrize("seed", range(40))
def test_dual_bound_never_exceeds_the_optimum_at_the_root_or_a_node(seed):
    problem = variant(seed)
    scale, real = problem.score_scale, not problem.integer_intercept
    oracle = oracle_of(problem)
    lower, upper = node_arrays(problem)
    root = oracle_bound(oracle, problem, lower, upper, steps=300)
    truth = node_optimum(problem, lower, upper, scale, real)
    assert root <= truth + 1e-12
    # and it is a useful bound, not just any small number
    assert root > -1.0

    rng = np.random.default_rng(seed)
    d = problem.n_features
    for lower, upper in random_nodes(problem, seed, rng, 3):
        truth = node_optimum(problem, lower, upper, scale, real)
        # from a random, out-of-node start: any tangent point must give a bound
        start = FrankWolfePoint(float(rng.normal()), rng.normal(size=d), rng.random(d))
        bound = DualBound(oracle, problem).bound(start, lower, upper, steps=20)[0]
        assert bound <= truth + 1e-12
        assert oracle_bound(oracle, problem, lower, upper, steps=200) <= truth + 1e-12


@pytest.mark.parametrize("seed", range(20))
def test_vertex_is_the_exact_minimum_over_the_node(seed):
    """The linear subproblem against every admissible model of the node."""
    problem = variant(seed)
    d = problem.n_features
    rng = np.random.default_rng(100 + seed)
    lower, upper = node_arrays(problem, fixed_out=rng.permutation(d)[: d // 3],
                               fixed_in=[j for j in range(d)][-1:] if seed % 2 else ())
    bounds = DualBound(oracle_of(problem), problem)
    slopes = rng.normal(size=bounds.X.shape[0]) / bounds.X.shape[0]
    value, *_ = bounds.vertex(slopes, lower, upper)

    v = bounds.X.T @ slopes
    total = slopes.sum()
    best = np.inf
    ranges = [range(int(lo), int(hi) + 1) for lo, hi in zip(lower[1 : 1 + d], upper[1 : 1 + d])]
    for points in itertools.product(*ranges):
        points = np.array(points, dtype=float)
        used = points != 0
        if np.any(used < (lower[1 + d :] > 0.5)) or np.any(used > (upper[1 + d :] > 0.5)):
            continue
        if not problem.min_features <= used.sum() <= problem.max_support:
            continue
        linear = v @ points + problem.c0 @ used
        best = min(best, linear + min(total * lower[0], total * upper[0]))
    assert value == pytest.approx(best, abs=1e-12)


@pytest.mark.parametrize("seed", range(0, 40, 3))
def test_dual_bound_is_tight_at_a_leaf(seed):
    """With every point fixed (the optimum's) only the intercept is free: the
    bound must come within 1e-6 of the leaf's value and never above it, so a
    bound that is loose or shifted by even 1e-6 fails here."""
    problem = variant(seed)
    scale, real = problem.score_scale, not problem.integer_intercept
    wide = 50 + problem.intercept_upper
    truth = enumerate_optimum(problem.X, problem.y, problem.sample_weight, problem.coef_lower,
                              problem.coef_upper, -wide, wide, problem.c0,
                              problem.min_features, problem.max_features,
                              rows=problem.constraints, scale=scale, real_intercept=real)
    points = truth.points[0]
    d = problem.n_features
    lower, upper = node_arrays(problem, fixed_in=np.flatnonzero(points))
    lower[1 : 1 + d] = upper[1 : 1 + d] = points
    upper[1 + d :] = lower[1 + d :]
    start = FrankWolfePoint(float(truth.intercepts[0]), points, (points != 0).astype(float))
    bound = DualBound(oracle_of(problem), problem).bound(start, lower, upper, steps=50)[0]
    assert bound <= truth.objective + 1e-12
    assert bound >= truth.objective - (1e-6 if real else 0.05)
