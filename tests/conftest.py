"""Shared fixtures and the fast test settings, all in one place."""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

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
# loadfile, which hands whole modules to the workers in collection order: a
# slow module that starts last would leave one core idle while it finishes.
_SLOW_MODULES_FIRST = (
    "test_spark", "test_cli", "test_solver_oracle", "test_solver_faults",
    "test_onnx", "test_mlflow_flavor", "test_recourse", "test_mlflow_serve", "test_constraints",
)


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
