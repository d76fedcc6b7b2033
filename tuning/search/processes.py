"""Worker processes for `tune run --jobs J` on one machine, and signal handling.

Workers are spawned, not forked (TensorFlow is not fork-safe), each with its share
of the CPU cores. They coordinate only through the study's storage (tuning.search.worker),
exactly as workers on other machines do.
"""

from __future__ import annotations

import logging
import os
import signal
import sys
import time
from typing import TYPE_CHECKING

from tuning.errors import Interrupted, TuneError

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence
    from multiprocessing.process import BaseProcess

    import optuna

    from tuning.search.config import RunConfig
    from tuning.search.worker import TrialCallback

__all__ = ["CTRL_C_GRACE_SECONDS", "run_workers", "start_workers", "stop_workers"]

_STOP_GRACE_SECONDS = 60
CTRL_C_GRACE_SECONDS = 10


def run_workers(
    config: RunConfig,
    study: optuna.Study,
    target: Callable[[RunConfig, int, int], None],
    callbacks: Sequence[TrialCallback] = (),
) -> int:
    """Run `target` in `config.jobs` worker processes to the end; call `callbacks` for each trial as it lands
    in the storage; return how many trials finished meanwhile."""
    before = {t.number for t in study.get_trials(deepcopy=False) if t.state.is_finished()}
    seen = before
    workers = start_workers(config, target)
    try:
        while any(worker.is_alive() for worker in workers):
            for worker in workers:
                worker.join(timeout=1.0 / len(workers))
            seen = _report_new_trials(study, seen, callbacks)
    except Interrupted as exc:
        # Ctrl-C and a closed terminal reach the whole process group: the workers are already stopping.
        group_signal = exc.signum in (signal.SIGINT, signal.SIGHUP)
        stop_workers(workers, wait_first=CTRL_C_GRACE_SECONDS if group_signal else 0.0)
        raise
    finally:
        stop_workers(workers)
    seen = _report_new_trials(study, seen, callbacks)
    failed = [w.exitcode for w in workers if w.exitcode]
    if failed:
        raise TuneError(
            f"{len(failed)} of {len(workers)} workers failed (exit status {failed}); see the messages above"
        )
    return len(seen - before)


def _report_new_trials(study: optuna.Study, seen: set[int], callbacks: Sequence[TrialCallback]) -> set[int]:
    for trial in study.get_trials(deepcopy=False):
        if trial.state.is_finished() and trial.number not in seen:
            for callback in callbacks:
                callback(study, trial)
            seen = seen | {trial.number}
    return seen


def start_workers(config: RunConfig, target: Callable[[RunConfig, int, int], None]) -> list[BaseProcess]:
    """Spawn `config.jobs` workers running `target` on the study; the study must already exist."""
    import multiprocessing

    context = multiprocessing.get_context("spawn")
    threads = max(1, (os.cpu_count() or 1) // config.jobs)
    workers: list[BaseProcess] = [
        context.Process(target=_worker_main, args=(target, config, index, threads), name=f"tune-worker-{index}")
        for index in range(config.jobs)
    ]
    for worker in workers:
        worker.start()
    return workers


def stop_workers(workers: list[BaseProcess], *, wait_first: float = 0.0) -> None:
    """Ask running workers to stop (SIGTERM: they record their trial), then wait for them.

    `wait_first` gives workers that got the signal themselves (Ctrl-C reaches the
    whole process group) time to finish their clean-up before being told again.
    """
    deadline = time.monotonic() + wait_first
    for worker in workers:
        worker.join(max(0.0, deadline - time.monotonic()))
    for worker in workers:
        if worker.is_alive():
            worker.terminate()
    for worker in workers:
        worker.join(_STOP_GRACE_SECONDS)
        if worker.is_alive():
            worker.kill()
            worker.join()


def _worker_main(target: Callable[[RunConfig, int, int], None], config: RunConfig, index: int, threads: int) -> None:
    """A worker process: its signals and logging, then `target`; errors become its exit status."""
    import optuna

    from tuning.signals import raise_on_signals

    raise_on_signals()
    logging.basicConfig(level=logging.WARNING, format=f"worker {index}: %(levelname)s %(name)s: %(message)s")
    optuna.logging.set_verbosity(logging.ERROR)
    try:
        target(config, index, threads)
    except TuneError as exc:
        print(f"tune: worker {index}: error: {exc}", file=sys.stderr)
        sys.exit(2)
    except Interrupted as exc:
        sys.exit(128 + exc.signum)
    except KeyboardInterrupt:
        sys.exit(130)
