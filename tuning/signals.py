"""Signals and a lost terminal stop a command the way Ctrl-C does: the running trial is recorded, then it exits.

SIGINT, SIGTERM and SIGHUP (the terminal closed, an ssh session dropped) raise
`Interrupted` once. Output whose reader went away (`tune run | head`: a closed
pipe; a hung-up terminal) is pointed at /dev/null, so the clean-up's own lines
cannot fail, and the command stops as for SIGPIPE (see `tuning.cli.output`).

A signal's exception is raised wherever Python happens to be; inside TensorFlow's own
code it can come out as another error (seen: a TypeError converting a batch when a
worker got SIGTERM mid-epoch). `interrupt_received` lets the trainer tell such an
error from a bug.
"""

from __future__ import annotations

import os
import select
import signal
from typing import Any

from tuning.errors import Interrupted

__all__ = ["discard_lost_output", "interrupt", "interrupt_received", "raise_on_signals"]

_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
# The signal that arrived in this process, if any: signal handlers are process-wide state.
_received: list[int] = []


def raise_on_signals() -> None:
    """Make SIGINT, SIGTERM and SIGHUP raise `Interrupted` once; later signals are ignored.

    Ignored, because the clean-up (recording the trial) must not be cut short.
    """

    def handler(signum: int, frame: Any) -> None:
        if signum == signal.SIGHUP:
            discard_lost_output()  # the terminal is gone: the clean-up's lines must not fail on it
        raise interrupt(signum)

    for signum in _SIGNALS:
        signal.signal(signum, handler)


def interrupt(signum: int) -> Interrupted:
    """Record `signum` as this process's interrupt, ignore further signals, and return the exception to raise."""

    def ignore(signum: int, frame: Any) -> None:
        pass  # a callable, not SIG_IGN: a signal already on its way must not raise "race condition"

    for each in _SIGNALS:
        signal.signal(each, ignore)
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
