"""The ``sk-riskscore`` argument parser and the two kinds of user-facing error."""

from __future__ import annotations

import argparse
import math

PROG = "sk-riskscore"

__all__ = ["PROG", "CommandError", "UsageError", "build_parser"]


class UsageError(Exception):
    """A bad command line: exit code 2."""


class CommandError(Exception):
    """A failure while running a command: exit code 1."""


# Errors whose message is meant for the user; anything else is a bug and says so.
_EXPECTED_ERRORS = (CommandError, OSError, ValueError, TypeError, ImportError, KeyError)


def _message(exc: BaseException) -> str:
    text = str(exc)
    if isinstance(exc, KeyError) and exc.args:
        text = str(exc.args[0])
    if isinstance(exc, OSError) and exc.strerror and exc.filename is not None:
        text = f"{exc.filename}: {exc.strerror}"
    return " ".join(text.split()) or type(exc).__name__



class _Parser(argparse.ArgumentParser):
    def error(self, message):
        raise UsageError(f"{message} (see '{self.prog} --help')")


def _integer(minimum):
    def parse(text):
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected an integer, got {text!r}") from None
        if value < minimum:
            raise argparse.ArgumentTypeError(
                f"expected an integer of at least {minimum}, got {text!r}"
            )
        return value

    return parse


def _jobs(text):
    """scikit-learn's n_jobs: a positive count, or -1 for every core, -2 for all
    but one, ...; never 0.
    """
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected an integer, got {text!r}") from None
    if value == 0:
        raise argparse.ArgumentTypeError("0 processes cannot search; use 1, or -1 for "
                                         "every core")
    return value


def _real(minimum, *, inclusive, maximum=None):
    def parse(text):
        try:
            value = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
        too_small = value < minimum if inclusive else value <= minimum
        if not math.isfinite(value) or too_small or (maximum is not None and value > maximum):
            low = f"{'at least' if inclusive else 'above'} {minimum:g}"
            high = f" and at most {maximum:g}" if maximum is not None else ""
            raise argparse.ArgumentTypeError(f"expected a number {low}{high}, got {text!r}")
        return value

    return parse


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of ``sk-riskscore`` (all sub-commands)."""
    from .. import __version__

    parser = _Parser(
        prog=PROG,
        description="Certifiably optimal integer risk scores (RiskSLIM) from CSV files.",
    )
    parser.add_argument("--version", action="version", version=f"{PROG} {__version__}")
    parser.add_argument(
        "--debug", action="store_true", help="show the full traceback of an error"
    )
    commands = parser.add_subparsers(title="commands", metavar="COMMAND", required=True)

    fit = commands.add_parser(
        "fit", help="learn a risk score from a CSV file",
        description="Learn a risk score from a CSV file, save it as JSON and print "
        "its card. Progress (objective, proven bound, gap, time) goes to stderr.",
    )
    fit.add_argument("data", metavar="DATA.csv", help="training data with a header row")
    fit.add_argument("--target", required=True, metavar="COL",
                     help="column holding the outcome (two distinct values)")
    fit.add_argument("-o", "--output", default="model.json", metavar="MODEL.json",
                     help="where to save the model (default: %(default)s)")
    model = fit.add_argument_group("risk score")
    model.add_argument("--max-features", type=_integer(0), default=5, metavar="N",
                       help="features with non-zero points, at most (default: %(default)s)")
    model.add_argument("--max-coef", type=_integer(1), default=5, metavar="N",
                       help="absolute points per feature, at most (default: %(default)s)")
    model.add_argument("--c0", type=_real(0, inclusive=True), default=1e-6, metavar="X",
                       help="penalty per feature used (default: %(default)g)")
    model.add_argument("--time-limit", type=_real(0, inclusive=False), default=60.0,
                       metavar="SECONDS", help="seconds the fit may take (default: %(default)g)")
    model.add_argument("--gap-tolerance", type=_real(0, inclusive=True, maximum=1),
                       default=1e-4, metavar="X",
                       help="stop at this relative optimality gap (default: %(default)g)")
    model.add_argument("--constraints", metavar="FILE",
                       help="operational constraints, a YAML (.yaml, .yml) or JSON (.json) "
                       "list of {kind: ..., features: [...]} entries")
    model.add_argument("--calibrate-scale", action="store_true",
                       help="also fit a scale s in risk = 1 / (1 + exp(-score / s))")
    model.add_argument("--solver", choices=("cbc", "highs"), default="cbc",
                       help="LP engine (default: %(default)s)")
    model.add_argument("--random-state", type=_integer(0), default=0, metavar="SEED",
                       help="seed of the randomised heuristics (default: %(default)s)")
    model.add_argument("--n-jobs", type=_jobs, default=None, metavar="N",
                       help="processes for the search; -1 uses every core (default: 1)")
    binarize = fit.add_argument_group("binarization")
    binarize.add_argument("--binarize", action=argparse.BooleanOptionalAction,
                          default=None,
                          help="turn numeric columns with more than two values and text "
                          "columns into yes/no rules (\"age >= 45\", \"sex = Male\") "
                          "first; on by default whenever a column is not 0/1. "
                          "--no-binarize gives points per unit of each column instead")
    binarize.add_argument("--n-thresholds", type=_integer(1), default=3, metavar="N",
                          help="cut points per numeric column when binarizing "
                          "(default: %(default)s)")
    binarize.add_argument("--special-values", type=float, nargs="+", metavar="V",
                          help="codes that are not measurements, e.g. -7 -8 -9, in every "
                          "numeric column: with --binarize each gets its own rule "
                          "('X is -7') and none falls into a threshold (empty cells get "
                          "'X is missing' rules)")
    fit.add_argument("-q", "--quiet", action="store_true", help="no progress display")
    _add_mlflow_options(fit)
    fit.set_defaults(command="fit")

    show = commands.add_parser(
        "show", help="print the card of a saved model",
        description="Print the score card of a saved model as text, Markdown or HTML, "
        "with how it was fitted (status, gap, time, rows, features), or write a "
        "one-page PDF card (needs the plot extra).",
    )
    show.add_argument("model", metavar="MODEL.json")
    show.add_argument("--format", choices=("text", "markdown", "html", "pdf"),
                      default="text",
                      help="card format (default: %(default)s); pdf needs -o CARD.pdf")
    show.add_argument("--data", metavar="DATA.csv",
                      help="data for the values each feature takes and, with --target, "
                      "the observed event rate per score")
    show.add_argument("--target", metavar="COL", help="outcome column of --data")
    show.add_argument("--title", help="heading of the card")
    show.add_argument("-o", "--output", metavar="FILE", help="write here instead of stdout")
    show.set_defaults(command="show")

    predict = commands.add_parser(
        "predict", help="score a CSV file with a saved model",
        description="Write the score, the risk (probability of the event) and the "
        "predicted label of every row as CSV.",
    )
    predict.add_argument("model", metavar="MODEL.json")
    predict.add_argument("data", metavar="DATA.csv")
    predict.add_argument("-o", "--output", default="-", metavar="OUT.csv",
                         help="output CSV, '-' for stdout (default)")
    predict.add_argument("--keep", action="append", default=[], metavar="COL",
                         help="copy this input column (e.g. an id) to the output; "
                         "repeatable")
    predict.set_defaults(command="predict")

    export = commands.add_parser(
        "export-onnx", help="convert a saved model to ONNX",
        description="Convert a saved model to an ONNX graph with outputs label, "
        "probabilities and score (needs the onnx extra).",
    )
    export.add_argument("model", metavar="MODEL.json")
    export.add_argument("-o", "--output", metavar="MODEL.onnx",
                        help="default: MODEL with the suffix .onnx")
    export.add_argument("--dtype", choices=("float64", "float32", "int64"),
                        default="float64", help="input tensor type (default: %(default)s)")
    export.set_defaults(command="export_onnx")

    demo = commands.add_parser(
        "demo", help="run the main job end to end on a bundled data set",
        description="Fit a risk score on the bundled mammography data with live "
        "progress, print its card, log and register it in a local MLflow store "
        "(sqlite) with the alias 'champion', export it to ONNX and check "
        "onnxruntime's predictions against Python's.",
    )
    demo.add_argument("-o", "--output", default="demo_output", metavar="DIR",
                      help="directory for every file (default: %(default)s)")
    demo.add_argument("--time-limit", type=_real(0, inclusive=False), default=30.0,
                      metavar="SECONDS", help="seconds the fit may take (default: %(default)g)")
    demo.set_defaults(command="demo")
    _add_audit_commands(commands)
    return parser


def _add_audit_commands(commands) -> None:
    recourse = commands.add_parser(
        "recourse", help="audit who can change a saved model's decision",
        description="Audit recourse: for every row, can the unfavourable decision be "
        "changed by acting on what the person controls (--actions), at what cost; "
        "shares, fixed predictions and responsiveness overall and per --group.",
    )
    recourse.add_argument("model", metavar="MODEL.json")
    recourse.add_argument("data", metavar="DATA.csv")
    recourse.add_argument("--actions", required=True, metavar="FILE",
                          help="action set, a YAML (.yaml, .yml) or JSON (.json) file")
    recourse.add_argument("--target-column", metavar="COL",
                          help="outcome column of DATA.csv, dropped before scoring")
    recourse.add_argument("--group", metavar="COL",
                          help="report per value of this column (e.g. race)")
    recourse.add_argument("--threshold", type=_real(0, inclusive=False, maximum=1),
                          metavar="R", help="risk above which the decision is "
                          "unfavourable (default: the model's, 0.5)")
    recourse.add_argument("-o", "--output", metavar="PEOPLE.csv",
                          help="write one row per person (cheapest action, cost, reasons)")
    recourse.add_argument("--plot", metavar="AUDIT.png", help="write the audit's plot")
    recourse.add_argument("--format", choices=("text", "markdown"), default="text",
                          help="report format (default: %(default)s)")
    recourse.set_defaults(command="recourse")

    rashomon = commands.add_parser(
        "rashomon", help="every card within epsilon of the best, and how they disagree",
        description="Refit the saved model's settings on DATA.csv and enumerate every "
        "score card whose objective is within --epsilon of the optimum (proven complete "
        "unless a limit stops the search); print the predictive multiplicity and the "
        "feature use. Progress goes to stderr.",
    )
    rashomon.add_argument("model", metavar="MODEL.json")
    rashomon.add_argument("data", metavar="DATA.csv")
    rashomon.add_argument("--target", required=True, metavar="COL",
                          help="column holding the outcome")
    rashomon.add_argument("--epsilon", type=_real(0, inclusive=True), default=0.01,
                          metavar="X", help="relative tolerance, 0.01 for 1 %% "
                          "(default: %(default)g)")
    rashomon.add_argument("--max-models", type=_integer(1), default=1000, metavar="N",
                          help="cards kept, at most (default: %(default)s)")
    rashomon.add_argument("--time-limit", type=_real(0, inclusive=False), default=60.0,
                          metavar="SECONDS", help="seconds the search may take "
                          "(default: %(default)g)")
    rashomon.add_argument("--threshold", type=_real(0, inclusive=False, maximum=1),
                          default=0.5, metavar="R",
                          help="decision threshold on the risk for ambiguity and "
                          "discrepancy (default: %(default)g)")
    rashomon.add_argument("--group", metavar="COL", help="multiplicity per value of this "
                          "column")
    rashomon.add_argument("-o", "--output", metavar="CARDS.csv",
                          help="write the cards (rank, objective, points) as CSV")
    rashomon.add_argument("--plot", metavar="RANGES.png",
                          help="write each person's risk range over the set")
    rashomon.add_argument("-q", "--quiet", action="store_true", help="no progress display")
    rashomon.set_defaults(command="rashomon")


def _add_mlflow_options(command) -> None:
    group = command.add_argument_group(
        "MLflow", "log the model to MLflow when any of these is given"
    )
    group.add_argument("--tracking-uri", metavar="URI",
                       help="default: $MLFLOW_TRACKING_URI, else sqlite:///mlflow.db in "
                       "the current directory; with a sqlite store the artifacts go to "
                       "mlartifacts/ beside it")
    group.add_argument("--experiment", metavar="NAME",
                       help="experiment name (created if needed; default: sk-riskscore)")
    group.add_argument("--artifact-location", metavar="DIR_OR_URI",
                       help="artifact location of a newly created experiment")
    group.add_argument("--registered-name", metavar="NAME",
                       help="also register the model under this name")
    group.add_argument("--alias", metavar="ALIAS",
                       help="point this alias (e.g. champion) at the new version; "
                       "needs --registered-name")
