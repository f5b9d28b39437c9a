"""Old home of the command line, kept only for console scripts installed before 0.2.

A venv installed from an earlier checkout has an ``sk-riskscore`` script that
imports ``sk_riskscore._cli:main``; it keeps working until the package is
reinstalled (the entry point is now ``sk_riskscore.cli:main``). Import
:func:`sk_riskscore.cli.main` in new code.
"""

from .cli import main

__all__ = ["main"]
