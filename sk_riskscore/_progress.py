"""Live progress of a solve: incumbent, proven bound, gap and elapsed time.

On a terminal the progress is one line redrawn in place by ``rich`` (the
``cli`` extra); elsewhere (a log file, a CI job, a notebook) or without rich it
is plain lines, throttled so that a long solve does not flood the log. Either
way the display ends with one line giving the final status and gap.
"""

from __future__ import annotations

import functools
import math
import os
import sys
import time

from ._solver import Progress

__all__ = ["LiveProgress", "PlainProgress", "progress_display", "with_progress"]

# A plain line at least this often (seconds) while nothing changes, plus one
# whenever the incumbent improves.
_PLAIN_INTERVAL = 5.0

_STATUS_TEXT = {
    "optimal": "optimal",
    "time_limit": "stopped at the time limit",
    "cutoff": "nothing better than the cutoff",
    "incomplete": "stopped with part of the tree lost",
    "node_limit": "stopped at the node limit",
    "infeasible": "infeasible",
    "error": "failed",
}


def format_progress(progress: Progress) -> str:
    """One line describing a snapshot of a running solve."""
    return (
        f"[{progress.elapsed:6.1f} s] objective {_number(progress.objective)}  "
        f"bound {_number(progress.lower_bound)}  gap {_percent(progress.gap)}  "
        f"nodes {progress.n_nodes} ({progress.n_open_nodes} open)  cuts {progress.n_cuts}"
    )


def format_final(result, elapsed: float) -> str:
    """The closing line: status, objective, bound and gap of a finished solve."""
    status = getattr(result.status, "value", str(result.status))
    statistics = result.statistics
    return (
        f"RiskSLIM {_STATUS_TEXT.get(status, status)} after {elapsed:.1f} s: "
        f"objective {_number(result.objective)}, bound {_number(result.lower_bound)}, "
        f"gap {_percent(result.gap)}, {statistics.n_nodes} nodes"
    )


def _number(value: float) -> str:
    return f"{value:.6f}" if math.isfinite(value) else "-"


def _percent(value: float) -> str:
    return f"{value:.3%}" if math.isfinite(value) else "-"


class PlainProgress:
    """Progress as plain lines, for logs and pipes.

    Writes the first snapshot, then one whenever the incumbent improves or
    ``interval`` seconds have passed, and a final line from :meth:`finish`.

    Parameters
    ----------
    stream : text stream
    interval : float, default=5.0
    """

    def __init__(self, stream, interval: float = _PLAIN_INTERVAL):
        self.stream = stream
        self.interval = float(interval)
        self._last_time = -math.inf
        self._last_objective = math.inf

    def __call__(self, progress: Progress) -> None:
        improved = progress.objective < self._last_objective
        if improved or progress.elapsed - self._last_time >= self.interval:
            self._write(format_progress(progress))
            self._last_time = progress.elapsed
            self._last_objective = progress.objective

    def finish(self, text: str) -> None:
        self._write(text)

    def abort(self) -> None:
        """Nothing to clean up: every line is already complete."""

    def _write(self, text: str) -> None:
        self.stream.write(text + "\n")
        self.stream.flush()


class LiveProgress:
    """Progress as one line redrawn in place on a terminal, with ``rich``.

    Parameters
    ----------
    stream : text stream
        A terminal.
    """

    def __init__(self, stream):
        from rich.console import Console
        from rich.live import Live
        from rich.text import Text

        self._text = Text
        self._console = Console(file=stream, force_terminal=True, highlight=False)
        # Redrawn only when the solver reports (every half second): no thread.
        self._live = Live(
            self._text("RiskSLIM: starting", style="dim"),
            console=self._console,
            auto_refresh=False,
            redirect_stdout=False,
            redirect_stderr=False,
            transient=False,
        )
        self._live.start(refresh=True)

    def __call__(self, progress: Progress) -> None:
        line = self._text.assemble(
            ("RiskSLIM ", "bold cyan"), format_progress(progress),
            no_wrap=True, overflow="ellipsis",
        )
        self._live.update(line, refresh=True)

    def finish(self, text: str) -> None:
        self._live.update(self._text(text, style="bold"), refresh=True)
        self._live.stop()

    def abort(self) -> None:
        """Leave the last snapshot on screen and restore the cursor."""
        self._live.stop()


def progress_display(stream=None):
    """The progress display suited to ``stream`` (default: ``sys.stderr``).

    A :class:`LiveProgress` on a terminal when rich is installed, otherwise a
    :class:`PlainProgress`. Both are callables taking :class:`Progress`
    snapshots, with ``finish(text)`` and ``abort()``.
    """
    stream = sys.stderr if stream is None else stream
    if not _is_terminal(stream):
        return PlainProgress(stream)
    try:
        from rich.errors import LiveError
    except ImportError:
        return PlainProgress(stream)
    try:
        return LiveProgress(stream)
    except LiveError:  # a concurrent fit's live display owns the terminal
        return PlainProgress(stream)


def _is_terminal(stream) -> bool:
    try:
        is_tty = bool(stream.isatty())
    except (AttributeError, ValueError):  # no isatty, or a closed stream
        return False
    return is_tty and os.environ.get("TERM") != "dumb"


def with_progress(run, verbose):
    """``run`` (a solve function) showing live progress when ``verbose``.

    ``run(problem, **options)`` must accept a ``progress`` callback and return
    a ``SolverResult``. With ``verbose`` falsy ``run`` itself is returned;
    otherwise a wrapper that shows progress on ``sys.stderr`` and ends with the
    final status and gap, restoring the terminal if the solve raises (e.g. on
    Ctrl-C).
    """
    if not verbose:
        return run

    @functools.wraps(run)
    def run_with_progress(problem, **options):
        display = progress_display()
        start = time.perf_counter()
        try:
            result = run(problem, progress=display, **options)
        except BaseException:
            display.abort()
            raise
        display.finish(format_final(result, time.perf_counter() - start))
        return result

    return run_with_progress
