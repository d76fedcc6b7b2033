"""Studies: create or resume one for a run, load one by name, count its trials."""

from __future__ import annotations

import random
import warnings
from typing import TYPE_CHECKING, Any

from tuning import attrs
from tuning.attrs import set_attrs
from tuning.errors import SettingError, TuneError
from tuning.search.config import FINISHED_BEFORE_TOP_RUNG_JUDGES

if TYPE_CHECKING:
    import optuna

    from tuning.search.config import RunConfig

__all__ = [
    "METRIC_NAME",
    "expected_epochs",
    "load_study",
    "make_pruner",
    "make_sampler",
    "open_run_study",
    "state_counts",
    "study_checks_per_epoch",
    "top_rung",
]


METRIC_NAME = "val_accuracy"  # the objective: best validation accuracy over a trial's checks


def make_sampler(name: str, seed: int | None) -> optuna.samplers.BaseSampler:
    """TPE (multivariate, aware of conditional parameters) or random search."""
    import optuna

    if name == "random":
        return optuna.samplers.RandomSampler(seed=seed)
    with warnings.catch_warnings():  # multivariate/group/constant_liar are marked experimental
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        # group: one model per set of co-occurring (conditional) parameters;
        # constant_liar: parallel workers do not all sample the same point.
        return optuna.samplers.TPESampler(seed=seed, multivariate=True, group=True, constant_liar=True)


def make_pruner(
    name: str,
    epochs: int,
    reduction_factor: int = 3,
    bootstrap_count: int = 0,
    checks_per_epoch: int = 1,
    finished: int = FINISHED_BEFORE_TOP_RUNG_JUDGES,
) -> optuna.pruners.BasePruner:
    """Successive halving over checks (the default), Hyperband, the median rule, or no pruning.

    A step is a check: `checks_per_epoch` of them per pass over the training
    images (model/train.py `fit`), so with 4 the first rung comes after a
    quarter of an epoch. Successive halving is Hyperband's most aggressive
    bracket alone: with `reduction_factor` 4 a trial must be in the best quarter
    at checks 1, 4, ... (epochs 0.25, 1 with 4 checks) to go on, and one that
    reaches the top rung (`top_rung`: check 16 of 24) trains to the end while the
    study holds fewer than `finished` complete trials; after that the top rung
    judges too (search/halving.py). It spends fewer epochs than Hyperband (README "Speed"),
    at the risk of stopping slow starters. Hyperband keeps Optuna's own rungs
    (its samplers recognise the HyperbandPruner object itself). The median rule
    never prunes in a trial's first epoch.

    `bootstrap_count` N (Optuna's own parameter): a trial reaching a rung is stopped
    while N or fewer trials (itself included) have reached it. Without it the first
    trial at each rung always goes on, so an expensive early random trial runs its full
    budget. The median rule ignores both.
    """
    import optuna

    if name == "halving":
        from tuning.search.halving import TopRungHalving

        halving = optuna.pruners.SuccessiveHalvingPruner(
            min_resource=1, reduction_factor=reduction_factor, bootstrap_count=bootstrap_count
        )
        return TopRungHalving(halving, top_rung(epochs * checks_per_epoch, reduction_factor), finished)
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


def expected_epochs(pruner: str, epochs: int, reduction_factor: int, checks_per_epoch: int) -> float:
    """The epochs a trial trains on average if each rung keeps its best 1/`reduction_factor`: for the ETA.

    Successive halving: every trial reaches check 1, that share goes on to check N, its
    share to N^2, ..., and the share that reaches the top rung to the end. Hyperband: the mean over its
    brackets (bracket s has its first rung at check N^s). The median rule (an upper
    bound) and no pruning: every epoch.
    """
    total = epochs * checks_per_epoch
    if pruner == "halving":
        return _halving_checks(total, reduction_factor, 1, top_rung(total, reduction_factor)) / checks_per_epoch
    if pruner == "hyperband":
        firsts = [1]
        while firsts[-1] * reduction_factor < total:
            firsts.append(firsts[-1] * reduction_factor)
        checks = sum(_halving_checks(total, reduction_factor, first, total) for first in firsts)
        return checks / len(firsts) / checks_per_epoch
    return float(epochs)


def top_rung(total_checks: int, reduction_factor: int) -> int:
    """The check from which halving stops no trial: the highest rung within a trial's checks (the largest
    power of the factor up to them), as ASHA places it, but never the first rung: every trial is judged once."""
    rung = reduction_factor
    while rung * reduction_factor <= total_checks:
        rung *= reduction_factor
    return rung


def _halving_checks(total: int, factor: int, first: int, last: int) -> float:
    """Mean checks per trial of successive halving judging at `first`, first*factor, ... below `last`."""
    checks, share, reached, rung = 0.0, 1.0, 0, first
    while rung < last:  # a check at the very end prunes nothing: the trial is done
        checks += share * (rung - reached)
        share, reached, rung = share / factor, rung, rung * factor
    return checks + share * (total - reached)


def open_run_study(
    config: RunConfig,
    storage: optuna.storages.BaseStorage,
    identity: dict[str, Any],
    *,
    worker_index: int = 0,
    precision_reason: str = "as asked",
) -> optuna.Study:
    """Create the study, or join it if `identity` matches what it was created with.

    Each worker of a seeded run gets its own sampler seed, so workers do not
    propose the same parameters. A study keeps its checks per epoch (pruning
    compares trials check by check); see `study_checks_per_epoch`. Other
    settings may differ from the study's latest run (search/changes.py).
    """
    import optuna

    sampler_seed = None if config.seed is None else config.seed + worker_index
    # With keras-tuner the oracle chooses; Optuna's sampler only records the chosen values (cheap: random).
    sampler_name = config.sampler if config.engine == "optuna" else "random"
    study = optuna.create_study(
        study_name=config.study_name,
        storage=storage,
        sampler=make_sampler(sampler_name, sampler_seed),
        direction="maximize",
        load_if_exists=True,
    )
    if study.direction != optuna.study.StudyDirection.MAXIMIZE:
        raise TuneError(f"study {config.study_name!r} minimises; it was not created by tune")
    with warnings.catch_warnings():  # set_metric_names is marked experimental
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        study.set_metric_names([METRIC_NAME])  # what optuna-dashboard labels the objective
    stored = study.user_attrs
    if not stored:
        seed = config.seed if config.seed is not None else random.SystemRandom().randrange(2**31)
        settings = {
            attrs.SEED: seed,
            attrs.EPOCHS: config.epochs,
            attrs.CHECKS_PER_EPOCH: config.checks_per_epoch,
            attrs.PRECISION: config.precision,
            attrs.ENGINE: config.engine,
            **({attrs.KT_ORACLE: config.kt_oracle} if config.engine == "keras-tuner" else {}),
        }
        set_attrs(study, {**identity, **settings, attrs.PRECISION_REASON: precision_reason})
    else:
        _check_identity(config.study_name, stored, identity)
        _check_engine(config, stored)
    checks = study_checks_per_epoch(study.user_attrs)
    study.pruner = make_pruner(config.pruner, config.epochs, config.reduction_factor, config.bootstrap_count, checks)
    return study


def study_checks_per_epoch(stored: dict[str, Any]) -> int:
    """The checks per epoch of a study's trials: as created (1 for studies older than the setting)."""
    return int(stored.get(attrs.CHECKS_PER_EPOCH, 1))


def _check_identity(name: str, stored: dict[str, Any], identity: dict[str, Any]) -> None:
    for key in attrs.IDENTITY:
        if key in identity and stored.get(key) != identity[key]:
            raise TuneError(
                f"study {name!r} was created with {key}={stored.get(key)!r}, but this run has "
                f"{key}={identity[key]!r}; resume it with the same settings or use a new --study name"
            )


def _check_engine(config: RunConfig, stored: dict[str, Any]) -> None:
    """A study's trials come from one engine (and oracle): refuse a run with another."""
    asked = attrs.engine_of(
        {attrs.ENGINE: config.engine, attrs.KT_ORACLE: config.kt_oracle} if config.engine != "optuna" else {}
    )
    if attrs.engine_of(stored) != asked:
        raise TuneError(
            f"study {config.study_name!r} was searched with engine {attrs.engine_of(stored)}, but this run asks "
            f"for {asked}; resume it with the same --engine and --kt-oracle or use a new --study name"
        )
    if config.engine == "keras-tuner" and config.kt_oracle == "hyperband":  # its brackets are planned on these
        kept = {"epochs": stored.get(attrs.EPOCHS), **stored.get(attrs.RUN_SETTINGS, {})}
        for name in ("epochs", "reduction_factor"):
            if name in kept and kept[name] != getattr(config, name):
                reason = f"must stay {kept[name]} on study {config.study_name!r} (KerasTuner's Hyperband brackets)"
                raise SettingError(name, reason, getattr(config, name))


def load_study(storage: optuna.storages.BaseStorage, name: str) -> optuna.Study:
    """An existing study by name; TuneError naming the ones that exist otherwise."""
    import optuna

    names = optuna.get_all_study_names(storage=storage)
    if name not in names:
        known = ", ".join(sorted(names)) or "none"
        raise TuneError(f"no study named {name!r} in this storage (studies: {known})")
    return optuna.load_study(study_name=name, storage=storage)


def state_counts(trials: list[optuna.trial.FrozenTrial]) -> dict[str, int]:
    """Trials by state name: COMPLETE, PRUNED, FAIL, RUNNING, WAITING."""
    import optuna

    counts = {state.name: 0 for state in optuna.trial.TrialState}
    for trial in trials:
        counts[trial.state.name] += 1
    return counts
