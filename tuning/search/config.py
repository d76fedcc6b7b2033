"""The settings of one `tune run`, checked once, then passed around frozen."""

from __future__ import annotations

from dataclasses import dataclass

from tuning.data.splits import VALIDATION_SIZE, check_validation_size
from tuning.errors import SettingError, check_choice, check_whole
from tuning.model.builders import PRECISIONS
from tuning.model.precision import AUTO
from tuning.model.registry import default_study, get_model
from tuning.model.train import DEFAULT_STEPS_PER_EXECUTION
from tuning.search.engines import DEFAULT_ENGINE, ENGINE_NAMES, get_engine
from tuning.search.engines.optuna import STARTUP_TRIALS
from tuning.search.rungs import COST_LIMIT, REDUCTION_FACTOR
from tuning.search.storage import HEARTBEAT

__all__ = [
    "DEFAULT_STORAGE",
    "RUN_PRECISIONS",
    "RunConfig",
]

DEFAULT_STORAGE = "sqlite:///studies.db"
RUN_PRECISIONS = (AUTO, *PRECISIONS)  # auto: bfloat16 where this CPU is faster in it (model/precision.py)


@dataclass(frozen=True)
class RunConfig:
    """What to search, where to store it, and how much to spend."""

    arch: str  # the model: a built-in's name, or a user's FILE.py:function / module:function (model/registry.py)
    trials: int = 20  # finished trials (complete + pruned + failed) the study should end with
    timeout: float | None = None  # seconds after which no new trial starts
    study_name: str = ""  # defaults to the model's name (model/registry.py default_study)
    storage: str = DEFAULT_STORAGE  # any SQLAlchemy URL Optuna accepts, or a SQLite file's path
    space_path: str | None = None  # None: the space shipped with tune for the architecture (search/space.py)
    # The most epochs a trial trains; the pruner may stop it sooner. None: the model's (ModelSpec.epochs),
    # resolved in __post_init__, so every reader sees an int.
    epochs: int = None  # type: ignore[assignment]
    # Validations (chances to prune) per epoch; the first rung judges after one. None: as many as the training
    # images allow (search/rungs.py default_checks_per_epoch), resolved by prepare_run for a new study.
    checks_per_epoch: int | None = None
    max_train_samples: int | None = None  # train on a stratified subset (quick runs, tests)
    # Training images held out for the objective: a count, or a fraction of them. The default
    # 10,000 becomes a sixth of the images where they are fewer than 60,000 (data/splits.py).
    # prepare_run resolves it to the count, which a study keeps as part of its identity.
    validation_size: int | float = VALIDATION_SIZE
    seed: int | None = None  # seeds the sampler, the split and each trial's weights
    sampler: str = "tpe"
    startup_trials: int = STARTUP_TRIALS  # tpe: random trials before it samples from its model
    # Judges at checks 1, 4 (epochs 0.25, 1); a trial that reaches the top rung (check 16 of 24)
    # finishes until 5 trials completed, then that rung judges too (search/engines/optuna.py).
    # Cheaper than hyperband (README, "Speed").
    pruner: str = "halving"
    reduction_factor: int = REDUCTION_FACTOR  # hyperband / halving: a rung keeps the best 1/N of its trials
    # hyperband / halving: a rung stops each trial until more than N have reached it. 0: the
    # first trial at a rung goes on, which with defaults_first is the cheap start trial
    # (README, "Speed"); without it an expensive random first trial could run its whole budget.
    bootstrap_count: int = 0
    # halving: a trial whose time to a rung is over F times the median of the other trials' there is not
    # promoted (search/halving.py); 0: off. bench/results/search_speed/seeds-cnn-*.md
    cost_limit: float = COST_LIMIT
    data: str | None = None  # what data/sources.py load_dataset reads; None: the built-in data from the usual places
    image_shape: tuple[int, ...] | None = None  # CSV data: one image's (H, W) or (H, W, C); None: square grey
    steps_per_execution: int = DEFAULT_STEPS_PER_EXECUTION  # batches per TF graph call; bench/epoch_speed.py
    jobs: int = 1  # worker processes on this machine, sharing the study through the storage
    heartbeat: int = HEARTBEAT  # seconds between a running trial's heartbeats; 3 missed = dead worker
    # A new study's first trial is the space's [start] configuration (search/space.py); None: on for the
    # built-in data, where the shipped spaces' [start] was found, off for other data (data/sources.py is_built_in).
    defaults_first: bool | None = None
    precision: str = AUTO  # float32, bfloat16 (mixed precision), or auto: what a probe finds faster here
    engine: str = DEFAULT_ENGINE  # who proposes the configurations (search/engines/); trials train the same way
    kt_oracle: str = "hyperband"  # keras-tuner: hyperband (its factor is reduction_factor), bayesian or random
    artifact_dir: str | None = None  # trials' dashboard artifacts (search/artifacts.py); None: beside a SQLite file

    def __post_init__(self) -> None:
        model = get_model(self.arch)
        object.__setattr__(self, "arch", model.name)  # a user's file as an absolute path
        if self.epochs is None:
            object.__setattr__(self, "epochs", model.epochs)
        if not self.study_name:
            object.__setattr__(self, "study_name", default_study(model.name))
        check_whole("trials", self.trials)
        check_whole("epochs", self.epochs)
        if self.checks_per_epoch is not None:
            check_whole("checks_per_epoch", self.checks_per_epoch)
        check_validation_size(self.validation_size)
        check_whole("steps_per_execution", self.steps_per_execution)
        check_whole("jobs", self.jobs)
        check_whole("heartbeat", self.heartbeat)
        if self.max_train_samples is not None:
            check_whole("max_train_samples", self.max_train_samples)
        if self.timeout is not None and not self.timeout > 0:
            raise SettingError("timeout", "must be a positive number of seconds", self.timeout)
        check_choice("precision", self.precision, RUN_PRECISIONS)
        check_whole("reduction_factor", self.reduction_factor, minimum=2)
        check_whole("bootstrap_count", self.bootstrap_count, minimum=0)
        check_whole("startup_trials", self.startup_trials, minimum=0)
        if not (isinstance(self.cost_limit, int | float) and (self.cost_limit == 0 or self.cost_limit >= 1)):
            raise SettingError("cost_limit", "must be 0 (off) or a factor of at least 1", self.cost_limit)
        check_choice("engine", self.engine, ENGINE_NAMES)
        if self.image_shape is not None:
            shape = tuple(self.image_shape)
            if len(shape) not in (2, 3) or not all(isinstance(n, int) and n >= 1 for n in shape):
                raise SettingError("image_shape", "must be (H, W) or (H, W, C) of whole numbers >= 1", self.image_shape)
            object.__setattr__(self, "image_shape", shape)
        get_engine(self.engine).check_config(self)  # its settings' values; refuses another engine's settings
