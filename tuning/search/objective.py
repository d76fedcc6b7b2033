"""The Optuna objective: one trial is one real Keras training run, pruned epoch by epoch."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from tuning.errors import TrialFailed

if TYPE_CHECKING:
    import optuna

    from tuning.data.splits import Split
    from tuning.model.callbacks import EpochRecorder
    from tuning.search.space import SearchSpace

__all__ = ["TrialSetup", "make_objective", "trial_seed"]

# Called after each epoch with (trial number, epoch from 1, that epoch's logs).
TrialEpochHook = Callable[[int, int, dict[str, float]], None]


@dataclass(frozen=True)
class TrialSetup:
    """Everything a trial needs besides the sampled parameters."""

    arch: str
    space: SearchSpace
    split: Split
    epochs: int
    seed: int  # the study's seed; each trial derives its own from it
    steps_per_execution: int
    precision: str  # a key of models.PRECISIONS; recorded on each trial
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
    import keras
    import optuna
    import tensorflow as tf

    from tuning.model.builders import build_model
    from tuning.model.callbacks import EpochRecorder, PruningCallback
    from tuning.model.params import resolve_params
    from tuning.model.train import fit
    from tuning.search.space import suggest

    keras.backend.clear_session()
    seed = trial_seed(setup.seed, trial.number)
    keras.utils.set_random_seed(seed)
    params = resolve_params(setup.arch, suggest(trial, setup.space))
    model = build_model(setup.arch, params, precision=setup.precision)
    _set_attrs(
        trial,
        {
            "arch": setup.arch,
            "seed": seed,
            "n_params": model.count_params(),
            "precision": setup.precision,
            "train_samples": len(setup.split.y_train),
            **setup.data_attrs,
        },
    )
    hook = None if on_epoch is None else (lambda epoch, logs: on_epoch(trial.number, epoch, logs))
    recorder = EpochRecorder(hook)
    try:
        result = fit(
            model,
            params,
            setup.split,
            epochs=setup.epochs,
            recorder=recorder,
            callbacks=[PruningCallback(trial, setup.epochs)],
            steps_per_execution=setup.steps_per_execution,
        )
    except optuna.TrialPruned:
        _record_epochs(trial, recorder)
        raise
    except TrialFailed as exc:
        _fail(trial, recorder, str(exc))
        raise
    except tf.errors.ResourceExhaustedError as exc:
        _fail(trial, recorder, f"out of memory: {exc.message.splitlines()[0]}")
        raise TrialFailed(f"out of memory ({model.count_params()} parameters)") from None
    except KeyboardInterrupt:
        _fail(trial, recorder, "interrupted")
        raise
    _record_epochs(trial, recorder)
    trial.set_user_attr("best_epoch", result.best_epoch)
    return result.best_val_accuracy


def _fail(trial: optuna.Trial, recorder: EpochRecorder, reason: str) -> None:
    _record_epochs(trial, recorder)
    trial.set_user_attr("fail_reason", reason)


def _record_epochs(trial: optuna.Trial, recorder: EpochRecorder) -> None:
    scores = recorder.history.get("val_accuracy", [])
    _set_attrs(
        trial,
        {
            "epochs_run": len(recorder.epoch_seconds),
            "epoch_seconds": [round(s, 3) for s in recorder.epoch_seconds],
            "val_accuracy_per_epoch": [round(s, 5) for s in scores],
            "train_accuracy_per_epoch": [round(s, 5) for s in recorder.history.get("accuracy", [])],
        },
    )


def _set_attrs(trial: optuna.Trial, attrs: dict[str, Any]) -> None:
    for key, value in attrs.items():
        trial.set_user_attr(key, value)
