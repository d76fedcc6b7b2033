"""The `tune` command line. It owns the terminal: progress bars, tables and error lines.

Heavy libraries (TensorFlow, Keras, pandas, plotly) are imported inside the
commands that need them, so `tune --help` stays fast.
"""

from __future__ import annotations

import logging
import signal
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from tuning.errors import Interrupted, TuneError
from tuning.model.builders import PRECISIONS
from tuning.model.params import ARCHITECTURES
from tuning.search.config import DEFAULT_STORAGE, PRUNERS, SAMPLERS, RunConfig
from tuning.search.storage import HEARTBEAT

if TYPE_CHECKING:
    import optuna
    from rich.console import Console

    from tuning.cli.progress import TrialProgress
    from tuning.results.evaluate import Evaluation
    from tuning.results.retrain import PreparedRetrain, RetrainResult
    from tuning.search.runner import PreparedRun

__all__ = ["cli", "main"]

_STORAGE_HELP = (
    f"Optuna storage URL (any SQLAlchemy URL, e.g. postgresql://user:pw@host/db). [default: {DEFAULT_STORAGE}]"
)
_storage_option = click.option("--storage", default=DEFAULT_STORAGE, show_default=False, help=_STORAGE_HELP)
_data_dir_option = click.option(
    "--data-dir",
    default=None,
    envvar="TUNE_DATA_DIR",
    help="Folder with the Fashion-MNIST IDX .gz files or Kaggle CSVs. [env: TUNE_DATA_DIR]",
)


def _console() -> Console:
    from rich.console import Console

    # Piped output (logs, CI) gets wide lines rather than tables wrapped at 80 columns.
    return Console(highlight=False, soft_wrap=True, width=None if sys.stdout.isatty() else 160)


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
    help="Trials the study should end with (complete, pruned or failed; a retried failure does not count). "
    "A re-run does the rest.",
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
@click.option(
    "--seed",
    type=int,
    default=None,
    help="Seed for the sampler; on a new study also its validation split and trial weights.",
)
@click.option("--sampler", type=click.Choice(SAMPLERS), default="tpe", show_default=True)
@click.option(
    "--pruner",
    type=click.Choice(PRUNERS),
    default="hyperband",
    show_default=True,
    help="hyperband: brackets of successive halving; halving: its most aggressive bracket only (cheapest).",
)
@click.option(
    "--reduction-factor",
    type=int,
    default=3,
    show_default=True,
    help="hyperband/halving: each rung keeps the best 1/N of its trials (rungs at epochs 1, N, N^2, ...).",
)
@click.option(
    "--bootstrap-count",
    type=int,
    default=0,
    show_default=True,
    help="hyperband/halving: a rung stops every trial until more than N trials have reached it.",
)
@click.option(
    "--defaults-first",
    is_flag=True,
    help="On a new study, make the first trial the default configuration (tuning/params.py), a hand-set baseline.",
)
@click.option(
    "--precision",
    type=click.Choice(list(PRECISIONS)),
    default="float32",
    show_default=True,
    help="bfloat16: mixed precision; faster on CPUs with bfloat16 instructions (README, Speed).",
)
@_data_dir_option
@click.option(
    "--jobs",
    "-j",
    type=int,
    default=1,
    show_default=True,
    help="Worker processes on this machine, each with its share of the CPU cores.",
)
@click.option(
    "--heartbeat",
    type=int,
    default=HEARTBEAT,
    show_default=True,
    help="Seconds between a running trial's heartbeats; after 3 missed, its worker counts as dead "
    "and its parameters are retried.",
)
@click.pass_context
def run(ctx: click.Context, **options: Any) -> None:
    """Search hyperparameters of ARCH (mlp or cnn) on Fashion-MNIST.

    Several `tune run` commands with the same --study and --storage (on this machine or
    others, e.g. with a PostgreSQL URL) share the study and stop together at --trials.
    """
    import optuna

    from tuning.search.runner import prepare_run

    # The progress display shows each trial's outcome; Optuna's own log lines would repeat it.
    if ctx.obj["verbose"] == 0:
        optuna.logging.set_verbosity(logging.ERROR)
    prepared = prepare_run(RunConfig(**options))
    _run_with_progress(prepared, _console())


def _run_with_progress(prepared: PreparedRun, console: Console) -> None:
    from tuning.cli.progress import TrialProgress
    from tuning.search.runner import run_trials
    from tuning.search.storage import mask_url

    config, study = prepared.config, prepared.study
    where = f"study {config.study_name!r} in {mask_url(config.storage)}"
    if prepared.remaining == 0:
        console.print(
            f"{where} already holds {prepared.used_before} trials (asked for {config.trials}); "
            "nothing to run. Raise --trials to run more."
        )
        _print_best(study, console)
        return
    resumed = f"{prepared.used_before} of {config.trials} trials already there; " if prepared.used_before else ""
    workers = f" with {config.jobs} workers" if config.jobs > 1 else ""
    console.print(
        f"{where}: {resumed}running {prepared.remaining} trial(s){workers} of up to {config.epochs} epochs "
        f"on {len(prepared.setup.split.y_train)} images, validating on {len(prepared.setup.split.y_val)}."
    )
    try:
        epoch_bar = config.epochs if config.jobs == 1 else None  # workers' epochs are not visible here
        with TrialProgress(console, total=prepared.remaining, epochs=epoch_bar) as progress:
            if config.jobs == 1:
                run_trials(prepared, callbacks=[progress.on_trial], on_epoch=progress.on_epoch)
            else:
                _run_workers(prepared, progress)
    except KeyboardInterrupt:
        used = _slots_used(study)
        console.print(
            f"interrupted: running trials were recorded as failed (interrupted); {used} of "
            f"{config.trials} trials in the study. Run the same command to resume."
        )
        raise
    _print_best(study, console)


def _run_workers(prepared: PreparedRun, progress: TrialProgress) -> None:
    """Start --jobs worker processes and show their trials as they land in the storage."""
    from tuning.search.processes import CTRL_C_GRACE_SECONDS, start_workers, stop_workers

    seen = {t.number for t in prepared.study.get_trials(deepcopy=False) if t.state.is_finished()}
    workers = start_workers(prepared.config)
    try:
        while any(worker.is_alive() for worker in workers):
            for worker in workers:
                worker.join(timeout=1.0 / len(workers))
            seen = _show_new_trials(prepared.study, seen, progress)
    except Interrupted as exc:
        stop_workers(workers, wait_first=CTRL_C_GRACE_SECONDS if exc.signum == signal.SIGINT else 0.0)
        raise
    finally:
        stop_workers(workers)
    _show_new_trials(prepared.study, seen, progress)
    failed = [w.exitcode for w in workers if w.exitcode]
    if failed:
        raise TuneError(
            f"{len(failed)} of {len(workers)} workers failed (exit status {failed}); see the messages above"
        )


def _show_new_trials(study: optuna.Study, seen: set[int], progress: TrialProgress) -> set[int]:
    for trial in study.get_trials(deepcopy=False):
        if trial.state.is_finished() and trial.number not in seen:
            progress.on_trial(study, trial)
            seen = seen | {trial.number}
    return seen


def _slots_used(study: optuna.Study) -> int:
    from tuning.search.worker import slots_used

    return slots_used(study.get_trials(deepcopy=False))


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

    from tuning.report.summary import study_rows
    from tuning.search.storage import open_storage

    rows = study_rows(open_storage(storage, must_exist=True))
    console = _console()
    if not rows:
        console.print("no studies in this storage.")
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
    console.print(table)


@cli.command()
@click.argument("study")
@click.option("--output", "-o", default=None, help="JSON file to write. [default: exports/STUDY.json]")
@_storage_option
def export(study: str, output: str | None, storage: str) -> None:
    """Write the best configuration of STUDY as JSON (for `tune retrain`)."""
    from tuning.results.export import best_config, write_json
    from tuning.search.storage import open_storage
    from tuning.search.study import load_study

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
    from tuning.report.plots import write_plots
    from tuning.search.storage import open_storage
    from tuning.search.study import load_study

    loaded = load_study(open_storage(storage, must_exist=True), study)
    paths = write_plots(loaded, output_dir or Path("dashboards") / study, png=png)
    console = _console()
    console.print(f"wrote {len(paths)} files; open {paths[0]}")


@cli.command("retrain")
@click.argument("export_path", metavar="EXPORT.json")
@click.option("--epochs", type=int, default=None, help="Training epochs. [default: the export's best epoch]")
@click.option("--output-dir", default=None, help="Folder for the model, metrics and plots. [default: models/STUDY/]")
@click.option("--seeds", type=int, default=1, show_default=True, help="Train K times with different seeds; mean ± std.")
@click.option("--seed", type=int, default=None, help="Seed of the first training. [default: the best trial's seed]")
@click.option(
    "--validation-split/--no-validation-split",
    default=False,
    show_default=True,
    help="Keep the search's validation images out of training, for early stopping and best-epoch restore.",
)
@click.option("--max-train-samples", type=int, default=None, help="Train on a stratified subset of N images (quick).")
@click.option(
    "--precision",
    type=click.Choice(list(PRECISIONS)),
    default=None,
    help="float32 or bfloat16. [default: the precision of the best trial]",
)
@click.option("--png/--no-png", default=None, help="PNG copies of the plots. [default: when a Chromium is installed]")
@_data_dir_option
def retrain_command(export_path: str, **options: Any) -> None:
    """Retrain the configuration in EXPORT.json on the training images; evaluate once on the test set."""
    from tuning.results.retrain import RetrainConfig, prepare_retrain

    prepared = prepare_retrain(RetrainConfig(export_path=export_path, **options))
    console = _console()
    export, split = prepared.export, prepared.split
    held_out = f", validating on {len(split.y_val)} for early stopping" if len(split.y_val) else ""
    console.print(
        f"retraining {export['arch']} from study {export['study']!r} (trial {export['best_trial']}, "
        f"validation accuracy {export['best_val_accuracy']:.4f}) on {len(split.y_train)} images{held_out}"
    )
    console.print(f"epochs: {prepared.epochs} ({prepared.epochs_reason}); seeds: {', '.join(map(str, prepared.seeds))}")
    result = _retrain_with_progress(prepared, console)
    std, n = result.accuracy_std, len(result.runs)
    spread = "" if std is None else f" ± {std:.4f} (mean ± sample std over {n} seeds)"
    why = "best validation accuracy" if prepared.config.validation_split else "first seed"
    console.print(f"test accuracy {result.accuracy_mean:.4f}{spread}")
    console.print(f"saved model: seed {result.saved.seed} ({why}); its per-class test accuracy:")
    _print_evaluation(result.saved.evaluation, console)
    console.print(f"wrote {result.output_dir}/: {', '.join(result.files)} ({result.seconds:.1f} s)")


def _retrain_with_progress(prepared: PreparedRetrain, console: Console) -> RetrainResult:
    from tuning.cli.progress import progress_bars
    from tuning.results.retrain import RunResult, retrain

    progress = progress_bars(console)
    runs = progress.add_task("seeds", total=len(prepared.seeds), status="")
    epochs = progress.add_task("epochs", total=prepared.epochs, status="")

    def on_epoch(index: int, epoch: int, logs: dict[str, float]) -> None:
        shown = [f"{key} {logs[key]:.4f}" for key in ("loss", "accuracy", "val_accuracy") if key in logs]
        progress.update(epochs, completed=epoch, status=f"seed {prepared.seeds[index]}: {'  '.join(shown)}")

    def on_run(index: int, run: RunResult) -> None:
        best = "" if run.best_epoch is None else f", best epoch {run.best_epoch} (val_acc {run.best_val_accuracy:.4f})"
        console.print(
            f"seed {run.seed}: test accuracy {run.evaluation.accuracy:.4f}, loss {run.evaluation.loss:.4f}  "
            f"({len(run.epoch_seconds)} epochs{best}, {run.seconds:.1f} s)"
        )
        progress.update(runs, advance=1)
        progress.reset(epochs, total=prepared.epochs, status="")

    with progress:
        return retrain(prepared, on_epoch=on_epoch, on_run=on_run)


@cli.command("evaluate")
@click.argument("model_path", metavar="MODEL.keras")
@_data_dir_option
def evaluate_command(model_path: str, data_dir: str | None) -> None:
    """Test accuracy, loss and per-class accuracy of a saved Keras model on the 10,000 test images."""
    from tuning.results.evaluate import evaluate_file

    evaluation = evaluate_file(model_path, data_dir)
    console = _console()
    console.print(
        f"{model_path}: test accuracy {evaluation.accuracy:.4f}, loss {evaluation.loss:.4f} "
        f"on {evaluation.n_images} images"
    )
    _print_evaluation(evaluation, console)


def _print_evaluation(evaluation: Evaluation, console: Console) -> None:
    from rich.table import Table

    table = Table("class", "test accuracy", "images", "most often mistaken for")
    confusion = evaluation.confusion
    for i, (name, accuracy) in enumerate(evaluation.per_class_accuracy.items()):
        row = confusion[i].copy()
        row[i] = 0
        other = int(row.argmax())
        mistaken = f"{list(evaluation.per_class_accuracy)[other]} ({row[other]})" if row[other] else "-"
        table.add_row(name, f"{accuracy:.4f}", str(int(confusion[i].sum())), mistaken)
    console.print(table)


def main(argv: list[str] | None = None) -> None:
    """Entry point: run the CLI; user errors become one line and exit status 2."""
    from tuning.search.processes import raise_on_signals

    raise_on_signals()
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
    except (KeyboardInterrupt, click.exceptions.Abort) as exc:
        cause = exc if isinstance(exc, Interrupted) else exc.__cause__  # click wraps Ctrl-C in Abort
        signum = cause.signum if isinstance(cause, Interrupted) else signal.SIGINT
        click.echo("tune: interrupted", err=True)
        sys.exit(128 + signum)
    except click.exceptions.Exit as exc:
        sys.exit(exc.exit_code)
    except click.ClickException as exc:
        click.echo(f"tune: error: {exc.format_message()}", err=True)
        sys.exit(exc.exit_code)
    except Exception as exc:
        from tuning.search.storage import database_reason

        reason = database_reason(exc)  # the database refused mid-command: read-only, locked, gone
        if reason is None:
            raise  # a bug: keep the traceback
        click.echo(f"tune: error: storage error: {reason}", err=True)
        sys.exit(2)
