"""Supports valued at their relaxed loss (``_relaxed``, ``SaturatedBound.at_box``)
against brute force.

A support's relaxed loss is the least loss over real points in the box: it
must never exceed the loss of any model within that support, and the search
that splits by such supports must find the enumerated optimum.
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy.optimize import minimize

from sk_riskscore._solver import RiskScoreProblem, SolverStatus, intercept_bound, solve
from sk_riskscore._solver import _saturated as saturated
from sk_riskscore._solver._loss import LossOracle
from sk_riskscore._solver._relaxed import relaxed_losses
from sk_riskscore._solver._saturated import SaturatedBound

from .oracle import enumerate_models
from .test_saturated_bound import listed, whole_weight_rows


def cell_loss(point, total, negative, scale):
    size = total.size.bit_length() - 1
    bits = (np.arange(total.size)[:, None] >> np.arange(size)) & 1
    scores = (point[0] + bits @ point[1:]) / scale
    return float(total @ np.logaddexp(0.0, -scores) + negative @ scores)


@pytest.mark.parametrize("scale", [1.0, 0.3])
@pytest.mark.parametrize("size", [1, 3, 5])
def test_relaxed_losses_are_the_box_minimum_and_never_above_it(size, scale):
    rng = np.random.default_rng(size)
    n_supports, cells = 12, 2**size
    total = rng.integers(0, 6, (n_supports, cells)) * rng.random((n_supports, 1))
    total[:, 0] = 0.0  # an empty cell, and one support whose cells are pure
    total[:, -1] += 1.0
    negative = total * rng.random((n_supports, cells))
    negative[1] = np.where(rng.random(cells) < 0.5, total[1], 0.0)
    weight = total.sum(axis=1, keepdims=True)
    total, negative = total / weight, negative / weight
    high = np.column_stack([np.full(n_supports, 4.0),
                            rng.integers(1, 4, (n_supports, size)).astype(float)])
    low = -high
    codes = np.broadcast_to(np.arange(cells), total.shape)
    bounds = relaxed_losses(codes, total, negative, low, high, scale)
    # the same cells listed in another order, the empty one left out for a
    # padding cell of no weight with another code: the same bounds, to the
    # steps' convergence (the sums' order steers them)
    order = np.argsort(rng.random(total.shape), axis=1)
    shuffled = [np.take_along_axis(a, order, axis=1) for a in (codes, total, negative)]
    shuffled[0] = np.where(shuffled[0] == 0, cells - 1, shuffled[0])
    np.testing.assert_allclose(relaxed_losses(*shuffled, low, high, scale), bounds,
                               rtol=0.0, atol=1e-7)
    for i in range(n_supports):
        def loss(point, i=i):
            return cell_loss(point, total[i], negative[i], scale)

        best = minimize(loss, np.zeros(size + 1), method="L-BFGS-B",
                        bounds=list(zip(low[i], high[i])), options={"ftol": 1e-15, "gtol": 1e-12})
        assert bounds[i] <= best.fun + 1e-12
        assert bounds[i] >= best.fun - 1e-6  # the steps converge: a bound worth having
        for point in rng.uniform(low[i], high[i], (200, size + 1)):
            assert bounds[i] <= loss(point) + 1e-12


def test_support_cells_are_the_rows_counted_by_their_codes():
    """Each support's non-empty cells, against counting its rows' codes one
    by one; padding cells weigh nothing."""
    rng = np.random.default_rng(0)
    bits = (rng.random((40, 9)) < 0.4).astype(np.int64)
    bits[5:9] = bits[0]  # repeated rows fall into one cell
    total = rng.uniform(0.5, 2.0, 40)
    negative = total * (rng.random(40) < 0.3)
    supports = np.array([[0, 1, 2], [8, 3, 5], [2, 4, 6], [1, 7, 0]])
    codes, cell_total, cell_negative = saturated._support_cells(bits, supports, total,
                                                                negative)
    for i, support in enumerate(supports):
        expected = {}
        for row in range(40):
            code = int(sum(bits[row, column] << j for j, column in enumerate(support)))
            weight, weight_negative = expected.get(code, (0.0, 0.0))
            expected[code] = (weight + total[row], weight_negative + negative[row])
        found = {int(c): (t, q) for c, t, q in zip(codes[i], cell_total[i], cell_negative[i])
                 if t > 0}
        assert found.keys() == expected.keys()
        for code, (weight, weight_negative) in expected.items():
            assert found[code] == pytest.approx((weight, weight_negative), rel=1e-12)
        assert cell_total[i].sum() == pytest.approx(total.sum(), rel=1e-12)


def models_by_partitions(bound, models, d):
    """Each enumerated model's set of partitions (of its non-zero points)."""
    return [frozenset(bound.partition[np.flatnonzero(points)]) for points in models.points]


@pytest.mark.parametrize("tabled", [False, True])
@pytest.mark.parametrize(("scale", "real_intercept"), [(1.0, False), (0.4, True)])
@pytest.mark.parametrize("seed", range(3))
def test_supports_at_the_box_never_exceed_their_best_model(seed, scale, real_intercept,
                                                           tabled, monkeypatch):
    """Every listed support's value at the box (its relaxed loss, or its
    entropy) lies under the loss of every model within it; columns 3 and 4
    are a twin and a complement of others (one partition each). Where the
    root's table exists, its supports are listed for the box instead (and
    bound the nodes, without splitting them)."""
    if not tabled:
        listed(monkeypatch)
    X, y, weights = whole_weight_rows(seed, n=120, d=7)  # 5 partitions
    d, max_support = 7, 4
    rows = LossOracle(X, y, weights)
    plain = SaturatedBound.build(rows, max_support)
    lower_points, upper_points = np.full(d, -2), np.full(d, 2)
    reach = intercept_bound(X, y, weights, lower_points, upper_points, max_support)
    lower = np.concatenate([[-reach], lower_points, np.zeros(d)]).astype(float)
    upper = np.concatenate([[reach], upper_points, np.ones(d)]).astype(float)
    oracle = rows.at_scale(scale)
    boxed = plain.at_box(oracle, lower, upper, np.inf)
    assert (plain.table is not None) == tabled
    assert boxed.table is None and boxed.built_for_rows == (not tabled)
    models = enumerate_models(X, y, weights, lower_points, upper_points, -reach, reach,
                              np.zeros(d), 0, max_support, scale=scale,
                              real_intercept=real_intercept)
    used = models_by_partitions(plain, models, d)
    supports, values, _ = boxed.supports
    raised = 0
    for support, value in zip(supports, values):
        within = np.array([parts <= set(support) for parts in used])
        best = models.objectives[within].min()
        assert value <= best + 1e-12
        if tabled:
            entropy = plain.table[tuple(support)]
        else:
            entropy = plain.supports[1][[tuple(s) for s in plain.supports[0]].index(
                tuple(support))]
        raised += value > entropy + 1e-6
    assert raised > 0  # the relaxation is stronger than the entropy somewhere


@pytest.mark.parametrize(("seed", "max_support", "scale"),
                         [(0, 4, 1.0), (1, 5, 1.0), (2, 6, 1.0), (3, 6, 0.5)])
def test_search_by_relaxed_supports_matches_enumeration(seed, max_support, scale,
                                                        monkeypatch, spy):
    """The tree splits by supports valued at their relaxed loss: the optimum
    and the bound against every model. Six slots: the supports are counted
    for the box (``_counted_supports``), and split where few are left; a
    scale other than 1 with a real intercept, as the scale search solves."""
    from sk_riskscore._solver import _branch_and_bound

    listed(monkeypatch)
    splits = spy(_branch_and_bound.BranchAndBound, "_by_support")
    counted = spy(saturated, "_counted_supports")
    X, y, weights = whole_weight_rows(seed, n=120, d=9)  # 7 partitions
    d = 9
    lower, upper = np.full(d, -1), np.full(d, 1)
    reach = intercept_bound(X, y, weights, lower, upper, max_support)
    c0 = np.full(d, 1e-3 if seed % 2 else 1e-6)
    real_intercept = scale != 1.0
    problem = RiskScoreProblem(X, y, weights, lower, upper, -reach, reach, c0,
                               max_features=max_support, score_scale=scale,
                               integer_intercept=not real_intercept)
    truth = enumerate_models(X, y, weights, lower, upper, -reach, reach, c0, 0, max_support,
                             scale=scale, real_intercept=real_intercept)
    result = solve(problem, time_limit=120, gap_tolerance=1e-9)
    assert result.status == SolverStatus.OPTIMAL
    assert result.objective == pytest.approx(truth.objectives.min(), abs=1e-9)
    assert result.lower_bound <= truth.objectives.min() + 1e-9
    assert any(splits)  # counted supports split too: 7 supports of 6 partitions
    assert any(counted) == (max_support > 5)


def counted_case(seed):
    """Rows of 9 columns in 7 partitions (supports of six are counted for a
    box), and a box over them: points in [-1, 1], the intercept in [-20, 20]."""
    X, y, weights = whole_weight_rows(seed, n=120, d=9)
    d = 9
    lower = np.concatenate([[-20.0], np.full(d, -1.0), np.zeros(d)])
    upper = np.concatenate([[20.0], np.full(d, 1.0), np.ones(d)])
    return LossOracle(X, y, weights), lower, upper


def valued_supports(monkeypatch) -> list:
    """A list that records how many supports each relaxed valuing call values."""
    valued = []
    original = saturated._RelaxedBox.losses

    def counted(box, supports, *args, **kwargs):
        valued.append(len(supports))
        return original(box, supports, *args, **kwargs)

    monkeypatch.setattr(saturated._RelaxedBox, "losses", counted)
    return valued


def test_supports_counted_for_a_box_split_only_where_few_are_left(monkeypatch):
    """A list made for a box splits boxes while few of all its supports are
    under the threshold; with more, it bounds and screens only."""
    listed(monkeypatch)
    rows, lower, upper = counted_case(0)  # 7 partitions: 7 supports of 6
    boxed = SaturatedBound.build(rows, 6).at_box(rows, lower, upper, np.inf)
    assert not boxed.built_for_rows
    supports, values = boxed.listed_supports(lower, upper, np.inf, at_most=4096)
    assert len(supports) == 7 and np.all(np.diff(values) >= 0)
    monkeypatch.setattr(saturated, "_BOX_LIST_SPLIT_AT_MOST", 6)
    assert boxed.listed_supports(lower, upper, np.inf, at_most=4096) is None
    # under a threshold that leaves six, it splits again
    assert len(boxed.listed_supports(lower, upper, values[-1], at_most=4096)[0]) <= 6


def test_supports_valued_on_threads_are_valued_alike(monkeypatch):
    """Supports counted and valued in batches on several threads: the same
    list as on one."""
    listed(monkeypatch)
    monkeypatch.setattr(saturated, "_RELAXED_BLOCK_CELLS", 2**7)  # a support or two a batch
    monkeypatch.setattr(saturated, "_COUNT_CHUNK_ENTRIES", 2**8)  # counted two at a time
    rows, lower, upper = counted_case(1)
    plain = SaturatedBound.build(rows, 6)
    alone = plain.at_box(rows, lower, upper, np.inf).supports
    counted_alone = plain._listed
    other = SaturatedBound.build(rows, 6)
    threaded = other.at_box(rows, lower, upper, np.inf, n_threads=3).supports
    for mine, theirs in zip(other._listed + threaded, counted_alone + alone):
        np.testing.assert_array_equal(mine, theirs)
    assert not np.array_equal(alone[1], counted_alone[1])  # valued, not the entropies


def test_a_box_valued_once_serves_boxes_within_it_at_its_scale(monkeypatch):
    """at_box keeps its bound per scale: returned again for a box within
    that one under at most its threshold, valued anew otherwise."""
    listed(monkeypatch)
    rows, lower, upper = counted_case(2)
    d = 9
    plain = SaturatedBound.build(rows, 6)
    first = plain.at_box(rows, lower, upper, 0.7)
    assert first is not plain
    inner_lower, inner_upper = lower.copy(), upper.copy()
    inner_lower[1], inner_upper[1 + d + 2] = 0.0, 0.0  # a point >= 0, a feature left out
    assert plain.at_box(rows, inner_lower, inner_upper, 0.6) is first
    higher = plain.at_box(rows, lower, upper, 0.8)
    assert higher is not first
    wider = upper.copy()
    wider[2] = 2.0  # a point beyond the box valued
    assert plain.at_box(rows, lower, wider, 0.5) is not higher
    other = plain.at_box(rows.at_scale(0.5), lower, upper, 0.7)
    assert other is not first and plain._valued[0.5].bound is other


def test_a_larger_scale_values_only_the_supports_a_smaller_one_left_under(monkeypatch):
    """Values kept at a smaller scale, over a box that holds this one in units
    of the score, bound this scale's: only the supports they leave under the
    threshold are valued again, and the list under it is that of a valuing
    from scratch. A box that reaches beyond (a wider intercept) is valued
    from scratch."""
    listed(monkeypatch)
    rows, lower, upper = counted_case(4)
    valued = valued_supports(monkeypatch)
    threshold, scale = 0.5, 2.0
    at_two = rows.at_scale(scale)
    scaled_lower, scaled_upper = lower.copy(), upper.copy()
    scaled_lower[0], scaled_upper[0] = scale * lower[0], scale * upper[0]
    fresh = SaturatedBound.build(rows, 6).at_box(at_two, scaled_lower, scaled_upper,
                                                 threshold).supports
    from_scratch = sum(valued)
    for wider, reused in ((1.0, True), (1.5, False)):
        bound = SaturatedBound.build(rows, 6)
        smaller = bound.at_box(rows, lower, upper, threshold).supports
        valued.clear()
        box_lower, box_upper = scaled_lower.copy(), scaled_upper.copy()
        box_lower[0], box_upper[0] = wider * box_lower[0], wider * box_upper[0]
        larger = bound.at_box(at_two, box_lower, box_upper, threshold).supports
        if not reused:
            assert sum(valued) == from_scratch
            continue
        assert 0 < sum(valued) == np.sum(smaller[1] < threshold) < from_scratch
        under = np.sum(fresh[1] < threshold)
        assert np.sum(larger[1] < threshold) == under > 0
        assert {tuple(s) for s in larger[0][:under]} == {tuple(s) for s in fresh[0][:under]}
        np.testing.assert_allclose(np.sort(larger[1][:under]), np.sort(fresh[1][:under]),
                                   atol=1e-7)


@pytest.mark.parametrize("max_support", [5, 6])
def test_a_higher_threshold_values_only_the_supports_between(monkeypatch, max_support):
    """Valued under one threshold, then under a higher one (the Rashomon
    enumeration after its solve): only the supports between the two are
    valued again, and the list is that of one valuing under the higher. Five
    slots: the root table's supports; six: counted."""
    if max_support == 6:
        listed(monkeypatch)
    rows, lower, upper = counted_case(3)
    low_first = SaturatedBound.build(rows, max_support)
    below = low_first.at_box(rows, lower, upper, 0.42).supports
    valued = valued_supports(monkeypatch)
    resumed = low_first.at_box(rows, lower, upper, 0.46).supports
    resumed_count = sum(valued)
    valued.clear()
    at_once = SaturatedBound.build(rows, max_support).at_box(rows, lower, upper, 0.46).supports
    between = np.sum(below[1] < 0.46) - np.sum(below[1] < 0.42)
    assert 0 < resumed_count == between < sum(valued)
    under = np.sum(at_once[1] < 0.46)
    assert under > np.sum(below[1] < 0.42)
    assert np.sum(resumed[1] < 0.46) == under
    assert {tuple(s) for s in resumed[0][:under]} == {tuple(s) for s in at_once[0][:under]}
    np.testing.assert_allclose(np.sort(resumed[1][:under]), np.sort(at_once[1][:under]),
                               atol=1e-7)


def test_valuing_reports_rising_bounds_under_every_model(monkeypatch):
    """While supports are valued, the least value so far is reported after
    each round: never falling, and never above the best model's loss."""
    listed(monkeypatch)
    monkeypatch.setattr(saturated, "_RELAXED_BLOCK_CELLS", 2**7)  # a support or two a round
    X, y, weights = whole_weight_rows(0, n=120, d=9)
    d, max_support = 9, 6
    lower_points, upper_points = np.full(d, -1), np.full(d, 1)
    reach = intercept_bound(X, y, weights, lower_points, upper_points, max_support)
    lower = np.concatenate([[-reach], lower_points, np.zeros(d)]).astype(float)
    upper = np.concatenate([[reach], upper_points, np.ones(d)]).astype(float)
    rows = LossOracle(X, y, weights)
    reports = []
    SaturatedBound.build(rows, max_support).at_box(rows, lower, upper, np.inf,
                                                   report=reports.append)
    truth = enumerate_models(X, y, weights, lower_points, upper_points, -reach, reach,
                             np.zeros(d), 0, max_support)
    assert len(reports) >= 2 and reports == sorted(reports) and reports[-1] > reports[0]
    assert reports[-1] <= truth.objectives.min() + 1e-12


def test_supports_counted_for_a_box_are_dropped_unless_all_are_valued(monkeypatch):
    """Past its deadline, a counted list (more than five slots) would leave
    supports under the threshold at their entropy: the bound keeps no list."""
    import time

    listed(monkeypatch)
    rows, lower, upper = counted_case(0)
    plain = SaturatedBound.build(rows, 6)
    assert plain.supports is None
    assert plain.at_box(rows, lower, upper, np.inf).supports is not None

    def slow(codes, *args, **kwargs):
        time.sleep(0.3)
        return np.full(len(codes), -np.inf)

    monkeypatch.setattr(saturated, "relaxed_losses", slow)
    monkeypatch.setattr(saturated, "_RELAXED_BLOCK_CELLS", 2**6)  # one support a block
    deadline = time.perf_counter() + 0.2
    plain = SaturatedBound.build(rows, 6)  # none kept from the box valued above
    assert plain.at_box(rows, lower, upper, np.inf, deadline).supports is None
    # and where the estimate says they would not all be valued, none is tried
    calls = []
    monkeypatch.setattr(saturated, "relaxed_losses", lambda *a, **k: calls.append(1))
    monkeypatch.setattr(saturated, "_RELAXED_SECONDS_PER_CELL", 1e3)
    plain = SaturatedBound.build(rows, 6)
    assert plain.at_box(rows, lower, upper, np.inf, time.perf_counter() + 60).supports is None
    assert calls == []


def test_supports_are_counted_once_for_every_scale(monkeypatch, spy):
    """The scale search solves at many scales over the same rows: the counted
    supports (their entropies) are shared, only their relaxed losses differ."""
    listed(monkeypatch)
    counted = spy(saturated, "_counted_supports")
    rows, lower, upper = counted_case(1)
    plain = SaturatedBound.build(rows, 6)
    values = [plain.at_box(rows.at_scale(scale), lower, upper, np.inf).supports[1]
              for scale in (1.0, 0.25)]
    assert counted == [True]
    # steeper scores reach the cells' entropy more closely: lower relaxed losses
    assert values[1].sum() < values[0].sum()


@pytest.mark.parametrize("seed", range(2))
def test_rashomon_set_with_counted_supports_equals_brute_force(seed, monkeypatch, spy):
    """The enumeration values its supports under its threshold (six slots:
    counted for its box): the set still holds every model within epsilon.
    They are valued once, before the solve for the optimum, under a first
    model's objective times (1 + epsilon): the solve and the enumeration read
    them as they are."""
    from sk_riskscore._solver._rashomon import enumerate_rashomon

    from .test_rashomon import assert_same_set

    listed(monkeypatch)
    counted = spy(saturated, "_counted_supports")
    valued_per_call = []  # supports valued during each at_box call
    losses, at_box = saturated._RelaxedBox.losses, SaturatedBound.at_box

    def counted_losses(box, supports, *args, **kwargs):
        valued_per_call[-1] += len(supports)
        return losses(box, supports, *args, **kwargs)

    def recorded_at_box(bound, *args, **kwargs):
        valued_per_call.append(0)
        return at_box(bound, *args, **kwargs)

    monkeypatch.setattr(saturated._RelaxedBox, "losses", counted_losses)
    monkeypatch.setattr(SaturatedBound, "at_box", recorded_at_box)
    X, y, weights = whole_weight_rows(seed, n=120, d=9)
    d, k = 9, 6
    lower, upper = np.full(d, -1), np.full(d, 1)
    reach = intercept_bound(X, y, weights, lower, upper, k)
    c0 = np.full(d, 1e-3)
    problem = RiskScoreProblem(X, y, weights, lower, upper, -reach, reach, c0, max_features=k)
    truth = enumerate_models(X, y, weights, lower, upper, -reach, reach, c0, 0, k)
    found = enumerate_rashomon(problem, epsilon=0.03, time_limit=60, max_nodes=20_000)
    assert found.complete
    assert any(counted)
    assert len(valued_per_call) == 3 and valued_per_call[0] > 0 == sum(valued_per_call[1:])
    assert_same_set(found, truth, 0.03)
