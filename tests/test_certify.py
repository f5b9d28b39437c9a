"""The certificate checker, on hand-made search results: never trust a status.

Each test hands :func:`certify` a result the search could wrongly produce and
checks it is caught from the raw data. Mutating the matching check away in
``_solver/_certify.py`` makes the matching test fail (see
``benchmarks/mutation_check.py``).
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from sk_riskscore import MustNotUse
from sk_riskscore._constraints import compile_constraints
from sk_riskscore._solver import SolverStatistics, SolverStatus
from sk_riskscore._solver._certify import certify
from sk_riskscore._solver._result import ScoreModel, SolverResult

from .oracle import enumerate_optimum
from .test_solver_oracle import random_problem

SEED = 4  # binary features, three of them at most, |points| <= 3


@pytest.fixture(scope="module")
def solved():
    """A small problem, its brute-force optimum, and an honest result for it."""
    problem = random_problem(SEED)
    wide = problem.intercept_upper + 50
    truth = enumerate_optimum(
        problem.X, problem.y, problem.sample_weight, problem.coef_lower,
        problem.coef_upper, -wide, wide, problem.c0, problem.min_features,
        problem.max_features,
    )
    points = truth.points[0].astype(np.int64)
    intercept = int(truth.intercepts[0])
    model = ScoreModel(points=points, intercept=intercept, objective=truth.objective,
                       loss=truth.objective - float(np.asarray(problem.c0) @ (points != 0)))
    result = SolverResult(
        model=model, objective=truth.objective, lower_bound=truth.objective, gap=0.0,
        status=SolverStatus.OPTIMAL, statistics=SolverStatistics(),
    )
    return problem, truth, result


def test_an_honest_optimal_result_is_kept(solved):
    problem, truth, result = solved
    certified = certify(problem, result, gap_tolerance=1e-6)
    assert certified.status == SolverStatus.OPTIMAL
    assert certified.objective == pytest.approx(truth.objective, abs=1e-12)


def test_a_model_breaking_a_constraint_is_refused(solved):
    problem, _, result = solved
    used = int(np.flatnonzero(result.model.points)[0])
    names = [f"x{j}" for j in range(problem.n_features)]
    compiled = compile_constraints(
        names, max_coef=int(problem.coef_upper.max()),
        constraints=[MustNotUse(names[used])],
    )
    banned = dataclasses.replace(
        problem, coef_lower=np.maximum(problem.coef_lower, compiled.coef_lower),
        coef_upper=np.minimum(problem.coef_upper, compiled.coef_upper),
        constraints=compiled.rows,
    )
    certified = certify(banned, result, gap_tolerance=1e-6)
    assert certified.status == SolverStatus.ERROR
    assert "breaks a constraint" in certified.message


def test_optimal_with_a_gap_above_tolerance_is_downgraded(solved):
    problem, truth, result = solved
    claimed = dataclasses.replace(result, lower_bound=truth.objective * 0.5, gap=0.0)
    certified = certify(problem, claimed, gap_tolerance=1e-4)
    assert certified.status == SolverStatus.ERROR
    assert "reported optimal but the certified gap" in certified.message
    assert certified.gap == pytest.approx(0.5, rel=1e-9)
    # The same gap under a time limit is honest: kept, with the gap reported.
    stopped = dataclasses.replace(claimed, status=SolverStatus.TIME_LIMIT)
    assert certify(problem, stopped, gap_tolerance=1e-4).status == SolverStatus.TIME_LIMIT


def test_the_objective_is_recomputed_not_taken_from_the_search(solved):
    problem, truth, result = solved
    flattering = dataclasses.replace(
        result,
        model=dataclasses.replace(result.model, objective=truth.objective - 0.01),
        objective=truth.objective - 0.01, lower_bound=truth.objective - 0.01,
    )
    certified = certify(problem, flattering, gap_tolerance=1e-6)
    assert certified.status == SolverStatus.ERROR
    assert "disagrees" in certified.message
    assert certified.objective == pytest.approx(truth.objective, abs=1e-12)
    assert certified.model.objective == pytest.approx(truth.objective, abs=1e-12)


def test_a_lower_bound_above_an_admissible_objective_is_an_error(solved):
    problem, truth, result = solved
    impossible = dataclasses.replace(result, lower_bound=truth.objective + 0.01)
    certified = certify(problem, impossible, gap_tolerance=1e-6)
    assert certified.status == SolverStatus.ERROR
    assert "exceeds the objective" in certified.message
