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

__all__ = ["binarizer_from_dict", "binarizer_to_dict", "json_params"]

_DICT_FORMAT = "sk_riskscore.RiskScoreBinarizer"
_DICT_VERSION = 1


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

    params = data.get("params")
    if params is not None and "missing" not in params:
        # Written before missing values had rules: such a binarizer refused them.
        params = {**params, "missing": "error"}
    binarizer = cls(**dict(params or {}))
    validate_params(binarizer)
    names_in = data.get("feature_names_in")
    n_features = int(data["n_features_in"])
    if names_in is not None:
        if len(names_in) != n_features:
            raise ValueError(
                f"feature_names_in has {len(names_in)} names but n_features_in is "
                f"{n_features}"
            )
        binarizer.feature_names_in_ = np.asarray(
            [str(n) for n in names_in], dtype=object
        )
    binarizer.n_features_in_ = n_features
    names = feature_names(names_in, n_features)

    column_types = dict(data["column_types"])
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
        str(column): tuple(values)
        for column, values in (data.get("categories") or {}).items()
    }
    rules = []
    for position, item in enumerate(data["rules"]):
        try:
            rule = BinaryRule(
                item["column"],
                item["operator"],
                item["threshold"],
                item["name"],
                tuple(item.get("excluded") or ()),
            )
        except (KeyError, TypeError) as exc:
            raise ValueError(
                f"rule #{position + 1} must have column, operator, threshold and name "
                f"(and optionally excluded, a list of numbers): {item!r} ({exc})"
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
    groups = [list(group) for group in data.get("feature_groups") or ()]
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
