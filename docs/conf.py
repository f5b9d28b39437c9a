"""Sphinx configuration of the sk-riskscore documentation.

Build with ``make docs`` (warnings are errors). sphinx-gallery runs every
script in ``examples/`` while building, so a broken example breaks the build.
"""

from __future__ import annotations

import os
import shutil
import warnings
from pathlib import Path

import sk_riskscore

DOCS = Path(__file__).resolve().parent

# Examples write their files here (a fresh directory per build) and send
# nothing anywhere: MLflow's usage telemetry is off.
EXAMPLES_OUTPUT = DOCS / "_build" / "examples_output"
shutil.rmtree(EXAMPLES_OUTPUT, ignore_errors=True)
EXAMPLES_OUTPUT.mkdir(parents=True)
os.environ["SK_RISKSCORE_EXAMPLES_OUTPUT"] = str(EXAMPLES_OUTPUT)
os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")
os.environ.setdefault("DO_NOT_TRACK", "true")
os.environ.pop("MLFLOW_TRACKING_URI", None)
os.environ.setdefault("MPLBACKEND", "Agg")

# Warnings raised while the examples run are theirs to show, not Sphinx's.
warnings.filterwarnings("ignore", category=UserWarning, message="Matplotlib is currently using agg")

project = "sk-riskscore"
author = "sk-riskscore developers"
copyright = "sk-riskscore developers, BSD-3-Clause"
release = sk_riskscore.__version__
version = ".".join(release.split(".")[:2])

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.mathjax",
    "numpydoc",
    "sphinx_gallery.gen_gallery",
]

templates_path = ["_templates"]
exclude_patterns = ["_build", "Thumbs.db", ".DS_Store"]
default_role = "literal"

# API reference: one page per public name, written by autosummary.
autosummary_generate = True
autodoc_default_options = {"members": True, "inherited-members": False}
autodoc_typehints = "none"  # numpydoc's Parameters sections say it better
numpydoc_show_class_members = False
numpydoc_class_members_toctree = False
numpydoc_attributes_as_param_list = True
numpydoc_xref_param_type = False
# Overrides without a docstring of their own (e.g. the MLflow evaluator's
# methods) would show their base class's text, written for another tool.
autodoc_inherit_docstrings = False

sphinx_gallery_conf = {
    "examples_dirs": "../examples",
    "gallery_dirs": "auto_examples",
    # Run every example, not only plot_*.py: each is a test of the docs.
    "filename_pattern": r"\.py$",
    # recourse_audit_real.py needs the data beside the repository (../shared)
    "ignore_pattern": r"(__init__|recourse_audit_real)\.py",
    "backreferences_dir": "gen_modules/backreferences",
    "doc_module": ("sk_riskscore", "sk_riskscore_mlflow"),
    "reference_url": {"sk_riskscore": None},
    "download_all_examples": False,
    "remove_config_comments": True,
    "show_memory": False,
    "min_reported_time": 1,
    "within_subsection_order": "FileNameSortKey",
}

html_theme = "pydata_sphinx_theme"
html_title = f"sk-riskscore {release}"
html_static_path = []
html_theme_options = {
    "navigation_with_keys": False,
    "show_toc_level": 2,
    "secondary_sidebar_items": ["page-toc"],
}
html_show_sourcelink = False


def _skip_member(app, what, name, obj, skip, options):
    # scikit-learn's metadata-routing setters (set_fit_request, ...) document
    # scikit-learn itself, with links into its own glossary.
    if name.startswith("set_") and name.endswith("_request"):
        return True
    return None


def setup(app):
    app.connect("autodoc-skip-member", _skip_member)
