"""Standard output that may lose its reader: `tune run ... | head`, a dropped ssh session.

Writes go to whatever `sys.stdout` is at the time (click's CliRunner swaps it).
When one fails because the reader is gone, stdout is pointed at /dev/null and,
unless a signal already stopped the command, the command stops as for Ctrl-C
(`Interrupted(SIGPIPE)`): the running trial is recorded as interrupted, nothing
stored is lost, and `tune` exits with 141 (128 + SIGPIPE), as a Unix tool
killed by SIGPIPE does.
"""

from __future__ import annotations

import contextlib
import io
import signal
import sys
import threading
from typing import TextIO

from tuning.signals import discard_lost_output, interrupt, interrupt_received

__all__ = ["Stdout"]


class Stdout(io.TextIOBase):
    """A text stream over the current `sys.stdout` that turns a lost reader into an interrupt.

    With `keep_going`, the command carries on instead (its output discarded), for
    work whose result is worth more than its progress lines: `tune retrain`.
    """

    def __init__(self, keep_going: bool = False) -> None:
        super().__init__()
        self._keep_going = keep_going

    def write(self, text: str) -> int:
        try:
            return _stdout().write(text)
        except OSError as exc:
            self._lost(exc)
            return len(text)

    def flush(self) -> None:
        try:
            _stdout().flush()
        except OSError as exc:
            self._lost(exc)

    def isatty(self) -> bool:
        return _stdout().isatty()

    def fileno(self) -> int:
        return _stdout().fileno()

    @property
    def encoding(self) -> str:  # type: ignore[override]
        return _stdout().encoding

    def _lost(self, error: OSError) -> None:
        if not discard_lost_output():
            raise error  # a full disk, say, not a lost reader
        with contextlib.suppress(OSError):
            _stdout().flush()  # what was buffered for the lost reader goes to /dev/null now
        if self._keep_going:
            with contextlib.suppress(OSError):  # stderr may have lost its reader too
                sys.stderr.write("tune: output closed (broken pipe); carrying on without it\n")
            self._keep_going = False  # said once; a later loss cannot happen (stdout is /dev/null now)
            return
        if interrupt_received() is None and threading.current_thread() is threading.main_thread():
            raise interrupt(signal.SIGPIPE)


def _stdout() -> TextIO:
    """`sys.stdout`, or the stream behind it while a rich live display redirects it to the console."""
    return getattr(sys.stdout, "rich_proxied_file", sys.stdout)
