"""Small real data sets bundled with sk-riskscore (see README.md beside this file)."""

from __future__ import annotations

from importlib import resources

import pandas as pd
from sklearn.utils import Bunch

__all__ = ["load_breastcancer", "load_mammo"]

_DESCRIPTIONS = {
    "breastcancer": (
        "Breast Cancer Wisconsin (Original), UCI; 683 tumours, 9 cytology "
        "features scored 1-10, outcome Malignant (1) vs benign (0). As "
        "preprocessed in the RiskSLIM repository (BSD-3-Clause)."
    ),
    "mammo": (
        "Mammographic Mass, UCI (Elter et al. 2007); 961 masses, 13 binary "
        "BI-RADS shape / margin / age features and Density (1-4), outcome "
        "Malignant (1) vs benign (0). As preprocessed in the RiskSLIM "
        "repository (BSD-3-Clause)."
    ),
}


def _load(name: str, return_X_y: bool, as_frame: bool):
    with resources.files(__name__).joinpath(f"{name}.csv").open("r") as handle:
        frame = pd.read_csv(handle)
    target_name = frame.columns[0]
    X = frame.drop(columns=target_name)
    y = frame[target_name]
    if not as_frame:
        X, y = X.to_numpy(dtype=float), y.to_numpy()
    if return_X_y:
        return X, y
    return Bunch(
        data=X,
        target=y,
        frame=frame if as_frame else None,
        feature_names=list(frame.columns[1:]),
        target_names=["benign", "malignant"],
        target_name=target_name,
        DESCR=_DESCRIPTIONS[name],
    )


def load_breastcancer(*, return_X_y: bool = False, as_frame: bool = False):
    """The Wisconsin breast cancer data (683 rows, 9 integer features).

    Parameters
    ----------
    return_X_y : bool, default=False
        Return ``(X, y)`` instead of a Bunch.
    as_frame : bool, default=False
        Return pandas objects (a DataFrame with feature names) instead of
        numpy arrays.

    Returns
    -------
    data : sklearn.utils.Bunch or tuple
        ``data``, ``target``, ``frame``, ``feature_names``, ``target_names``,
        ``DESCR``; or ``(X, y)`` with ``return_X_y=True``.

    Examples
    --------
    >>> from sk_riskscore.datasets import load_breastcancer
    >>> X, y = load_breastcancer(return_X_y=True, as_frame=True)
    >>> X.shape, int(y.sum())
    ((683, 9), 239)
    """
    return _load("breastcancer", return_X_y, as_frame)


def load_mammo(*, return_X_y: bool = False, as_frame: bool = False):
    """The mammographic mass data (961 rows, 14 features, mostly binary).

    Parameters and returns as in :func:`load_breastcancer`.

    Examples
    --------
    >>> from sk_riskscore.datasets import load_mammo
    >>> X, y = load_mammo(return_X_y=True, as_frame=True)
    >>> X.shape
    (961, 14)
    """
    return _load("mammo", return_X_y, as_frame)
