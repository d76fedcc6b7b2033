"""Signals that arrive inside the database code: held back until it returns, so no write is left half done."""

from __future__ import annotations

import os
import signal
import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tuning import signals
from tuning.errors import Interrupted

_HANDLED = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP, signal.SIGALRM)


@pytest.fixture
def signal_handlers() -> Iterator[None]:
    """`raise_on_signals` for this test only: the handlers and the module's record are put back after it."""
    saved = {each: signal.getsignal(each) for each in _HANDLED}
    signals.raise_on_signals()
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        for each, handler in saved.items():
            signal.signal(each, handler)
        signals._received.clear()
        signals._held.clear()


def _signal_during(storage: Any, statement_start: str, signum: int) -> None:
    """Send `signum` to this process while SQLAlchemy executes the statement that starts so."""
    from sqlalchemy import event

    @event.listens_for(storage.engine, "before_cursor_execute")
    def send(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        if statement.startswith(statement_start):
            os.kill(os.getpid(), signum)


@pytest.mark.filterwarnings("ignore:Heartbeat of storage")
def test_a_signal_during_a_storage_write_is_raised_once_the_write_is_committed(
    tmp_path: Path, signal_handlers: None
) -> None:
    import optuna

    from tuning.search.storage import open_storage

    path = tmp_path / "studies.db"
    storage = open_storage(str(path))
    trial = optuna.create_study(storage=storage, study_name="s").ask()
    _signal_during(storage, "INSERT INTO trial_intermediate_values", signal.SIGINT)
    written = False
    with pytest.raises(Interrupted) as raised:
        trial.report(0.5, 1)
        written = True
        time.sleep(5)  # the held signal is raised here, within 50 ms
    assert written and raised.value.signum == signal.SIGINT
    assert signals.interrupt_received() is not None
    # Committed, and the lock is free: another connection writes at once (no waiting allowed).
    other = sqlite3.connect(path, timeout=0)
    other.execute("BEGIN IMMEDIATE")
    assert other.execute("SELECT intermediate_value FROM trial_intermediate_values").fetchall() == [(0.5,)]
    other.rollback()


def test_a_signal_outside_the_database_code_is_raised_at_once(signal_handlers: None) -> None:
    reached = False
    with pytest.raises(Interrupted) as raised:
        os.kill(os.getpid(), signal.SIGTERM)
        time.sleep(5)
        reached = True
    assert not reached and raised.value.signum == signal.SIGTERM
