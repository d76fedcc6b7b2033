"""The two exception types of `tune`.

``TuneError`` is a problem the user can fix (bad input, missing data, a bad
search space, an unreachable storage): the CLI shows its message as one line
and exits with status 2. ``TrialFailed`` fails a single trial (NaN loss, out of
memory): the trial is recorded as failed with its reason and the search goes on.
Anything else is a bug and keeps its traceback.
"""

from __future__ import annotations

__all__ = ["Interrupted", "TrialFailed", "TuneError", "check_whole"]


class TuneError(Exception):
    """A user-facing problem, reported as one line with exit status 2."""


def check_whole(name: str, value: object, minimum: int = 1) -> None:
    """Raise TuneError unless `value` is a whole number (not a bool) >= `minimum`."""
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise TuneError(f"{name} must be a whole number >= {minimum}, but got {name}={value!r}")


class TrialFailed(Exception):
    """One trial failed; the study records it and continues."""


class Interrupted(KeyboardInterrupt):
    """SIGINT or SIGTERM arrived; the running trial is recorded as failed ("interrupted").

    A KeyboardInterrupt, so every handler of Ctrl-C handles SIGTERM the same way;
    `signum` gives the exit status (128 + signum).
    """

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum
