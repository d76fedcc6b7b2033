"""The exception types of `tune`, and the checks and formatting every module shares.

``TuneError`` is a problem the user can fix (bad input, missing data, a bad
search space, an unreachable storage): the CLI shows its message as one line
and exits with status 2. ``TrialFailed`` fails a single trial (NaN loss, out of
memory): the trial is recorded as failed with its reason and the search goes on.
Anything else is a bug and keeps its traceback.
"""

from __future__ import annotations

from collections.abc import Iterable

__all__ = [
    "Interrupted",
    "SettingError",
    "TrialFailed",
    "TuneError",
    "check_choice",
    "check_range",
    "check_whole",
    "check_whole_fields",
    "first_line",
]


class TuneError(Exception):
    """A user-facing problem, reported as one line with exit status 2."""


class SettingError(TuneError):
    """An impossible value of one setting, named as the Python API's keyword: "trials must be ..., but got trials=0".

    The CLI words it as its option instead (`as_option`): "--trials must be ..., but got 0".
    """

    def __init__(self, setting: str, requirement: str, value: object, note: str = "") -> None:
        self.setting = setting  # the keyword (a settings dataclass field), e.g. "max_train_samples"
        self.requirement = requirement  # e.g. "must be a whole number >= 1"
        self.value = value
        self.note = note  # appended to the value, e.g. " (1499 images)"
        super().__init__(f"{setting} {requirement}, but got {setting}={value!r}{note}")

    def as_option(self, flag: str) -> TuneError:
        """The same problem for a command line, where the setting is the option `flag` (e.g. "--trials")."""
        return TuneError(f"{flag} {self.requirement}, but got {self.value!r}{self.note}")


class TrialFailed(Exception):
    """One trial failed; the study records it and continues."""


class Interrupted(KeyboardInterrupt):
    """SIGINT, SIGTERM or SIGHUP arrived, or stdout's reader went away (SIGPIPE); the running trial
    is recorded as failed ("interrupted").

    A KeyboardInterrupt, so every handler of Ctrl-C handles the others the same way;
    `signum` gives the exit status (128 + signum).
    """

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum


def check_whole(name: str, value: object, minimum: int = 1) -> None:
    """Raise SettingError unless `value` is a whole number (not a bool) >= `minimum`."""
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise SettingError(name, f"must be a whole number >= {minimum}", value)


def check_whole_fields(config: object, names: Iterable[str], *, optional: Iterable[str] = ()) -> None:
    """`check_whole` on each field of a settings dataclass named in `names`, and in `optional` unless None."""
    for name in names:
        check_whole(name, getattr(config, name))
    for name in optional:
        if getattr(config, name) is not None:
            check_whole(name, getattr(config, name))


def check_range(name: str, value: float, low: float, high: float, shown: str = "") -> None:
    """Raise SettingError unless low <= `value` <= high; `shown` words the range if not "between LOW and HIGH"."""
    if not low <= value <= high:
        raise SettingError(name, f"must be {shown or f'between {low:g} and {high:g}'}", value)


def check_choice(what: str, value: object, choices: Iterable[str]) -> None:
    """Raise TuneError unless `value` is one of `choices` ("unknown pruner 'x'; choose one of: ...")."""
    choices = tuple(choices)
    if value not in choices:
        raise TuneError(f"unknown {what} {value!r}; choose one of: {', '.join(choices)}")


def first_line(exc: BaseException) -> str:
    """The first non-empty line of an exception's message, or its type name if it has none."""
    lines = str(exc).strip().splitlines()
    return lines[0] if lines else type(exc).__name__
