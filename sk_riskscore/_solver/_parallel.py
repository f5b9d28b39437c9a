"""Worker processes for a search on several cores, and the messages they exchange.

The branch-and-bound hands open nodes to workers, each with its own LP and
heap of nodes, and runs them in rounds: a round is a time slice of search in
every worker, after which each reports the least bound of its region of the
tree (its open nodes and the nodes it closed), its new models, and any nodes
it was asked to give up for idle workers. Between rounds the coordinator alone
decides which worker gets which nodes, so the proven bound is always the
minimum over the workers' last reports and the nodes in transit.

Processes, not threads: the engine's Python callbacks are not thread-safe
(python-mip with CBC threads crashed with a double free), and the search is
Python-bound.

This module knows nothing of the search itself: the worker's entry point and
the search state come from the caller.
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from multiprocessing import AuthenticationError
from multiprocessing.connection import Client, Listener

import numpy as np

__all__ = ["Explore", "Report", "WorkerFailure", "WorkerPool", "connect_worker",
           "effective_n_jobs", "ignore_interrupts"]

logger = logging.getLogger(__name__)

_POLL = 0.05  # seconds between checks for interrupts and dead workers
# How a worker starts: its module is imported under its top-level package
# registered but not run. The workers use the solver alone, which imports
# nothing of the rest of the package (tests/test_architecture.py), and the
# package's __init__ brings scikit-learn and pandas: 2-5 s a worker instead
# of half a second.
_BOOTSTRAP = """\
import importlib, importlib.util, sys
module = sys.argv.pop(1)
package = module.split(".")[0]
sys.modules[package] = importlib.util.module_from_spec(importlib.util.find_spec(package))
importlib.import_module(module).main()
"""


def effective_n_jobs(n_jobs: int | None) -> int:
    """Workers for ``n_jobs`` by scikit-learn's convention: None is 1, -1 every
    core this process may use, -2 all but one, and so on.
    """
    if n_jobs is None:
        return 1
    n_jobs = int(n_jobs)
    if n_jobs == 0:
        raise ValueError("n_jobs == 0 has no meaning; use None or 1 for one core, "
                         "-1 for every core")
    if n_jobs > 0:
        return n_jobs
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        cores = os.cpu_count() or 1
    return max(cores + 1 + n_jobs, 1)


def ignore_interrupts() -> None:
    """In a worker: Ctrl-C is the coordinator's to handle, and it ends the workers."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)


@dataclass
class Explore:
    """A round's order to one worker.

    Search for ``seconds``; first add the cuts ``planes`` (``(constant,
    gradient, block)``: the coordinator's, with a worker's first order, and
    ``blocks``, each row's block, which they refer to), take
    ``nodes`` and the model ``incumbent`` (``(intercept, points)``, or None
    when the worker has seen the best one); after the slice, give up
    ``give`` open nodes.
    """

    seconds: float
    planes: list = field(default_factory=list)
    blocks: np.ndarray | None = None
    nodes: list = field(default_factory=list)
    incumbent: tuple | None = None
    give: int = 0


@dataclass
class Report:
    """A worker's answer to :class:`Explore`.

    ``bound`` is a lower bound on every model in the worker's region once
    ``given`` (the nodes it gave up) are taken out; ``models`` are its best
    models as ``(intercept, points, objective, loss)``; the counters are
    totals since the worker started.
    """

    bound: float
    n_open: int
    given: list
    models: list
    n_nodes: int
    n_lp_solves: int
    n_cuts: int


class WorkerFailure(RuntimeError):
    """A worker process died or stopped answering."""


class WorkerPool:
    """``n`` worker processes, each running ``module.main()`` (see
    ``_BOOTSTRAP``) and connected back to this one by an authenticated
    ``multiprocessing.connection`` (the key goes over the child's standard
    input; :func:`connect_worker` takes the other end). The first message to
    each is ``payload``.

    Not ``multiprocessing.Process``: its ``spawn`` method imports the caller's
    main script again in every child, which reruns a script without an
    ``if __name__ == "__main__"`` guard; a forked copy of a process holding a
    CBC model or BLAS threads can deadlock.
    """

    def __init__(self, module: str, payload, n: int):
        key = os.urandom(32)
        self._listener = Listener(authkey=key)
        self._connections: list = [None] * n
        self._ready = [False] * n
        self._processes = []
        # the children find this process's modules where it does
        path = os.pathsep.join(entry for entry in sys.path if entry)
        environment = dict(os.environ, PYTHONPATH=path)
        try:
            for index in range(n):
                process = subprocess.Popen(
                    [sys.executable, "-c", _BOOTSTRAP, module, str(self._listener.address),
                     str(index)],
                    stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, env=environment)
                process.stdin.write(key.hex().encode() + b"\n")
                process.stdin.close()
                self._processes.append(process)
        except BaseException:
            self.close()
            raise
        self._accepting = threading.Thread(target=self._accept, args=(payload,), daemon=True)
        self._accepting.start()

    def _accept(self, payload) -> None:
        """Take each worker's connection as it comes and send it the payload."""
        for _ in range(len(self._processes)):
            try:
                connection = self._listener.accept()
                index = connection.recv()
                connection.send(payload)
            except (OSError, EOFError, AuthenticationError):
                return  # closed, or a stranger: the worker counts as failed later
            self._connections[index] = connection

    def __len__(self) -> int:
        return len(self._processes)

    def ready(self) -> bool:
        """True once every worker has said it is set up (never blocks)."""
        for index in range(len(self)):
            if self._ready[index]:
                continue
            connection = self._connections[index]
            if connection is not None and connection.poll():
                self._receive(index)
                self._ready[index] = True
            else:
                self._check_alive(index)
        return all(self._ready)

    def send(self, index: int, message) -> None:
        try:
            self._connections[index].send(message)
        except (OSError, EOFError) as exc:
            raise WorkerFailure(self._describe(index)) from exc

    def receive(self, index: int, interrupted, timeout: float):
        """The next message of worker ``index``, waiting at most ``timeout`` s;
        ``interrupted()`` is checked while waiting (KeyboardInterrupt if true).
        """
        waited = time.perf_counter() + timeout
        connection = self._connections[index]
        while not connection.poll(_POLL):
            if interrupted():
                raise KeyboardInterrupt
            self._check_alive(index)
            if time.perf_counter() > waited:
                raise WorkerFailure(f"search worker {index} did not answer within "
                                    f"{timeout:.0f} s")
        return self._receive(index)

    def close(self) -> None:
        """Stop every worker now; safe to call twice. A worker still starting
        holds nothing worth waiting for: it is killed at once.
        """
        for index, connection in enumerate(self._connections):
            if connection is not None:
                with contextlib.suppress(OSError, EOFError):
                    connection.send(None)
            elif index < len(self._processes):
                self._processes[index].kill()
        deadline = time.perf_counter() + 2.0
        for process in self._processes:
            try:
                process.wait(max(deadline - time.perf_counter(), 0.01))
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        for connection in self._connections:
            if connection is not None:
                connection.close()
        self._listener.close()  # ends a pending accept
        self._connections = [None] * len(self._connections)
        self._processes = []

    def _receive(self, index: int):
        try:
            message = self._connections[index].recv()
        except (OSError, EOFError) as exc:
            raise WorkerFailure(self._describe(index)) from exc
        if isinstance(message, BaseException):
            raise WorkerFailure(f"search worker {index} failed: {message}") from message
        return message

    def _check_alive(self, index: int) -> None:
        connection = self._connections[index]
        if self._processes[index].poll() is not None and (connection is None
                                                         or not connection.poll()):
            raise WorkerFailure(self._describe(index))

    def _describe(self, index: int) -> str:
        code = self._processes[index].poll()
        return (f"search worker {index} stopped unexpectedly (exit code {code})"
                if code is not None else f"search worker {index} broke its connection")


def connect_worker() -> tuple:
    """In a worker started by :class:`WorkerPool`: its connection, index and payload."""
    address, index = sys.argv[1], int(sys.argv[2])
    key = bytes.fromhex(sys.stdin.readline().strip())
    connection = Client(address, authkey=key)
    connection.send(index)
    return connection, index, connection.recv()
