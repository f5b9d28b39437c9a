"""The ``recourse`` and ``rashomon`` sub-commands, run in-process through ``main``."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone

from sk_riskscore import (
    ActionSet,
    RiskScoreClassifier,
    audit_recourse,
    load_json,
    rashomon_set,
    save_json,
)
from sk_riskscore.cli import main

ACTIONS = {"variables": {
    "UniformityOfCellShape": {"direction": "decrease", "lower": 1, "step": 1},
    "BareNuclei": {"direction": "decrease", "lower": 1, "step": 1},
}}


@pytest.fixture(scope="module")
def files(tmp_path_factory, breastcancer):
    root = tmp_path_factory.mktemp("audits")
    X, y = breastcancer
    model = RiskScoreClassifier(max_features=3, max_coef=3, time_limit=20).fit(X, y)
    save_json(model, root / "model.json")
    site = pd.Series(np.where(np.arange(len(X)) % 3 == 0, "north", "south"), name="site")
    pd.concat([y, X, site], axis=1).to_csv(root / "data.csv", index=False)
    ActionSet.from_dict(ACTIONS).to_file(root / "actions.yaml")
    return root, X, y, site


def test_recourse_report_table_and_plot(files, monkeypatch, capsys):
    root, X, y, site = files
    monkeypatch.chdir(root)
    code = main(["recourse", "model.json", "data.csv", "--actions", "actions.yaml",
                 "--target-column", y.name, "--group", "site", "-o", "people.csv",
                 "--plot", "audit.png"])
    out = capsys.readouterr().out
    assert code == 0
    expected = audit_recourse(load_json(root / "model.json"), X, ACTIONS, groups=site)
    overall = expected.summary().iloc[0]
    assert f"unfavourable decision: {int(overall['n_unfavourable'])}," in out
    assert "north" in out and "south" in out and "BareNuclei" in out
    written = pd.read_csv(root / "people.csv", keep_default_na=False)
    frame = expected.to_frame()
    assert list(written.columns) == list(frame.columns)
    np.testing.assert_array_equal(written["reachable"], frame["reachable"])
    np.testing.assert_allclose(written["cost"], frame["cost"])
    assert (root / "audit.png").stat().st_size > 0
    assert not list(root.glob(".*"))  # no temporary file left behind


def test_recourse_markdown_and_threshold(files, monkeypatch, capsys):
    root, X, y, _ = files
    monkeypatch.chdir(root)
    assert main(["recourse", "model.json", "data.csv", "--actions", "actions.yaml",
                 "--threshold", "0.9", "--format", "markdown"]) == 0
    out = capsys.readouterr().out
    expected = audit_recourse(load_json(root / "model.json"), X, ACTIONS, threshold=0.9)
    assert out == expected.to_markdown() + "\n"


@pytest.mark.parametrize("content, fragment", [
    ("variables:\n  BareNuclei: {direction: sideways}\n", "direction must be one of"),
    ("variables: [\n", "not valid YAML"),
])
def test_recourse_bad_action_set_is_one_line(files, tmp_path, monkeypatch, capsys, content,
                                             fragment):
    root = files[0]
    (tmp_path / "bad.yaml").write_text(content)
    monkeypatch.chdir(root)
    assert main(["recourse", "model.json", "data.csv", "--actions",
                 str(tmp_path / "bad.yaml")]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("sk-riskscore: error: ")
    assert fragment in err and "Traceback" not in err


def test_recourse_unknown_group_is_one_line(files, monkeypatch, capsys):
    monkeypatch.chdir(files[0])
    assert main(["recourse", "model.json", "data.csv", "--actions", "actions.yaml",
                 "--group", "nope"]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "no column 'nope' for --group" in err


def test_rashomon_report_and_cards(files, monkeypatch, capsys):
    root, X, y, site = files
    monkeypatch.chdir(root)
    code = main(["rashomon", "model.json", "data.csv", "--target", y.name, "--epsilon",
                 "0.05", "--time-limit", "30", "--group", "site", "-q", "-o", "cards.csv",
                 "--plot", "ranges.png"])
    captured = capsys.readouterr()
    assert code == 0
    assert captured.err == ""  # -q: no progress
    expected = rashomon_set(clone(load_json(root / "model.json")), X, y, epsilon=0.05,
                            time_limit=30)
    assert expected.complete_
    lines = captured.out.splitlines()
    assert lines[0] == expected.summary(X)
    assert lines[1].startswith("status: complete")
    assert "north" in captured.out and "ambiguity" in captured.out
    cards = pd.read_csv(root / "cards.csv", index_col="rank")
    assert len(cards) == len(expected)
    names = expected.feature_names_
    np.testing.assert_array_equal(cards[names].to_numpy(), expected.cards_[names].to_numpy())
    np.testing.assert_allclose(cards["objective"], expected.cards_["objective"], rtol=1e-12)
    assert (root / "ranges.png").stat().st_size > 0


def test_rashomon_truncated_status_and_progress(files, monkeypatch, capsys):
    root, _, y, _ = files
    monkeypatch.chdir(root)
    assert main(["rashomon", "model.json", "data.csv", "--target", y.name, "--epsilon",
                 "0.05", "--max-models", "2", "--time-limit", "30"]) == 0
    captured = capsys.readouterr()
    assert captured.out.splitlines()[1].startswith("status: truncated")
    assert captured.err  # progress goes to stderr


def test_rashomon_needs_the_target(files, monkeypatch, capsys):
    monkeypatch.chdir(files[0])
    assert main(["rashomon", "model.json", "data.csv", "--target", "nope"]) == 1
    assert "no column 'nope' for --target" in capsys.readouterr().err
