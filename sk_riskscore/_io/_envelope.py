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

import hashlib
import json
import os
from pathlib import Path

import numpy as np

from .._binarizer import RiskScoreBinarizer
from .._classifier import RiskScoreClassifier
from .._model import feature_names, split_pipeline
from ._classifier import (
    _build_classifier,
    _check_classifier,
    _classifier_to_dict,
)
from ._fields import (
    InvalidModelFileError,
    _check_fields,
    _expect_list,
    _expect_str,
    _json_safe,
)

__all__ = [
    "SCHEMA_VERSION",
    "InvalidModelFileError",
    "load_json",
    "model_from_dict",
    "model_to_dict",
    "save_json",
]

#: Version of the document layout; bumped on any incompatible change.
SCHEMA_VERSION = 1
FORMAT_NAME = "sk-riskscore"
_CHECKSUM_PREFIX = "sha256:"
_TOP_LEVEL = (
    "format", "schema_version", "sk_riskscore_version", "model_type",
    "classifier", "pipeline", "checksum",
)
_PIPELINE_FIELDS = ("step_names", "transform_output", "binarizer")
_TRANSFORM_OUTPUTS = ("default", "pandas", "polars")


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

    from .. import __version__

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
    preprocess, classifier = split_pipeline(pipe)
    if (
        len(steps) != 2
        or not isinstance(preprocess[0], RiskScoreBinarizer)
        or not isinstance(classifier, RiskScoreClassifier)
    ):
        kinds = [type(step).__name__ for _, step in steps]
        raise TypeError(
            "only a Pipeline of exactly [RiskScoreBinarizer, RiskScoreClassifier] can be "
            f"saved as JSON; this pipeline has steps {kinds}."
        )
    return preprocess[0], classifier, [str(steps[0][0]), str(steps[1][0])]


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
    sk_riskscore._io._fields.InvalidModelFileError: model content does not match its checksum...
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


def _build_pipeline(block: dict, clf: RiskScoreClassifier):
    from sklearn.pipeline import Pipeline

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
        binarizer = RiskScoreBinarizer.from_dict(block["binarizer"])
    except (TypeError, ValueError, KeyError) as exc:
        if isinstance(exc, InvalidModelFileError):
            raise
        raise InvalidModelFileError(f"pipeline.binarizer: {exc}") from None
    if output is not None:
        binarizer.set_output(transform=output)
    produced = [str(n) for n in binarizer.get_feature_names_out()]
    expected = feature_names(getattr(clf, "feature_names_in_", None), clf.n_features_in_)
    if len(produced) != clf.n_features_in_ or (
        hasattr(clf, "feature_names_in_") and produced != expected
    ):
        raise InvalidModelFileError(
            f"pipeline.binarizer produces {len(produced)} features "
            f"{produced[:5]}{'...' if len(produced) > 5 else ''} but the classifier "
            f"expects {clf.n_features_in_} {expected[:5]}"
            f"{'...' if clf.n_features_in_ > 5 else ''}"
        )
    if not hasattr(clf, "feature_names_in_"):
        # Files from before the binarizer output a DataFrame by default: the
        # classifier was fitted on an array and would now warn about names.
        clf.feature_names_in_ = np.asarray(produced, dtype=object)
    return Pipeline([(step_names[0], binarizer), (step_names[1], clf)])
