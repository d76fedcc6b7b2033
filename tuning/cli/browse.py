"""`tune studies`, `tune trials` and `tune plots`: look at what a storage holds."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import click

from tuning.cli.options import console, storage_option
from tuning.cli.tables import print_json, print_table, trial_count
from tuning.text import format_params

if TYPE_CHECKING:
    from tuning.report.summary import StudyRow
    from tuning.report.trials import TrialRow

__all__ = ["plots", "studies", "trials"]

json_option = click.option("--json", "as_json", is_flag=True, help="A JSON array on stdout instead of a table.")


@click.command()
@storage_option
@json_option
def studies(storage: str, as_json: bool) -> None:
    """List the studies in a storage: trials by state and best validation accuracy."""
    from tuning.report.summary import study_rows
    from tuning.search.storage import open_storage

    rows = study_rows(open_storage(storage, must_exist=True))
    if as_json:
        print_json([row.to_dict() for row in rows])
        return
    out = console()
    if not rows:
        out.print("no studies in this storage.")
        return
    counts = ["complete", "pruned", "failed", "retried", "running", "queued"]
    headings = ["study", "arch", "engine", *counts, "best val acc", "best trial"]
    print_table(out, headings, [_study_cells(row) for row in rows])


def _study_cells(row: StudyRow) -> list[str]:
    c = row.counts
    counts = [c["COMPLETE"], c["PRUNED"], c["FAIL"], row.retried, c["RUNNING"], c["WAITING"]]
    best = "-" if row.best_value is None else f"{row.best_value:.4f}"
    trial = "-" if row.best_trial is None else str(row.best_trial)
    return [row.name, row.arch, row.engine, *map(str, counts), best, trial]


@click.command()
@click.argument("study")
@storage_option
@json_option
def trials(study: str, storage: str, as_json: bool) -> None:
    """List the trials of STUDY: state, validation accuracy, epochs, seconds, parameters."""
    from tuning.report.trials import trial_rows
    from tuning.search.storage import open_storage
    from tuning.search.study import load_study

    rows = trial_rows(load_study(open_storage(storage, must_exist=True), study))
    if as_json:
        print_json([row.to_dict() for row in rows])
        return
    out = console()
    if not rows:
        out.print(f"study {study!r} has no trials yet.")
        return
    print_table(out, ["trial", "state", "val acc", "epochs", "seconds", "params"], [_trial_cells(row) for row in rows])
    out.print(trial_count([row.state for row in rows]))


def _trial_cells(row: TrialRow) -> list[str]:
    return [
        str(row.number),
        row.stopped,
        "-" if row.value is None else f"{row.value:.4f}",
        "-" if row.epochs_run is None else f"{round(row.epochs_run, 2):g}",
        "-" if row.seconds is None else f"{row.seconds:.1f}",
        format_params(row.params),
    ]


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
