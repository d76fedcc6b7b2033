"""`tune report`: one self-contained page comparing studies and their retrained models with published numbers.

plotly.js is inlined once, so the page opens offline; a PNG snapshot of the
whole page is taken in headless Chromium where one is installed.
"""

from __future__ import annotations

import html
import logging
from pathlib import Path
from typing import TYPE_CHECKING

from tuning.data.sources import published_references
from tuning.errors import TuneError
from tuning.report.collect import StudyComparison

if TYPE_CHECKING:
    import plotly.graph_objects as go

__all__ = ["report_html", "write_report"]

logger = logging.getLogger(__name__)


def write_report(rows: list[StudyComparison], output: Path, *, png: bool | None = None) -> list[Path]:
    """Write the page to `output` and, where Chromium is (or `png`), a PNG snapshot beside it; return the paths."""
    from tuning.atomic import write_text_atomically
    from tuning.render import png_wanted

    try:
        output.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise TuneError(f"cannot write {output}: {exc.strerror or exc}") from None
    written = [write_text_atomically(output, report_html(rows))]
    if png_wanted(png):
        snapshot = _snapshot(output, len(_figures(rows)))
        written += [snapshot] if snapshot else []
    return written


def report_html(rows: list[StudyComparison]) -> str:
    """The whole page: a table of the studies, then the figures."""
    figures = _figures(rows)
    parts = [
        fig.to_html(full_html=False, include_plotlyjs=index == 0, div_id=f"figure-{stem}", config={"responsive": True})
        for index, (stem, fig) in enumerate(figures.items())
    ]
    names = ", ".join(html.escape(row.name) for row in rows)
    data = ", ".join(html.escape(name) for name in sorted({row.data for row in rows}))
    return (
        '<!doctype html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        f"<title>tune report: {names}</title>\n<style>{_CSS}</style>\n</head>\n<body>\n"
        f"<h1>Searches on {data}: {names}</h1>\n{_table(rows)}\n{_references(_shared_references(rows))}\n"
        + "\n".join(parts)
        + "\n</body>\n</html>\n"
    )


_CSS = (
    "body{font-family:sans-serif;margin:1.5em;max-width:75em}"
    "table{border-collapse:collapse;margin:.5em 0}"
    "th,td{border:1px solid #ccc;padding:.25em .6em;text-align:left}"
    "td.num{text-align:right;font-variant-numeric:tabular-nums}"
)


def _table(rows: list[StudyComparison]) -> str:
    head = [
        "study",
        "arch",
        "complete / pruned / failed",
        "best val accuracy",
        "best trial",
        "parameters",
        "s / epoch",
        "test accuracy",
        "retrained model",
    ]
    lines = ["<table>", "<tr>" + "".join(f"<th>{h}</th>" for h in head) + "</tr>"]
    for row in rows:
        c = row.counts
        test, model = "not retrained", "-"
        if row.retrained:
            spread = "" if row.retrained.accuracy_std is None else f" ± {100 * row.retrained.accuracy_std:.2f}"
            test = f"{100 * row.retrained.accuracy_mean:.2f}%{spread} ({row.retrained.seeds} seeds)"
            model = html.escape(str(row.retrained.path.parent))
        cells = [
            html.escape(row.name),
            html.escape(row.arch),
            f"{c.get('COMPLETE', 0)} / {c.get('PRUNED', 0)} / {c.get('FAIL', 0)}",
            "-" if row.best_value is None else f"{100 * row.best_value:.2f}%",
            "-" if row.best_trial is None else str(row.best_trial),
            "-" if row.n_params is None else f"{row.n_params:,}",
            "-" if row.epoch_seconds is None else f"{row.epoch_seconds:.1f}",
            test,
            model,
        ]
        lines.append("<tr>" + "".join(f'<td class="num">{cell}</td>' for cell in cells) + "</tr>")
    return "\n".join([*lines, "</table>"])


def _shared_references(rows: list[StudyComparison]) -> tuple[tuple[str, float], ...]:
    """The published accuracies on the data every study searched; none where they searched different data."""
    names = {row.data for row in rows}
    return published_references(names.pop()) if len(names) == 1 else ()


def _references(references: tuple[tuple[str, float], ...]) -> str:
    if not references:
        return "<p>No published test accuracies to compare with for this data.</p>"
    items = ", ".join(f"{html.escape(name)} {100 * value:.2f}%" for name, value in references)
    return f"<p>Reference test accuracies (dotted lines): {items}.</p>"


def _figures(rows: list[StudyComparison]) -> dict[str, go.Figure]:
    figures = {"accuracy": _accuracy_figure(rows), "progress": _progress_figure(rows)}
    if any(row.importances for row in rows):
        figures["importances"] = _importance_figure([row for row in rows if row.importances])
    retrained = [row for row in rows if row.retrained]
    if retrained:
        figures["per_class"] = _per_class_figure(retrained)
        figures["confusion"] = _confusion_figure(retrained)
    return figures


def _accuracy_figure(rows: list[StudyComparison]) -> go.Figure:
    import plotly.graph_objects as go

    names = [row.name for row in rows]
    fig = go.Figure()
    fig.add_bar(x=names, y=[row.best_value for row in rows], name="best validation accuracy (search)")
    tests = [row.retrained.accuracy_mean if row.retrained else None for row in rows]
    spread = [(row.retrained.accuracy_std or 0.0) if row.retrained else None for row in rows]
    if any(test is not None for test in tests):
        fig.add_bar(x=names, y=tests, name="test accuracy (retrained, mean ± std)", error_y={"array": spread})
    references = _shared_references(rows)
    for label, value in references:
        fig.add_hline(y=value, line_dash="dot", line_color="grey", annotation_text=f"{label} {100 * value:.2f}%")
    values = [v for v in [*(row.best_value for row in rows), *tests] if v is not None]
    marks = [*values, *(value for _, value in references)] or [0.0, 1.0]
    low, high = max(min(marks) - 0.01, 0.0), min(max(marks) + 0.005, 1.0)
    fig.update_yaxes(range=[low, high], tickformat=".1%", title_text="accuracy")
    title = "Accuracy against published numbers" if references else "Accuracy"
    fig.update_layout(title_text=title, barmode="group", height=480)
    return fig


def _progress_figure(rows: list[StudyComparison]) -> go.Figure:
    import plotly.graph_objects as go

    fig = go.Figure()
    for row in rows:
        if row.progress:
            minutes, best = zip(*row.progress, strict=True)
            fig.add_scatter(x=minutes, y=best, mode="lines+markers", line_shape="hv", name=row.name)
    fig.update_xaxes(title_text="minutes while the study's trials ran (pauses between runs left out)")
    fig.update_yaxes(title_text="best validation accuracy so far", tickformat=".1%")
    fig.add_annotation(
        text="every check of every trial counts, pruned and failed ones too",
        xref="paper",
        yref="paper",
        x=0,
        y=1.08,
        showarrow=False,
    )
    fig.update_layout(title_text="Search progress", height=420)
    return fig


def _importance_figure(rows: list[StudyComparison]) -> go.Figure:
    from plotly.subplots import make_subplots

    titles = [f"{row.name}<br><sub>over {row.importances_over}</sub>" for row in rows]
    fig = make_subplots(rows=1, cols=len(rows), subplot_titles=titles)
    for column, row in enumerate(rows, start=1):
        ranked = sorted(row.importances.items(), key=lambda item: item[1])
        fig.add_bar(
            x=[v for _, v in ranked], y=[k for k, _ in ranked], orientation="h", showlegend=False, row=1, col=column
        )
    fig.update_layout(title_text="Top hyperparameter importances (PED-ANOVA)", height=360)
    return fig


def _per_class_figure(rows: list[StudyComparison]) -> go.Figure:
    import plotly.graph_objects as go

    fig = go.Figure()
    for row in rows:
        assert row.retrained is not None
        per_class = row.retrained.per_class
        fig.add_bar(x=list(per_class), y=list(per_class.values()), name=row.name)
    fig.update_yaxes(tickformat=".0%", title_text="test accuracy")
    fig.update_layout(title_text="Per-class test accuracy of the retrained models", barmode="group", height=420)
    return fig


def _confusion_figure(rows: list[StudyComparison]) -> go.Figure:
    import numpy as np
    from plotly.subplots import make_subplots

    from tuning.results.figures import confusion_figure

    fig = make_subplots(rows=1, cols=len(rows), subplot_titles=[row.name for row in rows], horizontal_spacing=0.12)
    for column, row in enumerate(rows, start=1):
        assert row.retrained is not None
        retrained = row.retrained
        (heatmap,) = confusion_figure(np.array(retrained.confusion), list(retrained.per_class), row.name).data
        heatmap.update(showscale=column == len(rows))
        fig.add_trace(heatmap, row=1, col=column)
        fig.update_yaxes(autorange="reversed", row=1, col=column)
    fig.update_layout(title_text="Test confusion matrices (rows: true class)", height=480)
    return fig


def _snapshot(page: Path, n_figures: int) -> Path | None:
    """A PNG of the whole page as Chromium draws it, or None (logged) if it did not draw."""
    from tuning.report.browser import open_page

    path = page.with_suffix(".png")
    try:
        load = open_page(
            page.resolve().as_uri(),
            wait_for=f"document.querySelectorAll('.js-plotly-plot').length >= {n_figures}",
            screenshot=path,
            width=1200,
            scale=0.6,
        )
    except Exception as exc:  # the page is written; the picture of it is extra
        logger.warning("no PNG snapshot of %s: %s", page, exc)
        path.unlink(missing_ok=True)
        return None
    for error in load.errors:
        logger.warning("%s: JavaScript error: %s", page, error)
    return path
