"""The trainer's Keras callback. Imports Keras: import this module lazily."""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from typing import Any

import keras

__all__ = ["EpochHook", "EpochRecorder"]

# Called after each check with (epochs trained so far, e.g. 1 or 1.25, logs); the CLI uses it for progress.
EpochHook = Callable[[float, dict[str, float]], None]


class EpochRecorder(keras.callbacks.Callback):
    """Keep the model's size, per-check metrics and seconds; stop training at the first non-finite loss.

    A check is a Keras epoch: a whole pass over the training images, or a part
    of one when `fit` validates several times per pass (`checks_per_epoch`,
    which `fit` sets). Its record stays readable when training ends early
    (pruned, failed, interrupted).
    """

    def __init__(self, on_epoch: EpochHook | None = None) -> None:
        super().__init__()
        self.history: dict[str, list[float]] = {}
        self.epoch_seconds: list[float] = []
        self.nan_epoch: float | None = None  # epochs trained when the loss first was not finite
        self.checks_per_epoch = 1
        self.n_params: int | None = None
        self._on_epoch = on_epoch
        self._started = 0.0

    def on_train_begin(self, logs: dict[str, Any] | None = None) -> None:
        self.n_params = self.model.count_params()

    def on_epoch_begin(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        self._started = time.perf_counter()

    def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        self.epoch_seconds.append(time.perf_counter() - self._started)
        values = {key: float(value) for key, value in (logs or {}).items()}
        for key, value in values.items():
            self.history.setdefault(key, []).append(value)
        epochs = self.epochs_at(epoch + 1)
        if not math.isfinite(values.get("loss", 0.0)):
            self.nan_epoch = epochs
            self.model.stop_training = True
        if self._on_epoch is not None:
            self._on_epoch(epochs, values)

    def epochs_at(self, check: int) -> float:
        """Epochs trained after `check` checks: a whole number at the end of a pass."""
        epochs = check / self.checks_per_epoch
        return int(epochs) if epochs.is_integer() else round(epochs, 3)
