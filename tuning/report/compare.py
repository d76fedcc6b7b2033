"""Searches side by side: anytime curves of the best validation accuracy, and what each needed to reach targets.

A study's curve steps at each finished trial (complete or pruned): the best validation
accuracy any of its checks reached so far, against the wall-clock the study's trials
ran (the union of their start-to-end spans, so pauses between runs do not count and
parallel workers count once) and against the epochs they trained (every trial's,
failed ones too). Works on studies of either engine (search/kt_engine.py).
"""

from __future__ import annotations

import html
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tuning import attrs
from tuning.report.collect import REFERENCES
from tuning.report.summary import STATE_WORDS

if TYPE_CHECKING:
    import optuna
    import plotly.graph_objects as go

__all__ = ["DEFAULT_TARGETS", "StudyCurve", "compare_figure", "compare_rows", "study_curve", "write_compare"]

# The hand-tuned MLP's and ConvNet's test accuracies: what a search's validation accuracy should pass.
DEFAULT_TARGETS = tuple(value for name, value in REFERENCES if name.startswith("hand-tuned"))
_IDENTITY = (attrs.ARCH, attrs.DATA_FINGERPRINT, attrs.MAX_TRAIN_SAMPLES, attrs.VALIDATION_SIZE)


@dataclass(frozen=True)
class StudyCurve:
    """One study's anytime curve and what describes its search."""

    name: str
    engine: str  # "optuna" or "keras-tuner (hyperband)"
    chooser: str  # the sampler, or KerasTuner's oracle
    pruner: str
    counts: dict[str, int]  # trials by state name
    seconds: tuple[float, ...]  # wall-clock spent at each finished trial
    epochs: tuple[float, ...]  # epochs trained at each finished trial
    best: tuple[float, ...]  # best validation accuracy so far at each finished trial
    identity: dict[str, Any]  # what its trials score on (architecture, data, split)

    def __post_init__(self) -> None:
        if not len(self.seconds) == len(self.epochs) == len(self.best):
            raise ValueError("seconds, epochs and best must have one entry per finished trial")

    def reached(self, target: float) -> tuple[float, float] | None:
        """(seconds, epochs) when the best first reached `target`; None if it never did."""
        for seconds, epochs, best in zip(self.seconds, self.epochs, self.best, strict=True):
            if best >= target:
                return seconds, epochs
        return None


def study_curve(study: optuna.Study) -> StudyCurve:
    """The curve of `study`, from its trials' times, epochs and reported validation accuracies."""
    from optuna.trial import TrialState

    from tuning.search.study import state_counts

    trials = study.get_trials(deepcopy=False)
    ended = sorted(
        (t for t in trials if t.datetime_start and t.datetime_complete and t.state != TrialState.WAITING),
        key=lambda t: t.datetime_complete,  # type: ignore[arg-type, return-value]
    )
    spans = [_span(t) for t in ended]
    seconds, epochs, best = [], [], []
    spent, top = 0.0, float("-inf")
    for trial, (_, end) in zip(ended, spans, strict=True):  # in the order they ended
        spent += float(trial.user_attrs.get(attrs.EPOCHS_RUN, 0))
        scores = [*trial.intermediate_values.values(), *([trial.value] if trial.value is not None else [])]
        top = max([top, *scores])
        if trial.state in (TrialState.COMPLETE, TrialState.PRUNED) and top > float("-inf"):
            seconds.append(_busy_seconds(spans, end))
            epochs.append(spent)
            best.append(top)
    stored = study.user_attrs
    settings = stored.get(attrs.RUN_SETTINGS, {})
    keras_tuner = stored.get(attrs.ENGINE) == "keras-tuner"
    return StudyCurve(
        name=study.study_name,
        engine=attrs.engine_of(stored),
        chooser=str(stored.get(attrs.KT_ORACLE) if keras_tuner else settings.get("sampler", "?")),
        pruner="(oracle)" if keras_tuner else str(settings.get("pruner", "?")),
        counts=state_counts(trials),
        seconds=tuple(seconds),
        epochs=tuple(epochs),
        best=tuple(best),
        identity={key: stored.get(key) for key in _IDENTITY},
    )


def _span(trial: optuna.trial.FrozenTrial) -> tuple[float, float]:
    """When a trial ran. A failed one counts its recorded checks only: one whose process was killed is
    failed when found, maybe much later, so its start-to-end time would count the gap."""
    start = trial.datetime_start.timestamp()  # type: ignore[union-attr]
    if trial.state.name == "FAIL":
        return start, start + sum(attrs.curve_of(trial.user_attrs).seconds)
    return start, trial.datetime_complete.timestamp()  # type: ignore[union-attr]


def _busy_seconds(spans: list[tuple[float, float]], until: float) -> float:
    """Length of the union of the spans, cut at `until`."""
    total, reach = 0.0, float("-inf")
    for start, end in sorted((s, min(e, until)) for s, e in spans if s < until):
        if end > reach:
            total += end - max(start, reach)
            reach = end
    return total


def compare_rows(curves: list[StudyCurve], targets: tuple[float, ...]) -> tuple[list[str], list[list[str]]]:
    """The table: headings, and one row of text cells per study."""
    headings = ["study", "engine", "sampler/oracle", "pruner", "trials", "best val acc"]
    for target in targets:
        headings += [f"time to {target:.2%}", f"epochs to {target:.2%}"]
    rows = []
    for curve in curves:
        counts = ", ".join(f"{n} {STATE_WORDS[state]}" for state, n in curve.counts.items() if n)
        row = [curve.name, curve.engine, curve.chooser, curve.pruner, counts or "none"]
        row.append(f"{curve.best[-1]:.2%}" if curve.best else "-")
        for target in targets:
            hit = curve.reached(target)
            row += ["not reached", "-"] if hit is None else [_duration(hit[0]), f"{hit[1]:g}"]
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
        for column, xs in enumerate(([s / 60 for s in curve.seconds], list(curve.epochs)), start=1):
            fig.add_scatter(
                x=xs,
                y=list(curve.best),
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
    from tuning.report.plots import png_wanted, write_pngs

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
        "<p>Time: the union of each study's trial spans (pauses between runs left out). Epochs: passes over "
        "the training images by all its trials. A curve steps when a trial ends (complete or pruned), at the "
        "best validation accuracy any check reached so far.</p>"
        f"{fig.to_html(full_html=False, include_plotlyjs=True)}</body></html>"
    )
    written = [write_text_atomically(output, page)]
    if png_wanted(png):
        written += write_pngs({output.stem: fig}, output.parent, required=png is True)
    return written


def _duration(seconds: float) -> str:
    minutes, rest = divmod(round(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h{minutes:02d}m" if hours else f"{minutes}m{rest:02d}s"
