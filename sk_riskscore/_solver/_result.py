"""What a solve returns: small immutable objects, no dictionaries of settings."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field

import numpy as np

__all__ = [
    "Progress",
    "ScoreModel",
    "SolverError",
    "SolverResult",
    "SolverStatistics",
    "SolverStatus",
]


class SolverError(RuntimeError):
    """The LP/MIP engine failed in a way the solver could not recover from."""


class SolverStatus(str, enum.Enum):
    """How a solve ended.

    ``OPTIMAL`` is reported only when the recomputed objective of the returned
    model and the proven lower bound agree within the gap tolerance.
    ``CUTOFF`` ends only a search given a cutoff (the scale search's scales):
    no model beats it, and the lower bound is at least the cutoff.
    ``INCOMPLETE``: part of the tree could not be searched (a search worker
    process was lost); that part keeps the bound it last reported, so the
    lower bound holds, but the gap may be open.
    """

    OPTIMAL = "optimal"
    TIME_LIMIT = "time_limit"
    NODE_LIMIT = "node_limit"
    INFEASIBLE = "infeasible"
    ERROR = "error"
    CUTOFF = "cutoff"
    INCOMPLETE = "incomplete"


@dataclass(frozen=True)
class ScoreModel:
    """One model (integer points) and its exact objective.

    The intercept is an integer unless the problem has a real intercept.
    """

    points: np.ndarray
    intercept: int | float
    objective: float
    loss: float

    @property
    def support(self) -> int:
        return int(np.count_nonzero(self.points))

    def key(self) -> tuple:
        # a real intercept is a function of the points, computed to ~1e-12
        return (round(float(self.intercept), 6), *map(int, self.points))


@dataclass(frozen=True)
class SolverStatistics:
    time: float = 0.0
    time_to_first_incumbent: float = float("nan")
    n_nodes: int = 0
    n_cuts: int = 0
    n_lp_solves: int = 0
    n_incumbent_updates: int = 0
    n_distinct_rows: int = 0
    backend: str = ""
    backend_fallbacks: int = 0
    # the root's LP-free bound: the lattice bound where it applies (integer
    # scores, many rows), else the tangent-plane dual bound; -inf when none
    root_dual_bound: float = float("-inf")
    # processes that searched the tree (1 unless n_jobs asked for more and the
    # root left the tree open)
    n_jobs: int = 1
    # the proven lower bound when half of ``time`` had passed (-inf if none was
    # proven by then): whether the bound still rose late in the search says
    # whether more time is likely to narrow the gap. After a scale search's two
    # searches of its chosen scale: at half the second one's time, the first
    # one's bound included
    lower_bound_at_half_time: float = float("-inf")


@dataclass(frozen=True)
class SolverResult:
    """Best model found, its certificate and how the solve went.

    ``objective`` is recomputed from the data at ``model``, never read from the
    engine; ``lower_bound`` is the proven bound on every admissible model;
    ``gap = (objective - lower_bound) / objective``.
    """

    model: ScoreModel | None
    objective: float
    lower_bound: float
    gap: float
    status: SolverStatus
    statistics: SolverStatistics
    pool: tuple[ScoreModel, ...] = field(default_factory=tuple)
    message: str = ""
    score_scale: float = 1.0


@dataclass(frozen=True)
class Progress:
    """A snapshot handed to progress callbacks during a solve."""

    elapsed: float
    objective: float
    lower_bound: float
    gap: float
    n_nodes: int
    n_open_nodes: int
    n_cuts: int


def relative_gap(objective: float, lower_bound: float) -> float:
    if not np.isfinite(objective):
        return float("inf")
    return float(max(0.0, objective - lower_bound) / max(abs(objective), 1e-12))
