"""The classifier block of a model file: points, certificate, parameters, pool."""

from __future__ import annotations

import dataclasses
import json
import logging
import math
import numbers
import re

import numpy as np
import pandas as pd

from .._classifier import RiskScoreClassifier, whole_or_real
from .._compat import validate_params
from .._constraints import constraints_from_dict, constraints_to_dict
from .._model import feature_names
from .._solver import SolverStatistics, SolverStatus
from ._fields import (
    _NON_FINITE,
    InvalidModelFileError,
    _check_fields,
    _expect_float,
    _expect_int,
    _expect_intercept,
    _expect_list,
    _expect_str,
    _plain_scalar,
    _quote,
)

_logger = logging.getLogger(__name__)

_CLASSIFIER_FIELDS = (
    "params", "n_features", "feature_names", "classes", "points", "intercept",
    "scale", "certificate", "solver_statistics", "pool",
)
# Label dtypes as numpy spells them; string labels up to 256 characters wide
# (wider only when a label is that long).
_LABEL_DTYPE = re.compile(r"(?P<order>[<>|=]?)(?P<kind>[iufbUO])(?P<size>[0-9]{0,9})")
_LABEL_CHARACTERS = 256
_CERTIFICATE_FIELDS = ("objective", "lower_bound", "optimality_gap", "status")
_POOL_FIELDS = ("objective", "loss", "intercept", "points")
# Only statuses a fitted model can have: fit raises on "infeasible" / "error".
_FITTED_STATUSES = tuple(
    s.value for s in SolverStatus if s not in (SolverStatus.INFEASIBLE, SolverStatus.ERROR)
)


def _classifier_to_dict(clf: RiskScoreClassifier) -> dict:
    names = getattr(clf, "feature_names_in_", None)
    n_features = int(clf.n_features_in_)
    point_columns = feature_names(names, n_features)
    pool = [
        {
            "objective": float(row["objective"]),
            "loss": float(row["loss"]),
            "intercept": whole_or_real(row["intercept"]),
            "points": [int(v) for v in row[point_columns]],
        }
        for _, row in clf.pool_.iterrows()
    ]
    return {
        "params": _params_to_dict(clf),
        "n_features": n_features,
        "feature_names": None if names is None else [str(n) for n in names],
        "classes": _classes_to_dict(clf.classes_),
        "points": [int(v) for v in np.asarray(clf.coef_).reshape(-1)],
        "intercept": whole_or_real(np.asarray(clf.intercept_).reshape(-1)[0]),
        "scale": float(clf.scale_),
        "certificate": {
            "objective": float(clf.objective_),
            "lower_bound": float(clf.lower_bound_),
            "optimality_gap": float(clf.optimality_gap_),
            "status": str(clf.status_),
        },
        "solver_statistics": dataclasses.asdict(clf.solver_statistics_),
        "pool": pool,
        "training": {
            "target": getattr(clf, "target_name_", None),
            "n_samples": getattr(clf, "n_samples_fit_", None),
        },
    }


def _params_to_dict(clf: RiskScoreClassifier) -> dict:
    params = clf.get_params(deep=False)
    out = {}
    for name, value in params.items():
        if name == "constraints":
            out[name] = _constraints_to_json(value)
        elif name == "coef_bounds":
            out[name] = None if value is None else [
                [_plain_scalar(feature, "params.coef_bounds"), int(lo), int(hi)]
                for feature, (lo, hi) in value.items()
            ]
        elif name == "random_state" and not (
            value is None or isinstance(value, numbers.Integral)
        ):
            _logger.info(
                "random_state=%r is not saved (only an integer seed or None can be); "
                "it does not affect predictions.", type(value).__name__,
            )
            out[name] = None
        else:
            out[name] = _plain_scalar(value, f"params.{name}")
    return out


def _constraints_to_json(constraints):
    if constraints is None:
        return None
    plain = constraints_to_dict(constraints)
    # Integer keys would come back as strings; refuse rather than silently change.
    try:
        round_trip = constraints_from_dict(json.loads(json.dumps(plain, allow_nan=False)))
    except (TypeError, ValueError):
        round_trip = None
    if round_trip != list(constraints):
        raise ValueError(
            "the constraints of this model do not survive a JSON round trip (a "
            "LinearConstraint keyed by column index?); declare constraints by feature "
            "name to save the model as JSON."
        )
    return plain


def _classes_to_dict(classes) -> dict:
    classes = np.asarray(classes)
    kind = classes.dtype.kind
    if kind in "iu":
        values = [int(v) for v in classes]
    elif kind == "f":
        values = [float(v) for v in classes]
    elif kind == "b":
        values = [bool(v) for v in classes]
    elif kind == "U" or (kind == "O" and all(isinstance(v, str) for v in classes)):
        values = [str(v) for v in classes]
    else:
        types = sorted({type(v).__name__ for v in classes})
        raise TypeError(
            f"class labels of type {types} cannot be saved as JSON; use int, float, bool "
            "or str labels."
        )
    return {"dtype": classes.dtype.str, "values": values}


def _check_classifier(block) -> dict:
    """Type- and length-check the classifier block; return the decoded values."""
    # "training" (target name, row count) is optional: files before it load
    training = block.get("training") if isinstance(block, dict) else None
    _check_fields({k: v for k, v in block.items() if k != "training"}
                  if isinstance(block, dict) else block, _CLASSIFIER_FIELDS, "classifier.")
    training = _decode_training(training)
    n_features = _expect_int(block["n_features"], "classifier.n_features")
    if n_features < 1:
        raise InvalidModelFileError(
            f"classifier.n_features: expected at least 1, got {n_features}"
        )
    names = block["feature_names"]
    if names is not None:
        names = _expect_list(names, "classifier.feature_names", n_features)
        for j, name in enumerate(names):
            _expect_str(name, f"classifier.feature_names[{j}]")
    points = _expect_list(block["points"], "classifier.points", n_features)
    points = [_expect_int(v, f"classifier.points[{j}]") for j, v in enumerate(points)]
    intercept = _expect_intercept(block["intercept"], "classifier.intercept")
    scale = _expect_float(block["scale"], "classifier.scale")
    if not (math.isfinite(scale) and scale > 0):
        raise InvalidModelFileError(
            f"classifier.scale: expected a positive finite number, got {_quote(scale)}"
        )
    classes = _decode_classes(block["classes"])
    certificate = block["certificate"]
    _check_fields(certificate, _CERTIFICATE_FIELDS, "classifier.certificate.")
    decoded_certificate = {
        name: _expect_float(certificate[name], f"classifier.certificate.{name}")
        for name in ("objective", "lower_bound", "optimality_gap")
    }
    status = certificate["status"]
    if status not in _FITTED_STATUSES:
        raise InvalidModelFileError(
            f"classifier.certificate.status: expected one of {list(_FITTED_STATUSES)}, "
            f"got {_quote(status)}"
        )
    decoded_certificate["status"] = status
    statistics = _decode_statistics(block["solver_statistics"])
    pool = [
        _decode_pool_row(row, n_features, f"classifier.pool[{i}]")
        for i, row in enumerate(_expect_list(block["pool"], "classifier.pool"))
    ]
    params = _decode_params(block["params"])
    return {
        "params": params,
        "n_features": n_features,
        "feature_names": names,
        "classes": classes,
        "points": points,
        "intercept": intercept,
        "scale": scale,
        "certificate": decoded_certificate,
        "solver_statistics": statistics,
        "pool": pool,
        "training": training,
    }


def _decode_training(block) -> dict:
    if block is None:
        return {"target": None, "n_samples": None}
    _check_fields(block, ("target", "n_samples"), "classifier.training.")
    target, n_samples = block["target"], block["n_samples"]
    if target is not None:
        _expect_str(target, "classifier.training.target")
    if n_samples is not None:
        n_samples = _expect_int(n_samples, "classifier.training.n_samples")
    return {"target": target, "n_samples": n_samples}


def _decode_classes(block) -> np.ndarray:
    _check_fields(block, ("dtype", "values"), "classifier.classes.")
    dtype_text = _expect_str(block["dtype"], "classifier.classes.dtype")
    values = _expect_list(block["values"], "classifier.classes.values")
    if len(values) != 2:
        raise InvalidModelFileError(
            f"classifier.classes.values: expected 2 class labels, got {len(values)}"
        )
    # Only the plain spellings numpy writes ("<i8", "|b1", "<U5", "|O"), checked
    # before numpy sees them: "<U500000000" would allocate gigabytes below.
    match = _LABEL_DTYPE.fullmatch(dtype_text)
    if match is None:
        raise InvalidModelFileError(
            f"classifier.classes.dtype: {_quote(dtype_text)} is not a label type "
            "sk-riskscore saves (integer, float, bool or string)"
        )
    if match["kind"] == "U":
        longest = max((len(v) for v in values if isinstance(v, str)), default=0)
        if int(match["size"] or 0) > max(longest, _LABEL_CHARACTERS):
            raise InvalidModelFileError(
                f"classifier.classes.dtype: {_quote(dtype_text)} is wider than the labels "
                f"{_quote(values)} need"
            )
    try:
        dtype = np.dtype(dtype_text)
    except TypeError:
        raise InvalidModelFileError(
            f"classifier.classes.dtype: {_quote(dtype_text)} is not a numpy dtype"
        ) from None
    checks = {
        "i": (lambda v: isinstance(v, int) and not isinstance(v, bool), "integers"),
        "u": (lambda v: isinstance(v, int) and not isinstance(v, bool) and v >= 0,
              "non-negative integers"),
        "f": (lambda v: isinstance(v, (int, float)) and not isinstance(v, bool), "numbers"),
        "b": (lambda v: isinstance(v, bool), "booleans"),
        "U": (lambda v: isinstance(v, str), "strings"),
        "O": (lambda v: isinstance(v, str), "strings"),
    }
    if dtype.kind not in checks:
        raise InvalidModelFileError(
            f"classifier.classes.dtype: {_quote(dtype_text)} is not a label type sk-riskscore "
            "saves (integer, float, bool or string)"
        )
    check, what = checks[dtype.kind]
    if not all(check(v) for v in values):
        raise InvalidModelFileError(
            f"classifier.classes.values: dtype {_quote(dtype_text)} needs {what}, got "
            f"{_quote(values)}"
        )
    if dtype.kind == "O":
        classes = np.empty(2, dtype=object)
        classes[:] = values
    else:
        try:
            classes = np.array(values, dtype=dtype)
        except (OverflowError, ValueError) as exc:
            raise InvalidModelFileError(
                f"classifier.classes.values: {_quote(values)} do not fit dtype "
                f"{_quote(dtype_text)} ({exc})"
            ) from None
    if not classes[0] < classes[1]:
        raise InvalidModelFileError(
            f"classifier.classes.values: expected two distinct labels in sorted order, "
            f"got {_quote(values)}"
        )
    return classes


def _decode_statistics(block) -> SolverStatistics:
    fields = {f.name: f for f in dataclasses.fields(SolverStatistics)}
    if not isinstance(block, dict):
        raise InvalidModelFileError(
            f"classifier.solver_statistics: expected a JSON object, got "
            f"{type(block).__name__}"
        )
    unknown = sorted(set(block) - set(fields))
    if unknown:
        raise InvalidModelFileError(
            f"classifier.solver_statistics: unknown fields {unknown}"
        )
    values = {}
    for name, value in block.items():
        where = f"classifier.solver_statistics.{name}"
        default = fields[name].default
        if isinstance(default, bool):
            raise InvalidModelFileError(f"{where}: unsupported boolean statistic")
        if isinstance(default, int):
            values[name] = _expect_int(value, where)
        elif isinstance(default, float):
            values[name] = _expect_float(value, where)
        else:
            values[name] = _expect_str(value, where)
    return SolverStatistics(**values)


def _decode_pool_row(row, n_features, where) -> dict:
    _check_fields(row, _POOL_FIELDS, where + ".")
    points = _expect_list(row["points"], where + ".points", n_features)
    return {
        "objective": _expect_float(row["objective"], where + ".objective"),
        "loss": _expect_float(row["loss"], where + ".loss"),
        "intercept": _expect_intercept(row["intercept"], where + ".intercept"),
        "points": [_expect_int(v, f"{where}.points[{j}]") for j, v in enumerate(points)],
    }


def _decode_params(block) -> dict:
    defaults = RiskScoreClassifier().get_params(deep=False)
    if not isinstance(block, dict):
        raise InvalidModelFileError(
            f"classifier.params: expected a JSON object, got {type(block).__name__}"
        )
    unknown = sorted(set(block) - set(defaults))
    if unknown:
        raise InvalidModelFileError(
            f"classifier.params: {unknown} are not parameters of RiskScoreClassifier in "
            "this sk-riskscore; the model was saved by a different version."
        )
    params = {}
    for name, value in block.items():
        where = f"classifier.params.{name}"
        if name == "constraints":
            params[name] = None if value is None else _decode_constraints(value, where)
        elif name == "coef_bounds":
            params[name] = None if value is None else _decode_coef_bounds(value, where)
        elif isinstance(value, (dict, list)):
            raise InvalidModelFileError(f"{where}: expected a scalar, got {_quote(value)}")
        elif isinstance(value, str) and value in _NON_FINITE and not isinstance(
            defaults[name], str
        ):
            params[name] = _NON_FINITE[value]
        else:
            params[name] = value
    clf = RiskScoreClassifier(**params)
    try:
        validate_params(clf)
    except ValueError as exc:
        raise InvalidModelFileError(f"classifier.params: {exc}") from None
    return params


def _decode_constraints(value, where):
    try:
        return constraints_from_dict(_expect_list(value, where))
    except (TypeError, ValueError) as exc:
        if isinstance(exc, InvalidModelFileError):
            raise
        raise InvalidModelFileError(f"{where}: {exc}") from None


def _decode_coef_bounds(value, where) -> dict:
    bounds = {}
    for i, item in enumerate(_expect_list(value, where)):
        if not (isinstance(item, list) and len(item) == 3):
            raise InvalidModelFileError(
                f"{where}[{i}]: expected [feature, lower, upper], got {_quote(item)}"
            )
        feature, lower, upper = item
        if not isinstance(feature, (str, int)) or isinstance(feature, bool):
            raise InvalidModelFileError(
                f"{where}[{i}]: feature must be a name or a column index, got {_quote(feature)}"
            )
        bounds[feature] = (
            _expect_int(lower, f"{where}[{i}].lower"),
            _expect_int(upper, f"{where}[{i}].upper"),
        )
    return bounds


def _build_classifier(decoded: dict) -> RiskScoreClassifier:
    clf = RiskScoreClassifier(**decoded["params"])
    n_features = decoded["n_features"]
    clf.n_features_in_ = n_features
    if decoded["feature_names"] is not None:
        clf.feature_names_in_ = np.asarray(decoded["feature_names"], dtype=object)
    clf.classes_ = decoded["classes"]
    clf.coef_ = np.asarray(decoded["points"], dtype=np.int64).reshape(1, -1)
    intercept = decoded["intercept"]
    if not clf.calibrate_scale and not isinstance(intercept, int):
        raise InvalidModelFileError(
            f"classifier.intercept: expected an integer (calibrate_scale is off), "
            f"got {_quote(intercept)}"
        )
    clf.intercept_ = np.array(
        [intercept], dtype=np.float64 if clf.calibrate_scale else np.int64
    )
    clf.scale_ = decoded["scale"]
    certificate = decoded["certificate"]
    clf.objective_ = certificate["objective"]
    clf.lower_bound_ = certificate["lower_bound"]
    clf.optimality_gap_ = certificate["optimality_gap"]
    clf.status_ = certificate["status"]
    clf.solver_statistics_ = decoded["solver_statistics"]
    clf.target_name_ = decoded["training"]["target"]
    if decoded["training"]["n_samples"] is not None:
        clf.n_samples_fit_ = decoded["training"]["n_samples"]
    labels = feature_names(decoded["feature_names"], n_features)
    rows = [
        {"objective": r["objective"], "loss": r["loss"], "intercept": r["intercept"],
         "n_features": int(np.count_nonzero(r["points"])),
         **dict(zip(labels, r["points"]))}
        for r in decoded["pool"]
    ]
    clf.pool_ = pd.DataFrame(rows)
    return clf
