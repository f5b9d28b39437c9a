"""Brute-force ground truth: enumerate every admissible integer model.

Independent of the solver's code: raw rows, no compression, no LP. For every
vector of points the best integer intercept is found exactly by bisection on
``f(b + 1) - f(b)``, which is non-decreasing because the loss is convex in b;
a real intercept by bisection on the sign of ``f'(b)`` to below 1e-12.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np


@dataclass
class Enumerated:
    objective: float
    points: np.ndarray  # (n_optimal, d) every model attaining the optimum (within 1e-12)
    intercepts: np.ndarray
    n_models: int


def _losses(X, y, w, L, b, scale=1.0):
    """Loss of each model (rows of L) with intercepts b, from raw rows."""
    scores = (X @ L.T + b[None, :]) / scale
    return (w @ np.logaddexp(0.0, -y[:, None] * scores)) / w.sum()


def _slopes(X, y, w, L, b, scale):
    """Derivative of each model's loss in its intercept."""
    margins = y[:, None] * (X @ L.T + b[None, :]) / scale
    with np.errstate(over="ignore"):  # a steep scale's large margins: exp is inf, the term 0
        return (w @ (-y[:, None] / (1.0 + np.exp(margins)))) / (w.sum() * scale)


@dataclass
class AllModels:
    """Every admissible points vector with its best intercept and objective."""

    points: np.ndarray  # (n_models, d)
    intercepts: np.ndarray
    objectives: np.ndarray


def enumerate_models(
    X, y, w, coef_lower, coef_upper, intercept_lower, intercept_upper, c0,
    min_features=0, max_features=None, rows=(), chunk=4000, scale=1.0,
    real_intercept=False, admissible=None,
) -> AllModels:
    """``admissible(candidates)`` (rows of points in, a boolean mask out) filters
    the models by a constraint's own meaning, independently of compiled rows."""
    d = X.shape[1]
    ranges = [range(int(lo), int(hi) + 1) for lo, hi in zip(coef_lower, coef_upper)]
    candidates = np.array(list(itertools.product(*ranges)), dtype=float).reshape(-1, d)
    support = np.count_nonzero(candidates, axis=1)
    keep = support >= min_features
    if max_features is not None:
        keep &= support <= max_features
    used = (candidates != 0).astype(float)
    for row in rows:
        activity = candidates @ row.points_coef + used @ row.used_coef
        keep &= (activity >= row.lower - 1e-9) & (activity <= row.upper + 1e-9)
    if admissible is not None:
        keep &= np.asarray(admissible(candidates), dtype=bool)
    candidates = candidates[keep]
    objectives, intercepts = [np.zeros(0)], [np.zeros(0)]
    for start in range(0, len(candidates), chunk):
        L = candidates[start : start + chunk]
        if real_intercept:
            lo = np.full(len(L), float(intercept_lower))
            hi = np.full(len(L), float(intercept_upper))
            while np.max(hi - lo) > 1e-12:
                mid = 0.5 * (lo + hi)
                rising = _slopes(X, y, w, L, mid, scale) > 0
                hi = np.where(rising, mid, hi)
                lo = np.where(rising, lo, mid)
        else:
            lo = np.full(len(L), int(intercept_lower))
            hi = np.full(len(L), int(intercept_upper))
            while np.any(lo < hi):
                mid = (lo + hi) // 2
                rising = (_losses(X, y, w, L, mid + 1.0, scale)
                          >= _losses(X, y, w, L, mid.astype(float), scale))
                hi = np.where(rising & (lo < hi), mid, hi)
                lo = np.where(~rising & (lo < hi), mid + 1, lo)
        loss = _losses(X, y, w, L, lo.astype(float), scale)
        objectives.append(loss + (L != 0) @ np.asarray(c0, dtype=float))
        intercepts.append(lo)
    return AllModels(candidates.astype(int), np.concatenate(intercepts),
                     np.concatenate(objectives))


def enumerate_optimum(*args, **kwargs) -> Enumerated:
    models = enumerate_models(*args, **kwargs)
    d = models.points.shape[1]
    if len(models.objectives) == 0:
        return Enumerated(np.inf, np.zeros((0, d)), np.zeros(0), 0)
    best = models.objectives.min()
    ties = models.objectives <= best + 1e-12
    return Enumerated(float(best), models.points[ties].astype(float), models.intercepts[ties],
                      len(models.objectives))


def enumerate_fitted_scale(X, y, w, coef_lower, coef_upper, c0, max_features=None):
    """The best fitted-scale model: every admissible points vector with its own
    Platt fit ``1 / (1 + exp(-(a x.points + c)))`` (scikit-learn's unpenalised
    logistic regression on the score, ``a >= 0``). Returns (objective, points, a)."""
    from sklearn.linear_model import LogisticRegression

    ranges = [range(int(lo), int(hi) + 1) for lo, hi in zip(coef_lower, coef_upper)]
    best = (np.inf, None, None)
    for points in itertools.product(*ranges):
        points = np.array(points, dtype=float)
        if max_features is not None and np.count_nonzero(points) > max_features:
            continue
        score = (X @ points).reshape(-1, 1)
        fit = LogisticRegression(C=np.inf, tol=1e-12, max_iter=10_000).fit(
            score, y, sample_weight=w)
        a, c = float(fit.coef_[0, 0]), float(fit.intercept_[0])
        if a < 0:
            continue  # a negative scale flips the score: not a risk score of these points
        loss = w @ np.logaddexp(0.0, -y * (a * score[:, 0] + c)) / w.sum()
        objective = loss + float(np.asarray(c0) @ (points != 0))
        if objective < best[0]:
            best = (float(objective), points.astype(int), a)
    return best
