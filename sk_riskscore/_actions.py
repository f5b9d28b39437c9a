"""Action sets: what a person can change, by how much and at what cost.

An :class:`ActionSet` declares, per raw input variable, whether and how a
person can act on it (Ustun, Spangher and Liu, "Actionable Recourse in Linear
Classification", FAT* 2019). Recourse (:func:`sk_riskscore.recourse`) searches
over these actions only: variables the set does not name are immutable.

The set reads and writes a small JSON / YAML document (:meth:`ActionSet.to_dict`
describes the schema), so the same file serves Python, the CLI and MLflow.
"""

from __future__ import annotations

import json
import math
import numbers
import os
from dataclasses import dataclass, field
from pathlib import Path

from ._documents import read_document

__all__ = ["Action", "ActionSet", "InvalidActionSetError", "Link"]

_FORMAT = "sk_riskscore.ActionSet"
_VERSION = 1
_DIRECTIONS = ("any", "increase", "decrease")
_COSTS = ("unit", "percentile")
_QUOTE_LIMIT = 200
_ACTION_KEYS = (
    "actionable", "direction", "lower", "upper", "max_change", "step", "values", "categories",
    "cost", "weight", "special_values", "leave_cost", "links",
)


class InvalidActionSetError(ValueError):
    """An action set (a dict, JSON or YAML document) that cannot be used.

    The message says which variable and key are wrong and how to fix them.
    """


def _quote(value) -> str:
    """``repr`` of user input, cut to about 200 characters."""
    text = repr(value)
    if len(text) > _QUOTE_LIMIT:
        text = text[:_QUOTE_LIMIT] + "...(truncated)"
    return text


@dataclass(frozen=True)
class Link:
    """A variable that moves with another: when the source rises by ``t``,
    ``target`` rises by ``scale * t`` ("years at job rises with age").

    Parameters
    ----------
    target : str
        The linked variable. It changes only through its source: it must not
        be actionable itself nor the target of another link.
    scale : float, default=1.0
        Positive change of ``target`` per unit change of the source.

    Examples
    --------
    >>> from sk_riskscore import Link
    >>> Link("years_at_job")
    Link(target='years_at_job', scale=1.0)
    """

    target: str
    scale: float = 1.0

    def __post_init__(self):
        if not isinstance(self.target, str) or not self.target:
            raise InvalidActionSetError(
                f"a link needs a target variable name (a string), got {_quote(self.target)}"
            )
        scale = _finite_number(self.scale, f"link to {self.target!r}: scale")
        if scale <= 0:
            raise InvalidActionSetError(
                f"link to {self.target!r}: scale must be positive (the target rises with "
                f"its source), got {_quote(self.scale)}"
            )
        object.__setattr__(self, "scale", scale)


@dataclass(frozen=True)
class Action:
    """What a person can do with one raw variable.

    Parameters
    ----------
    variable : str
        Raw input column of the model (before any binarizer).
    actionable : bool, default=True
        ``False`` declares the variable immutable (age at offence, race).
    direction : {"any", "increase", "decrease"}, default="any"
        Allowed direction of change of a numeric variable.
    lower, upper : float or None, default=None
        Bounds on the value after the action (none by default).
    max_change : float or None, default=None
        Largest change ``|new - old|`` (e.g. "at most 5 years older").
    step : float or None, default=None
        A numeric variable changes by whole multiples of ``step`` from the
        person's value (1 for counts). ``None`` means any real change.
    values : tuple of float or None, default=None
        A finite grid of reachable values instead of ``step``.
    categories : tuple or None, default=None
        For a categorical variable: the categories a person can switch to
        (by default every category the model knows).
    cost : {"unit", "percentile"}, default="unit"
        ``"unit"``: ``weight * |change| / step`` (``step`` taken as 1 when
        not given; ``weight`` per switch of a category). ``"percentile"``:
        ``weight * |Q(new) - Q(old)|`` with ``Q`` the share of reference
        rows at or below a value (Ustun et al.'s percentile shift).
    weight : float, default=1.0
        Positive multiplier of the cost.
    special_values : tuple of float, default=()
        Codes that are not amounts (e.g. -7, -8, -9 for "no record"), besides
        the special values the model's binarizer knows. A person holding a
        code or a missing value cannot change this variable (unless
        ``leave_cost`` is given), and no action moves a value into one. They
        must lie outside ``[lower, upper]``.
    leave_cost : float or None, default=None
        Cost of leaving a missing value or special code for an amount (one
        within ``[lower, upper]``, on the ``step`` grid from ``lower`` (else
        ``upper``, else 0) or on ``values``; ``direction``, ``max_change``
        and links do not apply, as a code is no amount). ``None``: a person
        holding one cannot act on this variable.
    links : tuple of Link, default=()
        Variables that rise with this one.

    Examples
    --------
    >>> from sk_riskscore import Action, Link
    >>> Action("age", direction="increase", step=1, upper=90,
    ...        links=(Link("years_at_job"),)).direction
    'increase'
    """

    variable: str
    actionable: bool = True
    direction: str = "any"
    lower: float | None = None
    upper: float | None = None
    max_change: float | None = None
    step: float | None = None
    values: tuple | None = None
    categories: tuple | None = None
    cost: str = "unit"
    weight: float = 1.0
    special_values: tuple = ()
    leave_cost: float | None = None
    links: tuple = field(default=())

    def __post_init__(self):
        name = self.variable
        if not isinstance(name, str) or not name:
            raise InvalidActionSetError(
                f"an action needs a variable name (a string), got {_quote(name)}"
            )
        where = f"variable {_quote(name)}"
        if not isinstance(self.actionable, bool):
            raise InvalidActionSetError(
                f"{where}: actionable must be true or false, got {_quote(self.actionable)}"
            )
        if self.direction not in _DIRECTIONS:
            raise InvalidActionSetError(
                f"{where}: direction must be one of {list(_DIRECTIONS)}, got "
                f"{_quote(self.direction)}"
            )
        if self.cost not in _COSTS:
            raise InvalidActionSetError(
                f"{where}: cost must be one of {list(_COSTS)}, got {_quote(self.cost)}"
            )
        for key in ("lower", "upper", "max_change", "step", "leave_cost"):
            value = getattr(self, key)
            if value is not None:
                object.__setattr__(self, key, _finite_number(value, f"{where}: {key}"))
        if self.leave_cost is not None and self.leave_cost <= 0:
            raise InvalidActionSetError(
                f"{where}: leave_cost must be positive, got {self.leave_cost!r}; leave it "
                "out for codes a person cannot leave"
            )
        if self.step is not None and self.step <= 0:
            raise InvalidActionSetError(f"{where}: step must be positive, got {self.step!r}")
        if self.max_change is not None and self.max_change <= 0:
            raise InvalidActionSetError(
                f"{where}: max_change must be positive, got {self.max_change!r}; declare "
                "an immutable variable with actionable: false"
            )
        if self.lower is not None and self.upper is not None and self.lower > self.upper:
            raise InvalidActionSetError(
                f"{where}: lower={self.lower!r} exceeds upper={self.upper!r}"
            )
        weight = _finite_number(self.weight, f"{where}: weight")
        if weight <= 0:
            raise InvalidActionSetError(f"{where}: weight must be positive, got {weight!r}")
        object.__setattr__(self, "weight", weight)
        if self.values is not None:
            values = _number_tuple(self.values, f"{where}: values")
            if not values:
                raise InvalidActionSetError(f"{where}: values must not be empty")
            if self.step is not None:
                raise InvalidActionSetError(
                    f"{where}: give either step or values, not both"
                )
            object.__setattr__(self, "values", tuple(sorted(set(values))))
        if self.categories is not None:
            if isinstance(self.categories, (str, bytes)) or not _is_sequence(self.categories):
                raise InvalidActionSetError(
                    f"{where}: categories must be a list, got {_quote(self.categories)}"
                )
            object.__setattr__(self, "categories", tuple(self.categories))
        special = _number_tuple(self.special_values, f"{where}: special_values")
        for code in special:
            inside = (self.lower is None or code >= self.lower) and (
                self.upper is None or code <= self.upper
            )
            if inside and self.actionable:
                raise InvalidActionSetError(
                    f"{where}: special value {code!r} lies within the bounds "
                    f"[{self.lower}, {self.upper}], so an action could move into it; set "
                    "lower or upper to exclude the special codes"
                )
        object.__setattr__(self, "special_values", special)
        if not _is_sequence(self.links):
            raise InvalidActionSetError(
                f"{where}: links must be a list, got {_quote(self.links)}"
            )
        links = tuple(self.links)
        for link in links:
            if not isinstance(link, Link):
                raise InvalidActionSetError(
                    f"{where}: links must hold Link objects, got {_quote(link)}"
                )
            if link.target == name:
                raise InvalidActionSetError(f"{where}: a variable cannot link to itself")
        object.__setattr__(self, "links", links)

    def to_dict(self) -> dict:
        """The action as a JSON-ready dict (defaults left out)."""
        out = {}
        defaults = Action(self.variable)
        for key in _ACTION_KEYS:
            value = getattr(self, key)
            if value == getattr(defaults, key):
                continue
            if key == "links":
                value = [{"target": link.target, "scale": link.scale} for link in value]
            elif isinstance(value, tuple):
                value = list(value)
            out[key] = value
        return out


@dataclass(frozen=True)
class ActionSet:
    """The actions people can take, one :class:`Action` per raw variable.

    Variables without an action are immutable. An action set is immutable
    too; it reads and writes JSON and YAML with :meth:`from_file` and
    :meth:`to_file`.

    Parameters
    ----------
    actions : tuple of Action
        At most one per variable.

    Examples
    --------
    >>> from sk_riskscore import Action, ActionSet
    >>> actions = ActionSet.from_dict({"variables": {
    ...     "age": {"direction": "increase", "step": 1},
    ...     "priors_count": {"direction": "increase", "step": 1},
    ...     "race": {"actionable": False}}})
    >>> actions.actionable_variables()
    ('age', 'priors_count')
    >>> actions["age"].step
    1.0
    """

    actions: tuple = ()

    def __post_init__(self):
        if not _is_sequence(self.actions):
            raise InvalidActionSetError(
                f"ActionSet needs a list of Action objects, got {_quote(self.actions)}"
            )
        actions = tuple(self.actions)
        seen = set()
        for action in actions:
            if not isinstance(action, Action):
                raise InvalidActionSetError(
                    f"ActionSet holds Action objects only, got {_quote(action)}"
                )
            if action.variable in seen:
                raise InvalidActionSetError(
                    f"variable {_quote(action.variable)} has two actions; give one"
                )
            seen.add(action.variable)
        object.__setattr__(self, "actions", actions)
        by_name = {a.variable: a for a in actions}
        source_of = {}
        for action in actions:
            for link in action.links:
                if link.target in source_of:
                    raise InvalidActionSetError(
                        f"variable {_quote(link.target)} is linked from both "
                        f"{_quote(source_of[link.target])} and {_quote(action.variable)}; "
                        "a variable may follow one source only"
                    )
                source_of[link.target] = action.variable
        for target, source in source_of.items():
            linked = by_name.get(target)
            if linked is not None and (linked.actionable or linked.links):
                raise InvalidActionSetError(
                    f"variable {_quote(target)} follows {_quote(source)} through a link, "
                    "so it cannot be actionable itself or have links of its own; set "
                    "actionable: false on it (its bounds still apply)"
                )
            if not by_name[source].actionable:
                raise InvalidActionSetError(
                    f"variable {_quote(source)} has links but is not actionable; its "
                    "links would never move"
                )

    def __getitem__(self, variable: str) -> Action:
        for action in self.actions:
            if action.variable == variable:
                return action
        raise KeyError(variable)

    def __contains__(self, variable) -> bool:
        return any(action.variable == variable for action in self.actions)

    def actionable_variables(self) -> tuple:
        """Names of the variables a person can act on, in declaration order."""
        return tuple(a.variable for a in self.actions if a.actionable)

    def linked_source(self, variable: str) -> tuple[str, float] | None:
        """``(source, scale)`` when ``variable`` moves with another one."""
        for action in self.actions:
            for link in action.links:
                if link.target == variable:
                    return action.variable, link.scale
        return None

    # -- documents -------------------------------------------------------------

    def to_dict(self) -> dict:
        """The action set as a JSON / YAML document.

        Schema::

            format: sk_riskscore.ActionSet      # optional when reading
            version: 1                          # optional when reading
            variables:
              <column name>:                    # one entry per raw variable
                actionable: true | false        # default true; unlisted = immutable
                direction: any | increase | decrease
                lower: <number>                 # bounds on the new value
                upper: <number>
                max_change: <number>            # largest |new - old|
                step: <number>                  # or values: [<number>, ...]
                categories: [<category>, ...]   # reachable categories
                cost: unit | percentile
                weight: <number>                # default 1
                special_values: [<number>, ...] # codes that are not amounts
                leave_cost: <number>            # cost of leaving a code or NaN
                links: [{target: <column>, scale: <number>}]

        Examples
        --------
        >>> from sk_riskscore import Action, ActionSet
        >>> ActionSet((Action("age", direction="increase", step=1),)).to_dict()
        {'format': 'sk_riskscore.ActionSet', 'version': 1, 'variables': {'age': {'direction': 'increase', 'step': 1.0}}}
        """  # noqa: E501
        return {
            "format": _FORMAT,
            "version": _VERSION,
            "variables": {a.variable: a.to_dict() for a in self.actions},
        }

    @classmethod
    def from_dict(cls, document) -> ActionSet:
        """Build an action set from a :meth:`to_dict` document.

        Raises
        ------
        InvalidActionSetError
            On unknown keys, wrong types or contradictory settings, naming the
            variable and key.
        """
        if not isinstance(document, dict):
            raise InvalidActionSetError(
                "an action set document is a mapping with a 'variables' key, got "
                f"{type(document).__name__}: {_quote(document)}"
            )
        unknown = sorted(set(map(str, document)) - {"format", "version", "variables"})
        if unknown:
            raise InvalidActionSetError(
                f"unknown top-level keys {_quote(unknown)}; an action set has 'format', "
                "'version' and 'variables'"
            )
        if document.get("format", _FORMAT) != _FORMAT:
            raise InvalidActionSetError(
                f"format is {_quote(document.get('format'))}, expected {_FORMAT!r}"
            )
        if document.get("version", _VERSION) != _VERSION:
            raise InvalidActionSetError(
                f"action set version {_quote(document.get('version'))} is not supported "
                f"(this sk-riskscore reads version {_VERSION}); upgrade sk-riskscore"
            )
        variables = document.get("variables")
        if not isinstance(variables, dict):
            raise InvalidActionSetError(
                "'variables' must map each variable name to its settings, got "
                f"{_quote(variables)}"
            )
        actions = []
        for name, settings in variables.items():
            if settings is None:
                settings = {}
            if not isinstance(settings, dict):
                raise InvalidActionSetError(
                    f"variable {_quote(name)}: settings must be a mapping, got "
                    f"{_quote(settings)}"
                )
            bad = sorted(set(map(str, settings)) - set(_ACTION_KEYS))
            if bad:
                raise InvalidActionSetError(
                    f"variable {_quote(name)}: unknown keys {_quote(bad)}; allowed keys "
                    f"are {list(_ACTION_KEYS)}"
                )
            settings = dict(settings)
            links = settings.pop("links", None) or []
            if not isinstance(links, list):
                raise InvalidActionSetError(
                    f"variable {_quote(name)}: links must be a list of "
                    f"{{target, scale}} mappings, got {_quote(links)}"
                )
            parsed = []
            for link in links:
                if isinstance(link, str):
                    link = {"target": link}
                if not isinstance(link, dict) or set(link) - {"target", "scale"}:
                    raise InvalidActionSetError(
                        f"variable {_quote(name)}: a link is {{target: <column>, scale: "
                        f"<number>}}, got {_quote(link)}"
                    )
                parsed.append(Link(link.get("target"), link.get("scale", 1.0)))
            for key in ("values", "categories", "special_values"):
                if key in settings and not isinstance(settings[key], list):
                    raise InvalidActionSetError(
                        f"variable {_quote(name)}: {key} must be a list, got "
                        f"{_quote(settings[key])}"
                    )
                if key in settings:
                    settings[key] = tuple(settings[key])
            actions.append(Action(str(name), links=tuple(parsed), **settings))
        return cls(tuple(actions))

    @classmethod
    def from_file(cls, path) -> ActionSet:
        """Read an action set from a ``.json``, ``.yaml`` or ``.yml`` file.

        YAML needs PyYAML (the ``cli`` extra); it is read with PyYAML's safe
        loader, without aliases, and files over 1 MiB are refused.
        """
        path = Path(os.fspath(path))
        try:
            document = read_document(path, what="an action set file")
        except ValueError as exc:
            raise InvalidActionSetError(str(exc)) from None
        try:
            return cls.from_dict(document)
        except InvalidActionSetError as exc:
            raise InvalidActionSetError(f"{path.name}: {exc}") from None

    def to_file(self, path) -> Path:
        """Write the action set as JSON (``.json``) or YAML (``.yaml``, ``.yml``)."""
        path = Path(os.fspath(path))
        document = self.to_dict()
        if path.suffix.lower() in (".yaml", ".yml"):
            text = _yaml().safe_dump(document, sort_keys=False)
        elif path.suffix.lower() == ".json":
            text = json.dumps(document, indent=2) + "\n"
        else:
            raise InvalidActionSetError(
                f"{path.name}: an action set file ends in .json, .yaml or .yml"
            )
        path.write_text(text, encoding="utf-8")
        return path


def _yaml():
    try:
        import yaml
    except ImportError:
        raise ImportError(
            'Reading and writing YAML action sets needs PyYAML: pip install '
            '"sk-riskscore[cli]" (or use a .json file)'
        ) from None
    return yaml


def _is_sequence(value) -> bool:
    return isinstance(value, (list, tuple))


def _finite_number(value, what: str) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise InvalidActionSetError(f"{what} must be a number, got {_quote(value)}")
    value = float(value)
    if not math.isfinite(value):
        raise InvalidActionSetError(f"{what} must be finite, got {value!r}")
    return value


def _number_tuple(values, what: str) -> tuple:
    if not _is_sequence(values):
        raise InvalidActionSetError(f"{what} must be a list of numbers, got {_quote(values)}")
    return tuple(_finite_number(v, what) for v in values)
