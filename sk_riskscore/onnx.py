"""ONNX export of risk scores, through skl2onnx.

Importing this module registers skl2onnx converters (parser, shape calculator
and converter) for :class:`~sk_riskscore.RiskScoreClassifier` and
:class:`~sk_riskscore.RiskScoreBinarizer`, so a fitted classifier, or a
``Pipeline`` of a binarizer and a classifier, converts with
``skl2onnx.to_onnx`` like any scikit-learn model. :func:`to_onnx` is the
short way, with the settings a risk score needs for exact parity.

The exported graph has one input ``X`` (``[n_rows, n_features]``, float32,
float64 or int64) and three outputs:

``label``
    ``classes_[1]`` where the score is positive, else ``classes_[0]``
    (int64 or string tensor ``[n_rows]``; the class index 0/1 with ``nocl``).
``probabilities``
    ``[1 - p, p]`` with ``p = 1 / (1 + exp(-score / scale_))``, ``[n_rows, 2]``
    float32 for float32 input, float64 otherwise.
``score``
    The card's score: the sum of the row's points, without the intercept
    (``decision_function = score + intercept_``). int64 when every input
    gives an exact integer that fits, i.e. behind a
    :class:`~sk_riskscore.RiskScoreBinarizer` (0/1 features, so the total is
    at most the sum of the points); float64 otherwise, whole numbers for
    integer-valued features. ``integer_score`` chooses (default ``"auto"``).

Everything is computed in float64 whatever the input type, as the Python
estimator does: a float32 input is widened exactly before the first
operation, so labels, scores and binarizer thresholds agree with Python
exactly, and float32 probabilities differ from Python only by the final
rounding to float32.

This module needs the ``onnx`` extra: ``pip install "sk-riskscore[onnx]"``.
"""

from __future__ import annotations

import json
import logging
import numbers

import numpy as np
from sklearn.exceptions import NotFittedError
from sklearn.utils.validation import check_is_fitted

try:
    import onnx
    from onnx import TensorProto
    from skl2onnx import convert_sklearn, update_registered_converter

    # skl2onnx's own ZipMap declaration, so that zipmap=True / "columns"
    # behave exactly as for scikit-learn classifiers (no public equivalent).
    from skl2onnx._parse import _apply_zipmap
    from skl2onnx.common.data_types import (
        DoubleTensorType,
        FloatTensorType,
        Int64TensorType,
        StringTensorType,
    )
except ImportError as exc:  # pragma: no cover - depends on the environment
    raise ImportError(
        f"ONNX export needs onnx and skl2onnx ({exc}). Install the extra: "
        'pip install "sk-riskscore[onnx]"'
    ) from exc

from . import __version__
from ._binarizer import RiskScoreBinarizer
from ._classifier import RiskScoreClassifier
from ._model import feature_names, split_pipeline

__all__ = ["TARGET_OPSET", "to_onnx"]

logger = logging.getLogger(__name__)

#: Default ONNX opset of exported graphs: old enough for every onnxruntime
#: since 1.14, new enough for every operator the converters use.
TARGET_OPSET = 18

_CLASSIFIER_ALIAS = "SkRiskScoreClassifier"
_BINARIZER_ALIAS = "SkRiskScoreBinarizer"
_CLASSIFIER_OPTIONS = {
    "zipmap": [True, False, "columns"],
    "nocl": [False, True],
    "integer_score": ["auto", True, False],
}
_INPUT_DTYPES = {
    np.dtype(np.float32): FloatTensorType,
    np.dtype(np.float64): DoubleTensorType,
    np.dtype(np.int64): Int64TensorType,
}


def to_onnx(
    model,
    *,
    dtype=np.float64,
    target_opset=TARGET_OPSET,
    zipmap=False,
    nocl=False,
    integer_score="auto",
):
    """Convert a fitted risk score (or a pipeline ending in one) to ONNX.

    The graph has one tensor input ``X`` of shape ``[n_rows, n_features_in_]``
    whose columns are in the order the model was fitted on (also stored in
    the model's ``metadata_props["feature_names"]``), and the outputs
    ``label``, ``probabilities`` and ``score`` described in
    :mod:`sk_riskscore.onnx`.

    Parameters
    ----------
    model : RiskScoreClassifier or Pipeline
        A fitted classifier, or a fitted ``Pipeline`` whose last step is one
        (e.g. ``RiskScoreBinarizer`` then ``RiskScoreClassifier``). Other
        scikit-learn steps convert with skl2onnx's own converters.
    dtype : {numpy.float64, numpy.float32, numpy.int64}, default=numpy.float64
        Element type of the input tensor. Computation is float64 in every
        case; float32 makes ``probabilities`` float32.
    target_opset : int, default=TARGET_OPSET
        ONNX opset of the main domain.
    zipmap : bool or "columns", default=False
        skl2onnx's ZipMap on the probabilities: ``True`` gives a list of
        ``{class: probability}`` dicts (``output_label``,
        ``output_probability``), ``"columns"`` one output per class. The
        default keeps the ``[n_rows, 2]`` tensor, which serving runtimes and
        MLflow need.
    nocl : bool, default=False
        Output the class index (0 or 1) instead of the class label.
    integer_score : {"auto", True, False}, default="auto"
        Type of the ``score`` output. ``True``: int64, which needs a
        :class:`~sk_riskscore.RiskScoreBinarizer` right before the classifier
        (its 0/1 features bound the total; a raw feature of 1e19 would not
        fit int64, so a ``ValueError`` says so). ``False``: float64, the
        exact total in float64 (``X @ coef_``). ``"auto"``: int64 where
        ``True`` is allowed, else float64.

    Returns
    -------
    onnx.ModelProto

    Raises
    ------
    sklearn.exceptions.NotFittedError
        If ``model`` is not fitted.
    ValueError
        If the model or a setting cannot be exported (e.g. a binarizer rule
        comparing strings).

    Examples
    --------
    >>> import numpy as np
    >>> import onnxruntime as ort
    >>> from sk_riskscore import RiskScoreClassifier
    >>> from sk_riskscore.datasets import load_breastcancer
    >>> from sk_riskscore.onnx import to_onnx
    >>> X, y = load_breastcancer(return_X_y=True, as_frame=True)
    >>> clf = RiskScoreClassifier(max_features=3, max_coef=3).fit(X, y)
    >>> session = ort.InferenceSession(
    ...     to_onnx(clf).SerializeToString(), providers=["CPUExecutionProvider"])
    >>> label, proba, score = session.run(None, {"X": X.to_numpy(np.float64)})
    >>> bool((score + clf.intercept_[0] == clf.decision_function(X)).all())
    True
    >>> bool((label == clf.predict(X)).all())
    True
    """
    n_features = _n_features_in(model)
    dtype = np.dtype(dtype)
    if dtype not in _INPUT_DTYPES:
        raise ValueError(f"dtype must be one of float32, float64 or int64, got {dtype}.")
    if zipmap not in (True, False, "columns"):
        raise ValueError(f"zipmap must be True, False or 'columns', got {zipmap!r}.")
    if not isinstance(target_opset, numbers.Integral) or target_opset < 13:
        raise ValueError(f"target_opset must be an integer of at least 13, got {target_opset!r}.")
    classifier = _final_classifier(model)
    if integer_score not in ("auto", True, False):
        raise ValueError(
            f"integer_score must be 'auto', True or False, got {integer_score!r}.")
    if integer_score != "auto":
        integer_score = bool(integer_score)
    options = {
        id(classifier): {
            "zipmap": zipmap,
            "nocl": bool(nocl),
            "integer_score": integer_score,
        }
    }
    onx = convert_sklearn(
        model,
        initial_types=[("X", _INPUT_DTYPES[dtype]([None, n_features]))],
        target_opset=int(target_opset),
        options=options,
        name=type(model).__name__,
    )
    _add_metadata(onx, model, classifier)
    logger.debug(
        "Exported %s with %d input columns, opset %d.",
        type(model).__name__,
        n_features,
        target_opset,
    )
    return onx


def _n_features_in(model) -> int:
    try:
        check_is_fitted(model)
        _final_classifier(model)
        return int(model.n_features_in_)
    except NotFittedError as exc:
        raise NotFittedError(
            f"This {type(model).__name__} is not fitted: call fit before exporting it to ONNX."
        ) from exc
    except AttributeError as exc:
        raise NotFittedError(
            f"This {type(model).__name__} is not fitted ({exc}): call fit before "
            "exporting it to ONNX."
        ) from None


def _final_classifier(model):
    """The RiskScoreClassifier a model ends with (itself, or a pipeline's last step)."""
    final = split_pipeline(model)[1]
    if not isinstance(final, RiskScoreClassifier):
        raise ValueError(
            "sk_riskscore.onnx.to_onnx exports a RiskScoreClassifier or a Pipeline "
            f"ending in one; got {type(model).__name__} ending in "
            f"{type(final).__name__}. Use skl2onnx.to_onnx for other models."
        )
    return final


def _add_metadata(onx, model, classifier) -> None:
    names = feature_names(getattr(model, "feature_names_in_", None), model.n_features_in_)
    entries = {
        "feature_names": json.dumps([str(name) for name in names]),
        "classes": json.dumps(np.asarray(classifier.classes_).tolist()),
        "scale": repr(float(classifier.scale_)),
        "producer": f"sk-riskscore {__version__}",
    }
    existing = {prop.key: prop.value for prop in onx.metadata_props}
    onnx.helper.set_model_props(onx, {**existing, **entries})
    onx.doc_string = (
        "Risk score exported by sk-riskscore. Input X: columns "
        f"{entries['feature_names']}. Outputs: label, probabilities [n, 2], score."
    )


# --------------------------------------------------------------------------
# RiskScoreClassifier: parser, shape calculator, converter.


def _parse_classifier(scope, model, inputs, custom_parsers=None):
    """Declare label, probabilities and score, then ZipMap the first two if asked."""
    _require_fitted(model)
    options = scope.get_options(model, dict(zipmap=True, nocl=False, integer_score="auto"))
    operator = scope.declare_local_operator(_CLASSIFIER_ALIAS, model)
    operator.inputs = inputs
    label_type = (
        Int64TensorType([None])
        if options["nocl"] or _label_kind(model.classes_) == "int"
        else StringTensorType([None])
    )
    label = scope.declare_local_variable("label", label_type)
    zipmap = options["zipmap"] is not False
    if options["zipmap"] == "columns" and options["nocl"]:
        raise ValueError(
            "Options zipmap='columns' and nocl=True cannot be combined: the "
            "per-class outputs are named after the class labels. Drop one of them."
        )
    # The ONNX ZipMap operator takes float32 probabilities only.
    proba_type = FloatTensorType if options["zipmap"] is True else _probability_type(inputs)
    probabilities = scope.declare_local_variable("probabilities", proba_type([None, 2]))
    score_type = Int64TensorType if _integer_score(options, inputs) else DoubleTensorType
    score = scope.declare_local_variable("raw_score" if zipmap else "score", score_type([None]))
    operator.outputs.extend([label, probabilities, score])
    if not zipmap:
        return operator.outputs
    zipped = _apply_zipmap(options["zipmap"], scope, model, proba_type(), [label, probabilities])
    # Graph outputs come in declaration order: re-declare the score after the
    # ZipMap outputs so it stays last.
    identity = scope.declare_local_operator("SklearnIdentity")
    identity.inputs = [score]
    identity.outputs = [scope.declare_local_variable("score", score_type([None]))]
    return [*zipped, *identity.outputs]


def _integer_score(options, inputs) -> bool:
    """Whether the score output is int64: only where every input gives an
    exact integer that fits (behind a binarizer), never a wrapped one.
    """
    bounded = all(getattr(v, _INDICATORS_MARK, False) for v in inputs)
    if options["integer_score"] is True and not bounded:
        raise ValueError(
            "integer_score=True needs a RiskScoreBinarizer right before the "
            "classifier: with raw features the total of points is unbounded (a "
            "feature of 1e19 would not fit int64, and past 2**53 a float64 total "
            "is no longer an exact integer). Use integer_score='auto' or False "
            "for a float64 score."
        )
    return bounded and options["integer_score"] is not False


# Marks the output variable of a binarizer (0/1 indicators) for the next parser.
_INDICATORS_MARK = "_sk_riskscore_indicators"


def _classifier_shape(operator):
    n_rows = _check_input_width(operator)
    label, probabilities, score = operator.outputs
    label.type = label.type.__class__([n_rows])
    probabilities.type = probabilities.type.__class__([n_rows, 2])
    score.type = score.type.__class__([n_rows])


def _convert_classifier(scope, operator, container):
    model = operator.raw_operator
    options = container.get_options(model, dict(nocl=False, integer_score="auto"))
    graph = _GraphWriter(scope, operator, container)
    X = graph.double_matrix(operator.inputs)

    # A [n_features, 1] weight matrix: onnxruntime multiplies by a 1-D vector
    # about 30 times slower. Features without points add exact zeros, as in
    # Python's X @ coef.
    points = np.asarray(model.coef_[0], dtype=np.float64).reshape(-1, 1)
    raw = graph.node("MatMul", [X, graph.constant(points)])
    column = graph.node("Add", [raw, graph.constant(np.float64(model.intercept_[0]))])
    flat = graph.constant(np.array([-1], np.int64))
    decision = graph.node("Reshape", [column, flat])
    score = graph.node("Reshape", [raw, flat])  # the card's score: points only

    positive = graph.node("Greater", [decision, graph.constant(np.float64(0.0))])
    index = graph.node("Cast", [positive], to=TensorProto.INT64)
    label_out, proba_out, score_out = (v.full_name for v in operator.outputs)
    if options["nocl"]:
        graph.node("Identity", [index], output=label_out)
    else:
        classes = _label_array(model.classes_)
        graph.node("Gather", [graph.constant(classes), index], output=label_out, axis=0)

    if float(model.scale_) != 1.0:
        column = graph.node("Div", [column, graph.constant(np.float64(model.scale_))])
    risk = graph.node("Sigmoid", [column])
    complement = graph.node("Sub", [graph.constant(np.float64(1.0)), risk])
    proba_type = operator.outputs[1].type
    if isinstance(proba_type, DoubleTensorType):
        graph.node("Concat", [complement, risk], output=proba_out, axis=1)
    else:
        proba = graph.node("Concat", [complement, risk], axis=1)
        graph.node("Cast", [proba], output=proba_out, to=TensorProto.FLOAT)

    if operator.outputs[2].type.__class__ is Int64TensorType:
        # whole numbers within +-sum|points| (binarizer indicators): exact
        graph.node("Cast", [score], output=score_out, to=TensorProto.INT64)
    else:
        graph.node("Identity", [score], output=score_out)


# --------------------------------------------------------------------------
# RiskScoreBinarizer: parser, shape calculator and converter.


def _parse_binarizer(scope, model, inputs, custom_parsers=None):
    """One 0/1 output, float32 for float32 inputs and float64 otherwise.

    skl2onnx's default parser would guess float32 for int64 inputs; the type
    must be right at parse time, since the next step's parser reads it.
    """
    _require_fitted(model)
    operator = scope.declare_local_operator(_BINARIZER_ALIAS, model)
    operator.inputs = inputs
    output_type = _probability_type(inputs)([None, len(model.rules_)])
    indicators = scope.declare_local_variable("binary_features", output_type)
    setattr(indicators, _INDICATORS_MARK, True)
    operator.outputs.append(indicators)
    return operator.outputs


def _binarizer_shape(operator):
    n_rows = _check_input_width(operator)
    operator.outputs[0].type = _probability_type(operator.inputs)(
        [n_rows, len(operator.raw_operator.rules_)]
    )


def _convert_binarizer(scope, operator, container):
    """All rules of one operator in one vectorised comparison each.

    Work happens in a transposed ``[column, row]`` layout: onnxruntime
    gathers rows and broadcasts a ``[k, 1]`` threshold over ``[k, n_rows]``
    many times faster than it gathers columns or broadcasts over the last
    axis. The numeric input columns form one float64 matrix; the rules with
    ``>=``, ``<``, numeric ``==`` and ``is`` each become one Gather + compare
    (a threshold then drops missing and special values, see
    :func:`_drop_missing_and_special`); rules on
    a text input (one input per column) become a LabelEncoder lookup. A
    Gather puts the rules back in order and one Transpose makes ``[n_rows, k]``.
    """
    model = operator.raw_operator
    _require_fitted(model)
    if not model.rules_:
        raise ValueError("This RiskScoreBinarizer has no rules; there is nothing to export.")
    graph = _GraphWriter(scope, operator, container)
    output_type = (
        TensorProto.FLOAT
        if isinstance(operator.outputs[0].type, FloatTensorType)
        else TensorProto.DOUBLE
    )
    numeric, numeric_position, text_input = _binarizer_columns(graph, operator, model)

    blocks, order = [], []  # bool tensors of shape [rules in block, n_rows]
    transposed = graph.node("Transpose", [numeric], perm=[1, 0]) if numeric else None
    by_comparison = {}
    for k, rule in enumerate(model.rules_):
        if str(rule.column) in numeric_position:
            by_comparison.setdefault(_comparison(rule), []).append(k)
    for compare, chosen in by_comparison.items():
        positions = [numeric_position[str(model.rules_[k].column)] for k in chosen]
        rows = graph.node(
            "Gather",
            [transposed, graph.constant(np.array(positions, np.int64))],
            axis=0,
        )
        if compare == "IsNaN":
            blocks.append(graph.node("IsNaN", [rows]))
        else:
            thresholds = np.array([[_numeric_value(model.rules_[k])] for k in chosen])
            hit = graph.node(compare, [rows, graph.constant(thresholds)])
            if compare in ("GreaterOrEqual", "Less"):
                hit = _drop_missing_and_special(graph, hit, rows, [model.rules_[k] for k in chosen])
            blocks.append(hit)
        order += chosen
    for k, rule in enumerate(model.rules_):
        if str(rule.column) not in numeric_position:
            blocks.append(_text_rule(graph, rule, text_input[str(rule.column)]))
            order.append(k)

    hits = blocks[0] if len(blocks) == 1 else graph.node("Concat", blocks, axis=0)
    if order != sorted(order):
        # Row j of the result is row order.index(j) of the blocks.
        permutation = np.argsort(np.array(order)).astype(np.int64)
        hits = graph.node("Gather", [hits, graph.constant(permutation)], axis=0)
    by_row = graph.node("Transpose", [hits], perm=[1, 0])
    graph.node("Cast", [by_row], output=operator.outputs[0].full_name, to=output_type)


def _comparison(rule) -> str:
    """The ONNX operator testing a numeric rule (one block of rules per operator)."""
    if rule.is_missing_rule:
        return "IsNaN"
    return {">=": "GreaterOrEqual", "<": "Less", "==": "Equal", "is": "Equal"}[rule.operator]


def _drop_missing_and_special(graph, hit, rows, rules) -> str:
    """A threshold gives 0 on a missing value and on its rule's special values.

    Explicit, though ``NaN >= t`` is already false in IEEE arithmetic: the
    binarizer's rule says so, and Spark orders NaN above every number.
    Special values are padded with NaN (equal to nothing) to one
    ``[rules, 1]`` column per position, so the block stays vectorised.
    """
    keep = graph.node("Not", [graph.node("IsNaN", [rows])])
    width = max(len(rule.excluded) for rule in rules)
    for j in range(width):
        column = np.array(
            [[rule.excluded[j] if j < len(rule.excluded) else np.nan] for rule in rules]
        )
        special = graph.node("Equal", [rows, graph.constant(column)])
        keep = graph.node("And", [keep, graph.node("Not", [special])])
    return graph.node("And", [hit, keep])


def _binarizer_columns(graph, operator, model):
    """(float64 matrix of numeric columns, {column: position}, {column: text input}).

    One matrix input holds every column as numbers; one input per column
    (skl2onnx's conversion of a DataFrame) may hold text columns too.
    """
    names = feature_names(getattr(model, "feature_names_in_", None), model.n_features_in_)
    inputs = operator.inputs
    rule_columns = {str(rule.column) for rule in model.rules_}
    one_matrix = len(inputs) == 1 and not (len(names) == 1 and _is_text(inputs[0]))
    if one_matrix:
        if _is_text(inputs[0]):
            raise ValueError(
                "A single text input cannot hold the numeric columns of a "
                "RiskScoreBinarizer; give one input per column (skl2onnx.to_onnx with "
                "a DataFrame sample does that)."
            )
        for rule in model.rules_:
            _require_numeric_rule(rule, per_column_hint=True)
        return graph.double_matrix(inputs), {n: j for j, n in enumerate(names)}, {}
    if len(inputs) != len(names):
        raise ValueError(
            f"The RiskScoreBinarizer has {len(names)} input columns but the ONNX graph "
            f"gives it {len(inputs)} inputs; give one matrix input or one input per "
            "column, in the fitted order."
        )
    numeric_inputs, positions, text_input = [], {}, {}
    for name, variable in zip(names, inputs, strict=True):
        if _is_text(variable):
            text_input[name] = variable.full_name
        elif name in rule_columns:
            positions[name] = len(numeric_inputs)
            numeric_inputs.append(variable)
    for rule in model.rules_:
        if str(rule.column) in positions:
            _require_numeric_rule(rule, per_column_hint=False)
        elif rule.is_missing_rule:
            raise ValueError(
                f"Rule {rule.name!r} tests the text column {rule.column!r} for missing "
                "values, which an ONNX string input cannot hold; fill them with an "
                "explicit category before fitting (e.g. X[column].fillna('missing'))."
            )
        elif not isinstance(rule.threshold, str):
            raise ValueError(
                f"Rule {rule.name!r} compares column {rule.column!r} with "
                f"{rule.threshold!r}, but that ONNX input holds text; give the column "
                "as numbers, as in fit."
            )
    numeric = graph.double_matrix(numeric_inputs) if numeric_inputs else None
    return numeric, positions, text_input


def _text_rule(graph, rule, text_input) -> str:
    """``column == category`` on a ``[n_rows, 1]`` text input; bool ``[1, n_rows]``."""
    code = graph.node(
        "LabelEncoder",
        [text_input],
        op_domain="ai.onnx.ml",
        op_version=2,
        keys_strings=[rule.threshold],
        values_int64s=[1],
        default_int64=0,
    )
    hit = graph.node("Cast", [code], to=TensorProto.BOOL)
    return graph.node("Reshape", [hit, graph.constant(np.array([1, -1], np.int64))])


def _require_numeric_rule(rule, *, per_column_hint: bool) -> None:
    if not isinstance(rule.threshold, str):
        return
    hint = (
        " Export with one input per column instead: skl2onnx.to_onnx(model, "
        "X.head(), target_opset=TARGET_OPSET) with a DataFrame sample gives text "
        "columns string inputs."
        if per_column_hint
        else ""
    )
    raise ValueError(
        f"Rule {rule.name!r} compares column {rule.column!r} with the text category "
        f"{rule.threshold!r}, which a numeric ONNX input cannot hold.{hint}"
    )


def _numeric_value(rule) -> float:
    """The threshold or numeric category, as the float64 Python compares with."""
    if not isinstance(rule.threshold, numbers.Real):
        raise ValueError(
            f"Rule {rule.name!r} compares column {rule.column!r} with "
            f"{rule.threshold!r}, which is neither a number nor text; the ONNX "
            "export cannot express it."
        )
    return float(rule.threshold)


def _is_text(variable) -> bool:
    return isinstance(variable.type, StringTensorType)


# --------------------------------------------------------------------------
# Helpers.


class _GraphWriter:
    """Adds nodes and constants for one operator, with unique names."""

    def __init__(self, scope, operator, container):
        self.scope = scope
        self.operator = operator
        self.container = container

    def constant(self, value) -> str:
        value = np.asarray(value)
        name = self.scope.get_unique_variable_name("riskscore_const")
        if value.dtype.kind in "US":
            flat = [str(v).encode("utf-8") for v in value.ravel()]
            self.container.add_initializer(name, TensorProto.STRING, list(value.shape), flat)
        else:
            onnx_type = onnx.helper.np_dtype_to_tensor_dtype(value.dtype)
            self.container.add_initializer(
                name, onnx_type, list(value.shape), value.ravel().tolist()
            )
        return name

    def node(self, op_type, inputs, output=None, **attributes) -> str:
        output = output or self.scope.get_unique_variable_name(op_type.lower())
        self.container.add_node(
            op_type,
            inputs,
            [output],
            name=self.scope.get_unique_operator_name(f"RiskScore{op_type}"),
            **attributes,
        )
        return output

    def double_matrix(self, variables) -> str:
        """The inputs as one float64 matrix (skl2onnx gives a DataFrame one input
        per column); widening float32 or int64 to float64 is exact.
        """
        columns = [
            variable.full_name
            if isinstance(variable.type, DoubleTensorType)
            else self.node("Cast", [variable.full_name], to=TensorProto.DOUBLE)
            for variable in variables
        ]
        if len(columns) == 1:
            return columns[0]
        return self.node("Concat", columns, axis=1)


def _require_fitted(model) -> None:
    try:
        check_is_fitted(model)
    except NotFittedError as exc:
        raise NotFittedError(
            f"This {type(model).__name__} is not fitted: call fit before converting it to ONNX."
        ) from exc


def _probability_type(inputs):
    """float32 outputs for float32 inputs, float64 for anything else."""
    if all(isinstance(variable.type, FloatTensorType) for variable in inputs):
        return FloatTensorType
    return DoubleTensorType


def _check_input_width(operator):
    """The number of rows; raises if the inputs do not have the fitted width."""
    model = operator.raw_operator
    widths = [variable.get_second_dimension() for variable in operator.inputs]
    if None not in widths and sum(widths) != model.n_features_in_:
        raise ValueError(
            f"The ONNX inputs of {type(model).__name__} have {sum(widths)} columns "
            f"in all but it was fitted on {model.n_features_in_}; declare one input "
            f"of shape [None, {model.n_features_in_}] (or one [None, 1] input per "
            "column, in the fitted order)."
        )
    return operator.inputs[0].get_first_dimension()


def _label_kind(classes) -> str:
    classes = np.asarray(classes)
    if classes.dtype.kind in "iub":
        return "int"
    if classes.dtype.kind == "f":
        if np.all(classes == np.round(classes)):
            return "int"
        raise ValueError(
            f"Class labels {classes.tolist()} are not whole numbers; ONNX labels "
            "are int64 or strings. Fit with integer or string labels."
        )
    if all(isinstance(c, str) for c in classes.tolist()):
        return "str"
    raise ValueError(
        f"Class labels {classes.tolist()} are neither integers nor strings; ONNX "
        "labels are int64 or strings. Fit with integer or string labels."
    )


def _label_array(classes) -> np.ndarray:
    if _label_kind(classes) == "int":
        return np.asarray(classes).astype(np.int64)
    return np.asarray([str(c) for c in classes])


def _register() -> None:
    update_registered_converter(
        RiskScoreClassifier,
        _CLASSIFIER_ALIAS,
        _classifier_shape,
        _convert_classifier,
        parser=_parse_classifier,
        options=_CLASSIFIER_OPTIONS,
    )
    update_registered_converter(
        RiskScoreBinarizer,
        _BINARIZER_ALIAS,
        _binarizer_shape,
        _convert_binarizer,
        parser=_parse_binarizer,
    )


_register()
