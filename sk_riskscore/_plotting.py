"""Plots of a score card (matplotlib, the ``plot`` extra, imported on demand)."""

from __future__ import annotations

import numpy as np

__all__ = ["plot_prediction_ranges", "plot_reliability", "plot_risk_by_score"]


def _require_matplotlib() -> None:
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        raise ImportError(
            'Plotting a score card needs matplotlib: pip install "sk-riskscore[plot]"'
        ) from None


def _new_axes(ax, figsize):
    """The caller's axes, or new ones; pyplot is only touched for new figures."""
    _require_matplotlib()
    if ax is not None:
        return ax
    import matplotlib.pyplot as plt

    _, ax = plt.subplots(figsize=figsize, layout="constrained")
    return ax


def _finish(ax, xlabel: str, ylabel: str, title: str):
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    ax.grid(True, alpha=0.3)
    ax.legend(loc="upper left", frameon=False)
    return ax


def _marker_sizes(counts) -> np.ndarray:
    counts = np.asarray(counts, dtype=float)
    return 20.0 + 280.0 * np.sqrt(counts / max(counts.max(), 1.0))


def plot_risk_by_score(table, *, title: str, ax=None):
    """Predicted risk per score; observed event rates (area ~ rows) and row counts.

    ``table`` is a :meth:`ScoreCard.risk_table` frame.
    """
    ax = _new_axes(ax, (6.4, 4.2))
    ax.plot(
        table["score"],
        table["risk"],
        "-o",
        color="C0",
        markersize=4,
        label="predicted risk",
        zorder=3,
    )
    if "observed" in table.columns:
        seen = table[table["count"] > 0]
        counts_ax = ax.twinx()
        counts_ax.bar(
            seen["score"],
            seen["count"],
            width=0.6,
            color="0.85",
            zorder=0,
            label="rows",
        )
        counts_ax.set_ylabel("rows with this score")
        counts_ax.set_ylim(0, max(float(seen["count"].max()), 1.0) * 3.0)
        # Put the bars behind the risk curve.
        ax.set_zorder(counts_ax.get_zorder() + 1)
        ax.patch.set_visible(False)
        ax.scatter(
            seen["score"],
            seen["observed"],
            s=_marker_sizes(seen["count"]),
            facecolors="none",
            edgecolors="C3",
            linewidths=1.5,
            zorder=4,
            label="observed event rate",
        )
    ax.set_ylim(-0.02, 1.02)
    return _finish(ax, "score (sum of points)", "risk", title)


def plot_reliability(table, *, title: str, ax=None):
    """Observed event rate against predicted risk, one marker per score."""
    if "observed" not in table.columns:
        raise ValueError(
            "A reliability diagram needs observed outcomes: build the card with "
            "ScoreCard.from_estimator(estimator, X, y)."
        )
    ax = _new_axes(ax, (5.0, 5.0))
    seen = table[table["count"] > 0]
    ax.plot([0, 1], [0, 1], "--", color="0.5", linewidth=1, label="perfect calibration")
    ax.scatter(
        seen["risk"],
        seen["observed"],
        s=_marker_sizes(seen["count"]),
        color="C0",
        alpha=0.7,
        edgecolors="C0",
        label="one score (area ~ rows)",
    )
    for score, risk, observed in zip(
        seen["score"], seen["risk"], seen["observed"], strict=True
    ):
        ax.annotate(
            f"{score:g}",
            (risk, observed),
            textcoords="offset points",
            xytext=(9, -3),
            fontsize=8,
        )
    ax.set_xlim(-0.02, 1.02)
    ax.set_ylim(-0.02, 1.02)
    ax.set_aspect("equal")
    return _finish(ax, "predicted risk", "observed event rate", title)


def plot_prediction_ranges(ranges, *, title: str, ax=None):
    """Each person's risk range over a Rashomon set (a vertical bar from the
    lowest to the highest risk) against the reference card's risk.

    ``ranges`` is a :meth:`RashomonSet.prediction_ranges` frame.
    """
    ax = _new_axes(ax, (6.0, 5.0))
    order = np.argsort(ranges["risk"].to_numpy(), kind="stable")
    risk = ranges["risk"].to_numpy()[order]
    low = ranges["min_risk"].to_numpy()[order]
    high = ranges["max_risk"].to_numpy()[order]
    ax.vlines(risk, low, high, color="C0", alpha=0.35, linewidth=1.2,
              label="range over the set (one person)")
    ax.scatter(risk, risk, s=6, color="C3", zorder=3, label="reference card's risk")
    ax.plot([0, 1], [0, 1], "--", color="0.5", linewidth=1)
    ax.set_xlim(-0.02, 1.02)
    ax.set_ylim(-0.02, 1.02)
    return _finish(ax, "risk given by the reference card", "risk given by the cards in the set",
                   title)


#: A4 portrait, in inches: the page clinics print.
_PAGE = (8.27, 11.69)


def card_page(text: str, table, *, title: str, path, footer: str = "", format="pdf") -> None:
    """Write a one-page PDF: the card's text (points and risk tables) on top,
    the risk-by-score chart below. Uses a bare Figure: pyplot's state and
    backend are not touched.
    """
    _require_matplotlib()
    from matplotlib.figure import Figure

    lines = text.splitlines() + ([""] + footer.splitlines() if footer else [])
    widest = max((len(line) for line in lines), default=1)
    # monospace glyphs are about 0.6 em wide; the text gets the top 58% of the page
    size = min(10.0, 0.92 * _PAGE[0] * 72 / (0.6 * widest),
               0.56 * _PAGE[1] * 72 / (1.25 * max(len(lines), 1)))
    figure = Figure(figsize=_PAGE)
    figure.text(0.04, 0.975, "\n".join(lines), family="monospace", fontsize=size,
                va="top", ha="left", linespacing=1.25)
    ax = figure.add_axes((0.1, 0.05, 0.8, 0.32))
    plot_risk_by_score(table, title=title, ax=ax)
    figure.savefig(path, format=format)
