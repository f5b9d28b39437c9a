"""Which integer models are admissible at all, ignoring the loss.

A small MIP over the points alone (no loss, no callbacks: the part of CBC that
stayed correct on every problem checked by enumeration) answers two questions: give me any model
that obeys every constraint (a first incumbent when the empty model does not),
and, when there is none, which constraints conflict (a deletion filter that
keeps a minimal infeasible subset).
"""

from __future__ import annotations

import logging

import mip
import numpy as np

from ._lp import _quiet_c_stdout, release
from ._problem import RiskScoreProblem

__all__ = ["find_admissible_model", "explain_infeasibility"]

logger = logging.getLogger(__name__)


def _build(problem: RiskScoreProblem, keep_rows, keep_min, keep_max, free_bounds):
    """The admissibility MIP; ``free_bounds`` relaxes the point bounds of features."""
    d = problem.n_features
    model = mip.Model(sense=mip.MINIMIZE, solver_name=mip.CBC)
    model.verbose = 0
    model.threads = 0
    points, used = [], []
    for j in range(d):
        lo, hi = int(problem.coef_lower[j]), int(problem.coef_upper[j])
        if j in free_bounds:
            reach = max(abs(lo), abs(hi), 1)
            lo, hi = -reach, reach
        # l_j = p_j - q_j with p_j >= 1 iff the positive side is used, likewise q_j:
        # "used" then means exactly "non-zero", as in the objective.
        positive_on = model.add_var(var_type=mip.BINARY)
        negative_on = model.add_var(var_type=mip.BINARY)
        p = model.add_var(var_type=mip.INTEGER, lb=0, ub=max(hi, 0))
        q = model.add_var(var_type=mip.INTEGER, lb=0, ub=max(-lo, 0))
        model += p <= max(hi, 0) * positive_on
        model += p >= positive_on
        model += q <= max(-lo, 0) * negative_on
        model += q >= negative_on
        model += positive_on + negative_on <= 1
        points.append(p - q)
        used.append(positive_on + negative_on)
    n_used = mip.xsum(used)
    if keep_min and problem.min_features > 0:
        model += n_used >= problem.min_features
    if keep_max and problem.max_features is not None:
        model += n_used <= problem.max_features
    for k, row in enumerate(problem.constraints):
        if k not in keep_rows:
            continue
        expr = mip.xsum(float(a) * points[j] for j, a in enumerate(row.points_coef) if a)
        expr = expr + mip.xsum(float(c) * used[j] for j, c in enumerate(row.used_coef) if c)
        if np.isfinite(row.lower):
            model += expr >= float(row.lower)
        if np.isfinite(row.upper):
            model += expr <= float(row.upper)
    model.objective = mip.minimize(n_used)
    return model, points


def _solve(model) -> bool:
    with _quiet_c_stdout():
        status = model.optimize(max_seconds=30)
    return status in (mip.OptimizationStatus.OPTIMAL, mip.OptimizationStatus.FEASIBLE)


def find_admissible_model(problem: RiskScoreProblem) -> np.ndarray | None:
    """The sparsest points vector obeying every constraint, or None if none does."""
    rows = set(range(len(problem.constraints)))
    model, points = _build(problem, rows, True, True, set())
    try:
        if not _solve(model):
            return None
        return np.array([int(round(expr.x)) for expr in points], dtype=int)
    finally:
        release(model)


def explain_infeasibility(problem: RiskScoreProblem, bound_labels) -> list[str]:
    """A minimal set of named constraints that cannot hold together.

    Deletion filter: drop each item in turn and keep it dropped if what remains
    is still infeasible. Items are the constraint rows (by name), the feature
    limits and the point bounds of each feature (named by ``bound_labels[j]``).
    """
    items = [("row", name) for name in dict.fromkeys(r.name for r in problem.constraints)]
    if problem.min_features > 0:
        items.append(("min", None))
    if problem.max_features is not None:
        items.append(("max", None))
    d = problem.n_features
    restricted = [
        j for j in range(d)
        if problem.coef_lower[j] == problem.coef_upper[j] or problem.coef_lower[j] >= 0
        or problem.coef_upper[j] <= 0
    ]
    items += [("bounds", j) for j in restricted]

    def feasible(active):
        names = {name for kind, name in active if kind == "row"}
        keep_rows = {k for k, r in enumerate(problem.constraints) if r.name in names}
        bounded = {j for kind, j in active if kind == "bounds"}
        free = set(restricted) - bounded
        model, _ = _build(
            problem, keep_rows, ("min", None) in active, ("max", None) in active, free
        )
        try:
            return _solve(model)
        finally:
            release(model)

    active = list(items)
    if feasible(active):
        return []
    for item in list(items):
        trial = [x for x in active if x != item]
        if not feasible(trial):
            active = trial
    out = []
    for kind, value in active:
        if kind == "row":
            out.append(value)
        elif kind == "min":
            out.append(f"min_features={problem.min_features}")
        elif kind == "max":
            out.append(f"max_features={problem.max_features}")
        else:
            out.append(bound_labels[value])
    return out
