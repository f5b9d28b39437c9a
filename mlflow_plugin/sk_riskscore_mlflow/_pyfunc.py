"""The ``python_function`` face of a risk score: score, risk and label."""

from __future__ import annotations

import logging
import warnings
from typing import Any

import numpy as np
import pandas as pd
from mlflow.exceptions import MlflowException
from mlflow.protos.databricks_pb2 import INVALID_PARAMETER_VALUE

from sk_riskscore._model import OUTPUT_NAMES, prediction_frame

_logger = logging.getLogger(__name__)

#: What ``predict`` can return: a frame of all three, or one 1-D output.
OUTPUTS = ("frame", "label", "risk")
#: Output spellings of sk-riskscore 0.1, still accepted with a FutureWarning.
RENAMED_OUTPUTS = {"probability": "risk"}
#: The frame columns of models saved by sk-riskscore 0.1 (their signature names
#: them, so these models keep them until they are logged again).
LEGACY_COLUMNS = ("score", "probability", "label")


def validate_output(output) -> str:
    """``output`` checked, with the 0.1 spelling "probability" read as "risk"."""
    if output in RENAMED_OUTPUTS:
        warnings.warn(
            f"output={output!r} is deprecated and will be removed in sk-riskscore 0.3; "
            f"use output={RENAMED_OUTPUTS[output]!r} (the same values).",
            FutureWarning,
            stacklevel=3,
        )
        return RENAMED_OUTPUTS[output]
    if output not in OUTPUTS:
        raise MlflowException(
            f"output must be one of {list(OUTPUTS)}, got {str(output)[:100]!r}",
            error_code=INVALID_PARAMETER_VALUE,
        )
    return output


class RiskScorePyfunc:
    """Wraps a fitted risk score (or binarizer pipeline) for ``mlflow.pyfunc``.

    ``predict`` returns, per row, the ``score`` (the card's total points,
    without the intercept: int64 when whole, float64 otherwise), the ``risk``
    (probability of ``classes_[1]``) and the predicted ``label``;
    ``params={"output": "label"}`` or ``"risk"`` returns that column alone,
    1-D. ``columns`` renames the frame's columns (models saved by 0.1 keep
    :data:`LEGACY_COLUMNS`, which their signature declares). Bad input becomes an
    ``MlflowException`` with ``INVALID_PARAMETER_VALUE``, which the scoring
    server turns into an HTTP 400 carrying the message.
    """

    def __init__(self, model, output: str = "frame", columns=OUTPUT_NAMES):
        self.model = model
        self.output = validate_output(output)
        self.columns = tuple(columns)

    def get_raw_model(self):
        """The fitted estimator."""
        return self.model

    def predict(self, data, params: dict[str, Any] | None = None):
        output = validate_output((params or {}).get("output") or self.output)
        try:
            X = self._as_features(data)
            if output == "label":
                return self.model.predict(X)
            if output == "risk":
                return self.model.predict_proba(X)[:, 1]
            return prediction_frame(self.model, X).set_axis(list(self.columns), axis=1)
        except MlflowException:
            raise
        except Exception as exc:
            # The scoring server sends a stack trace with any other exception:
            # one short line instead, the details in the server's log.
            _logger.debug("scoring failed", exc_info=True)
            raise MlflowException(
                f"cannot score this input: {_short(exc)}", error_code=INVALID_PARAMETER_VALUE
            ) from None

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



def _short(exc: Exception, limit: int = 200) -> str:
    """The first line of an error, at most ``limit`` characters: error bodies
    of the server must not echo a whole request.
    """
    text = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
    return text if len(text) <= limit else text[: limit - 3] + "..."
