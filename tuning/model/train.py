"""Training one model: a fresh seeded session, the built model, compiled from its parameters, fitted on a split.

A search trial and a retrain both train through `train_model`."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from tuning.errors import TrialFailed, first_line

if TYPE_CHECKING:
    import keras

    from tuning.data.splits import Split
    from tuning.model.callbacks import EpochRecorder

__all__ = ["DEFAULT_STEPS_PER_EXECUTION", "TrainResult", "compile_model", "fit", "train_model"]

# Batches run per call into the TF graph; chosen with bench/epoch_speed.py (README, "Speed").
DEFAULT_STEPS_PER_EXECUTION = 32


@dataclass(frozen=True)
class TrainResult:
    """What one training run produced, epoch by epoch."""

    history: dict[str, list[float]]
    epoch_seconds: list[float]

    @property
    def best_epoch(self) -> int:
        """The epoch (from 1) with the highest validation accuracy."""
        scores = self.history.get("val_accuracy", [])
        return max(range(len(scores)), key=scores.__getitem__) + 1 if scores else 0

    @property
    def best_val_accuracy(self) -> float:
        scores = self.history.get("val_accuracy", [])
        return max(scores) if scores else float("nan")


def compile_model(
    model: keras.Model, params: dict[str, Any], *, steps_per_execution: int, total_steps: int | None = None
) -> None:
    """Adam at the sampled learning rate, sparse cross-entropy, accuracy; no XLA (slower on CPU: README, "Speed").

    With ``lr_schedule = "cosine"`` the rate decays to 0 over `total_steps` batches
    (the whole run); without `total_steps` it stays constant.
    """
    import keras

    learning_rate: Any = params["learning_rate"]
    if params.get("lr_schedule", "constant") == "cosine" and total_steps:
        learning_rate = keras.optimizers.schedules.CosineDecay(learning_rate, decay_steps=total_steps)
    model.compile(
        optimizer=keras.optimizers.Adam(learning_rate=learning_rate),
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
        steps_per_execution=steps_per_execution,
        jit_compile=False,
    )


def fit(
    model: keras.Model,
    params: dict[str, Any],
    split: Split,
    *,
    epochs: int,
    recorder: EpochRecorder,
    callbacks: Sequence[keras.callbacks.Callback] = (),
    steps_per_execution: int = DEFAULT_STEPS_PER_EXECUTION,
) -> TrainResult:
    """Train for up to `epochs`, validating after each; raise TrialFailed on a NaN loss.

    A split with no validation images trains without validating (retraining on
    all training images); the history then has no ``val_*`` entries.
    `recorder` runs first so that its record is complete even when a later
    callback (the pruner) stops training by raising.
    """
    steps_per_epoch = math.ceil(len(split.y_train) / params["batch_size"])
    compile_model(model, params, steps_per_execution=steps_per_execution, total_steps=epochs * steps_per_epoch)
    model.fit(
        split.x_train,
        split.y_train,
        batch_size=params["batch_size"],
        epochs=epochs,
        validation_data=(split.x_val, split.y_val) if len(split.y_val) else None,
        callbacks=[recorder, *callbacks],
        shuffle=True,
        verbose=0,
    )
    if recorder.nan_epoch is not None:
        raise TrialFailed(f"loss became NaN at epoch {recorder.nan_epoch}")
    return TrainResult(history=recorder.history, epoch_seconds=recorder.epoch_seconds)


def train_model(
    arch: str,
    params: dict[str, Any],
    split: Split,
    *,
    seed: int,
    epochs: int,
    recorder: EpochRecorder,
    precision: str = "float32",
    callbacks: Sequence[keras.callbacks.Callback] = (),
    steps_per_execution: int = DEFAULT_STEPS_PER_EXECUTION,
) -> tuple[keras.Model, TrainResult]:
    """Clear the Keras session, seed, build the `arch` model from `params`, and fit it.

    Raises TrialFailed on a NaN loss or when TensorFlow runs out of memory;
    `recorder` keeps what was trained (model size, epochs) whatever ends the run.
    """
    import keras
    import tensorflow as tf

    from tuning.model.builders import build_model
    from tuning.signals import interrupt_received

    keras.backend.clear_session()
    keras.utils.set_random_seed(seed)
    model = build_model(arch, params, precision=precision)
    try:
        result = fit(
            model,
            params,
            split,
            epochs=epochs,
            recorder=recorder,
            callbacks=callbacks,
            steps_per_execution=steps_per_execution,
        )
    except tf.errors.ResourceExhaustedError as exc:
        raise TrialFailed(f"out of memory ({model.count_params()} parameters): {first_line(exc)}") from None
    except Exception as exc:
        interrupt = interrupt_received()  # a signal's exception that TensorFlow turned into another
        if interrupt is None:
            raise
        raise interrupt from exc
    return model, result
