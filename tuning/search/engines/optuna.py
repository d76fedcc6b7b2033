"""The Optuna engine (the default): a sampler proposes each configuration, a pruner stops trials check by check.

Trials run in this process, or in `--jobs` worker processes on this machine, or in
workers on other machines sharing the study's storage (search/worker.py).
"""

from __future__ import annotations

import time
import warnings
from collections.abc import Callable, Sequence
from dataclasses import fields
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tuning import attrs
from tuning.errors import SettingError, check_choice

if TYPE_CHECKING:
    import optuna

    from tuning.model.train import RunEpochHook
    from tuning.search.config import RunConfig
    from tuning.search.runner import PreparedRun
    from tuning.search.space import SearchSpace
    from tuning.search.trial import TrialSetup
    from tuning.search.worker import TrialCallback

__all__ = [
    "FINISHED_BEFORE_TOP_RUNG_JUDGES",
    "NAME",
    "PRUNERS",
    "SAMPLERS",
    "STARTUP_TRIALS",
    "SUMMARY",
    "make_pruner",
    "make_sampler",
    "run_in_process",
]

NAME = "optuna"
SUMMARY = "optuna: its sampler (--sampler) proposes, its pruner (--pruner) stops trials check by check."
SAMPLERS = ("tpe", "tpe-univariate", "random")
PRUNERS = ("hyperband", "halving", "median", "none")
# Halving lets every trial that reaches the top rung finish until the study holds this many
# complete trials (enough to rank configurations on full runs: importances, `export --robust 3`
# with a margin); then the top rung judges too, so completing trials stops dominating the cost.
FINISHED_BEFORE_TOP_RUNG_JUDGES = 5
# TPE samples at random until the study holds this many trials (pruned ones count), then from its model:
# Optuna's own default. bench/results/hpo_suite/summary.md measures fewer ("Candidate defaults").
STARTUP_TRIALS = 10
# Settings of the keras-tuner engine: with this one each must keep its default.
_NOT_USED = ("kt_oracle",)


def state_dir(storage: str, study: str) -> Path | None:
    """None: the storage holds all of an Optuna study."""
    return None


def check_config(config: RunConfig) -> None:
    check_choice("sampler", config.sampler, SAMPLERS)
    check_choice("pruner", config.pruner, PRUNERS)
    defaults = {f.name: f.default for f in fields(config)}
    for name in _NOT_USED:
        if getattr(config, name) != defaults[name]:
            raise SettingError(name, "applies only to the keras-tuner engine", getattr(config, name))


def check_space(space: SearchSpace) -> None:
    """Every space `tune` reads can be sampled by Optuna."""


def study_attrs(config: RunConfig) -> dict[str, Any]:
    return {attrs.ENGINE: NAME}


def check_resume(config: RunConfig, stored: dict[str, Any]) -> None:
    """Sampler and pruner may change between runs of a study (search/changes.py records it)."""


def sampler(config: RunConfig, seed: int | None) -> optuna.samplers.BaseSampler:
    return make_sampler(config.sampler, seed, config.startup_trials)


def pruner(config: RunConfig, checks_per_epoch: int) -> optuna.pruners.BasePruner:
    return make_pruner(
        config.pruner,
        config.epochs,
        config.reduction_factor,
        config.bootstrap_count,
        checks_per_epoch,
        cost_limit=config.cost_limit,
    )


def start_params(config: RunConfig, space: SearchSpace) -> dict[str, Any] | None:
    """The space's [start] configuration, queued as a new study's first trial (--defaults-first)."""
    from tuning.search.space import default_params

    return None if config.defaults_first is False else default_params(space)


def expected_epochs(config: RunConfig, checks_per_epoch: int) -> float:
    from tuning.search.rungs import expected_epochs

    return expected_epochs(config.pruner, config.epochs, config.reduction_factor, checks_per_epoch)


def describe(config: RunConfig) -> str:
    return f" with {config.jobs} workers" if config.jobs > 1 else ""


def label(stored: dict[str, Any]) -> str:
    return NAME


def chooser(stored: dict[str, Any]) -> tuple[str, str]:
    settings = stored.get(attrs.RUN_SETTINGS, {})
    return str(settings.get("sampler", "?")), str(settings.get("pruner", "?"))


def run(run: PreparedRun, *, callbacks: Sequence[TrialCallback] = (), on_epoch: RunEpochHook | None = None) -> int:
    """Trials in this process, or in `config.jobs` worker processes (whose epochs `on_epoch` does not see)."""
    from tuning.search.processes import run_workers

    if run.config.jobs == 1:
        return run_in_process(run, callbacks=callbacks, on_epoch=on_epoch)
    if run.remaining == 0 and run.running == 0:
        return 0
    return run_workers(run.config, run.study, _worker, callbacks)


def run_in_process(
    run: PreparedRun,
    *,
    callbacks: Sequence[TrialCallback] = (),
    on_epoch: RunEpochHook | None = None,
    threads: int | None = None,
) -> int:
    """Run trials in this process until the study holds `config.trials` (or the timeout passes)."""
    from tuning.search.worker import TrialSource, run_trials

    return run_trials(run, lambda: TrialSource(_objective(run.setup, on_epoch)), callbacks=callbacks, threads=threads)


def _objective(setup: TrialSetup, on_epoch: RunEpochHook | None) -> Callable[[optuna.Trial], float]:
    """A trial: the sampler's parameters (search/space.py), trained the whole run unless the pruner stops it."""
    from tuning.search.space import suggest
    from tuning.search.trial import TrialPlan, run_trial

    def objective(trial: optuna.Trial) -> float:
        plan = TrialPlan(params=suggest(trial, setup.space), epochs=setup.epochs)
        return run_trial(trial, setup, plan, on_epoch).result.best_val_accuracy

    return objective


def _worker(config: RunConfig, index: int, threads: int) -> None:
    """One worker process of `--jobs`: join the study, run trials until the total is reached."""
    from tuning.search.runner import prepare_run

    run_in_process(prepare_run(config, worker_index=index), threads=threads)


def make_sampler(name: str, seed: int | None, startup_trials: int = STARTUP_TRIALS) -> optuna.samplers.BaseSampler:
    """TPE, random for its first `startup_trials`, or random search.

    tpe: multivariate, one model over the parameters that occur together (group: aware of conditional ones);
    tpe-univariate: one model per parameter, as Optuna's default TPE. Both with the constant liar: parallel
    workers (--jobs) do not all sample the same point.
    """
    import optuna

    if name == "random":
        return optuna.samplers.RandomSampler(seed=seed)
    multivariate = name == "tpe"
    with warnings.catch_warnings():  # multivariate/group/constant_liar are marked experimental
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        return optuna.samplers.TPESampler(
            seed=seed,
            n_startup_trials=startup_trials,
            multivariate=multivariate,
            group=multivariate,
            constant_liar=True,
        )


def make_pruner(
    name: str,
    epochs: int,
    reduction_factor: int,
    bootstrap_count: int = 0,
    checks_per_epoch: int = 1,
    finished: int = FINISHED_BEFORE_TOP_RUNG_JUDGES,
    *,
    cost_limit: float = 0.0,
    clock: Callable[[], float] = time.time,
) -> optuna.pruners.BasePruner:
    """Successive halving over checks (the default), Hyperband, the median rule, or no pruning.

    A step is a check: `checks_per_epoch` of them per pass over the training
    images (model/train.py `fit`), so with 4 the first rung comes after a
    quarter of an epoch. Successive halving is Hyperband's most aggressive
    bracket alone: with `reduction_factor` 4 a trial must be in the best quarter
    at checks 1, 4, ... (epochs 0.25, 1 with 4 checks) to go on, and one that
    reaches the top rung (`top_rung`: check 16 of 24) trains to the end while the
    study holds fewer than `finished` complete trials, and until then each rung
    below it keeps its best half; after that the top rung
    judges too (search/halving.py), and with `cost_limit` F a trial whose time to a rung is over F times
    the median of the others' there stops. It spends fewer epochs than Hyperband (README, "Speed"),
    at the risk of stopping slow starters. Hyperband keeps Optuna's own rungs
    (its samplers recognise the HyperbandPruner object itself). The median rule
    never prunes in a trial's first epoch.

    `bootstrap_count` N (Optuna's own parameter): a trial reaching a rung is stopped
    while N or fewer trials (itself included) have reached it. Without it the first
    trial at each rung always goes on, so an expensive early random trial runs its full
    budget. The median rule ignores both.
    """
    import optuna

    from tuning.search.rungs import top_rung

    if name == "halving":
        from tuning.search.halving import TopRungHalving

        halving = optuna.pruners.SuccessiveHalvingPruner(
            min_resource=1, reduction_factor=reduction_factor, bootstrap_count=bootstrap_count
        )
        top = top_rung(epochs * checks_per_epoch, reduction_factor)
        return TopRungHalving(
            halving,
            top,
            finished,
            reduction_factor=reduction_factor,
            bootstrap_count=bootstrap_count,
            cost_limit=cost_limit,
            clock=clock,
        )
    if name == "none":
        return optuna.pruners.NopPruner()
    if name == "median":
        return optuna.pruners.MedianPruner(n_startup_trials=3, n_warmup_steps=checks_per_epoch)
    return optuna.pruners.HyperbandPruner(
        min_resource=1,
        max_resource=epochs * checks_per_epoch,
        reduction_factor=reduction_factor,
        bootstrap_count=bootstrap_count,
    )
