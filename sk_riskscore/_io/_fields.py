"""Field checks shared by the model-file codecs: every error names the field."""

from __future__ import annotations

import math
import numbers

import numpy as np

__all__ = ["InvalidModelFileError"]

# JSON has no NaN or infinity; these spellings (JavaScript's) stand in for them.
_NON_FINITE = {"NaN": math.nan, "Infinity": math.inf, "-Infinity": -math.inf}
# Integers past 2**53 lose exactness in float64 arithmetic and past 2**63 do not
# fit int64: no point, intercept or count of a risk score comes near.
_LARGEST_INTEGER = 2**53
# Error messages quote at most this much of the file.
_QUOTE_LIMIT = 200


def _quote(value) -> str:
    """``repr(value)``, cut to about 200 characters: a hostile file makes short errors."""
    try:
        text = repr(value)
    except RecursionError:
        return f"<a {type(value).__name__} nested too deeply to show>"
    if len(text) <= _QUOTE_LIMIT:
        return text
    return f"{text[:_QUOTE_LIMIT]}... ({len(text) - _QUOTE_LIMIT} more characters)"


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
        raise InvalidModelFileError(f"{field}: expected a string, got {_quote(value)}")
    return value


def _expect_int(value, field) -> int:
    if not isinstance(value, int) or isinstance(value, bool):
        raise InvalidModelFileError(f"{field}: expected an integer, got {_quote(value)}")
    if abs(value) > _LARGEST_INTEGER:
        raise InvalidModelFileError(
            f"{field}: {_quote(value)} is out of range; integers in a model file lie "
            f"between -2**53 and 2**53"
        )
    return value


def _expect_intercept(value, field) -> int | float:
    if isinstance(value, float) and math.isfinite(value):
        return value
    return _expect_int(value, field)


def _expect_float(value, field) -> float:
    if isinstance(value, str) and value in _NON_FINITE:
        return _NON_FINITE[value]
    if not isinstance(value, (int, float)) or isinstance(value, bool):
        raise InvalidModelFileError(f"{field}: expected a number, got {_quote(value)}")
    return float(value)


def _expect_list(value, field, length=None) -> list:
    if not isinstance(value, list):
        raise InvalidModelFileError(f"{field}: expected a list, got {type(value).__name__}")
    if length is not None and len(value) != length:
        raise InvalidModelFileError(
            f"{field}: expected {length} entries (one per feature), got {len(value)}"
        )
    return value


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
