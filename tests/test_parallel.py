"""The tree search on several cores (n_jobs): the same certified answers as on one."""

from __future__ import annotations

import os
import signal
import time
import warnings
from pathlib import Path

import numpy as np
import pytest

from sk_riskscore._solver import RiskScoreProblem, SolverStatus, intercept_bound, solve
from sk_riskscore._solver import _branch_and_bound as branch_and_bound
from sk_riskscore._solver._parallel import WorkerFailure, effective_n_jobs

from .oracle import enumerate_optimum


def tree_problem(seed: int) -> RiskScoreProblem:
    """Small enough to enumerate (8 binary columns, at most 3 used, points in
    [-2, 2]: 4,065 models), too large for the root to close."""
    rng = np.random.default_rng(seed)
    n, d = 300, 8
    X = (rng.random((n, d)) < rng.uniform(0.2, 0.7, d)).astype(float)
    truth = rng.integers(-2, 3, d)
    logits = X @ truth - np.clip(truth, 0, None).sum() / 2 + rng.normal(size=n)
    y = np.where(rng.random(n) < 1 / (1 + np.exp(-logits)), 1, -1)
    lower, upper, weights = np.full(d, -2), np.full(d, 2), np.ones(n)
    reach = intercept_bound(X, y, weights, lower, upper, 3)
    c0 = np.full(d, 1e-3 if seed % 2 else 1e-6)
    return RiskScoreProblem(X, y, weights, lower, upper, -reach, reach, c0, max_features=3)


def enumerated(problem: RiskScoreProblem):
    return enumerate_optimum(problem.X, problem.y, problem.sample_weight, problem.coef_lower,
                             problem.coef_upper, problem.intercept_lower,
                             problem.intercept_upper, problem.c0, problem.min_features,
                             problem.max_features)


@pytest.fixture
def wait_for_workers(monkeypatch):
    """Small problems would finish before the workers have started: wait for
    them, and make each round one node or so, so that they take many rounds
    in which workers run out of nodes and others give theirs away."""
    monkeypatch.setattr(branch_and_bound, "_WAIT_FOR_WORKERS", True)
    monkeypatch.setattr(branch_and_bound, "_ROUND_MIN", 1e-4)
    monkeypatch.setattr(branch_and_bound, "_ROUND_MAX", 1e-4)


def _children() -> set:
    """This process's live child processes (Linux)."""
    found = set()
    for task in Path(f"/proc/{os.getpid()}/task").iterdir():
        found |= set((task / "children").read_text().split())
    return found


@pytest.mark.parametrize("seed", [0, 3])
def test_parallel_search_finds_the_enumerated_optimum(seed, wait_for_workers):
    problem = tree_problem(seed)
    truth = enumerated(problem)
    result = solve(problem, n_jobs=2, gap_tolerance=1e-9, time_limit=120)
    assert result.statistics.n_jobs == 2, "the workers' rounds must have run"
    assert result.status == SolverStatus.OPTIMAL, result.message
    assert result.objective == pytest.approx(truth.objective, abs=1e-9, rel=0)
    assert result.lower_bound <= truth.objective + 1e-9
    # the workers' nodes count, and their models reach the pool
    assert result.statistics.n_nodes > 1
    assert result.pool[0].objective == pytest.approx(result.objective, abs=1e-12)


def test_workers_search_under_the_cutoff(wait_for_workers):
    """The workers get the search's cutoff: one below the optimum ends with a
    bound between the cutoff and the optimum, and with status CUTOFF unless
    the bounds happened to prove the search's own best optimal."""
    problem = tree_problem(0)
    truth = enumerated(problem)
    cutoff = truth.objective * (1 - 1e-3)
    result = branch_and_bound.BranchAndBound(problem, n_jobs=2, gap_tolerance=1e-9,
                                             time_limit=120, cutoff=cutoff).solve()
    assert result.statistics.n_jobs == 2, "the workers' rounds must have run"
    assert cutoff - 1e-9 <= result.lower_bound <= truth.objective + 1e-9
    if result.status == SolverStatus.OPTIMAL:
        assert result.objective == pytest.approx(truth.objective, abs=1e-9, rel=0)
    else:
        assert result.status == SolverStatus.CUTOFF, result.message


@pytest.mark.parametrize("seed", [1, 2])
def test_no_part_of_the_tree_is_lost_between_workers(seed, wait_for_workers, monkeypatch):
    """Without the first incumbents' heuristics the optimum turns up only
    inside the tree, so a node lost between the coordinator and the workers
    (or a bound that forgets nodes in transit) gives a wrong answer or a
    bound above the optimum."""

    def empty_model_only(self):
        self._offer(0, np.zeros(self.d, dtype=int))
        return True

    monkeypatch.setattr(branch_and_bound.BranchAndBound, "_initial_incumbent",
                        empty_model_only)
    monkeypatch.setattr(branch_and_bound.BranchAndBound, "_round_and_polish",
                        lambda self, solution, perturb=False: False)
    problem = tree_problem(seed)
    truth = enumerated(problem)
    result = solve(problem, n_jobs=2, gap_tolerance=1e-9, time_limit=120)
    assert result.statistics.n_jobs == 2
    assert result.status == SolverStatus.OPTIMAL, result.message
    assert result.objective == pytest.approx(truth.objective, abs=1e-9, rel=0)
    assert result.lower_bound <= truth.objective + 1e-9


class InProcessPool:
    """``WorkerPool`` as the coordinator sees it, with its workers in this
    process: the real rounds (``_serve_round``), every node that passes in
    sight. With ``fail`` set, that worker fails on the first order that sends
    it a node better than any it holds (a node in transit)."""

    fail = None

    def __init__(self, module, payload, n):
        problem, options, start, seed, listed = payload
        self.workers, self.frontiers, self.orders = [], [], [None] * n
        for index in range(n):
            worker = branch_and_bound.BranchAndBound(problem, random_state=seed + index,
                                                     **options)
            worker.lp = None
            worker._prepare_worker(start, listed)
            self.workers.append(worker)
            self.frontiers.append(branch_and_bound._Frontier())
        self.given, self.dealt, self.held_at_failure = [], set(), None

    def __len__(self):
        return len(self.workers)

    def ready(self):
        return True

    def send(self, index, order):
        self.orders[index] = order
        self.dealt |= {id(node) for node in order.nodes}

    def receive(self, index, interrupted, timeout):
        order, frontier = self.orders[index], self.frontiers[index]
        if (index == self.fail and self.held_at_failure is None and order.nodes
                and min(n.bound for n in order.nodes) < frontier.bound()):
            self.held_at_failure = min([frontier.bound()] + [n.bound for n in order.nodes])
            raise WorkerFailure(f"search worker {index} stopped unexpectedly (test)")
        report = self.workers[index]._serve_round(frontier, order)
        self.given += [id(node) for node in report.given]
        return report

    def close(self):
        for worker in self.workers:
            worker.lp.close()


@pytest.fixture
def in_process_pool(monkeypatch, wait_for_workers):
    pools = []

    def build(*args):
        pools.append(InProcessPool(*args))
        return pools[-1]

    monkeypatch.setattr(branch_and_bound, "WorkerPool", build)
    # no heuristics: larger trees, whose optimum only the tree finds
    monkeypatch.setattr(branch_and_bound.BranchAndBound, "_initial_incumbent",
                        lambda self: self._offer(0, np.zeros(self.d, dtype=int)) is not None)
    monkeypatch.setattr(branch_and_bound.BranchAndBound, "_round_and_polish",
                        lambda self, solution, perturb=False: False)
    # nor the saturated bound, which closes these trees in a few nodes
    monkeypatch.setattr(branch_and_bound.BranchAndBound, "_saturated_bound", lambda self: None)
    return pools


@pytest.mark.parametrize("seed", [1, 2, 3, 4])
def test_every_node_a_worker_gives_up_is_dealt_again(seed, in_process_pool, monkeypatch):
    # cuts of the whole loss only: the blocks' cuts close seed 2's tree before
    # any worker runs out of nodes
    monkeypatch.setattr(branch_and_bound, "_CUT_BLOCKS", 1)
    problem = tree_problem(seed)
    result = solve(problem, n_jobs=2, gap_tolerance=1e-9, time_limit=120)
    pool = in_process_pool[0]
    assert pool.given, "the rounds must have moved nodes between workers"
    assert set(pool.given) <= pool.dealt
    assert result.objective == pytest.approx(enumerated(problem).objective, abs=1e-9, rel=0)


@pytest.mark.parametrize("seed", [1, 2, 3, 4])
def test_a_failed_workers_region_keeps_the_nodes_it_was_sent(seed, in_process_pool,
                                                             monkeypatch):
    """Its frozen bound covers the nodes in transit to it, not only its last report."""
    monkeypatch.setattr(InProcessPool, "fail", 1)
    frozen = []
    lose = branch_and_bound.BranchAndBound._lose_worker

    def spy(self, i, failure, alive, frontier, bounds):
        frozen.append(bounds[i])
        return lose(self, i, failure, alive, frontier, bounds)

    monkeypatch.setattr(branch_and_bound.BranchAndBound, "_lose_worker", spy)
    problem = tree_problem(seed)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        result = solve(problem, n_jobs=2, gap_tolerance=1e-9, time_limit=120)
    held = in_process_pool[0].held_at_failure
    if held is None:
        pytest.skip("no order sent worker 1 a node better than its own")
    assert frozen and frozen[0] <= held + 1e-12
    assert result.lower_bound <= enumerated(problem).objective + 1e-9


@pytest.mark.skipif(not Path("/proc/self/task").exists(), reason="reads /proc (Linux)")
def test_parallel_search_leaves_no_process_behind(wait_for_workers):
    before = _children()
    result = solve(tree_problem(1), n_jobs=2, time_limit=120)
    assert result.statistics.n_jobs == 2
    assert _children() - before == set()


@pytest.mark.skipif(not Path("/proc/self/task").exists(), reason="reads /proc (Linux)")
def test_workers_still_starting_are_stopped_when_the_search_ends_first():
    """Workers start with the search; a small one ends before they connect,
    and they must not linger (or hold up the return) after it."""
    before = _children()
    started = time.perf_counter()
    result = solve(tree_problem(1), n_jobs=2, time_limit=120)
    assert result.status == SolverStatus.OPTIMAL
    assert _children() - before == set()
    assert time.perf_counter() - started < 60


def test_parallel_search_stops_at_its_limits_with_a_valid_bound(wait_for_workers):
    """A node limit ends the rounds as it ends one core's search; the bound
    still holds (checked by enumeration) and the model is the one reported."""
    problem = tree_problem(2)
    truth = enumerated(problem)
    result = solve(problem, n_jobs=2, gap_tolerance=1e-9, time_limit=120, max_nodes=3)
    assert result.status in (SolverStatus.NODE_LIMIT, SolverStatus.OPTIMAL)
    assert result.lower_bound <= truth.objective + 1e-9
    assert result.objective >= truth.objective - 1e-9
    assert result.objective == pytest.approx(
        problem.objective(result.model.points, result.model.intercept), rel=1e-12)


def test_workers_that_cannot_start_leave_the_search_to_this_process(monkeypatch,
                                                                     wait_for_workers):
    monkeypatch.setattr(branch_and_bound, "_WORKER_MODULE", "sk_riskscore._no_such_worker")
    problem = tree_problem(3)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = solve(problem, n_jobs=2, gap_tolerance=1e-9, time_limit=120)
    messages = [str(w.message) for w in caught if issubclass(w.category, RuntimeWarning)]
    assert any("stopped unexpectedly" in m and "this process alone" in m for m in messages), \
        messages
    assert result.statistics.n_jobs == 1
    assert result.status == SolverStatus.OPTIMAL
    assert result.objective == pytest.approx(enumerated(problem).objective, abs=1e-9, rel=0)


def test_a_worker_killed_mid_search_costs_its_region_not_the_answer(wait_for_workers,
                                                                    monkeypatch):
    """Its part of the tree keeps the bound it last reported: the answer stays
    honest (bound under the enumerated optimum), the process goes on, and
    the search says it is incomplete unless that bound closed the gap anyway."""
    # a report every round, not every half second: the search may be over sooner
    monkeypatch.setattr(branch_and_bound, "_PROGRESS_INTERVAL", 0.0)
    problem = tree_problem(0)
    truth = enumerated(problem)
    killed = []
    earlier = _children()  # earlier tests' workers may still be on their way out

    def kill_a_worker(progress):
        # after the root, with nodes open and the gap open: the search goes on
        # to another round (the root alone leaves this tree open)
        children = sorted(_children() - earlier)
        if (not killed and progress.n_nodes >= 1 and progress.n_open_nodes > 0
                and progress.gap > 1e-6 and children):
            os.kill(int(children[0]), signal.SIGKILL)
            killed.append(children[0])

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = solve(problem, n_jobs=2, gap_tolerance=1e-9, time_limit=120,
                       progress=kill_a_worker)
    assert killed
    assert result.lower_bound <= truth.objective + 1e-9
    assert result.objective >= truth.objective - 1e-9
    # lost while starting, or during the rounds: either way the search goes on
    assert any("goes on without it" in str(w.message)
               or "goes on in this process alone" in str(w.message) for w in caught), \
        [str(w.message) for w in caught]
    if result.status == SolverStatus.OPTIMAL:
        assert result.objective == pytest.approx(truth.objective, abs=1e-9, rel=0)
        assert result.gap <= 1e-9
    else:
        assert result.status == SolverStatus.INCOMPLETE, result.message
        assert "lost" in result.message


def test_effective_n_jobs_follows_scikit_learns_convention():
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    assert effective_n_jobs(None) == 1
    assert effective_n_jobs(3) == 3
    assert effective_n_jobs(-1) == cores
    assert effective_n_jobs(-2) == max(cores - 1, 1)
    assert effective_n_jobs(-10_000) == 1
    with pytest.raises(ValueError, match="n_jobs == 0"):
        effective_n_jobs(0)


def test_one_job_is_the_serial_search():
    problem = tree_problem(1)
    serial = solve(problem, gap_tolerance=1e-9, time_limit=120, random_state=0)
    one = solve(problem, n_jobs=1, gap_tolerance=1e-9, time_limit=120, random_state=0)
    assert one.statistics.n_jobs == serial.statistics.n_jobs == 1
    assert one.statistics.n_nodes == serial.statistics.n_nodes
    assert one.objective == serial.objective


def test_script_without_a_main_guard_is_not_run_again_by_the_workers(tmp_path):
    """Workers start as ``python -m``, not by multiprocessing's spawn, which
    imports the caller's main script again in every child."""
    import subprocess
    import sys

    marker = tmp_path / "runs.txt"
    script = tmp_path / "no_guard.py"
    script.write_text(
        "import sys\n"
        f"sys.path[:0] = {[str(Path(__file__).resolve().parents[1])]!r}\n"
        f"open({str(marker)!r}, 'a').write('run\\n')\n"
        "from sk_riskscore._solver import _branch_and_bound as bb\n"
        "bb._WAIT_FOR_WORKERS = True\n"
        "from tests.test_parallel import tree_problem\n"
        "from sk_riskscore._solver import solve\n"
        "r = solve(tree_problem(1), n_jobs=2, time_limit=60)\n"
        "print(r.statistics.n_jobs)\n")
    started = time.perf_counter()
    done = subprocess.run([sys.executable, str(script)], capture_output=True, text=True,
                          timeout=300, cwd=tmp_path)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.split()[-1] == "2"
    assert marker.read_text().count("run") == 1
    assert time.perf_counter() - started < 300


def test_classifier_validates_n_jobs_and_keeps_the_certificate(breastcancer):
    from sk_riskscore import RiskScoreClassifier

    X, y = breastcancer
    with pytest.raises(ValueError, match="n_jobs"):
        RiskScoreClassifier(n_jobs=0).fit(X, y)
    settings = dict(max_features=3, max_coef=3, time_limit=60, random_state=0)
    one = RiskScoreClassifier(**settings).fit(X, y)
    two = RiskScoreClassifier(n_jobs=2, **settings).fit(X, y)
    assert two.objective_ == pytest.approx(one.objective_, rel=1e-9)
    assert two.lower_bound_ <= two.objective_ + 1e-12


def test_cli_takes_n_jobs_and_refuses_zero(capsys):
    from sk_riskscore.cli._parser import build_parser

    parser = build_parser()
    args = parser.parse_args(["fit", "data.csv", "--target", "y", "--n-jobs", "-1"])
    assert args.n_jobs == -1
    assert parser.parse_args(["fit", "data.csv", "--target", "y"]).n_jobs is None
    from sk_riskscore.cli._commands import main

    assert main(["fit", "data.csv", "--target", "y", "--n-jobs", "0"]) == 2
    assert "0 processes cannot search; use 1, or -1 for every core" in capsys.readouterr().err


def test_workers_get_the_coordinators_list_of_supports(monkeypatch, wait_for_workers):
    """The saturated bound's list of supports (seconds to build on heloc) is
    built once, by the coordinator, and handed to the workers."""
    from sk_riskscore._solver import _saturated

    monkeypatch.setattr(_saturated, "_MAX_ENTRIES", 0)  # the list, not the table
    built = []
    lowest = _saturated._lowest_supports
    monkeypatch.setattr(_saturated, "_lowest_supports",
                        lambda *args: built.append(args) or lowest(*args))
    pools = []
    monkeypatch.setattr(branch_and_bound, "WorkerPool",
                        lambda *args: pools.append(InProcessPool(*args)) or pools[-1])
    rng = np.random.default_rng(5)
    X = (rng.random((300, 8)) < rng.uniform(0.2, 0.7, 8)).astype(float)
    y = np.where(X @ rng.integers(-2, 3, 8) + rng.normal(size=300) > 0.5, 1, -1)
    lower, upper = np.full(8, -2), np.full(8, 2)
    reach = intercept_bound(X, y, np.ones(300), lower, upper, 4)
    problem = RiskScoreProblem(X, y, np.ones(300), lower, upper, -reach, reach,
                               np.full(8, 1e-4), max_features=4)
    result = solve(problem, n_jobs=2, gap_tolerance=1e-9, time_limit=120)
    assert len(built) == 1
    assert all(worker.saturated.supports is not None for worker in pools[0].workers)
    truth = enumerated(problem)
    assert result.objective == pytest.approx(truth.objective, abs=1e-9, rel=0)
    assert result.lower_bound <= truth.objective + 1e-9
