"""The ``python_function`` face of a risk score: score, probability and label."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from mlflow.exceptions import MlflowException
from mlflow.protos.databricks_pb2 import INVALID_PARAMETER_VALUE

#: What ``predict`` can return: a frame of all three, or one 1-D output.
OUTPUTS = ("frame", "label", "probability")


def validate_output(output) -> str:
    if output not in OUTPUTS:
        raise MlflowException(
            f"output must be one of {list(OUTPUTS)}, got {output!r}",
            error_code=INVALID_PARAMETER_VALUE,
        )
    return output


class RiskScorePyfunc:
    """Wraps a fitted risk score (or binarizer pipeline) for ``mlflow.pyfunc``.

    ``predict`` returns, per row, the integer total score, the probability
    of ``classes_[1]`` and the predicted label; ``params={"output": "label"}``
    or ``"probability"`` returns that column alone, 1-D. Bad input becomes an
    ``MlflowException`` with ``INVALID_PARAMETER_VALUE``, which the scoring
    server turns into an HTTP 400 carrying the message.
    """

    def __init__(self, model, output: str = "frame"):
        self.model = model
        self.output = validate_output(output)

    def get_raw_model(self):
        """The fitted estimator."""
        return self.model

    def predict(self, data, params: dict[str, Any] | None = None):
        output = validate_output((params or {}).get("output") or self.output)
        X = self._as_features(data)
        try:
            if output == "label":
                return self.model.predict(X)
            if output == "probability":
                return self.model.predict_proba(X)[:, 1]
            scores = self.model.decision_function(X)
            return pd.DataFrame({
                "score": _whole_if_possible(scores),
                "probability": self.model.predict_proba(X)[:, 1],
                "label": self.model.predict(X),
            })
        except (ValueError, TypeError, KeyError) as exc:
            raise MlflowException(
                f"cannot score this input: {exc}", error_code=INVALID_PARAMETER_VALUE
            ) from exc

    def _as_features(self, data):
        """A frame with the model's input columns, or a clear error."""
        names = getattr(self.model, "feature_names_in_", None)
        n_features = getattr(self.model, "n_features_in_", None)
        if isinstance(data, dict):
            data = pd.DataFrame(data)
        elif isinstance(data, (list, tuple)):
            data = pd.DataFrame(list(data))
        elif isinstance(data, np.ndarray):
            if data.ndim == 1:
                data = data.reshape(1, -1)
            data = pd.DataFrame(data)
            if names is not None and data.shape[1] == len(names):
                data.columns = list(names)
        elif isinstance(data, pd.Series):
            data = data.to_frame().T
        if not isinstance(data, pd.DataFrame):
            raise MlflowException(
                f"expected a DataFrame, a dict of columns, a list of rows or a 2-D array, "
                f"got {type(data).__name__}",
                error_code=INVALID_PARAMETER_VALUE,
            )
        if names is not None:
            columns = [str(c) for c in data.columns]
            missing = [str(n) for n in names if str(n) not in columns]
            if missing:
                raise MlflowException(
                    f"input is missing {len(missing)} of the model's {len(names)} columns: "
                    f"{missing[:10]}{' ...' if len(missing) > 10 else ''}",
                    error_code=INVALID_PARAMETER_VALUE,
                )
            data = data.set_axis(columns, axis=1)[[str(n) for n in names]]
            return data
        if n_features is not None and data.shape[1] != n_features:
            raise MlflowException(
                f"input has {data.shape[1]} columns; the model expects {n_features}",
                error_code=INVALID_PARAMETER_VALUE,
            )
        return data.to_numpy()


def _whole_if_possible(scores: np.ndarray) -> np.ndarray:
    """Integer scores as int64: always so for binary or integer features."""
    if np.all(np.isfinite(scores)) and np.all(scores == np.round(scores)):
        return scores.astype(np.int64)
    return scores
