"""A solver fault must never take the process down or pass unnoticed."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from sk_riskscore import RiskScoreClassifier, SolverError
from sk_riskscore._solver import SolverStatus, certify, solve
from sk_riskscore._solver._lp import RelaxationLP

from .test_solver_oracle import ground_truth, random_problem


def _failing_after(calls: int, backend: str):
    real = RelaxationLP.solve
    counter = {"n": 0}

    def solve_or_fail(self):
        if self.backend == backend:
            counter["n"] += 1
            if counter["n"] > calls:
                raise SolverError(f"simulated {backend} crash")
        return real(self)

    return solve_or_fail


def test_engine_failure_falls_back_to_the_other_engine_with_a_warning(monkeypatch):
    problem, truth = random_problem(7), ground_truth(7)
    monkeypatch.setattr(RelaxationLP, "solve", _failing_after(5, "cbc"))
    with pytest.warns(RuntimeWarning, match="simulated cbc crash.*'highs' engine"):
        result = solve(problem, backend="cbc", gap_tolerance=1e-9)
    assert result.status == SolverStatus.OPTIMAL
    assert result.statistics.backend == "highs"
    assert result.statistics.backend_fallbacks == 1
    assert result.objective == pytest.approx(truth.objective, abs=1e-9)


def test_both_engines_failing_is_a_clear_error_not_a_wrong_answer(monkeypatch, mammo):
    real = RelaxationLP.solve
    counter = {"n": 0}

    def always_fail_after_three(self):
        counter["n"] += 1
        if counter["n"] > 3:
            raise SolverError(f"simulated {self.backend} crash")
        return real(self)

    monkeypatch.setattr(RelaxationLP, "solve", always_fail_after_three)
    X, y = mammo
    with pytest.warns(RuntimeWarning, match="simulated cbc crash"):
        with pytest.raises(SolverError, match="could not produce a trustworthy model"):
            RiskScoreClassifier(max_features=3).fit(X, y)


def test_an_engine_that_cannot_start_is_reported_clearly(monkeypatch, mammo):
    import mip

    def broken(*args, **kwargs):
        raise OSError("libCbc.so: cannot open shared object file")

    monkeypatch.setattr(mip, "Model", broken)
    X, y = mammo
    with pytest.raises(SolverError, match="could not start the 'cbc' LP engine"):
        RiskScoreClassifier(max_features=2).fit(X, y)


@pytest.mark.parametrize("backend", ["cbc", "highs"])
def test_stress_many_solves_with_limits(backend):
    """Many solves with node limits: no crash, honest bounds."""
    rng = np.random.default_rng(123)
    # 40 draws reach 32 of the 100 problems, each with a random node limit. Most
    # of the cost is the brute-force ground truth of each new problem, computed
    # again in every pytest-xdist worker; 110 draws (66 problems) cost about twice as much.
    for _ in range(40):
        seed = int(rng.integers(0, 100))
        problem = random_problem(seed)
        limit = int(rng.integers(1, 30))
        result = solve(problem, backend=backend, max_nodes=limit, gap_tolerance=1e-9)
        assert result.status in (SolverStatus.OPTIMAL, SolverStatus.NODE_LIMIT)
        assert result.lower_bound <= ground_truth(seed).objective + 1e-9
        assert result.objective >= ground_truth(seed).objective - 1e-9


def test_ctrl_c_swallowed_on_the_way_still_stops_the_solve(breastcancer):
    import os
    import signal
    import time

    from sk_riskscore import RiskScoreBinarizer
    from sk_riskscore._solver import RiskScoreProblem

    # a hard problem: breastcancer binarized (40 columns), k=5; unstopped, it
    # runs to its 60 s limit (gap 0.2 after 60 s), and its root is quick, so
    # the progress callback below runs soon. (Mammo with every feature and
    # points in [-10, 10] was hard until lattice cuts closed it at the root.)
    X, y = breastcancer
    Xa = np.asarray(RiskScoreBinarizer().fit(X, y).transform(X), dtype=float)
    signs = np.where(y.to_numpy() == 1, 1, -1)
    d = Xa.shape[1]
    problem = RiskScoreProblem(Xa, signs, np.ones(len(signs)), np.full(d, -5), np.full(d, 5),
                               -30, 30, np.full(d, 1e-6), 0, 5)

    def swallowing_callback(progress):
        # a callback (or engine) with a broad except that eats the interrupt
        try:
            os.kill(os.getpid(), signal.SIGINT)
            time.sleep(0.05)
        except KeyboardInterrupt:
            pass

    # as in an interactive session (a job started in the background by a shell
    # inherits SIGINT ignored, and Python then keeps ignoring it)
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        start = time.perf_counter()
        with pytest.raises(KeyboardInterrupt):
            solve(problem, time_limit=60, progress=swallowing_callback)
        assert time.perf_counter() - start < 20
        assert signal.getsignal(signal.SIGINT) is signal.default_int_handler
    finally:
        signal.signal(signal.SIGINT, previous)


@pytest.mark.parametrize("scale", [3.0, 6.664555])
def test_real_intercept_optimum_never_above_the_integer_one(breastcancer, scale):
    """A real intercept relaxes the integer one, so its certified optimum can only
    be lower. At these scales CBC once called feasible LPs infeasible (cuts with
    ~1e-17 coefficients) and reported non-optimal LP optima as optimal; the
    solver then certified models 7-60% worse than the integer optimum."""
    import dataclasses

    from sklearn.model_selection import train_test_split

    from sk_riskscore._solver import RiskScoreProblem, intercept_bound

    X, _, y, _ = train_test_split(*breastcancer, test_size=0.2, random_state=0)
    Xa, s = X.to_numpy(float), np.where(y.to_numpy() == 1, 1, -1)
    d = Xa.shape[1]
    lo, hi = np.full(d, -5), np.full(d, 5)
    w = np.ones(len(s))
    reach = intercept_bound(Xa, s, w, lo, hi, 5, scale)
    integer = RiskScoreProblem(Xa, s, w, lo, hi, -reach, reach, np.full(d, 1e-6), 0, 5,
                               score_scale=scale)
    real = dataclasses.replace(integer, integer_intercept=False)
    whole = solve(integer, time_limit=60, gap_tolerance=1e-6)
    relaxed = solve(real, time_limit=60, gap_tolerance=1e-6)
    assert whole.status == relaxed.status == SolverStatus.OPTIMAL
    # handled by the primary engine, not by falling back to the other one
    assert relaxed.statistics.backend_fallbacks == 0
    assert relaxed.objective <= whole.objective + 1e-12
    assert relaxed.lower_bound <= whole.objective + 1e-12
    # the integer model with its best real intercept bounds the relaxed optimum too
    assert relaxed.objective <= real.objective(whole.model.points, whole.model.intercept)


@pytest.mark.parametrize("ulps, status", [(4, SolverStatus.OPTIMAL),
                                          (10**13, SolverStatus.ERROR)])
def test_a_lower_bound_above_the_models_objective_is_clipped_or_an_error(ulps, status):
    # Bound and objective summed over merged and over raw rows can differ in
    # their last bits; a bound clearly above an admissible model's objective
    # is a broken certificate.
    problem = random_problem(3)
    solved = solve(problem, time_limit=20)
    excess = ulps * np.spacing(solved.objective)
    claimed = dataclasses.replace(solved, lower_bound=solved.objective + excess)
    checked = certify(problem, claimed, gap_tolerance=1e-4)
    assert checked.status == status
    assert checked.lower_bound <= checked.objective
    assert checked.gap >= 0.0
