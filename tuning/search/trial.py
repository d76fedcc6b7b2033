"""One trial, whichever engine proposed it: build, train with a reporter at every check, record, note.

The model is built from the trial's parameters and trained with the reporter at every
check; what it trained is recorded on the Optuna trial, with its dashboard note and artifacts.

The engine decides the parameters and how long the trial may train (`TrialPlan`); the
study's pruner (through the engine's plan) is the only other decision inside it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from tuning import attrs
from tuning.attrs import set_attrs
from tuning.errors import TrialFailed
from tuning.model.train import RunEpochHook

if TYPE_CHECKING:
    import keras
    import optuna

    from tuning.data.dataset import DataShape
    from tuning.data.splits import Split
    from tuning.model.callbacks import EpochRecorder
    from tuning.model.train import TrainResult
    from tuning.search.space import SearchSpace

__all__ = [
    "TrialOutcome",
    "TrialPlan",
    "TrialSetup",
    "failure_reason",
    "publish_trial",
    "record_training",
    "run_trial",
    "trial_attrs",
    "trial_seed",
]

_REASON_LENGTH = 500  # a failure's reason as stored: its first characters


@dataclass(frozen=True)
class TrialSetup:
    """Everything a trial needs besides its parameters: the same for every trial of a run."""

    arch: str
    space: SearchSpace
    split: Split
    shape: DataShape  # the dataset's image shape and class count: what the model is built for
    epochs: int
    checks_per_epoch: int  # validations, and chances to prune, per pass over the training images
    seed: int  # the study's seed; each trial derives its own from it
    steps_per_execution: int
    precision: str  # a key of model.builders.PRECISIONS; recorded on each trial
    data_attrs: dict[str, Any]  # data source and fingerprint, stored on every trial
    artifact_dir: str | None = None  # where trials store dashboard artifacts (search/artifacts.py); None: nowhere


@dataclass(frozen=True)
class TrialPlan:
    """What the engine decided for one trial."""

    params: dict[str, Any]  # as sampled (the architecture's defaults fill the rest)
    epochs: int  # the epoch it trains to; fewer than the run's epochs: stopped there by the engine
    initial_epoch: int = 0  # epochs a parent trial trained already (KerasTuner's Hyperband): checks go on after them
    prune: bool = True  # ask the study's pruner after each check
    attrs: dict[str, Any] = field(default_factory=dict)  # the engine's own attributes, stored on the trial
    callbacks: Sequence[keras.callbacks.Callback] = ()  # the engine's own, e.g. a parent's weights
    stopped: str = ""  # why the engine gives it fewer epochs than the run's (its note says so)


@dataclass(frozen=True)
class TrialOutcome:
    """A trial that trained to its plan's epochs: complete if those are the run's epochs, else stopped there."""

    complete: bool
    result: TrainResult


def trial_seed(study_seed: int, number: int) -> int:
    """A distinct, reproducible seed for trial `number` of a study."""
    return (study_seed * 1_000_003 + number) % 2**31


def run_trial(
    trial: optuna.Trial, setup: TrialSetup, plan: TrialPlan, on_epoch: RunEpochHook | None = None
) -> TrialOutcome:
    """Train the trial as planned and record it; optuna.TrialPruned, TrialFailed and interrupts are
    recorded (curve, reason, note) before they propagate."""
    import optuna

    from tuning.model.callbacks import EpochRecorder
    from tuning.model.params import resolve_params
    from tuning.model.train import train_model
    from tuning.search.pruning import PruningCallback

    seed = trial_seed(setup.seed, trial.number)
    set_attrs(trial, {**trial_attrs(setup, seed), **plan.attrs})
    start = plan.initial_epoch
    hook = None if on_epoch is None else (lambda epoch, logs: on_epoch(trial.number, start + epoch, logs))
    recorder = EpochRecorder(hook)
    reporter = PruningCallback(trial, recorder, first_step=start * setup.checks_per_epoch, prune=plan.prune)
    try:
        _, result = train_model(
            setup.arch,
            resolve_params(setup.arch, plan.params),
            setup.split,
            shape=setup.shape,
            seed=seed,
            epochs=plan.epochs - start,
            recorder=recorder,
            precision=setup.precision,
            callbacks=[reporter, *plan.callbacks],
            steps_per_execution=setup.steps_per_execution,
            checks_per_epoch=setup.checks_per_epoch,
        )
    except optuna.TrialPruned:
        record_training(trial, recorder)
        publish_trial(trial, setup, recorder, "pruned", str(trial.user_attrs.get(attrs.COSTLY, "")))
        raise
    except TrialFailed as exc:
        _failed(trial, setup, recorder, str(exc))
        raise
    except BaseException as exc:  # interrupts, and bugs: record, then let them through
        _failed(trial, setup, recorder, failure_reason(exc))
        raise
    complete = plan.epochs >= setup.epochs
    record_training(trial, recorder, {attrs.BEST_EPOCH: start + result.best_epoch} if complete else {})
    publish_trial(trial, setup, recorder, "complete" if complete else "pruned", "" if complete else plan.stopped)
    return TrialOutcome(complete, result)


def failure_reason(exc: BaseException) -> str:
    """What a trial's record says ended it: "interrupted" (Ctrl-C, SIGTERM), else the exception, shortened."""
    if isinstance(exc, KeyboardInterrupt):
        return "interrupted"
    return f"{type(exc).__name__}: {exc}"[:_REASON_LENGTH]


def _failed(trial: optuna.Trial, setup: TrialSetup, recorder: EpochRecorder, reason: str) -> None:
    record_training(trial, recorder, {attrs.FAIL_REASON: reason})
    publish_trial(trial, setup, recorder, "failed", reason)


def publish_trial(
    trial: optuna.Trial, setup: TrialSetup, recorder: EpochRecorder, state: str, reason: str = ""
) -> None:
    """The trial's dashboard note and artifacts, stored while it still runs; a failure to store never fails it.

    `state` is complete, pruned or failed; `reason` says why it failed (or, for a pruned
    trial, what stopped it where the study's pruner does not say).
    """
    from tuning.search.artifacts import upload_trial_artifacts
    from tuning.search.notes import TrialEnding, save_trial_note

    save_trial_note(trial, TrialEnding(state, reason or None))
    # On Ctrl-C the PNG's Chromium got the signal too, and the user wants out: CSV and summary only.
    upload_trial_artifacts(trial, setup.artifact_dir, recorder.model, png=reason != "interrupted")


def trial_attrs(setup: TrialSetup, seed: int) -> dict[str, Any]:
    """What a trial trains with, stored on it before it starts (whichever engine chose its parameters)."""
    return {
        attrs.ARCH: setup.arch,
        attrs.SEED: seed,
        attrs.PRECISION: setup.precision,
        attrs.TRAIN_SAMPLES: len(setup.split.y_train),
        attrs.VALIDATION_SAMPLES: len(setup.split.y_val),
        attrs.EPOCHS: setup.epochs,
        attrs.STEPS_PER_EXECUTION: setup.steps_per_execution,
        **setup.data_attrs,
    }


def record_training(trial: optuna.Trial, recorder: EpochRecorder, extra: dict[str, Any] | None = None) -> None:
    """What the trial trained, however it ended: per check, and in epochs."""
    from tuning.model.train import VAL_ACCURACY

    history = recorder.history
    set_attrs(
        trial,
        {
            attrs.N_PARAMS: recorder.n_params,
            attrs.CHECKS_PER_EPOCH: recorder.checks_per_epoch,
            attrs.EPOCHS_RUN: recorder.epochs_at(len(recorder.epoch_seconds)),
            attrs.CHECK_SECONDS: [round(s, 3) for s in recorder.epoch_seconds],
            attrs.VAL_ACCURACY_PER_CHECK: [round(s, 5) for s in history.get(VAL_ACCURACY, [])],
            attrs.TRAIN_ACCURACY_PER_CHECK: [round(s, 5) for s in history.get("accuracy", [])],
            attrs.VAL_LOSS_PER_CHECK: [round(s, 5) for s in history.get("val_loss", [])],
            attrs.TRAIN_LOSS_PER_CHECK: [round(s, 5) for s in history.get("loss", [])],
            **(extra or {}),
        },
    )
