"""Do the tests catch deliberate bugs? A small mutation check (issue 18, item 10).

    .venv/bin/python benchmarks/mutation_check.py            # every mutation
    .venv/bin/python benchmarks/mutation_check.py --list
    .venv/bin/python benchmarks/mutation_check.py certify-no-feasibility-check

For each mutation the package, the MLflow plugin and the tests are copied to a
temporary directory, one line of source is replaced by a buggy one, and only
the test files that guard that line run against the copy (``PYTHONPATH``
points at it; the checkout is never touched). A mutation is *caught* when those
tests fail, *missed* when they pass. First the same tests run unmutated: they
must pass, or a "caught" would mean nothing. Exits 1 if any mutation is missed
or does not apply (its source line changed: update the mutation).
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
COPIED = ("sk_riskscore", "mlflow_plugin", "tests", "pyproject.toml")


@dataclass(frozen=True)
class Mutation:
    name: str
    path: str  # relative to the repository
    original: str  # must occur exactly once in the file
    mutated: str
    tests: tuple[str, ...]  # pytest arguments: files, and -k expressions


MUTATIONS = (
    Mutation(
        "certify-no-feasibility-check",
        "sk_riskscore/_solver/_certify.py",
        "if not FeasibilityChecker(problem).is_feasible(model.points, model.intercept):",
        "if False:",
        ("tests/test_certify.py",),
    ),
    Mutation(
        "certify-no-optimal-gap-downgrade",
        "sk_riskscore/_solver/_certify.py",
        "elif status == SolverStatus.OPTIMAL and gap > gap_tolerance + _AGREEMENT:",
        "elif False:",
        ("tests/test_certify.py",),
    ),
    Mutation(
        "certify-trusts-search-objective",
        "sk_riskscore/_solver/_certify.py",
        "objective = problem.objective(model.points, model.intercept)",
        "objective = model.objective",
        ("tests/test_certify.py",),
    ),
    Mutation(
        "certify-no-bound-check",
        "sk_riskscore/_solver/_certify.py",
        "if result.lower_bound > objective + tolerance:",
        "if False:",
        ("tests/test_certify.py",),
    ),
    Mutation(
        "checksum-skips-pipeline",
        "sk_riskscore/_io/_envelope.py",
        'if k not in ("checksum", "signature")}',
        'if k not in ("checksum", "signature", "pipeline")}',
        ("tests/test_model_files.py", "-k", "checksum"),
    ),
    Mutation(
        "exactly-compiled-as-at-least",
        "sk_riskscore/_constraints.py",
        "self.features, self.k, self.k, self._name()",
        "self.features, self.k, math.inf, self._name()",
        ("tests/test_constraints.py", "-k", "random_constraint or binding"),
    ),
    Mutation(
        "implies-compiled-backwards",
        "sk_riskscore/_constraints.py",
        "used[column_of[target]] -= 1.0",
        "used[column_of[target]] += 1.0",
        ("tests/test_constraints.py", "-k", "random_constraint or binding"),
    ),
    Mutation(
        "must-not-use-ignored",
        "sk_riskscore/_constraints.py",
        "lower[column_of[f]] = upper[column_of[f]] = 0",
        "pass",
        ("tests/test_constraints.py", "-k", "random_constraint or binding"),
    ),
    Mutation(
        "json-duplicate-keys-accepted",
        "sk_riskscore/_io/_envelope.py",
        "object_pairs_hook=_refuse_duplicate_keys,",
        "object_pairs_hook=dict,",
        ("tests/test_model_files.py", "-k", "duplicate"),
    ),
    Mutation(
        "signature-not-compared",
        "sk_riskscore/_io/_envelope.py",
        "if not hmac.compare_digest(",
        "if False and not hmac.compare_digest(",
        ("tests/test_model_files.py", "-k", "sign"),
    ),
    Mutation(
        "model-size-limit-ignored",
        "sk_riskscore/_io/_envelope.py",
        "if len(raw) > limit:",
        "if False:",
        ("tests/test_model_files.py", "-k", "limit or big_file"),
    ),
    Mutation(
        "point-range-unchecked",
        "sk_riskscore/_io/_fields.py",
        "if abs(value) > _LARGEST_INTEGER:",
        "if False:",
        ("tests/test_model_files.py", "-k", "huge_point"),
    ),
    Mutation(
        "binarizer-unknown-keys-accepted",
        "sk_riskscore/_io/_binarizer.py",
        "unknown = sorted(set(data) - set(_KEYS))",
        "unknown = []",
        ("tests/test_model_files.py", "-k", "binarizer"),
    ),
    Mutation(
        "yaml-aliases-expanded",
        "sk_riskscore/cli/_commands.py",
        "items = yaml.load(text, Loader=_loader_without_aliases(yaml))",
        "items = yaml.safe_load(text)",
        ("tests/test_cli_files.py", "-k", "yaml"),
    ),
    Mutation(
        "cli-saves-before-the-card",
        "sk_riskscore/cli/_commands.py",
        "card = ScoreCard.from_estimator(model, X, y).to_text()\n"
        "    path = save_json(model, output)",
        "path = save_json(model, output)\n"
        "    card = ScoreCard.from_estimator(model, X, y).to_text()",
        ("tests/test_cli_files.py", "-k", "fails_after_solving"),
    ),
    Mutation(
        "cli-writes-in-place",
        "sk_riskscore/cli/_commands.py",
        'write_atomically(_writable(output), text.encode("utf-8"))',
        '_writable(output).write_text(text, encoding="utf-8")',
        ("tests/test_cli_files.py", "-k", "replaced_whole"),
    ),
)


def copy_checkout(target: Path) -> None:
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", ".pytest_cache")
    for name in COPIED:
        source = REPO / name
        if source.is_dir():
            shutil.copytree(source, target / name, ignore=ignore)
        else:
            shutil.copy2(source, target / name)


def run_tests(root: Path, tests, timeout: float) -> tuple[int, str]:
    env = dict(os.environ, PYTHONPATH=f"{root}{os.pathsep}{root / 'mlflow_plugin'}",
               MLFLOW_DISABLE_TELEMETRY="true", DO_NOT_TRACK="true")
    command = [sys.executable, "-m", "pytest", "-x", "-q", "-p", "no:cacheprovider",
               "-W", "ignore::DeprecationWarning", *tests]
    try:
        done = subprocess.run(command, cwd=root, env=env, capture_output=True, text=True,
                              timeout=timeout)
    except subprocess.TimeoutExpired:
        return -1, "timeout"
    lines = [line for line in done.stdout.splitlines() if line.strip()]
    return done.returncode, lines[-1] if lines else done.stderr.strip()[-200:]


def check_imports_the_copy(root: Path) -> None:
    env = dict(os.environ, PYTHONPATH=f"{root}{os.pathsep}{root / 'mlflow_plugin'}")
    where = subprocess.run(
        [sys.executable, "-c", "import sk_riskscore; print(sk_riskscore.__file__)"],
        cwd=root, env=env, capture_output=True, text=True, check=True,
    ).stdout.strip()
    if not where.startswith(str(root)):
        raise SystemExit(f"the copy is not what gets imported ({where}); aborting")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("names", nargs="*", help="mutations to run (default: all)")
    parser.add_argument("--list", action="store_true", help="list the mutations and exit")
    parser.add_argument("--timeout", type=float, default=600.0,
                        help="seconds per test run (default 600)")
    args = parser.parse_args(argv)
    if args.list:
        for m in MUTATIONS:
            print(f"{m.name:36s} {m.path}")
        return 0
    chosen = [m for m in MUTATIONS if not args.names or m.name in args.names]
    unknown = set(args.names) - {m.name for m in MUTATIONS}
    if unknown:
        parser.error(f"unknown mutations {sorted(unknown)}; see --list")

    failures = 0
    with tempfile.TemporaryDirectory(prefix="mutation_check_") as tmp:
        pristine = Path(tmp) / "pristine"
        copy_checkout(pristine)
        check_imports_the_copy(pristine)
        for selection in dict.fromkeys(m.tests for m in chosen):
            start = time.perf_counter()
            code, summary = run_tests(pristine, selection, args.timeout)
            print(f"unmutated: {' '.join(selection)}: {summary} "
                  f"[{time.perf_counter() - start:.0f} s]", flush=True)
            if code != 0:
                print("the unmutated tests fail: fix them first")
                return 1
        print(f"{'mutation':36s} {'result':8s} {'seconds':>7s}  tests")
        for mutation in chosen:
            root = Path(tmp) / mutation.name
            shutil.copytree(pristine, root)
            target = root / mutation.path
            text = target.read_text(encoding="utf-8")
            if text.count(mutation.original) != 1:
                print(f"{mutation.name:36s} {'N/A':8s} {'':>7s}  source line not found once "
                      f"in {mutation.path}: update the mutation")
                failures += 1
                continue
            target.write_text(text.replace(mutation.original, mutation.mutated),
                              encoding="utf-8")
            start = time.perf_counter()
            code, summary = run_tests(root, mutation.tests, args.timeout)
            caught = code not in (0, 5)  # 5: no test selected, nothing guards it
            failures += not caught
            print(f"{mutation.name:36s} {'caught' if caught else 'MISSED':8s} "
                  f"{time.perf_counter() - start:7.0f}  {' '.join(mutation.tests)} "
                  f"({summary})", flush=True)
            shutil.rmtree(root)
    print(f"{len(chosen) - failures} of {len(chosen)} mutations caught")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
