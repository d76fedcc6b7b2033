"""The KerasTuner engine: one of KerasTuner's oracles proposes each configuration; tune trains and records it.

The trials are Optuna trials of the same study, recorded live (search/kt_engine.py, which
imports KerasTuner and Keras). The oracle keeps its state in a folder beside the storage;
one process per study.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import fields
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tuning import attrs
from tuning.errors import SettingError, TuneError, check_choice

if TYPE_CHECKING:
    import optuna

    from tuning.model.train import RunEpochHook
    from tuning.search.config import RunConfig
    from tuning.search.runner import PreparedRun
    from tuning.search.space import SearchSpace
    from tuning.search.worker import TrialCallback, TrialSource

__all__ = ["NAME", "ORACLES", "SUMMARY", "state_folder"]

NAME = "keras-tuner"
SUMMARY = "keras-tuner: KerasTuner's oracle (--kt-oracle) proposes; tune trains and records each trial."
ORACLES = ("hyperband", "bayesian", "random")
# Settings of the optuna engine: with this one each must keep its default.
_NOT_USED = ("sampler", "startup_trials", "pruner", "bootstrap_count", "cost_limit", "defaults_first")


def state_dir(storage: str, study: str) -> Path | None:
    return state_folder(storage, study)


def state_folder(storage: str, study: str) -> Path:
    """Where KerasTuner keeps a study's state (oracle, trials, weights): `<file stem>.keras-tuner/<study>` beside
    a SQLite file, else `keras-tuner/<study>` in the current folder."""
    from tuning.search.storage import check_url, sqlite_path

    database = sqlite_path(check_url(storage))
    base = Path("keras-tuner") if database is None else database.with_name(f"{database.stem}.keras-tuner")
    return base / study


def check_config(config: RunConfig) -> None:
    check_choice("KerasTuner oracle", config.kt_oracle, ORACLES)
    defaults = {f.name: f.default for f in fields(config)}
    unused = [*_NOT_USED, *(() if config.kt_oracle == "hyperband" else ("reduction_factor",))]
    for name in unused:
        if getattr(config, name) != defaults[name]:
            reason = f"does not apply to the keras-tuner engine ({config.kt_oracle} oracle)"
            raise SettingError(name, reason, getattr(config, name))
    if config.jobs != 1:
        raise SettingError("jobs", "must be 1 with the keras-tuner engine (one process per study)", config.jobs)


def check_space(space: SearchSpace) -> None:
    from tuning.search.kt_space import check_kt_space

    check_kt_space(space)


def study_attrs(config: RunConfig) -> dict[str, Any]:
    return {attrs.ENGINE: NAME, attrs.KT_ORACLE: config.kt_oracle}


def check_resume(config: RunConfig, stored: dict[str, Any]) -> None:
    """KerasTuner's Hyperband plans its brackets on --epochs and --reduction-factor: they must stay."""
    if config.kt_oracle != "hyperband":
        return
    kept = {"epochs": stored.get(attrs.EPOCHS), **stored.get(attrs.RUN_SETTINGS, {})}
    for name in ("epochs", "reduction_factor"):
        if name in kept and kept[name] != getattr(config, name):
            reason = f"must stay {kept[name]} on study {config.study_name!r} (KerasTuner's Hyperband brackets)"
            raise SettingError(name, reason, getattr(config, name))


def sampler(config: RunConfig, seed: int | None) -> optuna.samplers.BaseSampler:
    """The oracle chooses; Optuna's sampler only records the chosen values (random: cheap)."""
    import optuna

    return optuna.samplers.RandomSampler(seed=seed)


def pruner(config: RunConfig, checks_per_epoch: int) -> optuna.pruners.BasePruner:
    """Never consulted: the oracle decides how long each trial trains."""
    import optuna

    return optuna.pruners.NopPruner()


def start_params(config: RunConfig, space: SearchSpace) -> dict[str, Any] | None:
    """None: the oracle proposes every trial itself (and cannot run a queued one)."""
    return None


def expected_epochs(config: RunConfig, checks_per_epoch: int) -> float:
    from tuning.search.rungs import expected_epochs

    pruner = "hyperband" if config.kt_oracle == "hyperband" else "none"
    return expected_epochs(pruner, config.epochs, config.reduction_factor, checks_per_epoch)


def describe(config: RunConfig) -> str:
    return f" proposed by KerasTuner's {config.kt_oracle} oracle"


def label(stored: dict[str, Any]) -> str:
    return f"{NAME} ({stored.get(attrs.KT_ORACLE)})"


def chooser(stored: dict[str, Any]) -> tuple[str, str]:
    return str(stored.get(attrs.KT_ORACLE)), "(oracle)"


def run(run: PreparedRun, *, callbacks: Sequence[TrialCallback] = (), on_epoch: RunEpochHook | None = None) -> int:
    """KerasTuner's trials in tune's worker loop (search/kt_engine.py), in this process."""
    from tuning.search.worker import run_trials

    queued = _queued_by_hand(run.study)
    if queued:
        raise TuneError(
            f"study {run.config.study_name!r} holds {queued} queued trial(s) (tune enqueue), which KerasTuner's "
            "oracle cannot run; delete them with tune delete or search this study with --engine optuna"
        )

    def source() -> TrialSource:  # imports Keras: after run_trials has set up TensorFlow
        from tuning.search.kt_engine import kt_trials

        return kt_trials(run, state_folder(run.config.storage, run.config.study_name), on_epoch)

    return run_trials(run, source, callbacks=callbacks)


def _queued_by_hand(study: optuna.Study) -> int:
    """Queued trials that are not the retry of a killed run's trial (which KerasTuner proposes again)."""
    import optuna
    from optuna.trial import TrialState

    waiting = study.get_trials(deepcopy=False, states=(TrialState.WAITING,))
    with warnings.catch_warnings():  # retried_trial_number is marked experimental
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        retried = optuna.storages.RetryHeartbeatStaleTrialCallback.retried_trial_number
        return sum(retried(trial) is None for trial in waiting)
