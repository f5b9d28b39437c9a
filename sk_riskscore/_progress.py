"""Live progress of a solve: incumbent, proven bound, gap and elapsed time."""

from __future__ import annotations

import sys

from ._solver import Progress

__all__ = ["ProgressLine", "make_progress_reporter"]


class ProgressLine:
    """Writes one progress line per update; in place on a terminal.

    Parameters
    ----------
    stream : text stream, default sys.stderr
    """

    def __init__(self, stream=None):
        self.stream = stream if stream is not None else sys.stderr
        self._in_place = bool(getattr(self.stream, "isatty", lambda: False)())
        self._last_width = 0

    def __call__(self, progress: Progress) -> None:
        text = format_progress(progress)
        if self._in_place:
            pad = max(self._last_width - len(text), 0)
            self.stream.write("\r" + text + " " * pad)
            self._last_width = len(text)
        else:
            self.stream.write(text + "\n")
        self.stream.flush()

    def close(self, final: Progress | None = None) -> None:
        if final is not None:
            self(final)
        if self._in_place:
            self.stream.write("\n")
            self.stream.flush()


def format_progress(progress: Progress) -> str:
    return (
        f"[{progress.elapsed:7.1f}s] objective {progress.objective:.6f}  "
        f"bound {progress.lower_bound:.6f}  gap {progress.gap:7.3%}  "
        f"nodes {progress.n_nodes} ({progress.n_open_nodes} open)  cuts {progress.n_cuts}"
    )


def make_progress_reporter(verbose: int):
    """None when silent, else a callable taking :class:`Progress` snapshots."""
    if not verbose:
        return None
    return ProgressLine()
