"""Retrain an exported best configuration and evaluate it once on the test set.

The search picked the configuration on validation images only; this module
rebuilds exactly that model (`build_model(export.arch, export.model_params)`),
trains it on all 60,000 training images, or, with ``validation_split``, on the
search's own 50,000/10,000 split with early stopping and best-epoch restore, and
then measures it once on the 10,000 test images.

Default epochs: the best trial's ``best_epoch``, unchanged, except that a best trial
that peaked in the search's last epoch retrains for ``extend`` (default 2) times the
search's epochs: on validation accuracy the shipped ConvNet start configuration gained
0.29 points from 12 epochs over 6 (bench/results/cnn-e12/probe.txt). An epoch is one pass
over the training images, so keeping the number of passes lets the number of
weight updates grow with the training set (x1.2 from 50,000 to 60,000 images),
the usual way to refit on train + validation; how often each image is seen,
which drives overfitting, stays what the search validated. Keeping the number of
updates instead (Goodfellow et al., Deep Learning, algorithm 7.2) would cut the
epochs to 5/6 and, for a search run on a ``--max-train-samples`` subset, to a
small fraction of an epoch. ``epochs`` overrides the rule.

Everything is written into a staging folder next to the output folder and
renamed into place at the end, so a failure or Ctrl-C leaves nothing behind.
"""

from __future__ import annotations

import logging
import math
import re
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tuning.data.splits import VALIDATION_SIZE
from tuning.errors import SettingError, TrialFailed, TuneError, check_range, check_whole_fields
from tuning.model.builders import check_precision
from tuning.model.train import DEFAULT_STEPS_PER_EXECUTION, VAL_ACCURACY, RunEpochHook
from tuning.results.export import Export, check_searched_data, check_searched_model
from tuning.results.outputs import check_output_dir, write_outputs
from tuning.search.config import DEFAULT_STORAGE

if TYPE_CHECKING:
    import keras

    from tuning.data.load import Dataset
    from tuning.data.splits import Split
    from tuning.results.evaluate import Evaluation
    from tuning.results.export import DataRecord

__all__ = [
    "PreparedRetrain",
    "RetrainConfig",
    "RetrainResult",
    "RunResult",
    "default_epochs",
    "prepare_retrain",
    "retrain",
    "search_split",
]

logger = logging.getLogger(__name__)


# Called after each training run with (run index from 0, its result).
RunHook = Callable[[int, "RunResult"], None]


@dataclass(frozen=True)
class RetrainConfig:
    """What to retrain, how long, how often, and where to write it."""

    export_path: str  # JSON written by `tune export`
    epochs: int | None = None  # None: the export's best epoch (see the module docstring)
    extend: float = 2.0  # F times the search's epochs when the best trial still improved at its end (1: off)
    output_dir: str | None = None  # None: models/STUDY/
    seeds: int = 1  # independent trainings; the test accuracy is reported as mean ± std over them
    seed: int | None = None  # seed of the first training (the k-th uses seed + k); None: the best trial's
    validation_split: bool = False  # keep the search's validation images out for early stopping
    patience: int = 3  # epochs without a better validation accuracy before stopping (validation_split only)
    max_train_samples: int | None = None  # a stratified subset, for quick runs and tests
    data: str | None = None  # what data/sources.py load_dataset reads; None: the built-in data from the usual places
    png: bool | None = None  # PNG copies of the plots; None: when a Chromium is installed
    steps_per_execution: int = DEFAULT_STEPS_PER_EXECUTION
    precision: str | None = None  # None: the precision the best trial trained in (the export's)
    storage: str = DEFAULT_STORAGE  # the study's storage: its dashboard note gets the result, where the study is there
    artifact_dir: str | None = None  # the study's dashboard artifacts (figures); None: beside a SQLite storage
    accept_changed_model: bool = False  # retrain a user's model whose file changed since the search
    # Retrain the export's configuration on data other than the searched (its shape and classes may differ);
    # not with validation_split, which is the search's own split of the searched data.
    accept_other_data: bool = False

    def __post_init__(self) -> None:
        if self.precision is not None:
            check_precision(self.precision)
        check_whole_fields(self, ("seeds", "patience", "steps_per_execution"), optional=("epochs", "max_train_samples"))
        check_range("extend", self.extend, 1.0, 10.0)
        if self.seed is not None:
            check_range("seed", self.seed, 0, 2**31 - 1, "between 0 and 2**31 - 1")


def default_epochs(export: Export, extend: float = 1.0) -> tuple[int, str]:
    """The epochs to retrain for, and why: the best trial's best epoch (see the module docstring).

    With `extend` F > 1, a best trial whose validation accuracy was still rising in
    its last epoch (its best epoch is the search's last) retrains for F times the
    search's epochs, the cosine schedule stretched over them: the search's
    validation curve says more training was still paying off.
    """
    best, budget = export.best_epoch, export.epochs
    if best and budget and extend > 1 and best >= budget:
        longer = math.ceil(budget * extend)
        return longer, f"the best trial still improved in its last epoch ({best} of {budget}); x{extend:g}"
    if best:
        of = f" of {budget}" if budget else ""
        return best, f"the best trial's best epoch ({best}{of})"
    if budget:
        return budget, f"the search's epochs per trial ({budget}); the export records no best epoch"
    raise TuneError("the export records neither a best epoch nor epochs per trial; pass --epochs")


# --- preparing ---------------------------------------------------------------


@dataclass(frozen=True)
class PreparedRetrain:
    """Checked inputs of a retrain: nothing has been trained or written yet."""

    config: RetrainConfig
    export_path: Path
    export: Export = field(repr=False)
    epochs: int
    epochs_reason: str
    seeds: tuple[int, ...]
    data: Dataset = field(repr=False)
    split: Split  # no validation images unless config.validation_split
    output_dir: Path

    @property
    def precision(self) -> str:
        """--precision if given, else the precision the best trial trained in."""
        return self.config.precision or self.export.precision


def prepare_retrain(config: RetrainConfig) -> PreparedRetrain:
    """Check the export, the output folder and the data before any training starts."""
    from tuning.data.sources import load_searched

    export_path = Path(config.export_path)
    export = Export.read(export_path)
    check_searched_model(export, accept_changed=config.accept_changed_model)
    epochs, reason = (config.epochs, "--epochs") if config.epochs else default_epochs(export, config.extend)
    output_dir = Path(config.output_dir) if config.output_dir else Path("models") / _safe_name(export.study)
    check_output_dir(output_dir)
    data = load_searched(config.data, export.data.source, export.data.name, export.data.image_shape)
    if config.accept_other_data and config.validation_split:
        raise SettingError("accept_other_data", "cannot go with validation_split (the searched data's split)", True)
    if not config.accept_other_data:
        check_searched_data(export, data, ", or --accept-other-data to retrain the configuration on these")
    first = config.seed if config.seed is not None else (export.seed or 0)
    return PreparedRetrain(
        config=config,
        export_path=export_path,
        export=export,
        epochs=epochs,
        epochs_reason=reason,
        seeds=tuple((first + k) % 2**31 for k in range(config.seeds)),
        data=data,
        split=_training_split(config, export, data),
        output_dir=output_dir,
    )


def _safe_name(study: Any) -> str:
    """A study name usable as one folder name."""
    return re.sub(r"[^A-Za-z0-9._-]+", "_", str(study)).strip("._") or "study"


def search_split(record: DataRecord, data: Dataset, max_train_samples: int | None) -> Split:
    """The search's own train/validation split of `data` (its validation size and split seed), on N images if given."""
    from tuning.data.splits import train_validation_split

    size = record.validation_size or VALIDATION_SIZE  # exports that do not record theirs
    return train_validation_split(
        data.x_train,
        data.y_train,
        validation_size=size,
        max_train_samples=max_train_samples,
        seed=record.split_seed or 0,
    )


def _training_split(config: RetrainConfig, export: Export, data: Dataset) -> Split:
    """All training images, a stratified subset of them, or the search's own train/validation split."""
    import numpy as np

    from tuning.data.splits import Split, train_validation_split

    x, y = data.x_train, data.y_train
    seed = export.data.split_seed or 0
    n = config.max_train_samples
    if config.validation_split:
        return search_split(export.data, data, n)
    if n is not None and n < len(y):
        n_classes = len(np.unique(y))
        if n < n_classes:
            raise TuneError(f"max_train_samples must be at least {n_classes} (one image per class), but got {n}")
        subset = train_validation_split(x, y, validation_size=len(y) - n, seed=seed)
        x, y = subset.x_train, subset.y_train
    return Split(x_train=x, y_train=y, x_val=x[:0], y_val=y[:0])


# --- training ----------------------------------------------------------------


@dataclass(frozen=True)
class RunResult:
    """One training run with one seed, and its test evaluation."""

    seed: int
    history: dict[str, list[float]] = field(repr=False)
    epoch_seconds: list[float] = field(repr=False)
    best_epoch: int | None  # by validation accuracy; None without a validation split
    best_val_accuracy: float | None
    evaluation: Evaluation
    seconds: float  # training and test evaluation

    def to_dict(self) -> dict[str, Any]:
        return {
            "seed": self.seed,
            "epochs_run": len(self.epoch_seconds),
            "best_epoch": self.best_epoch,
            "best_val_accuracy": self.best_val_accuracy,
            **self.evaluation.to_dict(),
            "seconds": round(self.seconds, 3),
            "epoch_seconds": [round(s, 3) for s in self.epoch_seconds],
            "history": self.history,
        }


@dataclass(frozen=True)
class RetrainResult:
    """All runs, which one's model was saved, and where everything went."""

    runs: tuple[RunResult, ...]
    saved_run: int  # index into runs of the model in model.keras
    output_dir: Path
    files: tuple[str, ...]
    seconds: float

    @property
    def saved(self) -> RunResult:
        return self.runs[self.saved_run]

    @property
    def accuracy_mean(self) -> float:
        return statistics.fmean(run.evaluation.accuracy for run in self.runs)

    @property
    def accuracy_std(self) -> float | None:
        """Sample standard deviation of the test accuracy over seeds; None for one seed."""
        accuracies = [run.evaluation.accuracy for run in self.runs]
        return statistics.stdev(accuracies) if len(accuracies) > 1 else None


def retrain(
    prepared: PreparedRetrain,
    *,
    on_epoch: RunEpochHook | None = None,
    on_run: RunHook | None = None,
) -> RetrainResult:
    """Train once per seed, evaluate each on the test set, write the output folder.

    The saved model is the first seed's or, with a validation split, the one
    with the best validation accuracy: never chosen by test accuracy.
    """
    from tuning.atomic import atomic_path
    from tuning.model.tfenv import quiet_tensorflow
    from tuning.results.note import note_retrain

    quiet_tensorflow()
    started = time.perf_counter()
    runs: list[RunResult] = []
    saved = 0
    with atomic_path(prepared.output_dir, folder=True, what=f"output dir {prepared.output_dir}") as staging:
        for index, seed in enumerate(prepared.seeds):
            model, run = _train_once(prepared, index, seed, on_epoch)
            runs.append(run)
            if index == 0 or _better(run, runs[saved]):
                saved = index
                model.save(staging / "model.keras")
            if on_run is not None:
                on_run(index, run)
        result = RetrainResult(tuple(runs), saved, prepared.output_dir, (), time.perf_counter() - started)
        files = write_outputs(prepared, result, staging)
        check_output_dir(prepared.output_dir)  # nothing foreign arrived while we trained
    result = replace(result, files=tuple(files), seconds=time.perf_counter() - started)
    note_retrain(prepared, result)
    return result


def _better(run: RunResult, best: RunResult) -> bool:
    if run.best_val_accuracy is None or best.best_val_accuracy is None:
        return False
    return run.best_val_accuracy > best.best_val_accuracy


def _train_once(
    prepared: PreparedRetrain, index: int, seed: int, on_epoch: RunEpochHook | None
) -> tuple[keras.Model, RunResult]:
    import keras

    from tuning.model.callbacks import EpochRecorder
    from tuning.model.train import train_model
    from tuning.results.evaluate import evaluate_model

    started = time.perf_counter()
    export, config = prepared.export, prepared.config
    recorder = EpochRecorder(None if on_epoch is None else (lambda epoch, logs: on_epoch(index, epoch, logs)))
    validating = len(prepared.split.y_val) > 0
    stopping = keras.callbacks.EarlyStopping(
        monitor=VAL_ACCURACY, mode="max", patience=config.patience, restore_best_weights=True
    )
    try:
        model, result = train_model(
            export.arch,
            export.model_params,
            prepared.split,
            shape=prepared.data.shape,
            seed=seed,
            epochs=prepared.epochs,
            recorder=recorder,
            precision=prepared.precision,
            callbacks=[stopping] if validating else [],
            steps_per_execution=config.steps_per_execution,
        )
    except TrialFailed as exc:
        raise TuneError(f"retraining with seed {seed} diverged: {exc}") from None
    data = prepared.data
    evaluation = evaluate_model(model, data.x_test, data.y_test, data.class_names)
    run = RunResult(
        seed=seed,
        history=result.history,
        epoch_seconds=result.epoch_seconds,
        best_epoch=result.best_epoch if validating else None,
        best_val_accuracy=result.best_val_accuracy if validating else None,
        evaluation=evaluation,
        seconds=time.perf_counter() - started,
    )
    return model, run
