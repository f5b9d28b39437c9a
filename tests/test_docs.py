"""The documentation covers the public API and every page is in the toctree."""

from __future__ import annotations

import importlib
import re
from pathlib import Path

import pytest

DOCS = Path(__file__).resolve().parents[1] / "docs"
EXAMPLES = DOCS.parent / "examples"

# Module -> prefix under which api.rst lists its names.
PUBLIC_MODULES = {
    "sk_riskscore": "",
    "sk_riskscore.datasets": "datasets.",
    "sk_riskscore.onnx": "onnx.",
    "sk_riskscore.spark": "spark.",
    "sk_riskscore_mlflow": "",
}


def _autosummary_entries(text: str) -> dict[str, set[str]]:
    """Names listed under each ``currentmodule`` in an autosummary block."""
    entries: dict[str, set[str]] = {}
    module = None
    in_block = False
    for line in text.splitlines():
        if match := re.match(r"\.\. currentmodule:: (\S+)", line):
            module = match[1]
        elif line.startswith(".. autosummary::"):
            in_block = True
        elif in_block and (match := re.match(r"   ([A-Za-z_][\w.]*)$", line)):
            entries.setdefault(module, set()).add(match[1])
        elif in_block and line and not line.startswith(" "):
            in_block = False
    return entries


@pytest.mark.parametrize("module_name", list(PUBLIC_MODULES))
def test_api_reference_lists_every_public_name(module_name):
    module = importlib.import_module(module_name)
    text = (DOCS / "api.rst").read_text()
    entries = _autosummary_entries(text)
    current = "sk_riskscore_mlflow" if module_name == "sk_riskscore_mlflow" else "sk_riskscore"
    listed = entries.get(current, set())
    prefix = PUBLIC_MODULES[module_name]
    missing = []
    for name in module.__all__:
        obj = getattr(module, name)
        if name.startswith("__") or not callable(obj):
            # constants are described in prose, by their full name
            if f"{module_name}.{name}" not in text:
                missing.append(name)
        elif prefix + name not in listed:
            missing.append(name)
    assert not missing, f"docs/api.rst lacks {module_name}: {missing}"


def test_every_page_is_in_the_toctree():
    index = (DOCS / "index.rst").read_text()
    listed = set(re.findall(r"^   (\w+)$", index, flags=re.MULTILINE))
    # sg_execution_times.rst is written (and gitignored) by a docs build
    pages = {p.stem for p in DOCS.glob("*.rst")} - {"index", "api", "sg_execution_times"}
    assert pages <= listed, f"pages missing from index.rst: {sorted(pages - listed)}"
    assert listed - {"api"} <= pages, f"toctree entries without a page: {listed - pages}"
    assert "api" in listed and "auto_examples/index" in index


def test_labels_referenced_in_docstrings_exist():
    """:ref: targets used in the package's docstrings are defined by a page."""
    labels = set()
    for page in DOCS.glob("*.rst"):
        labels |= set(re.findall(r"^\.\. _([\w-]+):$", page.read_text(), re.MULTILINE))
    sources = [*DOCS.parent.joinpath("sk_riskscore").rglob("*.py"),
               *DOCS.parent.joinpath("mlflow_plugin").rglob("*.py"),
               *DOCS.glob("*.rst")]
    used = set()
    for source in sources:
        for target in re.findall(r":ref:`(?:[^`<]*<)?([\w-]+)>?`", source.read_text()):
            used.add(target)
    gallery = {t for t in used if t.startswith("sphx_glr_")}
    assert used - gallery <= labels, f"undefined labels: {sorted(used - gallery - labels)}"
    for target in gallery:  # sphx_glr_auto_examples_<name>.py -> examples/<name>.py
        name = target.removeprefix("sphx_glr_auto_examples_")
        assert (EXAMPLES / name).is_file() or (EXAMPLES / f"{name}.py").is_file(), target
