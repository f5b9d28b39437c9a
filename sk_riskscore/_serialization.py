"""A risk score as plain JSON: readable, diffable, and safe to load.

A saved model is one JSON document: the points, the intercept, the class labels
with their dtype, the feature names, the scale, the solver's certificate and
statistics, the estimator's parameters and, for a
``Pipeline([RiskScoreBinarizer, RiskScoreClassifier])``, the binarizer's
thresholds. A sha256 checksum over the canonical JSON of everything else makes a
hand-edited or corrupted file fail loudly instead of predicting something else.

Loading only ever calls :func:`json.loads` and builds the estimator from checked
numbers and strings: no pickle, no imports named by the file, no code runs.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import logging
import math
import numbers
import os
from pathlib import Path

import numpy as np
import pandas as pd

from ._classifier import RiskScoreClassifier, whole_or_real
from ._constraints import constraints_from_dict, constraints_to_dict
from ._solver import SolverStatistics, SolverStatus

__all__ = [
    "SCHEMA_VERSION",
    "InvalidModelFileError",
    "load_json",
    "model_from_dict",
    "model_to_dict",
    "save_json",
]

_logger = logging.getLogger(__name__)

#: Version of the document layout; bumped on any incompatible change.
SCHEMA_VERSION = 1
FORMAT_NAME = "sk-riskscore"
_CHECKSUM_PREFIX = "sha256:"
_TOP_LEVEL = (
    "format", "schema_version", "sk_riskscore_version", "model_type",
    "classifier", "pipeline", "checksum",
)
_CLASSIFIER_FIELDS = (
    "params", "n_features", "feature_names", "classes", "points", "intercept",
    "scale", "certificate", "solver_statistics", "pool",
)
_CERTIFICATE_FIELDS = ("objective", "lower_bound", "optimality_gap", "status")
_POOL_FIELDS = ("objective", "loss", "intercept", "points")
_PIPELINE_FIELDS = ("step_names", "transform_output", "binarizer")
# Only statuses a fitted model can have: fit raises on "infeasible" / "error".
_FITTED_STATUSES = tuple(
    s.value for s in SolverStatus if s not in (SolverStatus.INFEASIBLE, SolverStatus.ERROR)
)
_TRANSFORM_OUTPUTS = ("default", "pandas", "polars")
# JSON has no NaN or infinity; these spellings (JavaScript's) stand in for them.
_NON_FINITE = {"NaN": math.nan, "Infinity": math.inf, "-Infinity": -math.inf}


class InvalidModelFileError(ValueError):
    """A saved risk score is malformed, tampered with or of an unsupported version.

    Examples
    --------
    >>> from sk_riskscore import InvalidModelFileError, model_from_dict
    >>> try:
    ...     model_from_dict({"format": "sk-riskscore", "schema_version": 99})
    ... except InvalidModelFileError as exc:
    ...     print(exc)  # doctest: +NORMALIZE_WHITESPACE
    model file has schema_version 99, newer than the 1 this sk-riskscore reads;
    upgrade sk-riskscore to load it.
    """


# --------------------------------------------------------------------------- save


def save_json(model, path) -> Path:
    """Save a fitted risk score (or binarizer + risk score pipeline) as JSON.

    Parameters
    ----------
    model : RiskScoreClassifier or Pipeline
        A fitted :class:`RiskScoreClassifier`, or a fitted
        ``Pipeline([RiskScoreBinarizer, RiskScoreClassifier])``.
    path : str or path-like
        File to write (UTF-8 JSON, replaced if it exists).

    Returns
    -------
    path : pathlib.Path
        The file written.

    See Also
    --------
    load_json : Read the file back.
    model_to_dict : The same document as a Python dict.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from sk_riskscore import RiskScoreClassifier, save_json, load_json
    >>> from sk_riskscore.datasets import load_breastcancer
    >>> X, y = load_breastcancer(return_X_y=True, as_frame=True)
    >>> clf = RiskScoreClassifier(max_features=3, max_coef=3).fit(X, y)
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     path = save_json(clf, pathlib.Path(tmp) / "model.json")
    ...     loaded = load_json(path)
    >>> bool((loaded.predict_proba(X) == clf.predict_proba(X)).all())
    True
    """
    document = model_to_dict(model)
    text = json.dumps(document, indent=2, ensure_ascii=False, allow_nan=False)
    path = Path(os.fspath(path))
    # Write then rename so a crash never leaves half a model behind.
    partial = path.with_name(path.name + ".partial")
    partial.write_text(text + "\n", encoding="utf-8")
    os.replace(partial, path)
    return path


def model_to_dict(model) -> dict:
    """The JSON-ready document of a fitted risk score, checksum included.

    Parameters
    ----------
    model : RiskScoreClassifier or Pipeline
        A fitted :class:`RiskScoreClassifier`, or a fitted
        ``Pipeline([RiskScoreBinarizer, RiskScoreClassifier])``.

    Returns
    -------
    document : dict
        Plain lists, dicts, strings, numbers, booleans and ``None`` only.

    Examples
    --------
    >>> from sk_riskscore import RiskScoreClassifier, model_to_dict
    >>> from sk_riskscore.datasets import load_breastcancer
    >>> X, y = load_breastcancer(return_X_y=True, as_frame=True)
    >>> clf = RiskScoreClassifier(max_features=3, max_coef=3).fit(X, y)
    >>> document = model_to_dict(clf)
    >>> document["schema_version"], document["model_type"]
    (1, 'RiskScoreClassifier')
    >>> document["classifier"]["points"] == clf.coef_[0].tolist()
    True
    """
    from sklearn.pipeline import Pipeline
    from sklearn.utils.validation import check_is_fitted

    from . import __version__

    if isinstance(model, Pipeline):
        binarizer, classifier, step_names = _pipeline_parts(model)
        check_is_fitted(binarizer)
        check_is_fitted(classifier)
        pipeline = {
            "step_names": step_names,
            "transform_output": _transform_output(binarizer),
            "binarizer": _binarizer_to_dict(binarizer),
        }
        model_type = "Pipeline"
    elif isinstance(model, RiskScoreClassifier):
        classifier, pipeline, model_type = model, None, "RiskScoreClassifier"
        check_is_fitted(classifier)
    else:
        raise TypeError(
            "save a fitted RiskScoreClassifier or a Pipeline of [RiskScoreBinarizer, "
            f"RiskScoreClassifier]; got {type(model).__name__}."
        )
    document = {
        "format": FORMAT_NAME,
        "schema_version": SCHEMA_VERSION,
        "sk_riskscore_version": __version__,
        "model_type": model_type,
        "classifier": _json_safe(_classifier_to_dict(classifier)),
        "pipeline": pipeline,
    }
    try:
        document["checksum"] = _checksum(document)
    except (TypeError, ValueError) as exc:
        raise ValueError(
            f"the binarizer's to_dict() holds a value JSON cannot store ({exc}); "
            "please report this with the data that caused it."
        ) from None
    return document


def _pipeline_parts(pipe):
    steps = pipe.steps
    Binarizer = _binarizer_class()
    if (
        len(steps) != 2
        or Binarizer is None
        or not isinstance(steps[0][1], Binarizer)
        or not isinstance(steps[1][1], RiskScoreClassifier)
    ):
        kinds = [type(step).__name__ for _, step in steps]
        raise TypeError(
            "only a Pipeline of exactly [RiskScoreBinarizer, RiskScoreClassifier] can be "
            f"saved as JSON; this pipeline has steps {kinds}."
        )
    return steps[0][1], steps[1][1], [str(steps[0][0]), str(steps[1][0])]


def _binarizer_class():
    try:
        from ._binarizer import RiskScoreBinarizer
    except ImportError:  # the binarizer ships separately from the classifier
        return None
    return RiskScoreBinarizer


def _transform_output(estimator):
    config = getattr(estimator, "_sklearn_output_config", {}) or {}
    value = config.get("transform")
    return value if value in _TRANSFORM_OUTPUTS else None


def _binarizer_to_dict(binarizer) -> dict:
    data = binarizer.to_dict()
    if not isinstance(data, dict):
        raise TypeError(
            f"RiskScoreBinarizer.to_dict() returned {type(data).__name__}, expected a dict"
        )
    return data


def _classifier_to_dict(clf: RiskScoreClassifier) -> dict:
    names = getattr(clf, "feature_names_in_", None)
    n_features = int(clf.n_features_in_)
    point_columns = _feature_labels(names, n_features)
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
    }


def _feature_labels(names, n_features: int) -> list[str]:
    # The same names the estimator gives its pool_ columns.
    if names is None:
        return [f"x{j}" for j in range(n_features)]
    return [str(n) for n in names]


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


def _plain_scalar(value, field):
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, np.bool_):
        return bool(value)
    if isinstance(value, numbers.Integral):
        return int(value)
    if isinstance(value, numbers.Real):
        return float(value)
    raise TypeError(
        f"{field}: cannot save a value of type {type(value).__name__} as JSON; "
        "use a number, a string, a boolean or None."
    )


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


def _json_safe(value):
    """Non-finite floats as "NaN" / "Infinity" strings; numpy scalars as Python.

    Only for the classifier block, whose fields are decoded by type on load.
    """
    if isinstance(value, dict):
        return {str(k): _json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_json_safe(v) for v in value]
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, numbers.Integral):
        return int(value)
    if isinstance(value, numbers.Real):
        value = float(value)
        if math.isnan(value):
            return "NaN"
        if math.isinf(value):
            return "Infinity" if value > 0 else "-Infinity"
        return value
    return value


def _checksum(document: dict) -> str:
    body = {k: v for k, v in document.items() if k != "checksum"}
    canonical = json.dumps(
        body, sort_keys=True, separators=(",", ":"), ensure_ascii=True, allow_nan=False
    )
    return _CHECKSUM_PREFIX + hashlib.sha256(canonical.encode("utf-8")).hexdigest()


# --------------------------------------------------------------------------- load


def load_json(path):
    """Load a risk score saved by :func:`save_json`; never executes code.

    Parameters
    ----------
    path : str or path-like
        A file written by :func:`save_json`.

    Returns
    -------
    model : RiskScoreClassifier or Pipeline
        Fitted, predicting exactly as the saved model did, without refitting.

    Raises
    ------
    InvalidModelFileError
        The file is not JSON, not a sk-riskscore model, of an unsupported
        schema version, missing a field, of the wrong type or length anywhere,
        or its content does not match its checksum.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from sk_riskscore import RiskScoreClassifier, save_json, load_json
    >>> from sk_riskscore.datasets import load_mammo
    >>> X, y = load_mammo(return_X_y=True, as_frame=True)
    >>> clf = RiskScoreClassifier(max_features=3, max_coef=3).fit(X, y)
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     path = save_json(clf, pathlib.Path(tmp) / "mammo.json")
    ...     loaded = load_json(path)
    >>> loaded.coef_.tolist() == clf.coef_.tolist(), loaded.status_ == clf.status_
    (True, True)
    """
    path = Path(os.fspath(path))
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise FileNotFoundError(f"no model file at {str(path)!r}") from None
    except UnicodeDecodeError as exc:
        raise InvalidModelFileError(
            f"{str(path)!r} is not a sk-riskscore JSON model (not UTF-8 text: {exc.reason})"
        ) from None
    try:
        document = json.loads(text, parse_constant=_reject_constant)
    except json.JSONDecodeError as exc:
        raise InvalidModelFileError(
            f"{str(path)!r} is not valid JSON ({exc.msg} at line {exc.lineno}, column "
            f"{exc.colno}); it is not a model written by sk_riskscore.save_json."
        ) from None
    except InvalidModelFileError as exc:
        raise InvalidModelFileError(f"{str(path)!r}: {exc}") from None
    return model_from_dict(document)


def _reject_constant(name):
    raise InvalidModelFileError(
        f"the file contains the bare constant {name}, which is not JSON; sk-riskscore "
        "writes non-finite numbers as strings"
    )


def model_from_dict(data):
    """Rebuild a fitted risk score from its :func:`model_to_dict` document.

    Every field is checked for presence, type and length before anything is
    built, and the content must match its sha256 checksum.

    Parameters
    ----------
    data : dict
        A document produced by :func:`model_to_dict` (or read from a file
        written by :func:`save_json`).

    Returns
    -------
    model : RiskScoreClassifier or Pipeline

    Raises
    ------
    InvalidModelFileError
        Wrong format or schema version, a missing or malformed field, or
        content that does not match the checksum; the message names the field.

    Examples
    --------
    >>> from sk_riskscore import RiskScoreClassifier, model_from_dict, model_to_dict
    >>> from sk_riskscore.datasets import load_breastcancer
    >>> X, y = load_breastcancer(return_X_y=True, as_frame=True)
    >>> clf = RiskScoreClassifier(max_features=3, max_coef=3).fit(X, y)
    >>> document = model_to_dict(clf)
    >>> bool((model_from_dict(document).decision_function(X)
    ...       == clf.decision_function(X)).all())
    True
    >>> document["classifier"]["points"][0] += 1  # tampering is refused
    >>> model_from_dict(document)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    sk_riskscore._serialization.InvalidModelFileError: model content does not match its checksum...
    """
    _check_header(data)
    _check_fields(data, _TOP_LEVEL, "")
    _expect_str(data["sk_riskscore_version"], "sk_riskscore_version")
    model_type = data["model_type"]
    if model_type not in ("RiskScoreClassifier", "Pipeline"):
        raise InvalidModelFileError(
            f"model_type: expected 'RiskScoreClassifier' or 'Pipeline', got {model_type!r}"
        )
    classifier = _check_classifier(data["classifier"])
    pipeline = data["pipeline"]
    if model_type == "Pipeline":
        _check_fields(pipeline, _PIPELINE_FIELDS, "pipeline.")
    elif pipeline is not None:
        raise InvalidModelFileError(
            "pipeline: must be null when model_type is 'RiskScoreClassifier'"
        )
    checksum = data["checksum"]
    if not isinstance(checksum, str) or not checksum.startswith(_CHECKSUM_PREFIX):
        raise InvalidModelFileError(
            f"checksum: expected a string 'sha256:<64 hex digits>', got {checksum!r}"
        )
    expected = _checksum(data)
    if checksum != expected:
        raise InvalidModelFileError(
            "model content does not match its checksum: the file was edited or corrupted "
            "after it was saved. Re-save the model from Python with sk_riskscore.save_json "
            "instead of editing the JSON by hand."
        )
    clf = _build_classifier(classifier)
    if model_type == "RiskScoreClassifier":
        return clf
    return _build_pipeline(pipeline, clf)


def _check_header(data) -> None:
    if not isinstance(data, dict):
        raise InvalidModelFileError(
            f"a model document is a JSON object, got {type(data).__name__}"
        )
    if data.get("format") != FORMAT_NAME:
        raise InvalidModelFileError(
            f"not a sk-riskscore model: field 'format' is {data.get('format')!r}, expected "
            f"{FORMAT_NAME!r}"
        )
    if "schema_version" not in data:
        raise InvalidModelFileError("missing field 'schema_version'")
    version = data["schema_version"]
    if not isinstance(version, int) or isinstance(version, bool):
        raise InvalidModelFileError(
            f"schema_version: expected an integer, got {version!r}"
        )
    if version > SCHEMA_VERSION:
        raise InvalidModelFileError(
            f"model file has schema_version {version}, newer than the {SCHEMA_VERSION} "
            "this sk-riskscore reads; upgrade sk-riskscore to load it."
        )
    if version != SCHEMA_VERSION:
        raise InvalidModelFileError(
            f"model file has schema_version {version}; this sk-riskscore reads only "
            f"schema_version {SCHEMA_VERSION}. Re-save the model with a matching version."
        )


def _check_fields(mapping, fields, prefix) -> None:
    where = prefix[:-1] or "the document"
    if not isinstance(mapping, dict):
        raise InvalidModelFileError(
            f"{where}: expected a JSON object, got {type(mapping).__name__}"
        )
    missing = [f for f in fields if f not in mapping]
    if missing:
        raise InvalidModelFileError(
            f"missing field{'s' if len(missing) > 1 else ''} "
            f"{', '.join(repr(prefix + f) for f in missing)}"
        )
    unknown = sorted(set(mapping) - set(fields))
    if unknown:
        raise InvalidModelFileError(
            f"unknown field{'s' if len(unknown) > 1 else ''} "
            f"{', '.join(repr(prefix + f) for f in unknown)} in {where}; the file was "
            "not written by this schema version of sk-riskscore"
        )


def _expect_str(value, field) -> str:
    if not isinstance(value, str):
        raise InvalidModelFileError(f"{field}: expected a string, got {value!r}")
    return value


def _expect_int(value, field) -> int:
    if not isinstance(value, int) or isinstance(value, bool):
        raise InvalidModelFileError(f"{field}: expected an integer, got {value!r}")
    return value


def _expect_intercept(value, field) -> int | float:
    if isinstance(value, float) and math.isfinite(value):
        return value
    return _expect_int(value, field)


def _expect_float(value, field) -> float:
    if isinstance(value, str) and value in _NON_FINITE:
        return _NON_FINITE[value]
    if not isinstance(value, (int, float)) or isinstance(value, bool):
        raise InvalidModelFileError(f"{field}: expected a number, got {value!r}")
    return float(value)


def _expect_list(value, field, length=None) -> list:
    if not isinstance(value, list):
        raise InvalidModelFileError(f"{field}: expected a list, got {type(value).__name__}")
    if length is not None and len(value) != length:
        raise InvalidModelFileError(
            f"{field}: expected {length} entries (one per feature), got {len(value)}"
        )
    return value


def _check_classifier(block) -> dict:
    """Type- and length-check the classifier block; return the decoded values."""
    _check_fields(block, _CLASSIFIER_FIELDS, "classifier.")
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
            f"classifier.scale: expected a positive finite number, got {scale!r}"
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
            f"got {status!r}"
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
    }


def _decode_classes(block) -> np.ndarray:
    _check_fields(block, ("dtype", "values"), "classifier.classes.")
    dtype_text = _expect_str(block["dtype"], "classifier.classes.dtype")
    try:
        dtype = np.dtype(dtype_text)
    except TypeError:
        raise InvalidModelFileError(
            f"classifier.classes.dtype: {dtype_text!r} is not a numpy dtype"
        ) from None
    values = _expect_list(block["values"], "classifier.classes.values")
    if len(values) != 2:
        raise InvalidModelFileError(
            f"classifier.classes.values: expected 2 class labels, got {len(values)}"
        )
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
            f"classifier.classes.dtype: {dtype_text!r} is not a label type sk-riskscore "
            "saves (integer, float, bool or string)"
        )
    check, what = checks[dtype.kind]
    if not all(check(v) for v in values):
        raise InvalidModelFileError(
            f"classifier.classes.values: dtype {dtype_text!r} needs {what}, got {values!r}"
        )
    if dtype.kind == "O":
        classes = np.empty(2, dtype=object)
        classes[:] = values
    else:
        try:
            classes = np.array(values, dtype=dtype)
        except (OverflowError, ValueError) as exc:
            raise InvalidModelFileError(
                f"classifier.classes.values: {values!r} do not fit dtype {dtype_text!r} "
                f"({exc})"
            ) from None
    if not classes[0] < classes[1]:
        raise InvalidModelFileError(
            f"classifier.classes.values: expected two distinct labels in sorted order, "
            f"got {values!r}"
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
            raise InvalidModelFileError(f"{where}: expected a scalar, got {value!r}")
        elif isinstance(value, str) and value in _NON_FINITE and not isinstance(
            defaults[name], str
        ):
            params[name] = _NON_FINITE[value]
        else:
            params[name] = value
    clf = RiskScoreClassifier(**params)
    try:
        clf._validate_params()
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
                f"{where}[{i}]: expected [feature, lower, upper], got {item!r}"
            )
        feature, lower, upper = item
        if not isinstance(feature, (str, int)) or isinstance(feature, bool):
            raise InvalidModelFileError(
                f"{where}[{i}]: feature must be a name or a column index, got {feature!r}"
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
            f"got {intercept!r}"
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
    labels = _feature_labels(decoded["feature_names"], n_features)
    rows = [
        {"objective": r["objective"], "loss": r["loss"], "intercept": r["intercept"],
         "n_features": int(np.count_nonzero(r["points"])),
         **dict(zip(labels, r["points"]))}
        for r in decoded["pool"]
    ]
    clf.pool_ = pd.DataFrame(rows)
    return clf


def _build_pipeline(block: dict, clf: RiskScoreClassifier):
    from sklearn.pipeline import Pipeline

    Binarizer = _binarizer_class()
    if Binarizer is None:
        raise InvalidModelFileError(
            "this file holds a RiskScoreBinarizer pipeline, but this sk-riskscore has no "
            "RiskScoreBinarizer; upgrade sk-riskscore to load it."
        )
    step_names = _expect_list(block["step_names"], "pipeline.step_names", None)
    if len(step_names) != 2 or not all(isinstance(n, str) and n for n in step_names):
        raise InvalidModelFileError(
            f"pipeline.step_names: expected two non-empty names, got {step_names!r}"
        )
    if step_names[0] == step_names[1]:
        raise InvalidModelFileError(
            f"pipeline.step_names: the two steps need different names, got {step_names!r}"
        )
    output = block["transform_output"]
    if output is not None and output not in _TRANSFORM_OUTPUTS:
        raise InvalidModelFileError(
            f"pipeline.transform_output: expected one of {list(_TRANSFORM_OUTPUTS)} or "
            f"null, got {output!r}"
        )
    if not isinstance(block["binarizer"], dict):
        raise InvalidModelFileError(
            f"pipeline.binarizer: expected a JSON object, got "
            f"{type(block['binarizer']).__name__}"
        )
    try:
        binarizer = Binarizer.from_dict(block["binarizer"])
    except (TypeError, ValueError, KeyError) as exc:
        if isinstance(exc, InvalidModelFileError):
            raise
        raise InvalidModelFileError(f"pipeline.binarizer: {exc}") from None
    if output is not None:
        binarizer.set_output(transform=output)
    produced = [str(n) for n in binarizer.get_feature_names_out()]
    expected = _feature_labels(getattr(clf, "feature_names_in_", None), clf.n_features_in_)
    if len(produced) != clf.n_features_in_ or (
        hasattr(clf, "feature_names_in_") and produced != expected
    ):
        raise InvalidModelFileError(
            f"pipeline.binarizer produces {len(produced)} features "
            f"{produced[:5]}{'...' if len(produced) > 5 else ''} but the classifier "
            f"expects {clf.n_features_in_} {expected[:5]}"
            f"{'...' if clf.n_features_in_ > 5 else ''}"
        )
    return Pipeline([(step_names[0], binarizer), (step_names[1], clf)])
