"""The one coupling between Keras and Optuna: report validation accuracy each epoch, prune.

Imports Keras and Optuna: import this module lazily.
"""

from __future__ import annotations

import math
from typing import Any

import keras
import optuna

from tuning.model.callbacks import EpochRecorder
from tuning.model.train import VAL_ACCURACY

__all__ = ["PruningCallback"]


class PruningCallback(keras.callbacks.Callback):
    """Report validation accuracy to the trial after every check (steps count from 1) and prune.

    A check is a Keras epoch: a pass over the training images or, with several
    checks per epoch, part of one (model/train.py `fit`). Unlike
    optuna-integration's KerasPruningCallback it never prunes after the last
    check: a fully trained trial keeps its value.
    """

    def __init__(self, trial: optuna.Trial, recorder: EpochRecorder, monitor: str = VAL_ACCURACY) -> None:
        super().__init__()
        self._trial = trial
        self._recorder = recorder  # knows how many checks make an epoch
        self._monitor = monitor

    def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        value = (logs or {}).get(self._monitor)
        if value is None or not math.isfinite(float(value)):
            return
        step = epoch + 1
        self._trial.report(float(value), step)
        if step < self.params["epochs"] and self._trial.should_prune():
            raise optuna.TrialPruned(f"pruned after epoch {self._recorder.epochs_at(step):g}")
