"""Every attribute tune stores on an Optuna study or trial, named once.

Study attributes say what a study searches (a run may join it only if its
identity matches) and how it was started; trial attributes say how each trial
trained. Other modules, the export and optuna-dashboard users read them by
these names.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import optuna

__all__ = [
    "ARCH",
    "BEST_EPOCH",
    "CHECKS_PER_EPOCH",
    "CHECK_SECONDS",
    "CLASS_NAMES",
    "COSTLY",
    "DATA_FINGERPRINT",
    "DATA_NAME",
    "DATA_SOURCE",
    "ENGINE",
    "EPOCHS",
    "EPOCHS_RUN",
    "FAIL_REASON",
    "IDENTITY",
    "IMAGE_SHAPE",
    "KT_BRACKET",
    "KT_INITIAL_EPOCH",
    "KT_ORACLE",
    "KT_PARENT",
    "KT_ROUND",
    "KT_TRIAL_ID",
    "MAX_TRAIN_SAMPLES",
    "MODEL_HASH",
    "N_PARAMS",
    "PRECISION",
    "PRECISION_REASON",
    "RUNG_SECONDS",
    "RUN_SETTINGS",
    "SEED",
    "SETTING_CHANGES",
    "SPACE",
    "SPACE_HASH",
    "SPLIT_SEED",
    "START",
    "STEPS_PER_EXECUTION",
    "TRAIN_ACCURACY_PER_CHECK",
    "TRAIN_LOSS_PER_CHECK",
    "TRAIN_SAMPLES",
    "VALIDATION_SAMPLES",
    "VALIDATION_SIZE",
    "VAL_ACCURACY_PER_CHECK",
    "VAL_LOSS_PER_CHECK",
    "TrialCurve",
    "curve_of",
    "precision_of",
    "set_attrs",
    "trial_settings",
]

# --- on the study and on each trial --------------------------------------------
ARCH = "arch"  # the model's name (model/registry.py): a built-in one, or a user's FILE.py:function
DATA_FINGERPRINT = "data_fingerprint"  # content hash of the data searched on (data/fingerprint.py)
PRECISION = "precision"  # "float32" or "bfloat16"; absent on studies and trials older than the option
SEED = "seed"  # study: the seed trials derive theirs from; trial: the seed it trained with
# Validations (and pruning decisions) per pass over the training images; study: as asked
# (--checks-per-epoch), trial: what its pass really split into (fewer on tiny data).
# Absent on studies and trials older than the option: one per epoch.
CHECKS_PER_EPOCH = "checks_per_epoch"
# Which search engine chose the parameters: "optuna" (absent on studies older than the option) or
# "keras-tuner"; with keras-tuner, also which of its oracles: "hyperband", "bayesian" or "random".
ENGINE = "engine"
KT_ORACLE = "kt_oracle"
# The most epochs a trial trains; study: --epochs of the run that created it, trial: of the run
# that trained it (a resume may change it). Trials older than the trial attribute: the study's.
EPOCHS = "epochs"

# --- on the study ---------------------------------------------------------------
SPACE = "space"  # the search space, as SearchSpace.to_dict()
SPACE_HASH = "space_hash"
VALIDATION_SIZE = "validation_size"  # the split's setting, scaled down with max_train_samples
MAX_TRAIN_SAMPLES = "max_train_samples"
SPLIT_SEED = "split_seed"  # seeds the train/validation split
# The data searched (data/dataset.py): its name (the built-in data's, or the user's file or folder name),
# one image's shape ([H, W] grey, [H, W, C] colour) and the class names, label i first. Absent on
# studies older than other data: the built-in data's (data/sources.py searched_name).
DATA_NAME = "data_name"
# A user's model (model/user.py): 16 hex chars of sha256 of the file defining it, as the study searched it.
# Absent for the built-in models.
MODEL_HASH = "model_hash"
IMAGE_SHAPE = "image_shape"
CLASS_NAMES = "class_names"
PRECISION_REASON = "precision_reason"  # why the study's precision: "as asked", or what --precision auto found
# The settings a run may change on an existing study (search/changes.py CHANGEABLE), as the latest run
# that created or changed them used them: {"pruner": "halving", "epochs": 6, ...}. Absent on older studies.
RUN_SETTINGS = "run_settings"
# One entry per run that changed them: {"at": ISO 8601 UTC time, "changed": {setting: [before, this run]},
# "ignored": {setting: [the study's, asked]}} (a setting the study keeps, such as checks_per_epoch).
SETTING_CHANGES = "setting_changes"

# A run may join a study only if these match: trials scored on another architecture,
# space, data or split are not comparable.
IDENTITY = (ARCH, MODEL_HASH, SPACE_HASH, DATA_FINGERPRINT, VALIDATION_SIZE, MAX_TRAIN_SAMPLES)

# --- on each trial ----------------------------------------------------------------
N_PARAMS = "n_params"  # trainable and other weights of the built model
TRAIN_SAMPLES = "train_samples"
VALIDATION_SAMPLES = "validation_samples"  # images the trial validated on (absent on older trials)
STEPS_PER_EXECUTION = "steps_per_execution"  # batches per TensorFlow call (absent on older trials)
DATA_SOURCE = "data_source"  # the file or folder the data came from
EPOCHS_RUN = "epochs_run"  # passes over the training images, e.g. 0.25 when pruned at the first check
# Per check (see CHECKS_PER_EPOCH; trials older than checks stored per epoch under the old names):
CHECK_SECONDS = "check_seconds"  # wall-clock of each check's training and validation
VAL_ACCURACY_PER_CHECK = "val_accuracy_per_check"
TRAIN_ACCURACY_PER_CHECK = "train_accuracy_per_check"  # running mean over the check's batches
VAL_LOSS_PER_CHECK = "val_loss_per_check"
TRAIN_LOSS_PER_CHECK = "train_loss_per_check"
BEST_EPOCH = "best_epoch"  # from 1: the epoch holding the best check; complete trials only
FAIL_REASON = "fail_reason"  # failed trials: NaN loss, out of memory, interrupted, a bug's message
START = "start"  # True on a new study's first trial, the space's [start] configuration (--defaults-first)
# Halving with --cost-limit: seconds from a trial's start to check N, for each rung N it reached
# ("rung_seconds_4": 61.2), and, on a trial not promoted for its cost alone, why (search/halving.py).
RUNG_SECONDS = "rung_seconds_{}"
COSTLY = "pruned_as_costly"
# KerasTuner trials (search/kt_engine.py): its trial id; Hyperband's bracket and round; a promoted trial's
# parent (the KerasTuner trial id whose weights it continues from) and the epoch it starts at (its
# checks and intermediate values come after that epoch's; 0 for a trial trained from scratch).
KT_TRIAL_ID = "kt_trial_id"
KT_BRACKET = "kt_bracket"
KT_ROUND = "kt_round"
KT_PARENT = "kt_parent"
KT_INITIAL_EPOCH = "kt_initial_epoch"

_OLD_PER_EPOCH = {  # names of the per-epoch lists trials stored before checks
    CHECK_SECONDS: "epoch_seconds",
    VAL_ACCURACY_PER_CHECK: "val_accuracy_per_epoch",
    TRAIN_ACCURACY_PER_CHECK: "train_accuracy_per_epoch",
}
_OLDEST_PRECISION = "float32"  # what studies and trials older than the precision attribute ran in


def precision_of(attrs: dict[str, Any]) -> str:
    """The precision a study or trial ran in, from its user attributes."""
    return str(attrs.get(PRECISION, _OLDEST_PRECISION))


def set_attrs(target: optuna.Trial | optuna.Study, attrs: dict[str, Any]) -> None:
    """Store every item of `attrs` as a user attribute of a trial or study."""
    for key, value in attrs.items():
        target.set_user_attr(key, value)


def trial_settings(trial: dict[str, Any], study: dict[str, Any]) -> dict[str, Any]:
    """What a trial trained with, from its user attributes; the study's where an older trial lacks one."""
    return {
        EPOCHS: trial.get(EPOCHS, study.get(EPOCHS)),
        CHECKS_PER_EPOCH: trial.get(CHECKS_PER_EPOCH, study.get(CHECKS_PER_EPOCH, 1)),
        TRAIN_SAMPLES: trial.get(TRAIN_SAMPLES),
        VALIDATION_SAMPLES: trial.get(VALIDATION_SAMPLES),
        PRECISION: precision_of(trial),
        STEPS_PER_EXECUTION: trial.get(STEPS_PER_EXECUTION),
        SEED: trial.get(SEED),
    }


@dataclass(frozen=True)
class TrialCurve:
    """A trial's learning curve, one entry per check, whichever tune version stored it."""

    checks_per_epoch: int
    seconds: list[float]
    val_accuracy: list[float]
    train_accuracy: list[float]
    val_loss: list[float]
    train_loss: list[float]

    @property
    def epochs(self) -> list[float]:
        """Epochs trained at each check: 0.25, 0.5, ... with 4 checks per epoch."""
        return [(i + 1) / self.checks_per_epoch for i in range(len(self.val_accuracy))]


def curve_of(stored: dict[str, Any]) -> TrialCurve:
    """The learning curve in a trial's user attributes (per-epoch lists of older trials read as 1 check)."""

    def series(name: str) -> list[float]:
        return list(stored.get(name, stored.get(_OLD_PER_EPOCH.get(name, ""), [])))

    return TrialCurve(
        checks_per_epoch=int(stored.get(CHECKS_PER_EPOCH, 1)),
        seconds=series(CHECK_SECONDS),
        val_accuracy=series(VAL_ACCURACY_PER_CHECK),
        train_accuracy=series(TRAIN_ACCURACY_PER_CHECK),
        val_loss=series(VAL_LOSS_PER_CHECK),
        train_loss=series(TRAIN_LOSS_PER_CHECK),
    )
