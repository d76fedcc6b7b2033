"""Figures of a trial and of a retrained model: learning curves, training history, test confusion matrix.

Written like the study plots (`tuning.report.plots`): self-contained HTML with
plotly.js inlined, plus PNG copies in one kaleido call when a Chromium is found.
"""

from __future__ import annotations

import contextlib
import logging
import warnings
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from tuning.data.images import CLASS_NAMES

if TYPE_CHECKING:
    import numpy as np
    import plotly.graph_objects as go

    from tuning.attrs import TrialCurve

__all__ = [
    "confusion_figure",
    "curve_figure",
    "figure_png",
    "history_figure",
    "integer_axis",
    "learning_curves_figure",
    "png_session",
    "write_figures",
]

logger = logging.getLogger(__name__)

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


def curve_figure(curve: TrialCurve, title: str) -> go.Figure:
    """A trial's accuracy and loss at each check, against epochs trained: training solid, validation dashed."""
    from plotly.subplots import make_subplots

    fig = make_subplots(rows=1, cols=2, subplot_titles=("accuracy", "loss"))
    series = (
        (1, "train accuracy", curve.train_accuracy, "solid"),
        (1, "validation accuracy", curve.val_accuracy, "dash"),
        (2, "train loss", curve.train_loss, "solid"),
        (2, "validation loss", curve.val_loss, "dash"),
    )
    for column, name, values, dash in series:
        if values:
            epochs = curve.epochs[: len(values)]
            fig.add_scatter(x=epochs, y=values, mode="lines+markers", name=name, line={"dash": dash}, row=1, col=column)
    fig.update_xaxes(title_text="epochs trained")
    fig.update_layout(title_text=title)
    return fig


def figure_png(fig: go.Figure, width: int = 900, height: int = 400) -> bytes:
    """The figure as PNG bytes: about 0.4 s inside `png_session`, 3.3 s outside (a Chromium start each)."""
    import plotly.io as pio

    with warnings.catch_warnings():  # plotly: "kopts ... ignored if using a server", as intended
        warnings.simplefilter("ignore", UserWarning)
        return bytes(pio.to_image(fig, format="png", width=width, height=height))


@contextlib.contextmanager
def png_session() -> Iterator[None]:
    """Keep one kaleido Chromium for the PNGs drawn inside the block (a search's trials), where one is installed."""
    from tuning.report.plots import png_wanted

    if not png_wanted(None):
        yield
        return
    import kaleido

    kaleido.start_sync_server(silence_warnings=True)
    try:
        yield
    finally:
        # Its DevTools pipe may log a harmless parse error of Chromium's goodbye while closing.
        pipe_logger = logging.getLogger("choreographer")
        level = pipe_logger.level
        pipe_logger.setLevel(logging.CRITICAL)
        try:
            kaleido.stop_sync_server(silence_warnings=True)
        except Exception as exc:  # Chromium already gone (Ctrl-C reaches it too): nothing left to stop
            logger.debug("stopping kaleido's Chromium: %s", exc)
        finally:
            pipe_logger.setLevel(level)


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
    """Write ``STEM.html`` per figure, sharing one plotly.min.js beside them, and, as
    `tuning.report.plots` decides, ``STEM.png`` copies."""
    from tuning.report.plots import PLOTLY_JS, png_wanted, write_html, write_pngs

    want_png = png_wanted(png)
    pages = [write_html(fig, out / f"{stem}.html", shared_plotlyjs=True) for stem, fig in figures.items()]
    images = write_pngs(figures, out, required=png is True) if want_png else []
    return [*pages, *([out / PLOTLY_JS] if pages else []), *images]


def _max_epochs(runs: Sequence[RunHistory]) -> int:
    return max((len(values) for _, history in runs for values in history.values()), default=0)
