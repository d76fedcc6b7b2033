"""The learning curves of a study's trials in one figure (report/plots.py), written by `tuning.render`."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from tuning.render import integer_axis

if TYPE_CHECKING:
    import plotly.graph_objects as go

    from tuning.attrs import TrialCurve

__all__ = ["learning_curves_figure"]


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
