"""The ``recourse`` and ``rashomon`` sub-commands: audits of a saved model on a CSV file.

``recourse`` runs :func:`sk_riskscore.audit_recourse` under an action set;
``rashomon`` rebuilds the saved model's settings (an unfitted clone) and runs
:func:`sk_riskscore.rashomon_set` on the data. Both print their report to
stdout and write the per-person or per-card table and a plot on request.
"""

from __future__ import annotations

from pathlib import Path

from .._io._atomic import write_file_atomically
from ._commands import (
    _model_columns,
    _required_column,
    _split_target,
    _writable,
    _write_text,
    load_model,
    read_csv,
)
from ._parser import CommandError

__all__ = ["run_rashomon", "run_recourse"]


def run_recourse(args) -> None:
    """``sk-riskscore recourse MODEL.json DATA.csv --actions FILE``."""
    from .._actions import ActionSet
    from .._recourse_audit import audit_recourse

    model = load_model(args.model)
    actions_path = Path(args.actions)
    if not actions_path.is_file():
        raise CommandError(f"{actions_path}: no such action set file")
    action_set = ActionSet.from_file(actions_path)  # InvalidActionSetError: one line, exit 1
    frame = read_csv(args.data)
    outputs = _outputs(args.output, args.plot)
    if args.target_column is not None:
        _required_column(frame, args.target_column, args.data, "--target-column")
        frame = frame.drop(columns=args.target_column)
    groups = (None if args.group is None
              else _required_column(frame, args.group, args.data, "--group"))
    # The group stays a feature only if the model reads it (e.g. sex).
    X = _model_columns(model, frame, args.data)
    audit = audit_recourse(model, X, action_set, groups=groups, threshold=args.threshold)
    if args.format == "markdown":
        _write_text(audit.to_markdown() + "\n", "-")
    else:
        _write_text(_recourse_text(audit), "-")
    if outputs.table is not None:
        write_file_atomically(outputs.table, lambda path: audit.to_frame().to_csv(
            path, index=False, float_format="%.17g"))
        print(f"{len(X)} people written to {outputs.table}")
    if outputs.plot is not None:
        _save_figure(audit.plot(), outputs.plot)


def run_rashomon(args) -> None:
    """``sk-riskscore rashomon MODEL.json DATA.csv --target COL --epsilon X``."""
    from sklearn.base import clone

    from .._rashomon import rashomon_set

    model = load_model(args.model)
    frame = read_csv(args.data)
    outputs = _outputs(args.output, args.plot)
    X, y = _split_target(frame, args.target, args.data)
    groups = (None if args.group is None
              else _required_column(X, args.group, args.data, "--group"))
    X = _model_columns(model, X, args.data)
    # The saved model's settings, unfitted: the set is defined by this data alone.
    rset = rashomon_set(clone(model), X, y, epsilon=args.epsilon,
                        max_models=args.max_models, time_limit=args.time_limit,
                        progress=not args.quiet)
    _write_text(_rashomon_text(rset, X, groups, threshold=args.threshold), "-")
    if outputs.table is not None:
        write_file_atomically(outputs.table, lambda path: rset.cards_.to_csv(
            path, index_label="rank", float_format="%.17g"))
        print(f"{len(rset)} cards written to {outputs.table}")
    if outputs.plot is not None:
        _save_figure(rset.plot_prediction_ranges(X).figure, outputs.plot)


# ------------------------------------------------------------------ reports


def _recourse_text(audit) -> str:
    summary = audit.summary()
    overall = summary.iloc[0]
    lines = [
        f"people: {int(overall['n'])}, unfavourable decision: "
        f"{int(overall['n_unfavourable'])}, with recourse: "
        f"{_share(overall['recourse_share'])}, fixed predictions: "
        f"{int(overall['n_fixed'])} ({_share(overall['fixed_share'])})",
        f"cost of the cheapest action: mean {overall['cost_mean']:.3g}, median "
        f"{overall['cost_median']:.3g}, 90th percentile {overall['cost_p90']:.3g}",
    ]
    if len(summary) > 1:
        lines += ["", "by group:", summary.iloc[1:].to_string(index=False, float_format=_number)]
    lines += ["", "responsiveness (people with an unfavourable decision):",
              audit.responsiveness().to_string(index=False, float_format=_number)]
    return "\n".join(lines) + "\n"


def _rashomon_text(rset, X, groups, *, threshold) -> str:
    if rset.complete_:
        status = "complete (no card within epsilon is missing)"
    elif rset.truncated_:
        status = f"truncated (more than {len(rset)} cards lie within epsilon)"
    else:
        status = f"{rset.status_.replace('_', ' ')} (the search stopped early)"
    multiplicity = rset.multiplicity(X, threshold=threshold, groups=groups)
    use = rset.feature_use()
    unused = int((use["n_cards"] == 0).sum())
    return "\n".join([
        rset.summary(X),
        f"status: {status}; optimum {rset.optimum_:.6f}, threshold {rset.threshold_:.6f}, "
        f"proven bound {rset.lower_bound_:.6f}",
        "",
        f"multiplicity (decision threshold {threshold:g} on the risk):",
        multiplicity.to_string(float_format=_number),
        "",
        f"feature use ({unused} other features are in no card):" if unused else
        "feature use:",
        use[use["n_cards"] > 0].to_string(float_format=_number),
    ]) + "\n"


def _number(value) -> str:
    return f"{value:.4g}"


def _share(value) -> str:
    return "n/a" if value != value else f"{value:.1%}"


# ------------------------------------------------------------------ helpers


class _Outputs:
    def __init__(self, table, plot):
        self.table, self.plot = table, plot


def _outputs(table, plot) -> _Outputs:
    """The output paths, checked before the (possibly long) computation."""
    return _Outputs(None if table is None else _writable(table),
                    None if plot is None else _writable(plot))



def _save_figure(figure, path: Path) -> None:
    import matplotlib.pyplot as plt

    try:
        write_file_atomically(path, lambda partial: figure.savefig(partial, dpi=120))
    finally:
        plt.close(figure)
    print(f"plot written to {path}")
