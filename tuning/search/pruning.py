"""The one coupling between Keras and Optuna: report validation accuracy each epoch, prune.

Imports Keras and Optuna: import this module lazily.
"""

from __future__ import annotations

import math
from typing import Any

import keras
import optuna

__all__ = ["PruningCallback"]


class PruningCallback(keras.callbacks.Callback):
    """Report validation accuracy to the trial after every epoch (steps count from 1) and prune.

    Unlike optuna-integration's KerasPruningCallback it never prunes after the
    last epoch: a fully trained trial keeps its value.
    """

    def __init__(self, trial: optuna.Trial, epochs: int, monitor: str = "val_accuracy") -> None:
        super().__init__()
        self._trial = trial
        self._epochs = epochs
        self._monitor = monitor

    def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        value = (logs or {}).get(self._monitor)
        if value is None or not math.isfinite(float(value)):
            return
        step = epoch + 1
        self._trial.report(float(value), step)
        if step < self._epochs and self._trial.should_prune():
            raise optuna.TrialPruned(f"pruned after epoch {step}")
