"""pytest settings for every test path: tests/ and the doctests in sk_riskscore/ and
mlflow_plugin/.

Everything lives in tests/conftest.py; this file only shares its MLflow store
fixtures with the doctests, which tests/conftest.py does not reach.
"""

from tests.conftest import (  # noqa: F401
    _doctest_mlflow_stores,
    mlflow_store,
    mlflow_store_template,
)
