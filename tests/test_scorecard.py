"""ScoreCard: reachable scores by brute force, risks vs predict_proba, formats."""

from __future__ import annotations

import html
import itertools
import runpy
import sys

import numpy as np
import pandas as pd
import pytest
from sklearn.exceptions import NotFittedError
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import FunctionTransformer

from sk_riskscore import (
    MustUse,
    RiskScoreBinarizer,
    RiskScoreClassifier,
    ScoreCard,
    risk_score_metrics,
)
from sk_riskscore._scorecard import _markdown_escape

from .conftest import REPO

SMALL = dict(max_features=3, max_coef=3, time_limit=10)


def hand_fitted_classifier(names, coef, intercept, scale=1.0):
    """A RiskScoreClassifier with given points, as if fitted (no solver run)."""
    clf = RiskScoreClassifier()
    clf.coef_ = np.asarray([coef], dtype=np.int64)
    clf.intercept_ = np.array([intercept], dtype=np.asarray(intercept).dtype)
    clf.classes_ = np.array([0, 1])
    clf.scale_ = scale
    clf.feature_names_in_ = np.asarray(names, dtype=object)
    clf.n_features_in_ = len(names)
    return clf


@pytest.fixture(scope="module")
def mammo_pipeline(mammo):
    X, y = mammo
    model = Pipeline(
        [("bin", RiskScoreBinarizer()), ("clf", RiskScoreClassifier(**SMALL))]
    )
    return model.set_output(transform="pandas").fit(X, y)


# -- reachable scores -------------------------------------------------------------


def test_binary_features_reach_every_subset_sum(rng):
    names = ["a", "b", "c", "d"]
    clf = hand_fitted_classifier(names, [2, -1, 0, 3], intercept=-1)
    card = ScoreCard.from_estimator(clf)
    brute = {
        int(np.dot(bits, clf.coef_[0])) for bits in itertools.product([0, 1], repeat=4)
    }
    assert card.risk_table()["score"].tolist() == sorted(brute)
    assert any("0 or 1" in note for note in card.notes)  # the assumption is stated


def test_integer_features_use_the_observed_values(breastcancer):
    X, y = breastcancer
    clf = RiskScoreClassifier(max_features=2, max_coef=3, time_limit=10).fit(X, y)
    card = ScoreCard.from_estimator(clf, X)
    used = np.flatnonzero(clf.coef_[0])
    value_sets = [np.unique(X.iloc[:, j]) for j in used]
    brute = {
        float(np.dot(values, clf.coef_[0, used]))
        for values in itertools.product(*value_sets)
    }
    assert card.risk_table()["score"].tolist() == sorted(brute)
    points = card.to_frame()
    assert points["min_value"].tolist() == [X.iloc[:, j].min() for j in used]
    assert points["max_value"].tolist() == [X.iloc[:, j].max() for j in used]
    assert "per unit" in card.to_text()


def test_nested_thresholds_are_not_independent():
    X = pd.DataFrame(
        {
            "Age": [22, 35, 41, 48, 55, 62, 68, 75, 81, 90],
            "Sex": ["F", "M", "X", "F", "M", "F", "M", "F", "X", "M"],
            "Smoker": [0, 1, 0, 1, 0, 1, 0, 1, 1, 0],
        }
    )
    binarizer = RiskScoreBinarizer(n_thresholds=3, min_frequency=0).fit(X)
    names = binarizer.get_feature_names_out().tolist()
    points = np.array([3, -2, 1, 2, 4, -1, 5, 0, 1, -3, 2][: len(names)])
    points = np.resize(points, len(names))
    clf = hand_fitted_classifier(names, points, intercept=-4)
    model = Pipeline([("bin", binarizer), ("clf", clf)]).set_output(transform="pandas")
    card = ScoreCard.from_estimator(model)

    # Brute force over raw inputs: every age on a fine grid, every category.
    ages = np.arange(0, 100.5, 0.5)
    grid = pd.DataFrame(
        list(itertools.product(ages, ["F", "M", "X"], [0, 1])),
        columns=["Age", "Sex", "Smoker"],
    )
    brute = set(np.round(model.decision_function(grid) - clf.intercept_[0], 9))
    assert set(card.risk_table()["score"]) == brute
    # Treating the indicators as independent would claim scores no person can have.
    independent = {0.0}
    for p in points[points != 0]:
        independent = {s + q for s in independent for q in (0.0, float(p))}
    assert brute < independent


def test_transformer_without_binarizer_uses_observed_values(rng):
    X = pd.DataFrame({"a": rng.integers(0, 3, 200), "b": rng.integers(0, 2, 200)})
    y = (rng.random(200) < 0.3 + 0.2 * X["a"]).astype(int)
    model = Pipeline(
        [
            ("same", FunctionTransformer(feature_names_out="one-to-one")),
            ("clf", RiskScoreClassifier(max_features=2, max_coef=2, time_limit=10)),
        ]
    ).fit(X, y)
    card = ScoreCard.from_estimator(model, X, y)
    coef = model[-1].coef_[0]
    brute = {float(coef[0] * a + coef[1] * b) for a in range(3) for b in range(2)}
    assert set(card.risk_table()["score"]) == brute


# -- risks and observed rates -------------------------------------------------------


def test_risk_table_equals_predict_proba(mammo, mammo_pipeline):
    X, y = mammo
    card = ScoreCard.from_estimator(mammo_pipeline, X, y)
    table = card.risk_table().set_index("score")
    clf = mammo_pipeline[-1]
    row_scores = mammo_pipeline.decision_function(X) - clf.intercept_[0]
    np.testing.assert_array_equal(
        table.loc[row_scores, "risk"].to_numpy(), mammo_pipeline.predict_proba(X)[:, 1]
    )


@pytest.mark.parametrize("shift", [0.0, -0.4137])  # a calibrated intercept is real
def test_risk_follows_a_calibrated_scale(mammo, mammo_pipeline, shift):
    X, y = mammo
    fitted = mammo_pipeline[-1]
    intercept = fitted.intercept_[0] + shift if shift else fitted.intercept_[0]
    clf = hand_fitted_classifier(
        fitted.feature_names_in_, fitted.coef_[0], intercept, scale=1.37
    )
    model = Pipeline([("bin", mammo_pipeline[0]), ("clf", clf)])
    card = ScoreCard.from_estimator(model, X, y)
    assert card.scale == 1.37 and card.intercept == pytest.approx(intercept, abs=0)
    table = card.risk_table().set_index("score")
    assert np.all(table.index == np.round(table.index))  # totals of points stay whole
    row_scores = np.round(model.decision_function(X) - card.intercept, 9)
    np.testing.assert_allclose(
        table.loc[row_scores, "risk"].to_numpy(),
        model.predict_proba(X)[:, 1],
        rtol=1e-13,
    )
    assert (table.loc[row_scores, "count"] > 0).all()
    assert "/ 1.37" in card.to_text()
    if shift:
        assert f"{abs(intercept):.6g}" in card.to_text()


def test_observed_rates_equal_a_groupby(mammo, mammo_pipeline):
    X, y = mammo
    card = ScoreCard.from_estimator(mammo_pipeline, X, y)
    scores = mammo_pipeline.decision_function(X) - mammo_pipeline[-1].intercept_[0]
    expected = (
        pd.DataFrame({"score": scores, "y": y.to_numpy()})
        .groupby("score")["y"]
        .agg(["size", "sum", "mean"])
    )
    table = card.risk_table().set_index("score")
    seen = table[table["count"] > 0]
    np.testing.assert_array_equal(seen.index.to_numpy(), expected.index.to_numpy())
    np.testing.assert_array_equal(seen["count"], expected["size"])
    np.testing.assert_array_equal(seen["events"], expected["sum"])
    np.testing.assert_allclose(seen["observed"], expected["mean"])
    # The card and the metrics helper agree on observed and predicted per score.
    by_score = risk_score_metrics(
        y, mammo_pipeline.predict_proba(X)[:, 1], scores=scores
    ).by_score.set_index("score")
    np.testing.assert_allclose(by_score["observed"], seen["observed"])
    np.testing.assert_allclose(by_score["predicted"], seen["risk"])


# -- formats ---------------------------------------------------------------------------


def assert_renders(card):
    points = card.to_frame()
    table = card.risk_table()
    text, markdown, page = card.to_text(), card.to_markdown(), card.to_html()
    assert card._repr_html_() == page
    assert str(card) == text
    for feature in points["feature"]:
        assert feature in text
        assert _markdown_escape(feature) in markdown  # its meaning: see the next tests
        assert html.escape(feature) in page
    for score in table["score"]:
        assert (
            f" {score}" in text and f"| {score} |" in markdown and f">{score}<" in page
        )
    assert card.title in text and _markdown_escape(card.title) in markdown
    assert len(points) == len(points[points["points"] != 0])


def test_formats_render_every_feature(mammo, mammo_pipeline):
    X, y = mammo
    card = ScoreCard.from_estimator(mammo_pipeline, X, y)
    assert_renders(card)
    clf = mammo_pipeline[-1]
    coef = dict(zip(clf.feature_names_in_, clf.coef_[0], strict=True))
    points = card.to_frame()
    assert dict(zip(points["feature"], points["points"], strict=True)) == {
        name: points for name, points in coef.items() if points != 0
    }
    assert "OBSERVED" in card.to_text() and "Observed" in card.to_markdown()


def test_html_escapes_feature_names():
    clf = hand_fitted_classifier(["Age < 30", "a|b & <c>"], [1, -2], intercept=0)
    card = ScoreCard.from_estimator(clf, title="Risk <of> stroke")
    page = card.to_html()
    assert "Age &lt; 30" in page and "a|b &amp; &lt;c&gt;" in page
    assert "<c>" not in page and "Risk &lt;of&gt; stroke" in page
    assert "a\\|b" in card.to_markdown()
    assert_renders(card)


HOSTILE_NAME = "<script>alert(1)</script>"


def test_markdown_escapes_html_and_markup_in_names():
    clf = hand_fitted_classifier([HOSTILE_NAME, "[link](http://x) *b* `c`"], [1, -2],
                                 intercept=0)
    markdown = ScoreCard.from_estimator(clf, title="<img src=x onerror=alert(1)>").to_markdown()
    assert "<script" not in markdown and "<img" not in markdown
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in markdown
    assert "\\[link\\](http://x) \\*b\\* \\`c\\`" in markdown


def test_long_risk_tables_wrap(breastcancer):
    X, y = breastcancer
    card = ScoreCard.from_estimator(RiskScoreClassifier(**SMALL).fit(X, y), X, y)
    assert len(card.risk_table()) > 9
    assert max(len(line) for line in card.to_text().splitlines()) <= 100
    assert_renders(card)


def test_model_without_features():
    card = ScoreCard.from_estimator(hand_fitted_classifier(["a"], [0], intercept=-2))
    assert card.risk_table()["score"].tolist() == [0]
    assert card.to_frame().empty
    assert "no feature" in card.to_text()


# -- the acceptance test -------------------------------------------------------


@pytest.mark.slow
def test_grid_search_best_model_card(mammo, tmp_path):
    X, y = mammo
    model = Pipeline(
        [
            ("bin", RiskScoreBinarizer()),
            ("clf", RiskScoreClassifier(max_coef=3, time_limit=10)),
        ]
    ).set_output(transform="pandas")
    search = GridSearchCV(model, {"clf__max_features": [2, 3]}, cv=3, scoring="roc_auc")
    search.fit(X, y)
    best = search.best_estimator_
    card = ScoreCard.from_estimator(best, X, y)
    assert_renders(card)
    assert 1 <= len(card.to_frame()) <= search.best_params_["clf__max_features"]
    groups = best[0].feature_groups_
    used = set(card.to_frame()["feature"])
    assert all(len(used & set(group)) <= 1 for group in groups)
    with pytest.raises(TypeError, match="best_estimator_"):
        ScoreCard.from_estimator(search)


def test_constraint_on_a_dropped_feature_is_named(mammo):
    X, y = mammo
    model = Pipeline(
        [
            ("bin", RiskScoreBinarizer(directions=">=")),
            ("clf", RiskScoreClassifier(constraints=[MustUse("Density < 2")], **SMALL)),
        ]
    ).set_output(transform="pandas")
    with pytest.raises(ValueError, match="Density < 2"):
        model.fit(X, y)


# -- errors ----------------------------------------------------------------------------


def test_bad_estimators(mammo, mammo_pipeline):
    X, y = mammo
    with pytest.raises(NotFittedError):
        ScoreCard.from_estimator(RiskScoreClassifier())
    with pytest.raises(TypeError, match="RiskScoreClassifier or a Pipeline"):
        ScoreCard.from_estimator(RiskScoreBinarizer().fit(X))
    with pytest.raises(TypeError, match="RiskScoreClassifier or a Pipeline"):
        ScoreCard.from_estimator(Pipeline([("bin", RiskScoreBinarizer())]).fit(X))
    with pytest.raises(ValueError, match="y was given without X"):
        ScoreCard.from_estimator(mammo_pipeline, y=y)
    with pytest.raises(ValueError, match="961 rows but y has 10"):
        ScoreCard.from_estimator(mammo_pipeline, X, y[:10])
    with pytest.raises(
        ValueError, match="labels the classifier was not fitted on: \\[7\\]"
    ):
        ScoreCard.from_estimator(mammo_pipeline, X, y.replace({1: 7}))


# -- plots -----------------------------------------------------------------------------


@pytest.fixture
def pyplot():
    matplotlib = pytest.importorskip("matplotlib")
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    yield plt
    plt.close("all")


def test_plots_draw_the_table(pyplot, mammo, mammo_pipeline):
    X, y = mammo
    card = ScoreCard.from_estimator(mammo_pipeline, X, y)
    table = card.risk_table()
    ax = card.plot_risk()
    line = ax.get_lines()[0]
    np.testing.assert_array_equal(line.get_xdata(), table["score"])
    np.testing.assert_array_equal(line.get_ydata(), table["risk"])
    _, ax = pyplot.subplots()
    assert card.plot_reliability(ax=ax) is ax
    points = ax.collections[0].get_offsets()
    np.testing.assert_allclose(points[:, 0], table["risk"])
    np.testing.assert_allclose(points[:, 1], table["observed"])


def test_plots_on_a_bare_figure(pyplot, mammo, mammo_pipeline, tmp_path):
    from matplotlib.figure import Figure

    card = ScoreCard.from_estimator(mammo_pipeline, *mammo)
    for draw in (card.plot_risk, card.plot_reliability):
        figure = Figure()
        assert draw(ax=figure.add_subplot()).figure is figure
        figure.savefig(tmp_path / "plot.png")
        assert (tmp_path / "plot.png").stat().st_size > 0


def test_reliability_needs_outcomes(pyplot):
    card = ScoreCard.from_estimator(hand_fitted_classifier(["a"], [1], intercept=0))
    card.plot_risk()  # fine without data
    with pytest.raises(ValueError, match="needs observed outcomes"):
        card.plot_reliability()


def test_missing_matplotlib_names_the_extra(monkeypatch):
    card = ScoreCard.from_estimator(hand_fitted_classifier(["a"], [1], intercept=0))
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    monkeypatch.setitem(sys.modules, "matplotlib.pyplot", None)
    with pytest.raises(ImportError, match=r'pip install "sk-riskscore\[plot\]"'):
        card.plot_risk()


def test_example_writes_both_pngs(pyplot, tmp_path, monkeypatch):
    monkeypatch.setenv("SK_RISKSCORE_EXAMPLES_OUTPUT", str(tmp_path))
    runpy.run_path(str(REPO / "examples" / "plot_scorecard.py"), run_name="__main__")
    for name in ("scorecard_risk.png", "scorecard_reliability.png"):
        assert (tmp_path / name).read_bytes().startswith(b"\x89PNG")


def test_to_pdf_writes_one_page(tmp_path, breastcancer):
    pytest.importorskip("matplotlib")
    import re

    X, y = breastcancer
    clf = RiskScoreClassifier(max_features=3, max_coef=3).fit(X, y)
    card = ScoreCard.from_estimator(clf, X, y)
    path = card.to_pdf(tmp_path / "card.pdf", footer="fitted on 683 rows")
    data = path.read_bytes()
    assert data.startswith(b"%PDF-")
    assert len(re.findall(rb"/Type\s*/Page\b", data)) == 1


def test_to_pdf_without_matplotlib_names_the_extra(tmp_path, breastcancer, monkeypatch):
    import sys

    X, y = breastcancer
    card = ScoreCard.from_estimator(RiskScoreClassifier(max_features=2, max_coef=2).fit(X, y))
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    with pytest.raises(ImportError, match=r"sk-riskscore\[plot\]"):
        card.to_pdf(tmp_path / "card.pdf")
    assert not (tmp_path / "card.pdf").exists()


def test_card_with_rashomon_set_adds_summary_and_point_ranges(breastcancer):
    from sk_riskscore import RiskScoreClassifier, rashomon_set

    X, y = breastcancer
    clf = RiskScoreClassifier(max_features=3, max_coef=3, time_limit=20).fit(X, y)
    rset = rashomon_set(clf, X, y, epsilon=0.05, time_limit=30)
    plain = ScoreCard.from_estimator(clf, X, y)
    card = ScoreCard.from_estimator(clf, X, y, rashomon=rset)
    # without a set nothing changes; with one, lines are appended
    assert plain.to_text() == ScoreCard.from_estimator(clf, X, y).to_text()
    assert plain.with_rashomon(rset, X).to_text() == card.to_text()
    for render in ("to_text", "to_markdown"):
        extended, original = getattr(card, render)(), getattr(plain, render)()
        assert extended.startswith(original + "\n\n")
        assert rset.summary(X) in extended
    assert card.to_html().startswith(plain.to_html()[: -len("</div>")])
    assert rset.summary(X) in card.to_html()
    use = rset.feature_use()
    use = use[use["n_cards"] > 0]
    lines = card.to_text().split("\n\n")[-1].splitlines()[2:]
    assert len(lines) == len(use)
    for line, row in zip(lines, use.itertuples()):
        low, high = row.min_points, row.max_points
        span = f"{low}" if low == high else f"{low} to {high}"
        assert line == f"  {row.Index}: {span} ({row.n_cards} of {len(rset)})"
    with pytest.raises(ValueError, match="rashomon needs X"):
        ScoreCard.from_estimator(clf, rashomon=rset)


def test_missing_and_special_values_are_their_own_patterns():
    """The card's scores are those a row can get: brute force over values,
    NaN and special codes, which meet no threshold."""
    X = pd.DataFrame(
        {
            "Months": [-7, 3, 14, -7, 30, -8, 45, np.nan, 8, 21, -7, 60],
            "Sex": ["F", "M", None, "F", "M", "F", "M", "F", None, "M", "F", "M"],
        }
    )
    binarizer = RiskScoreBinarizer(
        n_thresholds=2, min_frequency=0, special_values={"Months": [-7, -8, -9]}
    ).fit(X)
    names = binarizer.get_feature_names_out().tolist()
    assert {"Months is missing", "Months is -7", "Months is -8", "Sex is missing"} <= set(names)
    points = np.resize(np.array([2, -1, 3, 1, -2, 4, 1, -3, 2]), len(names))
    clf = hand_fitted_classifier(names, points, intercept=-1)
    model = Pipeline([("bin", binarizer), ("clf", clf)]).set_output(transform="pandas")
    card = ScoreCard.from_estimator(model)
    assert "Months is -7" in card.to_text() and "Sex is missing" in card.to_text()

    months = [np.nan, -9, -8, -7, *np.arange(0, 70, 0.5)]
    grid = pd.DataFrame(
        list(itertools.product(months, ["F", "M", None])), columns=["Months", "Sex"]
    )
    brute = set(np.round(model.decision_function(grid) - clf.intercept_[0], 9))
    assert set(card.risk_table()["score"]) == brute
