"""The cut-point policy: one place that decides how a column becomes binary rules.

:class:`~sk_riskscore.RiskScoreBinarizer` (rows in pandas) and
:func:`~sk_riskscore.spark.binarize_on_spark` (rows in Spark) both call these
functions; each passes its own way of counting rows, a ``count_below(value)``
function giving the number of training rows strictly below ``value``. A change
to binning (missing values, new strategies) is made here once.

The policy:

* **tie-aware quantiles**: for each level ``k / (n_thresholds + 1)``, the
  observed value whose share of rows below it is nearest the level (so a column
  that is 80% ones still gets "x >= 2"); every gap when a column has at most
  ``n_thresholds + 1`` distinct values;
* **readable thresholds**: each cut becomes the shortest decimal that splits
  the rows the same way, or one moving at most :data:`ROUNDING_SLACK` of the
  rows across it ("BMI >= 24.3", not "BMI >= 24.2891");
* a cut is kept only with ``min_frequency`` of the rows on each side;
* **frequent categories**: one ``"Sex = F"`` rule per category covering at
  least ``min_frequency`` of the rows, in a stable order;
* **missing and special values** never fall into a threshold: they are left
  out of the quantiles and every threshold rule gives them 0. Each one seen in
  training gets its own rule, ``"BMI is missing"`` (``missing="indicator"``)
  or ``"MSinceMostRecentDelq is -7"`` (a declared special value), so the card
  says what it scores; ``missing="error"`` refuses missing values instead.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable
from dataclasses import dataclass
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal

import numpy as np
import pandas as pd

__all__ = [
    "BINARY",
    "CATEGORICAL",
    "COLUMN_TYPES",
    "CONSTANT",
    "FEATURE_GROUPS_ATTR",
    "MISSING_OPTIONS",
    "NUMERIC",
    "ROUNDING_SLACK",
    "RULES_ATTR",
    "BinaryRule",
    "binary_rule",
    "category_order",
    "category_rules",
    "check_special_values",
    "check_unique_names",
    "count_below_from_value_counts",
    "cut_points",
    "excluded_value_rules",
    "format_category",
    "frequent_categories",
    "is_binary",
    "is_number",
    "json_value",
    "missing_value_error",
    "neighbour_pairs",
    "plain",
    "readable_candidates",
    "readable_cut",
    "slack_rows",
    "special_values_of",
    "split_special_values",
    "threshold_rules",
    "tie_aware_pairs",
]

#: Share of training rows a cut point may move across it to become a shorter number.
ROUNDING_SLACK = 0.01

#: Key of ``DataFrame.attrs`` under which :meth:`RiskScoreBinarizer.transform`
#: hands its feature groups to :class:`RiskScoreClassifier`.
FEATURE_GROUPS_ATTR = "sk_riskscore.feature_groups"

#: Key of ``DataFrame.attrs`` under which :meth:`RiskScoreBinarizer.transform`
#: hands its rules (a tuple of :class:`BinaryRule`, one per column) to
#: :class:`RiskScoreClassifier`, which resolves constraints on raw variables
#: ("Age") and monotone points with them.
RULES_ATTR = "sk_riskscore.rules"

#: How a binarizer reads an input column.
NUMERIC, BINARY, CATEGORICAL, CONSTANT = "numeric", "binary", "categorical", "constant"
COLUMN_TYPES = (NUMERIC, BINARY, CATEGORICAL, CONSTANT)

#: What a binarizer does with missing values (NaN, None): give them their own
#: rule, or refuse them.
MISSING_OPTIONS = ("indicator", "error")

_OPERATORS = (">=", "<", "==", "is")

CountBelow = Callable[[float], int]


@dataclass(frozen=True)
class BinaryRule:
    """One output feature: a comparison of one input column with a value.

    Parameters
    ----------
    column : str
        Input column the rule reads.
    operator : {">=", "<", "==", "is"}
        ``">="`` and ``"<"`` compare a numeric column (in float64) with
        ``threshold``; ``"=="`` tests equality with a category; ``"is"``
        tests for a missing value (``threshold=None``: NaN or None) or for a
        special value of a numeric column (a number such as ``-7``).
    threshold : float, str, int, bool or None
        The cut point (a float) for ``">="`` and ``"<"``; the category value
        for ``"=="``; ``None`` or the special value for ``"is"``.
    name : str
        Output feature name, e.g. ``"Age >= 60"`` or ``"BMI is missing"``.
    excluded : tuple of float, default=()
        Special values on which a ``">="`` or ``"<"`` rule gives 0, whatever
        the threshold (e.g. ``(-9.0, -8.0, -7.0)``). A missing value always
        gives 0 on a ``">="`` or ``"<"`` rule.

    Examples
    --------
    >>> import numpy as np
    >>> from sk_riskscore import BinaryRule
    >>> rule = BinaryRule("Age", ">=", 60.0, "Age >= 60")
    >>> rule.apply(np.array([59.0, 60.0, 71.5, np.nan])).tolist()
    [0.0, 1.0, 1.0, 0.0]
    >>> BinaryRule("BMI", "is", None, "BMI is missing").apply(
    ...     np.array([22.5, np.nan])).tolist()
    [0.0, 1.0]
    """

    column: str
    operator: str
    threshold: float | int | str | bool | None
    name: str
    excluded: tuple = ()

    def __post_init__(self):
        if self.operator not in _OPERATORS:
            raise ValueError(
                f"BinaryRule {self.name!r}: operator must be one of "
                f"{list(_OPERATORS)}, "
                f"got {self.operator!r}"
            )
        if self.operator in (">=", "<") or (self.operator == "is" and self.threshold is not None):
            object.__setattr__(self, "threshold", self._finite(self.threshold, "threshold"))
        excluded = tuple(self.excluded or ())
        if excluded and self.operator not in (">=", "<"):
            raise ValueError(
                f"BinaryRule {self.name!r}: only '>=' and '<' rules exclude special "
                f"values, not {self.operator!r} rules"
            )
        object.__setattr__(
            self, "excluded", tuple(sorted({self._finite(v, "excluded value") for v in excluded}))
        )

    def _finite(self, value, what) -> float:
        if isinstance(value, bool) or not isinstance(value, numbers.Real):
            raise TypeError(
                f"BinaryRule {self.name!r}: a {self.operator!r} rule needs a numeric "
                f"{what}, got {value!r}"
            )
        if not math.isfinite(float(value)):
            raise ValueError(f"BinaryRule {self.name!r}: {what} must be finite, got {value!r}")
        return float(value)

    @property
    def is_missing_rule(self) -> bool:
        """True for the rule of missing values, ``"column is missing"``."""
        return self.operator == "is" and self.threshold is None

    def apply(self, values) -> np.ndarray:
        """The rule on one column of values, as 0.0 / 1.0 floats.

        Numeric comparisons are done in float64; ``"=="`` compares numbers in
        float64 and anything else as Python objects. A missing value gives 0
        on every rule but the missing rule, and a special value in
        ``excluded`` 0 on a threshold.
        """
        values = np.asarray(values)
        if self.is_missing_rule:
            hit = (
                np.isnan(values.astype(np.float64))
                if values.dtype.kind in "biuf"
                else np.asarray(pd.isna(values), dtype=bool)
            )
        elif self.operator in (">=", "<", "is"):
            as_float = values.astype(np.float64)
            if self.operator == ">=":
                hit = as_float >= self.threshold
            elif self.operator == "<":
                hit = as_float < self.threshold
            else:
                hit = as_float == self.threshold
            # Explicit, though NaN compares False: Spark and ONNX must match it.
            hit &= ~np.isnan(as_float)
            if self.excluded:
                hit &= ~np.isin(as_float, self.excluded)
        elif values.dtype.kind in "biuf" and is_number(self.threshold):
            hit = values.astype(np.float64) == float(self.threshold)
        else:
            hit = _object_equal(values, self.threshold)
        return hit.astype(np.float64)

    def to_dict(self) -> dict:
        """Plain JSON-compatible description of the rule."""
        out = {
            "column": self.column,
            "operator": self.operator,
            "threshold": json_value(self.threshold, self.column),
            "name": self.name,
        }
        if self.excluded:
            out["excluded"] = list(self.excluded)
        return out


# -- numeric columns -----------------------------------------------------------


def slack_rows(n_rows: int) -> int:
    """Rows a readable threshold may move across the cut (none below 100 rows)."""
    return math.floor(ROUNDING_SLACK * n_rows)


def is_binary(distinct) -> bool:
    """A numeric column holding exactly 0 and 1 passes through as one feature."""
    return len(distinct) == 2 and distinct[0] == 0.0 and distinct[1] == 1.0


def binary_rule(column, excluded=()) -> BinaryRule:
    """The feature of a 0/1 column: the column itself, named after it."""
    return BinaryRule(column, ">=", 1.0, column, tuple(excluded))


def tie_aware_pairs(distinct, counts, n_rows, n_thresholds) -> list[tuple[float, float]]:
    """(value below, cut value) for each quantile cut, from exact value counts.

    For each level ``k / (n_thresholds + 1)`` the distinct value whose share of
    rows below it is nearest the level; every gap when there are few values.
    """
    below = np.concatenate([[0], np.cumsum(counts)[:-1]])
    if len(distinct) <= n_thresholds + 1:
        positions = np.arange(1, len(distinct))
    else:
        levels = np.arange(1, n_thresholds + 1) / (n_thresholds + 1)
        share_below = below[1:] / n_rows
        positions = 1 + np.argmin(np.abs(share_below[None, :] - levels[:, None]), axis=1)
    return neighbour_pairs(distinct, positions)


def neighbour_pairs(distinct, positions) -> list[tuple[float, float]]:
    """(distinct[p - 1], distinct[p]) for each valid position p, once each."""
    positions = np.unique(positions[(positions > 0) & (positions < len(distinct))])
    return [(float(distinct[p - 1]), float(distinct[p])) for p in positions]


def count_below_from_value_counts(distinct, counts) -> CountBelow:
    """``count_below`` for a column known by its sorted distinct values and counts."""
    cumulative = np.concatenate([[0], np.cumsum(counts)])

    def count_below(value: float) -> int:
        return int(cumulative[np.searchsorted(distinct, value, side="left")])

    return count_below


def cut_points(
    pairs, count_below: CountBelow, n_values, min_frequency, slack, *, n_rows=None
) -> list[float]:
    """Readable cut points leaving ``min_frequency`` of the rows on each side.

    ``n_values`` rows hold a regular value (``count_below`` counts among
    them); ``n_rows`` (default ``n_values``) also counts the missing and
    special values, and sets the share ``min_frequency`` is taken of.
    """
    needed = max(min_frequency * (n_values if n_rows is None else n_rows), 1)
    cuts = set()
    for low, high in pairs:
        cut = readable_cut(low, high, count_below, slack)
        below = count_below(cut)
        if min(below, n_values - below) >= needed:
            cuts.add(cut)
    return sorted(cuts)


def _readable_steps(high: float):
    """(floor, ceiling) of ``high`` at ever finer decimals, coarsest first."""
    exact = Decimal(repr(float(high)))  # shortest decimal that reads back as high
    start = -math.floor(math.log10(abs(high))) if high != 0 else 0
    for decimals in range(start, 18):
        step = Decimal(1).scaleb(-decimals)
        yield (
            float(exact.quantize(step, rounding=ROUND_FLOOR)),
            float(exact.quantize(step, rounding=ROUND_CEILING)),
        )


def readable_cut(low, high, count_below: CountBelow | None = None, slack: int = 0) -> float:
    """A short decimal cut point near ``high``, the lowest value it should include.

    Without ``slack`` the result ``t`` satisfies ``low < t <= high``: ``x >= t``
    splits the training values exactly as ``x >= high`` (``low`` and ``high``
    are neighbouring observed values) but reads better. With ``slack`` rows
    allowed to change sides (counted by ``count_below``), a shorter number may
    be chosen ("BMI >= 24.3" rather than "BMI >= 24.2891"). Never rounds
    coarser than the leading digit of ``high``.
    """
    rows_below = count_below(high) if slack else 0
    for down, up in _readable_steps(high):
        if low < down <= high:
            return down + 0.0  # drop a negative zero
        if slack:
            moved = {c: abs(count_below(c) - rows_below) for c in (down, up)}
            best = min(moved, key=moved.get)
            if moved[best] <= slack:
                return best + 0.0
    return float(high)


def readable_candidates(low, high, slack) -> list[float]:
    """Every value :func:`readable_cut` may pass to ``count_below`` (a superset).

    Lets a caller whose counts are costly (Spark) count them all in one pass.
    """
    values = [float(high)]
    for down, up in _readable_steps(high):
        values.append(down + 0.0)
        if low < down <= high:
            break
        if slack:
            values.append(up + 0.0)
    return values


def threshold_rules(
    column, cuts, directions, excluded=()
) -> tuple[list[BinaryRule], list[list[str]]]:
    """The rules of one numeric column's cuts, and its groups of nested thresholds.

    ``excluded`` are the column's special values, on which every threshold
    gives 0.
    """
    text = [format_number(t) for t in cuts]
    excluded = tuple(excluded)
    below = [
        BinaryRule(column, "<", t, f"{column} < {s}", excluded)
        for t, s in zip(cuts, text, strict=True)
    ]
    above = [
        BinaryRule(column, ">=", t, f"{column} >= {s}", excluded)
        for t, s in zip(cuts, text, strict=True)
    ]
    chosen = {"both": below + above, ">=": above, "<": below}[directions]
    groups = [
        [r.name for r in chosen if r.operator == op]
        for op in ("<", ">=")
        if sum(r.operator == op for r in chosen) > 1
    ]
    return chosen, groups


def check_unique_names(rules) -> None:
    """Refuse two rules with the same output name."""
    seen = {}
    for rule in rules:
        if rule.name in seen:
            raise ValueError(
                f"Two output features would both be named {rule.name!r} (columns "
                f"{seen[rule.name]!r} and {rule.column!r}); rename a column or a "
                "category so that every feature name is unique."
            )
        seen[rule.name] = rule.column


# -- missing and special values ------------------------------------------------


def special_values_of(special_values, column) -> tuple[float, ...]:
    """The special values of one numeric column, sorted: from a global list
    (every numeric column) or a per-column dict.
    """
    if special_values is None:
        return ()
    if isinstance(special_values, dict):
        special_values = special_values.get(column, ())
    return tuple(sorted({float(v) for v in special_values}))


def check_special_values(special_values, names, categorical) -> None:
    """Refuse special values that are not finite numbers, or that name a column
    not in ``names`` or one of the ``categorical`` columns.
    """
    if special_values is None:
        return
    if isinstance(special_values, dict):
        lists = list(special_values.items())
    else:
        lists = [(None, special_values)]
    unknown = sorted(str(c) for c, _ in lists if c is not None and c not in names)
    if unknown:
        raise ValueError(
            f"special_values names columns not in X: {unknown}. Columns are "
            f"{list(names)[:20]}{' ...' if len(names) > 20 else ''}."
        )
    for column, values in lists:
        where = "special_values" if column is None else f"special_values[{column!r}]"
        if isinstance(values, (str, bytes)) or not isinstance(values, (list, tuple)):
            raise ValueError(
                f"{where} must be a list of numbers, e.g. [-7, -8, -9]; got {values!r}."
            )
        bad = [v for v in values if not is_number(v) or not math.isfinite(float(v))]
        if bad:
            raise ValueError(
                f"{where} must hold finite numbers (missing values have their own rule, "
                f"see the missing parameter); got {bad}."
            )
        if column in categorical:
            raise ValueError(
                f"special_values names the categorical column {column!r}; special values "
                "are for numeric columns (a categorical column's codes are categories "
                "already). Remove it from special_values."
            )


def split_special_values(distinct, counts, specials):
    """(regular distinct values, their counts, {special value: count}).

    ``distinct`` (sorted, finite) and ``counts`` describe a column without its
    missing values; the special values seen are taken out.
    """
    distinct = np.asarray(distinct, dtype=np.float64)
    counts = np.asarray(counts, dtype=np.int64)
    special = np.isin(distinct, specials)
    seen = {float(v): int(c) for v, c in zip(distinct[special], counts[special], strict=True)}
    return distinct[~special], counts[~special], seen


def missing_value_error(column, count, *, where="") -> ValueError:
    """The error of ``missing="error"`` (and of NaN in a Spark job told to refuse it)."""
    return ValueError(
        f"Column {column!r} has {count} missing value(s) (NaN or None){where}. With "
        "missing='error' RiskScoreBinarizer refuses them: impute them first (e.g. "
        "sklearn.impute.SimpleImputer in the Pipeline) or drop the rows, or use "
        "missing='indicator' to give them their own rule."
    )


def excluded_value_rules(column, n_missing, special_counts, n_rows, missing) -> list[BinaryRule]:
    """The rules of one column's missing and special values seen in training.

    One ``"column is missing"`` rule when ``missing="indicator"`` and the column
    has missing values (``missing="error"`` raises), and one ``"column is -7"``
    rule per special value present, in increasing order. Every value seen
    gets its rule whatever ``min_frequency``: a card must say what a missing
    or special value scores, and the solver gives it points only if they pay.
    A value held by every row gives no rule (it would be constant).
    """
    rules = []
    if n_missing and missing == "error":
        raise missing_value_error(column, n_missing)
    if 0 < n_missing < n_rows:
        rules.append(BinaryRule(column, "is", None, f"{column} is missing"))
    for value, count in sorted(special_counts.items()):
        if 0 < count < n_rows:
            rules.append(BinaryRule(column, "is", value, f"{column} is {format_number(value)}"))
    return rules


# -- categorical columns -------------------------------------------------------


def category_order(uniques) -> list[int]:
    """Sorted when the categories compare (all numbers or all text), else by text."""
    try:
        return sorted(range(len(uniques)), key=lambda i: uniques[i])
    except TypeError:
        return sorted(
            range(len(uniques)),
            key=lambda i: (type(uniques[i]).__name__, str(uniques[i])),
        )


def frequent_categories(values, counts, n_rows, min_frequency):
    """(all categories, those covering ``min_frequency`` of the rows), in order."""
    order = category_order(values)
    needed = min_frequency * n_rows
    known = tuple(values[i] for i in order)
    kept = tuple(values[i] for i in order if counts[i] >= needed and counts[i] > 0)
    return known, kept


def category_rules(column, categories) -> list[BinaryRule]:
    """One ``"column = category"`` rule per category."""
    return [BinaryRule(column, "==", c, f"{column} = {format_category(c)}") for c in categories]


# -- values --------------------------------------------------------------------


def format_number(value: float) -> str:
    return np.format_float_positional(float(value), trim="-")


def format_category(value) -> str:
    if isinstance(value, float):
        return format_number(value)
    return str(value)


def is_number(value) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


def _object_equal(values: np.ndarray, category) -> np.ndarray:
    objects = values.astype(object)
    hit = objects == category
    if isinstance(hit, np.ndarray) and hit.shape == objects.shape:
        return hit.astype(bool)
    return np.fromiter((v == category for v in objects), dtype=bool, count=len(objects))


def plain(value):
    """Numpy scalars to Python scalars, so categories compare and serialize."""
    if isinstance(value, np.generic):
        return value.item()
    return value


def json_value(value, column):
    value = plain(value)
    if isinstance(value, float) and not math.isfinite(value):
        raise ValueError(f"Column {column!r}: {value!r} cannot be written to JSON")
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    raise TypeError(
        f"Column {column!r} has the category {value!r} of type {type(value).__name__}, "
        "which JSON cannot hold; convert the column to strings or numbers first."
    )
