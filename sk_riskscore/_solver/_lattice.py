"""Lower bounds for integer models from the loss between integer scores.

With integer columns, integer points and an integer intercept, every score is
an integer. Each row's loss may then be replaced by its piecewise-linear
interpolation between consecutive integer scores (as
``LossOracle.lattice_loss_and_gradient`` does for one cut): it equals the loss
at every integer score and stays convex. A line through the interpolation's
vertex ``k`` with a slope between the chords on either side of ``k`` lies
under it, so under the row's loss at every integer score. One such line per
row sums to an affine function ``T(b, l)`` that no integer model's loss is
under, and ``DualBound.vertex`` minimises ``T + c0 . z`` exactly over a node's
integer models (a top-k sum). The bound is valid whatever lines are chosen.

The continuous relaxation cannot see that the scores are integers: a model
whose best real intercept is -0.3 looks 0.3 better than it is, and many small
points (each a fraction of one) stand in for the intercept's fraction. On
500,000 random 0/1 rows x 60 columns with k = 5 the continuous optimum is
0.31802 and the integer one 0.32271: a 1.45 % gap that no branching on
supports closes. These lines bound it at 0.32260 at the root.

The lines come from a smoothed interpolation (each kink rounded over a width
of ``2 mu``, so it is differentiable) minimised over the node's box by L-BFGS-B
(scipy), warm-started from the parent's point: at each row's score its
derivative is one of the slopes allowed at the nearest integer. The
minimisation only chooses the lines; the bound is computed from them alone.
"""

from __future__ import annotations

import time

import numpy as np
from scipy.optimize import minimize

from ._dual import DualBound
from ._loss import LossOracle

__all__ = ["LatticeBound"]

# Relative to the magnitudes summed, as DualBound's.
_SAFETY = 1e-11
# The kinks' half-width, widest first: a wide rounding converges in few steps,
# a narrow one follows the kinks closer (500,000 rows, root: 0.32253 after
# 0.5, 0.32260 after 0.2, 0.32248 after 0.1 in as many steps).
_SMOOTHING = (0.5, 0.2)
# ``refine`` goes on to narrower widths, each to L-BFGS-B's tightest
# tolerances, where the default ones stop it after a few steps (binarized
# heloc, k = 7, root: 0.55866 against 0.55749 in 0.9 s).
_NARROWER_SMOOTHING = (0.1, 0.05, 0.02, 0.01)
_NARROWER_TOLERANCES = {"ftol": 1e-15, "gtol": 1e-12}


class LatticeBound:
    """Node bounds for integer models from lines under the lattice loss.

    Parameters
    ----------
    dual : DualBound
        Over an oracle whose rows are integral, without shift (see
        ``applies``): its rows, and its ``vertex``, which minimises the summed
        lines over a node.
    """

    def __init__(self, dual: DualBound):
        self.dual = dual
        self.X, self.columns, self.d = dual.X, dual.XT, dual.d
        self.weight, self.scale = dual.weight, dual.scale
        self._negative_slope = dual.negative_weight / dual.scale
        # the softplus part at integer scores, from the oracle's table of them
        self._softplus_and_chords = dual.oracle.softplus_and_chords
        self.n_evaluations = 0

    @staticmethod
    def applies(oracle: LossOracle, integer_intercept: bool) -> bool:
        return integer_intercept and oracle.integral and not oracle.shift

    def _lines(self, scores: np.ndarray, mu: float):
        """Per row: the nearest integer score, the smoothed interpolation's
        softplus part there and its derivative (a chord or between the two
        chords at that integer), both before the row's weight.

        Within ``mu`` of the vertex the kink is a parabola: the slope moves
        from the left chord to the right one by the share ``c`` of the width
        passed, and the value gains ``(right - left) mu c^2`` over the left
        line (past the width, the right line's ``(right - left) offset``).
        """
        vertex = np.round(scores)
        offset = scores - vertex  # in [-1/2, 1/2]
        at, left, right = self._at_integers(vertex)
        rise = right - left
        passed = offset + mu
        passed *= 0.5 / mu
        np.clip(passed, 0.0, 1.0, out=passed)
        slope = rise * passed
        slope += left
        beyond = offset - mu
        np.maximum(beyond, 0.0, out=beyond)
        passed *= passed
        passed *= mu
        passed += beyond
        passed *= rise
        value = left * offset
        value += at
        value += passed
        return vertex, at, value, slope

    def _at_integers(self, vertex: np.ndarray):
        """Per row: the softplus part at the integer score ``vertex`` and the
        chords to its neighbours, read from the oracle's table of integer
        scores (three softplus evaluations per row were 40 % of a search's
        time: binarized adult, k = 10).
        """
        return self._softplus_and_chords(vertex.astype(np.int64))

    def _smoothed(self, x: np.ndarray, mu: float):
        """The smoothed lattice loss and its gradient at ``x = [b, l]``."""
        self.n_evaluations += 1
        scores = self.X @ x[1:]
        scores += x[0]
        _, _, value, slope = self._lines(scores, mu)
        slope *= self.weight
        slope += self._negative_slope  # the rows' slopes
        loss = float(self.weight @ value + self._negative_slope @ scores)
        gradient = np.empty(len(x))
        gradient[0] = slope.sum()
        gradient[1:] = self.columns @ slope
        return loss, gradient

    def bound_at(self, x: np.ndarray, lower: np.ndarray, upper: np.ndarray,
                 mu: float) -> float:
        """The bound from the lines at ``x = [b, l]`` (anywhere): valid for
        every integer model within ``lower``/``upper`` (layout ``[b, l, z]``),
        ``inf`` where there is none.
        """
        scores = x[0] + self.X @ x[1:]
        vertex, at, _, slope = self._lines(scores, mu)
        row_slopes = self.weight * slope + self._negative_slope
        # each row: weight (at + slope (s - vertex)) + negative_weight s / scale
        constant = self.weight * (at - slope * vertex)
        value, intercept, points, _ = self.dual.vertex(row_slopes, lower, upper)
        if not np.isfinite(value):
            return np.inf
        used = points != 0
        vertex_scores = intercept + self.X[:, used] @ points[used]
        magnitude = (float(np.abs(constant).sum()) + abs(value)
                     + float(np.abs(row_slopes) @ np.abs(vertex_scores)))
        return float(constant.sum() + value - _SAFETY * (1.0 + magnitude))

    def bound(self, start: np.ndarray, lower: np.ndarray, upper: np.ndarray,
              iterations: int, deadline: float = np.inf, target: float = np.inf):
        """The best bound from lines chosen by minimising the smoothed lattice
        loss over the box of ``lower``/``upper`` from ``start`` (``[b, l]``,
        clipped into it), ``iterations`` L-BFGS-B steps per smoothing width
        (fewer past ``deadline``); stops once the bound reaches ``target``.

        Returns ``(bound, point)``: ``point`` a warm start for the children.
        """
        return self._descend(start, lower, upper, iterations, deadline, target,
                             [(mu, {}) for mu in _SMOOTHING])

    def refine(self, point: np.ndarray, lower: np.ndarray, upper: np.ndarray,
               iterations: int, deadline: float = np.inf, target: float = np.inf) -> float:
        """:meth:`bound` gone on from its ``point`` over narrower widths, each
        to tight tolerances: usually a higher bound for the same models (the
        search keeps the root's beside the tree, see
        ``BranchAndBound._lattice_bounded``).
        """
        return self._descend(point, lower, upper, iterations, deadline, target,
                             [(mu, _NARROWER_TOLERANCES) for mu in _NARROWER_SMOOTHING])[0]

    def _descend(self, start, lower, upper, iterations, deadline, target, widths):
        """L-BFGS-B over the node's box per ``(width, tolerances)``: the best bound
        of their lines and the last point.
        """
        d = self.d
        lo = np.where(upper[1 + d :] > 0.5, lower[1 : 1 + d], 0.0)
        hi = np.where(upper[1 + d :] > 0.5, upper[1 : 1 + d], 0.0)
        box_lower = np.concatenate([[lower[0]], lo])
        box_upper = np.concatenate([[upper[0]], hi])
        if np.any(box_lower > box_upper):
            return np.inf, start
        x = np.clip(start, box_lower, box_upper)
        best = -np.inf
        for mu, tolerances in widths:
            if time.perf_counter() >= deadline:
                break
            found = minimize(self._smoothed, x, args=(mu,), jac=True, method="L-BFGS-B",
                             bounds=np.column_stack([box_lower, box_upper]),
                             options={"maxiter": iterations, **tolerances})
            x = np.clip(found.x, box_lower, box_upper)
            best = max(best, self.bound_at(x, lower, upper, mu))
            if best >= target:
                break
        return best, x
