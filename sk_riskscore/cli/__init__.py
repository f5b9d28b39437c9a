"""The ``sk-riskscore`` command line: fit, show, predict, export-onnx and demo.

The console script ``sk-riskscore`` runs :func:`main`. MLflow logging and the
demo's registry steps call the MLflow plugin (:mod:`sk_riskscore_mlflow`)
when they run; nothing here imports MLflow at module level.
"""

from ._commands import main

__all__ = ["main"]
