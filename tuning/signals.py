"""Signals and a lost terminal stop a command the way Ctrl-C does: the running trial is recorded, then it exits.

SIGINT, SIGTERM and SIGHUP (the terminal closed, an ssh session dropped) raise
`Interrupted` once. Output whose reader went away (`tune run | head`: a closed
pipe; a hung-up terminal) is pointed at /dev/null, so the clean-up's own lines
cannot fail, and the command stops as for SIGPIPE (see `tuning.cli.output`).

A signal's exception is raised wherever Python happens to be; inside TensorFlow's own
code it can come out as another error (seen: a TypeError converting a batch when a
worker got SIGTERM mid-epoch). `interrupt_received` lets the trainer tell such an
error from a bug.

Inside the database code (SQLAlchemy, the SQLite and PostgreSQL drivers, Optuna's storages)
it is held back until that code returns: an exception raised between a write and its
commit can leave SQLite's write lock with a connection nobody closes, and the clean-up's
own writes then fail with "database is locked". A timer looks again every 50 ms.

Where Python cannot pass an exception on (a weakref callback, a `__del__`, a garbage
collector's callback: it prints "Exception ignored in ..." and drops it), a signal's
exception would be lost, and with further signals ignored Ctrl-C would no longer stop
the command. `sys.unraisablehook` catches it there and the timer raises it again.
"""

from __future__ import annotations

import os
import select
import signal
import sys
from types import FrameType
from typing import Any

from tuning.errors import Interrupted

__all__ = ["discard_lost_output", "interrupt", "interrupt_received", "raise_on_signals"]

_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
# Code a signal's exception must not cut short: a storage write half done holds the database's lock.
_DATABASE_MODULES = ("sqlalchemy", "sqlite3", "psycopg2", "psycopg", "alembic", "optuna.storages")
_RETRY_SECONDS = 0.05
# The signal that arrived in this process, if any: signal handlers are process-wide state.
_received: list[int] = []
# The signal whose exception is still to be raised: it arrived inside database code, or
# its exception was dropped where Python cannot pass one on.
_pending: list[int] = []
_other_unraisable: list[Any] = []  # the unraisable hook that was there before ours


def raise_on_signals() -> None:
    """Make SIGINT, SIGTERM and SIGHUP raise `Interrupted` once; later signals are ignored.

    Ignored, because the clean-up (recording the trial) must not be cut short.
    """

    def handler(signum: int, frame: FrameType | None) -> None:
        if signum == signal.SIGHUP:
            discard_lost_output()  # the terminal is gone: the clean-up's lines must not fail on it
        if _in_database_code(frame):
            _raise_later(signum)
            return
        raise interrupt(signum)

    for signum in _SIGNALS:
        signal.signal(signum, handler)
    if sys.unraisablehook is not _raise_dropped_interrupt:
        _other_unraisable[:] = [sys.unraisablehook]
        sys.unraisablehook = _raise_dropped_interrupt


def _raise_later(signum: int) -> None:
    """Raise `signum`'s exception from the timer, the first time it finds no database code running."""
    _pending[:] = [signum]
    signal.signal(signal.SIGALRM, _deliver_pending)
    signal.setitimer(signal.ITIMER_REAL, _RETRY_SECONDS)


def _deliver_pending(alarm: int, frame: FrameType | None) -> None:
    """The timer's look: raise the pending signal's exception once no database code runs."""
    if not _pending:
        return  # raised already (a second signal arrived outside the database code)
    if _in_database_code(frame):
        signal.setitimer(signal.ITIMER_REAL, _RETRY_SECONDS)
        return
    raise interrupt(_pending[0])


def _raise_dropped_interrupt(unraisable: Any) -> None:
    """`sys.unraisablehook`: a dropped `Interrupted` is raised again from the timer; others go to the hook before."""
    if isinstance(unraisable.exc_value, Interrupted):
        _raise_later(unraisable.exc_value.signum)
    else:
        _other_unraisable[0](unraisable)


def _in_database_code(frame: FrameType | None) -> bool:
    """Whether `frame` or one of its callers runs in a database module."""
    while frame is not None:
        module = str(frame.f_globals.get("__name__", ""))
        if any(module == name or module.startswith(name + ".") for name in _DATABASE_MODULES):
            return True
        frame = frame.f_back
    return False


def interrupt(signum: int) -> Interrupted:
    """Record `signum` as this process's interrupt, ignore further signals, and return the exception to raise."""

    def ignore(signum: int, frame: FrameType | None) -> None:
        pass  # a callable, not SIG_IGN: a signal already on its way must not raise "race condition"

    for each in _SIGNALS:
        signal.signal(each, ignore)
    if _pending:
        signal.setitimer(signal.ITIMER_REAL, 0)
        _pending.clear()
    if not _received:
        _received.append(signum)
    return Interrupted(signum)


def interrupt_received() -> Interrupted | None:
    """The interrupt this process got, if a signal arrived since `raise_on_signals`."""
    return Interrupted(_received[0]) if _received else None


def discard_lost_output() -> bool:
    """Point stdout and stderr at /dev/null where their reader is gone; True if stdout's was.

    Gone: a pipe whose reader exited, a terminal that hung up (poll says error or
    hang-up). Later writes, the interpreter's last flush included, then succeed.
    """
    lost = [fd for fd in (1, 2) if _reader_gone(fd)]
    if lost:
        devnull = os.open(os.devnull, os.O_WRONLY)
        for fd in lost:
            os.dup2(devnull, fd)
        os.close(devnull)
    return 1 in lost


def _reader_gone(fd: int) -> bool:
    poll = select.poll()
    poll.register(fd, select.POLLOUT)
    try:
        events = poll.poll(0)
    except OSError:
        return False
    return any(mask & (select.POLLERR | select.POLLHUP | select.POLLNVAL) for _, mask in events)
