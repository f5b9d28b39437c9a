"""Recourse: whether a person can change a risk score's decision, and at what cost.

A risk score reads each raw variable only through which side of a few
thresholds it lies on (or, without a binarizer, through a few integer points
per unit), so the values of a variable that matter form a short list: one
representative per interval between the thresholds, the feasible value
closest to the person's own (the cheapest, as every cost grows with the
distance moved). A variable and the variables linked to it form one *block*
with such a list of *options*; blocks are independent, and the cheapest
action that reaches the target decision is the cheapest choice of one option
per block whose score changes add up to enough. That choice is found exactly
by enumerating the product of the blocks' options (vectorised over people)
when it is small, and by a python-mip integer program otherwise.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.special import logit
from sklearn.pipeline import Pipeline

from ._actions import Action, ActionSet, InvalidActionSetError, _quote
from ._binarizer import RiskScoreBinarizer
from ._model import feature_names
from ._scorecard import _column_contributions, _split

__all__ = ["RecourseResult", "recourse"]

logger = logging.getLogger(__name__)

#: Largest product of option counts solved by enumeration under method="auto".
MAX_ENUMERATION = 4096
# Entries of one people-by-combinations block held in memory at once.
_CHUNK_ENTRIES = 1 << 21
# Largest number of grid values of one variable of a card without binarizer.
_MAX_GRID = 256
_EPS = 1e-9


# -- the model, seen from its raw variables ------------------------------------------


@dataclass(frozen=True)
class _Variable:
    """How one raw variable enters the score."""

    name: str
    kind: str  # "numeric" (thresholds), "categorical" or "linear" (points per unit)
    rules: tuple = ()  # ((BinaryRule, points), ...) for numeric and categorical
    points: float = 0.0  # for linear
    categories: tuple = ()  # known categories, for categorical

    def thresholds(self) -> np.ndarray:
        return np.unique([float(rule.threshold) for rule, _ in self.rules])

    def contribution(self, values) -> np.ndarray:
        values = np.asarray(values)
        if self.kind == "linear":
            return self.points * values.astype(np.float64)
        flat = values.ravel()
        total = np.zeros(flat.shape, dtype=np.float64)
        for rule, points in self.rules:
            total += points * rule.apply(flat)
        return total.reshape(values.shape)


@dataclass(frozen=True)
class _Card:
    model: object
    classifier: object
    binarizer: RiskScoreBinarizer | None
    input_names: tuple
    variables: dict  # name -> _Variable, the variables with points only

    def raw_column(self, X, name, numeric: bool) -> np.ndarray:
        if isinstance(X, pd.DataFrame):
            column = X[name] if name in X.columns else X.iloc[:, self.input_names.index(name)]
        else:
            column = pd.Series(np.asarray(X)[:, self.input_names.index(name)])
        if not numeric:
            return column.astype(object).to_numpy()
        try:
            return pd.to_numeric(column, errors="raise").to_numpy(dtype=np.float64)
        except (TypeError, ValueError):
            raise ValueError(
                f"Column {name!r} holds values that are not numbers (e.g. "
                f"{_quote(column.iloc[0])}); a numeric action needs a numeric column"
            ) from None


def _compile(model) -> _Card:
    try:
        classifier, preprocess = _split(model)
    except TypeError as exc:
        raise TypeError(str(exc).replace("ScoreCard.from_estimator", "recourse")) from None
    coef = classifier.coef_[0].astype(np.float64)
    if preprocess is None:
        names = tuple(feature_names(getattr(classifier, "feature_names_in_", None), len(coef)))
        variables = {
            names[j]: _Variable(names[j], "linear", points=float(coef[j]))
            for j in np.flatnonzero(coef)
        }
        return _Card(model, classifier, None, names, variables)
    steps = preprocess.steps if isinstance(preprocess, Pipeline) else [(None, preprocess)]
    if len(steps) != 1 or not isinstance(steps[0][1], RiskScoreBinarizer):
        raise TypeError(
            "recourse works on the raw variables of a RiskScoreClassifier or of a "
            "Pipeline([RiskScoreBinarizer, RiskScoreClassifier]); other preprocessing "
            f"steps ({[type(s).__name__ for _, s in steps]}) hide which raw values "
            "change the score. Apply them to X first and audit the remaining pipeline."
        )
    binarizer = steps[0][1]
    names = tuple(
        feature_names(getattr(binarizer, "feature_names_in_", None), binarizer.n_features_in_)
    )
    by_column = {}
    for j in np.flatnonzero(coef):
        rule = binarizer.rules_[j]
        by_column.setdefault(rule.column, []).append((rule, float(coef[j])))
    variables = {}
    for column, rules in by_column.items():
        if binarizer.column_types_.get(column) == "categorical":
            known = tuple(binarizer.categories_.get(column, ()))
            variables[column] = _Variable(column, "categorical", tuple(rules), categories=known)
        else:
            variables[column] = _Variable(column, "numeric", tuple(rules))
    return _Card(model, classifier, binarizer, names, variables)


# -- options per block -----------------------------------------------------------------


@dataclass(frozen=True)
class _Block:
    """The options of one actionable variable (and the variables linked to it).

    Column 0 of every array is "no change". ``delta`` is the change of the
    score, ``cost`` is infinite where an option is infeasible, ``measure`` is
    how many feasible values (or how long a range) the option stands for.
    """

    source: str
    members: tuple  # the block's variables that carry points
    new_value: np.ndarray  # (n, k) object: the source's value after the option
    delta: np.ndarray  # (n, k)
    cost: np.ndarray  # (n, k)
    measure: np.ndarray  # (n, k)


def _validate_against_model(card: _Card, action_set: ActionSet) -> None:
    known = set(card.input_names)
    for action in action_set.actions:
        # declaring a column the model does not read immutable is harmless (one
        # action set can serve several models); acting on it is likely a typo
        named = (action.variable, *(link.target for link in action.links))
        for name in named if action.actionable else ():
            if name not in known:
                shown = list(card.input_names)[:30]
                raise InvalidActionSetError(
                    f"the action set names {_quote(name)}, which is not an input column "
                    f"of the model; its columns are {_quote(shown)}"
                )
        variable = card.variables.get(action.variable)
        categorical = variable is not None and variable.kind == "categorical"
        where = f"variable {_quote(action.variable)}"
        if categorical:
            numeric_keys = [
                key for key in ("lower", "upper", "max_change", "step", "values")
                if getattr(action, key) is not None
            ]
            if numeric_keys or action.direction != "any" or action.links or (
                    action.cost != "unit" or action.special_values):
                raise InvalidActionSetError(
                    f"{where} is categorical in the model: it takes categories (and a "
                    "unit weight per switch), not bounds, steps, directions, links, "
                    "special values or percentile costs"
                )
            unknown = [c for c in action.categories or () if c not in variable.categories]
            if unknown:
                raise InvalidActionSetError(
                    f"{where}: categories {_quote(unknown)} are not categories the model "
                    f"knows ({_quote(list(variable.categories))})"
                )
        elif action.categories is not None:
            raise InvalidActionSetError(
                f"{where}: categories are for categorical variables; this one is numeric"
            )
        for link in action.links:
            target = card.variables.get(link.target)
            if target is not None and target.kind == "categorical":
                raise InvalidActionSetError(
                    f"{where} links to {_quote(link.target)}, which is categorical; "
                    "links move numeric variables only"
                )


def _blocks(card, action_set, X, reference) -> list[_Block]:
    blocks = []
    for action in action_set.actions:
        if not action.actionable:
            continue
        members = tuple(
            name for name in (action.variable, *(lk.target for lk in action.links))
            if name in card.variables
        )
        if not members:
            continue  # the action cannot move the score
        variable = card.variables.get(action.variable)
        if variable is not None and variable.kind == "categorical":
            blocks.append(_categorical_block(card, action, variable, X))
        else:
            blocks.append(_numeric_block(card, action_set, action, members, X, reference))
    return blocks


def _categorical_block(card, action, variable, X) -> _Block:
    current = card.raw_column(X, variable.name, numeric=False)
    allowed = list(action.categories) if action.categories is not None else list(
        variable.categories
    )
    levels_of = variable.contribution(np.array(allowed, dtype=object)) if allowed else []
    levels = np.unique(levels_of) if allowed else np.array([])
    n, k = len(current), len(levels) + 1
    now = variable.contribution(current)
    new_value = np.empty((n, k), dtype=object)
    new_value[:, 0] = current
    delta = np.zeros((n, k))
    cost = np.full((n, k), np.inf)
    cost[:, 0] = 0.0
    measure = np.zeros((n, k))
    allowed_arr = np.array(allowed, dtype=object)
    for i, level in enumerate(levels, start=1):
        members = allowed_arr[levels_of == level]
        # a switch to the person's own category is no switch
        is_own = np.zeros((n, len(members)), dtype=bool)
        for m, category in enumerate(members):
            is_own[:, m] = _same(current, category)
        others = (~is_own).sum(axis=1)
        first_other = np.argmax(~is_own, axis=1)
        new_value[:, i] = members[first_other]
        delta[:, i] = level - now
        usable = (others > 0) & (delta[:, i] != 0)
        cost[usable, i] = action.weight
        measure[:, i] = others
    return _Block(action.variable, (variable.name,), new_value, delta, cost, measure)


def _same(values: np.ndarray, category) -> np.ndarray:
    return np.fromiter((v == category for v in values), dtype=bool, count=len(values))


@dataclass(frozen=True)
class _Grid:
    """Where a numeric variable can go: bounds, direction and step or values."""

    action: Action
    x: np.ndarray  # (n, 1): the person's value
    low: np.ndarray  # (n, 1): feasible range of the new value (closed)
    high: np.ndarray

    def above(self, start: np.ndarray) -> np.ndarray:
        """Smallest feasible value >= start (start > x), NaN if none."""
        a = self.action
        if a.step is not None:
            k = np.ceil((start - self.x) / a.step - _EPS)
            value = self.x + k * a.step
            value = np.where(value < start, self.x + (k + 1) * a.step, value)
        elif a.values is not None:
            grid = np.asarray(a.values)
            index = np.searchsorted(grid, start, side="left")
            value = np.where(index < len(grid), grid[np.minimum(index, len(grid) - 1)], np.nan)
        else:
            value = start.astype(np.float64)
        return np.where(value <= self.high, value, np.nan)

    def below(self, end: np.ndarray) -> np.ndarray:
        """Largest feasible value < end (end <= x), NaN if none."""
        a = self.action
        cap = np.minimum(np.nextafter(end, -np.inf), self.high)
        if a.step is not None:
            k = np.ceil((self.x - cap) / a.step - _EPS)
            value = self.x - k * a.step
            value = np.where(value > cap, self.x - (k + 1) * a.step, value)
        elif a.values is not None:
            grid = np.asarray(a.values)
            index = np.searchsorted(grid, cap, side="right") - 1
            value = np.where(index >= 0, grid[np.maximum(index, 0)], np.nan)
        else:
            value = cap
        return np.where(value >= self.low, value, np.nan)

    def count(self, start: np.ndarray, end: np.ndarray, closed_end: np.ndarray) -> np.ndarray:
        """Feasible values other than x in [start, end) (or [start, end] where
        closed_end), as a count, or a length for a continuous variable.
        """
        a = self.action
        if a.step is not None:
            first = np.ceil((start - self.x) / a.step - _EPS)
            last_open = np.ceil((end - self.x) / a.step - _EPS) - 1
            last_closed = np.floor((end - self.x) / a.step + _EPS)
            last = np.where(closed_end, last_closed, last_open)
            count = np.maximum(last - first + 1, 0)
            holds_x = (first <= 0) & (last >= 0)
            return np.where(np.isfinite(count), count - holds_x, 0.0)
        if a.values is not None:
            grid = np.asarray(a.values)
            lo = np.searchsorted(grid, start, side="left")
            hi = np.where(closed_end, np.searchsorted(grid, end, side="right"),
                          np.searchsorted(grid, end, side="left"))
            count = np.maximum(hi - lo, 0).astype(np.float64)
            at_x = np.isin(self.x, grid) & (self.x >= start) & (
                (self.x < end) | (closed_end & (self.x == end)))
            return count - at_x
        length = np.maximum(end - start, 0.0)
        return np.where(np.isfinite(length), length, 0.0)


def _numeric_block(card, action_set, action, members, X, reference) -> _Block:
    name = action.variable
    x = card.raw_column(X, name, numeric=True)
    n = len(x)
    low = np.full(n, -np.inf if action.lower is None else action.lower)
    high = np.full(n, np.inf if action.upper is None else action.upper)
    if action.direction == "increase":
        low = np.maximum(low, x)
    elif action.direction == "decrease":
        high = np.minimum(high, x)
    if action.max_change is not None:
        low = np.maximum(low, x - action.max_change)
        high = np.minimum(high, x + action.max_change)
    # a linked variable moves with its source unless it holds one of its special
    # codes, and must stay within its own bounds
    linked = []
    for link in action.links:
        target_x = card.raw_column(X, link.target, numeric=True)
        target_action = action_set[link.target] if link.target in action_set else None
        follows = np.ones(n, dtype=bool)
        if target_action is not None and target_action.special_values:
            follows = ~np.isin(target_x, target_action.special_values)
        with np.errstate(invalid="ignore"):
            if target_action is not None and target_action.lower is not None:
                reach = x + (target_action.lower - target_x) / link.scale
                low = np.where(follows, np.maximum(low, reach), low)
            if target_action is not None and target_action.upper is not None:
                reach = x + (target_action.upper - target_x) / link.scale
                high = np.where(follows, np.minimum(high, reach), high)
        linked.append((link, target_x, follows))
    frozen = np.isin(x, action.special_values) if action.special_values else np.zeros(n, bool)
    grid = _Grid(action, x[:, None], low[:, None], high[:, None])

    source = card.variables.get(name)
    if source is not None and source.kind == "linear" or any(
            card.variables[t].kind == "linear" for t in members if t != name):
        candidates, measure = _grid_values(grid, name)
        regions = None
    else:
        candidates, measure, regions = _interval_values(grid, card, source, linked, X, reference,
                                                        name)
    candidates = np.where(frozen[:, None], np.nan, candidates)
    feasible = np.isfinite(candidates)
    safe = np.where(feasible, candidates, x[:, None])

    delta = np.zeros(candidates.shape)
    if source is not None:
        delta += source.contribution(safe) - source.contribution(x)[:, None]
    for link, target_x, follows in linked:
        target = card.variables.get(link.target)
        if target is not None:
            moved = target_x[:, None] + np.where(follows, link.scale, 0.0)[:, None] * (
                safe - x[:, None])
            delta += target.contribution(moved) - target.contribution(target_x)[:, None]
    cost = np.where(feasible, _cost(action, card, x, safe, reference), np.inf)
    if regions is not None:
        # the option in the person's own interval changes nothing
        cost = np.where(regions, np.inf, cost)
    measure = np.where(frozen[:, None], 0.0, measure)
    new_value = np.concatenate([x[:, None], candidates], axis=1).astype(object)
    return _Block(
        name,
        members,
        new_value,
        np.concatenate([np.zeros((n, 1)), delta], axis=1),
        np.concatenate([np.zeros((n, 1)), cost], axis=1),
        np.concatenate([np.zeros((n, 1)), measure], axis=1),
    )


def _interval_values(grid, card, source, linked, X, reference, name):
    """One representative per interval between the thresholds the block reads.

    Returns (candidates (n, m+1), measure (n, m+1), holds_x (n, m+1)).
    """
    x = grid.x[:, 0]
    n = len(x)
    cuts = [np.broadcast_to(source.thresholds(), (n, len(source.thresholds())))] if (
        source is not None) else []
    for link, target_x, follows in linked:
        target = card.variables.get(link.target)
        if target is not None:
            t = target.thresholds()
            mapped = x[:, None] + (t[None, :] - target_x[:, None]) / link.scale
            cuts.append(np.where(follows[:, None], mapped, np.inf))
    cuts = np.sort(np.concatenate(cuts, axis=1), axis=1) if cuts else np.empty((n, 0))
    starts = np.concatenate([np.full((n, 1), -np.inf), cuts], axis=1)
    ends = np.concatenate([cuts, np.full((n, 1), np.inf)], axis=1)
    holds_x = (starts <= x[:, None]) & (x[:, None] < ends)
    is_above = starts > x[:, None]
    with np.errstate(invalid="ignore"):
        up = grid.above(np.maximum(starts, grid.low))
        up = np.where(up < ends, up, np.nan)
        down = grid.below(ends)
        down = np.where(down >= starts, down, np.nan)
    candidates = np.where(holds_x, x[:, None], np.where(is_above, up, down))

    # how many feasible values each interval holds, for responsiveness; a side
    # without a bound is measured up to the reference data's range
    ref = card.raw_column(reference, name, numeric=True)
    ref = ref[np.isfinite(ref)]
    span_low = np.minimum(ref.min(), x) if ref.size else x
    span_high = np.maximum(ref.max(), x) if ref.size else x
    span_low, span_high = np.asarray(span_low, float), np.asarray(span_high, float)
    low = np.where(np.isfinite(grid.low), grid.low, span_low[:, None])
    high = np.where(np.isfinite(grid.high), grid.high, span_high[:, None])
    start = np.maximum(starts, low)
    closed = ends > high
    end = np.minimum(ends, high)
    with np.errstate(invalid="ignore"):
        measure = grid.count(start, end, closed)
    measure = np.where(end >= start, np.maximum(measure, 0.0), 0.0)
    return candidates, measure, holds_x


def _grid_values(grid, name):
    """Every feasible value of a variable whose points apply per unit."""
    a, x = grid.action, grid.x
    if a.values is not None:
        values = np.broadcast_to(np.asarray(a.values), (len(x), len(a.values)))
        ok = (values >= grid.low) & (values <= grid.high) & (values != x)
        candidates = np.where(ok, values, np.nan)
        return candidates, ok.astype(np.float64)
    if a.step is None or not (np.isfinite(grid.low).all() and np.isfinite(grid.high).all()):
        raise InvalidActionSetError(
            f"variable {_quote(name)} gets points per unit, so its reachable values must "
            "be a finite list: give 'values', or 'step' with 'lower' and 'upper' (for a "
            "0/1 feature: values: [0, 1])"
        )
    first = np.ceil((grid.low - x) / a.step - _EPS)
    last = np.floor((grid.high - x) / a.step + _EPS)
    width = int(np.max(last - first + 1)) if len(x) else 0
    if width > _MAX_GRID:
        raise InvalidActionSetError(
            f"variable {_quote(name)} can reach {width} values; at most {_MAX_GRID} are "
            "searched for a card without binarizer. Use a coarser step or tighter bounds."
        )
    k = first + np.arange(max(width, 0))[None, :]
    ok = (k <= last) & (k != 0)
    candidates = np.where(ok, x + k * a.step, np.nan)
    return candidates, ok.astype(np.float64)


def _cost(action: Action, card, x, new, reference) -> np.ndarray:
    if action.cost == "unit":
        return action.weight * np.abs(new - x[:, None]) / (action.step or 1.0)
    ref = np.sort(card.raw_column(reference, action.variable, numeric=True))
    if ref.size == 0:
        raise ValueError(
            f"variable {action.variable!r} has a percentile cost but the reference "
            "data is empty"
        )

    def share_at_or_below(v):
        return np.searchsorted(ref, v, side="right") / ref.size

    return action.weight * np.abs(share_at_or_below(new) - share_at_or_below(x)[:, None])


# -- search ---------------------------------------------------------------------------


@dataclass(frozen=True)
class _Search:
    """Best and alternative option choices per person (index -1: none)."""

    choices: np.ndarray  # (n, r, B) option index per block
    cost: np.ndarray  # (n, r), inf when there is no such action


def _attains(delta_total, base, limit, favourable_is_low: bool):
    total = base + delta_total
    return total <= limit if favourable_is_low else total > limit


def _enumerate(blocks, base, limit, low, rows, n_actions) -> _Search:
    n_blocks = len(blocks)
    shape = tuple(b.delta.shape[1] for b in blocks)
    size = int(np.prod(shape)) if shape else 1
    index = np.indices(shape).reshape(n_blocks, size) if shape else np.zeros((0, 1), int)
    changed = (index > 0).sum(axis=0) if n_blocks else np.zeros(1, int)
    choices = np.full((len(rows), n_actions, n_blocks), -1, dtype=np.int64)
    costs = np.full((len(rows), n_actions), np.inf)
    chunk = max(1, _CHUNK_ENTRIES // max(size, 1))
    for begin in range(0, len(rows), chunk):
        part = rows[begin:begin + chunk]
        delta = np.zeros((len(part), size))
        cost = np.zeros((len(part), size))
        for b, block in enumerate(blocks):
            delta += block.delta[part][:, index[b]]
            cost += block.cost[part][:, index[b]]
        open_ = _attains(delta, base[part, None], limit, low) & np.isfinite(cost)
        for r in range(n_actions):
            masked = np.where(open_, cost, np.inf)
            best = masked.min(axis=1)
            tie = masked <= best[:, None] + _EPS * np.maximum(1.0, np.abs(best[:, None]))
            pick = np.argmin(np.where(tie, changed[None, :], np.iinfo(np.int64).max), axis=1)
            found = np.isfinite(best)
            chosen = index[:, pick].T  # (part, B)
            choices[begin:begin + len(part), r] = np.where(found[:, None], chosen, -1)
            costs[begin:begin + len(part), r] = best
            # later alternatives must not contain this action's changes
            contains = np.ones_like(open_)
            for b in range(n_blocks):
                moved = chosen[:, b] > 0
                contains &= ~moved[:, None] | (index[b][None, :] == chosen[:, b][:, None])
            open_ &= ~(contains & found[:, None])
    return _Search(choices, costs)


def _integer_program(blocks, base, limit, low, rows, n_actions) -> _Search:
    import mip

    n_blocks = len(blocks)
    choices = np.full((len(rows), n_actions, n_blocks), -1, dtype=np.int64)
    costs = np.full((len(rows), n_actions), np.inf)
    for position, i in enumerate(rows):
        sign = -1.0 if low else 1.0
        need = sign * (limit - base[i])  # favourability gain needed (strict when not low)
        gains = [sign * b.delta[i] for b in blocks]
        whole = all(np.all(g[np.isfinite(b.cost[i])] == np.round(g[np.isfinite(b.cost[i])]))
                    for g, b in zip(gains, blocks))
        if low:
            bound = math.ceil(need) if whole else need - _EPS
        else:
            bound = math.floor(need) + 1 if whole else need + _EPS * max(1.0, abs(need))
        model = mip.Model(sense=mip.MINIMIZE, solver_name=mip.CBC)
        model.verbose = 0
        model.threads = 0
        model.max_mip_gap = 1e-9
        model.max_mip_gap_abs = 1e-9
        z = []
        for block in blocks:
            usable = np.flatnonzero(np.isfinite(block.cost[i]))
            zb = {o: model.add_var(var_type=mip.BINARY) for o in usable}
            model += mip.xsum(zb.values()) == 1
            z.append(zb)
        model += mip.xsum(float(gains[b][o]) * v for b in range(n_blocks)
                          for o, v in z[b].items()) >= bound
        model.objective = mip.minimize(mip.xsum(
            float(blocks[b].cost[i, o]) * v for b in range(n_blocks) for o, v in z[b].items()))
        for r in range(n_actions):
            status = model.optimize()
            if status != mip.OptimizationStatus.OPTIMAL:
                break
            chosen = np.array([max(z[b], key=lambda o, b=b: z[b][o].x) for b in range(n_blocks)],
                              dtype=np.int64)
            # the integer program's answer is checked, not trusted
            total = float(sum(blocks[b].delta[i, o] for b, o in enumerate(chosen)))
            if not _attains(total, base[i], limit, low):
                raise RuntimeError(
                    f"the recourse integer program returned an action that does not "
                    f"reach the target for row {i}; please report this"
                )
            choices[position, r] = chosen
            costs[position, r] = float(sum(blocks[b].cost[i, o] for b, o in enumerate(chosen)))
            moved = [b for b in range(n_blocks) if chosen[b] > 0]
            if not moved:
                break
            model += mip.xsum(z[b][chosen[b]] for b in moved) <= len(moved) - 1
    return _Search(choices, costs)


# -- public API ---------------------------------------------------------------------------


@dataclass(frozen=True)
class RecourseResult:
    """Recourse of each person under an action set: see :func:`recourse`.

    Attributes
    ----------
    people : pandas.DataFrame
        One row per person (index of ``X``): ``decision`` (predicted class),
        ``favourable`` (already has the target decision), ``reachable``
        (favourable, or some action reaches it), ``cost`` (of the cheapest
        action; 0 when favourable, ``inf`` when unreachable), ``n_changes``,
        ``action`` (e.g. ``"priors_count: 4 -> 2"``), ``reasons`` (reason
        codes: the variables on which the person gets less favourable points
        than the variable can give, most points lost first) and
        ``reasons_with_recourse`` (those of them that can attain the target
        alone, most responsive first).
    actions : pandas.DataFrame
        The flipset, one row per changed variable: ``person`` (index label),
        ``rank`` (0 for the cheapest action, then the alternatives),
        ``cost``, ``variable``, ``current`` and ``new``.
    responsiveness : pandas.DataFrame
        People by variables with points: the share of the feasible changes of
        that variable alone (linked variables moving along) that attain the
        target; 0 for immutable variables, NaN for favourable people.
    target : object
        The favourable class.
    score_limit : float
        The decision is the event (``classes_[1]``) when the total score
        (intercept included) exceeds this.
    """

    people: pd.DataFrame
    actions: pd.DataFrame
    responsiveness: pd.DataFrame
    target: object
    score_limit: float

    def to_frame(self) -> pd.DataFrame:
        """The per-person table, :attr:`people`."""
        return self.people.copy()

    def flipset(self, person) -> pd.DataFrame:
        """The cheapest action and its alternatives for one person (index label)."""
        return self.actions[self.actions["person"] == person].reset_index(drop=True)


def recourse(model, X, action_set, *, target=None, threshold=None, reference=None,
             n_alternatives=2, method="auto") -> RecourseResult:
    """Whether, and how cheaply, each person can reach the favourable decision.

    Exact: each raw variable matters only through which side of the card's
    thresholds it lies on, so one value per interval between thresholds (the
    feasible one closest to the person's) is all the search needs; the
    cheapest combination is found by enumeration or, when the product of
    options exceeds 4096, by an integer program (python-mip,
    CBC). Read more in the :ref:`User Guide <recourse>`.

    Parameters
    ----------
    model : RiskScoreClassifier or Pipeline
        Fitted; a Pipeline is ``[RiskScoreBinarizer, RiskScoreClassifier]``.
    X : DataFrame or array-like
        People, in the model's raw input format.
    action_set : ActionSet, dict or path
        What people can change; a dict or a ``.json`` / ``.yaml`` file is
        read with :meth:`ActionSet.from_dict` / :meth:`ActionSet.from_file`.
    target : class label, default=None
        The favourable decision; ``classes_[0]`` by default (the score
        predicts the risk of the event ``classes_[1]``).
    threshold : float in (0, 1), default=None
        Risk above which the decision is the event; by default the model's
        own rule (score > 0, i.e. risk > 0.5).
    reference : DataFrame, default=None
        Data for percentile costs and for the range of values an unbounded
        variable is measured over in responsiveness; ``X`` by default.
    n_alternatives : int, default=2
        Alternative actions per person besides the cheapest: each is the
        cheapest action that does not contain an earlier one's changes.
    method : {"auto", "enumerate", "ip"}, default="auto"
        Search by enumeration, by integer program, or enumeration when the
        product of option counts is at most 4096.

    Returns
    -------
    result : RecourseResult

    Examples
    --------
    >>> import pandas as pd
    >>> from sk_riskscore import RiskScoreClassifier, recourse
    >>> X = pd.DataFrame({"debt": [0, 1, 1, 0], "late": [1, 1, 0, 0]})
    >>> clf = RiskScoreClassifier(max_coef=2).fit(X, [1, 1, 0, 0])
    >>> clf.coef_.tolist(), clf.intercept_.tolist()
    ([[0, 2]], [-1])
    >>> actions = {"variables": {"late": {"values": [0, 1], "direction": "decrease"}}}
    >>> result = recourse(clf, X, actions)
    >>> result.people[["favourable", "reachable", "cost", "n_changes"]]
       favourable  reachable  cost  n_changes
    0       False       True   1.0          1
    1       False       True   1.0          1
    2        True       True   0.0          0
    3        True       True   0.0          0
    >>> result.people.loc[0, "action"]
    'late: 1 -> 0'
    """
    if method not in ("auto", "enumerate", "ip"):
        raise ValueError(f"method must be 'auto', 'enumerate' or 'ip', got {method!r}")
    if not isinstance(n_alternatives, int) or n_alternatives < 0:
        raise ValueError(f"n_alternatives must be a non-negative int, got {n_alternatives!r}")
    action_set = _as_action_set(action_set)
    card = _compile(model)
    _validate_against_model(card, action_set)
    classes = card.classifier.classes_
    if target is None:
        target = classes[0]
    elif target not in classes:
        raise ValueError(
            f"target {_quote(target)} is not a class of the model; its classes are "
            f"{classes.tolist()}"
        )
    low = target == classes[0]
    if threshold is None:
        limit = 0.0
    else:
        if not (isinstance(threshold, (int, float)) and 0 < threshold < 1):
            raise ValueError(f"threshold is a risk in (0, 1), got {_quote(threshold)}")
        limit = float(card.classifier.scale_) * float(logit(threshold))
    reference = X if reference is None else reference

    base = np.asarray(model.decision_function(X), dtype=np.float64)
    n = len(base)
    index = X.index if isinstance(X, pd.DataFrame) else pd.RangeIndex(n)
    blocks = _blocks(card, action_set, X, reference)
    favourable = _attains(np.zeros(n), base, limit, low)
    rows = np.flatnonzero(~favourable)
    size = int(np.prod([b.delta.shape[1] for b in blocks])) if blocks else 1
    use_ip = method == "ip" or (method == "auto" and size > MAX_ENUMERATION)
    search = (_integer_program if use_ip else _enumerate)(
        blocks, base, limit, low, rows, 1 + n_alternatives)
    logger.info("recourse: %d people, %d blocks, %d combinations, %s", n, len(blocks), size,
                "integer program" if use_ip else "enumeration")

    cost = np.zeros(n)
    cost[rows] = search.cost[:, 0]
    best = np.zeros((n, len(blocks)), dtype=np.int64)
    best[rows] = np.maximum(search.choices[:, 0], 0)
    responsiveness = _responsiveness(card, action_set, blocks, base, limit, low, favourable,
                                     index)
    decision = classes[np.where(base > limit, 1, 0)]
    people = pd.DataFrame({
        "decision": decision,
        "favourable": favourable,
        "reachable": np.isfinite(cost),
        "cost": cost,
        "n_changes": (best > 0).sum(axis=1),
        "action": _describe(blocks, best, np.isfinite(cost)),
    }, index=index)
    reasons, with_recourse = _reasons(card, X, reference, low, favourable, responsiveness)
    people["reasons"] = reasons
    people["reasons_with_recourse"] = with_recourse
    actions = _flipsets(blocks, search, rows, index)
    return RecourseResult(people, actions, responsiveness, target, limit)


def _as_action_set(action_set) -> ActionSet:
    if isinstance(action_set, ActionSet):
        return action_set
    if isinstance(action_set, dict):
        return ActionSet.from_dict(action_set)
    if isinstance(action_set, str) or hasattr(action_set, "__fspath__"):
        return ActionSet.from_file(action_set)
    raise TypeError(
        "action_set must be an ActionSet, a dict or the path of a .json / .yaml file, got "
        f"{type(action_set).__name__}"
    )


def _responsiveness(card, action_set, blocks, base, limit, low, favourable, index):
    columns = {}
    block_of = {member: b for b in blocks for member in b.members}
    for name in card.variables:
        block = block_of.get(name)
        if block is None:
            share = np.zeros(len(base))
        else:
            attains = _attains(block.delta[:, 1:], base[:, None], limit, low)
            measure = block.measure[:, 1:]
            total = measure.sum(axis=1)
            with np.errstate(invalid="ignore", divide="ignore"):
                share = np.where(total > 0, (measure * attains).sum(axis=1) / total, 0.0)
        columns[name] = np.where(favourable, np.nan, share)
    return pd.DataFrame(columns, index=index)


def _reasons(card, X, reference, low, favourable, responsiveness):
    """Reason codes: variables on which a person has fewer favourable points than
    the variable can give (points lost, largest first), and those with recourse.
    """
    names = list(card.variables)
    if not names:
        empty = [""] * len(favourable)
        return empty, empty
    sign = 1.0 if low else -1.0
    lost = []
    for name in names:
        variable = card.variables[name]
        numeric = variable.kind != "categorical"
        current = sign * variable.contribution(card.raw_column(X, name, numeric=numeric))
        if variable.kind == "linear":
            seen = card.raw_column(reference, name, numeric=True)
            possible = sign * variable.points * np.array([seen.min(), seen.max()])
        else:
            possible = sign * _column_contributions(card.binarizer, name, variable.rules)
        lost.append(np.maximum(current - possible.min(), 0.0))
    against = np.where(favourable[:, None], 0.0, np.column_stack(lost))
    score = responsiveness.to_numpy()
    reasons, with_recourse = [], []
    order = np.argsort(-against, axis=1, kind="stable")
    for i in range(len(favourable)):
        if favourable[i]:
            reasons.append("")
            with_recourse.append("")
            continue
        mine = [j for j in order[i] if against[i, j] > 0]
        reasons.append(", ".join(names[j] for j in mine))
        helpful = sorted((j for j in mine if score[i, j] > 0), key=lambda j: -score[i, j])
        with_recourse.append(", ".join(f"{names[j]} ({score[i, j]:.2f})" for j in helpful))
    return reasons, with_recourse


def _value_text(value) -> str:
    if isinstance(value, float):
        return f"{value:.6g}"
    return str(value)


def _describe(blocks, chosen, reachable) -> list[str]:
    texts = []
    for i in range(len(chosen)):
        if not reachable[i]:
            texts.append("")
            continue
        parts = [
            f"{block.source}: {_value_text(block.new_value[i, 0])} -> "
            f"{_value_text(block.new_value[i, chosen[i, b]])}"
            for b, block in enumerate(blocks) if chosen[i, b] > 0
        ]
        texts.append("; ".join(parts))
    return texts


def _flipsets(blocks, search, rows, index) -> pd.DataFrame:
    labels = np.asarray(index)
    parts = []
    for rank in range(search.choices.shape[1]):
        found = np.isfinite(search.cost[:, rank])
        for b, block in enumerate(blocks):
            option = search.choices[:, rank, b]
            at = np.flatnonzero(found & (option > 0))
            people = rows[at]
            parts.append(pd.DataFrame({
                "position": at, "block": b, "person": labels[people], "rank": rank,
                "cost": search.cost[at, rank], "variable": block.source,
                "current": block.new_value[people, 0],
                "new": block.new_value[people, option[at]],
            }))
    columns = ["person", "rank", "cost", "variable", "current", "new"]
    if not parts:
        return pd.DataFrame(columns=columns)
    frame = pd.concat(parts, ignore_index=True).sort_values(
        ["position", "rank", "block"], kind="stable")
    return frame[columns].reset_index(drop=True)
