"""Searches side by side: anytime curves of the best validation accuracy, and what each needed to reach targets.

The curves and their rules for time and failed trials are tuning/anytime.py's. Works on
studies of any engine.
"""

from __future__ import annotations

import html
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tuning import attrs
from tuning.anytime import AnytimeCurve, anytime_curve
from tuning.data.sources import published_references, searched_name
from tuning.report.summary import STATE_WORDS
from tuning.search.engines import stored_engine
from tuning.text import format_duration

if TYPE_CHECKING:
    import optuna
    import plotly.graph_objects as go

__all__ = ["StudyCurve", "compare_figure", "compare_rows", "default_targets", "study_curve", "write_compare"]

_IDENTITY = (attrs.ARCH, attrs.DATA_FINGERPRINT, attrs.MAX_TRAIN_SAMPLES, attrs.VALIDATION_SIZE)


@dataclass(frozen=True)
class StudyCurve:
    """One study's anytime curve (tuning/anytime.py) and what describes its search."""

    name: str
    engine: str  # "optuna" or "keras-tuner (hyperband)"
    chooser: str  # the sampler, or KerasTuner's oracle
    pruner: str
    counts: dict[str, int]  # trials by state name
    curve: AnytimeCurve
    data: str  # the name of the data searched
    identity: dict[str, Any]  # what its trials score on (architecture, data, split)


def study_curve(study: optuna.Study) -> StudyCurve:
    """The curve of `study`, from its trials' check times, epochs and validation accuracies."""
    from tuning.search.study import state_counts

    trials = study.get_trials(deepcopy=False)
    stored = study.user_attrs
    engine = stored_engine(stored)
    chooser, pruner = engine.chooser(stored)
    return StudyCurve(
        name=study.study_name,
        engine=engine.label(stored),
        chooser=chooser,
        pruner=pruner,
        counts=state_counts(trials),
        curve=anytime_curve(trials),
        data=searched_name(stored.get(attrs.DATA_NAME)),
        identity={key: stored.get(key) for key in _IDENTITY},
    )


def default_targets(curves: list[StudyCurve]) -> tuple[float, ...]:
    """The published hand-tuned accuracies on the data all `curves` searched (what a search should pass);
    none for a user's own data, or for studies of different data."""
    names = {curve.data for curve in curves}
    if len(names) != 1:
        return ()
    return tuple(value for label, value in published_references(names.pop()) if label.startswith("hand-tuned"))


def compare_rows(curves: list[StudyCurve], targets: tuple[float, ...]) -> tuple[list[str], list[list[str]]]:
    """The table: headings, and one row of text cells per study."""
    headings = ["study", "engine", "sampler/oracle", "pruner", "trials", "best val acc"]
    for target in targets:
        headings += [f"time to {target:.2%}", f"epochs to {target:.2%}"]
    rows = []
    for curve in curves:
        counts = ", ".join(f"{n} {STATE_WORDS[state]}" for state, n in curve.counts.items() if n)
        row = [curve.name, curve.engine, curve.chooser, curve.pruner, counts or "none"]
        row.append(f"{curve.curve.points[-1].best:.2%}" if curve.curve.points else "-")
        for target in targets:
            hit = curve.curve.reached(target)
            row += ["not reached", "-"] if hit is None else [format_duration(hit.seconds), f"{hit.epochs_spent:g}"]
        rows.append(row)
    return headings, rows


def compare_figure(curves: list[StudyCurve]) -> go.Figure:
    """Best validation accuracy so far against wall-clock minutes (left) and epochs trained (right)."""
    import plotly.colors
    from plotly.subplots import make_subplots

    fig = make_subplots(rows=1, cols=2, subplot_titles=("against wall-clock", "against epochs trained"))
    palette = plotly.colors.qualitative.Plotly
    for index, curve in enumerate(curves):
        colour = palette[index % len(palette)]
        points = curve.curve.points
        for column, xs in enumerate(([p.seconds / 60 for p in points], [p.epochs_spent for p in points]), start=1):
            fig.add_scatter(
                x=xs,
                y=[p.best for p in points],
                mode="lines+markers",
                line={"shape": "hv", "color": colour},
                name=f"{curve.name} ({curve.engine})",
                legendgroup=curve.name,
                showlegend=column == 1,
                row=1,
                col=column,
            )
    fig.update_xaxes(title_text="minutes", row=1, col=1)
    fig.update_xaxes(title_text="epochs", row=1, col=2)
    fig.update_yaxes(title_text="best validation accuracy", tickformat=".1%")
    fig.update_layout(title_text="Best validation accuracy so far", width=1100, height=480)
    return fig


def different_setups(curves: list[StudyCurve]) -> list[str]:
    """The identity keys (architecture, data, split) on which the studies differ."""
    return [key for key in _IDENTITY if len({repr(c.identity.get(key)) for c in curves}) > 1]


def write_compare(
    curves: list[StudyCurve], output: Path, targets: tuple[float, ...], *, png: bool | None = None
) -> list[Path]:
    """Write the page (plotly.js inlined) and, where Chromium is found (or `png`), a PNG of its figure beside it."""
    from tuning.atomic import write_text_atomically
    from tuning.render import png_wanted, write_pngs

    fig = compare_figure(curves)
    headings, rows = compare_rows(curves, targets)
    differ = different_setups(curves)
    note = (
        f"<p><b>Not like for like:</b> these studies differ in {', '.join(differ)}; their accuracies are "
        "scored on different models or data.</p>"
        if differ
        else "<p>All studies search the same architecture on the same data and validation split.</p>"
    )
    table = "".join(f"<th>{html.escape(h)}</th>" for h in headings)
    body = "".join("<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in row) + "</tr>" for row in rows)
    page = (
        "<!DOCTYPE html><html><head><meta charset='utf-8'><title>tune compare</title>"
        "<style>body{font-family:sans-serif;margin:2em}table{border-collapse:collapse}"
        "td,th{border:1px solid #ccc;padding:4px 8px;text-align:left}</style></head><body>"
        f"<h1>tune compare: {html.escape(', '.join(c.name for c in curves))}</h1>{note}"
        f"<table><tr>{table}</tr>{body}</table>"
        "<p>Time: while any of the study's trials ran (pauses of over a minute between runs left out). "
        "Epochs: passes over the training images by all its trials. A curve steps at every check, to the "
        "best validation accuracy any check reached so far.</p>"
        f"{fig.to_html(full_html=False, include_plotlyjs=True)}</body></html>"
    )
    written = [write_text_atomically(output, page)]
    if png_wanted(png):
        written += write_pngs({output.stem: fig}, output.parent, required=png is True)
    return written
