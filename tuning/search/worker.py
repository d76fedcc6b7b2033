"""One worker's loop: claim a trial slot, run the trial with a heartbeat, record it, repeat.

`--trials N` counts every trial the study holds, except failed ones that were retried
(their retry takes their place). A slot is claimed under `slot_lock`, so any number of
workers, on one machine or many, stop at exactly N. Workers that die leave a RUNNING
trial whose heartbeat goes stale; the next worker to claim a slot fails it and Optuna's
retry callback re-queues its parameters as a WAITING trial, which is run first.
"""

from __future__ import annotations

import gc
import logging
import threading
import time
import warnings
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from tuning import attrs
from tuning.errors import TrialFailed
from tuning.search.slots import slot_lock

if TYPE_CHECKING:
    import optuna

__all__ = ["retried_numbers", "run_worker", "slots_used"]

logger = logging.getLogger(__name__)

Objective = Callable[["optuna.Trial"], float]
TrialCallback = Callable[["optuna.Study", "optuna.trial.FrozenTrial"], None]


def retried_numbers(trials: Sequence[optuna.trial.FrozenTrial]) -> set[int]:
    """Numbers of the failed trials that a later trial retries (a retry that failed and was retried too)."""
    import optuna

    with warnings.catch_warnings():  # retry_history is marked experimental
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        history = optuna.storages.RetryHeartbeatStaleTrialCallback.retry_history
        return {number for trial in trials for number in history(trial)}


def slots_used(trials: Sequence[optuna.trial.FrozenTrial]) -> int:
    """Trials that count towards `--trials`, finished or not (retried failures excluded)."""
    return len(trials) - len(retried_numbers(trials))


def run_worker(
    study: optuna.Study,
    storage: optuna.storages.RDBStorage,
    objective: Objective,
    *,
    total: int,
    timeout: float | None = None,
    callbacks: Sequence[TrialCallback] = (),
) -> int:
    """Run trials until the study holds `total` of them or `timeout` seconds pass; return how many ran."""
    deadline = None if timeout is None else time.monotonic() + timeout
    ran = 0
    while deadline is None or time.monotonic() < deadline:
        trial, running = _claim(study, storage, total)
        if trial is None and running == 0:
            break
        if trial is None:  # the total is taken; wait in case a running trial's worker died
            time.sleep(storage.get_heartbeat_interval() or 1)
            continue
        frozen = _run_one(study, storage, trial, objective)
        ran += 1
        for callback in callbacks:
            callback(study, frozen)
        gc.collect()
    return ran


def _claim(study: optuna.Study, storage: optuna.storages.RDBStorage, total: int) -> tuple[optuna.Trial | None, int]:
    """A new or re-queued trial if the total allows one, and how many trials are running."""
    import optuna
    from optuna.trial import TrialState

    with slot_lock(storage, study.study_name), warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="Heartbeat of storage is supposed to be used")
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        optuna.storages.fail_stale_trials(study)  # a dead worker's trial: FAIL, and re-queued
        trials = study.get_trials(deepcopy=False)
        running = sum(t.state == TrialState.RUNNING for t in trials)
        waiting = any(t.state == TrialState.WAITING for t in trials)
        if not waiting and slots_used(trials) >= total:
            return None, running
        return study.ask(), running  # pops a re-queued trial first, else starts a new one


def _run_one(
    study: optuna.Study, storage: optuna.storages.RDBStorage, trial: optuna.Trial, objective: Objective
) -> optuna.trial.FrozenTrial:
    import optuna
    from optuna.trial import TrialState

    with _heartbeat(storage, trial._trial_id):
        try:
            value = objective(trial)
        except optuna.TrialPruned:
            return study.tell(trial, state=TrialState.PRUNED)
        except TrialFailed:
            return study.tell(trial, state=TrialState.FAIL)
        except BaseException as exc:  # interrupts, and bugs: record, then let them through
            if attrs.FAIL_REASON not in trial.user_attrs:
                trial.set_user_attr(attrs.FAIL_REASON, f"{type(exc).__name__}: {exc}"[:500])
            study.tell(trial, state=TrialState.FAIL)
            raise
    return study.tell(trial, value)


class _heartbeat:
    """Record the trial's heartbeat every interval from a thread, while the block runs."""

    def __init__(self, storage: optuna.storages.RDBStorage, trial_id: int) -> None:
        self._storage = storage
        self._trial_id = trial_id
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def __enter__(self) -> None:
        interval = self._storage.get_heartbeat_interval()
        if interval is None:
            return
        self._storage.record_heartbeat(self._trial_id)
        self._thread = threading.Thread(target=self._beat, args=(interval,), daemon=True)
        self._thread.start()

    def _beat(self, interval: int) -> None:
        while not self._stop.wait(interval):
            try:
                self._storage.record_heartbeat(self._trial_id)
            except Exception as exc:  # a lost connection must not kill the trial; the next beat retries
                logger.warning("heartbeat of trial %s not recorded: %s", self._trial_id, exc)

    def __exit__(self, *exc_info: object) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
