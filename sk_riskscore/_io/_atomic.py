"""Whole files or nothing: write to a temporary file beside the target, then rename."""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Callable
from pathlib import Path

__all__ = ["write_atomically", "write_file_atomically"]


def write_file_atomically(path, write: Callable[[str], object]) -> Path:
    """Call ``write(temporary_path)``, then rename the result over ``path``.

    Readers see the old file or the new one, never half of one. The temporary
    file lives in the target's directory (so :func:`os.replace` is a rename on
    one file system) and keeps the target's suffix (writers such as
    matplotlib's ``savefig`` read the format from it); it is removed if
    anything fails.
    """
    path = Path(os.fspath(path))
    handle, temporary = tempfile.mkstemp(
        dir=path.parent, prefix=f".{path.name}.", suffix=f".partial{path.suffix}"
    )
    os.close(handle)
    try:
        write(temporary)
        # mkstemp makes the file private (0600); a written file is as readable
        # as the one it replaces, or as a file written by open().
        os.chmod(temporary, path.stat().st_mode & 0o777 if path.exists() else 0o644)
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise
    return path


def write_atomically(path, data: bytes) -> Path:
    """Write ``data`` to ``path`` atomically (see :func:`write_file_atomically`)."""

    def write(temporary: str) -> None:
        with open(temporary, "wb") as stream:
            stream.write(data)
            stream.flush()
            os.fsync(stream.fileno())

    return write_file_atomically(path, write)
