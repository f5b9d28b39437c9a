"""MLflow flavor for sk-riskscore (see issue: MLflow plugin)."""
