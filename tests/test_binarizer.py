"""RiskScoreBinarizer: rules recomputed by hand, pandas output, groups, JSON, errors."""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest
from scipy import sparse
from sklearn import config_context
from sklearn.base import clone
from sklearn.pipeline import make_pipeline

from sk_riskscore import BinaryRule, RiskScoreBinarizer, RiskScoreClassifier
from sk_riskscore._binarizer import FEATURE_GROUPS_ATTR
from sk_riskscore._binning import readable_cut


@pytest.fixture
def people():
    return pd.DataFrame(
        {
            "Age": [25, 38, 47, 52, 61, 70, 83, 90],
            "Sex": ["F", "M", "F", "M", "F", "M", "F", "F"],
            "Smoker": [0, 1, 0, 0, 1, 1, 0, 1],
        }
    )


def recompute(binarizer, X: pd.DataFrame) -> np.ndarray:
    """The transform from the rules alone, with plain pandas comparisons."""
    columns = []
    for rule in binarizer.rules_:
        values = X[rule.column]
        if rule.operator == ">=":
            columns.append(values.astype(float) >= rule.threshold)
        elif rule.operator == "<":
            columns.append(values.astype(float) < rule.threshold)
        elif rule.operator == "is" and rule.threshold is None:
            columns.append(values.isna())
        else:
            columns.append(values == rule.threshold)
        if rule.operator in (">=", "<"):
            columns[-1] &= values.notna() & ~values.isin(rule.excluded)
    return np.column_stack(columns).astype(float)


# -- rules and transform ---------------------------------------------------------


def test_quantile_rules_by_hand(people):
    binarizer = RiskScoreBinarizer(n_thresholds=2).fit(people)
    # Levels 1/3 and 2/3 of 8 distinct ages: 3/8 of the rows lie below 52 and
    # 5/8 below 70, the nearest shares. Nothing lies between 47 and 52, so the
    # shortest number splitting there is 50; 70 is already short.
    assert binarizer.get_feature_names_out().tolist() == [
        "Age < 50",
        "Age < 70",
        "Age >= 50",
        "Age >= 70",
        "Sex = F",
        "Sex = M",
        "Smoker",
    ]
    assert binarizer.rules_[2] == BinaryRule("Age", ">=", 50.0, "Age >= 50")
    assert binarizer.rules_[4] == BinaryRule("Sex", "==", "F", "Sex = F")
    assert binarizer.rules_[6] == BinaryRule("Smoker", ">=", 1.0, "Smoker")
    assert binarizer.column_types_ == {
        "Age": "numeric",
        "Sex": "categorical",
        "Smoker": "binary",
    }
    out = binarizer.transform(people).to_numpy()
    np.testing.assert_array_equal(out, recompute(binarizer, people))
    expected_age_ge_50 = (people["Age"] >= 52).to_numpy(float)
    np.testing.assert_array_equal(out[:, 2], expected_age_ge_50)
    np.testing.assert_array_equal(out[:, 6], people["Smoker"].to_numpy(float))
    assert out.dtype == np.float64


def test_thresholds_on_exact_boundaries():
    X = pd.DataFrame({"Density": [1, 2, 3, 4] * 5})
    binarizer = RiskScoreBinarizer(n_thresholds=3, directions="both").fit(X)
    names = binarizer.get_feature_names_out().tolist()
    assert names == [
        "Density < 2",
        "Density < 3",
        "Density < 4",
        "Density >= 2",
        "Density >= 3",
        "Density >= 4",
    ]
    probe = pd.DataFrame({"Density": [1.0, 1.9999999, 2.0, 2.0000001, 4.0, 5.0]})
    out = pd.DataFrame(binarizer.transform(probe), columns=names)
    np.testing.assert_array_equal(out["Density >= 2"], [0, 0, 1, 1, 1, 1])
    np.testing.assert_array_equal(out["Density < 2"], [1, 1, 0, 0, 0, 0])
    np.testing.assert_array_equal(out["Density >= 4"], [0, 0, 0, 0, 1, 1])
    # The two directions of one cut point are complements.
    np.testing.assert_array_equal(out["Density >= 3"] + out["Density < 3"], 1)


def test_readable_thresholds_on_small_data_keep_the_split(rng):
    values = np.round(rng.normal(27, 5, size=60), 4)
    binarizer = RiskScoreBinarizer(n_thresholds=5, directions=">=").fit(
        pd.DataFrame({"BMI": values})
    )
    distinct = np.unique(values)
    for rule in binarizer.rules_:
        above = distinct[distinct >= rule.threshold]
        below = distinct[distinct < rule.threshold]
        # Under 100 rows no row may change sides: the threshold sits in the gap
        # between two neighbouring observed values...
        assert below.max() < rule.threshold <= above.min()
        # ...and is no longer to read than the observed value it replaces.
        assert len(repr(rule.threshold)) <= len(repr(float(above.min())))
    for low, high in rng.uniform(-1000, 1000, size=(300, 2)):
        low, high = sorted((low, high))
        assert low < readable_cut(low, high) <= high


def test_readable_thresholds_on_dense_data_move_few_rows(rng):
    values = rng.normal(27, 4, size=20_000)
    quantile = RiskScoreBinarizer(n_thresholds=3, directions=">=")
    rules = quantile.fit(pd.DataFrame({"BMI": values})).rules_
    for rule, level in zip(rules, (0.25, 0.5, 0.75), strict=True):
        # At most 1% of the rows cross a cut to make it short...
        assert abs(np.mean(values < rule.threshold) - level) <= 0.01 + 1e-4
        # ...so cuts read as "BMI >= 24.3", not "BMI >= 24.2891".
        assert len(repr(rule.threshold)) <= 4


def test_quantiles_respect_ties():
    # 80% of rows are 1: plain quartiles all equal 1, but "x >= 2" is the useful cut.
    X = pd.DataFrame({"Mitoses": [1] * 80 + [2] * 10 + [5] * 6 + [10] * 4})
    binarizer = RiskScoreBinarizer(n_thresholds=3, directions=">=").fit(X)
    assert "Mitoses >= 2" in binarizer.get_feature_names_out()


def test_min_frequency_on_thresholds_and_categories():
    X = pd.DataFrame(
        {
            "x": np.arange(100, dtype=float),
            "c": ["a"] * 60 + ["b"] * 38 + ["rare"] * 2,
        }
    )
    binarizer = RiskScoreBinarizer(n_thresholds=9, min_frequency=0.15).fit(X)
    for rule in binarizer.rules_:
        if rule.column == "x":
            share_below = np.mean(X["x"] < rule.threshold)
            assert 0.15 <= share_below <= 0.85
    assert [r.name for r in binarizer.rules_ if r.column == "c"] == ["c = a", "c = b"]
    # A rare category is known: it transforms to all zeros, without an error.
    out = binarizer.transform(pd.DataFrame({"x": [5.0], "c": ["rare"]})).to_numpy()
    assert out[0, -2:].tolist() == [0.0, 0.0]


def test_supervised_thresholds_follow_the_target(rng):
    x = rng.integers(0, 20, size=500).astype(float)
    y = (x >= 13).astype(int)
    binarizer = RiskScoreBinarizer(
        strategy="supervised", n_thresholds=1, directions=">="
    ).fit(pd.DataFrame({"x": x}), y)
    assert binarizer.get_feature_names_out().tolist() == ["x >= 13"]


def test_boolean_and_categorical_dtypes():
    X = pd.DataFrame(
        {
            "flag": [True, False, True, False],
            "grade": pd.Categorical(["low", "high", "mid", "low"]),
            "code": [3, 1, 2, 3],
        }
    )
    binarizer = RiskScoreBinarizer(categorical_features=["code"]).fit(X)
    assert binarizer.get_feature_names_out().tolist() == [
        "flag",
        "grade = high",
        "grade = low",
        "grade = mid",
        "code = 1",
        "code = 2",
        "code = 3",
    ]
    np.testing.assert_array_equal(binarizer.transform(X), recompute(binarizer, X))


def test_constant_columns_give_no_feature():
    X = pd.DataFrame({"same": [4.0] * 5, "one": ["a"] * 5, "x": [0, 1, 0, 1, 1]})
    binarizer = RiskScoreBinarizer().fit(X)
    assert binarizer.get_feature_names_out().tolist() == ["x"]
    assert binarizer.column_types_["same"] == "constant"


def test_numpy_input_uses_positional_names():
    X = np.array([[0, 10.0], [1, 20.0], [0, 30.0], [1, 40.0]])
    binarizer = RiskScoreBinarizer(n_thresholds=1, directions=">=").fit(X)
    assert [r.column for r in binarizer.rules_] == ["x0", "x1"]
    assert binarizer.get_feature_names_out().tolist() == ["x0", "x1 >= 30"]
    out = binarizer.transform(X)
    # a DataFrame by default, so the rule names reach the next step of a Pipeline
    assert isinstance(out, pd.DataFrame)
    assert out.columns.tolist() == ["x0", "x1 >= 30"]
    assert out.index.tolist() == [0, 1, 2, 3]
    np.testing.assert_array_equal(out["x1 >= 30"], X[:, 1] >= 30)


# -- pandas output and groups ---------------------------------------------------------


def test_pandas_output_names_index_and_groups(people):
    people.index = [f"p{i}" for i in range(len(people))]
    binarizer = RiskScoreBinarizer(n_thresholds=3).set_output(transform="pandas")
    out = binarizer.fit_transform(people)
    assert isinstance(out, pd.DataFrame)
    assert out.columns.tolist() == binarizer.get_feature_names_out().tolist()
    assert out.index.tolist() == people.index.tolist()
    np.testing.assert_array_equal(out.to_numpy(), recompute(binarizer, people))
    assert out.attrs[FEATURE_GROUPS_ATTR] == binarizer.feature_groups_
    with config_context(transform_output="pandas"):
        global_out = RiskScoreBinarizer(n_thresholds=3).fit(people).transform(people)
    assert global_out.attrs[FEATURE_GROUPS_ATTR] == binarizer.feature_groups_


def test_groups_are_the_nested_thresholds(people):
    binarizer = RiskScoreBinarizer(n_thresholds=3).fit(people)
    rule_of = {r.name: r for r in binarizer.rules_}
    expected = []
    for column in people.columns:
        for op in ("<", ">="):
            names = [
                r.name
                for r in binarizer.rules_
                if r.column == column
                and r.operator == op
                and binarizer.column_types_[column] == "numeric"
            ]
            if len(names) > 1:
                expected.append(sorted(names))
    assert sorted(sorted(g) for g in binarizer.feature_groups_) == sorted(expected)
    for group in binarizer.feature_groups_:
        assert len({(rule_of[n].column, rule_of[n].operator) for n in group}) == 1


def _stepwise_data(rng, n=3000):
    """Risk rises in two steps of x, so two nested thresholds both help."""
    x = rng.integers(0, 10, size=n).astype(float)
    logit = -2.0 + 2.0 * (x >= 4) + 2.0 * (x >= 7)
    y = (rng.random(n) < 1 / (1 + np.exp(-logit))).astype(int)
    return pd.DataFrame({"x": x}), y


def test_pipeline_gives_at_most_one_threshold_per_direction(rng):
    X, y = _stepwise_data(rng)

    def fitted(**classifier):
        # a plain Pipeline: no set_output needed for the groups to travel
        return make_pipeline(
            RiskScoreBinarizer(n_thresholds=3, directions=">="),
            RiskScoreClassifier(max_features=3, max_coef=3, time_limit=10, **classifier),
        ).fit(X, y)

    free = fitted(binarizer_groups=False)[-1]
    assert np.count_nonzero(free.coef_) >= 2  # without groups the nested cuts pile up
    grouped = fitted()
    binarizer, clf = grouped[0], grouped[-1]
    assert clf.feature_names_in_.tolist() == binarizer.get_feature_names_out().tolist()
    position = {name: j for j, name in enumerate(clf.feature_names_in_)}
    for group in binarizer.feature_groups_:
        assert np.count_nonzero(clf.coef_[0, [position[n] for n in group]]) <= 1


# -- serialization ---------------------------------------------------------------------


def test_to_dict_from_dict_round_trip(people):
    X = people.assign(
        BMI=[21.4, 33.12, 27.3456, 25.0, 30.5, 19.9, 28.75, 24.1],
        code=[1, 2, 3, 1, 2, 3, 1, 2],
        flag=[True, False] * 4,
    )
    binarizer = RiskScoreBinarizer(
        n_thresholds=2, categorical_features=["code"], handle_unknown="ignore"
    ).fit(X)
    data = json.loads(json.dumps(binarizer.to_dict()))  # plain JSON: no numpy types
    copy = RiskScoreBinarizer.from_dict(data)
    assert copy.get_params() == binarizer.get_params()
    assert copy.rules_ == binarizer.rules_
    assert copy.feature_groups_ == binarizer.feature_groups_
    assert copy.categories_ == binarizer.categories_
    np.testing.assert_array_equal(
        copy.get_feature_names_out(), binarizer.get_feature_names_out()
    )
    probe = X.copy()
    probe.loc[0, "Sex"] = "unseen"
    np.testing.assert_array_equal(copy.transform(probe), binarizer.transform(probe))
    copy.set_output(transform="pandas")
    assert copy.transform(X).attrs[FEATURE_GROUPS_ATTR] == binarizer.feature_groups_


def test_from_dict_accepts_rules_computed_elsewhere():
    data = {
        "feature_names_in": ["Age", "Sex"],
        "n_features_in": 2,
        "column_types": {"Age": "numeric", "Sex": "categorical"},
        "rules": [
            {"column": "Age", "operator": ">=", "threshold": 45, "name": "Age >= 45"},
            {"column": "Age", "operator": ">=", "threshold": 60, "name": "Age >= 60"},
            {"column": "Sex", "operator": "==", "threshold": "F", "name": "Sex = F"},
        ],
        "feature_groups": [["Age >= 45", "Age >= 60"]],
    }
    binarizer = RiskScoreBinarizer.from_dict(data)
    X = pd.DataFrame({"Age": [44.9, 45, 60, 80], "Sex": ["F", "M", "F", "F"]})
    expected = np.column_stack([X["Age"] >= 45, X["Age"] >= 60, X["Sex"] == "F"])
    np.testing.assert_array_equal(binarizer.transform(X), expected.astype(float))


@pytest.mark.parametrize(
    "change, message",
    [
        (lambda d: d["rules"][0].update(operator=">"), "operator"),
        (lambda d: d["rules"][0].update(column="Height"), "Height"),
        (lambda d: d["rules"][0].update(threshold="sixty"), "numeric threshold"),
        (lambda d: d.update(version=99), "version"),
        (lambda d: d.pop("rules"), "rules"),
        (lambda d: d["column_types"].update(Age="weird"), "weird"),
        (lambda d: d["feature_groups"].append(["nope"]), "nope"),
    ],
)
def test_from_dict_rejects_bad_descriptions(people, change, message):
    data = RiskScoreBinarizer(n_thresholds=2).fit(people).to_dict()
    change(data)
    with pytest.raises((ValueError, TypeError), match=message):
        RiskScoreBinarizer.from_dict(data)


def test_clone_and_params():
    binarizer = RiskScoreBinarizer(
        n_thresholds=5,
        strategy="supervised",
        directions="<",
        categorical_features=["a"],
        min_frequency=0.1,
        handle_unknown="ignore",
    )
    copy = clone(binarizer)
    assert copy.get_params() == binarizer.get_params()
    assert not hasattr(copy, "rules_")
    assert copy.set_params(n_thresholds=2).n_thresholds == 2


# -- bad input -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "params, message",
    [
        ({"strategy": "kmeans"}, "strategy"),
        ({"n_thresholds": 0}, "n_thresholds"),
        ({"n_thresholds": -2}, "n_thresholds"),
        ({"directions": ">"}, "directions"),
        ({"min_frequency": 0.7}, "min_frequency"),
        ({"handle_unknown": "skip"}, "handle_unknown"),
    ],
)
def test_bad_parameters(people, params, message):
    with pytest.raises(ValueError, match=message):
        RiskScoreBinarizer(**params).fit(people)


def test_non_numeric_values_in_a_numeric_column(people):
    binarizer = RiskScoreBinarizer().fit(people)
    bad = people.assign(Age=["25", "old", "47", "52", "61", "70", "83", "90"])
    with pytest.raises(ValueError, match=r"Column 'Age' was numeric at fit.*'old'"):
        binarizer.transform(bad)


def test_text_mixed_into_numbers_at_fit(people):
    bad = people.assign(Age=[25, 38, "?", 52, 61, 70, 83, 90])
    with pytest.raises(ValueError, match=r"Column 'Age' mixes numbers and text"):
        RiskScoreBinarizer().fit(bad)
    read_from_csv = people.assign(Age=["25", "38", "?", "52", "61", "70", "83", "90"])
    with pytest.raises(ValueError, match=r"'Age'.*reads as numbers.*'\?'"):
        RiskScoreBinarizer().fit(read_from_csv)


@pytest.mark.parametrize("value", [np.nan, None, np.inf])
def test_missing_or_infinite_values_are_named(people, value):
    # With missing="error"; infinite values are refused whatever missing says.
    bad = people.astype({"Age": float})
    bad.loc[3, "Age"] = value
    word = "infinite" if value == np.inf else "missing"
    with pytest.raises(ValueError, match=rf"Column 'Age' has 1 {word}"):
        RiskScoreBinarizer(missing="error").fit(bad)
    binarizer = RiskScoreBinarizer(missing="error").fit(people.astype({"Age": float}))
    with pytest.raises(ValueError, match=rf"Column 'Age' has 1 {word}"):
        binarizer.transform(bad)
    if value == np.inf:
        with pytest.raises(ValueError, match=r"Column 'Age' has 1 infinite"):
            RiskScoreBinarizer().fit(bad)


def test_missing_category_is_named(people):
    bad = people.copy()
    bad.loc[2, "Sex"] = None
    with pytest.raises(ValueError, match=r"Column 'Sex' has 1 missing.*missing='indicator'"):
        RiskScoreBinarizer(missing="error").fit(bad)


def test_missing_and_extra_columns(people):
    binarizer = RiskScoreBinarizer().fit(people)
    with pytest.raises(ValueError, match="Smoker"):
        binarizer.transform(people.drop(columns="Smoker"))
    with pytest.raises(ValueError, match="Weight"):
        binarizer.transform(people.assign(Weight=70.0))


def test_unseen_categories(people):
    binarizer = RiskScoreBinarizer().fit(people)
    unseen = people.assign(Sex=["F", "X", "M", "F", "F", "M", "F", "F"])
    with pytest.raises(
        ValueError, match=r"'Sex' has categories not seen in fit: \['X'\]"
    ):
        binarizer.transform(unseen)
    ignoring = RiskScoreBinarizer(handle_unknown="ignore").fit(people)
    out = pd.DataFrame(
        ignoring.transform(unseen), columns=ignoring.get_feature_names_out()
    )
    assert out.loc[1, ["Sex = F", "Sex = M"]].tolist() == [0.0, 0.0]


def test_other_bad_inputs(people):
    with pytest.raises(ValueError, match="supervised.*needs y"):
        RiskScoreBinarizer(strategy="supervised").fit(people)
    with pytest.raises(
        ValueError, match=r"categorical_features names columns not in X: \['Sx'\]"
    ):
        RiskScoreBinarizer(categorical_features=["Sx"]).fit(people)
    with pytest.raises(TypeError, match="sparse"):
        RiskScoreBinarizer().fit(sparse.csr_matrix(np.eye(3)))
    with pytest.raises(ValueError, match=r"shape \(0, 3\).*at least 1 sample"):
        RiskScoreBinarizer().fit(people.iloc[:0])
    with pytest.raises(ValueError, match="not fitted|fit"):
        RiskScoreBinarizer().transform(people)


def test_rule_validation():
    with pytest.raises(ValueError, match="operator"):
        BinaryRule("Age", "<=", 60.0, "Age <= 60")
    with pytest.raises(ValueError, match="finite"):
        BinaryRule("Age", ">=", math.inf, "Age >= inf")



# -- missing and special values -------------------------------------------------


@pytest.fixture
def credit(rng):
    """400 rows: "months" has special codes -7/-8 and NaNs, "bmi" NaNs, "kind" a
    category with missing values."""
    months = rng.integers(0, 60, size=400).astype(float)
    months[:60] = -7.0
    months[60:70] = -8.0
    months[70:90] = np.nan
    bmi = np.round(rng.normal(26, 4, size=400), 1)
    bmi[::25] = np.nan
    kind = rng.choice(["a", "b", "c"], size=400).astype(object)
    kind[5::40] = None
    order = rng.permutation(400)
    return pd.DataFrame({"months": months[order], "bmi": bmi[order], "kind": kind[order]})


def _threshold_names(binarizer, column):
    return [
        r.name for r in binarizer.rules_ if r.column == column and r.operator in (">=", "<")
    ]


def test_missing_values_get_a_rule_and_stay_out_of_the_quantiles(credit):
    binarizer = RiskScoreBinarizer(special_values={"months": [-7, -8, -9]}).fit(credit)
    names = binarizer.get_feature_names_out().tolist()
    assert "bmi is missing" in names and "months is missing" in names
    assert "kind is missing" in names
    assert "months is -7" in names and "months is -8" in names
    assert "months is -9" not in names  # declared but never seen
    # The threshold rules are those of the regular values alone. min_frequency
    # is a share of every row, so the regular-only fit uses the same count.
    for column, keep in (
        ("bmi", credit["bmi"].notna()),
        ("months", credit["months"].notna() & (credit["months"] >= 0)),
    ):
        regular = credit.loc[keep, [column]]
        alone = RiskScoreBinarizer(min_frequency=0.01 * len(credit) / len(regular)).fit(regular)
        assert _threshold_names(binarizer, column) == _threshold_names(alone, column)
    out = pd.DataFrame(binarizer.transform(credit), columns=names)
    np.testing.assert_array_equal(out.to_numpy(), recompute(binarizer, credit))
    for column in ("bmi", "months"):
        missing = credit[column].isna().to_numpy()
        thresholds = out[_threshold_names(binarizer, column)].to_numpy()
        assert thresholds[missing].sum() == 0  # NaN meets no threshold, "<" included
        assert (out[f"{column} is missing"].to_numpy() == missing).all()
    for code in (-7, -8):
        rows = (credit["months"] == code).to_numpy()
        assert out.loc[rows, _threshold_names(binarizer, "months")].to_numpy().sum() == 0
        assert (out[f"months is {code}"].to_numpy() == rows).all()
    kind_missing = credit["kind"].isna().to_numpy()
    assert out.loc[kind_missing, ["kind = a", "kind = b", "kind = c"]].to_numpy().sum() == 0
    assert binarizer.column_types_ == {
        "months": "numeric", "bmi": "numeric", "kind": "categorical"}


def test_special_values_global_list_and_binary_columns(rng):
    X = pd.DataFrame({
        "score": np.where(np.arange(200) % 10 == 0, -9.0, np.arange(200.0)),
        "flag": np.where(np.arange(200) % 20 == 1, -9, np.arange(200) % 2),
        "grade": ["x", "y"] * 100,
    })
    binarizer = RiskScoreBinarizer(n_thresholds=1, special_values=[-9]).fit(X)
    names = binarizer.get_feature_names_out().tolist()
    # "flag" is 0/1 apart from its code: it passes through, the code apart.
    assert names == ["score < 100", "score >= 100", "score is -9",
                     "flag", "flag is -9", "grade = x", "grade = y"]
    assert binarizer.column_types_["flag"] == "binary"
    assert all(r.excluded == (-9.0,) for r in binarizer.rules_ if r.operator in (">=", "<"))
    np.testing.assert_array_equal(binarizer.transform(X), recompute(binarizer, X))
    # A code unseen in fit still meets no threshold.
    row = pd.DataFrame({"score": [-9.0], "flag": [-9], "grade": ["x"]})
    assert binarizer.transform(row).tolist() == [[0, 0, 1, 0, 1, 1, 0]]


def test_column_without_missing_values_in_fit(people):
    binarizer = RiskScoreBinarizer(n_thresholds=2).fit(people)
    assert not any(r.operator == "is" for r in binarizer.rules_)
    bad = people.astype({"Age": float})
    bad.loc[3, "Age"] = np.nan
    with pytest.warns(UserWarning, match=r"\['Age'\] had no missing values in fit"):
        out = binarizer.transform(bad)
    age = [k for k, r in enumerate(binarizer.rules_) if r.column == "Age"]
    assert out[3, age].tolist() == [0.0] * len(age)
    np.testing.assert_array_equal(np.delete(out, 3, axis=0),
                                  binarizer.transform(people.drop(index=3)))
    strict = RiskScoreBinarizer(n_thresholds=2, missing="error").fit(people)
    with pytest.raises(ValueError, match=r"'Age' has 1 missing value.*missing='error'"):
        strict.transform(bad)


def test_missing_values_of_an_unseen_category_check(people):
    with_missing = people.assign(Sex=["F", "M", None, "M", "F", "M", "F", "F"])
    binarizer = RiskScoreBinarizer().fit(with_missing)
    assert [r.name for r in binarizer.rules_ if r.column == "Sex"] == [
        "Sex = F", "Sex = M", "Sex is missing"]
    out = binarizer.transform(with_missing)
    assert out[2, -4:-1].tolist() == [0.0, 0.0, 1.0]


def test_all_missing_or_special_column_gives_no_constant_rule():
    X = pd.DataFrame({"a": [np.nan] * 5, "b": [-7.0] * 5, "c": [1.0, np.nan, 1, 1, 1]})
    binarizer = RiskScoreBinarizer(special_values=[-7]).fit(X)
    assert binarizer.get_feature_names_out().tolist() == ["c is missing"]
    assert binarizer.column_types_ == {"a": "constant", "b": "constant", "c": "numeric"}


@pytest.mark.parametrize(
    "special_values, message",
    [
        ({"Weight": [-7]}, r"special_values names columns not in X: \['Weight'\]"),
        ({"Sex": [-1]}, r"categorical column 'Sex'"),
        ({"Age": [np.nan]}, r"special_values\['Age'\] must hold finite numbers"),
        ({"Age": -7}, r"special_values\['Age'\] must be a list of numbers"),
        (["-7"], r"special_values must hold finite numbers"),
        ("-7", r"special_values"),
    ],
)
def test_bad_special_values(people, special_values, message):
    with pytest.raises(ValueError, match=message):
        RiskScoreBinarizer(special_values=special_values).fit(people)


def test_bad_missing_option(people):
    with pytest.raises(ValueError, match="'missing' parameter"):
        RiskScoreBinarizer(missing="impute").fit(people)


def test_missing_and_special_values_round_trip_through_json(credit):
    binarizer = RiskScoreBinarizer(special_values={"months": [-7, -8, -9]}).fit(credit)
    data = json.loads(json.dumps(binarizer.to_dict()))
    assert data["params"]["special_values"] == {"months": [-7.0, -8.0, -9.0]}
    assert {"column": "months", "operator": "is", "threshold": None,
            "name": "months is missing"} in data["rules"]
    copy = RiskScoreBinarizer.from_dict(data)
    assert copy.rules_ == binarizer.rules_
    np.testing.assert_array_equal(copy.transform(credit), binarizer.transform(credit))


def test_old_descriptions_without_missing_fields_still_load(people):
    old = RiskScoreBinarizer(n_thresholds=1).fit(people).to_dict()
    for key in ("missing", "special_values"):
        del old["params"][key]
    assert all("excluded" not in rule for rule in old["rules"])
    loaded = RiskScoreBinarizer.from_dict(old)
    # Written when missing values were refused: the binarizer still refuses them.
    assert loaded.missing == "error"
    bad = people.astype({"Age": float})
    bad.loc[0, "Age"] = np.nan
    with pytest.raises(ValueError, match="'Age' has 1 missing"):
        loaded.transform(bad)
