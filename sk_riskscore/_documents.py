"""Reading small user-written JSON or YAML files (constraints, action sets) safely.

Such files come from users, and sometimes from strangers: a few hundred bytes
of YAML aliases can expand to gigabytes (the "billion laughs"), so the reader
refuses aliases and files beyond a size no hand-written file reaches, and its
errors quote at most a short piece of the file.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

__all__ = ["MAX_DOCUMENT_BYTES", "read_document"]

#: Hand-written constraints or action sets are a few kilobytes.
MAX_DOCUMENT_BYTES = 1024 * 1024


def read_document(path, *, what: str, max_bytes: int = MAX_DOCUMENT_BYTES):
    """The parsed content of a ``.json``, ``.yaml`` or ``.yml`` file.

    Parameters
    ----------
    path : path-like
    what : str
        What the file holds ("a constraints file"), for error messages.
    max_bytes : int
        Larger files are refused before they are read.

    Raises
    ------
    ValueError
        A missing, oversized, non-UTF-8 or malformed file, a YAML alias, or an
        unknown suffix, with a message that names the file.
    ImportError
        A YAML file without PyYAML installed (the ``cli`` extra).
    """
    path = Path(os.fspath(path))
    if not path.is_file():
        raise ValueError(f"{path}: no such file ({what})")
    suffix = path.suffix.lower()
    if suffix not in (".json", ".yaml", ".yml"):
        raise ValueError(f"{path}: {what} must end in .json, .yaml or .yml")
    if path.stat().st_size > max_bytes:
        raise ValueError(f"{path}: larger than {max_bytes} bytes, too large for {what}")
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise ValueError(f"{path}: not a text file (it is not UTF-8)") from None
    if suffix == ".json":
        try:
            return json.loads(text)
        except json.JSONDecodeError as exc:
            raise ValueError(f"{path}: not valid JSON ({exc.msg} at line {exc.lineno}, "
                             f"column {exc.colno})") from None
    try:
        import yaml
    except ImportError:
        raise ImportError(f'reading {path} needs PyYAML: pip install "sk-riskscore[cli]", '
                          "or write the file as JSON") from None
    try:
        return yaml.load(text, Loader=_loader_without_aliases(yaml, what))
    except yaml.YAMLError as exc:
        message = " ".join(str(exc).split())
        if len(message) > 200:
            message = message[:200] + " ..."
        raise ValueError(f"{path}: not valid YAML ({message})") from None


def _loader_without_aliases(yaml, what: str):
    """PyYAML's SafeLoader, refusing aliases (``*name``)."""

    class NoAliasSafeLoader(yaml.SafeLoader):
        def compose_node(self, parent, index):
            if self.check_event(yaml.AliasEvent):
                event = self.peek_event()
                raise yaml.composer.ComposerError(
                    None, None,
                    f"YAML aliases (*name) are not allowed in {what}; write each entry "
                    "out in full",
                    event.start_mark,
                )
            return super().compose_node(parent, index)

    return NoAliasSafeLoader
