"""The slot lock, tested by forcing the race it prevents: two workers count the trials, then both want the last slot."""

from __future__ import annotations

import contextlib
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import optuna
import pytest
from optuna.distributions import BaseDistribution

from tuning.search import worker
from tuning.search.storage import open_storage
from tuning.search.worker import run_worker

# How long a worker that has counted the trials waits for the other one to have counted too. Ample for a
# worker that is not held back (it only reads the study); one held back by the lock never comes.
RENDEZVOUS_SECONDS = 0.5


def instant(trial: optuna.Trial) -> float:
    return 0.5


class RendezvousStudy(optuna.Study):
    """A worker's study whose `ask` waits until the other worker has reached its own `ask`, or gives up.

    `ask` comes right after the worker counted the trials, so both workers have then counted before either
    starts a trial: only the slot lock, held from count to ask, keeps the second from counting too early.
    """

    def __init__(self, study_name: str, storage: optuna.storages.RDBStorage, rendezvous: threading.Barrier) -> None:
        super().__init__(study_name=study_name, storage=storage)
        self._rendezvous = rendezvous

    def ask(self, fixed_distributions: dict[str, BaseDistribution] | None = None) -> optuna.Trial:
        with contextlib.suppress(threading.BrokenBarrierError):  # the other worker never came
            self._rendezvous.wait()
        return super().ask(fixed_distributions)


def race_for_the_last_slot(url: str, study_name: str) -> list[int]:
    """With one of two trials done, two workers (threads, each with its own storage) race to run the second.

    Returns how many trials each worker ran.
    """
    first = open_storage(url)
    study = optuna.create_study(study_name=study_name, storage=first, direction="maximize")
    run_worker(study, first, instant, total=1)
    rendezvous = threading.Barrier(2, timeout=RENDEZVOUS_SECONDS)
    storages = [open_storage(url, heartbeat=1) for _ in range(2)]
    with ThreadPoolExecutor(max_workers=2) as pool:
        runs = [
            pool.submit(run_worker, RendezvousStudy(study_name, storage, rendezvous), storage, instant, total=2)
            for storage in storages
        ]
        return sorted(run.result(timeout=60) for run in runs)


@pytest.fixture(params=["sqlite", "postgresql"])
def url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "postgresql":
        return str(request.getfixturevalue("postgres_url"))  # the advisory lock
    return f"sqlite:///{tmp_path / 'studies.db'}"  # the file lock


@pytest.mark.slow  # racing threads held at a barrier; PostgreSQL started for the advisory lock
def test_racing_workers_take_only_the_slot_left(url: str, request: pytest.FixtureRequest) -> None:
    assert race_for_the_last_slot(url, request.node.name) == [0, 1]
    trials = optuna.load_study(study_name=request.node.name, storage=url).get_trials()
    assert [t.state.name for t in trials] == ["COMPLETE"] * 2


@pytest.mark.slow  # racing threads held at a barrier
def test_without_the_lock_racing_workers_overshoot(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Shows the race above is forced, not hoped for: with no lock, both workers take the last slot.
    monkeypatch.setattr(worker, "slot_lock", lambda storage, study_name: contextlib.nullcontext())
    url = f"sqlite:///{tmp_path / 'studies.db'}"
    assert race_for_the_last_slot(url, "s") == [1, 1]
    assert len(optuna.load_study(study_name="s", storage=url).get_trials()) == 3
