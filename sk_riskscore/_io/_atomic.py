"""Whole files or nothing: write to a temporary file beside the target, then rename."""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path

__all__ = ["write_atomically"]


def write_atomically(path, data: bytes) -> Path:
    """Write ``data`` to ``path`` so that readers see the old file or the new one.

    The temporary file lives in the target's directory, so :func:`os.replace`
    is a rename on one file system; it is removed if anything fails.
    """
    path = Path(os.fspath(path))
    handle, temporary = tempfile.mkstemp(
        dir=path.parent, prefix=f".{path.name}.", suffix=".partial"
    )
    try:
        with os.fdopen(handle, "wb") as stream:
            stream.write(data)
            stream.flush()
            os.fsync(stream.fileno())
        # mkstemp makes the file private (0600); a model file is as readable as
        # the one it replaces, or as a file written by open().
        os.chmod(temporary, path.stat().st_mode & 0o777 if path.exists() else 0o644)
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise
    return path
