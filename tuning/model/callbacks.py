"""Keras callbacks used by the trainer. Imports Keras: import this module lazily."""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from typing import Any

import keras
import optuna

__all__ = ["EpochHook", "EpochRecorder", "PruningCallback"]

# Called after each epoch with (epoch number from 1, logs); the CLI uses it for progress.
EpochHook = Callable[[int, dict[str, float]], None]


class EpochRecorder(keras.callbacks.Callback):
    """Keep per-epoch metrics and seconds; stop training at the first non-finite loss."""

    def __init__(self, on_epoch: EpochHook | None = None) -> None:
        super().__init__()
        self.history: dict[str, list[float]] = {}
        self.epoch_seconds: list[float] = []
        self.nan_epoch: int | None = None
        self._on_epoch = on_epoch
        self._started = 0.0

    def on_epoch_begin(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        self._started = time.perf_counter()

    def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        self.epoch_seconds.append(time.perf_counter() - self._started)
        values = {key: float(value) for key, value in (logs or {}).items()}
        for key, value in values.items():
            self.history.setdefault(key, []).append(value)
        if not math.isfinite(values.get("loss", 0.0)):
            self.nan_epoch = epoch + 1
            self.model.stop_training = True
        if self._on_epoch is not None:
            self._on_epoch(epoch + 1, values)


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
