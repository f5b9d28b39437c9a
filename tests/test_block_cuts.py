"""Cuts of the loss of each block of rows (``LossOracle.block_cuts``), the LP's
estimate per block (``RelaxationLP(n_blocks=...)``) and the search that uses
them: each block's plane lies under that block's loss at every integer model,
the planes add up to the whole loss's, and the LP's bound with them is valid
and at least the bound of the summed planes.
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from sk_riskscore._solver import _branch_and_bound as branch_and_bound
from sk_riskscore._solver._loss import LossOracle, RowBlocks
from sk_riskscore._solver._lp import RelaxationLP

from .test_parallel import InProcessPool, enumerated, tree_problem


def _rows(seed: int, n: int = 160, d: int = 3):
    rng = np.random.default_rng(seed)
    X = (rng.integers(0, 3, (n, d)) if seed % 2 else rng.random((n, d)) < 0.5).astype(float)
    y = np.where(rng.random(n) < 0.4, 1, -1)
    return X, y, rng.uniform(0.5, 2.0, n)


@pytest.mark.parametrize("integer_intercept", [True, False])
@pytest.mark.parametrize("scale", [1.0, 0.6])
@pytest.mark.parametrize("seed", range(4))
def test_each_blocks_plane_lies_under_its_loss_and_the_planes_sum_to_the_cut(
        seed, scale, integer_intercept):
    X, y, weights = _rows(seed)
    oracle = LossOracle(X, y, weights, max_abs_score=30, scale=scale)
    rng = np.random.default_rng(seed)
    blocks = oracle.blocks_by_curvature(oracle.scores(0.5, rng.uniform(-2, 2, 3)), 4)
    grid = np.array(list(itertools.product(range(-2, 3), repeat=3)), dtype=float)
    intercepts = np.arange(-3, 4, dtype=float)
    members = [np.flatnonzero(blocks.of_row == i) for i in range(4)]
    # each block's exact loss at every integer model: (blocks, intercepts, grid)
    exact = np.array([[[oracle.losses(oracle.scores(b, pts)[rows], rows) for pts in grid]
                       for b in intercepts] for rows in members])
    for _ in range(8):
        b0, l0 = rng.uniform(-3, 3), rng.uniform(-2, 2, 3)
        losses, grad_b, grad_l = oracle.block_cuts(b0, l0, integer_intercept, blocks)
        whole = oracle.cut(b0, l0, integer_intercept)
        assert losses.sum() == pytest.approx(whole[0], rel=1e-12)
        assert grad_b.sum() == pytest.approx(whole[1], rel=1e-12, abs=1e-14)
        np.testing.assert_allclose(grad_l.sum(axis=0), whole[2], rtol=1e-12, atol=1e-14)
        for i in range(4):
            plane = (losses[i] + grad_b[i] * (intercepts[:, None] - b0)
                     + (grid - l0) @ grad_l[i])
            assert np.all(plane <= exact[i] + 1e-12)


def test_blocks_split_the_rows_near_the_boundary_and_lump_those_far_from_it():
    """Equal curvature per block: the rows the model gets right by a wide
    margin (curvature ~0) share one block, those at score 0 fill all eight."""
    rng = np.random.default_rng(0)
    oracle = LossOracle(rng.random((400, 2)), np.where(rng.random(400) < 0.5, 1, -1),
                        np.ones(400))
    positive = oracle.weight > 2 * oracle.negative_weight
    near = np.arange(oracle.n_rows) < 100
    scores = np.where(near, 0.0, np.where(positive, 30.0, -30.0))
    blocks = oracle.blocks_by_curvature(scores, 8)
    assert len(np.unique(blocks.of_row[~near])) == 1
    assert len(np.unique(blocks.of_row[near])) == 8
    assert np.bincount(blocks.of_row[near]).max() <= 13  # 100 rows in eight


@pytest.mark.parametrize("max_entries", [0, 10**6])  # by a sparse membership; rows in order
def test_block_sums_and_weighted_sums_are_the_blocks_own(max_entries, monkeypatch):
    from sk_riskscore._solver import _loss

    monkeypatch.setattr(_loss, "_BLOCK_ORDER_MAX_ENTRIES", max_entries)
    monkeypatch.setattr(_loss, "_CACHED_ENTRIES", 0)  # mostly zeros: sparse blocks
    rng = np.random.default_rng(1)
    of_row = rng.integers(0, 5, 50)
    blocks = RowBlocks(of_row, 6)  # block 5 empty
    values = rng.normal(size=50)
    np.testing.assert_allclose(blocks.sums(values),
                               [values[of_row == i].sum() for i in range(6)], atol=1e-14)
    mostly_zeros = np.where(rng.random((50, 3)) < 0.1, 1.0, 0.0)  # blocks kept sparse
    # another X: not the first's
    for X in (rng.normal(size=(50, 3)), rng.normal(size=(50, 3)), mostly_zeros):
        for _ in range(2):
            np.testing.assert_allclose(blocks.weighted_sums(values, X),
                                       [values[of_row == i] @ X[of_row == i] for i in range(6)],
                                       atol=1e-13)


def _cut_setting(seed: int, n_blocks: int):
    """A small tree problem, its enumerated optimum, its oracle, blocks of its
    rows at a random point, and the random generator that drew them."""
    problem = tree_problem(seed)
    oracle = LossOracle(problem.X, problem.y, problem.sample_weight, max_abs_score=30)
    rng = np.random.default_rng(seed)
    scores = oracle.scores(0.0, rng.integers(-2, 3, problem.n_features))
    return problem, enumerated(problem), oracle, oracle.blocks_by_curvature(scores, n_blocks), rng


@pytest.mark.parametrize("seed", range(4))
def test_the_lps_bound_with_block_cuts_is_valid_and_above_the_summed_cuts(seed):
    """Planes taken at the same points: per block, the LP's model of the loss is
    the sum of the blocks' maxima, never below the maximum of the sums; both
    bounds stay under the enumerated optimum."""
    problem, truth, oracle, blocks, rng = _cut_setting(seed, 3)
    d = problem.n_features
    by_block, summed = RelaxationLP(problem, n_blocks=3), RelaxationLP(problem)
    try:
        for _ in range(12):
            b0 = rng.uniform(problem.intercept_lower, problem.intercept_upper)
            l0 = rng.uniform(-2, 2, d)
            losses, grad_b, grad_l = oracle.block_cuts(b0, l0, True, blocks)
            for i in range(3):
                by_block.add_cut(losses[i], grad_b[i], grad_l[i], b0, l0, block=i)
            summed.add_cut(losses.sum(), grad_b.sum(), grad_l.sum(axis=0), b0, l0)
        by_block.set_cutoff(truth.objective + 1.0)
        summed.set_cutoff(truth.objective + 1.0)
        blocked, whole = by_block.solve(), summed.solve()
        assert whole.bound <= blocked.bound + 1e-9
        assert blocked.bound <= truth.objective + 1e-9
        assert blocked.theta == pytest.approx(blocked.thetas.sum())
        # with a plane of the whole loss too, the bound from the engine's duals
        # (which does not trust its "optimal") is the LP's optimum
        best_b, best_l = float(truth.intercepts[0]), truth.points[0].astype(float)
        by_block.add_cut(*oracle.cut(best_b, best_l, True), best_b, best_l)
        blocked = by_block.solve()
        assert by_block._safe_bound()[0] == pytest.approx(blocked.objective, abs=1e-8)
        assert blocked.bound <= truth.objective + 1e-9
        # the tight cuts survive a purge: the same optimum after it
        by_block.purge_cuts(blocked, 0)
        assert by_block.solve().objective == pytest.approx(blocked.objective, abs=1e-9)
        # an engine switch carries the block cuts over (BranchAndBound._fall_back)
        again = RelaxationLP(problem, "highs", n_blocks=3)
        again.add_planes(by_block.planes)
        again.set_cutoff(truth.objective + 1.0)
        assert again.solve().objective == pytest.approx(blocked.objective, abs=1e-7)
        again.close()
    finally:
        by_block.close()
        summed.close()


def test_workers_cut_the_blocks_of_the_coordinator(monkeypatch):
    """The planes a worker gets refer to the coordinator's blocks: it must
    take those, whatever incumbent it would make its own from."""
    pools = []

    def build(*args):
        pools.append(InProcessPool(*args))
        return pools[-1]

    monkeypatch.setattr(branch_and_bound, "WorkerPool", build)
    monkeypatch.setattr(branch_and_bound, "_WAIT_FOR_WORKERS", True)
    monkeypatch.setattr(branch_and_bound, "_ROUND_MIN", 1e-4)
    monkeypatch.setattr(branch_and_bound, "_ROUND_MAX", 1e-4)
    # the workers' own incumbents differ from the coordinator's first one
    monkeypatch.setattr(branch_and_bound.BranchAndBound, "_round_and_polish",
                        lambda self, solution, perturb=False: False)
    problem = tree_problem(1)
    search = branch_and_bound.BranchAndBound(problem, n_jobs=2, gap_tolerance=1e-9,
                                             time_limit=120)
    search.solve()
    assert search._blocks is not None and pools
    for worker in pools[0].workers:
        np.testing.assert_array_equal(worker._blocks.of_row, search._blocks.of_row)


def test_rows_of_no_curvature_still_fill_every_block():
    """Every row far from the boundary (curvature underflows to 0): blocks of
    equal row counts, not one block of all."""
    rng = np.random.default_rng(2)
    oracle = LossOracle(rng.random((80, 2)), np.where(rng.random(80) < 0.5, 1, -1), np.ones(80))
    blocks = oracle.blocks_by_curvature(np.full(oracle.n_rows, 1e4), 4)
    assert np.bincount(blocks.of_row, minlength=4).min() >= 19


@pytest.mark.parametrize("seed", range(3))
def test_cbcs_cut_rows_from_arrays_are_the_rows_python_mip_would_build(seed, monkeypatch):
    """CBC takes each cut's row straight from arrays (no python-mip Constr).
    The LP, its duals' safe bound and its purges must be those of the rows
    python-mip builds: the same optimum, and the engine's row count always the
    structural rows plus the cuts, or the duals would be read misaligned."""
    from mip.cbc import cbclib

    from sk_riskscore._solver import _lp

    problem, truth, oracle, blocks, rng = _cut_setting(seed, 2)
    d = problem.n_features
    direct = RelaxationLP(problem, n_blocks=2)
    batched = RelaxationLP(problem, n_blocks=2)  # to take all of direct's planes at once
    monkeypatch.setattr(_lp, "_cbc_rows_available", lambda: False)
    built = RelaxationLP(problem, n_blocks=2)
    assert direct._direct_rows and batched._direct_rows and not built._direct_rows

    def engine_rows(lp):
        return cbclib.Cbc_getNumRows(lp.model.solver._model)

    def cut_rows(lp):
        """The engine's cut rows, each as ({column: coefficient}, rhs)."""
        engine, rows = lp.model.solver._model, []
        for i in range(lp._n_structural, engine_rows(lp)):
            nonzeros = cbclib.Cbc_getRowNz(engine, i)
            columns = cbclib.Cbc_getRowIndices(engine, i)
            coefficients = cbclib.Cbc_getRowCoeffs(engine, i)
            rows.append(({columns[k]: round(coefficients[k], 12) for k in range(nonzeros)},
                         round(cbclib.Cbc_getRowRHS(engine, i), 12)))
        return rows

    try:
        for round_ in range(10):
            b0 = float(rng.uniform(problem.intercept_lower, problem.intercept_upper))
            l0 = rng.uniform(-2, 2, d)
            if round_ % 3 == 0:
                l0[0] = 0.0  # a point on a face: zero slopes in the planes too
            losses, grad_b, grad_l = oracle.block_cuts(b0, l0, True, blocks)
            for lp in (direct, built):
                for i in range(2):
                    lp.add_cut(losses[i], grad_b[i], grad_l[i], b0, l0, block=i)
                lp.add_cut(*oracle.cut(b0, l0, True), b0, l0)
        for lp in (direct, built):
            lp.set_cutoff(truth.objective + 1.0)
        first, second = direct.solve(), built.solve()
        assert first.objective == pytest.approx(second.objective, abs=1e-9)
        assert first.bound == pytest.approx(second.bound, abs=1e-8)
        assert first.bound <= truth.objective + 1e-9
        assert engine_rows(direct) == direct._n_structural + direct.n_cuts == engine_rows(built)
        # a purge drops the same cuts from both, and the engines agree after it
        direct.purge_cuts(first, 0)
        built.purge_cuts(second, 0)
        assert 0 < direct.n_cuts == built.n_cuts < 30
        assert engine_rows(direct) == direct._n_structural + direct.n_cuts
        np.testing.assert_allclose(direct.planes[-1][1], built.planes[-1][1])
        again, again_built = direct.solve(), built.solve()
        assert again.objective == pytest.approx(first.objective, abs=1e-9)
        assert again.bound == pytest.approx(again_built.bound, abs=1e-8)
        assert direct._safe_bound()[0] == pytest.approx(again.objective, abs=1e-8)
        # all the planes at once, blocks' and whole loss's mixed: one batch of rows
        batched.add_planes(direct.planes)
        assert cut_rows(batched) == cut_rows(direct) == cut_rows(built)
        batched.set_cutoff(truth.objective + 1.0)
        together = batched.solve()
        assert together.objective == pytest.approx(again.objective, abs=1e-9)
        assert together.bound == pytest.approx(again.bound, abs=1e-8)
    finally:
        for lp in (direct, batched, built):
            lp.close()
