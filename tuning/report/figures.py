"""Figures of a retrained model: its training history and its test confusion matrix.

Written like the study plots (`tuning.report.plots`): self-contained HTML with
plotly.js inlined, plus PNG copies in one kaleido call when a Chromium is found.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from tuning.data.images import CLASS_NAMES

if TYPE_CHECKING:
    import numpy as np
    import plotly.graph_objects as go

    from tuning.attrs import TrialCurve

__all__ = ["confusion_figure", "history_figure", "integer_axis", "learning_curves_figure", "write_figures"]

# (seed, history): one training run's per-epoch metrics, as kept by EpochRecorder.
RunHistory = tuple[int, dict[str, list[float]]]


def history_figure(runs: Sequence[RunHistory], title: str) -> go.Figure:
    """Accuracy and loss per epoch, one colour per seed: training solid, validation (if any) dashed."""
    import plotly.colors
    from plotly.subplots import make_subplots

    fig = make_subplots(rows=1, cols=2, subplot_titles=("accuracy", "loss"))
    palette = plotly.colors.qualitative.Plotly
    for index, (seed, history) in enumerate(runs):
        colour = palette[index % len(palette)]
        for column, metric in enumerate(("accuracy", "loss"), start=1):
            for prefix, label, dash in (("", "train", "solid"), ("val_", "validation", "dash")):
                values = history.get(prefix + metric)
                if not values:
                    continue
                fig.add_scatter(
                    x=list(range(1, len(values) + 1)),
                    y=values,
                    mode="lines+markers",
                    name=f"seed {seed} {label}",
                    legendgroup=f"{seed}-{label}",
                    showlegend=column == 1,
                    line={"color": colour, "dash": dash},
                    row=1,
                    col=column,
                )
    fig.update_xaxes(title_text="epoch", **integer_axis(_max_epochs(runs)))
    fig.update_layout(title_text=title)
    return fig


def integer_axis(largest: float) -> dict[str, object]:
    """Axis settings for a count (trial numbers, epochs): ticks on whole numbers only, shown without decimals."""
    return {"dtick": 1, "tickformat": "d"} if largest <= 20 else {"tickformat": "d"}


def learning_curves_figure(curves: Sequence[tuple[str, TrialCurve]], title: str) -> go.Figure:
    """Validation accuracy, training accuracy and loss per check of each trial, against epochs trained.

    One colour per trial (`curves`: its label, e.g. "trial 3 (pruned)", and curve);
    in the loss panel training is solid and validation dashed.
    """
    import plotly.colors
    from plotly.subplots import make_subplots

    fig = make_subplots(rows=1, cols=3, subplot_titles=("validation accuracy", "training accuracy", "loss"))
    palette = plotly.colors.qualitative.Plotly
    for index, (label, curve) in enumerate(curves):
        colour = palette[index % len(palette)]
        panels = (
            (1, curve.val_accuracy, "solid", ""),
            (2, curve.train_accuracy, "solid", ""),
            (3, curve.train_loss, "solid", " training"),
            (3, curve.val_loss, "dash", " validation"),
        )
        for column, values, dash, which in panels:
            if not values:
                continue
            fig.add_scatter(
                x=curve.epochs[: len(values)],
                y=values,
                mode="lines+markers",
                name=label,
                legendgroup=label,
                showlegend=column == 1,
                line={"color": colour, "dash": dash},
                hovertemplate=f"{label}{which}<br>epoch %{{x}}<br>%{{y:.4f}}<extra></extra>",
                row=1,
                col=column,
            )
    longest = max((curve.epochs[-1] for _, curve in curves if curve.epochs), default=0)
    fig.update_xaxes(title_text="epoch", **integer_axis(longest))
    fig.update_layout(title_text=title)
    return fig


def confusion_figure(confusion: np.ndarray, title: str) -> go.Figure:
    """Test-set counts per (true, predicted) class pair, coloured by share of the true class."""
    import plotly.graph_objects as go

    names = list(CLASS_NAMES)
    totals = confusion.sum(axis=1, keepdims=True).clip(min=1)
    fig = go.Figure(
        go.Heatmap(
            z=confusion / totals,
            x=names,
            y=names,
            text=confusion,
            texttemplate="%{text}",
            colorscale="Blues",
            zmin=0,
            zmax=1,
            colorbar={"title": {"text": "share of<br>true class"}},
            hovertemplate="true %{y}<br>predicted %{x}<br>%{text} images<extra></extra>",
        )
    )
    fig.update_layout(title_text=title)
    fig.update_xaxes(title_text="predicted class", side="bottom")
    fig.update_yaxes(title_text="true class", autorange="reversed")
    return fig


def write_figures(figures: dict[str, go.Figure], out: Path, *, png: bool | None = None) -> list[Path]:
    """Write ``STEM.html`` per figure and, as `tuning.report.plots` decides, ``STEM.png`` copies."""
    from tuning.report.plots import png_wanted, write_html, write_pngs

    want_png = png_wanted(png)
    pages = [write_html(fig, out / f"{stem}.html") for stem, fig in figures.items()]
    images = write_pngs(figures, out, required=png is True) if want_png else []
    return [*pages, *images]


def _max_epochs(runs: Sequence[RunHistory]) -> int:
    return max((len(values) for _, history in runs for values in history.values()), default=0)
