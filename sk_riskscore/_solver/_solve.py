"""One certified solve: the search, then the independent check of its answer."""

from __future__ import annotations

from ._branch_and_bound import BranchAndBound
from ._certify import certify
from ._problem import RiskScoreProblem
from ._result import SolverResult

__all__ = ["solve"]

def solve(problem: RiskScoreProblem, **options) -> SolverResult:
    """Solve ``problem`` and certify the answer independently of the search.

    ``options`` are those of :class:`BranchAndBound`. The returned model's
    objective is recomputed here from the raw rows (not the compressed ones the
    search used) and "optimal" is kept only if it agrees with the search's
    value and with the proven lower bound within the gap tolerance.
    """
    result = BranchAndBound(problem, **options).solve()
    return certify(problem, result, options.get("gap_tolerance", 1e-4))
