"""Shared helper: keep one section per benchmark script in benchmarks/RESULTS.md."""

from __future__ import annotations

import datetime
import platform
import re
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "RESULTS.md"


def replace_section(name: str, body: str) -> None:
    """Write ``body`` as the section ``name``, replacing an earlier run's section."""
    stamp = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    block = (
        f"<!-- section:{name} -->\n## {name}\n\n"
        f"_Run {stamp} on {platform.machine()} ({platform.python_version()})._\n\n"
        f"{body.strip()}\n<!-- /section:{name} -->\n"
    )
    text = RESULTS.read_text() if RESULTS.exists() else "# Benchmark results\n\n"
    pattern = re.compile(
        rf"<!-- section:{re.escape(name)} -->.*?<!-- /section:{re.escape(name)} -->\n", re.S
    )
    text = pattern.sub(lambda _: block, text) if pattern.search(text) else text + "\n" + block
    RESULTS.write_text(text)


def markdown_table(frame, float_format: str = ".4g") -> str:
    """A pipe table of a DataFrame (pandas' to_markdown needs tabulate)."""

    def cell(value) -> str:
        if isinstance(value, float):
            return "" if value != value else format(value, float_format)
        return str(value)

    header = "| " + " | ".join(map(str, frame.columns)) + " |"
    rule = "|" + "---|" * len(frame.columns)
    rows = ["| " + " | ".join(cell(v) for v in row) + " |" for row in frame.itertuples(index=False)]
    return "\n".join([header, rule, *rows])
