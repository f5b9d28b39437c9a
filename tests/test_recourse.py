"""Recourse: reachability and minimum cost equal brute force over the raw values."""

from __future__ import annotations

import itertools
import json

import numpy as np
import pandas as pd
import pytest
from sklearn.pipeline import Pipeline

from sk_riskscore import (
    Action,
    ActionSet,
    InvalidActionSetError,
    Link,
    MustUse,
    RiskScoreBinarizer,
    RiskScoreClassifier,
    audit_recourse,
    recourse,
)

from .conftest import HELOC_SPECIAL_VALUES, load_heloc, node_limit

# -- hand-made cards -------------------------------------------------------------------


def _classifier(points, intercept, names=None):
    clf = RiskScoreClassifier()
    clf.coef_ = np.array([points], dtype=np.int64)
    clf.intercept_ = np.array([intercept], dtype=np.int64)
    clf.classes_ = np.array([0, 1])
    clf.scale_ = 1.0
    clf.n_features_in_ = len(points)
    if names is not None:
        clf.feature_names_in_ = np.array(names, dtype=object)
    return clf


def _pipeline(columns, rules, points, intercept, categories=None):
    """Pipeline(binarizer with the given rules, classifier with the given points)."""
    categories = categories or {}
    binarizer = RiskScoreBinarizer.from_dict({
        "n_features_in": len(columns),
        "feature_names_in": list(columns),
        "column_types": {c: "categorical" if c in categories else "numeric" for c in columns},
        "categories": {c: list(v) for c, v in categories.items()},
        "rules": [
            {"column": c, "operator": op, "threshold": t, "name": f"{c} {op} {t}",
             **({"excluded": list(excluded[0])} if excluded else {})}
            for c, op, t, *excluded in rules
        ],
    })
    return Pipeline([("bin", binarizer), ("clf", _classifier(points, intercept))])


COLUMNS = ["a", "b", "c", "d", "e"]
CATEGORIES = {"c": ("x", "y", "z")}
# nested thresholds on a, both operators and both signs on a and b, a
# category, an immutable d and e linked to a
RULES = [("a", ">=", 2.0), ("a", ">=", 5.0), ("a", "<", 1.0), ("b", ">=", 3.0),
         ("b", "<", 0.0), ("c", "==", "x"), ("c", "==", "y"), ("d", ">=", 4.0),
         ("e", ">=", 10.0)]
POINTS = [2, 1, -1, -2, 1, 2, -1, 3, 2]


def _people(n, seed):
    rng = np.random.default_rng(seed)
    return pd.DataFrame({
        "a": rng.integers(-1, 8, n).astype(float),
        "b": rng.integers(-2, 6, n).astype(float),
        "c": rng.choice(["x", "y", "z"], n),
        "d": rng.integers(0, 7, n).astype(float),
        "e": rng.integers(5, 13, n).astype(float),
    })


def _grid(action: Action, x):
    """Every value brute force tries for one variable: bounded by the test's actions."""
    if action is None or not action.actionable:
        return [x]
    if action.categories is not None or isinstance(x, str):
        return [x, *[c for c in (action.categories or CATEGORIES["c"]) if c != x]]
    if x in action.special_values:
        return [x]
    if action.values is not None:
        values = [v for v in action.values]
    else:
        step = action.step
        values = [x + k * step for k in range(-40, 41)]
    lower = -np.inf if action.lower is None else action.lower
    upper = np.inf if action.upper is None else action.upper
    if action.direction == "increase":
        lower = max(lower, x)
    if action.direction == "decrease":
        upper = min(upper, x)
    if action.max_change is not None:
        lower, upper = max(lower, x - action.max_change), min(upper, x + action.max_change)
    return [x, *[v for v in values if lower <= v <= upper and v != x]]


def _brute_force(model, X, action_set, target_low=True, limit=0.0, reference=None):
    """(reachable, min cost, responsiveness dict) per person by enumerating raw values."""
    reference = X if reference is None else reference
    out = []
    for i in range(len(X)):
        row = X.iloc[i]
        names = list(X.columns)
        choices = [_grid(action_set[c] if c in action_set else None, row[c]) for c in names]
        combos = pd.DataFrame(list(itertools.product(*choices)), columns=names)
        # linked variables move with their source
        for action in action_set.actions:
            for link in action.links:
                bound = action_set[link.target] if link.target in action_set else None
                if bound is not None and row[link.target] in bound.special_values:
                    continue  # a special code stays put
                combos[link.target] = row[link.target] + link.scale * (
                    combos[action.variable] - row[action.variable])
                if bound is not None:
                    lo = -np.inf if bound.lower is None else bound.lower
                    hi = np.inf if bound.upper is None else bound.upper
                    moved = combos[action.variable] != row[action.variable]
                    ok = ~moved | combos[link.target].between(lo, hi)
                    combos = combos[ok].reset_index(drop=True)
        score = model.decision_function(combos)
        attains = score <= limit if target_low else score > limit
        cost = np.zeros(len(combos))
        for action in action_set.actions:
            if not action.actionable:
                continue
            new, old = combos[action.variable], row[action.variable]
            if isinstance(old, str):
                cost += action.weight * (new != old).to_numpy()
            elif action.cost == "percentile":
                ref = np.sort(reference[action.variable].to_numpy(float))
                q = np.searchsorted(ref, new.to_numpy(float), "right") / len(ref)
                q0 = np.searchsorted(ref, old, "right") / len(ref)
                cost += action.weight * np.abs(q - q0)
            else:
                cost += action.weight * np.abs(new.to_numpy(float) - old) / (action.step or 1)
        reach = bool(attains.any())
        out.append((reach, cost[attains].min() if reach else np.inf))
    return out


def _single_variable_responsiveness(model, X, action_set, i, variable, limit=0.0):
    row = X.iloc[[i]]
    action = action_set[variable]
    values = [v for v in _grid(action, row[variable].iloc[0])[1:]]
    if not values:
        return 0.0
    rows = pd.concat([row] * len(values), ignore_index=True)
    rows[variable] = values
    for link in action.links:
        rows[link.target] = row[link.target].iloc[0] + link.scale * (
            rows[variable] - row[variable].iloc[0])
        bound = action_set[link.target]
        rows = rows[rows[link.target] <= bound.upper]  # the tests' links bound above
    return float(np.mean(model.decision_function(rows) <= limit))


ACTIONS = ActionSet((
    Action("a", direction="any", lower=-2, upper=9, step=1, links=(Link("e"),)),
    Action("b", direction="decrease", lower=-3, upper=7, max_change=4, step=1, weight=2.0),
    Action("c", categories=("y", "z"), weight=1.5),
    Action("d", actionable=False),
    Action("e", actionable=False, upper=13),
))


@pytest.fixture(scope="module")
def card():
    return _pipeline(COLUMNS, RULES, POINTS, -1, CATEGORIES)


@pytest.mark.parametrize("method", ["enumerate", "ip"])
def test_min_cost_equals_brute_force(card, method):
    X = _people(40 if method == "enumerate" else 15, seed=1)
    result = recourse(card, X, ACTIONS, method=method, n_alternatives=0)
    truth = _brute_force(card, X, ACTIONS)
    people = result.people
    assert (~people["favourable"]).sum() >= 5 and people["favourable"].sum() >= 3
    assert (~people["reachable"]).sum() >= 1, "the data should hold a fixed prediction"
    for i, (reach, cost) in enumerate(truth):
        assert people["reachable"].iloc[i] == reach, i
        assert people["cost"].iloc[i] == pytest.approx(cost), i


def test_actions_really_reach_the_target(card):
    X = _people(40, seed=2)
    result = recourse(card, X, ACTIONS, n_alternatives=2)
    assert len(result.actions) > 0
    for (person, rank), rows in result.actions.groupby(["person", "rank"]):
        changed = X.loc[[person]].copy()
        for variable, new in zip(rows["variable"], rows["new"]):
            changed[variable] = new
            if variable == "a":
                changed["e"] = X.loc[person, "e"] + (new - X.loc[person, "a"])
        assert card.decision_function(changed)[0] <= 0, (person, rank)
    # alternatives cost at least as much as the best action
    best = result.people["cost"]
    costs = result.actions.groupby(["person", "rank"])["cost"].first()
    assert all(costs[p, r] >= best[p] - 1e-12 for p, r in costs.index)


def test_already_favourable_and_immutable_people():
    model = _pipeline(["a", "d"], [("a", ">=", 3.0), ("d", ">=", 1.0)], [2, 3], -1)
    X = pd.DataFrame({"a": [0.0, 5.0, 5.0, 0.0], "d": [0.0, 0.0, 2.0, 2.0]})
    actions = ActionSet((Action("a", direction="decrease", step=1, lower=0),))
    people = recourse(model, X, actions).people
    assert people["favourable"].tolist() == [True, False, False, False]
    assert people["reachable"].tolist() == [True, True, False, False]
    assert people["cost"].tolist() == [0.0, 3.0, np.inf, np.inf]
    assert people.loc[1, "action"] == "a: 5 -> 2"
    # d (immutable, +3) is a reason without recourse
    assert people.loc[2, "reasons"] == "d, a"
    assert people.loc[2, "reasons_with_recourse"] == ""


def test_threshold_and_target_event(card):
    X = _people(25, seed=3)
    limit = np.log(0.3 / 0.7)
    result = recourse(card, X, ACTIONS, threshold=0.3, n_alternatives=0)
    truth = _brute_force(card, X, ACTIONS, limit=limit)
    assert [bool(r) for r in result.people["reachable"]] == [t[0] for t in truth]
    assert np.allclose(result.people["cost"], [t[1] for t in truth])
    # the event as target: reach a score above 0
    event = recourse(card, X, ACTIONS, target=1, n_alternatives=0, method="ip")
    truth = _brute_force(card, X, ACTIONS, target_low=False)
    assert np.allclose(event.people["cost"], [t[1] for t in truth])


def test_enumeration_and_integer_program_agree_on_alternatives(card):
    X = _people(12, seed=4)
    by_enum = recourse(card, X, ACTIONS, method="enumerate", n_alternatives=3).actions
    by_ip = recourse(card, X, ACTIONS, method="ip", n_alternatives=3).actions
    first = by_enum.groupby(["person", "rank"])["cost"].first()
    second = by_ip.groupby(["person", "rank"])["cost"].first()
    assert first.index.get_level_values(0).unique().tolist() == \
        second.index.get_level_values(0).unique().tolist()
    for person in first.index.get_level_values(0).unique():
        assert first[person].iloc[0] == pytest.approx(second[person].iloc[0])
        # the alternatives are found by the same rule, so their costs agree
        assert np.allclose(first[person].to_numpy(), second[person].to_numpy())


def test_responsiveness_equals_share_of_single_variable_changes(card):
    X = _people(30, seed=5)
    result = recourse(card, X, ACTIONS, n_alternatives=0)
    for i in np.flatnonzero(~result.people["favourable"].to_numpy()):
        for variable in ("a", "b"):
            expected = _single_variable_responsiveness(card, X, ACTIONS, i, variable)
            assert result.responsiveness[variable].iloc[i] == pytest.approx(expected), (
                i, variable)
        assert result.responsiveness["d"].iloc[i] == 0.0
    assert result.responsiveness[result.people["favourable"]].isna().all().all()


def test_percentile_cost_and_special_values():
    model = _pipeline(["u", "v"], [("u", ">=", 50.0), ("v", "<", 2.0), ("v", ">=", 6.0)],
                      [2, 1, 2], -1)
    rng = np.random.default_rng(6)
    X = pd.DataFrame({"u": rng.integers(0, 100, 30).astype(float),
                      "v": rng.integers(0, 9, 30).astype(float)})
    X.loc[:4, "u"] = -9.0  # a special code: no record
    actions = ActionSet((
        Action("u", direction="decrease", lower=0, upper=100, step=5, cost="percentile",
               special_values=(-9, -8, -7)),
        Action("v", lower=0, upper=10, step=1, cost="percentile", weight=2.0),
    ))
    result = recourse(model, X, actions, n_alternatives=0)
    truth = _brute_force(model, X, actions)
    assert [bool(r) for r in result.people["reachable"]] == [t[0] for t in truth]
    assert np.allclose(result.people["cost"], [t[1] for t in truth])
    assert (result.people["action"].iloc[:5].str.startswith("u") == False).all()  # noqa: E712


def test_card_without_binarizer_uses_points_per_unit():
    clf = _classifier([1, -2, 3], -2, names=["late", "years", "flag"])
    X = pd.DataFrame({"late": [4.0, 0.0, 2.0, 3.0], "years": [0.0, 1.0, 0.0, 0.0],
                      "flag": [1.0, 1.0, 0.0, 1.0]})
    actions = ActionSet((
        Action("late", direction="decrease", lower=0, upper=10, step=1),
        Action("years", direction="increase", lower=0, upper=3, step=1, weight=3.0),
        Action("flag", values=(0.0, 1.0), weight=10.0),
    ))
    result = recourse(clf, X, actions, n_alternatives=0)
    truth = _brute_force(clf, X, actions)
    assert np.allclose(result.people["cost"], [t[1] for t in truth])
    with pytest.raises(InvalidActionSetError, match="finite list"):
        recourse(clf, X, {"variables": {"late": {"direction": "decrease"}}})


# -- action set documents ------------------------------------------------------------


def test_action_set_file_round_trip(tmp_path):
    for suffix in (".json", ".yaml"):
        path = ACTIONS.to_file(tmp_path / f"actions{suffix}")
        assert ActionSet.from_file(path) == ACTIONS
    assert ActionSet.from_dict(json.loads(json.dumps(ACTIONS.to_dict()))) == ACTIONS


@pytest.mark.parametrize("document, message", [
    ({"variables": {"a": {"direction": "up"}}}, "direction must be one of"),
    ({"variables": {"a": {"step": -1}}}, "step must be positive"),
    ({"variables": {"a": {"lower": 5, "upper": 1}}}, "exceeds upper"),
    ({"variables": {"a": {"colour": 1}}}, "unknown keys"),
    ({"variables": {"a": {"links": [{"target": "e"}]}, "e": {}}}, "cannot be actionable"),
    ({"variables": {"a": {"special_values": [-9]}}}, "lies within the bounds"),
    ({"variables": {"a": {"step": 1, "values": [1, 2]}}}, "either step or values"),
    ({"variables": ["a"]}, "must map each variable"),
    ({"variables": {"a": {"weight": "x" * 5000}}}, "weight must be a number"),
])
def test_bad_documents_give_clear_short_errors(document, message):
    with pytest.raises(InvalidActionSetError, match=message) as info:
        ActionSet.from_dict(document)
    assert len(str(info.value)) < 400


def test_bad_files_name_the_file(tmp_path):
    path = tmp_path / "actions.yaml"
    path.write_text("variables: {a: [unclosed\n")
    with pytest.raises(InvalidActionSetError, match="actions.yaml: not valid YAML"):
        ActionSet.from_file(path)
    path.write_text("!!python/object:os.system {}\n")  # safe_load refuses objects
    with pytest.raises(InvalidActionSetError, match="not valid YAML"):
        ActionSet.from_file(path)
    (tmp_path / "actions.txt").write_text("{}")
    with pytest.raises(InvalidActionSetError, match="must end in .json, .yaml or .yml"):
        ActionSet.from_file(tmp_path / "actions.txt")
    # Aliases could expand a few hundred bytes to gigabytes: refused, not expanded.
    path.write_text("a: &a [1, 1, 1, 1]\nb: &b [*a, *a, *a, *a]\nvariables: {x: {values: *b}}\n")
    with pytest.raises(InvalidActionSetError, match=r"aliases \(\*name\) are not allowed"):
        ActionSet.from_file(path)
    path.write_text("variables: {}\n" + "#" * (2 * 1024 * 1024))
    with pytest.raises(InvalidActionSetError, match="too large for an action set file"):
        ActionSet.from_file(path)


def test_actions_are_checked_against_the_model(card):
    X = _people(5, seed=7)
    with pytest.raises(InvalidActionSetError, match="not an input column"):
        recourse(card, X, {"variables": {"income": {}}})
    with pytest.raises(InvalidActionSetError, match="categorical in the model"):
        recourse(card, X, {"variables": {"c": {"step": 1}}})
    with pytest.raises(InvalidActionSetError, match="not categories the model knows"):
        recourse(card, X, {"variables": {"c": {"categories": ["w"]}}})
    # declaring a column the model does not read immutable is allowed
    plain = recourse(card, X, {"variables": {}}).people
    extra = recourse(card, X, {"variables": {"income": {"actionable": False}}}).people
    assert extra.equals(plain)


# -- audit ---------------------------------------------------------------------------


def test_audit_summarises_the_per_person_result(card):
    X = _people(60, seed=8)
    groups = pd.Series(np.where(np.arange(60) % 3 == 0, "p", "q"), name="sex")
    audit = audit_recourse(card, X, ACTIONS, groups=groups)
    people = audit.result.people
    unfavourable = ~people["favourable"]
    summary = audit.summary()
    assert summary["group"].tolist() == ["all", "sex", "sex"]
    overall = summary.iloc[0]
    assert overall["n_unfavourable"] == unfavourable.sum()
    assert overall["n_fixed"] == (~people["reachable"]).sum() == len(audit.fixed()) > 0
    assert overall["recourse_share"] == pytest.approx(
        (unfavourable & people["reachable"]).sum() / unfavourable.sum())
    assert overall["cost_median"] == pytest.approx(
        people.loc[unfavourable & people["reachable"], "cost"].median())
    by_group = summary.set_index("value")
    assert by_group.loc["p", "n"] + by_group.loc["q", "n"] == 60
    mask = (groups == "p").to_numpy()
    assert by_group.loc["p", "n_fixed"] == (~people["reachable"].to_numpy()[mask]).sum()
    table = audit.responsiveness().set_index("variable")
    assert table.loc["d", "mean_responsiveness"] == 0.0
    assert table.loc["a", "mean_responsiveness"] == pytest.approx(
        audit.result.responsiveness.loc[unfavourable, "a"].mean())
    metrics = audit.metrics()
    assert metrics["recourse_share"] == pytest.approx(overall["recourse_share"])
    assert metrics["recourse_share/sex/p"] == pytest.approx(by_group.loc["p", "recourse_share"])
    assert all(isinstance(v, float) and np.isfinite(v) for v in metrics.values())
    assert "| sex | p |" in audit.to_markdown()
    assert audit.to_frame()["sex"].tolist() == groups.tolist()


def test_audit_plot_draws_three_panels(card):
    matplotlib = pytest.importorskip("matplotlib")
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    X = _people(30, seed=9)
    figure = audit_recourse(card, X, ACTIONS, groups=X["c"]).plot()
    assert len(figure.axes) == 3
    assert figure.axes[0].get_yticklabels()[0].get_text() == "all"
    plt.close(figure)


def test_linked_variable_holding_a_special_code_stays_put():
    model = _pipeline(["age", "tenure"], [("age", ">=", 30.0), ("tenure", "<", 2.0)],
                      [-1, 2], 0)
    X = pd.DataFrame({"age": [25.0, 25.0, 28.0, 40.0], "tenure": [1.0, -9.0, 0.0, -9.0]})
    actions = ActionSet((
        Action("age", direction="increase", step=1, upper=80, links=(Link("tenure", 0.5),)),
        Action("tenure", actionable=False, lower=0, special_values=(-9,)),
    ))
    people = recourse(model, X, actions, n_alternatives=0).people
    truth = _brute_force(model, X, actions)
    assert people["reachable"].tolist() == [t[0] for t in truth]
    assert np.allclose(people["cost"], [t[1] for t in truth])
    # row 0: age 25 -> 27 lifts tenure 1 -> 2 (cost 2); row 1 keeps tenure -9: fixed
    assert people["cost"].tolist()[:2] == [2.0, np.inf]


def test_arrays_and_cards_without_points():
    clf = _classifier([2, 0], -1)
    X = np.array([[1.0, 5.0], [0.0, 5.0]])
    people = recourse(clf, X, {"variables": {"x0": {"values": [0, 1]}}}).people
    assert people["cost"].tolist() == [1.0, 0.0]
    assert people.loc[0, "action"] == "x0: 1 -> 0"
    empty = recourse(_classifier([0, 0], 1), X, {"variables": {"x0": {"values": [0, 1]}}})
    assert not empty.people["reachable"].any()
    assert empty.responsiveness.shape == (2, 0)


def test_continuous_variable_moves_just_across_the_threshold():
    model = _pipeline(["a", "b"], [("a", ">=", 2.0), ("b", "<", 1.5)], [2, 2], -1)
    X = pd.DataFrame({"a": [5.5, 0.0], "b": [3.0, 0.25]})
    actions = {"variables": {"a": {"direction": "decrease"}, "b": {"lower": 0}}}
    result = recourse(model, X, actions)
    new = result.actions.set_index("person")
    assert new.loc[0, "new"] == np.nextafter(2.0, -np.inf)  # the largest value < 2
    assert result.people.loc[0, "cost"] == pytest.approx(3.5)
    assert new.loc[1, "new"] == 1.5 and result.people.loc[1, "cost"] == 1.25
    assert model.decision_function(X.assign(a=[new.loc[0, "new"], 0.0])).tolist()[0] <= 0


# -- missing values and special codes ---------------------------------------------------

CODES = (-7.0, -8.0)
# "m is missing" and "m is -7" beside nested thresholds on m; s scores the code -7
# and has a threshold just above the codes, so the nearest value below it is a code;
# -8 is a code only through the thresholds' excluded values; t follows m; c is a
# category with missing values
MISSING_COLUMNS = ["m", "s", "t", "c"]
MISSING_RULES = [
    ("m", ">=", 2.0, CODES), ("m", ">=", 5.0, CODES), ("m", "<", 1.0, CODES),
    ("m", "is", None), ("m", "is", -7.0),
    ("s", "<", -6.0, CODES), ("s", ">=", 3.0, CODES), ("s", "is", -7.0),
    ("t", ">=", 4.0, CODES), ("t", "is", -7.0),
    ("c", "==", "x"), ("c", "is", None),
]
MISSING_POINTS = [-2, -1, 1, 2, 1, -2, 1, -3, 1, 2, -1, 2]
MISSING_ACTIONS = ActionSet((
    Action("m", lower=-9, upper=9, step=1, links=(Link("t"),)),
    Action("s", direction="decrease", lower=-9, upper=8, step=1, weight=2.0),
    Action("t", actionable=False, upper=12),
    Action("c", categories=("x", "y")),
))
# the same, but missing values and codes of m (and missing categories) can be left
LEAVING_ACTIONS = ActionSet(tuple(
    Action(a.variable, **{**{k: getattr(a, k) for k in (
        "actionable", "direction", "lower", "upper", "step", "weight", "categories",
        "links")}, "leave_cost": {"m": 3.0, "c": 0.5}.get(a.variable)})
    for a in MISSING_ACTIONS.actions
))


@pytest.fixture(scope="module")
def missing_card():
    return _pipeline(MISSING_COLUMNS, MISSING_RULES, MISSING_POINTS, 1, {"c": ("x", "y")})


def _people_with_codes(n, seed):
    rng = np.random.default_rng(seed)
    return pd.DataFrame({
        "m": rng.choice([np.nan, -7.0, -8.0, *range(-2, 9)], n),
        "s": rng.choice([np.nan, -7.0, -8.0, *range(-3, 7)], n),
        "t": rng.choice([np.nan, -7.0, *range(0, 13)], n),
        "c": rng.choice(np.array([None, "x", "y"], dtype=object), n),
    })


def _is_amount(value) -> bool:
    return not pd.isna(value) and value not in CODES


def _brute_force_with_codes(model, X, action_set=MISSING_ACTIONS):
    """(reachable, min cost) per person: every combination of raw values on a grid
    holding NaN and the codes; a move is an action only between amounts (from and
    to a value that is neither missing nor a code) and within the action's bounds,
    or from a missing value or code to an amount at ``leave_cost`` where given."""
    grid = {"m": [np.nan, *CODES, *range(-10, 11)], "s": [np.nan, *CODES, *range(-10, 11)],
            "c": [None, "x", "y"]}
    out = []
    for i in range(len(X)):
        row = X.iloc[i]
        choices = []
        for name in MISSING_COLUMNS:
            if name not in grid:
                choices.append([row[name]])
                continue
            old, action = row[name], action_set[name]
            allowed = [old]
            leaving = not _is_amount(old) and action.leave_cost is not None
            for new in grid[name]:
                if not (_is_amount(old) or leaving) or not _is_amount(new) or new == old:
                    continue
                if name == "c" or (action.lower <= new <= action.upper and (
                        leaving or action.direction != "decrease" or new <= old)):
                    allowed.append(new)
            choices.append(allowed)
        combos = pd.DataFrame(list(itertools.product(*choices)), columns=MISSING_COLUMNS)
        if _is_amount(row["t"]):  # t follows m, within its bound and onto no code
            combos["t"] = row["t"] + (combos["m"] - row["m"]) if _is_amount(row["m"]) \
                else row["t"]
            moved = combos["t"] != row["t"]
            ok = ~moved | ((combos["t"] <= 12) & ~combos["t"].isin(CODES))
            combos = combos[ok].reset_index(drop=True)
        attains = model.decision_function(combos) <= 0
        cost = np.zeros(len(combos))
        for name in ("m", "s", "c"):
            action, old = action_set[name], row[name]
            new = combos[name]
            moved = ~(new.isna() & pd.isna(old)) & (new != old)
            if not _is_amount(old):
                cost += moved.to_numpy() * (action.leave_cost or 0.0)
            elif name == "c":
                cost += moved.to_numpy() * action.weight
            else:
                cost += action.weight * np.abs(new.to_numpy(float) - old)
        reach = bool(attains.any())
        out.append((reach, cost[attains].min() if reach else np.inf))
    return out


# the cards are made by hand: their binarizers warn about missing values in t and s
pytestmark_missing = pytest.mark.filterwarnings("ignore:RiskScoreBinarizer. the columns")


@pytestmark_missing
@pytest.mark.parametrize("method", ["enumerate", "ip"])
@pytest.mark.parametrize("leaving", [False, True])
def test_missing_and_special_values_equal_brute_force(missing_card, method, leaving):
    X = _people_with_codes(60 if method == "enumerate" else 25, seed=11)
    action_set = LEAVING_ACTIONS if leaving else MISSING_ACTIONS
    people = recourse(missing_card, X, action_set, method=method, n_alternatives=0).people
    truth = _brute_force_with_codes(missing_card, X, action_set)
    held = ~X[["m", "s"]].isin(CODES).any(axis=1) & ~X[["m", "s"]].isna().any(axis=1)
    unfavourable = ~people["favourable"]
    # the data must exercise the codes: unfavourable people holding them, some of
    # them fixed, and people who could reach a code but must not
    assert (unfavourable & ~held).sum() >= 5
    if leaving:  # some of the cheapest actions leave a missing value or code of m
        assert people["action"].str.contains(r"m: (?:nan|-7|-8) ->").sum() >= 2
    else:
        assert (~people["reachable"]).sum() >= 2
    for i, (reach, cost) in enumerate(truth):
        assert people["reachable"].iloc[i] == reach, (i, X.iloc[i].tolist())
        assert people["cost"].iloc[i] == pytest.approx(cost), (i, X.iloc[i].tolist())


@pytestmark_missing
def test_actions_never_enter_or_leave_a_missing_value_or_code(missing_card):
    X = _people_with_codes(60, seed=12)
    result = recourse(missing_card, X, MISSING_ACTIONS, n_alternatives=2)
    actions = result.actions
    assert len(actions) > 0
    assert not actions["new"].map(lambda v: not _is_amount(v)).any()
    assert not actions["current"].map(lambda v: not _is_amount(v)).any()
    for (person, rank), rows in actions.groupby(["person", "rank"]):
        changed = X.loc[[person]].copy()
        for variable, new in zip(rows["variable"], rows["new"]):
            changed[variable] = new
            if variable == "m" and _is_amount(X.loc[person, "t"]):
                changed["t"] = X.loc[person, "t"] + (new - X.loc[person, "m"])
                assert _is_amount(changed["t"].iloc[0])
        assert missing_card.decision_function(changed)[0] <= 0, (person, rank)
    # with leave_cost, m leaves its missing value or code (t stays) and the actions work
    leaving = recourse(missing_card, X, LEAVING_ACTIONS, n_alternatives=2).actions
    left = leaving["current"].map(lambda v: not _is_amount(v))
    assert left.sum() >= 3 and not leaving["new"].map(lambda v: not _is_amount(v)).any()
    for (person, rank), rows in leaving.groupby(["person", "rank"]):
        changed = X.loc[[person]].copy()
        for variable, new in zip(rows["variable"], rows["new"]):
            changed[variable] = new
            if variable == "m" and _is_amount(X.loc[person, "m"]) and _is_amount(
                    X.loc[person, "t"]):
                changed["t"] = X.loc[person, "t"] + (new - X.loc[person, "m"])
        assert missing_card.decision_function(changed)[0] <= 0, (person, rank)
    # s = 0 moves down past the codes -7 and -8 to -9, the first amount below -6
    lone = pd.DataFrame({"m": [-7.0], "s": [0.0], "t": [np.nan], "c": ["x"]})
    single = recourse(missing_card, lone, MISSING_ACTIONS).people
    assert single.loc[0, "action"] == "s: 0 -> -9" and single.loc[0, "cost"] == 18.0


def test_heloc_card_with_special_value_rules_gives_actions_that_work():
    X, y = load_heloc(nan_share=0.02, rows=300, seed=3)
    forced = ["MSinceMostRecentDelq is -7", "NetFractionRevolvingBurden is missing"]
    model = Pipeline([
        ("bin", RiskScoreBinarizer(special_values=HELOC_SPECIAL_VALUES)),
        ("clf", RiskScoreClassifier(max_features=5, max_coef=3, time_limit=20.0,
                                    constraints=[MustUse(forced)])),
    ])
    with node_limit(5):
        model.fit(X, y)
    binarizer, clf = model[0], model[-1]
    used = [r for r, c in zip(binarizer.rules_, clf.coef_[0]) if c != 0]
    assert set(forced) <= {r.name for r in used}
    assert any(r.operator in (">=", "<") for r in used)
    # every variable of the card is actionable, without bounds that keep the codes
    # out: the card's own special values and missing values must do that
    actions = ActionSet(tuple(
        Action(name, step=1, upper=float(np.nanmax(X[name])) + 10)
        for name in sorted({r.column for r in used})
    ))
    result = recourse(model, X, actions, n_alternatives=1)
    people = result.people
    unfavourable = ~people["favourable"]
    assert unfavourable.sum() > 20 and people.loc[unfavourable, "reachable"].any()
    codes = tuple(float(v) for v in HELOC_SPECIAL_VALUES)
    card_columns = X[[r.column for r in used]]
    holds_code = (card_columns.isin(codes) | card_columns.isna()).any(axis=1)
    assert (unfavourable & holds_code).any()
    not_amount = result.actions[["current", "new"]].map(lambda v: pd.isna(v) or v in codes)
    assert not not_amount.any().any()
    for (person, rank), rows in result.actions.groupby(["person", "rank"]):
        changed = X.loc[[person]].copy()
        for variable, new in zip(rows["variable"], rows["new"]):
            changed[variable] = new
        assert model.decision_function(changed)[0] <= 0, (person, rank)
