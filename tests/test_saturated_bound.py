"""The saturated bound (``_saturated``) against brute force.

Its values are checked against the cells' entropy computed from the raw rows
by grouping, and its bounds against enumeration: a node's bound above the best
model the node admits is a failing test.
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from sk_riskscore._solver import RiskScoreProblem, SolverStatus, intercept_bound, solve
from sk_riskscore._solver import _saturated as saturated
from sk_riskscore._solver._loss import LossOracle
from sk_riskscore._solver._saturated import SaturatedBound

from .oracle import enumerate_models


def binary_rows(seed: int, n: int = 200, d: int = 6):
    rng = np.random.default_rng(seed)
    X = (rng.random((n, d)) < rng.uniform(0.15, 0.8, d)).astype(float)
    if d > 3:
        X[:, 3] = X[:, 1]  # twins: cells that are empty by construction
    if d > 4:
        X[:, 4] = 1.0 - X[:, 0]  # a complement: the same cells as its column
    truth = rng.integers(-2, 3, d)
    logits = X @ truth - np.clip(truth, 0, None).sum() / 2 + rng.normal(size=n)
    y = np.where(rng.random(n) < 1 / (1 + np.exp(-logits)), 1, -1)
    y[:2] = [1, -1]
    weights = rng.uniform(0.0, 3.0, n) if seed % 2 else np.ones(n)
    return X, y, weights


def grouped_entropy(X, y, weights, support) -> float:
    """The saturated loss from the raw rows: each group of equal values on the
    support gets its own best score, so its loss is its weighted entropy.
    """
    columns = sorted(set(support))
    groups = X[:, columns].astype(int) @ (1 << np.arange(len(columns)))
    positive = np.bincount(groups, weights * (y > 0))
    total = np.bincount(groups, weights)
    loss = 0.0
    for part, whole in zip(np.r_[positive, total - positive], np.r_[total, total]):
        if part > 0:
            loss -= part * np.log(part / whole)
    return loss / weights.sum()


@pytest.mark.parametrize("max_support", [1, 2, 3, 4, 5])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_table_entries_are_the_cells_entropy(seed, max_support):
    X, y, weights = binary_rows(seed)
    bound = SaturatedBound.build(LossOracle(X, y, weights), max_support)
    # a partition per column, its twin and its complement
    assert bound.table.shape == (X.shape[1] - 2,) * max_support
    supports = list(itertools.product(range(X.shape[1]), repeat=max_support))
    rng = np.random.default_rng(seed)
    for i in rng.permutation(len(supports))[:300]:
        support = supports[i]
        expected = grouped_entropy(X, y, weights, list(support))
        entry = bound.table[tuple(bound.partition[list(support)])]
        assert entry == pytest.approx(expected, rel=1e-8, abs=1e-12)
        assert entry <= expected  # lowered, never raised


@pytest.mark.parametrize("seed", [0, 1, 2, 3])
def test_completions_of_used_features_are_the_cells_entropy(seed, monkeypatch):
    """Without the root's table, a node with few slots left is bounded from
    its used features' cells."""
    monkeypatch.setattr(saturated, "_MAX_ENTRIES", 0)
    X, y, weights = binary_rows(seed, d=7)
    bound = SaturatedBound.build(LossOracle(X, y, weights), 5)
    assert bound.table is None and bound.completion_slots == 3
    rng = np.random.default_rng(seed)
    for used_count in (2, 3, 4, 5):
        used = np.zeros(7, dtype=bool)
        used[rng.choice(7, used_count, replace=False)] = True
        values = bound._completions(np.sort(bound.partition[used]), 5 - used_count)
        extras = list(itertools.product(range(7), repeat=5 - used_count))
        for i in rng.permutation(len(extras))[:150]:
            extra = extras[i]
            support = list(np.flatnonzero(used)) + list(extra)
            expected = grouped_entropy(X, y, weights, support)
            entry = values[tuple(bound.partition[list(extra)])]
            assert entry == pytest.approx(expected, rel=1e-8, abs=1e-12)


def models_of_node(X, y, weights, used, free, max_support, c0):
    """Every model the node admits (nonzero on ``used``, zero off ``used | free``,
    at most ``max_support`` features), by enumeration over points in [-2, 2]."""
    d = X.shape[1]
    lower = np.where(used | free, -2, 0)
    upper = np.where(used | free, 2, 0)
    reach = intercept_bound(X, y, weights, lower, upper, max_support) + 10
    everything = enumerate_models(X, y, weights, lower, upper, -reach, reach, np.full(d, c0),
                                  0, max_support)
    keep = np.all(everything.points[:, used] != 0, axis=1)
    return everything.objectives[keep], everything.points[keep]


@pytest.mark.parametrize("tabled", [True, False])
@pytest.mark.parametrize("max_support", [2, 3, 4])
@pytest.mark.parametrize("seed", range(6))
def test_node_bound_never_exceeds_the_nodes_best_model(seed, max_support, tabled,
                                                        monkeypatch):
    if not tabled:  # from the used features' cells, up to two slots
        monkeypatch.setattr(saturated, "_MAX_ENTRIES", 0)
        monkeypatch.setattr(saturated, "_MAX_COMPLETION_ENTRIES", 9)
    X, y, weights = binary_rows(seed, n=150, d=5)
    c0 = 1e-3
    bound = SaturatedBound.build(LossOracle(X, y, weights), max_support)
    rng = np.random.default_rng(100 + seed)
    checked = 0
    for _ in range(8):
        state = rng.integers(0, 3, 5)  # 0: out, 1: free, 2: used
        used, free = state == 2, state == 1
        if used.sum() > max_support:
            continue
        objectives, points = models_of_node(X, y, weights, used, free, max_support, c0)
        value, best_with = bound.node_bound(used, free)
        value += c0 * used.sum()
        if len(objectives) == 0 or value == -np.inf:
            continue
        checked += 1
        assert value <= objectives.min() + 1e-12
        for j in np.flatnonzero(free):
            with_j = points[:, j] != 0
            if with_j.any():
                # screening leaves j out only if no model with it can beat the bound
                assert best_with[j] + c0 * (used.sum() + 1) <= objectives[with_j].min() + 1e-12
    assert checked > 0


def test_bound_applies_only_to_binary_columns():
    X, y, weights = binary_rows(0)
    X[0, 0] = 2.0
    assert SaturatedBound.build(LossOracle(X, y, weights), 3) is None


def test_a_table_past_its_deadline_is_not_built():
    """The nodes then get what the used features' cells give."""
    X, y, weights = binary_rows(0)
    bound = SaturatedBound.build(LossOracle(X, y, weights), 3, deadline=0.0)
    assert bound.table is None and bound.completion_slots == 3


@pytest.mark.parametrize("tabled", [True, False])
@pytest.mark.parametrize("seed", range(4))
def test_search_with_the_bound_matches_enumeration(seed, tabled, monkeypatch):
    """k = 4 on 7 binary columns: from the root's table, or (nodes with two
    slots or fewer left) from their used features' cells."""
    if not tabled:
        monkeypatch.setattr(saturated, "_MAX_ENTRIES", 0)
        monkeypatch.setattr(saturated, "_MAX_LIST_SUPPORTS", 0)
        monkeypatch.setattr(saturated, "_MAX_COMPLETION_ENTRIES", 49)
    X, y, weights = binary_rows(seed, n=250, d=7)
    lower, upper = np.full(7, -2), np.full(7, 2)
    reach = intercept_bound(X, y, weights, lower, upper, 4)
    c0 = np.full(7, 1e-3 if seed % 2 else 1e-6)
    problem = RiskScoreProblem(X, y, weights, lower, upper, -reach, reach, c0, max_features=4)
    truth = enumerate_models(X, y, weights, lower, upper, -reach - 20, reach + 20, c0, 0, 4)
    result = solve(problem, time_limit=120, gap_tolerance=1e-9)
    assert result.status == SolverStatus.OPTIMAL
    assert result.objective == pytest.approx(truth.objectives.min(), abs=1e-9)
    assert result.lower_bound <= truth.objectives.min() + 1e-9


def test_nodes_with_more_slots_than_the_completions_get_no_bound(monkeypatch):
    """Beyond the slots it can fill, the bound claims nothing and leaves out nothing."""
    monkeypatch.setattr(saturated, "_MAX_ENTRIES", 0)
    monkeypatch.setattr(saturated, "_MAX_COMPLETION_ENTRIES", 125)
    X, y, weights = binary_rows(0, d=7)
    bound = SaturatedBound.build(LossOracle(X, y, weights), 6)
    assert bound.table is None and bound.completion_slots == 3
    used = np.zeros(7, dtype=bool)
    used[0] = True
    free = ~used
    value, best_with = bound.node_bound(used, free)
    assert value == -np.inf
    assert np.all(best_with[free] == -np.inf)


def test_three_slots_are_filled_only_for_few_used_features(monkeypatch):
    """Deeper sets of used features are many and each seen once: only two
    slots (one product of the rows) are filled for them."""
    monkeypatch.setattr(saturated, "_MAX_ENTRIES", 0)
    monkeypatch.setattr(saturated, "_MAX_COMPLETION_ENTRIES", 125)
    X, y, weights = binary_rows(1, d=7)  # 5 partitions
    bound = SaturatedBound.build(LossOracle(X, y, weights), 6)
    assert bound.completion_slots == 3
    for used_columns, known in (([0, 1, 2], False), ([0, 1, 2, 5], True)):
        used = np.isin(np.arange(7), used_columns)
        value, _ = bound.node_bound(used, ~used)
        assert np.isfinite(value) == known
    bound = SaturatedBound.build(LossOracle(X, y, weights), 5)
    used = np.isin(np.arange(7), [0, 1])
    assert np.isfinite(bound.node_bound(used, ~used)[0])


# ---------------------------------------------------------- the list of supports
def whole_weight_rows(seed: int, n: int = 180, d: int = 8):
    """Binary rows with whole-number weights (repeated rows), as the list needs."""
    X, y, _ = binary_rows(seed, n=n, d=d)
    return X, y, np.random.default_rng(seed).integers(1, 4, n).astype(float)


def listed(monkeypatch, **limits):
    """Force the list of supports (no root table) with these module limits."""
    monkeypatch.setattr(saturated, "_MAX_ENTRIES", 0)
    for name, value in limits.items():
        monkeypatch.setattr(saturated, name, value)


# each class's weight: one unit for both (as repeated rows), a common unit
# (2 and 4), and a unit per class (compute_sample_weight("balanced"))
CLASS_WEIGHTS = [(1.0, 1.0), (2.0, 4.0), (0.37, 1.9)]


@pytest.mark.parametrize("class_weight", CLASS_WEIGHTS)
@pytest.mark.parametrize("max_support", [4, 5])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_listed_values_are_the_cells_entropy(seed, max_support, class_weight, monkeypatch):
    listed(monkeypatch)
    X, y, weights = whole_weight_rows(seed, d=9)  # 7 partitions
    weights = weights * np.where(y > 0, *class_weight)
    bound = SaturatedBound.build(LossOracle(X, y, weights), max_support)
    supports, values, beyond = bound.supports
    assert bound.table is None and beyond == np.inf
    assert len(supports) == len(set(map(tuple, np.sort(supports, axis=1))))
    assert len(supports) == len(list(itertools.combinations(range(7), max_support)))
    assert np.all(np.diff(values) >= 0)
    representative = {p: int(np.flatnonzero(bound.partition == p)[0]) for p in range(7)}
    for support, value in zip(supports, values):
        expected = grouped_entropy(X, y, weights, [representative[p] for p in support])
        # lowered by the rounding margin, 1e-9 * (1 + value)
        assert value == pytest.approx(expected, rel=1e-8, abs=2e-9)
        assert value <= expected


@pytest.mark.parametrize("kept", [None, 6])
@pytest.mark.parametrize("seed", range(5))
def test_listed_bound_never_exceeds_the_nodes_best_model(seed, kept, monkeypatch):
    """Also with the list cut to its 6 lowest supports, or a node reading only
    its 4 lowest: the next value then stands for the rest."""
    listed(monkeypatch, **({} if kept is None else {"_LIST_KEPT": kept, "_LIST_SCANNED": 4}))
    X, y, weights = whole_weight_rows(seed, n=120, d=7)  # 5 partitions
    c0, max_support = 1e-3, 4
    bound = SaturatedBound.build(LossOracle(X, y, weights), max_support)
    assert bound.supports is not None
    rng = np.random.default_rng(200 + seed)
    checked = 0
    for _ in range(10):
        state = rng.choice(3, 7, p=[0.2, 0.5, 0.3])  # 0: out, 1: free, 2: used
        used, free = state == 2, state == 1
        if used.sum() > max_support:
            continue
        objectives, points = models_of_node(X, y, weights, used, free, max_support, c0)
        if len(objectives) == 0:
            continue
        threshold = np.quantile(objectives, 0.3) if seed % 2 else np.inf
        value, best_with = bound.node_bound(used, free, threshold=threshold)
        checked += 1
        assert min(value + c0 * used.sum(), threshold) <= objectives.min() + 1e-12
        for j in np.flatnonzero(free):
            with_j = points[:, j] != 0
            if with_j.any():
                reach = best_with[j] + c0 * (used.sum() + 1)
                assert min(reach, threshold) <= objectives[with_j].min() + 1e-12
    assert checked > 0


@pytest.mark.parametrize("seed", range(4))
def test_listed_supports_hold_every_model_under_the_threshold(seed, monkeypatch):
    listed(monkeypatch)
    X, y, weights = whole_weight_rows(seed, n=120, d=7)
    max_support = 4
    bound = SaturatedBound.build(LossOracle(X, y, weights), max_support)
    objectives, points = models_of_node(X, y, weights, np.zeros(7, bool), np.ones(7, bool),
                                        max_support, 0.0)
    threshold = float(np.quantile(objectives, 0.05))
    d = 7
    lower = np.concatenate([[-50], np.full(d, -2), np.zeros(d)])
    upper = np.concatenate([[50], np.full(d, 2), np.ones(d)])
    supports, values = bound.listed_supports(lower, upper, threshold, at_most=100)
    assert np.all(values < threshold)
    for objective, pts in zip(objectives, points):
        if objective < threshold:
            parts = set(bound.partition[pts != 0])
            assert any(parts <= set(support) for support in supports)
    assert bound.listed_supports(lower, upper, threshold, at_most=0) is None or len(
        supports) == 0


def test_the_list_counts_in_units_of_the_weights_or_floors_them(monkeypatch):
    """Weights that are multiples of a unit (per class) are counted exactly;
    others are floored to a grid, and the values stay under the cells'
    entropy with the true weights."""
    listed(monkeypatch)
    X, y, weights = whole_weight_rows(0)
    bound = SaturatedBound.build(LossOracle(X, y, weights * np.sqrt(2)), 4)
    assert bound.supports is not None  # a common unit is fine
    for class_weight, one_unit in zip(CLASS_WEIGHTS, [True, True, False]):
        oracle = LossOracle(X, y, weights * np.where(y > 0, *class_weight))
        entropy = saturated._CellEntropy.of(oracle.weight, oracle.negative_weight)
        assert entropy.one_unit == one_unit  # one unit where the classes share one
        assert not entropy.floored
    # one shared unit would count 2^24 rows or more; a unit per class does not
    positive = np.where(y > 0, 1.0, 0.0)
    total = positive * 1e-6 + (1 - positive) * 1.0
    entropy = saturated._CellEntropy.of(total / total.sum(), (1 - positive) / total.sum())
    assert entropy is not None and not entropy.one_unit
    assert entropy.counts.sum() == len(y)
    # no unit: floored, and every value a little under the exact one
    weights = np.random.default_rng(0).uniform(0.2, 3.0, len(y))
    oracle = LossOracle(X, y, weights)
    assert saturated._CellEntropy.of(oracle.weight, oracle.negative_weight).floored
    bound = SaturatedBound.build(oracle, 4)
    supports, values, _ = bound.supports
    representative = {p: int(np.flatnonzero(bound.partition == p)[0])
                      for p in range(bound.n_partitions)}
    for support, value in zip(supports, values):
        expected = grouped_entropy(X, y, weights, [representative[p] for p in support])
        assert expected * (1 - 1e-2) <= value <= expected


def test_a_list_past_its_deadline_is_not_built(monkeypatch):
    listed(monkeypatch)
    X, y, weights = whole_weight_rows(0)
    bound = SaturatedBound.build(LossOracle(X, y, weights), 5, deadline=0.0)
    assert bound.supports is None


@pytest.mark.parametrize(("seed", "max_support", "weighting"),
                         [(seed, k, "whole") for seed in range(3) for k in (4, 5)]
                         + [(1, 5, "balanced"), (2, 5, "fractional")])
def test_search_by_listed_supports_matches_enumeration(seed, max_support, weighting,
                                                       monkeypatch, spy):
    """The tree splits nodes by the listed supports they allow: the optimum
    and the bound against every model; also with balanced class weights (a
    unit per class) and fractional ones (floored to a grid)."""
    from sk_riskscore._solver import _branch_and_bound

    listed(monkeypatch)
    splits = spy(_branch_and_bound.BranchAndBound, "_by_support")
    X, y, weights = whole_weight_rows(seed, n=120, d=8)
    if weighting == "balanced":
        weights = weights * np.where(y > 0, len(y) / (2 * np.sum(y > 0)),
                                     len(y) / (2 * np.sum(y < 0)))
    elif weighting == "fractional":
        weights = np.random.default_rng(seed).uniform(0.2, 3.0, len(y))
    lower, upper = np.full(8, -2), np.full(8, 2)
    reach = intercept_bound(X, y, weights, lower, upper, max_support)
    c0 = np.full(8, 1e-3 if seed % 2 else 1e-6)
    problem = RiskScoreProblem(X, y, weights, lower, upper, -reach, reach, c0,
                               max_features=max_support)
    truth = enumerate_models(X, y, weights, lower, upper, -reach - 20, reach + 20, c0, 0,
                             max_support)
    result = solve(problem, time_limit=120, gap_tolerance=1e-9)
    assert result.status == SolverStatus.OPTIMAL
    assert result.objective == pytest.approx(truth.objectives.min(), abs=1e-9)
    assert result.lower_bound <= truth.objectives.min() + 1e-9
    assert any(splits)


def four_feature_problem(seed: int) -> RiskScoreProblem:
    """k = 4 on 8 columns with whole weights: the list applies (see ``listed``)."""
    X, y, weights = whole_weight_rows(seed, n=150, d=8)
    lower, upper = np.full(8, -2), np.full(8, 2)
    reach = intercept_bound(X, y, weights, lower, upper, 4)
    return RiskScoreProblem(X, y, weights, lower, upper, -reach, reach, np.full(8, 1e-4),
                            max_features=4)


def test_the_scale_search_builds_the_list_once_from_its_whole_time(monkeypatch):
    """Every scale's solve shares the bound; each one's slice of the time
    limit would be too short for the list's build share (heloc, k = 5)."""
    import time

    from sk_riskscore._solver import search_scale

    listed(monkeypatch)
    built = []
    lowest = saturated._lowest_supports

    def recorded(X, total, negative, size, deadline=np.inf):
        built.append(deadline - time.perf_counter())
        return lowest(X, total, negative, size, deadline)

    monkeypatch.setattr(saturated, "_lowest_supports", recorded)
    problem = four_feature_problem(0)
    result = search_scale(problem, time_limit=40, gap_tolerance=1e-4)
    assert result.model is not None
    assert len(built) == 1
    assert built[0] > 0.9 * saturated.BUILD_SHARE * 40


def test_the_first_incumbent_is_reported_before_the_list_is_built(monkeypatch):
    """The list takes seconds to build (heloc, k = 5: 6 s): the user sees a
    first model, and has one if the search is stopped, before it starts."""
    listed(monkeypatch)
    reports = []
    seen_at_build = []
    lowest = saturated._lowest_supports

    def recorded(*args, **kwargs):
        seen_at_build.append([report.objective for report in reports])
        return lowest(*args, **kwargs)

    monkeypatch.setattr(saturated, "_lowest_supports", recorded)
    problem = four_feature_problem(1)
    result = solve(problem, time_limit=60, progress=reports.append)
    assert len(seen_at_build) == 1
    assert len(seen_at_build[0]) == 1 and np.isfinite(seen_at_build[0][0])
    assert seen_at_build[0][0] >= result.objective - 1e-12


class _ScriptedScreen:
    """A saturated bound whose screen never prunes and either always leaves
    out a feature (it pays) or never does anything (it does not); no list."""

    seconds = 0.0
    supports = None

    def __init__(self, pays: bool):
        self.pays = pays

    def at_box(self, *args, **kwargs):
        return self

    def split(self, *args):
        return None

    def screen(self, lower, upper, c0, threshold, elapsed=np.inf, spent_before=0.0):
        # "left out" with nothing changed: propagation finds the box as it was
        return -np.inf, self.pays, np.inf


@pytest.mark.parametrize("pays", [True, False])
def test_the_screen_runs_at_every_node_while_it_pays_and_at_samples_otherwise(
        pays, breastcancer, monkeypatch):
    """Where the screen neither prunes, raises a bound nor leaves out a feature
    (compas binarized, k = 10: none of 3,726 screens did), once the moving
    average of those that did falls under _SCREEN_MIN_RATE it runs at every
    _SCREEN_SAMPLE_EVERY-th node only; where it pays it runs at every node
    that reaches it."""
    from sk_riskscore._solver import _branch_and_bound as branch_and_bound

    from .test_progress import _five_point_problem

    monkeypatch.setattr(branch_and_bound.BranchAndBound, "_saturated_bound",
                        lambda self: _ScriptedScreen(pays))
    screened, reached = [], []
    screen, by_support = (branch_and_bound.BranchAndBound._screened,
                          branch_and_bound.BranchAndBound._by_support)

    def recorded_screen(self, node):
        screened.append(self.n_nodes)
        return screen(self, node)

    def recorded_reach(self, node):  # the step after the screen, at every node past it
        reached.append(self.n_nodes)
        return by_support(self, node)

    monkeypatch.setattr(branch_and_bound.BranchAndBound, "_screened", recorded_screen)
    monkeypatch.setattr(branch_and_bound.BranchAndBound, "_by_support", recorded_reach)
    # a faster schedule than the solver's, so that a small search shows it
    monkeypatch.setattr(saturated, "_SCREEN_RATE_WEIGHT", 0.25)
    monkeypatch.setattr(saturated, "_SCREEN_SAMPLE_EVERY", 8)
    result = solve(_five_point_problem(*breastcancer), time_limit=60)
    # screens at every node until the average of none paying falls under the rate
    every_node = int(np.ceil(np.log(saturated._SCREEN_MIN_RATE)
                             / np.log(1.0 - saturated._SCREEN_RATE_WEIGHT)))
    sample = saturated._SCREEN_SAMPLE_EVERY
    assert len(reached) >= every_node + 4 * sample
    # the screen skipped or not, the answer is REFERENCE.md's golden one
    assert result.status == SolverStatus.OPTIMAL
    assert result.objective == pytest.approx(0.11336464701598783, abs=1e-9)
    if pays:
        assert screened == reached
    else:
        assert screened[:every_node] == reached[:every_node]
        # a scheduled node may stop before the screen: gaps of at least a sample
        assert np.all(np.diff(screened[every_node - 1:]) >= sample)
        assert len(screened) <= every_node + len(reached) / sample + 1
