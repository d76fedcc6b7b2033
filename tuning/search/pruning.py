"""The one coupling between Keras and Optuna: report validation accuracy at each check, prune.

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
    """Report validation accuracy to the trial after every check and, with `prune`, ask the study's pruner.

    A check is a Keras epoch: a pass over the training images or, with several
    checks per epoch, part of one (model/train.py `fit`). Steps count from
    `first_step` + 1 (a trial that goes on from a parent's checks continues its steps).
    Unlike optuna-integration's KerasPruningCallback it never prunes after the last
    check: a fully trained trial keeps its value.
    """

    def __init__(
        self,
        trial: optuna.Trial,
        recorder: EpochRecorder,
        *,
        first_step: int = 0,
        prune: bool = True,
        monitor: str = VAL_ACCURACY,
    ) -> None:
        super().__init__()
        self._trial = trial
        self._recorder = recorder  # knows how many checks make an epoch
        self._first_step = first_step
        self._prune = prune
        self._monitor = monitor

    def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        value = (logs or {}).get(self._monitor)
        if value is None or not math.isfinite(float(value)):
            return
        self._trial.report(float(value), self._first_step + epoch + 1)
        last = epoch + 1 >= self.params["epochs"]
        if self._prune and not last and self._trial.should_prune():
            raise optuna.TrialPruned(f"pruned after epoch {self._recorder.epochs_at(epoch + 1):g}")
