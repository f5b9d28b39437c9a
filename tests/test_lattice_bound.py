"""The lattice bound (``_lattice``) against brute-force enumeration.

Its lines lie under each row's loss at integer scores only, so it may sit
above the continuous relaxation but never above an integer model: a bound
over the enumerated optimum of a problem or of a node is a failing test, from
the minimisation's own lines and from lines at random points. It must also
see what the continuous relaxation cannot (an intercept's fraction), and a
search that uses it must still find the enumerated optimum.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from scipy.optimize import minimize

from sk_riskscore._solver import RiskScoreProblem, SolverStatus, intercept_bound, solve
from sk_riskscore._solver import _branch_and_bound as branch_and_bound
from sk_riskscore._solver._dual import DualBound
from sk_riskscore._solver._lattice import LatticeBound
from sk_riskscore._solver._loss import LossOracle, _softplus_neg

from .oracle import enumerate_optimum
from .test_dual_bound import node_arrays, node_optimum, oracle_of, random_nodes
from .test_solver_oracle import ground_truth, random_problem

# random_problem's seeds with 0/1 or integer columns (every third has real ones)
INTEGRAL_SEEDS = [seed for seed in range(45) if seed % 3 != 2]


def integral_variant(seed):
    """random_problem with integer columns and, by seed, a score scale other than 1."""
    problem = random_problem(seed)
    if seed % 4 == 2:
        scale = float(np.random.default_rng(seed).uniform(0.4, 3.0))
        reach = intercept_bound(problem.X, problem.y, problem.sample_weight,
                                problem.coef_lower, problem.coef_upper,
                                problem.max_features, scale)
        problem = dataclasses.replace(problem, score_scale=scale,
                                      intercept_lower=-reach, intercept_upper=reach)
    return problem


def lattice_of(problem):
    oracle = oracle_of(problem)
    assert LatticeBound.applies(oracle, problem.integer_intercept)
    return LatticeBound(DualBound(oracle, problem))


@pytest.mark.parametrize("seed", INTEGRAL_SEEDS)
def test_lattice_bound_never_exceeds_the_optimum_at_the_root_or_a_node(seed):
    problem = integral_variant(seed)
    lattice = lattice_of(problem)
    d = problem.n_features
    rng = np.random.default_rng(seed)
    lower, upper = node_arrays(problem)
    truth = node_optimum(problem, lower, upper, problem.score_scale)
    root, point = lattice.bound(np.zeros(d + 1), lower, upper, iterations=50)
    assert root <= truth + 1e-12
    assert root > truth - 0.5  # a bound that says something
    # gone on from the root's point: narrower widths, tighter tolerances
    refined = lattice.refine(point, lower, upper, iterations=50)
    assert truth - 0.5 < refined <= truth + 1e-12
    for lower, upper in random_nodes(problem, seed, rng, 4):
        truth = node_optimum(problem, lower, upper, problem.score_scale)
        # warm-started from the parent's point, which may lie outside the node
        assert lattice.bound(point, lower, upper, iterations=20)[0] <= truth + 1e-12
        # any point's lines, at any smoothing width, give a bound
        anywhere = rng.normal(scale=2.0, size=d + 1)
        assert lattice.bound_at(anywhere, lower, upper, float(rng.uniform(0.01, 0.5))) \
            <= truth + 1e-12


def test_the_loss_read_at_integer_scores_is_the_loss_there():
    """The lines' values and chords come from the oracle's table of integer
    scores where they lie within it, and are computed elsewhere (rows of
    both kinds in one call): either way, the loss itself."""
    problem = integral_variant(6)  # integer columns, a score scale other than 1
    lattice = lattice_of(problem)
    assert lattice.scale != 1.0
    rng = np.random.default_rng(0)
    for spread in (1.0, 3.0, 20.0, 400.0):  # within the table, then past it too
        vertex = np.round(rng.normal(scale=spread, size=500))
        at, left, right = lattice._at_integers(vertex)
        loss = [_softplus_neg((vertex + step) / lattice.scale) for step in (-1.0, 0.0, 1.0)]
        np.testing.assert_allclose(at, loss[1], rtol=1e-14, atol=0)
        np.testing.assert_allclose(left, loss[1] - loss[0], rtol=1e-12, atol=1e-300)
        np.testing.assert_allclose(right, loss[2] - loss[1], rtol=1e-12, atol=1e-300)


def test_the_smoothed_lattice_loss_rounds_each_kink_and_has_its_gradient():
    """Each row's line: the interpolation's chord beside its vertex and, within
    ``mu`` of it, a parabola from one chord to the other; the summed loss's
    gradient is that of its values (L-BFGS-B relies on it)."""
    problem = integral_variant(6)
    lattice = lattice_of(problem)
    rng = np.random.default_rng(1)
    scores = rng.normal(scale=4.0, size=lattice.X.shape[0])
    for mu in (0.5, 0.2, 0.01):
        vertex, at, value, slope = lattice._lines(scores, mu)
        offset = scores - vertex
        loss = [_softplus_neg((vertex + step) / lattice.scale) for step in (-1.0, 0.0, 1.0)]
        left, right = loss[1] - loss[0], loss[2] - loss[1]
        share = (offset + mu) / (2 * mu)
        inner = np.abs(offset) < mu
        expected_slope = np.where(inner, left + (right - left) * share,
                                  np.where(offset < 0, left, right))
        expected_value = np.where(inner, loss[1] + left * offset
                                  + (right - left) * (offset + mu) ** 2 / (4 * mu),
                                  loss[1] + expected_slope * offset)
        np.testing.assert_allclose(at, loss[1], rtol=1e-13)
        np.testing.assert_allclose(slope, expected_slope, rtol=1e-11, atol=1e-15)
        np.testing.assert_allclose(value, expected_value, rtol=1e-11, atol=1e-15)
        point = rng.normal(scale=0.7, size=lattice.d + 1)
        _, gradient = lattice._smoothed(point, mu)
        for j in rng.choice(lattice.d + 1, size=3, replace=False):
            step = np.zeros_like(point)
            step[j] = 1e-6
            change = (lattice._smoothed(point + step, mu)[0]
                      - lattice._smoothed(point - step, mu)[0]) / 2e-6
            assert change == pytest.approx(gradient[j], rel=1e-4, abs=1e-6)


def test_lattice_bound_is_infinite_for_a_node_without_models():
    problem = random_problem(0)
    d = problem.n_features
    lower, upper = node_arrays(problem, fixed_in=range(d))
    lower[1:1 + d] = upper[1:1 + d] = 0.0  # every feature in, none may be non-zero
    assert lattice_of(problem).bound(np.zeros(d + 1), lower, upper, 10)[0] == np.inf


def test_lattice_bound_applies_to_integer_scores_only():
    problem = random_problem(0)
    oracle = oracle_of(problem)
    assert LatticeBound.applies(oracle, integer_intercept=True)
    assert not LatticeBound.applies(oracle, integer_intercept=False)
    assert not LatticeBound.applies(oracle.shifted(0.25), integer_intercept=True)
    real = random_problem(2)  # real-valued columns
    assert not LatticeBound.applies(oracle_of(real), integer_intercept=True)


def fractional_intercept_problem(n=6000, d=6, seed=0):
    """0/1 rows from a logistic truth with integer points and an intercept of
    -1.5: every integer model's intercept is half a unit off."""
    rng = np.random.default_rng(seed)
    X = (rng.random((n, d)) < rng.uniform(0.2, 0.5, d)).astype(float)
    truth = np.array([2, -1, 1, 0, 0, 0], dtype=float)[:d]
    y = np.where(rng.random(n) < 1 / (1 + np.exp(-(X @ truth - 1.5))), 1, -1)
    lower, upper = np.full(d, -2), np.full(d, 2)
    reach = intercept_bound(X, y, np.ones(n), lower, upper, 3)
    return RiskScoreProblem(X, y, np.ones(n), lower, upper, -reach, reach,
                            np.full(d, 1e-6), 0, 3)


def relaxed_and_integer_optima(problem):
    """The least loss of real points within the box (no support limit: no
    model of any support does better) and the enumerated integer optimum."""
    d = problem.n_features
    oracle = LossOracle(problem.X, problem.y, problem.sample_weight)

    def continuous(x):
        loss, slope_b, slope_l = oracle.loss_and_gradient(x[0], x[1:])
        return loss, np.concatenate([[slope_b], slope_l])

    box = [(problem.intercept_lower, problem.intercept_upper)] + list(
        zip(problem.coef_lower, problem.coef_upper))
    relaxed = minimize(continuous, np.zeros(d + 1), jac=True, method="L-BFGS-B",
                       bounds=box).fun
    optimum = enumerate_optimum(problem.X, problem.y, problem.sample_weight,
                                problem.coef_lower, problem.coef_upper,
                                problem.intercept_lower, problem.intercept_upper,
                                problem.c0, max_features=problem.max_features).objective
    return relaxed, optimum


def test_lattice_bound_closes_most_of_the_gap_the_continuous_relaxation_leaves():
    problem = fractional_intercept_problem()
    d = problem.n_features
    relaxed, optimum = relaxed_and_integer_optima(problem)
    lower, upper = node_arrays(problem)
    bound = lattice_of(problem).bound(np.zeros(d + 1), lower, upper, 100)[0]
    assert bound <= optimum + 1e-12
    assert optimum - relaxed > 1e-3  # the intercept's half unit costs this much
    assert bound - relaxed > 0.8 * (optimum - relaxed)


@pytest.mark.parametrize("large", [False, True])
@pytest.mark.parametrize("seed", INTEGRAL_SEEDS[:20])
def test_search_with_the_lattice_bound_finds_the_enumerated_optimum(seed, large, monkeypatch):
    """Every node bounded by it first, on problems small enough to enumerate;
    ``large``: as on large data, with nodes of up to 20,000 models closed by
    enumeration."""
    monkeypatch.setattr(branch_and_bound, "_LATTICE_MIN_ENTRIES", 0)
    if large:
        monkeypatch.setattr(branch_and_bound, "_LARGE_ENTRIES", 0)
    problem, truth = random_problem(seed), ground_truth(seed)
    result = solve(problem, time_limit=60, random_state=0)
    assert result.status is SolverStatus.OPTIMAL
    assert result.objective == pytest.approx(truth.objective, abs=1e-9)
    assert result.lower_bound <= truth.objective + 1e-9
    assert np.isfinite(result.statistics.root_dual_bound)
    # plain floats, as results are written to JSON
    assert type(result.lower_bound) is float and type(result.gap) is float


def test_search_with_the_lattice_bound_certifies_a_fractional_intercept(monkeypatch):
    problem = fractional_intercept_problem()
    monkeypatch.setattr(branch_and_bound, "_LATTICE_MIN_ENTRIES", 0)
    with_lattice = solve(problem, time_limit=60, random_state=0)
    relaxed, optimum = relaxed_and_integer_optima(problem)
    assert with_lattice.status is SolverStatus.OPTIMAL
    assert with_lattice.objective == pytest.approx(optimum, abs=1e-9)
    # the root saw most of the gap between real and integer points
    root = with_lattice.statistics.root_dual_bound
    assert root - relaxed > 0.8 * (optimum - relaxed)


def test_the_roots_refined_bound_holds_for_the_whole_search(monkeypatch):
    """Kept beside the tree, not as the root node's bound: a search stopped
    after its root still reports it, and it stays under the optimum."""
    problem = fractional_intercept_problem()
    monkeypatch.setattr(branch_and_bound, "_LATTICE_MIN_ENTRIES", 0)
    # the saturated bound alone would close this root, and the LP's cut
    # rounds would lift it past the refined bound
    monkeypatch.setattr(branch_and_bound.BranchAndBound, "_saturated_bound", lambda self: None)
    monkeypatch.setattr(branch_and_bound, "_ROOT_CUT_ROUNDS", 0)
    stopped = solve(problem, time_limit=60, random_state=0, max_nodes=1)
    optimum = relaxed_and_integer_optima(problem)[1]
    assert stopped.status is SolverStatus.NODE_LIMIT
    root = stopped.statistics.root_dual_bound
    assert stopped.lower_bound >= root - 1e-12
    assert root <= optimum + 1e-12


@pytest.mark.parametrize("seed", INTEGRAL_SEEDS[:6])
def test_search_on_the_transposed_view_of_the_rows_finds_the_enumerated_optimum(
        seed, monkeypatch):
    """Past the size where the rows are not copied transposed, the dual and
    lattice bounds, the beam and the saturated bound read a view: the same
    optimum (large data made small by moving both thresholds)."""
    from sk_riskscore._solver import _loss

    monkeypatch.setattr(_loss, "_TRANSPOSED_COPY_MAX_ENTRIES", 0)
    monkeypatch.setattr(branch_and_bound, "_LATTICE_MIN_ENTRIES", 0)
    monkeypatch.setattr(branch_and_bound, "_LARGE_ENTRIES", 0)
    problem, truth = random_problem(seed), ground_truth(seed)
    oracle = LossOracle(problem.X, problem.y, problem.sample_weight)
    assert np.shares_memory(oracle.columns, oracle.X)
    result = solve(problem, time_limit=60, random_state=0)
    assert result.status is SolverStatus.OPTIMAL
    assert result.objective == pytest.approx(truth.objective, abs=1e-9)
