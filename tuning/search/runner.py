"""`tune run` without the terminal: prepare a study for a run, then run its trials."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from tuning import attrs

if TYPE_CHECKING:
    import optuna

    from tuning.model.train import RunEpochHook
    from tuning.search.changes import SettingChanges
    from tuning.search.config import RunConfig
    from tuning.search.trial import TrialSetup
    from tuning.search.worker import TrialCallback

__all__ = ["PreparedRun", "prepare_run", "run_study"]

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class PreparedRun:
    """A study ready to run, and how many trials it still needs."""

    config: RunConfig
    study: optuna.Study
    storage: optuna.storages.RDBStorage
    setup: TrialSetup
    used_before: int  # trials already counting towards --trials (finished or running)
    queued: int  # WAITING trials (tune enqueue, a dead worker's retry): they count too, and always run
    running: int  # trials running elsewhere, or in a killed process (failed, then retried, once found stale)
    precision_reason: str  # why config.precision (resolved from "auto", or "as asked")
    changes: SettingChanges  # settings that differ from the study's latest run (recorded on the study)

    @property
    def remaining(self) -> int:
        """Trials this run will run: the queued ones first, then new ones up to the total."""
        return max(self.config.trials - self.used_before, self.queued)


def prepare_run(config: RunConfig, *, worker_index: int = 0) -> PreparedRun:
    """Check every input before touching the storage; then create or join the study.

    The returned run's config has `precision` resolved ("auto" becomes float32 or bfloat16),
    and `validation_size` (a fraction, or the default on small data) as a count of images.

    Order matters: a bad space, URL, data file or split fails before a study exists.
    A study keeps the split seed it was created with, whatever `--seed` a later worker has.
    """
    from optuna.trial import TrialState

    from tuning.data.sources import is_built_in, load_dataset
    from tuning.data.splits import validation_count
    from tuning.model.precision import resolve_precision
    from tuning.model.registry import get_model
    from tuning.search.changes import record_changes
    from tuning.search.engines import get_engine
    from tuning.search.rungs import default_checks_per_epoch
    from tuning.search.slots import slot_lock
    from tuning.search.space import default_space_path, fit_space, load_space
    from tuning.search.storage import check_url, open_storage
    from tuning.search.study import open_run_study, study_checks_per_epoch
    from tuning.search.trial import TrialSetup
    from tuning.search.worker import fail_stale_trials, slots_used

    engine = get_engine(config.engine)
    space = load_space(config.space_path or default_space_path(config.arch), config.arch)
    check_url(config.storage)
    data = load_dataset(config.data, image_shape=config.image_shape)
    space = fit_space(space, data.shape)
    engine.check_space(space)
    # A shipped space's [start] was found on the built-in data: other data start without it unless asked for.
    wanted = config.defaults_first if config.defaults_first is not None else is_built_in(data.name)
    baseline = engine.start_params(config, space) if wanted else None
    config = replace(config, validation_size=validation_count(config.validation_size, data.y_train))
    split_seed = config.seed if config.seed is not None else 0
    split = _split(config, data, split_seed)  # also validates the split settings
    choice = resolve_precision(config.precision)
    config = replace(config, precision=choice.precision)
    identity: dict[str, Any] = {
        attrs.ARCH: config.arch,
        attrs.MODEL_HASH: get_model(config.arch).source_hash,
        attrs.SPACE_HASH: space.hash,
        attrs.SPACE: space.to_dict(),
        attrs.DATA_FINGERPRINT: data.fingerprint,
        attrs.DATA_NAME: data.name,
        attrs.DATA_SOURCE: data.source,
        attrs.IMAGE_SHAPE: list(data.image_shape),
        attrs.CLASS_NAMES: list(data.class_names),
        attrs.VALIDATION_SIZE: config.validation_size,
        attrs.MAX_TRAIN_SAMPLES: config.max_train_samples,
        attrs.SPLIT_SEED: split_seed,
    }
    storage = open_storage(config.storage, heartbeat=config.heartbeat)
    # A new study's checks per epoch: as asked, else as many as the training images allow (search/rungs.py).
    checks = config.checks_per_epoch or default_checks_per_epoch(len(split.y_train))
    created = replace(config, checks_per_epoch=checks)
    study = open_run_study(created, storage, identity, worker_index=worker_index, precision_reason=choice.reason)
    changes = record_changes(study, config)  # a study keeps its checks; only an asked value is reported ignored
    config = replace(config, checks_per_epoch=study_checks_per_epoch(study.user_attrs))
    stored_split_seed = int(study.user_attrs.get(attrs.SPLIT_SEED, split_seed))
    if stored_split_seed != split_seed:
        split = _split(config, data, stored_split_seed)
    setup = TrialSetup(
        arch=config.arch,
        space=space,
        split=split,
        shape=data.shape,
        epochs=config.epochs,
        checks_per_epoch=config.checks_per_epoch,
        seed=int(study.user_attrs[attrs.SEED]),
        steps_per_execution=config.steps_per_execution,
        precision=config.precision,
        data_attrs={attrs.DATA_SOURCE: data.source, attrs.DATA_FINGERPRINT: data.fingerprint},
        artifact_dir=_artifact_dir(config),
    )
    with slot_lock(storage, study.study_name):
        fail_stale_trials(study)  # a killed run's trial: failed and queued again before counting
    trials = study.get_trials(deepcopy=False)
    queued = sum(t.state == TrialState.WAITING for t in trials)
    running = sum(t.state == TrialState.RUNNING for t in trials)
    if baseline is not None and not trials:
        study.enqueue_trial(baseline, user_attrs={attrs.START: True})  # counts as a slot once a worker claims it
    return PreparedRun(
        config=config,
        study=study,
        storage=storage,
        setup=setup,
        used_before=slots_used(trials) - queued,
        queued=queued,
        running=running,
        precision_reason=choice.reason,
        changes=changes,
    )


def _artifact_dir(config: RunConfig) -> str | None:
    from tuning.search.artifacts import artifact_dir_for
    from tuning.search.storage import mask_url

    folder = artifact_dir_for(config.storage, config.artifact_dir)
    if folder is None:
        logger.info("no artifact folder for storage %s: trials store notes only", mask_url(config.storage))
    return None if folder is None else str(folder)


def _split(config: RunConfig, data: Any, seed: int) -> Any:
    from tuning.data.splits import train_validation_split

    return train_validation_split(
        data.x_train,
        data.y_train,
        validation_size=int(config.validation_size),  # a count by now (prepare_run)
        max_train_samples=config.max_train_samples,
        seed=seed,
    )


def run_study(
    run: PreparedRun, *, callbacks: Sequence[TrialCallback] = (), on_epoch: RunEpochHook | None = None
) -> int:
    """Run the study to its total with the run's engine (search/engines/); return how many trials ran.

    `callbacks` see every trial as it finishes; `on_epoch` sees the epochs of trials in this process.
    """
    from tuning.search.engines import get_engine

    return get_engine(run.config.engine).run(run, callbacks=callbacks, on_epoch=on_epoch)
