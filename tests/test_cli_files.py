"""What the CLI writes and quotes: whole files only on success, short errors.

Run in-process through :func:`sk_riskscore.cli.main` on small data. The YAML
alias bomb itself (gigabytes on a regression) is in :mod:`tests.test_hostile`,
under resource limits.
"""

from __future__ import annotations

import json
import os

import pandas as pd
import pytest

from sk_riskscore import ScoreCard, load_json
from sk_riskscore.cli import main
from sk_riskscore.datasets import load_mammo

FIT = ["--target", "Malignant", "--max-features", "2", "--max-coef", "3",
       "--time-limit", "20", "--quiet"]


@pytest.fixture(scope="module")
def data_file(tmp_path_factory):
    root = tmp_path_factory.mktemp("cli_files")
    X, y = load_mammo(return_X_y=True, as_frame=True)
    pd.concat([y, X], axis=1).to_csv(root / "mammo.csv", index=False)
    return root / "mammo.csv"


def one_error_line(capsys):
    err = capsys.readouterr().err
    lines = err.splitlines()
    assert len(lines) == 1 and lines[0].startswith("sk-riskscore: error: "), err
    return lines[0]


def test_a_fit_that_fails_after_solving_writes_no_model(data_file, tmp_path, monkeypatch,
                                                        capsys):
    # As for spambase without --binarize: the fit ends, then the card refuses it.
    def refuse(*args, **kwargs):
        raise ValueError("the model gives more than 10000 distinct scores")

    monkeypatch.setattr(ScoreCard, "from_estimator", refuse)
    out = tmp_path / "model.json"
    assert main(["fit", str(data_file), *FIT, "-o", str(out)]) == 1
    assert "10000 distinct scores" in one_error_line(capsys)
    assert list(tmp_path.iterdir()) == []
    # An existing file is left exactly as it was.
    out.write_text("previous model")
    assert main(["fit", str(data_file), *FIT, "-o", str(out)]) == 1
    assert out.read_text() == "previous model"
    assert [p.name for p in tmp_path.iterdir()] == ["model.json"]


def test_outputs_are_replaced_whole_and_leave_no_temporary_files(data_file, tmp_path,
                                                                 monkeypatch, capsys):
    model = tmp_path / "model.json"
    assert main(["fit", str(data_file), *FIT, "-o", str(model)]) == 0
    load_json(model)
    card = tmp_path / "card.md"
    card.write_text("old card")
    assert main(["show", str(model), "--format", "markdown", "-o", str(card)]) == 0
    assert card.read_text() != "old card"
    capsys.readouterr()
    # A write that fails half-way leaves the old file, not half a new one.
    def broken_replace(src, dst):
        raise OSError(28, "No space left on device", str(dst))

    monkeypatch.setattr(os, "replace", broken_replace)
    predictions = tmp_path / "predictions.csv"
    predictions.write_text("old predictions")
    assert main(["predict", str(model), str(data_file), "-o", str(predictions)]) == 1
    assert "No space left" in one_error_line(capsys)
    assert predictions.read_text() == "old predictions"
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "card.md", "model.json", "predictions.csv"
    ]


def test_yaml_aliases_are_refused_in_constraints(data_file, tmp_path, capsys):
    constraints = tmp_path / "c.yaml"
    constraints.write_text(
        "- kind: at_most\n  k: 1\n  features: &shapes [RoundShape, OvalShape]\n"
        "- kind: at_least\n  k: 0\n  features: *shapes\n"
    )
    out = tmp_path / "model.json"
    code = main(["fit", str(data_file), *FIT, "--constraints", str(constraints),
                 "-o", str(out)])
    assert code == 1
    assert "aliases (*name) are not allowed" in one_error_line(capsys)
    assert not out.exists()


def test_error_lines_quote_little_of_the_input(data_file, tmp_path, capsys):
    constraints = tmp_path / "c.json"
    name = "x" * 100_000
    constraints.write_text(json.dumps([{"kind": "must_use", "features": [name]}]))
    code = main(["fit", str(data_file), *FIT, "--constraints", str(constraints)])
    line = one_error_line(capsys)
    assert code == 1 and len(line) < 600, len(line)
    assert "characters ...]" in line


def test_oversized_constraints_file_is_refused_unread(data_file, tmp_path, capsys):
    constraints = tmp_path / "c.yaml"
    constraints.write_text("# padding\n" * 200_000)
    assert main(["fit", str(data_file), *FIT, "--constraints", str(constraints)]) == 1
    assert "larger than" in one_error_line(capsys)
