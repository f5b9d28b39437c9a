"""The ``sk-riskscore`` command: fit, show, predict, export-onnx and demo.

Every failure is one line on stderr, ``sk-riskscore: error: ...``, with exit
code 2 for a bad command line and 1 for anything that goes wrong while running
(130 on Ctrl-C); never a traceback unless ``--debug`` is given. Results go to
stdout (or to ``--output`` files), progress and warnings to stderr.
"""

from __future__ import annotations

import contextlib
import html
import json
import os
import re
import sys
import warnings
from pathlib import Path

from .._io._atomic import write_atomically
from .._model import prediction_frame, split_pipeline
from ._parser import PROG, CommandError, UsageError, _message, build_parser
from ._plugin import log_to_mlflow

__all__ = ["main"]


# Errors whose message is meant for the user; anything else is a bug and says so.
_EXPECTED_ERRORS = (CommandError, OSError, ValueError, TypeError, ImportError, KeyError)
# An error line quotes user input; a hostile file must not make it megabytes long.
_MESSAGE_HEAD = 300
_MESSAGE_TAIL = 100
# A constraints file lists a few constraints: kilobytes.


# --------------------------------------------------------------------- main


def main(argv=None) -> int:
    """Run the ``sk-riskscore`` command line; returns the exit code.

    Parameters
    ----------
    argv : list of str, default=None
        The arguments after the program name; ``sys.argv[1:]`` by default.

    Returns
    -------
    code : int
        0 on success, 1 when a command fails, 2 for a bad command line and
        130 when interrupted.

    Examples
    --------
    >>> from sk_riskscore.cli import main
    >>> main(["fit", "no-such-file.csv", "--target", "y"])
    1
    """
    try:
        args = build_parser().parse_args(argv)
    except UsageError as exc:
        _error(str(exc))
        return 2
    except SystemExit as exc:  # --help and --version
        return exc.code if isinstance(exc.code, int) else 0
    try:
        with _one_line_warnings():
            _COMMANDS[args.command](args)
    except UsageError as exc:
        _error(str(exc))
        return 2
    except KeyboardInterrupt:
        _error("interrupted")
        return 130
    except _EXPECTED_ERRORS as exc:
        if args.debug:
            raise
        _error(_message(exc))
        return 1
    except Exception as exc:  # a bug: still one line, with a way to see more
        if args.debug:
            raise
        _error(
            f"unexpected {type(exc).__name__}: {_message(exc)} (run again with --debug "
            "for the traceback, and please report it)"
        )
        return 1
    return 0


def _error(message: str) -> None:
    sys.stderr.write(f"{PROG}: error: {_one_short_line(cli_words(message))}\n")
    sys.stderr.flush()


#: Library parameters that messages name, and the options that set them here.
_OPTION_OF = re.compile(
    r"\b(time_limit|max_features|max_coef|gap_tolerance|n_jobs|c0(?==))(=)?")
_BINARIZER_ADVICE = re.compile(
    r"(?:sk_riskscore\.)?RiskScoreBinarizer in (?:a|the) Pipeline")


def cli_words(message: str) -> str:
    """A library message in the command line's words: ``raise --time-limit``,
    not ``raise time_limit``; ``--binarize``, not ``RiskScoreBinarizer``.
    """
    message = message.replace("with calibrate_scale=False", "without --calibrate-scale")
    message = message.replace("calibrate_scale=False", "no --calibrate-scale")
    message = message.replace("calibrate_scale=True", "--calibrate-scale")
    message = _BINARIZER_ADVICE.sub("--binarize (the default)", message)
    return _OPTION_OF.sub(
        lambda m: "--" + m.group(1).replace("_", "-") + (" " if m.group(2) else ""),
        message)


def _one_short_line(message: str) -> str:
    """The message on one line, its middle cut if long (the end often says the fix)."""
    text = " ".join(str(message).split())
    if len(text) <= _MESSAGE_HEAD + _MESSAGE_TAIL:
        return text
    omitted = len(text) - _MESSAGE_HEAD - _MESSAGE_TAIL
    return f"{text[:_MESSAGE_HEAD]} [... {omitted} characters ...] {text[-_MESSAGE_TAIL:]}"


def _note(message: str) -> None:
    sys.stderr.write(f"{PROG}: {message}\n")
    sys.stderr.flush()


@contextlib.contextmanager
def _one_line_warnings():
    """Show each warning as ``sk-riskscore: warning: ...``, without a source line."""

    def show(message, category, filename, lineno, file=None, line=None):
        sys.stderr.write(f"{PROG}: warning: {_one_short_line(cli_words(str(message)))}\n")

    with warnings.catch_warnings():
        warnings.simplefilter("default")
        # Deprecation notices from dependencies are not the user's business.
        for category in (DeprecationWarning, PendingDeprecationWarning, FutureWarning):
            warnings.filterwarnings("ignore", category=category)
        # MLflow's advice for integer columns with missing values: the binarizer
        # reads them as floats anyway.
        warnings.filterwarnings("ignore", message="Hint: Inferred schema contains integer")
        warnings.showwarning = show
        yield


# ----------------------------------------------------------------- commands


#: Card lines that fit on one screen; a longer card is not one people can read.
SCREENFUL = 50


def _run_fit(args) -> None:
    wants_mlflow = any(
        getattr(args, name) is not None
        for name in ("tracking_uri", "experiment", "artifact_location", "registered_name",
                     "alias")
    )
    if args.alias is not None and args.registered_name is None:
        raise UsageError("--alias needs --registered-name (see 'sk-riskscore fit --help')")
    if args.special_values is not None and args.binarize is False:
        raise UsageError("--special-values needs --binarize, the default; drop "
                         "--no-binarize (see 'sk-riskscore fit --help')")
    output = _writable(args.output)  # before a long fit, not after
    constraints = _read_constraints(args.constraints) if args.constraints else None
    frame = read_csv(args.data)
    X, y = _split_target(frame, args.target, args.data)
    not_binary = _non_binary_columns(X)
    binarize = args.binarize if args.binarize is not None else bool(not_binary)
    _check_features(X, args.data, binarize=binarize)
    if not binarize and not_binary:
        warnings.warn(
            f"{'columns' if len(not_binary) > 1 else 'column'} "
            f"{_quoted_columns(not_binary)} {'are' if len(not_binary) > 1 else 'is'} "
            "not 0/1: with --no-binarize each "
            "gets points per unit of its value, and the card a row per value. Drop "
            "--no-binarize to turn them into yes/no threshold rules.", UserWarning,
            stacklevel=1)
    model = _build_model(args, constraints, binarize)

    from .._io._envelope import save_json
    from .._scorecard import ScoreCard

    model.fit(X, y)
    classifier = split_pipeline(model)[1]
    # Everything that can still fail (the card) runs before the model file is
    # written: a failed fit leaves no file, and an old file stays as it was.
    card = ScoreCard.from_estimator(model, X, y).to_text()
    path = save_json(model, output)
    print(card)
    print()
    print(fit_summary(classifier))
    print(f"model saved to {path}")
    lines = card.count("\n") + 1
    if lines > SCREENFUL:
        advice = ("drop --no-binarize so that numeric columns become threshold rules"
                  if not binarize else "lower --max-features or --max-coef")
        warnings.warn(f"the card is {lines} lines long, more than a screen: {advice}.",
                      UserWarning, stacklevel=1)
    if wants_mlflow:
        tracking_uri = (args.tracking_uri or os.environ.get("MLFLOW_TRACKING_URI")
                        or "sqlite:///mlflow.db")
        logged = log_to_mlflow(
            model, X, y,
            tracking_uri=tracking_uri,
            experiment=args.experiment or "sk-riskscore",
            artifact_location=args.artifact_location or _beside_sqlite(tracking_uri),
            registered_name=args.registered_name,
            alias=args.alias,
            params=_fit_params(args) | {"binarize": binarize},
        )
        print(f"MLflow run {logged.run_id} (tracking URI {logged.tracking_uri})")
        print(f"MLflow model {logged.model_uri}")
        if logged.registry_uri:
            print(f"registered model {logged.registry_uri}")


def fit_summary(classifier) -> str:
    """How the model was fitted, as stored in it: status, gap, time, data size."""
    statistics = classifier.solver_statistics_
    rows = getattr(classifier, "n_samples_fit_", None)
    used = int((classifier.coef_ != 0).sum())
    event = classifier.classes_[1]
    event = event.item() if hasattr(event, "item") else event
    target = getattr(classifier, "target_name_", None)
    return "\n".join([
        f"status: {classifier.status_} (optimality gap {classifier.optimality_gap_:.3%}, "
        f"objective {classifier.objective_:.6f}, proven bound "
        f"{classifier.lower_bound_:.6f})",
        f"fitted in {statistics.time:.1f} s"
        + (f" on {rows} rows" if rows is not None else "")
        + f"; {used} of {classifier.n_features_in_} features with points",
        f"event: {target + ' = ' if target else 'class '}{event}",
    ])


def _non_binary_columns(X) -> list:
    """Columns that are not 0/1 numbers (text, or numbers with other values)."""
    import pandas as pd

    out = []
    for column, values in X.items():
        if pd.api.types.is_bool_dtype(values):
            continue
        if not pd.api.types.is_numeric_dtype(values) or not values.dropna().isin(
                (0, 1)).all():
            out.append(str(column))
    return out


def _quoted_columns(names, limit=8) -> str:
    shown = ", ".join(map(repr, names[:limit]))
    return shown + (f" and {len(names) - limit} more" if len(names) > limit else "")


def _beside_sqlite(tracking_uri: str) -> str | None:
    """``mlartifacts/`` next to a sqlite store (as the demo does), not ./mlruns."""
    prefix = "sqlite:///"
    if not tracking_uri.startswith(prefix):
        return None
    return str(Path(tracking_uri[len(prefix):]).resolve().parent / "mlartifacts")


def _build_model(args, constraints, binarize):
    from .._classifier import RiskScoreClassifier

    classifier = RiskScoreClassifier(
        max_features=args.max_features,
        max_coef=args.max_coef,
        c0=args.c0,
        time_limit=args.time_limit,
        gap_tolerance=args.gap_tolerance,
        constraints=constraints,
        calibrate_scale=args.calibrate_scale,
        solver=args.solver,
        n_jobs=args.n_jobs,
        random_state=args.random_state,
        verbose=0 if args.quiet else 1,
    )
    if not binarize:
        return classifier
    from sklearn.pipeline import Pipeline

    from .._binarizer import RiskScoreBinarizer

    # the binarizer's DataFrame carries its rules and threshold groups to the
    # classifier (constraints on raw variables, one threshold per direction)
    return Pipeline(
        [("binarize", RiskScoreBinarizer(n_thresholds=args.n_thresholds,
                                          special_values=args.special_values)),
         ("score", classifier)]
    )


def _fit_params(args) -> dict:
    names = ("data", "target", "max_features", "max_coef", "c0", "time_limit",
             "gap_tolerance", "constraints", "calibrate_scale", "solver", "random_state",
             "binarize", "n_thresholds", "special_values")
    return {name: getattr(args, name) for name in names}


def _run_show(args) -> None:
    if args.target is not None and args.data is None:
        raise UsageError("--target needs --data (see 'sk-riskscore show --help')")
    if args.format == "pdf" and args.output in (None, "-"):
        raise UsageError("--format pdf needs -o CARD.pdf (see 'sk-riskscore show --help')")
    from .._scorecard import ScoreCard

    model = load_model(args.model)
    X = y = None
    if args.data is not None:
        frame = read_csv(args.data)
        if args.target is not None:
            X, y = _split_target(frame, args.target, args.data)
        else:
            X = frame
        X = _model_columns(model, X, args.data)
    elif not hasattr(model, "steps"):
        _note(
            "note: without --data the card assumes every feature is 0 or 1; pass "
            "--data DATA.csv for the values each feature takes"
        )
    card = ScoreCard.from_estimator(model, X, y, title=args.title)
    summary = fit_summary(split_pipeline(model)[1])
    if args.format == "pdf":
        card.to_pdf(_writable(args.output), footer=summary)
        print(f"card written to {args.output}")
        return
    if args.format == "text":
        text = f"{card.to_text()}\n\n{summary}"
    elif args.format == "markdown":
        text = f"{card.to_markdown()}\n\n" + "  \n".join(summary.splitlines())
    else:
        text = _html_page(card.title, card.to_html() + "\n<pre>"
                          + html.escape(summary) + "</pre>")
    _write_text(text + "\n", args.output)


def _html_page(title: str, body: str) -> str:
    return (
        "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\">"
        f"<title>{html.escape(title)}</title></head>\n<body>\n{body}\n</body></html>"
    )


def _run_predict(args) -> None:
    import pandas as pd

    model = load_model(args.model)
    frame = read_csv(args.data)
    missing = [c for c in args.keep if c not in frame.columns]
    if missing:
        raise CommandError(
            f"{args.data}: no column {', '.join(map(repr, missing))} to --keep; columns "
            f"are {_column_list(frame)}"
        )
    X = _model_columns(model, frame, args.data)
    predictions = prediction_frame(model, X, index=frame.index)
    out = pd.concat([frame[args.keep], predictions], axis=1) if args.keep else predictions
    text = out.to_csv(index=False, float_format="%.17g")
    _write_text(text, args.output)
    if args.output not in (None, "-"):
        print(f"{len(out)} predictions written to {args.output}")


def _run_export_onnx(args) -> None:
    import numpy as np

    model = load_model(args.model)
    try:
        from ..onnx import to_onnx
    except ImportError as exc:
        raise CommandError(str(exc)) from None
    output = Path(args.output) if args.output else Path(args.model).with_suffix(".onnx")
    sample = _sample_with_text(model, getattr(np, args.dtype))
    if sample is None:
        graph = to_onnx(model, dtype=getattr(np, args.dtype))
    else:
        graph = _per_column_onnx(model, sample)
    write_atomically(_writable(output), graph.SerializeToString())
    if sample is not None:
        print(f"ONNX model written to {output}")
        print("one input per column, each [n_rows, 1]: " + ", ".join(
            f"{name} ({'string' if sample[name].dtype == object else args.dtype})"
            for name in sample.columns))
        print("outputs: " + ", ".join(o.name for o in graph.graph.output))
        return
    names = json.loads(
        next((p.value for p in graph.metadata_props if p.key == "feature_names"), "null")
    )
    print(f"ONNX model written to {output}")
    print(f"input 'X': {args.dtype} [n_rows, {model.n_features_in_}]"
          + (f", columns {', '.join(names)}" if names else ""))
    print("outputs: " + ", ".join(o.name for o in graph.graph.output))


def _sample_with_text(model, dtype):
    """A one-row sample of the input columns when the model's binarizer
    compares text categories (a numeric matrix cannot hold them), else None.
    """
    import pandas as pd

    preprocess = split_pipeline(model)[0]  # a model file holds at most a binarizer
    binarizer = preprocess[-1] if preprocess is not None else None
    rules = getattr(binarizer, "rules_", ())
    if not any(rule.operator == "==" and isinstance(rule.threshold, str) for rule in rules):
        return None
    text = {rule.column: rule.threshold for rule in rules
            if rule.operator == "==" and isinstance(rule.threshold, str)}
    return pd.DataFrame({
        name: pd.Series([text[name]], dtype=object) if name in text
        else pd.Series([0], dtype=dtype)
        for name in binarizer.feature_names_in_
    })


def _per_column_onnx(model, sample):
    """skl2onnx's conversion with one input per column (string inputs for text)."""
    import skl2onnx

    from .._classifier import RiskScoreClassifier
    from ..onnx import TARGET_OPSET

    return skl2onnx.to_onnx(model, sample, target_opset=TARGET_OPSET,
                            options={RiskScoreClassifier: {"zipmap": False}})


def _run_demo(args) -> None:
    from ._demo import run_demo

    run_demo(args.output, time_limit=args.time_limit)


# ------------------------------------------------------------------ helpers


def read_csv(path):
    """A CSV file as a DataFrame, or a :class:`CommandError` saying what is wrong."""
    import pandas as pd

    path = Path(path)
    if not path.exists():
        raise CommandError(f"{path}: no such file")
    if path.is_dir():
        raise CommandError(f"{path}: is a directory, not a CSV file")
    try:
        frame = pd.read_csv(path)
    except pd.errors.EmptyDataError:
        raise CommandError(f"{path}: the file is empty; expected a CSV file with a "
                           "header row") from None
    except pd.errors.ParserError as exc:
        raise CommandError(f"{path}: not a readable CSV file ({_message(exc)})") from None
    except UnicodeDecodeError:
        raise CommandError(f"{path}: not a text CSV file (it is not UTF-8)") from None
    if frame.empty:
        raise CommandError(f"{path}: the file has a header but no data rows")
    return frame


def _column_list(frame) -> str:
    names = [str(c) for c in frame.columns]
    shown = ", ".join(names[:20])
    return shown + (f", ... ({len(names)} in all)" if len(names) > 20 else "")


def _required_column(frame, column, path, option, advice="fill or drop them first"):
    """``frame[column]``, or an error naming ``option`` if it is absent or has gaps."""
    if column not in frame.columns:
        raise CommandError(
            f"{path}: no column {column!r} for {option}; columns are {_column_list(frame)}"
        )
    values = frame[column]
    if values.isna().any():
        raise CommandError(
            f"{path}: the column {column!r} of {option} has {int(values.isna().sum())} "
            f"missing values; {advice}"
        )
    return values


def _split_target(frame, target, path):
    y = _required_column(frame, target, path, "--target", advice="drop those rows first")
    return frame.drop(columns=target), y


def _check_features(X, path, *, binarize: bool) -> None:
    import pandas as pd

    if X.shape[1] == 0:
        raise CommandError(f"{path}: no feature columns besides the target")
    if not binarize:
        _refuse_missing_values(X, path)
        text = [str(c) for c, t in X.dtypes.items()
                if not (pd.api.types.is_numeric_dtype(t) or pd.api.types.is_bool_dtype(t))]
        if text:
            raise CommandError(
                f"{path}: non-numeric columns {', '.join(map(repr, text[:10]))}; drop "
                "--no-binarize to turn them into yes/no features, or drop the columns"
            )


def _model_columns(model, frame, path):
    """The columns the model was fitted on, in its order; extra columns ignored."""
    names = getattr(model, "feature_names_in_", None)
    if names is None:
        if frame.shape[1] != model.n_features_in_:
            raise CommandError(
                f"{path}: the model expects {model.n_features_in_} columns, the file has "
                f"{frame.shape[1]}"
            )
        return frame
    names = [str(n) for n in names]
    missing = [n for n in names if n not in frame.columns]
    if missing:
        raise CommandError(
            f"{path}: the model needs the columns {', '.join(map(repr, missing[:10]))}"
            f"{' ...' if len(missing) > 10 else ''}, which the file lacks"
        )
    X = frame[names]
    if not hasattr(model, "steps"):  # a binarizer gives missing values their rules
        _refuse_missing_values(X, path)
    return X


def _refuse_missing_values(X, path) -> None:
    with_missing = [str(c) for c in X.columns[X.isna().any()]]
    if with_missing:
        raise CommandError(
            f"{path}: missing values in {', '.join(map(repr, with_missing[:10]))}; "
            "a model fitted with --binarize gives them their own rule ('X is missing'); "
            "otherwise impute or drop them first"
        )


def load_model(path):
    """A saved model, or a :class:`CommandError` naming the file and the problem."""
    from .._io._envelope import load_json

    path = Path(path)
    if path.is_dir():
        raise CommandError(f"{path}: is a directory, not a model file")
    try:
        return load_json(path)
    except FileNotFoundError:
        raise CommandError(f"{path}: no such model file") from None
    except ValueError as exc:  # InvalidModelFileError and friends
        text = str(exc)
        raise CommandError(text if str(path) in text else f"{path}: {text}") from None


def _read_constraints(path):
    from .._constraints import constraints_from_dict
    from .._documents import read_document

    try:
        items = read_document(path, what="a constraints file")
    except (ValueError, ImportError) as exc:
        raise CommandError(_message(exc)) from None
    if not isinstance(items, (list, dict)) or not items:
        raise CommandError(
            f"{path}: expected a list of constraints such as "
            "[{kind: at_most, k: 1, features: [a, b]}], got "
            f"{type(items).__name__ if items else 'nothing'}"
        )
    try:
        return constraints_from_dict(items)
    except (TypeError, ValueError) as exc:
        raise CommandError(f"{path}: {_message(exc)}") from None


def _writable(path) -> Path:
    path = Path(path)
    if path.is_dir():
        raise CommandError(f"{path}: is a directory; give a file name")
    if not path.parent.is_dir():
        raise CommandError(f"{path}: the directory {path.parent} does not exist")
    return path


def _write_text(text: str, output) -> None:
    if output in (None, "-"):
        sys.stdout.write(text)
        sys.stdout.flush()
    else:
        write_atomically(_writable(output), text.encode("utf-8"))


_COMMANDS = {
    "fit": _run_fit,
    "show": _run_show,
    "predict": _run_predict,
    "export_onnx": _run_export_onnx,
    "demo": _run_demo,
}
