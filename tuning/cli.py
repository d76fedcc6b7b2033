"""The `tune` command line. It owns the terminal: progress bars, tables and error lines.

Heavy libraries (TensorFlow, Keras, pandas, plotly) are imported inside the
commands that need them, so `tune --help` stays fast.
"""

from __future__ import annotations

import logging
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from tuning.config import DEFAULT_STORAGE, PRUNERS, SAMPLERS, RunConfig
from tuning.errors import TuneError
from tuning.params import ARCHITECTURES

if TYPE_CHECKING:
    import optuna
    from rich.console import Console

    from tuning.runner import PreparedRun

__all__ = ["cli", "main"]

_STORAGE_HELP = (
    f"Optuna storage URL (any SQLAlchemy URL, e.g. postgresql://user:pw@host/db). [default: {DEFAULT_STORAGE}]"
)
_storage_option = click.option("--storage", default=DEFAULT_STORAGE, show_default=False, help=_STORAGE_HELP)


def _console() -> Console:
    from rich.console import Console

    return Console(highlight=False, soft_wrap=True)


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(package_name="tune")
@click.option("-v", "--verbose", count=True, help="More log output (-vv for debug).")
@click.pass_context
def cli(ctx: click.Context, verbose: int) -> None:
    """Pruned Optuna hyperparameter searches over Keras classifiers on Fashion-MNIST."""
    level = (logging.WARNING, logging.INFO, logging.DEBUG)[min(verbose, 2)]
    logging.basicConfig(level=level, format="%(levelname)s %(name)s: %(message)s")
    ctx.obj = {"verbose": verbose}


@cli.command()
@click.argument("arch", type=click.Choice(ARCHITECTURES))
@click.option(
    "--trials",
    type=int,
    default=20,
    show_default=True,
    help="Finished trials (complete + pruned + failed) the study should end with; a re-run does the rest.",
)
@click.option("--timeout", type=float, default=None, help="Start no new trial after this many seconds.")
@click.option("--study", "study_name", default="", help="Study name. [default: the architecture]")
@_storage_option
@click.option("--space", "space_path", default=None, help="Search space TOML file. [default: search_spaces/ARCH.toml]")
@click.option(
    "--epochs", type=int, default=10, show_default=True, help="Most epochs per trial (the pruner may stop sooner)."
)
@click.option(
    "--max-train-samples",
    type=int,
    default=None,
    help="Train on a stratified subset of N images; the validation split shrinks in proportion.",
)
@click.option("--seed", type=int, default=None, help="Seed for the sampler, the validation split and the weights.")
@click.option("--sampler", type=click.Choice(SAMPLERS), default="tpe", show_default=True)
@click.option("--pruner", type=click.Choice(PRUNERS), default="hyperband", show_default=True)
@click.option(
    "--data-dir",
    default=None,
    envvar="TUNE_DATA_DIR",
    help="Folder with the Fashion-MNIST IDX .gz files or Kaggle CSVs. [env: TUNE_DATA_DIR]",
)
@click.pass_context
def run(ctx: click.Context, **options: Any) -> None:
    """Search hyperparameters of ARCH (mlp or cnn) on Fashion-MNIST."""
    import optuna

    from tuning.runner import prepare_run

    # The progress display shows each trial's outcome; Optuna's own log lines would repeat it.
    if ctx.obj["verbose"] == 0:
        optuna.logging.set_verbosity(logging.ERROR)
    prepared = prepare_run(RunConfig(**options))
    _run_with_progress(prepared, _console())


def _run_with_progress(prepared: PreparedRun, console: Console) -> None:
    from tuning.progress import TrialProgress
    from tuning.runner import run_trials
    from tuning.storage import mask_url
    from tuning.study import finished_count

    config, study = prepared.config, prepared.study
    where = f"study {config.study_name!r} in {mask_url(config.storage)}"
    if prepared.remaining == 0:
        console.print(
            f"{where} already has {prepared.finished_before} finished trials (asked for {config.trials}); "
            "nothing to run. Raise --trials to run more."
        )
        _print_best(study, console)
        return
    resumed = (
        f"{prepared.finished_before} of {config.trials} trials already finished; " if prepared.finished_before else ""
    )
    console.print(
        f"{where}: {resumed}running {prepared.remaining} trial(s) of up to {config.epochs} epochs "
        f"on {len(prepared.setup.split.y_train)} images, validating on {len(prepared.setup.split.y_val)}."
    )
    try:
        with TrialProgress(console, total=prepared.remaining, epochs=config.epochs) as progress:
            run_trials(prepared, callbacks=[progress.on_trial], on_epoch=progress.on_epoch)
    except KeyboardInterrupt:
        done = finished_count(study)
        console.print(
            f"interrupted: the running trial was recorded as failed (interrupted); {done} of "
            f"{config.trials} trials finished. Run the same command to resume."
        )
        raise
    _print_best(study, console)


def _print_best(study: optuna.Study, console: Console) -> None:
    from optuna.trial import TrialState

    if not study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,)):
        console.print("no complete trial yet.")
        return
    best = study.best_trial
    params = ", ".join(f"{k}={_fmt(v)}" for k, v in best.params.items())
    console.print(f"best: trial {best.number}, validation accuracy {best.value:.4f} ({params})")
    console.print(f"next: tune export {study.study_name}  |  tune plots {study.study_name}")


def _fmt(value: Any) -> str:
    return f"{value:.4g}" if isinstance(value, float) else str(value)


@cli.command()
@_storage_option
def studies(storage: str) -> None:
    """List the studies in a storage: trials by state and best validation accuracy."""
    from rich.table import Table

    from tuning.storage import open_storage
    from tuning.summary import study_rows

    rows = study_rows(open_storage(storage, must_exist=True))
    console = _console()
    if not rows:
        console.print("no studies in this storage.")
        return
    table = Table("study", "arch", "complete", "pruned", "failed", "running", "best val acc", "best trial")
    for row in rows:
        c = row.counts
        best = "-" if row.best_value is None else f"{row.best_value:.4f}"
        table.add_row(
            row.name,
            row.arch,
            str(c["COMPLETE"]),
            str(c["PRUNED"]),
            str(c["FAIL"]),
            str(c["RUNNING"]),
            best,
            "-" if row.best_trial is None else str(row.best_trial),
        )
    console.print(table)


@cli.command()
@click.argument("study")
@click.option("--output", "-o", default=None, help="JSON file to write. [default: exports/STUDY.json]")
@_storage_option
def export(study: str, output: str | None, storage: str) -> None:
    """Write the best configuration of STUDY as JSON (for `tune retrain`)."""
    from tuning.export import best_config, write_json
    from tuning.storage import open_storage
    from tuning.study import load_study

    loaded = load_study(open_storage(storage, must_exist=True), study)
    config = best_config(loaded)
    path = write_json(config, output or Path("exports") / f"{study}.json")
    _console().print(
        f"wrote {path}: trial {config['best_trial']}, validation accuracy "
        f"{config['best_val_accuracy']:.4f}, {config['arch']} with {config['n_params']} parameters"
    )


@cli.command()
@click.argument("study")
@click.option("--output-dir", default=None, help="Folder for the HTML files. [default: dashboards/STUDY/]")
@click.option("--png/--no-png", default=None, help="PNG copies too. [default: when a Chromium is installed]")
@_storage_option
def plots(study: str, output_dir: str | None, png: bool | None, storage: str) -> None:
    """Write importance, history, learning-curve and parallel-coordinate plots of STUDY as HTML."""
    from tuning.plots import write_plots
    from tuning.storage import open_storage
    from tuning.study import load_study

    loaded = load_study(open_storage(storage, must_exist=True), study)
    paths = write_plots(loaded, output_dir or Path("dashboards") / study, png=png)
    console = _console()
    console.print(f"wrote {len(paths)} files; open {paths[0]}")


def main(argv: list[str] | None = None) -> None:
    """Entry point: run the CLI; user errors become one line and exit status 2."""
    try:
        cli.main(args=argv, prog_name="tune", standalone_mode=False)
    except click.exceptions.NoArgsIsHelpError as exc:
        click.echo(exc.ctx.get_help() if exc.ctx else str(exc))
        sys.exit(2)
    except click.UsageError as exc:
        hint = f" (see `{exc.ctx.command_path} --help`)" if exc.ctx else ""
        click.echo(f"tune: error: {exc.format_message()}{hint}", err=True)
        sys.exit(2)
    except TuneError as exc:
        click.echo(f"tune: error: {exc}", err=True)
        sys.exit(2)
    except (KeyboardInterrupt, click.exceptions.Abort):
        click.echo("tune: interrupted", err=True)
        sys.exit(130)
    except click.exceptions.Exit as exc:
        sys.exit(exc.exit_code)
    except click.ClickException as exc:
        click.echo(f"tune: error: {exc.format_message()}", err=True)
        sys.exit(exc.exit_code)
