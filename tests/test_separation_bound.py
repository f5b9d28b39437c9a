"""The separation bound (``_separable``) against brute force.

Which supports admit an integer model that separates the classes is found by
trying every points vector on them; the bound's least separating penalty must
equal the least such penalty, its value must stay under every model's
objective (enumerated), and a cut drawn from a support whose classes' hulls
meet must leave out only supports that cannot separate.
"""

from __future__ import annotations

import itertools
import math
import time

import numpy as np
import pytest

from sk_riskscore._solver import RiskScoreProblem, SolverStatus, solve
from sk_riskscore._solver import _branch_and_bound as branch_and_bound
from sk_riskscore._solver import _separable as separable
from sk_riskscore._solver._loss import LossOracle

from .oracle import enumerate_models

MAX_COEF = 2


def separable_rows(seed: int, n: int = 60, d: int = 7, truth_size: int = 3):
    """0/1 rows labelled without noise by a sparse integer model: separable
    on its support, and perhaps on others."""
    rng = np.random.default_rng(seed)
    X = (rng.random((n, d)) < rng.uniform(0.2, 0.7, d)).astype(float)
    truth = np.zeros(d)
    truth[rng.choice(d, truth_size, replace=False)] = rng.choice([-2, -1, 1, 2], truth_size)
    scores = X @ truth
    cut = np.median(scores) + 0.5
    y = np.where(scores >= cut, 1, -1)
    if len(set(y)) == 1:
        y[0] = -y[0]
    weights = rng.uniform(0.5, 2.0, n) if seed % 2 else np.ones(n)
    return X, y, weights


def separating_supports(X, y, max_support: int):
    """Every support (as a frozenset) on which an integer model with points
    in [-MAX_COEF, MAX_COEF], non-zero on all of it, separates strictly."""
    found = set()
    values = [v for v in range(-MAX_COEF, MAX_COEF + 1) if v]
    for size in range(0, max_support + 1):
        for support in itertools.combinations(range(X.shape[1]), size):
            columns = X[:, list(support)]
            for points in itertools.product(values, repeat=size):
                scores = columns @ np.array(points, dtype=float)
                if scores[y > 0].min() > scores[y < 0].max():
                    found.add(frozenset(support))
                    break
    return found


def least_penalty(c0, supports) -> float:
    return min((sum(c0[j] for j in s) for s in supports), default=math.inf)


def bound_of(X, y, weights, c0, max_support, allowed=None, enough=math.inf):
    rows = LossOracle(X, y, weights)
    allowed = np.ones(X.shape[1], dtype=bool) if allowed is None else allowed
    return separable.separation_bound(rows, c0, allowed, max_support, float(MAX_COEF),
                                      time.perf_counter() + 60, enough=enough)


@pytest.mark.parametrize("seed", range(8))
def test_least_separating_penalty_equals_brute_force(seed):
    X, y, weights = separable_rows(seed)
    rng = np.random.default_rng(100 + seed)
    c0 = rng.uniform(0.5, 1.5, X.shape[1]) * 1e-4
    max_support = 4
    bound = bound_of(X, y, weights, c0, max_support)
    assert bound is not None and bound.proven
    truth = least_penalty(c0, separating_supports(X, y, max_support))
    if math.isinf(truth):
        assert math.isinf(bound.separable_penalty)
    else:
        assert bound.separable_penalty == pytest.approx(truth, rel=1e-4)
        assert bound.separable_penalty <= truth * (1 + 1e-12)
    # a model that fails a row fails its copies too: the least merged weight
    _, copies = np.unique(X, axis=0, return_inverse=True)
    floor = math.log(2) * np.bincount(copies.ravel(), weights).min() / weights.sum()
    assert bound.nonseparable_loss == pytest.approx(floor, rel=1e-12)
    assert bound.value == min(bound.separable_penalty, bound.nonseparable_loss)


@pytest.mark.parametrize("seed", range(6))
def test_the_bound_is_under_every_models_objective(seed):
    """At a steep scale (loss nearly 0 for separating models) and at scale 1."""
    X, y, weights = separable_rows(seed, n=40, d=5)
    c0 = np.full(5, 1e-3)
    bound = bound_of(X, y, weights, c0, max_support=3)
    lower, upper = np.full(5, -MAX_COEF), np.full(5, MAX_COEF)
    for scale in (0.02, 1.0):
        models = enumerate_models(X, y, weights, lower, upper, -40, 40, c0, 0, 3,
                                  scale=scale, real_intercept=True)
        assert bound.value <= models.objectives.min() + 1e-12


@pytest.mark.parametrize("seed", range(6))
def test_a_cut_leaves_out_only_supports_that_cannot_separate(seed):
    X, y, weights = separable_rows(seed, truth_size=4)
    rows = X > 0
    negative = y < 0
    max_support = 4
    tolerance = 0.5 / (MAX_COEF * max_support)
    separating = separating_supports(X, y, max_support)
    cuts = 0
    for size in (2, 3):
        for support in itertools.combinations(range(X.shape[1]), size):
            support = np.array(support)
            meeting = separable._meeting_columns(rows, negative, support, tolerance)
            if frozenset(support.tolist()) in separating:
                # a separating support has no meeting weights of its own
                assert meeting is None or meeting[support].any()
                continue
            if meeting is None or meeting[support].any():
                continue
            cuts += 1
            avoiding = np.flatnonzero(~meeting)
            for other in separating:
                assert not other <= set(avoiding.tolist()), (support, other)
    assert cuts > 0


def test_a_row_with_both_classes_or_real_columns_give_no_bound():
    X, y, weights = separable_rows(0)
    c0 = np.full(X.shape[1], 1e-4)
    both = np.vstack([X, X[:1]]), np.r_[y, -y[:1]], np.r_[weights, 1.0]
    assert bound_of(*both, c0, 4) is None
    real = X.copy()
    real[0, 0] = 0.5
    assert bound_of(real, y, weights, c0, 4) is None


def test_a_support_limit_below_the_least_separating_support_leaves_the_floor():
    X, y, weights = separable_rows(3, truth_size=4)
    c0 = np.full(X.shape[1], 1e-4)
    least = min(len(s) for s in separating_supports(X, y, 4))
    bound = bound_of(X, y, weights, c0, least - 1)
    assert bound.proven and math.isinf(bound.separable_penalty)
    assert bound.value == bound.nonseparable_loss


def test_rows_that_differ_only_on_columns_not_allowed_leave_the_floor():
    X, y, weights = separable_rows(4)
    X = np.hstack([X, np.zeros((len(X), 1))])
    X = np.vstack([X, X[:1]])
    X[-1, -1] = 1.0  # the first row's twin but for the last column, in the other class
    y, weights = np.r_[y, -y[:1]], np.r_[weights, 1.0]
    c0 = np.full(X.shape[1], 1e-4)
    allowed = np.ones(X.shape[1], dtype=bool)
    assert math.isfinite(bound_of(X, y, weights, c0, 5, allowed=allowed).separable_penalty)
    allowed[-1] = False
    bound = bound_of(X, y, weights, c0, 5, allowed=allowed)
    assert bound.proven and math.isinf(bound.separable_penalty)
    assert bound.value == bound.nonseparable_loss


def test_columns_not_allowed_are_left_out():
    X, y, weights = separable_rows(5)
    c0 = np.full(X.shape[1], 1e-4)
    full = bound_of(X, y, weights, c0, 4)
    used = set(full.support)
    allowed = np.ones(X.shape[1], dtype=bool)
    allowed[sorted(used)[0]] = False
    narrower = bound_of(X, y, weights, c0, 4, allowed=allowed)
    truth = least_penalty(c0, [s for s in separating_supports(X, y, 4)
                               if allowed[list(s)].all()])
    assert narrower.separable_penalty == pytest.approx(truth, rel=1e-4)
    assert not set(narrower.support) - set(np.flatnonzero(allowed).tolist())


def test_the_bound_is_kept_on_the_rows_and_stops_at_enough(monkeypatch):
    X, y, weights = separable_rows(2)
    c0 = np.full(X.shape[1], 1e-4)
    rows = LossOracle(X, y, weights)
    allowed = np.ones(X.shape[1], dtype=bool)
    searched = []
    real_search = separable._search
    monkeypatch.setattr(separable, "_search",
                        lambda *a: searched.append(1) or real_search(*a))
    first = separable.separation_bound(rows, c0, allowed, 4, 2.0, time.perf_counter() + 60,
                                       enough=1e-4)
    assert not first.proven and first.value >= 1e-4  # stopped once it sufficed
    again = separable.separation_bound(rows.at_scale(0.1), c0, allowed, 4, 2.0,
                                       time.perf_counter() + 60, enough=1e-4)
    assert again is first and len(searched) == 1
    full = separable.separation_bound(rows, c0, allowed, 4, 2.0, time.perf_counter() + 60)
    assert full.proven and len(searched) == 2


def steep_problem(seed: int) -> RiskScoreProblem:
    """Separable rows at a steep score scale, too wide for the saturated
    bound's tables: the objective is nearly all penalty."""
    d = 40
    X, y, weights = separable_rows(seed, n=400, d=d, truth_size=6)
    return RiskScoreProblem(X, y, weights, np.full(d, -MAX_COEF), np.full(d, MAX_COEF), -40, 40,
                            np.full(d, 1e-4), max_features=7, score_scale=0.01,
                            integer_intercept=False)


@pytest.mark.parametrize("seed", [0, 1])
def test_a_steep_scale_is_certified_at_the_root_by_the_separation_bound(seed, monkeypatch):
    """Given its optimum as a start, the search proves it at its first node by
    the separation bound alone; without that bound the tree needs many."""
    problem = steep_problem(seed)
    first = solve(problem, time_limit=60)
    assert first.status == SolverStatus.OPTIMAL
    model = first.model
    # nearly all penalty: the model separates the rows
    assert model.objective - problem.c0 @ (model.points != 0) < 1e-9
    sought = []
    real_bound = branch_and_bound.separation_bound
    monkeypatch.setattr(branch_and_bound, "separation_bound",
                        lambda *a, **k: sought.append(real_bound(*a, **k)) or sought[-1])
    again = solve(problem, time_limit=60, initial_models=[(model.intercept, model.points)])
    assert again.status == SolverStatus.OPTIMAL
    assert again.statistics.n_nodes == 1
    assert len(sought) == 1 and sought[0].value <= again.objective
    assert again.lower_bound == pytest.approx(again.objective, rel=1e-4)
    monkeypatch.setattr(branch_and_bound, "separation_bound", lambda *a, **k: None)
    without = solve(problem, time_limit=60, initial_models=[(model.intercept, model.points)])
    assert without.objective == pytest.approx(again.objective, rel=1e-9)
    assert without.statistics.n_nodes > 10


def test_the_separation_bound_serves_a_search_on_two_processes(monkeypatch):
    """The coordinator seeks the bound; the certificate is the same as on one."""
    # the search takes about 1.5 s, so on a slow machine the coordinator would
    # finish alone before the workers have started
    monkeypatch.setattr(branch_and_bound, "_WAIT_FOR_WORKERS", True)
    problem = steep_problem(1)
    one = solve(problem, time_limit=60)
    two = solve(problem, time_limit=60, n_jobs=2)
    assert two.statistics.n_jobs == 2  # the root left the tree open: workers searched
    assert two.status == SolverStatus.OPTIMAL
    assert two.objective == pytest.approx(one.objective, rel=1e-4)
    assert two.lower_bound <= two.objective


def test_a_support_of_every_column_and_an_undecided_lp(monkeypatch):
    """A support that holds every column gets an answer with no columns
    outside it; an LP that stops without one ends the search, its bound still
    the last MIP's."""
    X, y, weights = separable_rows(6, d=4, truth_size=2)
    rows, negative = X > 0, y < 0
    everything = np.arange(X.shape[1])
    meeting = separable._meeting_columns(rows, negative, everything, 0.1)
    # real points may separate where small integers do not; never the reverse
    if meeting is not None:
        assert frozenset(everything.tolist()) not in separating_supports(X, y, X.shape[1])
        assert not meeting.any()  # no column outside
    c0 = np.full(X.shape[1], 1e-4)
    truth = least_penalty(c0, separating_supports(X, y, 3))

    def undecided(*args, **kwargs):
        raise separable._Undecided("stopped")

    monkeypatch.setattr(separable, "_meeting_columns", undecided)
    bound = bound_of(X, y, weights, c0, 3)
    assert not bound.proven
    assert bound.separable_penalty <= truth * (1 + 1e-12)


def test_a_bound_never_above_the_incumbent_on_two_processes(monkeypatch):
    """Without the separation bound, two processes on a steep problem used to
    report, about every other run, a bound above the incumbent's objective
    (regions left out by reduced-cost fixing hold the incumbent but no closed
    node records them), which the independent check turned into an error."""
    monkeypatch.setattr(branch_and_bound, "separation_bound", lambda *a, **k: None)
    monkeypatch.setattr(branch_and_bound, "_WAIT_FOR_WORKERS", True)
    problem = steep_problem(1)
    for _ in range(3):
        result = solve(problem, time_limit=60, n_jobs=2)
        assert result.statistics.n_jobs == 2  # the workers searched
        assert result.status == SolverStatus.OPTIMAL, result.message
        assert result.lower_bound <= result.objective
