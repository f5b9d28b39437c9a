"""Score card files and metrics that travel with every logged risk score."""

from __future__ import annotations

import logging
from pathlib import Path

from sk_riskscore._model import split_pipeline, total_points

_logger = logging.getLogger(__name__)

CARD_MARKDOWN = "score_card.md"
CARD_HTML = "score_card.html"
RISK_PLOT = "risk_by_score.png"
RELIABILITY_PLOT = "reliability.png"


def write_card(model, directory: Path, X=None, y=None) -> list[Path]:
    """Write the score card (Markdown, HTML) and its plots (PNG) into ``directory``.

    With ``X`` and ``y`` the card shows observed event rates and the
    reliability diagram is drawn too. Returns the files written.
    """
    from sk_riskscore import ScoreCard

    directory.mkdir(parents=True, exist_ok=True)
    card = ScoreCard.from_estimator(model, X=X, y=y)
    written = []
    for name, text in ((CARD_MARKDOWN, card.to_markdown()), (CARD_HTML, card.to_html())):
        (directory / name).write_text(text, encoding="utf-8")
        written.append(directory / name)
    try:
        from matplotlib.figure import Figure
    except ImportError:
        _logger.warning(
            "matplotlib is not installed: the score card is logged without its plots. "
            'Install them with: pip install "sk-riskscore[plot]"'
        )
        return written
    plots = [(RISK_PLOT, card.plot_risk)]
    if X is not None and y is not None:
        plots.append((RELIABILITY_PLOT, card.plot_reliability))
    for name, draw in plots:
        # A bare Figure (no pyplot) leaves the caller's matplotlib state alone.
        figure = Figure(figsize=(6.4, 4.0))
        draw(ax=figure.add_subplot())
        figure.savefig(directory / name, dpi=100, bbox_inches="tight")
        written.append(directory / name)
    return written


def compute_metrics(model, X, y) -> dict[str, float]:
    """``auc``, ``brier``, ``log_loss`` and ``calibration_error`` of ``model`` on ``(X, y)``.

    Computed by :func:`sk_riskscore.risk_score_metrics` from the model's
    probabilities and total scores.
    """
    from sk_riskscore import risk_score_metrics

    classifier = final_classifier(model)
    return risk_score_metrics(
        y,
        model.predict_proba(X)[:, 1],
        scores=total_points(model, X),
        pos_label=classifier.classes_[1],
    ).to_dict()


def final_classifier(model):
    """The RiskScoreClassifier of a model (itself, or a pipeline's last step)."""
    return split_pipeline(model)[1]
