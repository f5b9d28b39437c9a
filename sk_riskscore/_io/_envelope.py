"""A risk score as plain JSON: readable, diffable, and safe to load.

A saved model is one JSON document: the points, the intercept, the class labels
with their dtype, the feature names, the scale, the solver's certificate and
statistics, the estimator's parameters and, for a
``Pipeline([RiskScoreBinarizer, RiskScoreClassifier])``, the binarizer's
thresholds. A sha256 checksum over the canonical JSON of everything else makes a
corrupted or carelessly edited file fail loudly instead of predicting something
else. The checksum detects accidents, not attacks: anyone who edits the file can
recompute it. With a signing key (a parameter or the environment variable
``SK_RISKSCORE_SIGNING_KEY``) the document also carries an HMAC-SHA256
signature, which only holders of the key can produce.

Loading only ever calls :func:`json.loads` and builds the estimator from checked
numbers and strings: no pickle, no imports named by the file, no code runs.
Files larger than 16 MiB (or ``SK_RISKSCORE_MAX_MODEL_BYTES``, or ``max_bytes``)
are refused before they are parsed, and nothing is allocated at a size the file
claims before the claim is checked against what the file holds.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import os
from pathlib import Path

import numpy as np

from .._binarizer import RiskScoreBinarizer
from .._classifier import RiskScoreClassifier
from .._model import feature_names, split_pipeline
from ._atomic import write_atomically
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
    _quote,
)

_logger = logging.getLogger(__name__)

__all__ = [
    "MAX_MODEL_BYTES",
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
_SIGNATURE_PREFIX = "hmac-sha256:"
_TOP_LEVEL = (
    "format", "schema_version", "sk_riskscore_version", "model_type",
    "classifier", "pipeline", "checksum",
)
_OPTIONAL_TOP_LEVEL = ("signature",)
#: Largest model file :func:`load_json` reads unless told otherwise (16 MiB):
#: far above any real risk score (kilobytes; a binarizer with thousands of
#: categories stays well under a megabyte), far below what parsing can afford.
MAX_MODEL_BYTES = 16 * 1024 * 1024
SIGNING_KEY_ENV = "SK_RISKSCORE_SIGNING_KEY"
MAX_MODEL_BYTES_ENV = "SK_RISKSCORE_MAX_MODEL_BYTES"
# Integers in a model are points, counts and seeds; more digits than uint64's
# twenty is a hostile file, refused before int() spends quadratic time on it.
_MAX_INTEGER_DIGITS = 20
_PIPELINE_FIELDS = ("step_names", "transform_output", "binarizer")
_TRANSFORM_OUTPUTS = ("default", "pandas", "polars")


# --------------------------------------------------------------------------- save


def save_json(model, path, *, signing_key=None) -> Path:
    """Save a fitted risk score (or binarizer + risk score pipeline) as JSON.

    The file is written to a temporary file beside ``path`` and renamed, so
    ``path`` holds either its old content or the whole new model, never half.

    Parameters
    ----------
    model : RiskScoreClassifier or Pipeline
        A fitted :class:`RiskScoreClassifier`, or a fitted
        ``Pipeline([RiskScoreBinarizer, RiskScoreClassifier])``.
    path : str or path-like
        File to write (UTF-8 JSON, replaced if it exists).
    signing_key : str or bytes, default=None
        Secret key to sign the model with (HMAC-SHA256); readers then need the
        same key. When None, the environment variable
        ``SK_RISKSCORE_SIGNING_KEY`` is used if set; otherwise the file carries
        only its sha256 checksum, which detects accidents but not tampering.

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
    key = _signing_key(signing_key)
    if key is not None:
        document["signature"] = _signature(document, key)
    text = json.dumps(document, indent=2, ensure_ascii=False, allow_nan=False)
    return write_atomically(path, (text + "\n").encode("utf-8"))


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


def _canonical(document: dict) -> bytes:
    """Everything but the checksum and the signature, in one spelling."""
    body = {k: v for k, v in document.items() if k not in ("checksum", "signature")}
    return json.dumps(
        body, sort_keys=True, separators=(",", ":"), ensure_ascii=True, allow_nan=False
    ).encode("utf-8")


def _checksum(document: dict) -> str:
    return _CHECKSUM_PREFIX + hashlib.sha256(_canonical(document)).hexdigest()


def _signature(document: dict, key: bytes) -> str:
    return _SIGNATURE_PREFIX + hmac.new(key, _canonical(document), "sha256").hexdigest()


def _signing_key(key) -> bytes | None:
    """The key given, else the environment's, as bytes; None when neither is set."""
    if key is None:
        key = os.environ.get(SIGNING_KEY_ENV) or None
        if key is None:
            return None
    if isinstance(key, str):
        key = key.encode("utf-8")
    if not isinstance(key, bytes):
        raise TypeError(
            f"signing_key must be a str or bytes, got {type(key).__name__}"
        )
    if not key:
        raise ValueError("signing_key is empty; give a secret of at least 16 bytes")
    return key


# --------------------------------------------------------------------------- load


def load_json(path, *, signing_key=None, max_bytes=None):
    """Load a risk score saved by :func:`save_json`; never executes code.

    Parameters
    ----------
    path : str or path-like
        A file written by :func:`save_json`.
    signing_key : str or bytes, default=None
        The key the file was signed with. When given (or when the environment
        variable ``SK_RISKSCORE_SIGNING_KEY`` is set), the file must carry a
        valid HMAC-SHA256 signature made with it: unsigned files are refused.
    max_bytes : int, default=None
        Largest file to read. None means ``SK_RISKSCORE_MAX_MODEL_BYTES`` if set,
        else 16 MiB.

    Returns
    -------
    model : RiskScoreClassifier or Pipeline
        Fitted, predicting exactly as the saved model did, without refitting.

    Raises
    ------
    InvalidModelFileError
        The file is larger than ``max_bytes``, not JSON, has duplicate keys,
        is not a sk-riskscore model, is of an unsupported schema version, has a
        missing, unknown or malformed field anywhere, its content does not
        match its checksum, or its signature is missing or wrong while a key is
        given.

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
    limit = _max_bytes(max_bytes)
    try:
        with open(path, "rb") as stream:
            raw = stream.read(limit + 1)
    except FileNotFoundError:
        raise FileNotFoundError(f"no model file at {str(path)!r}") from None
    if len(raw) > limit:
        raise InvalidModelFileError(
            f"{str(path)!r} is larger than {limit} bytes, the limit for model files; a "
            "risk score takes kilobytes. If this file is trusted, raise the limit with "
            f"load_json(..., max_bytes=N) or the environment variable {MAX_MODEL_BYTES_ENV}."
        )
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InvalidModelFileError(
            f"{str(path)!r} is not a sk-riskscore JSON model (not UTF-8 text: {exc.reason})"
        ) from None
    try:
        document = json.loads(
            text, parse_constant=_reject_constant, parse_int=_parse_int,
            object_pairs_hook=_refuse_duplicate_keys,
        )
    except json.JSONDecodeError as exc:
        raise InvalidModelFileError(
            f"{str(path)!r} is not valid JSON ({exc.msg} at line {exc.lineno}, column "
            f"{exc.colno}); it is not a model written by sk_riskscore.save_json."
        ) from None
    except RecursionError:
        raise InvalidModelFileError(
            f"{str(path)!r}: JSON nested too deeply; a model file nests a few levels only"
        ) from None
    except InvalidModelFileError as exc:
        raise InvalidModelFileError(f"{str(path)!r}: {exc}") from None
    return model_from_dict(document, signing_key=signing_key)


def _max_bytes(max_bytes) -> int:
    if max_bytes is None:
        text = os.environ.get(MAX_MODEL_BYTES_ENV)
        if not text:
            return MAX_MODEL_BYTES
        try:
            max_bytes = int(text)
        except ValueError:
            raise ValueError(
                f"{MAX_MODEL_BYTES_ENV} must be a number of bytes, got {_quote(text)}"
            ) from None
    if not isinstance(max_bytes, int) or isinstance(max_bytes, bool) or max_bytes < 1:
        raise ValueError(f"max_bytes must be a positive integer, got {max_bytes!r}")
    return max_bytes


def _reject_constant(name):
    raise InvalidModelFileError(
        f"the file contains the bare constant {name}, which is not JSON; sk-riskscore "
        "writes non-finite numbers as strings"
    )


def _parse_int(text: str) -> int:
    if len(text.lstrip("-")) > _MAX_INTEGER_DIGITS:
        raise InvalidModelFileError(
            f"the file holds an integer of {len(text.lstrip('-'))} digits "
            f"({_quote(text)}); no number in a model has more than {_MAX_INTEGER_DIGITS}"
        )
    return int(text)


def _refuse_duplicate_keys(pairs) -> dict:
    document = dict(pairs)
    if len(document) != len(pairs):
        seen, repeated = set(), []
        for key, _ in pairs:
            if key in seen:
                repeated.append(key)
            seen.add(key)
        # Parsers disagree on which copy wins: two readers would see two models.
        raise InvalidModelFileError(
            f"the key {_quote(repeated[0])} appears more than once in one JSON object; "
            "different JSON readers would read different models from this file"
        )
    return document


def model_from_dict(data, *, signing_key=None):
    """Rebuild a fitted risk score from its :func:`model_to_dict` document.

    Every field is checked for presence, type and length before anything is
    built, and the content must match its sha256 checksum.

    Parameters
    ----------
    data : dict
        A document produced by :func:`model_to_dict` (or read from a file
        written by :func:`save_json`).
    signing_key : str or bytes, default=None
        As in :func:`load_json`: when given (or set in
        ``SK_RISKSCORE_SIGNING_KEY``), a valid signature made with it is required.

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
    key = _signing_key(signing_key)
    try:
        return _model_from_checked_dict(data, key)
    except InvalidModelFileError:
        raise
    except (
        TypeError, ValueError, KeyError, AttributeError, IndexError, OverflowError,
        RecursionError,
    ) as exc:
        # A field check this module lacks: still a refusal of the file, not a crash.
        raise InvalidModelFileError(
            f"the model document is malformed ({type(exc).__name__}: {_quote(str(exc))})"
        ) from None


def _model_from_checked_dict(data, key: bytes | None):
    _check_header(data)
    present = {name: data[name] for name in _OPTIONAL_TOP_LEVEL if name in data}
    _check_fields(
        {k: v for k, v in data.items() if k not in present}, _TOP_LEVEL, ""
    )
    _expect_str(data["sk_riskscore_version"], "sk_riskscore_version")
    model_type = data["model_type"]
    if model_type not in ("RiskScoreClassifier", "Pipeline"):
        raise InvalidModelFileError(
            "model_type: expected 'RiskScoreClassifier' or 'Pipeline', got "
            f"{_quote(model_type)}"
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
            f"checksum: expected a string 'sha256:<64 hex digits>', got {_quote(checksum)}"
        )
    expected = _checksum(data)
    if checksum != expected:
        raise InvalidModelFileError(
            "model content does not match its checksum: the file was edited or corrupted "
            "after it was saved. Re-save the model from Python with sk_riskscore.save_json "
            "instead of editing the JSON by hand."
        )
    _verify_signature(data, present.get("signature"), key)
    clf = _build_classifier(classifier)
    if model_type == "RiskScoreClassifier":
        return clf
    return _build_pipeline(pipeline, clf)


def _verify_signature(data: dict, signature, key: bytes | None) -> None:
    if signature is not None and not (
        isinstance(signature, str) and signature.startswith(_SIGNATURE_PREFIX)
    ):
        raise InvalidModelFileError(
            f"signature: expected a string 'hmac-sha256:<64 hex digits>', got "
            f"{_quote(signature)}"
        )
    if key is None:
        if signature is not None:
            _logger.info(
                "the model file is signed but no signing key was given: the signature "
                "is not checked (set %s to require it)", SIGNING_KEY_ENV,
            )
        return
    if signature is None:
        raise InvalidModelFileError(
            "the model file is not signed, but a signing key was given: only models "
            "saved with that key (save_json(..., signing_key=...)) are accepted"
        )
    if not hmac.compare_digest(signature.encode("ascii", "replace"),
                               _signature(data, key).encode("ascii")):
        raise InvalidModelFileError(
            "the model's signature does not match the signing key: the file was "
            "changed after it was signed, or signed with a different key"
        )


def _check_header(data) -> None:
    if not isinstance(data, dict):
        raise InvalidModelFileError(
            f"a model document is a JSON object, got {type(data).__name__}"
        )
    if data.get("format") != FORMAT_NAME:
        raise InvalidModelFileError(
            f"not a sk-riskscore model: field 'format' is {_quote(data.get('format'))}, "
            "expected "
            f"{FORMAT_NAME!r}"
        )
    if "schema_version" not in data:
        raise InvalidModelFileError("missing field 'schema_version'")
    version = data["schema_version"]
    if not isinstance(version, int) or isinstance(version, bool):
        raise InvalidModelFileError(
            f"schema_version: expected an integer, got {_quote(version)}"
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
            f"pipeline.step_names: expected two non-empty names, got {_quote(step_names)}"
        )
    if step_names[0] == step_names[1]:
        raise InvalidModelFileError(
            f"pipeline.step_names: the two steps need different names, got {_quote(step_names)}"
        )
    output = block["transform_output"]
    if output is not None and output not in _TRANSFORM_OUTPUTS:
        raise InvalidModelFileError(
            f"pipeline.transform_output: expected one of {list(_TRANSFORM_OUTPUTS)} or "
            f"null, got {_quote(output)}"
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
