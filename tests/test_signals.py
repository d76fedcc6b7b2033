"""Signals that arrive inside the database code: held back until it returns, so no write is left half done."""

from __future__ import annotations

import os
import signal
import sqlite3
import sys
import time
import weakref
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
    saved_unraisable = sys.unraisablehook
    signals.raise_on_signals()
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        for each, handler in saved.items():
            signal.signal(each, handler)
        sys.unraisablehook = saved_unraisable
        signals._received.clear()
        signals._pending.clear()


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


def _in_a_weakref_callback(work: Any) -> list[str]:
    """Run `work` inside a weakref callback, where Python drops an exception; what was reached comes back."""
    reached: list[str] = []

    class Thing:
        pass

    def callback(ref: Any) -> None:
        reached.append("callback")
        work()
        reached.append("callback finished")

    thing = Thing()
    ref = weakref.ref(thing, callback)
    del thing  # the callback runs here
    assert ref() is None
    return reached


def test_a_signal_dropped_in_a_weakref_callback_is_raised_again(
    signal_handlers: None, capfd: pytest.CaptureFixture[str]
) -> None:
    reached: list[str] = []
    with pytest.raises(Interrupted) as raised:
        reached = _in_a_weakref_callback(lambda: (os.kill(os.getpid(), signal.SIGINT), time.sleep(1)))
        time.sleep(5)  # raised again here, within 50 ms
        reached.append("after")
    assert reached == ["callback"]  # raised inside the callback first, and dropped there
    assert raised.value.signum == signal.SIGINT
    assert "Exception ignored" not in capfd.readouterr().err


@pytest.mark.filterwarnings("ignore:Heartbeat of storage")
def test_a_held_signal_whose_timer_fires_in_a_weakref_callback_is_not_lost(
    tmp_path: Path, signal_handlers: None, capfd: pytest.CaptureFixture[str]
) -> None:
    """Seen in `tune run`: Ctrl-C during a storage write, the timer fired in a weakref callback,
    Python dropped the exception and the command ignored every further Ctrl-C."""
    import optuna

    from tuning.search.storage import open_storage

    storage = open_storage(str(tmp_path / "studies.db"))
    trial = optuna.create_study(storage=storage, study_name="s").ask()
    _signal_during(storage, "INSERT INTO trial_intermediate_values", signal.SIGINT)
    trial.report(0.5, 1)  # the signal is held while the write runs
    assert signals.interrupt_received() is None
    reached: list[str] = []
    with pytest.raises(Interrupted) as raised:
        reached = _in_a_weakref_callback(lambda: time.sleep(1))  # the timer fires in here
        time.sleep(5)
    assert reached == ["callback"]  # raised inside the callback first, and dropped there
    assert raised.value.signum == signal.SIGINT
    assert "Exception ignored" not in capfd.readouterr().err
