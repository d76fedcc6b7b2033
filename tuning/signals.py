"""SIGINT and SIGTERM raise `Interrupted` once, so the running trial gets recorded and the command stops cleanly.

A signal's exception is raised wherever Python happens to be; inside TensorFlow's own
code it can come out as another error (seen: a TypeError converting a batch when a
worker got SIGTERM mid-epoch). `interrupt_received` lets the trainer tell such an
error from a bug.
"""

from __future__ import annotations

import signal
from typing import Any

from tuning.errors import Interrupted

__all__ = ["interrupt_received", "raise_on_signals"]

# The signal that arrived in this process, if any: signal handlers are process-wide state.
_received: list[int] = []


def raise_on_signals() -> None:
    """Make SIGINT and SIGTERM raise `Interrupted` once; later signals are ignored.

    Ignored, because the clean-up (recording the trial) must not be cut short.
    """

    def ignore(signum: int, frame: Any) -> None:
        pass  # a callable, not SIG_IGN: a signal already on its way must not raise "race condition"

    def handler(signum: int, frame: Any) -> None:
        signal.signal(signal.SIGINT, ignore)
        signal.signal(signal.SIGTERM, ignore)
        _received.append(signum)
        raise Interrupted(signum)

    signal.signal(signal.SIGINT, handler)
    signal.signal(signal.SIGTERM, handler)


def interrupt_received() -> Interrupted | None:
    """The interrupt this process got, if a signal arrived since `raise_on_signals`."""
    return Interrupted(_received[0]) if _received else None
