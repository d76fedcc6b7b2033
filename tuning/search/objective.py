"""The Optuna objective: one trial is one real Keras training run, pruned epoch by epoch."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from tuning import attrs
from tuning.attrs import set_attrs
from tuning.errors import TrialFailed

if TYPE_CHECKING:
    import optuna

    from tuning.data.splits import Split
    from tuning.model.callbacks import EpochRecorder
    from tuning.search.space import SearchSpace

__all__ = ["TrialSetup", "make_objective", "trial_seed"]

# Called after each check with (trial number, epochs trained so far, e.g. 0.25 or 1, that check's logs).
TrialEpochHook = Callable[[int, float, dict[str, float]], None]


@dataclass(frozen=True)
class TrialSetup:
    """Everything a trial needs besides the sampled parameters."""

    arch: str
    space: SearchSpace
    split: Split
    epochs: int
    checks_per_epoch: int  # validations, and chances to prune, per pass over the training images
    seed: int  # the study's seed; each trial derives its own from it
    steps_per_execution: int
    precision: str  # a key of model.builders.PRECISIONS; recorded on each trial
    data_attrs: dict[str, Any]  # data source and fingerprint, stored on every trial


def trial_seed(study_seed: int, number: int) -> int:
    """A distinct, reproducible seed for trial `number` of a study."""
    return (study_seed * 1_000_003 + number) % 2**31


def make_objective(setup: TrialSetup, on_epoch: TrialEpochHook | None = None) -> Callable[[optuna.Trial], float]:
    """The function `study.optimize` calls: sample, build, train, return best validation accuracy."""

    def objective(trial: optuna.Trial) -> float:
        return _run_trial(trial, setup, on_epoch)

    return objective


def _run_trial(trial: optuna.Trial, setup: TrialSetup, on_epoch: TrialEpochHook | None) -> float:
    import optuna

    from tuning.model.callbacks import EpochRecorder
    from tuning.model.params import resolve_params
    from tuning.model.train import train_model
    from tuning.search.pruning import PruningCallback
    from tuning.search.space import suggest

    seed = trial_seed(setup.seed, trial.number)
    params = resolve_params(setup.arch, suggest(trial, setup.space))
    set_attrs(
        trial,
        {
            attrs.ARCH: setup.arch,
            attrs.SEED: seed,
            attrs.PRECISION: setup.precision,
            attrs.TRAIN_SAMPLES: len(setup.split.y_train),
            attrs.VALIDATION_SAMPLES: len(setup.split.y_val),
            attrs.EPOCHS: setup.epochs,
            attrs.STEPS_PER_EXECUTION: setup.steps_per_execution,
            **setup.data_attrs,
        },
    )
    hook = None if on_epoch is None else (lambda epoch, logs: on_epoch(trial.number, epoch, logs))
    recorder = EpochRecorder(hook)
    try:
        _, result = train_model(
            setup.arch,
            params,
            setup.split,
            seed=seed,
            epochs=setup.epochs,
            recorder=recorder,
            precision=setup.precision,
            callbacks=[PruningCallback(trial, recorder)],
            steps_per_execution=setup.steps_per_execution,
            checks_per_epoch=setup.checks_per_epoch,
        )
    except optuna.TrialPruned:
        _record(trial, recorder)
        raise
    except TrialFailed as exc:
        _record(trial, recorder, {attrs.FAIL_REASON: str(exc)})
        raise
    except KeyboardInterrupt:
        _record(trial, recorder, {attrs.FAIL_REASON: "interrupted"})
        raise
    _record(trial, recorder, {attrs.BEST_EPOCH: result.best_epoch})
    return result.best_val_accuracy


def _record(trial: optuna.Trial, recorder: EpochRecorder, extra: dict[str, Any] | None = None) -> None:
    """What the trial trained, however it ended: per check, and in epochs."""
    history = recorder.history
    set_attrs(
        trial,
        {
            attrs.N_PARAMS: recorder.n_params,
            attrs.CHECKS_PER_EPOCH: recorder.checks_per_epoch,
            attrs.EPOCHS_RUN: recorder.epochs_at(len(recorder.epoch_seconds)),
            attrs.CHECK_SECONDS: [round(s, 3) for s in recorder.epoch_seconds],
            attrs.VAL_ACCURACY_PER_CHECK: [round(s, 5) for s in history.get("val_accuracy", [])],
            attrs.TRAIN_ACCURACY_PER_CHECK: [round(s, 5) for s in history.get("accuracy", [])],
            attrs.VAL_LOSS_PER_CHECK: [round(s, 5) for s in history.get("val_loss", [])],
            attrs.TRAIN_LOSS_PER_CHECK: [round(s, 5) for s in history.get("loss", [])],
            **(extra or {}),
        },
    )
