"""Studies: create or resume one for a run, load one by name, count its trials."""

from __future__ import annotations

import random
import warnings
from typing import TYPE_CHECKING, Any

from tuning import attrs
from tuning.attrs import set_attrs
from tuning.errors import TuneError
from tuning.search.engines import get_engine, stored_engine

if TYPE_CHECKING:
    import optuna

    from tuning.search.config import RunConfig

__all__ = [
    "load_study",
    "open_run_study",
    "state_counts",
    "study_checks_per_epoch",
]


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

    from tuning.model.train import VAL_ACCURACY

    engine = get_engine(config.engine)
    sampler_seed = None if config.seed is None else config.seed + worker_index
    study = optuna.create_study(
        study_name=config.study_name,
        storage=storage,
        sampler=engine.sampler(config, sampler_seed),
        direction="maximize",
        load_if_exists=True,
    )
    if study.direction != optuna.study.StudyDirection.MAXIMIZE:
        raise TuneError(f"study {config.study_name!r} minimises; it was not created by tune")
    with warnings.catch_warnings():  # set_metric_names is marked experimental
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        study.set_metric_names([VAL_ACCURACY])  # what optuna-dashboard labels the objective
    stored = study.user_attrs
    if not stored:
        seed = config.seed if config.seed is not None else random.SystemRandom().randrange(2**31)
        settings = {
            attrs.SEED: seed,
            attrs.EPOCHS: config.epochs,
            attrs.CHECKS_PER_EPOCH: config.checks_per_epoch,
            attrs.PRECISION: config.precision,
            **engine.study_attrs(config),
        }
        set_attrs(study, {**identity, **settings, attrs.PRECISION_REASON: precision_reason})
    else:
        _check_identity(config.study_name, stored, identity)
        _check_engine(config, stored)
    checks = study_checks_per_epoch(study.user_attrs)
    study.pruner = engine.pruner(config, checks)
    return study


def study_checks_per_epoch(stored: dict[str, Any]) -> int:
    """The checks per epoch of a study's trials: as created (1 for studies older than the setting)."""
    return int(stored.get(attrs.CHECKS_PER_EPOCH, 1))


def _check_identity(name: str, stored: dict[str, Any], identity: dict[str, Any]) -> None:
    if stored.get(attrs.DATA_FINGERPRINT) != identity.get(attrs.DATA_FINGERPRINT, stored.get(attrs.DATA_FINGERPRINT)):
        searched = f"{stored.get(attrs.DATA_NAME, 'its data')} from {stored.get(attrs.DATA_SOURCE, 'elsewhere')}"
        raise TuneError(
            f"study {name!r} searched {searched} (fingerprint {stored.get(attrs.DATA_FINGERPRINT)}), but this run "
            f"reads {identity.get(attrs.DATA_NAME)} from {identity.get(attrs.DATA_SOURCE)} (fingerprint "
            f"{identity[attrs.DATA_FINGERPRINT]}); resume it on the same --data or use a new --study name"
        )
    for key in attrs.IDENTITY:
        if key in identity and stored.get(key) != identity[key]:
            raise TuneError(
                f"study {name!r} was created with {key}={stored.get(key)!r}, but this run has "
                f"{key}={identity[key]!r}; resume it with the same settings or use a new --study name"
            )


def _check_engine(config: RunConfig, stored: dict[str, Any]) -> None:
    """A study's trials come from one engine (and its choices): refuse a run with another."""
    engine = get_engine(config.engine)
    searched, asked = stored_engine(stored).label(stored), engine.label(engine.study_attrs(config))
    if searched != asked:
        raise TuneError(
            f"study {config.study_name!r} was searched with engine {searched}, but this run asks "
            f"for {asked}; resume it with the same --engine and --kt-oracle or use a new --study name"
        )
    engine.check_resume(config, stored)


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
