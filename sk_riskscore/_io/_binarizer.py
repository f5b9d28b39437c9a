"""The binarizer's block of a model file: its parameters, column types and rules.

:meth:`RiskScoreBinarizer.to_dict` and :meth:`~RiskScoreBinarizer.from_dict`
call these functions; :func:`~sk_riskscore.spark.binarize_on_spark` builds its
fitted binarizer through them too. The estimator class is passed in, so this
module imports no estimator.
"""

from __future__ import annotations

import numpy as np

from .._binning import (
    CATEGORICAL,
    COLUMN_TYPES,
    CONSTANT,
    BinaryRule,
    check_unique_names,
    json_value,
)
from .._compat import validate_params
from .._model import feature_names
from ._fields import _quote

__all__ = ["binarizer_from_dict", "binarizer_to_dict", "json_params"]

_DICT_FORMAT = "sk_riskscore.RiskScoreBinarizer"
_DICT_VERSION = 1
_KEYS = (
    "format", "version", "params", "feature_names_in", "n_features_in", "column_types",
    "categories", "rules", "feature_groups",
)
_RULE_KEYS = ("column", "operator", "threshold", "name")
# Written only when a threshold rule must give 0 on special values.
_OPTIONAL_RULE_KEYS = ("excluded",)


def binarizer_to_dict(binarizer) -> dict:
    """A fitted RiskScoreBinarizer as a plain JSON-compatible dict."""
    names_in = getattr(binarizer, "feature_names_in_", None)
    return {
        "format": _DICT_FORMAT,
        "version": _DICT_VERSION,
        "params": json_params(binarizer.get_params()),
        "feature_names_in": None
        if names_in is None
        else [str(n) for n in names_in],
        "n_features_in": int(binarizer.n_features_in_),
        "column_types": dict(binarizer.column_types_),
        "categories": {
            column: [json_value(c, column) for c in values]
            for column, values in binarizer.categories_.items()
        },
        "rules": [rule.to_dict() for rule in binarizer.rules_],
        "feature_groups": [list(g) for g in binarizer.feature_groups_],
    }


def json_params(params: dict) -> dict:
    out = dict(params)
    if out.get("categorical_features") is not None:
        out["categorical_features"] = [str(c) for c in out["categorical_features"]]
    special = out.get("special_values")
    if isinstance(special, dict):
        out["special_values"] = {str(c): [float(v) for v in vs] for c, vs in special.items()}
    elif special is not None:
        out["special_values"] = [float(v) for v in special]
    return out


def binarizer_from_dict(cls, data):
    """A fitted ``cls`` (RiskScoreBinarizer) from :func:`binarizer_to_dict` output."""
    if not isinstance(data, dict):
        raise TypeError(
            f"RiskScoreBinarizer.from_dict needs a dict from to_dict(), got "
            f"{type(data).__name__}"
        )
    if data.get("format", _DICT_FORMAT) != _DICT_FORMAT:
        raise ValueError(
            f"Not a RiskScoreBinarizer description: format is {data.get('format')!r}, "
            f"expected {_DICT_FORMAT!r}"
        )
    version = data.get("version", _DICT_VERSION)
    if version != _DICT_VERSION:
        raise ValueError(
            f"RiskScoreBinarizer description version {version!r} is not supported "
            f"(this sk-riskscore reads version {_DICT_VERSION}); upgrade sk-riskscore."
        )
    missing = [
        key for key in ("n_features_in", "column_types", "rules") if key not in data
    ]
    if missing:
        raise ValueError(f"RiskScoreBinarizer description lacks the keys {missing}")
    unknown = sorted(set(data) - set(_KEYS))
    if unknown:
        raise ValueError(
            f"RiskScoreBinarizer description has unknown keys {_quote(unknown)}; it was "
            "not written by this version of sk-riskscore"
        )
    params = _expect(data.get("params") or {}, dict, "params")
    if params and "missing" not in params:
        # Written before missing values had rules: such a binarizer refused them.
        params = {**params, "missing": "error"}
    names_in = data.get("feature_names_in")
    n_features = data["n_features_in"]
    if not isinstance(n_features, int) or isinstance(n_features, bool) or n_features < 1:
        raise ValueError(
            f"n_features_in must be a positive integer, got {_quote(n_features)}"
        )
    column_types = _expect(data["column_types"], dict, "column_types")
    # Every input column has a type (to_dict writes them all): the claimed
    # count is checked against what the file holds before anything is sized by it.
    if n_features != len(column_types):
        raise ValueError(
            f"n_features_in is {n_features} but column_types describes "
            f"{len(column_types)} columns; it must describe every input column"
        )
    binarizer = cls(**params)
    validate_params(binarizer)
    if names_in is not None:
        names_in = _expect(names_in, list, "feature_names_in")
        if len(names_in) != n_features:
            raise ValueError(
                f"feature_names_in has {len(names_in)} names but n_features_in is "
                f"{n_features}"
            )
        if not all(isinstance(n, str) for n in names_in):
            raise ValueError("feature_names_in must hold strings only")
        binarizer.feature_names_in_ = np.asarray(list(names_in), dtype=object)
    binarizer.n_features_in_ = n_features
    names = feature_names(names_in, n_features)

    for column, kind in column_types.items():
        if column not in names:
            raise ValueError(
                f"column_types names {column!r}, which is not an input column"
            )
        if kind not in COLUMN_TYPES:
            raise ValueError(
                f"column_types[{column!r}] is {kind!r}; use one of "
                f"{list(COLUMN_TYPES)}"
            )
    categories = {
        str(column): tuple(_expect(values, list, f"categories[{column!r}]"))
        for column, values in _expect(data.get("categories") or {}, dict,
                                      "categories").items()
    }
    rules = []
    for position, item in enumerate(_expect(data["rules"], list, "rules")):
        if not isinstance(item, dict) or not (
            set(_RULE_KEYS) <= set(item) <= set(_RULE_KEYS) | set(_OPTIONAL_RULE_KEYS)
        ):
            raise ValueError(
                f"rule #{position + 1} must be an object with the keys {list(_RULE_KEYS)} "
                f"and optionally {list(_OPTIONAL_RULE_KEYS)}, got {_quote(item)}"
            )
        excluded = _expect(item.get("excluded", []), list, f"rule #{position + 1} excluded")
        if not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in excluded):
            raise ValueError(
                f"rule #{position + 1}: excluded must be a list of numbers, got "
                f"{_quote(excluded)}"
            )
        try:
            rule = BinaryRule(
                item["column"],
                item["operator"],
                item["threshold"],
                item["name"],
                tuple(excluded),
            )
        except (KeyError, TypeError) as exc:
            raise ValueError(
                f"rule #{position + 1} must have column, operator, threshold and name: "
                f"{_quote(item)} ({exc})"
            ) from None
        kind = column_types.get(rule.column)
        if kind is None:
            raise ValueError(
                f"rule {rule.name!r} reads column {rule.column!r}, which column_types "
                f"does not describe; input columns are {names}"
            )
        if rule.operator == "is":
            if rule.threshold is not None and kind == CATEGORICAL:
                raise ValueError(
                    f"rule {rule.name!r} tests the special value {rule.threshold!r} of "
                    f"a categorical column; use '==' for a category"
                )
        elif (rule.operator == "==") != (kind == CATEGORICAL):
            raise ValueError(
                f"rule {rule.name!r} uses {rule.operator!r} on a {kind} column; "
                "use '==' "
                "on categorical columns and '>=' or '<' on numeric and binary ones"
            )
        if rule.operator == "==" and kind == CATEGORICAL and rule.column in categories:
            if rule.threshold not in categories[rule.column]:
                raise ValueError(
                    f"rule {rule.name!r} tests the category {rule.threshold!r}, "
                    "which is "
                    f"not among categories[{rule.column!r}]"
                )
        rules.append(rule)
    check_unique_names(rules)
    known_names = {rule.name for rule in rules}
    groups = [
        _expect(group, list, "feature_groups[]")
        for group in _expect(data.get("feature_groups") or [], list, "feature_groups")
    ]
    for group in groups:
        unknown = [name for name in group if name not in known_names]
        if unknown:
            raise ValueError(f"feature_groups names unknown features {unknown}")
    binarizer.rules_ = tuple(rules)
    binarizer.feature_groups_ = groups
    binarizer.column_types_ = {
        name: column_types.get(name, CONSTANT) for name in names
    }
    binarizer.categories_ = categories
    return binarizer


def _expect(value, kind, key):
    if not isinstance(value, kind):
        raise TypeError(
            f"RiskScoreBinarizer description: {key} must be a {kind.__name__}, got "
            f"{type(value).__name__}"
        )
    return value

