"""Recourse audit of a dataset: who can reach the favourable decision, at what cost.

:func:`audit_recourse` runs :func:`sk_riskscore.recourse` on every row and
summarises it (overall and per group): the share of people with an
unfavourable decision who have recourse, the people with fixed predictions,
the responsiveness of each variable and the distribution of the cheapest
action's cost. It is the one entry point for reports: the CLI and the MLflow
evaluator render its tables, metrics and plots.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ._recourse import RecourseResult, recourse

__all__ = ["RecourseAudit", "audit_recourse"]

_ALL = "all"


@dataclass(frozen=True)
class RecourseAudit:
    """Recourse of a dataset under an action set: see :func:`audit_recourse`.

    Attributes
    ----------
    result : RecourseResult
        The per-person recourse (cheapest actions, responsiveness, reasons).
    groups : pandas.DataFrame
        Group columns (e.g. sex, race) aligned with the people; no columns
        when no groups were given.
    """

    result: RecourseResult
    groups: pd.DataFrame

    def to_frame(self) -> pd.DataFrame:
        """One row per person: the recourse columns and the group columns."""
        return pd.concat([self.result.people, self.groups], axis=1)

    def fixed(self) -> pd.DataFrame:
        """The people with a fixed prediction: unfavourable and no action changes it."""
        frame = self.to_frame()
        return frame[~frame["reachable"]]

    def summary(self) -> pd.DataFrame:
        """Overall and per-group counts, recourse shares and costs.

        Returns
        -------
        summary : pandas.DataFrame
            One row for everyone (``group == "all"``) and one per value of each
            group column. ``recourse_share`` is among the people with an
            unfavourable decision; the costs are those of the cheapest action
            of the unfavourable people who have recourse.
        """
        people = self.result.people
        rows = [_summary_row(_ALL, "", people)]
        for column in self.groups.columns:
            for value, members in people.groupby(self.groups[column], sort=True,
                                                  observed=True):
                rows.append(_summary_row(str(column), value, members))
        return pd.DataFrame(rows)

    def responsiveness(self) -> pd.DataFrame:
        """Per variable with points, over the people with an unfavourable decision.

        Returns
        -------
        table : pandas.DataFrame
            ``mean_responsiveness`` (share of the variable's feasible changes
            that attain the target, averaged), ``responsive_share`` (people
            for whom some change of it alone attains the target),
            ``reason_share`` (people whose points on it count against them)
            and ``reason_without_recourse_share`` (a reason that the person
            cannot act on alone), sorted by mean responsiveness.
        """
        people = self.result.people
        unfavourable = ~people["favourable"].to_numpy()
        scores = self.result.responsiveness[unfavourable]
        reasons = people.loc[unfavourable, "reasons"].str.split(", ")
        rows = []
        for variable in scores.columns:
            is_reason = reasons.apply(lambda names, v=variable: v in names).to_numpy()
            responsive = scores[variable].to_numpy() > 0
            rows.append({
                "variable": variable,
                "mean_responsiveness": _mean(scores[variable].to_numpy()),
                "responsive_share": _mean(responsive),
                "reason_share": _mean(is_reason),
                "reason_without_recourse_share": _mean(is_reason & ~responsive),
            })
        table = pd.DataFrame(rows, columns=[
            "variable", "mean_responsiveness", "responsive_share", "reason_share",
            "reason_without_recourse_share"])
        return table.sort_values("mean_responsiveness", ascending=False,
                                 kind="stable").reset_index(drop=True)

    def metrics(self) -> dict:
        """Flat ``{name: float}`` for ``mlflow.log_metrics`` (NaN entries left out).

        Names: ``recourse_share``, ``recourse_fixed_share``, ``recourse_n_fixed``,
        ``recourse_n_unfavourable``, ``recourse_cost_mean``, ``recourse_cost_median``,
        ``recourse_cost_p90``, ``recourse_responsiveness/<variable>`` and, per
        group value, ``recourse_share/<group>/<value>`` and
        ``recourse_fixed_share/<group>/<value>``.
        """
        summary = self.summary()
        overall = summary.iloc[0]
        out = {
            "recourse_share": overall["recourse_share"],
            "recourse_fixed_share": overall["fixed_share"],
            "recourse_n_fixed": overall["n_fixed"],
            "recourse_n_unfavourable": overall["n_unfavourable"],
            "recourse_cost_mean": overall["cost_mean"],
            "recourse_cost_median": overall["cost_median"],
            "recourse_cost_p90": overall["cost_p90"],
        }
        for row in self.responsiveness().itertuples(index=False):
            out[f"recourse_responsiveness/{_metric_part(row.variable)}"] = (
                row.mean_responsiveness)
        for row in summary.iloc[1:].itertuples(index=False):
            suffix = f"{_metric_part(row.group)}/{_metric_part(row.value)}"
            out[f"recourse_share/{suffix}"] = row.recourse_share
            out[f"recourse_fixed_share/{suffix}"] = row.fixed_share
        return {k: float(v) for k, v in out.items() if not math.isnan(float(v))}

    def to_markdown(self) -> str:
        """The summary and responsiveness tables as Markdown."""
        return "\n\n".join([
            "**Recourse by group**",
            _markdown_table(self.summary()),
            "**Responsiveness of each variable** (people with an unfavourable decision)",
            _markdown_table(self.responsiveness()),
        ])

    def plot(self, *, figsize=(13, 4)):
        """Recourse share by group, cost distribution and responsiveness, side by side.

        Needs matplotlib (``pip install "sk-riskscore[plot]"``).

        Returns
        -------
        figure : matplotlib Figure
        """
        try:
            import matplotlib.pyplot as plt
            from matplotlib.ticker import FuncFormatter
        except ImportError:
            raise ImportError(
                'Plotting a recourse audit needs matplotlib: pip install "sk-riskscore[plot]"'
            ) from None
        figure, (shares, costs, responsive) = plt.subplots(
            1, 3, figsize=figsize, layout="constrained")
        summary = self.summary()
        labels = ["all" if g == _ALL else f"{g}={v}" for g, v in
                  zip(summary["group"], summary["value"])]
        positions = np.arange(len(summary))
        shares.barh(positions, summary["recourse_share"], color="tab:blue",
                    label="has recourse")
        shares.barh(positions, -summary["n_fixed"] / summary["n_unfavourable"].clip(lower=1),
                    color="tab:red", label="fixed prediction")
        shares.set_yticks(positions, labels)
        shares.invert_yaxis()
        shares.axvline(0, color="black", linewidth=0.8)
        shares.set_xlim(-1, 1)
        shares.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{abs(v):.0%}"))
        shares.set_xlabel("share of people with an unfavourable decision")
        shares.set_title("Recourse")
        shares.legend(loc="lower right", fontsize="small")

        frame = self.to_frame()
        eligible = ~frame["favourable"] & frame["reachable"]
        series = [(_ALL, frame.loc[eligible, "cost"])]
        if len(self.groups.columns):
            column = self.groups.columns[0]
            series += [(f"{column}={value}", members["cost"]) for value, members in
                       frame[eligible].groupby(column, sort=True, observed=True)]
        for label, values in series[:9]:
            values = np.sort(values.to_numpy())
            if values.size:
                costs.step(values, np.arange(1, values.size + 1) / values.size, where="post",
                           label=label)
        costs.set_xlabel("cost of the cheapest action")
        costs.set_ylabel("share of people with recourse")
        costs.set_title("Cost of recourse")
        costs.legend(fontsize="small")

        table = self.responsiveness()
        responsive.barh(np.arange(len(table)), table["mean_responsiveness"], color="tab:green")
        responsive.set_yticks(np.arange(len(table)), table["variable"])
        responsive.invert_yaxis()
        responsive.set_xlim(0, 1)
        responsive.set_xlabel("mean responsiveness")
        responsive.set_title("Responsiveness")
        return figure


def audit_recourse(model, X, action_set, *, groups=None, target=None, threshold=None,
                   reference=None, method="auto") -> RecourseAudit:
    """Audit recourse on a dataset: shares, fixed predictions, costs, per group.

    Parameters
    ----------
    model, X, action_set
        As in :func:`recourse`: the fitted card, the people (raw input
        format) and what they can change.
    groups : str, list of str, Series or DataFrame, default=None
        Group membership: column names of ``X``, or values aligned with its
        rows (e.g. a protected attribute the model does not read).
    target, threshold, reference, method
        As in :func:`recourse`.

    Returns
    -------
    audit : RecourseAudit
        ``.summary()``, ``.responsiveness()``, ``.fixed()``, ``.to_frame()``,
        ``.metrics()`` (for MLflow), ``.to_markdown()`` and ``.plot()``.

    Examples
    --------
    >>> import pandas as pd
    >>> from sk_riskscore import RiskScoreClassifier, audit_recourse
    >>> X = pd.DataFrame({"debt": [0, 1, 1, 0], "late": [1, 1, 0, 0]})
    >>> clf = RiskScoreClassifier(max_coef=2).fit(X, [1, 1, 0, 0])
    >>> actions = {"variables": {"late": {"values": [0, 1], "direction": "decrease"}}}
    >>> audit = audit_recourse(clf, X, actions, groups=pd.Series(["a", "a", "b", "b"]))
    >>> audit.summary()[["group", "value", "n", "n_unfavourable", "recourse_share"]]
       group value  n  n_unfavourable  recourse_share
    0    all        4               2             1.0
    1  group     a  2               2             1.0
    2  group     b  2               0             NaN
    """
    result = recourse(model, X, action_set, target=target, threshold=threshold,
                      reference=reference, n_alternatives=0, method=method)
    return RecourseAudit(result, _group_frame(groups, X, result.people.index))


def _group_frame(groups, X, index) -> pd.DataFrame:
    if groups is None:
        return pd.DataFrame(index=index)
    if isinstance(groups, str) or (isinstance(groups, list) and groups and all(
            isinstance(g, str) for g in groups)):
        names = [groups] if isinstance(groups, str) else groups
        if not isinstance(X, pd.DataFrame):
            raise ValueError("groups given by column name need X as a DataFrame")
        missing = [name for name in names if name not in X.columns]
        if missing:
            raise ValueError(
                f"groups names columns not in X: {missing}; pass the group values "
                "instead (a Series aligned with X) if the model does not read them"
            )
        frame = X[names]
    elif isinstance(groups, pd.DataFrame):
        frame = groups
    else:
        series = groups if isinstance(groups, pd.Series) else pd.Series(groups)
        frame = series.rename("group" if series.name is None else series.name).to_frame()
    if len(frame) != len(index):
        raise ValueError(
            f"groups has {len(frame)} rows but X has {len(index)}; give one value per row"
        )
    frame = frame.set_axis(index, axis=0)
    return frame.rename(columns=str)


def _summary_row(group, value, people) -> dict:
    unfavourable = ~people["favourable"]
    with_recourse = unfavourable & people["reachable"]
    costs = people.loc[with_recourse, "cost"].to_numpy()
    n, n_unfavourable = len(people), int(unfavourable.sum())
    n_fixed = int((~people["reachable"]).sum())
    return {
        "group": group,
        "value": value,
        "n": n,
        "n_unfavourable": n_unfavourable,
        "unfavourable_share": n_unfavourable / n if n else np.nan,
        "recourse_share": with_recourse.sum() / n_unfavourable if n_unfavourable else np.nan,
        "n_fixed": n_fixed,
        "fixed_share": n_fixed / n if n else np.nan,
        "cost_mean": costs.mean() if costs.size else np.nan,
        "cost_median": np.median(costs) if costs.size else np.nan,
        "cost_p90": np.quantile(costs, 0.9) if costs.size else np.nan,
    }


def _mean(values) -> float:
    values = np.asarray(values, dtype=np.float64)
    return float(values.mean()) if values.size else np.nan


def _metric_part(text) -> str:
    """MLflow metric names allow letters, digits, ``_ - . /`` and spaces."""
    return re.sub(r"[^\w\-. ]", "_", str(text))


def _markdown_table(frame: pd.DataFrame) -> str:
    def cell(value) -> str:
        if isinstance(value, (float, np.floating)):
            return "" if np.isnan(value) else f"{value:.3g}"
        return str(value).replace("|", "\\|")

    lines = ["| " + " | ".join(map(str, frame.columns)) + " |",
             "|" + "---|" * len(frame.columns)]
    lines += ["| " + " | ".join(cell(v) for v in row) + " |"
              for row in frame.itertuples(index=False)]
    return "\n".join(lines)
