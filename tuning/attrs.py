"""Every attribute tune stores on an Optuna study or trial, named once.

Study attributes say what a study searches (a run may join it only if its
identity matches) and how it was started; trial attributes say how each trial
trained. Other modules, the export and optuna-dashboard users read them by
these names.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import optuna

__all__ = [
    "ARCH",
    "BEST_EPOCH",
    "DATA_FINGERPRINT",
    "DATA_SOURCE",
    "EPOCHS",
    "EPOCHS_RUN",
    "EPOCH_SECONDS",
    "FAIL_REASON",
    "IDENTITY",
    "MAX_TRAIN_SAMPLES",
    "N_PARAMS",
    "PRECISION",
    "PRECISION_REASON",
    "SEED",
    "SPACE",
    "SPACE_HASH",
    "SPLIT_SEED",
    "TRAIN_ACCURACY_PER_EPOCH",
    "TRAIN_SAMPLES",
    "VALIDATION_SIZE",
    "VAL_ACCURACY_PER_EPOCH",
    "precision_of",
    "set_attrs",
]

# --- on the study and on each trial --------------------------------------------
ARCH = "arch"  # "mlp" or "cnn"
DATA_FINGERPRINT = "data_fingerprint"  # content hash of the Fashion-MNIST files searched on
PRECISION = "precision"  # "float32" or "bfloat16"; absent on studies and trials older than the option
SEED = "seed"  # study: the seed trials derive theirs from; trial: the seed it trained with

# --- on the study ---------------------------------------------------------------
SPACE = "space"  # the search space, as SearchSpace.to_dict()
SPACE_HASH = "space_hash"
VALIDATION_SIZE = "validation_size"
MAX_TRAIN_SAMPLES = "max_train_samples"
SPLIT_SEED = "split_seed"  # seeds the train/validation split
EPOCHS = "epochs"  # the most epochs a trial trains (--epochs of the run that created the study)
PRECISION_REASON = "precision_reason"  # why the study's precision: "as asked", or what --precision auto found

# A run may join a study only if these match: trials scored on another architecture,
# space, data or split are not comparable.
IDENTITY = (ARCH, SPACE_HASH, DATA_FINGERPRINT, VALIDATION_SIZE, MAX_TRAIN_SAMPLES)

# --- on each trial ----------------------------------------------------------------
N_PARAMS = "n_params"  # trainable and other weights of the built model
TRAIN_SAMPLES = "train_samples"
DATA_SOURCE = "data_source"  # the folder the data came from
EPOCHS_RUN = "epochs_run"
EPOCH_SECONDS = "epoch_seconds"  # wall-clock of each epoch, validation included
VAL_ACCURACY_PER_EPOCH = "val_accuracy_per_epoch"
TRAIN_ACCURACY_PER_EPOCH = "train_accuracy_per_epoch"
BEST_EPOCH = "best_epoch"  # from 1, by validation accuracy; complete trials only
FAIL_REASON = "fail_reason"  # failed trials: NaN loss, out of memory, interrupted, a bug's message

_OLDEST_PRECISION = "float32"  # what studies and trials older than the precision attribute ran in


def precision_of(attrs: dict[str, Any]) -> str:
    """The precision a study or trial ran in, from its user attributes."""
    return str(attrs.get(PRECISION, _OLDEST_PRECISION))


def set_attrs(target: optuna.Trial | optuna.Study, attrs: dict[str, Any]) -> None:
    """Store every item of `attrs` as a user attribute of a trial or study."""
    for key, value in attrs.items():
        target.set_user_attr(key, value)
