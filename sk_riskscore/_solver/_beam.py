"""Sparse beam search on the continuous problem: good supports for a first incumbent.

Greedy coordinate descent from the empty model (``IntegerSearch.polish``) can
lock into a poor support on data sets with many correlated binary features
(adult: 0.410 against an optimum of 0.383). Like FasterRisk's sparse beam
search, this keeps the ``width`` best supports of each size, grows each by the
features with the steepest loss gradient, and fits the continuous logistic
regression (within the point bounds) on every grown support. The supports it
returns are rounded and polished into integer models by the caller.
"""

from __future__ import annotations

import time

import numpy as np

from ._loss import LossOracle

__all__ = ["beam_supports"]


def _fit(oracle: LossOracle, support: tuple, lower, upper, start=None, iterations=25):
    """Continuous logistic regression on ``support`` (+ intercept), box-clipped Newton.

    ``start`` warm-starts from the parent support's fit (new feature at 0).
    """
    Xs = oracle.X[:, support]
    design = np.column_stack([np.ones(len(Xs)), Xs])
    lo = np.concatenate([[-np.inf], lower[list(support)]])
    hi = np.concatenate([[np.inf], upper[list(support)]])
    beta = np.zeros(design.shape[1]) if start is None else np.asarray(start, dtype=float)
    loss = oracle.loss_from_scores(design @ beta) if start is not None else np.inf
    for _ in range(iterations):
        scores = design @ beta
        gradient = design.T @ oracle.slopes(scores)
        curvature = oracle.curvatures(scores)
        hessian = design.T @ (design * curvature[:, None])
        hessian[np.diag_indices_from(hessian)] += 1e-8
        step = np.linalg.solve(hessian, gradient)
        new = np.clip(beta - step, lo, hi)
        new_loss = oracle.loss_from_scores(design @ new)
        if new_loss > loss - 1e-12:
            break
        converged = loss - new_loss < 1e-8 * max(new_loss, 1e-12)
        beta, loss = new, new_loss
        if converged:
            break
    if not np.isfinite(loss):
        loss = oracle.loss_from_scores(design @ beta)
    return beta, loss


def beam_supports(oracle: LossOracle, lower, upper, max_support: int, width: int = 8,
                  screen: int = 6, deadline: float = np.inf):
    """The best supports of each size up to ``max_support`` with their fits.

    Returns a list of ``(support, intercept, coefficients, loss)`` of the last
    two levels reached before ``deadline`` (a ``time.perf_counter()`` value),
    best first.
    """
    lower = np.asarray(lower, dtype=float)
    upper = np.asarray(upper, dtype=float)
    allowed = np.flatnonzero((lower < 0) | (upper > 0))
    allowed_columns = np.ascontiguousarray(oracle.X[:, allowed].T)
    fits = {(): _fit(oracle, (), lower, upper)}
    beam = [()]
    levels = []
    for _ in range(min(max_support, len(allowed))):
        if time.perf_counter() > deadline:
            break
        grown = {}
        for support in beam:
            beta, _ = fits[support]
            scores = beta[0] + oracle.X[:, list(support)] @ beta[1:]
            gradient = np.abs(allowed_columns @ oracle.slopes(scores))
            gradient[np.isin(allowed, support)] = -1.0
            for j in allowed[np.argsort(gradient)[::-1][:screen]]:
                if j in support:
                    continue
                key = tuple(sorted((*support, int(j))))
                if key not in fits:
                    parent = dict(zip(support, beta[1:]))
                    start = [beta[0]] + [parent.get(f, 0.0) for f in key]
                    fits[key] = _fit(oracle, key, lower, upper, start=start)
                grown[key] = fits[key][1]
        if not grown:
            break
        beam = sorted(grown, key=grown.get)[:width]
        levels.append(beam)
    out = []
    for level in levels[-2:][::-1]:
        for support in level:
            beta, loss = fits[support]
            out.append((support, beta[0], beta[1:], loss))
    return out
