"""Operational constraints: exact against enumeration, honoured on real data."""

from __future__ import annotations

import dataclasses
import itertools
import warnings

import numpy as np
import pandas as pd
import pytest
from sklearn.exceptions import ConvergenceWarning
from sklearn.pipeline import make_pipeline

from sk_riskscore import (
    AtLeast,
    AtMost,
    Exactly,
    Implies,
    LinearConstraint,
    Monotonic,
    MustNotUse,
    MustUse,
    RiskScoreBinarizer,
    RiskScoreClassifier,
    constraints_from_dict,
    constraints_to_dict,
)
from sk_riskscore._constraints import compile_constraints
from sk_riskscore._solver import SolverStatus, explain_infeasibility, solve
from sk_riskscore._solver._feasibility import FeasibilityChecker
from sk_riskscore._solver._heuristics import IntegerSearch

from .conftest import CERTIFY_TIME_LIMIT, SHARED_DATA, node_limit
from .oracle import enumerate_optimum
from .test_solver_oracle import random_problem

REAL_DATA = SHARED_DATA.parent / "real"  # compas.csv, heloc.csv


def random_constraints(rng, names):
    d = len(names)
    pick = lambda k: list(rng.choice(names, size=min(k, d), replace=False))  # noqa: E731
    makers = [
        lambda: MustUse(pick(1)),
        lambda: MustNotUse(pick(1)),
        lambda: AtMost(int(rng.integers(0, 2)), pick(int(rng.integers(2, 4)))),
        lambda: AtLeast(1, pick(int(rng.integers(2, 4)))),
        lambda: Exactly(1, pick(int(rng.integers(2, 4)))),
        lambda: Implies(*pick(2)),
        lambda: LinearConstraint(points=dict(zip(pick(2), (1, 1))), upper=2),
        lambda: LinearConstraint(points=dict(zip(pick(2), (1, -1))), lower=0),
        lambda: LinearConstraint(used=dict(zip(pick(3), (1, 1, -1))), upper=1),
    ]
    count = int(rng.integers(1, 4))
    return [makers[int(i)]() for i in rng.choice(len(makers), size=count)]


def constrained_problem(seed):
    rng = np.random.default_rng(1000 + seed)
    base = random_problem(seed)
    names = [f"x{j}" for j in range(base.n_features)]
    constraints = random_constraints(rng, names)
    coef_bounds = {}
    if seed % 3 == 0:
        coef_bounds[names[-1]] = (0, int(base.coef_upper[-1]))  # a sign constraint
    compiled = compile_constraints(
        names, max_coef=int(base.coef_upper.max()), coef_bounds=coef_bounds,
        constraints=constraints,
    )
    problem = dataclasses.replace(
        base, coef_lower=np.maximum(base.coef_lower, compiled.coef_lower),
        coef_upper=np.minimum(base.coef_upper, compiled.coef_upper),
        constraints=compiled.rows,
    )
    return problem, constraints, compiled


def holds_by_meaning(constraint, names, points):
    """Which rows of ``points`` (n, d) obey ``constraint``, read from its docstring's
    meaning alone: no compiled rows, so a compile bug cannot hide in the oracle."""
    column = {name: j for j, name in enumerate(names)}
    used = points != 0

    def count(features):
        return used[:, [column[f] for f in features]].sum(axis=1)

    if isinstance(constraint, MustUse):
        return count(constraint.features) == len(constraint.features)
    if isinstance(constraint, MustNotUse):
        return count(constraint.features) == 0
    if isinstance(constraint, AtMost):
        return count(constraint.features) <= constraint.k
    if isinstance(constraint, AtLeast):
        return count(constraint.features) >= constraint.k
    if isinstance(constraint, Exactly):
        return count(constraint.features) == constraint.k
    if isinstance(constraint, Implies):
        return ~used[:, column[constraint.if_used]] | (
            count(constraint.then_used) == len(constraint.then_used))
    if isinstance(constraint, LinearConstraint):
        value = sum(a * points[:, column[f]] for f, a in constraint.points) + sum(
            c * used[:, column[f]] for f, c in constraint.used)
        return (constraint.lower - 1e-9 <= value) & (value <= constraint.upper + 1e-9)
    raise TypeError(f"no meaning written for {constraint!r}")


def by_meaning(constraints, names):
    def admissible(points):
        keep = np.ones(len(points), dtype=bool)
        for constraint in constraints:
            keep &= holds_by_meaning(constraint, names, points)
        return keep

    return admissible


@pytest.mark.parametrize("seed", range(40))
def test_random_constraint_sets_match_enumeration(seed):
    problem, constraints, compiled = constrained_problem(seed)
    base = random_problem(seed)
    names = [f"x{j}" for j in range(base.n_features)]
    coef_lower = base.coef_lower.copy()
    if seed % 3 == 0:
        coef_lower[-1] = 0  # the sign constraint of constrained_problem
    wide = problem.intercept_upper + 50
    # Ground truth from the unconstrained box, filtered by what each constraint
    # object means: never from the compiled rows or bounds under test.
    truth = enumerate_optimum(
        base.X, base.y, base.sample_weight, coef_lower, base.coef_upper, -wide, wide,
        base.c0, base.min_features, base.max_features,
        admissible=by_meaning(constraints, names),
    )
    result = solve(problem, backend="cbc" if seed % 2 else "highs", time_limit=60,
                   gap_tolerance=1e-9)
    if truth.n_models == 0:
        assert result.status == SolverStatus.INFEASIBLE and result.model is None
        assert explain_infeasibility(problem, compiled.bound_labels), constraints
        return
    assert result.status == SolverStatus.OPTIMAL, (constraints, result.message)
    assert result.objective == pytest.approx(truth.objective, abs=1e-9, rel=0)
    assert result.lower_bound <= truth.objective + 1e-9
    points = result.model.points
    assert FeasibilityChecker(problem).is_feasible(points, result.model.intercept)
    for row in problem.constraints:  # checked once more, independently of the checker
        value = row.points_coef @ points + row.used_coef @ (points != 0)
        assert row.lower - 1e-9 <= value <= row.upper + 1e-9, row.name
    for constraint in constraints:  # and by meaning
        assert holds_by_meaning(constraint, names, points[None, :])[0], constraint


@pytest.mark.parametrize("kind", ["exactly", "at_most", "at_least"])
@pytest.mark.parametrize("seed", [6, 9, 10, 14])
def test_binding_count_constraints_match_enumeration(seed, kind):
    """Count constraints the unconstrained optimum breaks, so each must change the
    answer; random sets rarely bind (an Exactly compiled as AtLeast went unseen)."""
    base = random_problem(seed)
    names = [f"x{j}" for j in range(base.n_features)]
    wide = base.intercept_upper + 50
    box = (base.X, base.y, base.sample_weight, base.coef_lower, base.coef_upper, -wide,
           wide, base.c0, base.min_features, base.max_features)
    free = enumerate_optimum(*box).points[0]
    used = [names[j] for j in np.flatnonzero(free)]
    unused = [names[j] for j in np.flatnonzero(free == 0)]
    assert len(used) >= 2 and unused, "a seed whose optimum uses 2+ features, not all"
    constraint = {
        "exactly": Exactly(1, used), "at_most": AtMost(1, used), "at_least": AtLeast(1, unused),
    }[kind]
    assert not holds_by_meaning(constraint, names, free[None, :])[0], "must bind"
    truth = enumerate_optimum(*box, admissible=by_meaning([constraint], names))
    compiled = compile_constraints(names, max_coef=int(base.coef_upper.max()),
                                   constraints=[constraint])
    problem = dataclasses.replace(
        base, coef_lower=np.maximum(base.coef_lower, compiled.coef_lower),
        coef_upper=np.minimum(base.coef_upper, compiled.coef_upper),
        constraints=compiled.rows,
    )
    result = solve(problem, time_limit=60, gap_tolerance=1e-9)
    if truth.n_models == 0:
        assert result.status == SolverStatus.INFEASIBLE
        return
    assert result.status == SolverStatus.OPTIMAL, result.message
    assert result.objective == pytest.approx(truth.objective, abs=1e-9, rel=0)
    assert holds_by_meaning(constraint, names, result.model.points[None, :])[0]


# ----------------------------------------------------------- real data, per kind
def _points(clf, X):
    return dict(zip(X.columns, clf.coef_[0].tolist()))


KINDS = {
    "coef_bounds": dict(coef_bounds={"Density": (1, 2), "CircumscribedMargin": (0, 5)}),
    "must_use": dict(constraints=[MustUse(["RoundShape", "Age_geq_45"])]),
    "must_not_use": dict(constraints=[MustNotUse(["CircumscribedMargin", "IrregularShape"])]),
    "at_most": dict(
        constraints=[AtMost(1, ["OvalShape", "CircumscribedMargin", "IrregularShape"])]),
    "at_least": dict(constraints=[AtLeast(2, ["Age_lt_30", "Age_geq_30", "Age_geq_45"])]),
    "exactly": dict(constraints=[Exactly(1, ["Age_geq_30", "Age_geq_45", "Age_geq_60"])]),
    "implies": dict(constraints=[Implies("Age_geq_60", "Density")]),
    "linear_points": dict(constraints=[LinearConstraint(
        points={"IrregularShape": 1, "SpiculatedMargin": -1}, lower=0, upper=0)]),
    "linear_used": dict(constraints=[LinearConstraint(
        used={"OvalShape": 1, "RoundShape": 1, "LobularShape": 1}, lower=1)]),
    "min_max_features": dict(min_features=4, max_features=4),
}


def _holds(kind, p):
    used = {k: v != 0 for k, v in p.items()}
    return {
        "coef_bounds": 1 <= p["Density"] <= 2 and p["CircumscribedMargin"] >= 0,
        "must_use": used["RoundShape"] and used["Age_geq_45"],
        "must_not_use": not used["CircumscribedMargin"] and not used["IrregularShape"],
        "at_most": used["OvalShape"] + used["CircumscribedMargin"] + used["IrregularShape"] <= 1,
        "at_least": used["Age_lt_30"] + used["Age_geq_30"] + used["Age_geq_45"] >= 2,
        "exactly": used["Age_geq_30"] + used["Age_geq_45"] + used["Age_geq_60"] == 1,
        "implies": (not used["Age_geq_60"]) or used["Density"],
        "linear_points": p["IrregularShape"] == p["SpiculatedMargin"],
        "linear_used": used["OvalShape"] + used["RoundShape"] + used["LobularShape"] >= 1,
        "min_max_features": sum(used.values()) == 4,
    }[kind]


# Each of these fits certifies optimality in at most ~1,100 nodes (a few seconds on
# an idle machine); under the default 60 s limit a loaded CI runner stopped
# `implies` at the time limit. Bounded by nodes instead, the outcome is the same
# on every machine.
_MAMMO_NODES = 5_000


@pytest.fixture(scope="module")
def unconstrained(mammo):
    X, y = mammo
    with node_limit(_MAMMO_NODES):
        return RiskScoreClassifier(max_features=4, max_coef=3,
                                   time_limit=CERTIFY_TIME_LIMIT).fit(X, y)


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_each_constraint_kind_on_mammo(kind, mammo, unconstrained):
    X, y = mammo
    params = dict(max_features=4, max_coef=3, time_limit=CERTIFY_TIME_LIMIT) | KINDS[kind]
    with node_limit(_MAMMO_NODES):
        clf = RiskScoreClassifier(**params).fit(X, y)
    assert clf.status_ == "optimal"
    assert _holds(kind, _points(clf, X)), _points(clf, X)
    # a constrained optimum can never beat the unconstrained one
    assert clf.objective_ >= unconstrained.objective_ - 1e-12
    assert clf.lower_bound_ <= clf.objective_


def _heuristics_propose(free, monkeypatch) -> list:
    """Make polishing and rounding propose ``free``'s model; returns the list
    that records each proposal."""
    bad = (int(free.intercept_[0]), free.coef_[0].astype(int).copy())
    proposals = []

    def propose(self, *args, **kwargs):
        proposals.append(1)
        return bad[0], bad[1].copy(), free.objective_

    monkeypatch.setattr(IntegerSearch, "polish", propose)
    monkeypatch.setattr(IntegerSearch, "sequential_round", lambda self, b, p: bad)
    return proposals


def test_heuristic_incumbent_violating_a_constraint_is_never_returned(mammo, monkeypatch):
    """Make every heuristic propose the *unconstrained* optimum: better than any
    admissible model, but breaking MustNotUse. It must be rejected."""
    X, y = mammo
    params = dict(max_features=3, max_coef=3, time_limit=CERTIFY_TIME_LIMIT)
    with node_limit(_MAMMO_NODES):
        free = RiskScoreClassifier(**params).fit(X, y)
        banned = X.columns[np.flatnonzero(free.coef_[0])[0]]
        proposals = _heuristics_propose(free, monkeypatch)
        clf = RiskScoreClassifier(**params, constraints=[MustNotUse(banned)]).fit(X, y)
    assert proposals, "the heuristics were not exercised"
    assert _points(clf, X)[banned] == 0
    assert clf.objective_ > free.objective_
    assert clf.status_ == "optimal"
    assert all(row[banned] == 0 for _, row in clf.pool_.iterrows())


# -------------------------------------------------------------- clear errors
@pytest.mark.parametrize(
    "params, message",
    [
        (dict(constraints=[MustUse("NoSuchFeature")]),
         "unknown feature 'NoSuchFeature'. Valid features are"),
        (dict(coef_bounds={"Nope": (0, 1)}), "coef_bounds: unknown feature 'Nope'"),
        (dict(coef_bounds={"Density": (2, 1)}), "is empty: lower exceeds upper"),
        (dict(coef_bounds={"Density": 3}), "must be a pair of integers"),
        (dict(coef_bounds={"Density": (0.5, 2)}), "must be integers"),
        (dict(constraints=["MustUse Density"]), "constraints must hold constraint objects"),
        (dict(constraints=[MustUse("Density"), MustNotUse("Density")]),
         "MustUse('Density'); MustNotUse('Density')"),
        (dict(constraints=[AtLeast(3, ["Density", "OvalShape", "RoundShape"])], max_features=2),
         "max_features=2"),
        (dict(constraints=[Exactly(1, ["Density", "OvalShape"]),
                           MustUse(["Density", "OvalShape"])]),
         "Exactly(1, ['Density', 'OvalShape'])"),
    ],
)
def test_bad_or_contradictory_constraints_give_clear_errors(params, message, mammo):
    X, y = mammo
    with pytest.raises((ValueError, TypeError), match=_escape(message)):
        RiskScoreClassifier(max_coef=3, **({"max_features": 3} | params)).fit(X, y)


def _escape(text):
    import re

    return re.escape(text)


@pytest.mark.parametrize(
    "build, message",
    [
        (lambda: AtMost(-1, ["a"]), "k must be a non-negative integer"),
        (lambda: MustUse([]), "at least one feature"),
        (lambda: LinearConstraint(points={"a": 1}), "finite lower= or upper="),
        (lambda: LinearConstraint(points={"a": 1}, lower=2, upper=1), "exceeds upper"),
        (lambda: LinearConstraint(upper=1), "needs coefficients"),
        (lambda: Implies(["a", "b"], "c"), "if_used must be one feature"),
        (lambda: constraints_from_dict([{"kind": "at_most_ish"}]), "unknown kind"),
        (lambda: constraints_from_dict([{"k": 1}]), "'kind' key"),
        (lambda: constraints_from_dict([{"kind": "at_most", "k": 1}]), "constraint #1 (at_most)"),
    ],
)
def test_constraint_objects_validate_their_arguments(build, message):
    with pytest.raises((ValueError, TypeError), match=_escape(message)):
        build()


def test_constraints_round_trip_through_plain_dicts():
    constraints = [
        MustUse(["a"]), MustNotUse("b"), AtMost(1, ["a", "c"]), AtLeast(1, ["c", "d"]),
        Exactly(2, ["a", "b", "c"]), Implies("a", ["b", "c"]),
        LinearConstraint(points={"a": 1, "b": -2}, used={"c": 1}, lower=-1, upper=3),
    ]
    plain = constraints_to_dict(constraints)
    import json

    assert constraints_from_dict(json.loads(json.dumps(plain))) == constraints


# ------------------------------------------- raw variables behind the binarizer
def _raw_data(seed, n=160):
    """A numeric variable ``a`` (4 rules: two thresholds, both directions), a 0/1
    ``b`` and a category ``c`` (2 rules); ``a`` raises the risk for even seeds
    and lowers it for odd ones, so a monotone constraint binds in one of them."""
    rng = np.random.default_rng(seed)
    a = rng.integers(0, 10, n).astype(float)
    b = rng.integers(0, 2, n)
    c = rng.choice(["u", "v"], n)
    slope = 0.5 if seed % 2 == 0 else -0.5
    logit = -0.5 + slope * (a - 4.5) + 0.8 * (c == "u") - 0.7 * b
    y = (rng.random(n) < 1 / (1 + np.exp(-logit))).astype(int)
    return pd.DataFrame({"a": a, "b": b, "c": c}), y


def _columns(rules, variable):
    return [j for j, rule in enumerate(rules) if rule.column == variable]


def _steps_of(rules, variable):
    """The card's points for ``variable`` on a grid of its values: (rules x grid)
    0/1 matrix, by applying each threshold rule to values on both sides of
    every threshold."""
    columns = [j for j in _columns(rules, variable) if rules[j].operator in (">=", "<")]
    cuts = np.unique([rules[j].threshold for j in columns])
    grid = np.unique(np.r_[cuts, cuts - 0.25, cuts + 0.25, cuts.min() - 1, cuts.max() + 1])
    return columns, np.array([rules[j].apply(grid) for j in columns])


def _meaning(constraint, rules):
    """Which candidate points vectors satisfy ``constraint``, from its meaning."""
    def used(candidates, variable):
        return np.count_nonzero(candidates[:, _columns(rules, variable)], axis=1)

    if isinstance(constraint, MustNotUse):
        return lambda P: np.all([used(P, v) == 0 for v in constraint.features], axis=0)
    if isinstance(constraint, MustUse):
        return lambda P: np.all([used(P, v) >= 1 for v in constraint.features], axis=0)
    if isinstance(constraint, (AtMost, AtLeast)):
        compare = np.less_equal if isinstance(constraint, AtMost) else np.greater_equal
        return lambda P: compare(sum(used(P, v) for v in constraint.features), constraint.k)
    if isinstance(constraint, Implies):
        return lambda P: (used(P, constraint.if_used) == 0) | np.all(
            [used(P, v) >= 1 for v in constraint.then_used], axis=0)
    if isinstance(constraint, Monotonic):
        columns, steps = _steps_of(rules, constraint.variable)
        sign = 1 if constraint.direction == "increasing" else -1

        def monotone(P):
            card = P[:, columns] @ steps  # the variable's points at each grid value
            return np.all(sign * np.diff(card, axis=1) >= 0, axis=1)
        return monotone
    raise AssertionError(constraint)


RAW_CASES = {
    "must_not_use": [MustNotUse("a")],
    "must_use": [MustUse("c")],
    "at_most": [AtMost(1, ["a"])],
    "at_least": [AtLeast(3, ["a", "c"])],
    "implies": [Implies("b", "a")],
    "increasing": [Monotonic("a", "increasing")],
    "decreasing": [Monotonic("a", "decreasing")],
    "binary_decreasing": [Monotonic("b", "decreasing")],
    "combined": [Monotonic("a", "increasing"), AtMost(2, ["a"]), MustNotUse("c")],
}


@pytest.mark.parametrize("seed", [0, 1])
@pytest.mark.parametrize("case", sorted(RAW_CASES))
def test_raw_variable_constraints_match_enumeration(case, seed):
    X, y = _raw_data(seed)
    constraints = RAW_CASES[case]
    binarizer = RiskScoreBinarizer(n_thresholds=2, directions="both").fit(X)
    rules = binarizer.rules_
    assert len(_columns(rules, "a")) == 4 and len(rules) == 7
    # no groups: nested thresholds of one direction may stack, the hard case
    clf = RiskScoreClassifier(max_coef=1, max_features=7, constraints=constraints,
                              binarizer_groups=False, gap_tolerance=1e-9, time_limit=60)
    fitted = make_pipeline(binarizer, clf).fit(X, y)[-1]
    Z = binarizer.transform(X).to_numpy()
    d = Z.shape[1]
    meanings = [_meaning(c, rules) for c in constraints]
    truth = enumerate_optimum(
        Z, np.where(y == 1, 1, -1), np.ones(len(y)), np.full(d, -1), np.full(d, 1),
        -30, 30, np.full(d, clf.c0), admissible=lambda P: np.all(
            [meaning(P) for meaning in meanings], axis=0),
    )
    points = fitted.coef_[0].astype(float)
    assert all(meaning(points[None, :])[0] for meaning in meanings), points
    assert fitted.status_ == "optimal"
    assert fitted.objective_ == pytest.approx(truth.objective, abs=1e-9, rel=0)


def test_monotone_rows_are_the_steps_of_the_card():
    """The compiled rows accept exactly the monotone cards, on every points
    vector of a small grid (both directions, nested thresholds)."""
    X, _ = _raw_data(0)
    rules = RiskScoreBinarizer(n_thresholds=2, directions="both").fit(X).rules_
    names = [rule.name for rule in rules]
    grid = np.array(list(itertools.product(range(-1, 2), repeat=len(rules))), dtype=float)
    for direction in ("increasing", "decreasing"):
        constraint = Monotonic("a", direction)
        compiled = compile_constraints(names, max_coef=2, constraints=[constraint],
                                       rules=rules)
        by_rows = np.all([(grid @ row.points_coef >= row.lower)
                          & (grid @ row.points_coef <= row.upper)
                          for row in compiled.rows], axis=0)
        by_meaning = _meaning(constraint, rules)(grid)
        np.testing.assert_array_equal(by_rows, by_meaning)
        assert 0 < by_meaning.sum() < len(grid)


def test_heuristics_never_return_a_non_monotone_card(monkeypatch):
    """Every heuristic proposes the unconstrained optimum, which is decreasing
    in ``a``; under Monotonic("a", "increasing") it must be rejected."""
    X, y = _raw_data(1)
    binarizer = RiskScoreBinarizer(n_thresholds=2, directions="both").fit(X)
    params = dict(max_coef=2, max_features=4, binarizer_groups=False)
    free = make_pipeline(binarizer, RiskScoreClassifier(**params)).fit(X, y)[-1]
    rules = binarizer.rules_
    increasing = _meaning(Monotonic("a", "increasing"), rules)
    assert not increasing(free.coef_.astype(float))[0]  # the constraint binds
    proposals = _heuristics_propose(free, monkeypatch)
    clf = make_pipeline(binarizer, RiskScoreClassifier(
        **params, constraints=[Monotonic("a", "increasing")])).fit(X, y)[-1]
    assert proposals, "the heuristics were not exercised"
    assert increasing(clf.coef_.astype(float))[0]
    assert all(increasing(clf.pool_[list(clf.feature_names_in_)].to_numpy(float)))
    assert clf.objective_ > free.objective_


def test_plain_pipeline_resolves_variables_and_errors_list_them():
    X, y = _raw_data(0)
    model = make_pipeline(RiskScoreBinarizer(n_thresholds=2),
                          RiskScoreClassifier(max_coef=2, max_features=3,
                                              constraints=[MustNotUse("a")]))
    clf = model.fit(X, y)[-1]
    assert not any(p for name, p in zip(clf.feature_names_in_, clf.coef_[0])
                   if name.startswith("a "))
    model.set_params(riskscoreclassifier__constraints=[MustUse("age")])
    with pytest.raises(ValueError, match=_escape(
            "unknown feature 'age'. Valid variables are ['a', 'b', 'c']")):
        model.fit(X, y)
    wide = pd.DataFrame({f"variable_{k}": X["a"] + k for k in range(60)})
    model = make_pipeline(RiskScoreBinarizer(n_thresholds=3),
                          RiskScoreClassifier(constraints=[MustNotUse("nope")]))
    with pytest.raises(ValueError, match="more\\)\\]") as error:
        model.fit(wide, y)
    assert len(str(error.value)) < 400  # not 360 threshold names
    with pytest.raises(ValueError, match="monotone points need a numeric variable"):
        make_pipeline(RiskScoreBinarizer(), RiskScoreClassifier(
            constraints=[Monotonic("c")])).fit(X, y)


def test_monotonic_round_trips_and_validates():
    plain = constraints_to_dict([Monotonic("age", "decreasing")])
    assert plain == [{"kind": "monotonic", "variable": "age", "direction": "decreasing"}]
    assert constraints_from_dict(plain) == [Monotonic("age", "decreasing")]
    with pytest.raises(ValueError, match="direction must be one of"):
        Monotonic("age", "up")


def test_compas_constraints_in_variable_names_are_honoured(tmp_path):
    """The constraints file of issue 19 on a compas subsample: race not used,
    risk non-decreasing in priors_count, at most one age rule."""
    import json

    if not (REAL_DATA / "compas.csv").exists():
        pytest.skip(f"compas.csv not found in {REAL_DATA}")
    data = pd.read_csv(REAL_DATA / "compas.csv").sample(1500, random_state=0)
    X, y = data.drop(columns="two_year_recid"), data["two_year_recid"]
    path = tmp_path / "constraints.json"
    path.write_text(json.dumps([
        {"kind": "must_not_use", "features": ["race"]},
        {"kind": "monotonic", "variable": "priors_count", "direction": "increasing"},
        {"kind": "at_most", "k": 1, "features": ["age"]},
    ]))
    constraints = constraints_from_dict(json.loads(path.read_text()))
    model = make_pipeline(RiskScoreBinarizer(n_thresholds=4),
                          RiskScoreClassifier(max_features=4, max_coef=3, time_limit=8,
                                              random_state=0, constraints=constraints))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model.fit(X, y)
    rules = model[0].rules_
    points = model[-1].coef_.astype(float)
    assert _meaning(MustNotUse("race"), rules)(points)[0]
    assert _meaning(AtMost(1, ["age"]), rules)(points)[0]
    assert _meaning(Monotonic("priors_count", "increasing"), rules)(points)[0]
    # the unconstrained card breaks at least one of them, so they were not idle
    free = make_pipeline(RiskScoreBinarizer(n_thresholds=4), RiskScoreClassifier(
        max_features=4, max_coef=3, time_limit=8, random_state=0))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        free_points = free.fit(X, y)[-1].coef_.astype(float)
    assert not all(_meaning(c, rules)(free_points)[0] for c in constraints)
