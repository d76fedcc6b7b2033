"""`tune studies` and `tune plots`: look at what a storage holds."""

from __future__ import annotations

from pathlib import Path

import click

from tuning.cli.options import console, storage_option

__all__ = ["plots", "studies"]


@click.command()
@storage_option
def studies(storage: str) -> None:
    """List the studies in a storage: trials by state and best validation accuracy."""
    from rich.table import Table

    from tuning.report.summary import study_rows
    from tuning.search.storage import open_storage

    rows = study_rows(open_storage(storage, must_exist=True))
    out = console()
    if not rows:
        out.print("no studies in this storage.")
        return
    table = Table("study", "arch", "complete", "pruned", "failed", "retried", "running", "best val acc", "best trial")
    for row in rows:
        c = row.counts
        best = "-" if row.best_value is None else f"{row.best_value:.4f}"
        table.add_row(
            row.name,
            row.arch,
            str(c["COMPLETE"]),
            str(c["PRUNED"]),
            str(c["FAIL"]),
            str(row.retried),
            str(c["RUNNING"]),
            best,
            "-" if row.best_trial is None else str(row.best_trial),
        )
    out.print(table)


@click.command()
@click.argument("study")
@click.option("--output-dir", default=None, help="Folder for the HTML files. [default: dashboards/STUDY/]")
@click.option("--png/--no-png", default=None, help="PNG copies too. [default: when a Chromium is installed]")
@storage_option
def plots(study: str, output_dir: str | None, png: bool | None, storage: str) -> None:
    """Write importance, history, learning-curve and parallel-coordinate plots of STUDY as HTML."""
    from tuning.report.plots import write_plots
    from tuning.search.storage import open_storage
    from tuning.search.study import load_study

    loaded = load_study(open_storage(storage, must_exist=True), study)
    paths = write_plots(loaded, output_dir or Path("dashboards") / study, png=png)
    out = console()
    out.print(f"wrote {len(paths)} files; open {paths[0]}")
