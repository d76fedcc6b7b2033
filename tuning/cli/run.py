"""`tune run`: search hyperparameters, showing trials as they finish."""

from __future__ import annotations

import logging
import signal
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from tuning import attrs
from tuning.cli.commandline import command_line, option_flags, same_command
from tuning.cli.options import (
    Choice,
    CountOrFraction,
    ImageShape,
    console,
    data_option,
    setting_option,
    storage_option,
)
from tuning.errors import Interrupted
from tuning.model.registry import BUILT_IN, get_model
from tuning.search.config import RUN_PRECISIONS, RunConfig
from tuning.search.engines import ENGINE_NAMES, get_engine
from tuning.search.engines.keras_tuner import ORACLES
from tuning.search.engines.optuna import FINISHED_BEFORE_TOP_RUNG_JUDGES, PRUNERS, SAMPLERS
from tuning.search.rungs import MAX_CHECKS_PER_EPOCH, MIN_CHECK_IMAGES
from tuning.search.space import default_space_path
from tuning.search.storage import STALE_BEATS

if TYPE_CHECKING:
    import optuna
    from rich.console import Console

    from tuning.search.changes import SettingChanges
    from tuning.search.runner import PreparedRun

__all__ = ["run"]


def _setting(flag: str, help: str, *aliases: str, **extra: Any) -> Any:
    """An option for the RunConfig field of the same name, with that field's default."""
    return setting_option(RunConfig, flag, help, *aliases, **extra)


@click.command()
@click.argument("arch", metavar="[MODEL]", required=False, default=None)
@_setting(
    "--trials",
    "Trials the study should end with (complete, pruned or failed; a retried failure does not count). "
    "A re-run does the rest. With --kt-oracle hyperband every KerasTuner trial counts, a promoted one too "
    "(it continues its parent for more epochs), so N may end within a bracket.",
)
@_setting("--timeout", "Start no new trial after this many seconds.", type=float)
@click.option("--study", "study_name", default="", help="Study name. [default: the model's name]")
@storage_option
@click.option(
    "--space",
    "space_path",
    default=None,
    help="Search space TOML file; its `arch` names the model, so MODEL may be left out. [default: the space "
    f"shipped with tune for a built-in MODEL, {default_space_path(BUILT_IN[0]).parent}/MODEL.toml]",
)
@_setting(
    "--epochs",
    "Most epochs per trial (the pruner may stop sooner). [default: "
    + ", ".join(f"{get_model(name).epochs} for {name}" for name in BUILT_IN)
    + "; a model of yours: its `epochs`, else 20]",
    type=int,
)
@_setting(
    "--checks-per-epoch",
    "Validations per epoch, each a chance to prune: with 4 the first rung judges a trial after a quarter "
    "of an epoch. A study keeps the value it was created with. [default: as many as keep each check over "
    f"{MIN_CHECK_IMAGES:,} training images, at most {MAX_CHECKS_PER_EPOCH}: 4 on Fashion-MNIST]",
    type=int,
)
@_setting(
    "--max-train-samples",
    "Train on a stratified subset of N images; the validation split shrinks in proportion.",
    type=int,
)
@_setting(
    "--validation-size",
    "Training images held out to score trials: a count, or a fraction of them (e.g. 0.2). 10,000 becomes "
    "a sixth of the images where they are fewer than 60,000. A study keeps the one it was created with.",
    type=CountOrFraction(),
    metavar="N|FRACTION",
)
@_setting(
    "--seed",
    "Seed for the sampler; on a new study also its validation split and trial weights. [default: none: "
    "an unseeded sampler; a new study draws its trial seed at random and splits with seed 0]",
    type=int,
)
@_setting(
    "--sampler",
    "tpe: multivariate TPE (one model over the parameters that occur together); tpe-univariate: one "
    "model per parameter, as Optuna's default TPE; random: random search.",
    type=Choice(SAMPLERS),
)
@_setting(
    "--startup-trials",
    "tpe, tpe-univariate: sample a study's first N trials at random (pruned ones count), then from TPE's "
    "model; 10 is Optuna's default.",
    metavar="N",
)
@_setting(
    "--pruner",
    "hyperband: brackets of successive halving; halving: its most aggressive bracket only (cheapest).",
    type=Choice(PRUNERS),
)
@_setting(
    "--reduction-factor",
    "hyperband/halving: each rung keeps the best 1/N of its trials (rungs at checks 1, N, N^2, ...); "
    "with halving, a trial that reaches the highest rung within its checks (past the first) trains to the end "
    f"until {FINISHED_BEFORE_TOP_RUNG_JUDGES} trials completed; then that rung judges too.",
)
@_setting(
    "--cost-limit",
    "halving: a trial whose time to a rung is over F times the median of the other trials' there (once 3 "
    "reached it) is not promoted, whatever its accuracy; 0: off.",
    metavar="F",
    type=float,
)
@_setting(
    "--bootstrap-count",
    "hyperband/halving: a rung stops every trial until more than N trials have reached it (with "
    "--no-defaults-first, 1 keeps an expensive random first trial from running its whole budget).",
)
@_setting(
    "--defaults-first/--no-defaults-first",
    "On a new study, make the first trial the space's [start] configuration (the shipped spaces: the "
    "validation-best of an earlier study on Fashion-MNIST), which leads every rung. [default: on for "
    "Fashion-MNIST, off for other data]",
)
@_setting(
    "--precision",
    "auto: bfloat16 (mixed precision) where this CPU has bfloat16 instructions and a short probe finds it "
    "faster, else float32.",
    type=Choice(RUN_PRECISIONS),
)
@_setting(
    "--engine",
    "Who proposes the configurations: "
    + " ".join(get_engine(name).SUMMARY for name in ENGINE_NAMES)
    + " Trials train and are recorded the same way.",
    type=Choice(ENGINE_NAMES),
)
@_setting(
    "--kt-oracle",
    "keras-tuner: hyperband (max epochs --epochs, factor --reduction-factor), bayesian (Gaussian process) or "
    "random; each trial trains --epochs unless Hyperband gives it fewer.",
    type=Choice(ORACLES),
)
@data_option
@_setting(
    "--image-shape",
    "CSV data: one image's shape, HxW or HxWxC (a row's pixels in that order). [default: square grey images]",
    type=ImageShape(),
    metavar="HxW[xC]",
)
@_setting(
    "--artifact-dir",
    "Folder for each trial's dashboard artifacts (learning curve, model summary). [default: beside a SQLite "
    "storage, studies.db -> studies.artifacts/; none for other storages]",
)
@_setting("--jobs", "Worker processes on this machine, each with its share of the CPU cores.", "-j")
@_setting(
    "--heartbeat",
    "Seconds between a running trial's heartbeats; after 3 missed, its worker counts as dead "
    "and its parameters are retried.",
)
@click.pass_context
def run(ctx: click.Context, **options: Any) -> None:
    """Search hyperparameters of MODEL on Fashion-MNIST, or on your images with --data.

    MODEL is mlp, cnn, or your own build function as FILE.py:function or module:function
    (it runs that Python code, as `import` would); with --space, the space file's `arch`.

    Several `tune run` commands with the same --study and --storage (on this machine or
    others, e.g. with a PostgreSQL URL) share the study and stop together at --trials.
    """
    import optuna

    from tuning.search.runner import prepare_run

    # The progress display shows each trial's outcome; Optuna's own log lines would repeat it.
    if ctx.obj["verbose"] == 0:
        optuna.logging.set_verbosity(logging.ERROR)
    if options["arch"] is None:
        options["arch"] = _model_of_space(options["space_path"])
    prepared = prepare_run(RunConfig(**options))
    _run_with_progress(prepared, console(), ctx)


def _run_with_progress(prepared: PreparedRun, console: Console, ctx: click.Context) -> None:
    from tuning.cli.progress import TrialProgress
    from tuning.search.runner import run_study
    from tuning.search.storage import mask_url

    config, study = prepared.config, prepared.study
    where = f"study {config.study_name!r} in {mask_url(config.storage)}"
    if prepared.changes:
        console.print(_changes_line(config.study_name, prepared.changes, option_flags(ctx.command)))
    if prepared.remaining == 0 and prepared.running == 0:
        more = max(config.trials, prepared.used_before) + 10
        console.print(
            f"{where} already holds {prepared.used_before} trials (asked for {config.trials}); "
            f"nothing to run. To run more, raise --trials: {same_command(ctx, trials=more)}",
            markup=False,  # commands and paths as they are, brackets included
        )
        _print_best(study, config.storage, console)
        return
    resumed = f"{prepared.used_before} of {config.trials} trials already there; " if prepared.used_before else ""
    workers = get_engine(config.engine).describe(config)
    if prepared.remaining == 0:
        console.print(
            f"{where}: {prepared.running} of its {config.trials} trials still running, in another process or in "
            f"one that was stopped: waiting for them (a stopped one's trial is failed when its heartbeat is "
            f"{STALE_BEATS * config.heartbeat} s old, and run again here).",
            markup=False,
        )
    console.print(
        f"{where}: {resumed}running {prepared.remaining} trial(s){workers} of up to {config.epochs} epochs "
        f"on {len(prepared.setup.split.y_train)} images of {_data_shown(prepared)}, "
        f"validating on {len(prepared.setup.split.y_val)}; "
        f"{config.precision} ({prepared.precision_reason}); space {_space_shown(config, prepared)}.",
        markup=False,
    )
    try:
        epoch_bar = config.jobs == 1  # workers' epochs are not visible here
        with TrialProgress(
            console,
            total=prepared.remaining or prepared.running,
            epochs=config.epochs,
            expected_epochs=get_engine(config.engine).expected_epochs(config, prepared.setup.checks_per_epoch),
            epoch_bar=epoch_bar,
            jobs=config.jobs,
        ) as progress:
            run_study(prepared, callbacks=[progress.on_trial], on_epoch=progress.on_epoch)
    except KeyboardInterrupt as exc:
        used = _slots_used(study)
        said = (
            f"interrupted: running trials were recorded as failed (interrupted); {used} of "
            f"{config.trials} trials in the study. Resume with: {same_command(ctx)}"
        )
        if isinstance(exc, Interrupted) and exc.signum == signal.SIGPIPE:
            click.echo(f"tune: output closed (broken pipe), {said}", err=True)
        else:
            console.print(said, markup=False)
        raise
    used = _slots_used(study)
    if config.timeout is not None and used < config.trials:
        console.print(
            f"timeout reached ({config.timeout:g} s): the study holds {used} of {config.trials} trials. "
            f"Go on with: {same_command(ctx)}",
            markup=False,
        )
    _print_best(study, config.storage, console)


def _model_of_space(space_path: str | None) -> str:
    from tuning.search.space import load_space

    if space_path is None:
        raise click.UsageError(
            f"name the MODEL ({', '.join(BUILT_IN)}, or yours as FILE.py:function), or give --space FILE naming it"
        )
    return load_space(space_path).arch


def _data_shown(prepared: PreparedRun) -> str:
    """The data's name and shape, e.g. "digits.npz (8x8 grey, 10 classes)"."""
    from tuning.data.sources import searched_name

    name = searched_name(prepared.study.user_attrs.get(attrs.DATA_NAME))
    return f"{name} ({prepared.setup.shape.describe()})"


def _changes_line(study: str, changes: SettingChanges, flags: dict[str, str]) -> str:
    """One line: what this run changes on the study, and what it asked for that the study keeps."""
    said = []
    if changes.changed:
        changed = ", ".join(f"{flags[k]} {before} -> {now}" for k, (before, now) in changes.changed.items())
        said.append(f"study {study!r} goes on with settings changed since its last run: {changed}")
    for name, (kept, asked) in changes.ignored.items():
        said.append(f"{flags[name]} {asked} ignored: study {study!r} keeps {kept}")
    return "; ".join(said) + f" (recorded in the study's {attrs.SETTING_CHANGES!r})."


def _space_shown(config: RunConfig, prepared: PreparedRun) -> str:
    """The space file read, and a word about ./search_spaces/ARCH.toml if that one was not."""
    source = prepared.setup.space.source
    local = Path("search_spaces") / f"{config.arch}.toml"
    if config.space_path is None and local.is_file() and local.resolve() != Path(source).resolve():
        return f"{source} (the one shipped with tune; {local} is read only with --space {local})"
    return source


def _slots_used(study: optuna.Study) -> int:
    from tuning.search.worker import slots_used

    return slots_used(study.get_trials(deepcopy=False))


def _print_best(study: optuna.Study, storage: str, console: Console) -> None:
    from optuna.trial import TrialState

    from tuning.cli.browse import plots
    from tuning.cli.results import export
    from tuning.cli.tables import trial_count
    from tuning.report.plots import importance_fidelity
    from tuning.report.summary import STATE_WORDS
    from tuning.text import format_params

    trials = study.get_trials(deepcopy=False)
    console.print(f"study {study.study_name!r}: " + trial_count([STATE_WORDS[t.state.name] for t in trials]))
    if not any(t.state == TrialState.COMPLETE for t in trials):
        console.print("no complete trial yet.")
        return
    best = study.best_trial
    params = format_params(best.params)
    console.print(f"best: trial {best.number}, validation accuracy {best.value:.4f} ({params})")
    console.print(f"next: {command_line(export, study.study_name, storage=storage)}", markup=False)
    if importance_fidelity(study) is not None:  # else tune plots refuses: fewer than 2 configurations to rank
        console.print(f"      {command_line(plots, study.study_name, storage=storage)}", markup=False)
