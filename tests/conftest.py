"""Shared fixtures and the fast test settings, all in one place."""

from __future__ import annotations

import contextlib
import os
import sqlite3
from pathlib import Path

# One BLAS / OpenMP thread per pytest-xdist worker when there are several: with
# one worker per core, every thread more oversubscribes the cores, and OpenBLAS
# threads spin while they wait (the brute-force oracles' matrix products took
# twice the time on 2 cores). Set before numpy is imported, and inherited by the
# processes the tests start; the solver already limits itself to one BLAS thread.
if int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "1")) > 1:
    for _variable in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ.setdefault(_variable, "1")

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402

try:
    import fcntl
except ImportError:  # Windows
    fcntl = None

REPO = Path(__file__).resolve().parents[1]
# The project's data sets live beside the checkout (../shared/data/riskslim);
# SK_RISKSCORE_DATA_DIR overrides, and the workplace's fixed location is a fallback.
_CANDIDATES = [
    Path(os.environ["SK_RISKSCORE_DATA_DIR"]) if "SK_RISKSCORE_DATA_DIR" in os.environ else None,
    REPO.parent / "shared" / "data" / "riskslim",
    Path("/work/shared/data/riskslim"),
]
SHARED_DATA = next(
    (p for p in _CANDIDATES if p is not None and p.is_dir()), _CANDIDATES[1]
)
BUNDLED = {"breastcancer", "mammo"}
DATASETS = ("breastcancer", "mammo", "adult", "mushroom")

@contextlib.contextmanager
def node_limit(max_nodes: int):
    """Fits inside stop after ``max_nodes`` branch-and-bound nodes.

    A deterministic stand-in for a short ``time_limit``: the same model on a
    fast machine and on a loaded CI runner. Patches the classifier's solver
    entry point only (``time_limit`` stays as given: keep it generous).
    """
    import functools

    from sk_riskscore import _classifier
    from sk_riskscore._solver import solve

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(_classifier, "solve", functools.partial(solve, max_nodes=max_nodes))
        yield


# Fast settings for estimators in tests: one place to change them.
FAST = dict(time_limit=20.0, max_features=3, max_coef=3)

# For fits that must *certify* optimality: give them this time limit and run them
# inside ``node_limit``. The problems are small (at most a few thousand nodes,
# seconds on an idle machine), so the clock only guards against a hang and never
# decides the outcome on a loaded CI runner; the node limit bounds the work the
# same way on every machine (the heuristics' share of the time limit stays large).
CERTIFY_TIME_LIMIT = 600.0

# Golden objectives (loss + C0 * L0) with |points| <= 5, at most 5 features, C0 = 1e-6,
# intercept within +-50, all rows: the risk-slim reference's own test values, re-derived
# by hand (breastcancer optimum: intercept -17, +1 for five of the raw 1-10 features).
GOLDEN = {
    "breastcancer": 0.11336464701598783,
    "mammo": 0.4685592313167107,
}


def load_dataset(name: str):
    """(X DataFrame, y Series) of a RiskSLIM data set; first column is the outcome."""
    path = SHARED_DATA / f"{name}_data.csv"
    if path.exists():
        frame = pd.read_csv(path)
    elif name in BUNDLED:
        from importlib import resources

        with resources.files("sk_riskscore.datasets").joinpath(f"{name}.csv").open() as fh:
            frame = pd.read_csv(fh)
    else:
        pytest.skip(f"data set {name!r} not found at {path}; set SK_RISKSCORE_DATA_DIR")
    y = frame.iloc[:, 0]
    return frame.iloc[:, 1:], y


# The slowest test modules first. `make test` runs pytest-xdist with --dist
# loadfile, which hands whole modules to the workers in this order (see
# pytest_configure): a slow module that starts last would leave one core idle
# while it finishes. Longest first, as measured with --durations on 2 workers.
_SLOW_MODULES_FIRST = (
    "test_spark", "test_cli", "test_solver_oracle", "test_onnx", "test_mlflow_flavor",
    "test_dual_bound", "test_classifier", "test_constraints", "test_solver_faults",
    "test_parallel", "test_rashomon", "test_progress", "test_certify_card", "test_recourse",
    "test_serialization", "test_mlflow_serve", "test_scorecard", "test_duplicate_columns",
)


def pytest_configure(config):
    # pytest-xdist (3.x) otherwise reorders the modules by their number of tests,
    # largest first, whatever the collection order: a module of a few long tests
    # (Spark, the console script) would then start near the end.
    if hasattr(config.option, "loadscopereorder"):
        config.option.loadscopereorder = False


def pytest_collection_modifyitems(config, items):
    rank = {name: position for position, name in enumerate(_SLOW_MODULES_FIRST)}
    # stable: tests keep their order within a module
    items.sort(key=lambda item: rank.get(item.path.stem, len(rank)))


@pytest.fixture(scope="session")
def mammo():
    return load_dataset("mammo")


@pytest.fixture(scope="session")
def breastcancer():
    return load_dataset("breastcancer")


@pytest.fixture
def rng():
    return np.random.default_rng(0)


# Real-valued data with special codes (../shared/data/real, see its README).
REAL_DATA = SHARED_DATA.parent / "real"
HELOC_SPECIAL_VALUES = [-7, -8, -9]


def load_heloc(*, nan_share: float = 0.0, rows: int | None = None, seed: int = 0):
    """(X, y) of HELOC, optionally with ``nan_share`` of the feature cells set to
    NaN and a random subsample of ``rows`` rows (always including all-(-9) rows)."""
    path = REAL_DATA / "heloc.csv"
    if not path.exists():
        pytest.skip(f"heloc.csv not found at {path}")
    frame = pd.read_csv(path)
    y, X = frame.iloc[:, 0], frame.iloc[:, 1:].astype(np.float64)
    rng = np.random.default_rng(seed)
    if nan_share:
        X = X.mask(rng.random(X.shape) < nan_share)
    if rows is not None:
        keep = np.sort(rng.permutation(len(X))[:rows])
        X, y = X.iloc[keep].reset_index(drop=True), y.iloc[keep].reset_index(drop=True)
    return X, y


# --------------------------------------------------------------- MLflow stores
#
# A new sqlite MLflow store runs MLflow's schema migrations: several seconds each
# time. The stores here are copies of one empty store migrated once per test run
# (the same file MLflow would have made); the demo's test still lets MLflow make its
# store, from nothing, as a user's first run does.


@pytest.fixture(scope="session")
def mlflow_store_template(tmp_path_factory) -> Path:
    """An empty, migrated sqlite MLflow store, built once per test run: by the first
    pytest-xdist worker to need it, while the others wait."""
    pytest.importorskip("mlflow")
    root = tmp_path_factory.getbasetemp()
    if os.environ.get("PYTEST_XDIST_WORKER") and fcntl is not None:
        root = root.parent  # the run's directory, shared by its workers
    template = root / "mlflow-empty-store.db"
    with _exclusive(root / "mlflow-empty-store.lock"):
        if not template.exists():
            building = root / f"mlflow-empty-store-{os.getpid()}.db"
            from mlflow import MlflowClient

            MlflowClient(tracking_uri=f"sqlite:///{building}").search_experiments()
            _sqlite_copy(building, template)
            building.unlink()
    return template


@pytest.fixture(scope="session")
def mlflow_store(mlflow_store_template):
    """``new_store(directory)``: the ``sqlite:///`` URI of a new, empty MLflow store
    ``directory/mlflow.db`` (a copy of ``mlflow_store_template``)."""

    def new_store(directory) -> str:
        path = Path(directory) / "mlflow.db"
        if path.exists():
            raise FileExistsError(path)
        _sqlite_copy(mlflow_store_template, path)
        return f"sqlite:///{path}"

    return new_store


@pytest.fixture(autouse=True)
def _doctest_mlflow_stores(request, monkeypatch):
    """In the doctests that use MLflow (the plugin's Examples, which make their own
    stores in temporary directories), a new, empty sqlite store is filled from
    ``mlflow_store_template`` instead of by MLflow's migrations. Shared with those
    doctests by the conftest.py at the root of the repository."""
    from _pytest.doctest import DoctestItem

    if not isinstance(request.node, DoctestItem) or "mlflow" not in (
        getattr(request.node.dtest, "docstring", None) or ""
    ):
        return
    try:
        from mlflow.store.db import utils
    except ImportError:
        return
    if not hasattr(utils, "_initialize_tables"):  # another MLflow: migrations as usual
        return
    template = request.getfixturevalue("mlflow_store_template")
    migrate = utils._initialize_tables

    def initialize_tables(engine):
        path = engine.url.database if engine.url.get_backend_name() == "sqlite" else None
        if not path or path == ":memory:" or _sqlite_tables(Path(path)):
            return migrate(engine)  # not a new, empty sqlite file
        engine.dispose()
        _sqlite_copy(template, Path(path))
        engine.dispose()

    monkeypatch.setattr(utils, "_initialize_tables", initialize_tables)


@contextlib.contextmanager
def _exclusive(lock_path: Path):
    if fcntl is None:  # Windows: each worker builds its own template
        yield
        return
    with open(lock_path, "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def _sqlite_copy(source: Path, target: Path) -> None:
    """A consistent copy of a sqlite database (its backup API), then closed."""
    with contextlib.closing(sqlite3.connect(source)) as src, contextlib.closing(
        sqlite3.connect(target)
    ) as dst:
        src.backup(dst)


def _sqlite_tables(path: Path) -> int:
    if not path.exists():
        return 0
    with contextlib.closing(sqlite3.connect(path)) as db:
        return db.execute("SELECT count(*) FROM sqlite_master WHERE type = 'table'").fetchone()[0]


@pytest.fixture
def spy(monkeypatch):
    """``spy(owner, name)`` wraps the method ``owner.name`` and returns a list
    that records, per call, whether it returned something other than None."""

    def install(owner, name):
        calls = []
        original = getattr(owner, name)

        def recorded(*args, **kwargs):
            result = original(*args, **kwargs)
            calls.append(result is not None)
            return result

        monkeypatch.setattr(owner, name, recorded)
        return calls

    return install
