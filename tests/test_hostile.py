"""The hostile-input catalogue (issue 18): each probe in a subprocess, under limits.

Every case is a row of :data:`CATALOGUE`: the input, the expected outcome (an
exception type, a one-line CLI error, or the right answer), a CPU-time limit and
a memory limit (address space allowed on top of the process's own). Each runs
in a forked child with ``RLIMIT_CPU`` and ``RLIMIT_AS`` set, so a regression
that allocates gigabytes or loops forever fails its row instead of taking the
machine down. Outcomes are counted as the issue counts them::

    python tests/test_hostile.py --summary

prints: tried, clear error, right answer, silent wrong, crash, hang.

Items 2 and 9 of the issue (serving signatures, threads), the MLmodel
``code:`` refusal and server error bodies need an MLflow server, a model
directory or threads, and are tested in ``test_mlflow_serve.py``,
``test_mlflow_flavor.py`` and ``test_solver_faults.py``.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import resource
import select
import signal
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

if __name__ == "__main__":  # python tests/test_hostile.py: import this checkout
    sys.path[:0] = [str(Path(__file__).resolve().parents[1]),
                    str(Path(__file__).resolve().parents[1] / "mlflow_plugin")]

import numpy as np
import pytest

from sk_riskscore import InvalidModelFileError, load_json
from sk_riskscore._io._envelope import _checksum
from sk_riskscore.cli import main as cli_main

try:  # imported once here, not in every forked child (seconds each)
    import mlflow.pyfunc
    import sk_riskscore_mlflow
except ImportError:  # the MLflow rows then report the ImportError as a crash
    mlflow = sk_riskscore_mlflow = None

DATA = Path(__file__).resolve().parent / "data"
MODEL = DATA / "model_v0_1.json"
KEY = "hostile-catalogue-key"
CLEAR_ERROR, RIGHT, SILENT_WRONG, CRASH, HANG = (
    "clear error", "right answer", "silent wrong", "crash", "hang")
# A clear error is short: it quotes little of a hostile input.
MAX_MESSAGE = 1000


class CliError(Exception):
    """Expected outcome of CLI rows: exit code 1, one short line, no traceback."""


@dataclass(frozen=True)
class Case:
    name: str
    item: int
    probe: Callable[[Path], object]  # raises, returns True (right) or False (wrong)
    expected: type  # an exception type, CliError, or None for the right answer
    cpu_seconds: int = 20
    megabytes: int = 500


# ------------------------------------------------------------------ inputs


def document() -> dict:
    return json.loads(MODEL.read_text())


def write(work: Path, doc: dict, *, reseal=True) -> Path:
    if reseal:  # a careful forger fixes the checksum
        doc["checksum"] = _checksum(doc)
    path = work / "model.json"
    path.write_text(json.dumps(doc))
    return path


def write_text(work: Path, text: str, name="model.json") -> Path:
    path = work / name
    path.write_text(text)
    return path


def edited(edit) -> Callable[[Path], Path]:
    def make(work):
        doc = document()
        edit(doc)
        return write(work, doc)
    return make


DEEP = '{"format": "sk-riskscore", "x": ' + "[" * 100_000 + "]" * 100_000 + "}"
HUGE_INTEGER = '{"format": "sk-riskscore", "schema_version": ' + "7" * 4300 + "}"


def duplicate_keys(work):
    """The committed model with "model_type" twice: readers disagree on which wins."""
    text = MODEL.read_text().replace(
        '"model_type": "Pipeline"', '"model_type": "RiskScoreClassifier", '
        '"model_type": "Pipeline"', 1)
    return write_text(work, text)
ALIAS_BOMB = (  # 276 bytes that expand to 9**8 strings
    'a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]\n'
    "b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]\nc: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]\n"
    "d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]\ne: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]\n"
    "f: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]\ng: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f]\n"
    "h: &h [*g,*g,*g,*g,*g,*g,*g,*g,*g]\n"
)


def point(value):
    return lambda d: d["classifier"]["points"].__setitem__(0, value)


def binarizer(key, value):
    return lambda d: d["pipeline"]["binarizer"].__setitem__(key, value)


def n_features_in_huge(d):
    d["pipeline"]["binarizer"]["n_features_in"] = 10**9
    d["pipeline"]["binarizer"]["feature_names_in"] = None


# ------------------------------------------------------------------ probes


def load(make, **kwargs):
    return lambda work: load_json(make(work), **kwargs) and False  # loading = accepting


def cli(*args_of):
    def probe(work):
        stderr = io.StringIO()
        with contextlib.redirect_stderr(stderr), contextlib.redirect_stdout(io.StringIO()):
            code = cli_main([str(a) for a in args_of[0](work)])
        lines = stderr.getvalue().splitlines()
        errors = [line for line in lines if line.startswith("sk-riskscore: error: ")]
        if code == 1 and len(errors) == 1 and "Traceback" not in stderr.getvalue():
            raise CliError(errors[0])
        return False
    return probe


def mlflow_load(make, loader):
    def probe(work):
        directory = work / "mlflow_model"
        directory.mkdir()
        make(directory)
        (directory / "MLmodel").write_text(
            "flavors:\n  python_function:\n    loader_module: sk_riskscore_mlflow\n"
            "    python_version: 3.11.0\n  riskscore:\n    model_file: model.json\n"
            "    pyfunc_output: frame\n")
        load_model = (mlflow.pyfunc.load_model if loader == "pyfunc"
                      else sk_riskscore_mlflow.load_model)
        return load_model(str(directory)) and False
    return probe


def predicts_as_recorded(model) -> bool:
    import pandas as pd

    expected = json.loads((DATA / "model_v0_1_expected.json").read_text())
    rows = pd.DataFrame(expected["rows"], columns=expected["columns"])
    return bool(np.array_equal(model.predict_proba(rows)[:, 1], expected["proba"]))


def signed_model_loads_with_its_key(work):
    from sk_riskscore import save_json

    path = save_json(load_json(MODEL), work / "signed.json", signing_key=KEY)
    return predicts_as_recorded(load_json(path, signing_key=KEY))


def forged_signed_model(work):
    from sk_riskscore import save_json

    doc = json.loads(save_json(load_json(MODEL), work / "s.json", signing_key=KEY).read_text())
    doc["classifier"]["points"][0] += 5
    return load_json(write(work, doc), signing_key=KEY) and False


def stripped_signature(work):
    return load_json(MODEL, signing_key=KEY) and False  # the committed file is unsigned


def failed_fit_writes_no_file(work):
    import pandas as pd

    from sk_riskscore import ScoreCard
    from sk_riskscore.datasets import load_mammo

    X, y = load_mammo(return_X_y=True, as_frame=True)
    pd.concat([y, X], axis=1).to_csv(work / "mammo.csv", index=False)

    def refuse(*args, **kwargs):
        raise ValueError("the model gives more than 10000 distinct scores")

    ScoreCard.from_estimator = refuse  # as for spambase without --binarize
    with contextlib.redirect_stderr(io.StringIO()):
        code = cli_main(["fit", str(work / "mammo.csv"), "--target", "Malignant",
                         "--max-features", "2", "--time-limit", "20", "--quiet",
                         "-o", str(work / "out.json")])
    return code == 1 and not (work / "out.json").exists()


def big_file(work):
    """The committed model padded to 20 MB with whitespace: valid JSON, same checksum."""
    text = MODEL.read_text().rstrip()
    path = write_text(work, text[:-1] + " " * (20 * 1024 * 1024) + "}")
    return load_json(path) and False


def breastcancer_with(value):
    """Breastcancer (raw 1-10 values) with one cell set to ``value``."""
    from sk_riskscore.datasets import load_breastcancer

    X, y = load_breastcancer(return_X_y=True, as_frame=True)
    X = X.astype(float)
    X.iloc[0, 0] = value
    return X, y


def fit_with_huge_cell(value):
    def probe(work):
        from sk_riskscore import RiskScoreClassifier

        X, y = breastcancer_with(value)
        RiskScoreClassifier(max_features=2, max_coef=2, time_limit=10).fit(X, y)
        return False  # a fit that solves on such data is not a clear refusal
    return probe


def cli_fit_huge_cell(work):
    X, y = breastcancer_with(1e20)
    X.assign(Malignant=y).to_csv(work / "huge.csv", index=False)
    return ["fit", work / "huge.csv", "--target", "Malignant", "--no-binarize",
            "--max-features", "2", "--time-limit", "10", "-o", work / "m.json"]


def score_of_huge_values_does_not_wrap(work):
    import pandas as pd

    from sk_riskscore import RiskScoreClassifier
    from sk_riskscore._model import prediction_frame

    X, y = breastcancer_with(5.0)
    clf = RiskScoreClassifier(max_features=2, max_coef=2, time_limit=10).fit(X, y)
    points = clf.coef_.ravel()
    column = X.columns[np.flatnonzero(points)[0]]
    rows = pd.DataFrame([X.iloc[0]] * 2).reset_index(drop=True)
    rows.loc[0, column], rows.loc[1, column] = 1e19, 1e300
    score = prediction_frame(clf, rows)["score"].to_numpy(dtype=float)
    expected = rows.to_numpy() @ points
    return bool(np.all(score == expected) and np.all(score > 0))


def markdown_card_escapes_html(work):
    from sk_riskscore import RiskScoreClassifier, ScoreCard

    X, y = breastcancer_with(5.0)
    X = X.rename(columns={X.columns[0]: "<script>alert(1)</script>"})
    clf = RiskScoreClassifier(max_features=9, min_features=9, max_coef=1,
                              time_limit=10).fit(X, y)
    text = ScoreCard.from_estimator(clf).to_markdown()
    return "<script>" not in text and "&lt;script&gt;" in text


def action_set_alias_bomb(work):
    from sk_riskscore import ActionSet

    levels = ["a: &a [1, 1, 1, 1, 1, 1, 1, 1, 1]"] + [
        f"{chr(98 + i)}: &{chr(98 + i)} [*{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, "
        f"*{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, "
        f"*{chr(97 + i)}]" for i in range(8)]
    path = write_text(work, "\n".join(levels) + "\nvariables: {}\n", name="actions.yaml")
    return ActionSet.from_file(path) and False


CATALOGUE = (
    Case("load_json: nested 100,000 deep", 4, load(lambda w: write_text(w, DEEP)),
         InvalidModelFileError),
    Case("load_json: a point of 10**30 (checksum fixed)", 4, load(edited(point(10**30))),
         InvalidModelFileError),
    Case("load_json: a point of 2**62 (checksum fixed)", 4, load(edited(point(2**62))),
         InvalidModelFileError),
    Case("load_json: binarizer categories as a list", 4,
         load(edited(binarizer("categories", ["a"]))), InvalidModelFileError),
    Case("load_json: binarizer rules as a dict", 4,
         load(edited(binarizer("rules", {"a": 1}))), InvalidModelFileError),
    Case("load_json: a 4300-digit integer", 4, load(lambda w: write_text(w, HUGE_INTEGER)),
         InvalidModelFileError),
    Case('load_json: label dtype "<U500000000" (3 KB file)', 4,
         load(edited(lambda d: d["classifier"].__setitem__(
             "classes", {"dtype": "<U500000000", "values": ["a", "b"]}))),
         InvalidModelFileError),
    Case("load_json: binarizer n_features_in 10**9", 4, load(edited(n_features_in_huge)),
         InvalidModelFileError),
    Case("load_json: a 20 MB file", 4, big_file, InvalidModelFileError, megabytes=400),
    Case("load_json: unknown key in the binarizer block", 4,
         load(edited(binarizer("backdoor", 1))), InvalidModelFileError),
    Case("load_json: duplicate JSON keys", 4, load(duplicate_keys),
         InvalidModelFileError),
    Case("CLI show: nested 100,000 deep", 4,
         cli(lambda w: ["show", write_text(w, DEEP)]), CliError),
    Case("CLI predict: a 4300-digit integer", 4,
         cli(lambda w: ["predict", write_text(w, HUGE_INTEGER), MODEL]), CliError),
    Case("MLflow pyfunc: a point of 10**30", 4,
         mlflow_load(edited(point(10**30)), "pyfunc"), "MlflowException"),
    Case("MLflow flavor: duplicate JSON keys", 4,
         mlflow_load(duplicate_keys, "flavor"), "MlflowException"),
    Case("CLI fit: YAML alias bomb (276 bytes) in --constraints", 5,
         cli(lambda w: ["fit", write_text(w, "a,y\n0,1\n1,0\n", "d.csv"), "--target", "y",
                        "--constraints", write_text(w, ALIAS_BOMB, "c.yaml")]), CliError),
    Case("CLI fit: fails after solving, writes no model", 6, failed_fit_writes_no_file, None,
         cpu_seconds=60),
    Case("signed model, right key", 8, signed_model_loads_with_its_key, None),
    Case("signed model, point edited and checksum fixed", 8, forged_signed_model,
         InvalidModelFileError),
    Case("unsigned model, key required", 8, stripped_signature, InvalidModelFileError),
    Case("fit: one cell of 1e20", 1, fit_with_huge_cell(1e20), ValueError),
    Case("fit: one cell of 1e308", 1, fit_with_huge_cell(1e308), ValueError),
    Case("CLI fit: one cell of 1e20", 1, cli(cli_fit_huge_cell), CliError),
    Case("score of 1e19 and 1e300 inputs: exact, no int64 wrap", 3,
         score_of_huge_values_does_not_wrap, None),
    Case("Markdown card: a column named <script>", 7, markdown_card_escapes_html, None),
    Case("action set: YAML alias bomb", 5, action_set_alias_bomb, ValueError),
    Case("model file written by 0.1.0", 10, lambda w: predicts_as_recorded(load_json(MODEL)),
         None),
)


# ------------------------------------------------------------------ harness


def _address_space() -> int:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmSize:"):
                return int(line.split()[1]) * 1024
    return 0


def _child(case: Case, work: Path, pipe: int) -> None:
    resource.setrlimit(resource.RLIMIT_CPU, (case.cpu_seconds, case.cpu_seconds + 1))
    limit = _address_space() + case.megabytes * 1024 * 1024
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    outcome = {}
    try:
        returned = case.probe(work)
        outcome = {"returned": bool(returned)}
    except BaseException as exc:  # noqa: BLE001 - everything is an outcome here
        names = [cls.__name__ for cls in type(exc).__mro__]
        outcome = {"raised": names, "message": str(exc)[:5000],
                   "length": len(str(exc))}
    os.write(pipe, json.dumps(outcome).encode())
    os.close(pipe)


def run_case(case: Case, work: Path, wall_seconds: float | None = None) -> tuple[str, str]:
    """(category, detail) of one case, run in a forked child under its limits."""
    work.mkdir(parents=True, exist_ok=True)
    read, write_end = os.pipe()
    sys.stdout.flush()
    sys.stderr.flush()
    pid = os.fork()
    if pid == 0:  # the child: never returns into the caller's code
        os.close(read)
        try:
            _child(case, work, write_end)
        finally:
            os._exit(0)
    os.close(write_end)
    deadline = time.monotonic() + (wall_seconds or 3 * case.cpu_seconds + 30)
    chunks = []
    while True:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
            os.close(read)
            return HANG, "wall-clock timeout"
        ready, _, _ = select.select([read], [], [], remaining)
        if ready:
            chunk = os.read(read, 1 << 16)
            if not chunk:
                break
            chunks.append(chunk)
    os.close(read)
    _, status = os.waitpid(pid, 0)
    if os.WIFSIGNALED(status):
        signum = os.WTERMSIG(status)
        if signum in (signal.SIGXCPU, signal.SIGKILL):
            return HANG, f"killed by {signal.Signals(signum).name} (CPU limit)"
        return CRASH, f"killed by {signal.Signals(signum).name}"
    if not chunks:
        return CRASH, "no outcome reported"
    return classify(case, json.loads(b"".join(chunks)))


def classify(case: Case, outcome: dict) -> tuple[str, str]:
    if "returned" in outcome:
        if case.expected is None and outcome["returned"]:
            return RIGHT, "right answer"
        return SILENT_WRONG, "accepted" if case.expected is not None else "wrong answer"
    names, message = outcome["raised"], outcome["message"]
    expected = case.expected if isinstance(case.expected, str) else getattr(
        case.expected, "__name__", None)
    detail = f"{names[0]}: {message[:160]}"
    if names[0] in ("MemoryError", "RecursionError"):
        return CRASH, detail
    if names[0] == "CliError" and "please report it" in message:
        return CRASH, detail  # the CLI's own words for a bug: "unexpected X ..."
    if expected in names and outcome["length"] <= MAX_MESSAGE:
        return CLEAR_ERROR, detail
    return CRASH, detail


def expected_category(case: Case) -> str:
    return RIGHT if case.expected is None else CLEAR_ERROR


@pytest.mark.parametrize("case", CATALOGUE, ids=[c.name for c in CATALOGUE])
def test_hostile_input(case, tmp_path):
    category, detail = run_case(case, tmp_path)
    assert category == expected_category(case), detail


def summary(work: Path) -> dict:
    counts = dict.fromkeys(("tried", CLEAR_ERROR, RIGHT, SILENT_WRONG, CRASH, HANG), 0)
    for i, case in enumerate(CATALOGUE):
        start = time.perf_counter()
        category, detail = run_case(case, work / f"case{i}")
        counts["tried"] += 1
        counts[category] += 1
        print(f"{category:13s} {time.perf_counter() - start:5.1f} s  item {case.item:2d}  "
              f"{case.name}  [{detail[:100]}]", flush=True)
    return counts


if __name__ == "__main__":
    import tempfile

    if sys.argv[1:] != ["--summary"]:
        raise SystemExit("usage: python tests/test_hostile.py --summary")
    with tempfile.TemporaryDirectory() as tmp:
        totals = summary(Path(tmp))
    print(", ".join(f"{name}: {count}" for name, count in totals.items()))
