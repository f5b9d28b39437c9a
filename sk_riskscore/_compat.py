"""Every private scikit-learn name sk-riskscore uses, imported here and only here.

scikit-learn may move or change private names between releases; when it
does, this is the one file to adapt (requires scikit-learn >= 1.6).
"""

from __future__ import annotations

from sklearn.base import _fit_context
from sklearn.utils._param_validation import (
    Interval,
    StrOptions,
    validate_parameter_constraints,
)
from sklearn.utils.validation import _check_feature_names_in

__all__ = [
    "Interval",
    "StrOptions",
    "_check_feature_names_in",
    "_fit_context",
    "pandas_output_requested",
    "validate_params",
]


def validate_params(estimator) -> None:
    """Check an estimator's parameters against its ``_parameter_constraints``.

    What ``fit`` does through ``@_fit_context``, for code that builds a fitted
    estimator without calling ``fit`` (``from_dict``, a model file, Spark).
    """
    validate_parameter_constraints(
        estimator._parameter_constraints,
        estimator.get_params(deep=False),
        caller_name=type(estimator).__name__,
    )


def pandas_output_requested(estimator) -> bool:
    """Whether ``set_output(transform="pandas")`` (or the global config) asks for pandas."""
    try:
        from sklearn.utils._set_output import _get_output_config
    except ImportError:  # pragma: no cover - very old or very new scikit-learn
        return False
    return _get_output_config("transform", estimator)["dense"] == "pandas"
