"""The ``sk-riskscore`` command line: fit, show, predict, export-onnx, demo,
recourse and rashomon.

The console script ``sk-riskscore`` runs :func:`main`. MLflow logging and the
demo's registry steps call the MLflow plugin (:mod:`sk_riskscore_mlflow`)
when they run; nothing here imports MLflow at module level.
"""

from . import _audits, _commands
from ._commands import main

# The audit commands use _commands' file helpers, so they are registered here
# rather than imported by _commands (which would be an import cycle).
_commands._COMMANDS.update(recourse=_audits.run_recourse, rashomon=_audits.run_rashomon)

__all__ = ["main"]
