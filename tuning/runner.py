"""`tune run` without the terminal: prepare a study for a run, then run its trials."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from tuning.errors import TrialFailed

if TYPE_CHECKING:
    import optuna

    from tuning.config import RunConfig
    from tuning.objective import TrialEpochHook, TrialSetup

__all__ = ["PreparedRun", "prepare_run", "run_trials"]

logger = logging.getLogger(__name__)

TrialCallback = Callable[["optuna.Study", "optuna.trial.FrozenTrial"], None]


@dataclass(frozen=True)
class PreparedRun:
    """A study ready to run, and how many trials it still needs."""

    config: RunConfig
    study: optuna.Study
    setup: TrialSetup
    finished_before: int  # complete + pruned + failed trials already in the study

    @property
    def remaining(self) -> int:
        return max(self.config.trials - self.finished_before, 0)


def prepare_run(config: RunConfig) -> PreparedRun:
    """Check every input before touching the storage; then create or resume the study.

    Order matters: a bad space, URL or data file fails before a study exists.
    """
    from tuning.data import load_fashion_mnist
    from tuning.objective import TrialSetup
    from tuning.space import default_space_path, load_space
    from tuning.splits import train_validation_split
    from tuning.storage import check_url, open_storage
    from tuning.study import finished_count, open_run_study

    space = load_space(config.space_path or default_space_path(config.arch), config.arch)
    check_url(config.storage)
    data = load_fashion_mnist(config.data_dir)
    split_seed = config.seed if config.seed is not None else 0
    split = train_validation_split(
        data.x_train,
        data.y_train,
        validation_size=config.validation_size,
        max_train_samples=config.max_train_samples,
        seed=split_seed,
    )
    identity: dict[str, Any] = {
        "arch": config.arch,
        "space_hash": space.hash,
        "space": space.to_dict(),
        "data_fingerprint": data.fingerprint,
        "validation_size": config.validation_size,
        "max_train_samples": config.max_train_samples,
        "split_seed": split_seed,
    }
    study = open_run_study(config, open_storage(config.storage), identity)
    setup = TrialSetup(
        arch=config.arch,
        space=space,
        split=split,
        epochs=config.epochs,
        seed=int(study.user_attrs["seed"]),
        steps_per_execution=config.steps_per_execution,
        data_attrs={"data_source": data.source, "data_fingerprint": data.fingerprint},
    )
    return PreparedRun(config=config, study=study, setup=setup, finished_before=finished_count(study))


def run_trials(
    run: PreparedRun,
    *,
    callbacks: Sequence[TrialCallback] = (),
    on_epoch: TrialEpochHook | None = None,
    threads: int | None = None,
) -> None:
    """Run trials until the study has `config.trials` finished ones (or the timeout passes)."""
    from optuna.study import MaxTrialsCallback
    from optuna.trial import TrialState

    from tuning.objective import make_objective
    from tuning.tfenv import quiet_tensorflow

    if run.remaining == 0:
        return
    quiet_tensorflow(threads)
    total = MaxTrialsCallback(run.config.trials, states=(TrialState.COMPLETE, TrialState.PRUNED, TrialState.FAIL))
    run.study.optimize(
        make_objective(run.setup, on_epoch),
        n_trials=run.remaining,
        timeout=run.config.timeout,
        catch=(TrialFailed,),
        callbacks=[total, *callbacks],
        gc_after_trial=True,
    )
