"""The Rashomon set against brute-force enumeration, and its multiplicity measures."""

from __future__ import annotations

import dataclasses
import functools

import numpy as np
import pandas as pd
import pytest
from sklearn.exceptions import NotFittedError
from sklearn.pipeline import make_pipeline

from sk_riskscore import (
    AtMost,
    Implies,
    MustNotUse,
    RashomonSet,
    RiskScoreBinarizer,
    RiskScoreClassifier,
    load_json,
    rashomon_set,
    save_json,
)
from sk_riskscore._constraints import compile_constraints
from sk_riskscore._solver import RiskScoreProblem, SolverStatus, intercept_bound
from sk_riskscore._solver._rashomon import enumerate_rashomon
from sk_riskscore._solver._scan import rescaled
from sk_riskscore.datasets import load_breastcancer

from .oracle import enumerate_models

N_PROBLEMS = 52
EPSILONS = (0.0, 0.005, 0.02, 0.1)
# Models this close (relatively) to the threshold may fall on either side: the
# search's losses and the brute force's are sums in different orders.
_EDGE = 1e-10


def random_problem(seed: int) -> RiskScoreProblem:
    """d <= 5, |points| <= 2 or 3, sample weights on every third problem and
    operational constraints on every other one."""
    rng = np.random.default_rng(1000 + seed)
    n = int(rng.integers(40, 200))
    d = int(rng.integers(2, 6))
    kind = ("binary", "integer", "real")[seed % 3]
    if kind == "binary":
        X = (rng.random((n, d)) < rng.uniform(0.2, 0.7, d)).astype(float)
    elif kind == "integer":
        X = rng.integers(0, 4, (n, d)).astype(float)
    else:
        X = np.round(rng.normal(size=(n, d)), 2)
    truth = rng.integers(-2, 3, d) * (rng.random(d) < 0.7)
    logits = X @ truth + rng.normal(size=n) + rng.normal()
    y = np.where(rng.random(n) < 1 / (1 + np.exp(-logits)), 1, -1)
    y[:2] = [1, -1]
    weights = np.ones(n)
    if seed % 3 == 1:
        weights = rng.uniform(0.0, 3.0, n)
        weights[:2] = 1.0
    max_coef = 3 if d <= 3 else 2
    max_features = int(min(d, (2, 3, d)[seed % 3]))
    names = [f"x{j}" for j in range(d)]
    constraints = []
    if seed % 2 == 1:
        constraints.append(AtMost(1, ["x0", "x1"]))
        if d >= 4:
            constraints.append(Implies("x2", "x3"))
        if seed % 4 == 3:
            constraints.append(MustNotUse(names[-1]))
    compiled = compile_constraints(names, max_coef=max_coef, coef_bounds=None,
                                   constraints=constraints)
    reach = intercept_bound(X, y, weights, compiled.coef_lower, compiled.coef_upper,
                            max_features)
    c0 = float((1e-6, 1e-3, 0.01)[seed % 3])
    return RiskScoreProblem(
        X, y, weights, compiled.coef_lower, compiled.coef_upper, -reach, reach,
        np.full(d, c0), min_features=int(seed % 5 == 0), max_features=max_features,
        constraints=compiled.rows,
    )


@functools.cache
def brute_force(seed: int, scale: float = 1.0):
    p = random_problem(seed)
    real = scale != 1.0
    if real:
        p = rescaled(p, scale)
    return enumerate_models(
        p.X, p.y, p.sample_weight, p.coef_lower, p.coef_upper, p.intercept_lower,
        p.intercept_upper, p.c0, p.min_features, p.max_features, p.constraints,
        scale=scale, real_intercept=real,
    )


def assert_same_set(found, truth, epsilon):
    """``found`` (a RashomonResult) holds exactly the brute force's models within
    epsilon, each with the brute force's objective."""
    optimum = truth.objectives.min()
    assert found.optimum == pytest.approx(optimum, rel=1e-12, abs=1e-13)
    threshold = (1 + epsilon) * optimum
    inside = truth.objectives <= threshold * (1 - _EDGE)
    edge = ~inside & (truth.objectives <= threshold * (1 + _EDGE))
    expected = {tuple(p): o for p, o in zip(truth.points[inside].tolist(),
                                             truth.objectives[inside])}
    allowed = {tuple(p) for p in truth.points[edge].tolist()}
    got = {tuple(m.points.tolist()): m.objective for m in found.models}
    assert set(expected) <= set(got), f"missing {sorted(set(expected) - set(got))[:5]}"
    assert set(got) - set(expected) <= allowed, \
        f"extra {sorted(set(got) - set(expected) - allowed)[:5]}"
    for key, objective in expected.items():
        assert got[key] == pytest.approx(objective, rel=1e-9, abs=1e-12)
    # sorted by objective to 12 digits: ties (twin columns) by support and points
    objectives = [float(f"{m.objective:.12g}") for m in found.models]
    assert objectives == sorted(objectives)


@pytest.mark.parametrize("seed", range(N_PROBLEMS))
def test_set_equals_brute_force(seed):
    problem = random_problem(seed)
    epsilon = EPSILONS[seed % len(EPSILONS)]
    found = enumerate_rashomon(problem, epsilon=epsilon, time_limit=60, max_nodes=20_000)
    assert found.complete and not found.truncated
    assert found.status == SolverStatus.OPTIMAL
    assert found.lower_bound == found.optimum
    assert_same_set(found, brute_force(seed), epsilon)


@pytest.mark.parametrize("seed", [0, 1, 2, 7, 8])
def test_set_at_a_fitted_scale_equals_brute_force(seed):
    """A real intercept at a shared scale: membership by each points vector's
    best real intercept, as with ``calibrate_scale=True``."""
    problem = rescaled(random_problem(seed), 1.7)
    found = enumerate_rashomon(problem, epsilon=0.03, time_limit=60, max_nodes=20_000)
    assert found.complete
    assert_same_set(found, brute_force(seed, 1.7), 0.03)
    for model, fit in zip(found.models, found.calibrations, strict=True):
        own = dataclasses.replace(problem, score_scale=fit.scale)
        assert fit.objective == pytest.approx(own.objective(model.points, fit.intercept))
        assert fit.objective <= model.objective + 1e-12


def test_truncation_keeps_the_best_models():
    seed = next(s for s in range(N_PROBLEMS)
                if np.sum(brute_force(s).objectives <= 1.1 * brute_force(s).objectives.min())
                >= 6)
    truth = brute_force(seed)
    found = enumerate_rashomon(random_problem(seed), epsilon=0.1, max_models=3,
                               time_limit=60)
    assert found.truncated and not found.complete
    assert len(found.models) <= 3
    best = np.sort(truth.objectives)[:3]
    np.testing.assert_allclose([m.objective for m in found.models], best[: len(found.models)],
                               rtol=1e-9)
    # searched to the end at the tightened threshold: nothing below it is missing
    assert np.isfinite(found.complete_below)
    assert np.sum(truth.objectives < found.complete_below * (1 - _EDGE)) <= len(found.models)


def test_node_limit_is_reported_as_incomplete():
    seed = 29  # its tree has about 20 nodes at epsilon 0.1
    truth = brute_force(seed)
    found = enumerate_rashomon(random_problem(seed), epsilon=0.1, max_nodes=3,
                               time_limit=60)
    assert found.status == SolverStatus.NODE_LIMIT
    assert not found.complete and np.isnan(found.complete_below)
    # whatever it returns is genuinely within the threshold
    objectives = dict(zip(map(tuple, truth.points.tolist()), truth.objectives))
    for model in found.models:
        assert objectives[tuple(model.points.tolist())] <= found.threshold * (1 + _EDGE)


# ---------------------------------------------------------------- public API

@functools.cache
def breastcancer_set():
    X, y = load_breastcancer(return_X_y=True, as_frame=True)
    X = X.iloc[:, :5]  # 7^5 points vectors for the brute force
    estimator = RiskScoreClassifier(max_features=2, max_coef=3)
    return X, y, rashomon_set(estimator, X, y, epsilon=0.1, time_limit=60)


def test_public_set_is_complete_and_matches_brute_force():
    X, y, rset = breastcancer_set()
    assert isinstance(rset, RashomonSet) and rset.complete_ and not rset.truncated_
    assert len(rset) == len(rset.cards_) >= 3
    signs = np.where(y.to_numpy() == 1, 1, -1)
    d = X.shape[1]
    reach = intercept_bound(X.to_numpy(float), signs, np.ones(len(y)), np.full(d, -3),
                            np.full(d, 3), 2)
    truth = enumerate_models(X.to_numpy(float), signs, np.ones(len(y)), np.full(d, -3),
                             np.full(d, 3), -reach, reach, np.full(d, 1e-6),
                             max_features=2)
    inside = truth.objectives <= (1 + rset.epsilon) * truth.objectives.min()
    assert inside.sum() == len(rset)
    np.testing.assert_allclose(rset.cards_["objective"], np.sort(truth.objectives[inside]),
                               rtol=1e-12)
    assert rset.optimum_ == rset.cards_["objective"].iloc[0] == rset.lower_bound_
    assert rset.threshold_ == pytest.approx((1 + rset.epsilon) * rset.optimum_)


def test_measures_equal_direct_computation():
    X, y, rset = breastcancer_set()
    points = rset.cards_[rset.feature_names_].to_numpy()
    scores = X.to_numpy(float) @ points.T + rset.cards_["intercept"].to_numpy()[None, :]
    risks = 1 / (1 + np.exp(-scores))
    np.testing.assert_allclose(rset.risks(X), risks)
    ranges = rset.prediction_ranges(X, reference=1)
    np.testing.assert_allclose(ranges["risk"], risks[:, 1])
    np.testing.assert_allclose(ranges["min_risk"], risks.min(axis=1))
    np.testing.assert_allclose(ranges["max_risk"], risks.max(axis=1))

    groups = np.where(X["ClumpThickness"] > 5, "thick", "thin")
    table = rset.multiplicity(X, threshold=0.3, groups=groups, delta=0.05)
    assert list(table.index) == ["all", *pd.unique(groups)]
    for label in table.index:
        rows = np.ones(len(X), bool) if label == "all" else groups == label
        decide = risks[rows] > 0.3
        flips = [np.mean(decide[:, k] != decide[:, 0]) for k in range(len(rset))]
        ambiguous = [any(decide[i, k] != decide[i, 0] for k in range(len(rset)))
                     for i in range(rows.sum())]
        span = risks[rows].max(axis=1) - risks[rows].min(axis=1)
        assert table.loc[label, "n"] == rows.sum()
        assert table.loc[label, "ambiguity"] == pytest.approx(np.mean(ambiguous))
        assert table.loc[label, "discrepancy"] == pytest.approx(max(flips))
        assert table.loc[label, "mean_range"] == pytest.approx(span.mean())
        assert table.loc[label, "max_range"] == pytest.approx(span.max())
        assert table.loc[label, "share_range_above"] == pytest.approx(np.mean(span > 0.05))
    assert table.loc["all", "ambiguity"] > 0  # this set does disagree

    # a group column of X is taken out before scoring
    framed = X.assign(group=groups)
    pd.testing.assert_frame_equal(
        rset.multiplicity(framed, threshold=0.3, groups="group", delta=0.05), table)

    use = rset.feature_use()
    for name in rset.feature_names_:
        column = points[:, rset.feature_names_.index(name)]
        assert use.loc[name, "n_cards"] == np.count_nonzero(column)
        if np.any(column):
            assert use.loc[name, "min_points"] == column[column != 0].min()
            assert use.loc[name, "max_points"] == column[column != 0].max()
            assert use.loc[name, "best_rank"] == np.flatnonzero(column)[0]

    share = np.mean(risks.max(axis=1) - risks.min(axis=1) > 0.1)
    line = rset.summary(X)
    assert line.startswith(f"{len(rset)} cards within 10 % of the optimum (proven complete)")
    assert f"{100 * share:.3g} % of people" in line


def test_cards_are_ordinary_models(tmp_path):
    X, y, rset = breastcancer_set()
    risks = rset.risks(X)
    for i in (0, len(rset) - 1):
        clf = rset.to_classifier(i)
        np.testing.assert_allclose(clf.predict_proba(X)[:, 1], risks[:, i])
        assert clf.objective_ == pytest.approx(rset.cards_["objective"].iloc[i])
        assert clf.optimality_gap_ >= 0
        path = save_json(clf, tmp_path / f"card{i}.json")
        loaded = load_json(path)
        np.testing.assert_array_equal(loaded.coef_, clf.coef_)
        np.testing.assert_allclose(loaded.predict_proba(X), clf.predict_proba(X))


def test_card_exports_to_onnx():
    ort = pytest.importorskip("onnxruntime")
    pytest.importorskip("skl2onnx")
    from sk_riskscore import to_onnx

    X, y, rset = breastcancer_set()
    clf = rset.to_classifier(len(rset) - 1)
    session = ort.InferenceSession(to_onnx(clf).SerializeToString(),
                                   providers=["CPUExecutionProvider"])
    inputs = {session.get_inputs()[0].name: X.to_numpy(np.float64)[:50]}
    try:
        outputs = session.run(None, inputs)
    except Exception:  # the graph's input may be float32
        outputs = session.run(None, {k: v.astype(np.float32) for k, v in inputs.items()})
    np.testing.assert_allclose(np.asarray(outputs[1])[:, 1], rset.risks(X)[:50, len(rset) - 1],
                               rtol=1e-5)


def test_pipeline_and_fitted_estimators():
    X, y = load_breastcancer(return_X_y=True, as_frame=True)
    X = X.iloc[:, :4]
    pipeline = make_pipeline(RiskScoreBinarizer(n_thresholds=2).set_output(transform="pandas"),
                             RiskScoreClassifier(max_features=2, max_coef=2))
    rset = rashomon_set(pipeline, X, y, epsilon=0.05, time_limit=60)
    assert rset.complete_
    card = rset.to_classifier(len(rset) - 1)
    assert card.steps[-1][0] == pipeline.steps[-1][0]
    np.testing.assert_allclose(card.predict_proba(X)[:, 1], rset.risks(X)[:, -1])
    with pytest.raises(NotFittedError):  # the caller's pipeline was left unfitted
        pipeline.predict(X)

    fitted = pipeline.fit(X, y)
    again = rashomon_set(fitted, X, y, epsilon=0.05, time_limit=60)
    pd.testing.assert_frame_equal(again.cards_, rset.cards_)
    # the fitted model is a card of the set (the binarizer's complementary
    # thresholds make ties: it need not be card 0)
    assert fitted[-1].coef_[0].tolist() in again.cards_[again.feature_names_].to_numpy().tolist()
    assert fitted[-1].objective_ == pytest.approx(again.optimum_, rel=1e-9)


def test_calibrated_scale_set():
    X, y = load_breastcancer(return_X_y=True, as_frame=True)
    X = X.iloc[:, :5]
    clf = RiskScoreClassifier(max_features=2, max_coef=2, calibrate_scale=True,
                              time_limit=20).fit(X, y)
    rset = rashomon_set(clf, X, y, epsilon=0.05, time_limit=60)
    assert rset.scale_ == clf.scale_
    assert rset.optimum_ <= clf.objective_ + 1e-12
    cards = rset.cards_
    assert np.all(cards["calibrated_objective"] <= cards["objective"] + 1e-12)
    card = rset.to_classifier(0)
    assert card.scale_ == clf.scale_
    np.testing.assert_allclose(card.predict_proba(X)[:, 1], rset.risks(X)[:, 0])


def test_summary_says_truncated_and_whether_the_search_finished():
    X, y = load_breastcancer(return_X_y=True, as_frame=True)
    X = X.iloc[:, :5]
    rset = rashomon_set(RiskScoreClassifier(max_features=2, max_coef=3), X, y, epsilon=0.1,
                        max_models=2, time_limit=60)
    assert rset.truncated_ and not rset.complete_ and rset.status_ == "optimal"
    text = rset.summary(X)
    assert "(truncated to the best 2)" in text and "not proven" not in text


def test_time_limit_is_reported_honestly():
    from .conftest import load_dataset

    X, y = load_dataset("mammo")
    rset = rashomon_set(RiskScoreClassifier(max_features=5, max_coef=5), X, y,
                        epsilon=0.05, time_limit=1.0)
    assert not rset.complete_ and rset.status_ == "time_limit"
    assert np.isnan(rset.complete_below_)
    assert "not proven complete: time limit" in rset.summary(X)
    assert np.all(rset.cards_["objective"] <= rset.threshold_)


def test_plot_prediction_ranges():
    pytest.importorskip("matplotlib")
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    X, y, rset = breastcancer_set()
    ax = rset.plot_prediction_ranges(X)
    assert ax.get_xlabel() == "risk given by the reference card"
    assert len(ax.collections) == 2  # the ranges and the reference risks
    plt.close(ax.figure)


@pytest.mark.parametrize("options, match", [
    ({"epsilon": -0.1}, "epsilon"),
    ({"epsilon": 0.01, "max_models": 0}, "max_models"),
    ({"epsilon": 0.01, "time_limit": 0}, "time_limit"),
])
def test_bad_options(options, match):
    X, y = load_breastcancer(return_X_y=True)
    with pytest.raises(ValueError, match=match):
        rashomon_set(RiskScoreClassifier(), X, y, **options)


def test_bad_inputs():
    X, y, rset = breastcancer_set()
    with pytest.raises(TypeError, match="RiskScoreClassifier"):
        rashomon_set(object(), X, y, epsilon=0.01)
    with pytest.raises(ValueError, match="card index"):
        rset.to_classifier(len(rset))
    with pytest.raises(ValueError, match="one label per row"):
        rset.multiplicity(X, groups=[1, 2])
    with pytest.raises(ValueError, match="threshold"):
        rset.multiplicity(X, threshold=1.5)


def test_sample_weights_count_rows_and_progress_is_reported():
    X, y = load_breastcancer(return_X_y=True, as_frame=True)
    X = X.iloc[:, :5]
    counts = np.where(np.arange(len(X)) % 3 == 0, 2, 1)
    snapshots = []
    estimator = RiskScoreClassifier(max_features=2, max_coef=2)
    weighted = rashomon_set(estimator, X, y, epsilon=0.05, sample_weight=counts,
                            progress=snapshots.append)
    repeated = rashomon_set(estimator, X.loc[X.index.repeat(counts)],
                            y.loc[y.index.repeat(counts)], epsilon=0.05)
    assert weighted.complete_ and repeated.complete_
    np.testing.assert_allclose(weighted.cards_["objective"], repeated.cards_["objective"],
                               rtol=1e-12)
    pd.testing.assert_frame_equal(weighted.cards_[weighted.feature_names_],
                                  repeated.cards_[repeated.feature_names_])
    assert snapshots and snapshots[-1].objective == pytest.approx(weighted.optimum_)


def test_a_false_infeasible_from_the_engine_is_an_error_not_a_prune(monkeypatch):
    from sk_riskscore._solver import _rashomon
    from sk_riskscore._solver._lp import LPInfeasible, RelaxationLP

    class Lying(RelaxationLP):
        def solve(self):
            raise LPInfeasible

    monkeypatch.setattr(_rashomon, "RelaxationLP", Lying)
    found = enumerate_rashomon(random_problem(4), epsilon=0.05, time_limit=60)
    assert found.status == SolverStatus.ERROR and not found.complete
    assert "infeasible" in found.message


def test_box_candidates_never_outgrow_the_box():
    """25 open features, then 5 forced non-zero with support at most 5: one
    candidate, listed without building the 3^25 prefixes first."""
    from sk_riskscore._solver._enumerate import count_models
    from sk_riskscore._solver._loss import LossOracle
    from sk_riskscore._solver._rashomon import _Box, _Enumeration

    rng = np.random.default_rng(0)
    d = 30
    X = (rng.random((60, d)) < 0.5).astype(float)
    y = np.where(rng.random(60) < 0.5, 1, -1)
    problem = RiskScoreProblem(X, y, np.ones(60), np.full(d, -1), np.full(d, 1), -40, 40,
                               np.full(d, 1e-6), max_features=5)
    rows = LossOracle(problem.X, problem.y, problem.sample_weight)
    tree = _Enumeration(problem, rows, epsilon=0.0, max_models=10, deadline=np.inf,
                        max_nodes=None, backend="cbc", progress=None, start=0.0,
                        lower_bound=0.0)
    try:
        lower = np.concatenate([[-40], np.full(25, -1), np.ones(5), np.zeros(25), np.ones(5)])
        upper = np.concatenate([[40], np.ones(d), np.ones(d)])
        box = _Box(lower.astype(float), upper.astype(float), -np.inf)
        assert count_models(box.lower, box.upper, d, tree.feasibility) == 1
        np.testing.assert_array_equal(tree._candidates(box),
                                      [np.r_[np.zeros(25), np.ones(5)].astype(int)])
    finally:
        tree.close()


@pytest.mark.parametrize("seed", range(4))
def test_set_split_by_listed_supports_equals_brute_force(seed, monkeypatch, spy):
    """With the saturated bound's list of supports (forced here; heloc with
    k = 5 in use), boxes are split by the supports they allow: the parts
    overlap, and the set still holds each model once."""
    from sk_riskscore._solver import _rashomon, _saturated

    monkeypatch.setattr(_saturated, "_MAX_ENTRIES", 0)
    splits = spy(_rashomon._Enumeration, "_by_support")
    rng = np.random.default_rng(seed)
    n, d, k = 160, 7, 4
    X = (rng.random((n, d)) < rng.uniform(0.2, 0.7, d)).astype(float)
    X[:, 5] = 1.0 - X[:, 0]  # a complement: one partition with column 0
    y = np.where(X @ rng.integers(-2, 3, d) + rng.normal(size=n) > 0.3, 1, -1)
    weights = rng.integers(1, 3, n).astype(float)
    lower, upper = np.full(d, -2), np.full(d, 2)
    reach = intercept_bound(X, y, weights, lower, upper, k)
    c0 = np.full(d, 1e-3 if seed % 2 else 1e-6)
    problem = RiskScoreProblem(X, y, weights, lower, upper, -reach, reach, c0, max_features=k)
    truth = enumerate_models(X, y, weights, lower, upper, -reach, reach, c0, 0, k)
    epsilon = (0.01, 0.05)[seed % 2]
    found = enumerate_rashomon(problem, epsilon=epsilon, time_limit=60, max_nodes=20_000)
    assert found.complete
    assert any(splits)
    assert_same_set(found, truth, epsilon)


@pytest.mark.parametrize("seed", range(0, 52, 3))
def test_set_with_block_cuts_equals_brute_force(seed, monkeypatch):
    """With an integer intercept the enumeration's LP cuts the loss of four
    blocks of rows, as the tree's does. Boxes are enumerated only when they hold
    at most 2 models, so the block cuts' bounds decide most prunes, and the set
    must still be the brute force's."""
    from sk_riskscore._solver import _rashomon
    from sk_riskscore._solver._lp import RelaxationLP

    monkeypatch.setattr(_rashomon, "_EVALUATE_AT_MOST", 2)
    blocks = []
    insert_planes = RelaxationLP._insert_planes  # where every cut goes into the LP

    def recorded(self, consts, gradients, of_block):
        blocks.extend((self.n_blocks, int(block)) for block in of_block)
        return insert_planes(self, consts, gradients, of_block)

    monkeypatch.setattr(RelaxationLP, "_insert_planes", recorded)
    problem = random_problem(seed)
    epsilon = EPSILONS[seed % len(EPSILONS)]
    found = enumerate_rashomon(problem, epsilon=epsilon, time_limit=60, max_nodes=20_000)
    assert found.complete
    assert_same_set(found, brute_force(seed), epsilon)
    assert blocks and all(n == 4 and 0 <= block < 4 for n, block in blocks)


@pytest.mark.parametrize("seed", range(0, 52, 3))
def test_set_with_the_screen_at_samples_only_equals_brute_force(seed, monkeypatch, spy):
    """Where the saturated screen rarely pays (the set of compas with k = 10:
    544 of 74,895 boxes) it runs at samples of the boxes only
    (``ScreenSchedule``); the boxes it skips are bounded by the LP, and the
    set must still be the brute force's. Forced here from the first box."""
    from sk_riskscore._solver import _rashomon, _saturated

    monkeypatch.setattr(_saturated, "_SCREEN_MIN_RATE", 2.0)  # never reached
    monkeypatch.setattr(_saturated, "_SCREEN_SAMPLE_EVERY", 3)
    monkeypatch.setattr(_rashomon, "_EVALUATE_AT_MOST", 2)  # more boxes to bound
    screens = spy(_rashomon._Enumeration, "_screened")
    problem = random_problem(seed)
    epsilon = EPSILONS[seed % len(EPSILONS)]
    found = enumerate_rashomon(problem, epsilon=epsilon, time_limit=60, max_nodes=20_000)
    assert found.complete
    assert_same_set(found, brute_force(seed), epsilon)
    # the first box, then one in three at most
    assert 1 <= len(screens) <= (found.statistics.n_nodes - 1) // 3 + 1
