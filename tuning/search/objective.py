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

__all__ = ["TrialSetup", "make_objective", "record_training", "trial_attrs", "trial_seed"]

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
    artifact_dir: str | None = None  # where trials store dashboard artifacts (search/artifacts.py); None: nowhere


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
    set_attrs(trial, trial_attrs(setup, seed))
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
        record_training(trial, recorder)
        publish_trial(trial, setup, recorder, "pruned")
        raise
    except TrialFailed as exc:
        record_training(trial, recorder, {attrs.FAIL_REASON: str(exc)})
        publish_trial(trial, setup, recorder, "failed", str(exc))
        raise
    except KeyboardInterrupt:
        record_training(trial, recorder, {attrs.FAIL_REASON: "interrupted"})
        publish_trial(trial, setup, recorder, "failed", "interrupted")
        raise
    record_training(trial, recorder, {attrs.BEST_EPOCH: result.best_epoch})
    publish_trial(trial, setup, recorder, "complete")
    return result.best_val_accuracy


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
