"""`tune run`: search hyperparameters, showing trials as they finish."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

import click

from tuning.cli.options import console, data_dir_option, setting_option, storage_option
from tuning.model.params import ARCHITECTURES
from tuning.search.config import PRUNERS, RUN_PRECISIONS, SAMPLERS, RunConfig

if TYPE_CHECKING:
    import optuna
    from rich.console import Console

    from tuning.search.runner import PreparedRun

__all__ = ["run"]


def _setting(flag: str, help: str, *aliases: str, **extra: Any) -> Any:
    """An option for the RunConfig field of the same name, with that field's default."""
    return setting_option(RunConfig, flag, help, *aliases, **extra)


@click.command()
@click.argument("arch", type=click.Choice(ARCHITECTURES))
@_setting(
    "--trials",
    "Trials the study should end with (complete, pruned or failed; a retried failure does not count). "
    "A re-run does the rest.",
)
@_setting("--timeout", "Start no new trial after this many seconds.", type=float)
@click.option("--study", "study_name", default="", help="Study name. [default: the architecture]")
@storage_option
@click.option("--space", "space_path", default=None, help="Search space TOML file. [default: search_spaces/ARCH.toml]")
@_setting("--epochs", "Most epochs per trial (the pruner may stop sooner).")
@_setting(
    "--checks-per-epoch",
    "Validations per epoch, each a chance to prune: with 4 the first rung judges a trial after a quarter "
    "of an epoch. A study keeps the value it was created with.",
)
@_setting(
    "--max-train-samples",
    "Train on a stratified subset of N images; the validation split shrinks in proportion.",
    type=int,
)
@_setting("--seed", "Seed for the sampler; on a new study also its validation split and trial weights.", type=int)
@_setting("--sampler", "tpe: multivariate TPE; random: random search.", type=click.Choice(SAMPLERS))
@_setting(
    "--pruner",
    "hyperband: brackets of successive halving; halving: its most aggressive bracket only (cheapest).",
    type=click.Choice(PRUNERS),
)
@_setting(
    "--reduction-factor",
    "hyperband/halving: each rung keeps the best 1/N of its trials (rungs at checks 1, N, N^2, ...).",
)
@_setting("--bootstrap-count", "hyperband/halving: a rung stops every trial until more than N trials have reached it.")
@_setting(
    "--defaults-first",
    "On a new study, make the first trial the default configuration (tuning/model/params.py), a hand-set baseline.",
    is_flag=True,
)
@_setting(
    "--precision",
    "auto: bfloat16 (mixed precision) where this CPU has bfloat16 instructions and a short probe finds it "
    "faster, else float32.",
    type=click.Choice(RUN_PRECISIONS),
)
@data_dir_option
@_setting("--jobs", "Worker processes on this machine, each with its share of the CPU cores.", "-j")
@_setting(
    "--heartbeat",
    "Seconds between a running trial's heartbeats; after 3 missed, its worker counts as dead "
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
    _run_with_progress(prepared, console())


def _run_with_progress(prepared: PreparedRun, console: Console) -> None:
    from tuning.cli.progress import TrialProgress
    from tuning.search.runner import run_study
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
        f"on {len(prepared.setup.split.y_train)} images, validating on {len(prepared.setup.split.y_val)}; "
        f"{config.precision} ({prepared.precision_reason})."
    )
    try:
        epoch_bar = config.epochs if config.jobs == 1 else None  # workers' epochs are not visible here
        with TrialProgress(console, total=prepared.remaining, epochs=epoch_bar) as progress:
            run_study(prepared, callbacks=[progress.on_trial], on_epoch=progress.on_epoch)
    except KeyboardInterrupt:
        used = _slots_used(study)
        console.print(
            f"interrupted: running trials were recorded as failed (interrupted); {used} of "
            f"{config.trials} trials in the study. Run the same command to resume."
        )
        raise
    _print_best(study, console)


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
