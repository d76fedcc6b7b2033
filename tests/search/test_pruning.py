"""tune's PruningCallback, driven through its Keras hooks with a real Optuna study and pruner (no training)."""

from __future__ import annotations

import math

import optuna
import pytest

from tuning.model.callbacks import EpochRecorder
from tuning.search.pruning import PruningCallback

optuna.logging.set_verbosity(optuna.logging.WARNING)


def _callback(epochs: int, **options: object) -> tuple[optuna.Study, PruningCallback]:
    """A callback on a fresh trial whose pruner wants every check stopped (all values are below 1.1)."""
    study = optuna.create_study(direction="maximize", pruner=optuna.pruners.ThresholdPruner(lower=1.1))
    recorder = EpochRecorder()
    recorder.checks_per_epoch = 2
    callback = PruningCallback(study.ask(), recorder, **options)  # type: ignore[arg-type]
    callback.set_params({"epochs": epochs})  # as Keras' fit does
    return study, callback


def _reported(study: optuna.Study) -> dict[int, float]:
    return study.get_trials(deepcopy=False)[0].intermediate_values


def test_a_check_before_the_last_is_reported_and_pruned() -> None:
    study, callback = _callback(epochs=3)
    with pytest.raises(optuna.TrialPruned, match=r"pruned after epoch 0\.5"):
        callback.on_epoch_end(0, {"val_accuracy": 0.5})
    assert _reported(study) == {1: 0.5}


def test_the_last_check_is_reported_and_never_pruned() -> None:
    study, callback = _callback(epochs=3)
    callback.on_epoch_end(2, {"val_accuracy": 0.7})
    assert _reported(study) == {3: 0.7}


def test_without_pruning_steps_go_on_from_a_parents_checks() -> None:
    study, callback = _callback(epochs=3, first_step=4, prune=False)
    callback.on_epoch_end(0, {"val_accuracy": 0.5})
    callback.on_epoch_end(1, {"val_accuracy": 0.6})
    assert _reported(study) == {5: 0.5, 6: 0.6}


@pytest.mark.parametrize("logs", [{}, {"val_accuracy": math.nan}, {"accuracy": 0.9}])
def test_a_check_without_a_finite_validation_accuracy_is_neither_reported_nor_pruned(logs: dict) -> None:
    study, callback = _callback(epochs=3)
    callback.on_epoch_end(0, logs)
    assert _reported(study) == {}
