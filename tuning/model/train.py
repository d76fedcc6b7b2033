"""Training one model: a fresh seeded session, the built model, compiled from its parameters, fitted on a split.

A search trial and a retrain both train through `train_model`."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from tuning.errors import TrialFailed, first_line

if TYPE_CHECKING:
    import keras
    import numpy as np
    import tensorflow as tf

    from tuning.data.dataset import DataShape
    from tuning.data.splits import Split
    from tuning.model.callbacks import EpochRecorder

__all__ = [
    "DEFAULT_STEPS_PER_EXECUTION",
    "VAL_ACCURACY",
    "CheckPlan",
    "RunEpochHook",
    "TrainResult",
    "batched",
    "check_plan",
    "compile_model",
    "fit",
    "train_model",
]

# Called after each check with (which run: a trial's number or a retrain's run index, epochs trained
# so far, e.g. 0.25 or 1, that check's logs): how the CLI shows progress.
RunEpochHook = Callable[[int, float, dict[str, float]], None]
# Keras' name for the validation accuracy in a check's logs (models compile the "accuracy" metric):
# the objective of every study, its metric name, what pruners and early stopping watch.
VAL_ACCURACY = "val_accuracy"
# Batches run per call into the TF graph; chosen with bench/epoch_speed.py (README, "Speed").
DEFAULT_STEPS_PER_EXECUTION = 32
# Validation images per batch: larger than training batches (no gradients to hold); same accuracy, fewer calls.
VALIDATION_BATCH_SIZE = 500


@dataclass(frozen=True)
class TrainResult:
    """What one training run produced, epoch by epoch."""

    history: dict[str, list[float]]  # per check (per epoch when checks_per_epoch is 1)
    epoch_seconds: list[float]  # per check, validation included
    checks_per_epoch: int = 1  # validations per pass over the training images (see `fit`)

    @property
    def best_check(self) -> int:
        """The check (from 1) with the highest validation accuracy; 0 without validation."""
        scores = self.history.get(VAL_ACCURACY, [])
        return max(range(len(scores)), key=scores.__getitem__) + 1 if scores else 0

    @property
    def best_epoch(self) -> int:
        """The epoch (from 1) in which the best check fell: train this many epochs to get there."""
        return math.ceil(self.best_check / self.checks_per_epoch)

    @property
    def best_val_accuracy(self) -> float:
        scores = self.history.get(VAL_ACCURACY, [])
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
    checks_per_epoch: int = 1,
) -> TrainResult:
    """Train for up to `epochs`, validating `checks_per_epoch` times per epoch; raise TrialFailed on a NaN loss.

    A check validates on the whole validation split after a further part of
    the epoch's shuffled pass (a quarter with 4 checks): Keras epochs become
    checks. Each pass still sees every image once, and the learning-rate
    schedule runs over the real number of batches. See `check_plan`.
    A split with no validation images trains without validating (retraining on
    all training images); the history then has no ``val_*`` entries.
    `recorder` runs first so that its record is complete even when a later
    callback (the pruner) stops training by raising.
    """
    batches = math.ceil(len(split.y_train) / params["batch_size"])
    plan = check_plan(batches, checks_per_epoch, steps_per_execution)
    compile_model(model, params, steps_per_execution=plan.steps_per_execution, total_steps=epochs * batches)
    recorder.checks_per_epoch = plan.checks_per_epoch
    validation = None
    if len(split.y_val):
        validation = batched(split.x_val, split.y_val, max(params["batch_size"], VALIDATION_BATCH_SIZE), shuffle=False)
    model.fit(
        batched(split.x_train, split.y_train, params["batch_size"], shuffle=True),
        epochs=epochs * plan.checks_per_epoch,
        steps_per_epoch=plan.steps_per_check,
        validation_data=validation,
        callbacks=[recorder, *callbacks],
        shuffle=False,  # `batched` shuffles each pass itself
        verbose=0,
    )
    if recorder.nan_epoch is not None:
        raise TrialFailed(f"loss became NaN at epoch {recorder.nan_epoch:g}")
    return TrainResult(
        history=recorder.history, epoch_seconds=recorder.epoch_seconds, checks_per_epoch=plan.checks_per_epoch
    )


def batched(x: np.ndarray, y: np.ndarray, batch_size: int, *, shuffle: bool) -> tf.data.Dataset:
    """One pass over `x, y` in batches (the last one partial), in a new random order each pass with `shuffle`.

    What Keras makes of NumPy arrays, less tf.data's autotuning: an autotuned iterator
    keeps a thread that sleeps between tuning rounds (up to a minute), and releasing the
    iterator waits for it to wake. Keras releases one at every pass and validation,
    and a pruned trial's mid-pass one as it stops: on 2026-12-02 that idled a 50-trial
    cnn study for minutes (process at 0% CPU in `~IteratorResource`). The slices are
    taken from the whole arrays by index (no copy per batch, none captured in the graph).
    """
    import tensorflow as tf

    count = len(y)
    order = tf.data.Dataset.range(count)
    if shuffle:
        order = order.shuffle(count, reshuffle_each_iteration=True)
    arrays = tf.data.Dataset.from_tensors((tf.convert_to_tensor(x), tf.convert_to_tensor(y))).repeat()
    dataset = tf.data.Dataset.zip(order.batch(batch_size), arrays).map(
        lambda index, data: (tf.gather(data[0], index), tf.gather(data[1], index))
    )
    options = tf.data.Options()
    options.autotune.enabled = False
    return dataset.prefetch(2).with_options(options)


@dataclass(frozen=True)
class CheckPlan:
    """How Keras is asked to split each pass over the training images into checks."""

    checks_per_epoch: int  # what the pass really splits into (fewer than asked on tiny data)
    steps_per_check: int | None  # Keras' steps_per_epoch; None: one check per pass
    steps_per_execution: int


def check_plan(batches: int, checks_per_epoch: int, steps_per_execution: int) -> CheckPlan:
    """Split a pass of `batches` batches into `checks_per_epoch` parts as equal as whole executions allow.

    Keras, given ``steps_per_epoch``, continues the same shuffled pass from one
    "epoch" to the next and starts a new pass only when the data runs out, so
    a pass splits into ceil(batches / steps_per_check) checks, the last one
    shorter. A check is a whole number of executions, so checks stay aligned;
    the execution (at most `steps_per_execution` batches per graph call) is the
    size that makes a check closest to an equal part: 391 batches in 4 checks
    are 100 + 100 + 100 + 91 (executions of 25), not 128 + 128 + 128 + 7, so
    "epoch 0.25" means a quarter of the images.
    """
    if checks_per_epoch <= 1 or batches <= 1:
        return CheckPlan(1, None, steps_per_execution)
    part = math.ceil(batches / checks_per_epoch)
    executions = math.ceil(part / steps_per_execution)  # per check
    execution = math.ceil(part / executions)
    per_check = execution * executions
    return CheckPlan(math.ceil(batches / per_check), per_check, execution)


def train_model(
    arch: str,
    params: dict[str, Any],
    split: Split,
    *,
    shape: DataShape,
    seed: int,
    epochs: int,
    recorder: EpochRecorder,
    precision: str = "float32",
    callbacks: Sequence[keras.callbacks.Callback] = (),
    steps_per_execution: int = DEFAULT_STEPS_PER_EXECUTION,
    checks_per_epoch: int = 1,
) -> tuple[keras.Model, TrainResult]:
    """Clear the Keras session, seed, build the `arch` model from `params` for data of `shape`, and fit it.

    Raises TrialFailed on a NaN loss or when TensorFlow runs out of memory;
    `recorder` keeps what was trained (model size, epochs) whatever ends the run.
    """
    import keras
    import tensorflow as tf

    from tuning.model.builders import build_model
    from tuning.signals import interrupt_received

    keras.backend.clear_session()
    keras.utils.set_random_seed(seed)
    model = build_model(arch, params, shape, precision=precision)
    try:
        result = fit(
            model,
            params,
            split,
            epochs=epochs,
            recorder=recorder,
            callbacks=callbacks,
            steps_per_execution=steps_per_execution,
            checks_per_epoch=checks_per_epoch,
        )
    except tf.errors.ResourceExhaustedError as exc:
        raise TrialFailed(f"out of memory ({model.count_params()} parameters): {first_line(exc)}") from None
    except Exception as exc:
        interrupt = interrupt_received()  # a signal's exception that TensorFlow turned into another
        if interrupt is None:
            raise
        raise interrupt from exc
    return model, result
