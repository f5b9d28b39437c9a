"""Operational constraints, declared by feature name, compiled to linear rows.

Each constraint is a small immutable object; :func:`compile_constraints` turns a
list of them into point bounds plus rows ``lower <= a . points + c . used <=
upper`` that the solver and every heuristic obey. Contradictions are found
before solving and reported by name.

Behind a :class:`RiskScoreBinarizer` a constraint may also name a raw
variable ("Age"): it then stands for every rule the binarizer made of that
column ("Age >= 45", "Age < 30", ...). :class:`MustNotUse` excludes them all,
:class:`MustUse` needs at least one, the counting constraints count them, and
:class:`Monotonic` bounds the steps of the card's points along the variable.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

import numpy as np

from ._solver import ConstraintRow

__all__ = [
    "AtLeast",
    "AtMost",
    "Exactly",
    "Implies",
    "LinearConstraint",
    "Monotonic",
    "MustNotUse",
    "MustUse",
    "compile_constraints",
    "constraints_from_dict",
    "constraints_to_dict",
]


def _as_features(features) -> tuple:
    if isinstance(features, (str, int, np.integer)):
        return (features,)
    if isinstance(features, Iterable):
        out = tuple(features)
        if not out:
            raise ValueError("a constraint needs at least one feature")
        return out
    raise TypeError(f"features must be a name, an index or a list of them, got {features!r}")


class _Constraint:
    """Base: every constraint knows its features and compiles to rows."""

    kind: str = ""

    def feature_names(self) -> tuple:
        return self.features

    def rows(self, columns_of: Mapping, d: int, rules) -> list[ConstraintRow]:
        """Linear rows over ``d`` features.

        ``columns_of`` maps each name of :meth:`feature_names` to its columns:
        one for a feature, every rule of a raw variable for a variable.
        ``rules[j]`` is the binarizer rule of column ``j`` (None when unknown).
        """
        raise NotImplementedError

    def to_dict(self) -> dict:
        raise NotImplementedError


def _count_row(columns_of, d, features, lower, upper, name) -> ConstraintRow:
    used = np.zeros(d)
    for f in features:
        used[list(columns_of[f])] = 1.0  # a rule named twice counts once
    return ConstraintRow(np.zeros(d), used, float(lower), float(upper), name)


@dataclass(frozen=True, init=False)
class MustUse(_Constraint):
    """Every listed feature gets non-zero points.

    A raw variable behind a :class:`RiskScoreBinarizer` (``MustUse("Age")``)
    needs at least one of its rules.

    Examples
    --------
    >>> from sk_riskscore import MustUse
    >>> MustUse(["Age >= 60"])
    MustUse(features=('Age >= 60',))
    """

    features: tuple
    kind = "must_use"

    def __init__(self, features):
        object.__setattr__(self, "features", _as_features(features))

    def rows(self, columns_of, d, rules):
        return [_count_row(columns_of, d, [f], 1, math.inf, f"MustUse({f!r})")
                for f in self.features]

    def to_dict(self):
        return {"kind": self.kind, "features": list(self.features)}


@dataclass(frozen=True, init=False)
class MustNotUse(_Constraint):
    """Every listed feature gets zero points.

    A raw variable behind a :class:`RiskScoreBinarizer` (``MustNotUse("Race")``)
    excludes every one of its rules.

    Examples
    --------
    >>> from sk_riskscore import MustNotUse
    >>> MustNotUse("Race")
    MustNotUse(features=('Race',))
    """

    features: tuple
    kind = "must_not_use"

    def __init__(self, features):
        object.__setattr__(self, "features", _as_features(features))

    def rows(self, columns_of, d, rules):
        return []  # compiled into point bounds (0, 0)

    def to_dict(self):
        return {"kind": self.kind, "features": list(self.features)}


@dataclass(frozen=True, init=False)
class _CountConstraint(_Constraint):
    k: int
    features: tuple

    def __init__(self, k, features):
        if not isinstance(k, (int, np.integer)) or isinstance(k, bool) or k < 0:
            raise ValueError(f"{type(self).__name__}: k must be a non-negative integer, got {k!r}")
        object.__setattr__(self, "k", int(k))
        object.__setattr__(self, "features", _as_features(features))

    def to_dict(self):
        return {"kind": self.kind, "k": self.k, "features": list(self.features)}

    def _name(self):
        return f"{type(self).__name__}({self.k}, {list(self.features)!r})"


class AtMost(_CountConstraint):
    """At most ``k`` of the listed features get non-zero points.

    A raw variable counts each of its rules: ``AtMost(1, ["Age"])`` allows one
    Age rule on the card.

    Examples
    --------
    >>> from sk_riskscore import AtMost
    >>> AtMost(1, ["Age >= 30", "Age >= 45", "Age >= 60"])
    AtMost(k=1, features=('Age >= 30', 'Age >= 45', 'Age >= 60'))
    """

    kind = "at_most"

    def rows(self, columns_of, d, rules):
        return [_count_row(columns_of, d, self.features, -math.inf, self.k, self._name())]


class AtLeast(_CountConstraint):
    """At least ``k`` of the listed features get non-zero points.

    Examples
    --------
    >>> from sk_riskscore import AtLeast
    >>> AtLeast(1, ["Density", "Age_geq_60"])
    AtLeast(k=1, features=('Density', 'Age_geq_60'))
    """

    kind = "at_least"

    def rows(self, columns_of, d, rules):
        return [_count_row(columns_of, d, self.features, self.k, math.inf, self._name())]


class Exactly(_CountConstraint):
    """Exactly ``k`` of the listed features get non-zero points.

    Examples
    --------
    >>> from sk_riskscore import Exactly
    >>> Exactly(1, ["Age_geq_45", "Age_geq_60"])
    Exactly(k=1, features=('Age_geq_45', 'Age_geq_60'))
    """

    kind = "exactly"

    def rows(self, columns_of, d, rules):
        return [_count_row(columns_of, d, self.features, self.k, self.k, self._name())]


@dataclass(frozen=True, init=False)
class Implies(_Constraint):
    """If ``if_used`` gets points, every feature of ``then_used`` gets points too.

    With raw variables: if any rule of ``if_used`` gets points, each variable
    of ``then_used`` has a rule with points.

    Examples
    --------
    >>> from sk_riskscore import Implies
    >>> Implies("Age >= 60", "Age >= 45")
    Implies(if_used='Age >= 60', then_used=('Age >= 45',))
    """

    if_used: object
    then_used: tuple
    kind = "implies"

    def __init__(self, if_used, then_used):
        (single,) = _as_features(if_used) if isinstance(if_used, (str, int)) else (None,)
        if single is None:
            raise TypeError(f"Implies: if_used must be one feature, got {if_used!r}")
        object.__setattr__(self, "if_used", single)
        object.__setattr__(self, "then_used", _as_features(then_used))

    def feature_names(self):
        return (self.if_used, *self.then_used)

    def rows(self, columns_of, d, rules):
        out = []
        for source in columns_of[self.if_used]:
            for target in self.then_used:
                used = np.zeros(d)
                used[source] += 1.0
                used[list(columns_of[target])] -= 1.0
                out.append(ConstraintRow(np.zeros(d), used, -math.inf, 0.0,
                                         f"Implies({self.if_used!r}, {target!r})"))
        return out

    def to_dict(self):
        return {"kind": self.kind, "if_used": self.if_used, "then_used": list(self.then_used)}


@dataclass(frozen=True, init=False)
class LinearConstraint(_Constraint):
    """``lower <= sum points[f] * a_f + sum used[f] * c_f <= upper``.

    ``points`` maps features to coefficients on their points, ``used`` to
    coefficients on their 0/1 used-indicators.

    Examples
    --------
    Age may not outweigh the two margin features together:

    >>> from sk_riskscore import LinearConstraint
    >>> rule = LinearConstraint(points={"Age": 1, "Margin1": -1, "Margin2": -1}, upper=0)
    >>> rule.points, rule.upper
    ((('Age', 1.0), ('Margin1', -1.0), ('Margin2', -1.0)), 0.0)
    """

    points: tuple = field(default=())
    used: tuple = field(default=())
    lower: float = -math.inf
    upper: float = math.inf
    kind = "linear"

    def __init__(self, points=None, used=None, lower=-math.inf, upper=math.inf):
        points = tuple((f, float(a)) for f, a in dict(points or {}).items())
        used = tuple((f, float(a)) for f, a in dict(used or {}).items())
        if not points and not used:
            raise ValueError("LinearConstraint needs coefficients in points= or used=")
        lower = -math.inf if lower is None else float(lower)
        upper = math.inf if upper is None else float(upper)
        if lower > upper:
            raise ValueError(f"LinearConstraint: lower={lower} exceeds upper={upper}")
        if math.isinf(lower) and math.isinf(upper):
            raise ValueError("LinearConstraint needs a finite lower= or upper= bound")
        object.__setattr__(self, "points", points)
        object.__setattr__(self, "used", used)
        object.__setattr__(self, "lower", lower)
        object.__setattr__(self, "upper", upper)

    def feature_names(self):
        return tuple(f for f, _ in self.points) + tuple(f for f, _ in self.used)

    def rows(self, columns_of, d, rules):
        a, c = np.zeros(d), np.zeros(d)
        for coefficients, names in ((a, self.points), (c, self.used)):
            for f, v in names:
                if len(columns_of[f]) != 1:
                    raise ValueError(
                        f"{self!r}: {f!r} is a variable with {len(columns_of[f])} rules; "
                        "a LinearConstraint names single features (its rules, e.g. "
                        f"{rules[columns_of[f][0]].name!r})"
                    )
                coefficients[columns_of[f][0]] += v
        return [ConstraintRow(a, c, self.lower, self.upper, repr(self))]

    def to_dict(self):
        out = {"kind": self.kind, "points": dict(self.points), "used": dict(self.used)}
        if not math.isinf(self.lower):
            out["lower"] = self.lower
        if not math.isinf(self.upper):
            out["upper"] = self.upper
        return out


_DIRECTIONS = ("increasing", "decreasing")


@dataclass(frozen=True, init=False)
class Monotonic(_Constraint):
    """The risk the card gives can only rise (or only fall) with a variable.

    For a raw variable behind a :class:`RiskScoreBinarizer`, the card's points
    for the variable are a step function of its value, built from all its
    threshold rules ("Age >= 45", "Age < 30", nested or not). At each
    threshold ``t`` the step is the points of the ``>= t`` rules minus those of
    the ``< t`` rules; ``"increasing"`` makes every step ``>= 0``,
    ``"decreasing"`` every step ``<= 0``. These are linear rows on the points,
    so the solver and every heuristic honour them exactly.

    Category rules ("Sex = F") have no order and are not constrained; a
    variable with category rules only is an error. For a feature that is not
    a binarizer rule (a numeric column fed directly), the points are
    multiplied by its value, so ``"increasing"`` means non-negative points.

    Parameters
    ----------
    variable : str or int
        A raw variable (behind a binarizer) or a feature.
    direction : {"increasing", "decreasing"}
        How the risk may move as the variable grows.

    Examples
    --------
    >>> from sk_riskscore import Monotonic
    >>> Monotonic("Age", "increasing")
    Monotonic(variable='Age', direction='increasing')
    """

    variable: object
    direction: str
    kind = "monotonic"

    def __init__(self, variable, direction="increasing"):
        if not isinstance(variable, (str, int, np.integer)) or isinstance(variable, bool):
            raise TypeError(f"Monotonic: variable must be one name or index, got {variable!r}")
        if direction not in _DIRECTIONS:
            raise ValueError(
                f"Monotonic({variable!r}): direction must be one of {list(_DIRECTIONS)}, "
                f"got {direction!r}"
            )
        object.__setattr__(self, "variable", variable)
        object.__setattr__(self, "direction", direction)

    def feature_names(self):
        return (self.variable,)

    def rows(self, columns_of, d, rules):
        steps = {}  # threshold -> points coefficients of the step there
        ordered = []
        for j in columns_of[self.variable]:
            rule = rules[j]
            if rule is None:  # a plain feature: points times its value
                key, sign = ("value", j), 1.0
            elif rule.operator in (">=", "<"):
                key, sign = rule.threshold, 1.0 if rule.operator == ">=" else -1.0
            else:
                continue  # categories (and missing-value rules) have no order
            if key not in steps:
                steps[key] = np.zeros(d)
                ordered.append(key)
            steps[key][j] += sign
        if not steps:
            raise ValueError(
                f"{self!r}: {self.variable!r} has no threshold rules (only "
                "categories, which have no order); monotone points need a "
                "numeric variable"
            )
        lower, upper = (0.0, math.inf) if self.direction == "increasing" else (-math.inf, 0.0)
        return [
            ConstraintRow(steps[key], np.zeros(d), lower, upper,
                          f"{self!r} at {key if not isinstance(key, tuple) else 'its value'}")
            for key in ordered
        ]

    def to_dict(self):
        return {"kind": self.kind, "variable": self.variable, "direction": self.direction}


_KINDS = {
    cls.kind: cls
    for cls in (MustUse, MustNotUse, AtMost, AtLeast, Exactly, Implies, LinearConstraint,
                Monotonic)
}


def constraints_to_dict(constraints) -> list[dict]:
    """Plain, JSON-ready form of a list of constraints."""
    return [c.to_dict() for c in constraints or ()]


def constraints_from_dict(items) -> list:
    """Constraints from their plain form (as in a JSON / YAML constraints file).

    Examples
    --------
    >>> from sk_riskscore import constraints_from_dict
    >>> constraints_from_dict([{"kind": "at_most", "k": 1, "features": ["a", "b"]}])
    [AtMost(k=1, features=('a', 'b'))]
    """
    if isinstance(items, Mapping):
        items = [items]
    out = []
    for position, item in enumerate(items):
        if not isinstance(item, Mapping) or "kind" not in item:
            raise ValueError(
                f"constraint #{position + 1} must be a mapping with a 'kind' key "
                f"(one of {sorted(_KINDS)}), got {item!r}"
            )
        kind = item["kind"]
        if kind not in _KINDS:
            raise ValueError(
                f"constraint #{position + 1}: unknown kind {kind!r}; use one of {sorted(_KINDS)}"
            )
        arguments = {k: v for k, v in item.items() if k != "kind"}
        try:
            out.append(_KINDS[kind](**arguments))
        except TypeError as exc:
            raise ValueError(f"constraint #{position + 1} ({kind}): {exc}") from None
    return out


@dataclass(frozen=True)
class CompiledConstraints:
    """What the solver needs: point bounds and linear rows."""

    coef_lower: np.ndarray
    coef_upper: np.ndarray
    rows: tuple
    bound_labels: tuple  # per feature: what set its point bounds, for error messages


def _quoted(items, limit=200) -> str:
    """A list for an error message, cut to about ``limit`` characters."""
    shown, length = [], 0
    for item in items:
        text = repr(item)
        if shown and length + len(text) > limit:
            return f"[{', '.join(shown)}, ... ({len(items) - len(shown)} more)]"
        shown.append(text)
        length += len(text) + 2
    return f"[{', '.join(shown)}]"


def compile_constraints(names, *, max_coef, coef_bounds=None, constraints=None, rules=None):
    """Point bounds and rows for features ``names`` (clear errors on bad input).

    ``rules`` (one :class:`BinaryRule` per feature, as a
    :class:`RiskScoreBinarizer` made them) lets constraints name raw variables.
    """
    d = len(names)
    index = {name: j for j, name in enumerate(names)}
    rules = list(rules) if rules is not None else [None] * d
    variables = {}
    for j, rule in enumerate(rules):
        if rule is not None:
            variables.setdefault(rule.column, []).append(j)

    def resolve(feature, where) -> tuple:
        if isinstance(feature, str) and feature in variables:
            return tuple(variables[feature])
        if isinstance(feature, str) and feature in index:
            return (index[feature],)
        if isinstance(feature, (int, np.integer)) and not isinstance(feature, bool):
            if 0 <= feature < d:
                return (int(feature),)
        if variables:
            valid = (f"Valid variables are {_quoted(list(variables))} (or the names of "
                     f"their {d} rules, e.g. {names[0]!r})")
        else:
            valid = f"Valid features are {_quoted(list(names))}"
        raise ValueError(f"{where}: unknown feature {feature!r}. {valid}")

    lower = np.full(d, -int(max_coef), dtype=int)
    upper = np.full(d, int(max_coef), dtype=int)
    labels = [f"points of {name!r} within +-{int(max_coef)} (max_coef)" for name in names]
    for feature, bounds in (coef_bounds or {}).items():
        columns = resolve(feature, "coef_bounds")  # a variable: each of its rules
        try:
            lo, hi = bounds
            lo_i, hi_i = int(lo), int(hi)
        except (TypeError, ValueError):
            raise ValueError(
                f"coef_bounds[{feature!r}] must be a pair of integers (lower, upper), "
                f"got {bounds!r}"
            ) from None
        if lo_i != lo or hi_i != hi:
            raise ValueError(f"coef_bounds[{feature!r}] must be integers, got {bounds!r}")
        if lo_i > hi_i:
            raise ValueError(
                f"coef_bounds[{feature!r}] = {bounds!r} is empty: lower exceeds upper"
            )
        for j in columns:
            lower[j], upper[j] = lo_i, hi_i
            labels[j] = f"coef_bounds[{feature!r}] = ({lo_i}, {hi_i})"

    rows = []
    for constraint in constraints or ():
        if not isinstance(constraint, _Constraint):
            raise TypeError(
                f"constraints must hold constraint objects (MustUse, AtMost, ...), "
                f"got {constraint!r}"
            )
        columns_of = {f: resolve(f, repr(constraint)) for f in constraint.feature_names()}
        if isinstance(constraint, MustNotUse):
            for f in constraint.features:
                for j in columns_of[f]:
                    lower[j] = upper[j] = 0
                    labels[j] = f"MustNotUse({f!r})"
        rows.extend(constraint.rows(columns_of, d, rules))
    return CompiledConstraints(lower, upper, tuple(rows), tuple(labels))
