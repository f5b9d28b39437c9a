"""Shared fixtures and the fast test settings, all in one place."""

from __future__ import annotations

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

# Fast settings for estimators in tests: one place to change them.
FAST = dict(time_limit=20.0, max_features=3, max_coef=3)

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


@pytest.fixture(scope="session")
def mammo():
    return load_dataset("mammo")


@pytest.fixture(scope="session")
def breastcancer():
    return load_dataset("breastcancer")


@pytest.fixture
def rng():
    return np.random.default_rng(0)
