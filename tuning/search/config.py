"""The settings of one `tune run`, checked once, then passed around frozen."""

from __future__ import annotations

from dataclasses import dataclass

from tuning.data.splits import VALIDATION_SIZE, check_validation_size
from tuning.errors import SettingError, check_choice, check_whole
from tuning.model.builders import PRECISIONS
from tuning.model.params import check_arch
from tuning.model.precision import AUTO
from tuning.model.train import DEFAULT_STEPS_PER_EXECUTION
from tuning.search.storage import HEARTBEAT

__all__ = ["DEFAULT_STORAGE", "PRUNERS", "RUN_PRECISIONS", "SAMPLERS", "RunConfig"]

DEFAULT_STORAGE = "sqlite:///studies.db"
SAMPLERS = ("tpe", "random")
PRUNERS = ("hyperband", "halving", "median", "none")
RUN_PRECISIONS = (AUTO, *PRECISIONS)  # auto: bfloat16 where this CPU is faster in it (model/precision.py)


@dataclass(frozen=True)
class RunConfig:
    """What to search, where to store it, and how much to spend."""

    arch: str  # which builder: "mlp" or "cnn"
    trials: int = 20  # finished trials (complete + pruned + failed) the study should end with
    timeout: float | None = None  # seconds after which no new trial starts
    study_name: str = ""  # defaults to the architecture name
    storage: str = DEFAULT_STORAGE  # any SQLAlchemy URL Optuna accepts, or a SQLite file's path
    space_path: str | None = None  # None: the space shipped with tune for the architecture (search/space.py)
    epochs: int = 6  # the most epochs a trial trains; the pruner may stop it sooner (README, "Accuracy")
    checks_per_epoch: int = 4  # validations (chances to prune) per epoch: the first rung after 1/4 of one
    max_train_samples: int | None = None  # train on a stratified subset (quick runs, tests)
    # Training images held out for the objective: a count, or a fraction of them. The default
    # 10,000 becomes a sixth of the images where they are fewer than 60,000 (data/splits.py).
    # prepare_run resolves it to the count, which a study keeps as part of its identity.
    validation_size: int | float = VALIDATION_SIZE
    seed: int | None = None  # seeds the sampler, the split and each trial's weights
    sampler: str = "tpe"
    pruner: str = "halving"  # rungs at checks 1, 4, 16: epochs 0.25, 1, 4; cheaper than hyperband (README, "Speed")
    reduction_factor: int = 4  # hyperband / halving: a rung keeps the best 1/reduction_factor of its trials
    bootstrap_count: int = 1  # hyperband / halving: a rung stops each trial until more than N have reached it
    data_dir: str | None = None  # where the Fashion-MNIST files are; None: search the usual places
    steps_per_execution: int = DEFAULT_STEPS_PER_EXECUTION  # batches per TF graph call; bench/epoch_speed.py
    jobs: int = 1  # worker processes on this machine, sharing the study through the storage
    heartbeat: int = HEARTBEAT  # seconds between a running trial's heartbeats; 3 missed = dead worker
    defaults_first: bool = False  # a new study's first trial is the default configuration (model/params.py)
    precision: str = AUTO  # float32, bfloat16 (mixed precision), or auto: what a probe finds faster here
    artifact_dir: str | None = None  # trials' dashboard artifacts (search/artifacts.py); None: beside a SQLite file

    def __post_init__(self) -> None:
        check_arch(self.arch)
        if not self.study_name:
            object.__setattr__(self, "study_name", self.arch)
        check_whole("trials", self.trials)
        check_whole("epochs", self.epochs)
        check_whole("checks_per_epoch", self.checks_per_epoch)
        check_validation_size(self.validation_size)
        check_whole("steps_per_execution", self.steps_per_execution)
        check_whole("jobs", self.jobs)
        check_whole("heartbeat", self.heartbeat)
        if self.max_train_samples is not None:
            check_whole("max_train_samples", self.max_train_samples)
        if self.timeout is not None and not self.timeout > 0:
            raise SettingError("timeout", "must be a positive number of seconds", self.timeout)
        check_choice("sampler", self.sampler, SAMPLERS)
        check_choice("precision", self.precision, RUN_PRECISIONS)
        check_choice("pruner", self.pruner, PRUNERS)
        check_whole("reduction_factor", self.reduction_factor, minimum=2)
        check_whole("bootstrap_count", self.bootstrap_count, minimum=0)
