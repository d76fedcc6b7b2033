"""Figures of a retrained model: its training history per seed and its test confusion matrix.

Written by `tuning.render` (results/outputs.py); `tune report` draws the confusion matrix too.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from tuning.render import integer_axis

if TYPE_CHECKING:
    import numpy as np
    import plotly.graph_objects as go

__all__ = ["confusion_figure", "history_figure"]

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


def confusion_figure(confusion: np.ndarray, class_names: Sequence[str], title: str) -> go.Figure:
    """Test-set counts per (true, predicted) class pair, coloured by share of the true class."""
    import plotly.graph_objects as go

    names = list(class_names)
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


def _max_epochs(runs: Sequence[RunHistory]) -> int:
    return max((len(values) for _, history in runs for values in history.values()), default=0)
