"""One worker's loop, every engine's: claim a trial slot, run the trial with a heartbeat, record it, repeat.

`--trials N` counts every trial the study holds, except failed ones that were retried
(their retry takes their place). A slot is claimed under `slot_lock`, so any number of
workers, on one machine or many, stop at exactly N. Workers that die leave a RUNNING
trial whose heartbeat goes stale; the next worker to claim a slot fails it and Optuna's
retry callback re-queues its parameters as a WAITING trial, which is run first.
An engine says how a claimed slot becomes a trial (`TrialSource.ask`) and how it runs
(`TrialSource.objective`, which search/trial.py `run_trial` does for both built-in engines).
"""

from __future__ import annotations

import logging
import threading
import time
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from tuning import attrs
from tuning.errors import TrialFailed, TuneError
from tuning.search.slots import slot_lock

if TYPE_CHECKING:
    import optuna

    from tuning.search.runner import PreparedRun

__all__ = [
    "FAILURES_TO_STOP",
    "TrialSource",
    "fail_stale_trials",
    "retried_numbers",
    "run_trials",
    "run_worker",
    "slots_used",
]

# A run whose first trials all fail stops after this many (run_worker): the cause is not the trials' own.
FAILURES_TO_STOP = 3

logger = logging.getLogger(__name__)

Objective = Callable[["optuna.Trial"], float]  # a value, or optuna.TrialPruned / TrialFailed raised
Ask = Callable[["optuna.Study"], "optuna.Trial | None"]  # under the slot lock: the trial to run, None: none left
TrialCallback = Callable[["optuna.Study", "optuna.trial.FrozenTrial"], None]


@dataclass(frozen=True)
class TrialSource:
    """How an engine's trials come about: `ask` starts one (default `study.ask()`: a queued trial
    first, else the sampler's), `objective` trains it."""

    objective: Objective
    ask: Ask | None = None


def run_trials(
    run: PreparedRun,
    source: Callable[[], TrialSource],
    *,
    callbacks: Sequence[TrialCallback] = (),
    threads: int | None = None,
) -> int:
    """Run an engine's trials in this process until the study holds `config.trials` (or the timeout passes).

    The process is set up here, once, for every engine: TensorFlow quiet and on `threads`
    cores before anything imports it (`source` may import Keras), one Chromium kept for the
    trials' PNGs. Trials still running elsewhere (or in a killed process) are waited for:
    once a stale one is failed, its retry runs here.
    """
    from tuning.model.tfenv import quiet_tensorflow
    from tuning.render import png_session

    if run.remaining == 0 and run.running == 0:
        return 0
    quiet_tensorflow(threads)
    with png_session():  # one Chromium for the trials' learning-curve PNGs (search/artifacts.py)
        made = source()
        return run_worker(
            run.study,
            run.storage,
            made.objective,
            total=run.config.trials,
            timeout=run.config.timeout,
            callbacks=callbacks,
            ask=made.ask,
        )


def fail_stale_trials(study: optuna.Study) -> None:
    """Fail the trials whose heartbeat went stale (a killed worker's); the storage re-queues each as WAITING."""
    import optuna

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        optuna.storages.fail_stale_trials(study)


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
    ask: Ask | None = None,
) -> int:
    """Run trials until the study holds `total` of them or `timeout` seconds pass; return how many ran.

    When the first FAILURES_TO_STOP trials this worker runs all fail, something fails every
    trial (a model that does not build, data it cannot take): TuneError with the first reason.
    """
    from optuna.trial import TrialState

    deadline = None if timeout is None else time.monotonic() + timeout
    ran = 0
    failed_from_start: list[optuna.trial.FrozenTrial] = []
    while deadline is None or time.monotonic() < deadline:
        trial, running = _claim(study, storage, total, ask or _ask)
        if trial is None and running == 0:
            break
        if trial is None:  # the total is taken; wait in case a running trial's worker died
            time.sleep(storage.get_heartbeat_interval() or 1)
            continue
        frozen = _run_one(study, storage, trial, objective)
        ran += 1
        for callback in callbacks:
            callback(study, frozen)
        # No gc.collect() here: the next trial's keras.backend.clear_session() collects (0.5 s a time).
        if len(failed_from_start) == ran - 1 and frozen.state == TrialState.FAIL:
            failed_from_start.append(frozen)
            if len(failed_from_start) == FAILURES_TO_STOP:
                raise TuneError(_every_trial_failed(study, failed_from_start))
    return ran


def _every_trial_failed(study: optuna.Study, failed: list[optuna.trial.FrozenTrial]) -> str:
    reason = failed[0].user_attrs.get(attrs.FAIL_REASON, "no reason recorded")
    return (
        f"study {study.study_name!r}: the first {len(failed)} trials of this run failed, so every trial "
        f"likely will; the first: {reason}. The study keeps them; fix the cause and run again"
    )


def _claim(
    study: optuna.Study, storage: optuna.storages.RDBStorage, total: int, ask: Ask
) -> tuple[optuna.Trial | None, int]:
    """A new or re-queued trial if the total allows one, and how many trials are running."""
    from optuna.trial import TrialState

    with slot_lock(storage, study.study_name), warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="Heartbeat of storage is supposed to be used")
        fail_stale_trials(study)  # a dead worker's trial: FAIL, and re-queued
        trials = study.get_trials(deepcopy=False)
        running = sum(t.state == TrialState.RUNNING for t in trials)
        waiting = any(t.state == TrialState.WAITING for t in trials)
        if not waiting and slots_used(trials) >= total:
            return None, running
        trial = ask(study)
        return trial, 0 if trial is None else running


def _ask(study: optuna.Study) -> optuna.Trial:
    return study.ask()  # pops a re-queued trial first, else starts a new one


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
        except BaseException as exc:  # interrupts, and bugs: record (search/trial.py does), then let them through
            if attrs.FAIL_REASON not in trial.user_attrs:
                from tuning.search.trial import failure_reason

                trial.set_user_attr(attrs.FAIL_REASON, failure_reason(exc))
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
