"""The anytime curve of a study: the best validation accuracy so far, against busy time and epochs spent.

The curve has a point after every check of every trial. `tune compare`, `tune report` and
the bench scripts all draw it from here.

One rule for time. A trial is busy from its start to its end, where its end is when it
finished if tune ended it (complete, pruned, or failed with a recorded reason: a NaN loss,
an interrupt); a trial whose process was killed is failed later, when a worker finds it
stale, so it counts only the seconds its recorded checks took. The study's clock runs while
any trial is busy, and through gaps of up to `MAX_IDLE_SECONDS` between them (the search's
own work: sampling, starting a process); longer gaps are pauses between runs of a resumed
study and are cut out. Trials of parallel workers that overlap count once.

One rule for values. Every recorded check counts, whatever became of its trial: the
search measured that accuracy, even if it then stopped the trial, or the trial failed later.
Check k of a trial ends at its start plus the seconds of its first k checks.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from tuning import attrs

if TYPE_CHECKING:
    from optuna.trial import FrozenTrial

__all__ = ["MAX_IDLE_SECONDS", "AnytimeCurve", "CurvePoint", "anytime_curve"]

MAX_IDLE_SECONDS = 60.0


@dataclass(frozen=True)
class CurvePoint:
    """One check: when it ended on the study's clock, what the study had spent, and the best so far."""

    seconds: float  # on the study's clock (busy time, pauses cut)
    epochs_spent: float  # epochs every trial together had trained by then
    trial: int
    epoch: float  # epochs this trial had trained: 0.25, 0.5, ... with 4 checks per epoch
    val_accuracy: float  # of this check
    best: float  # the best validation accuracy of any check so far


@dataclass(frozen=True)
class AnytimeCurve:
    """Every check of a study in time order, and how long the study ran."""

    points: tuple[CurvePoint, ...]
    span_seconds: float  # the study's clock at its last trial's end
    cut_seconds: float  # pauses cut out
    cuts: int

    def reached(self, target: float) -> CurvePoint | None:
        """The first check at which the best reached `target`; None if none did."""
        return next((point for point in self.points if point.best >= target), None)

    @property
    def top(self) -> CurvePoint | None:
        """The check with the best validation accuracy (the first such)."""
        return max(self.points, key=lambda point: point.val_accuracy, default=None)


def anytime_curve(trials: Sequence[FrozenTrial]) -> AnytimeCurve:
    """The curve of a study with these trials (unstarted and still running ones add nothing)."""
    started = [t for t in trials if t.datetime_start is not None and t.state.is_finished()]
    spans = sorted((_start(t), _end(t)) for t in started)
    clock = _Clock(spans)
    checks = sorted(
        (when, trial.number, epoch, value, 1 / curve.checks_per_epoch)
        for trial in started
        for curve in [attrs.curve_of(trial.user_attrs)]
        for when, epoch, value in _check_ends(trial, curve)
    )
    points, best, spent = [], float("-inf"), 0.0
    for when, number, epoch, value, epochs in checks:
        best, spent = max(best, value), spent + epochs
        points.append(CurvePoint(clock.at(when), round(spent, 6), number, round(epoch, 6), value, best))
    last = max((end for _, end in spans), default=0.0)
    return AnytimeCurve(tuple(points), clock.at(last), clock.cut_seconds, clock.cuts)


def _start(trial: FrozenTrial) -> float:
    return trial.datetime_start.timestamp()  # type: ignore[union-attr]


def _end(trial: FrozenTrial) -> float:
    ended_by_tune = trial.state.name in ("COMPLETE", "PRUNED") or attrs.FAIL_REASON in trial.user_attrs
    if ended_by_tune and trial.datetime_complete is not None:
        return trial.datetime_complete.timestamp()
    return _start(trial) + sum(attrs.curve_of(trial.user_attrs).seconds)


def _check_ends(trial: FrozenTrial, curve: attrs.TrialCurve) -> list[tuple[float, float, float]]:
    """(when, epochs trained, validation accuracy) of each recorded check of the trial."""
    if len(curve.seconds) == len(curve.val_accuracy) and curve.val_accuracy:
        elapsed, ends = _start(trial), []
        for seconds, epoch, value in zip(curve.seconds, curve.epochs, curve.val_accuracy, strict=True):
            elapsed += seconds
            ends.append((elapsed, epoch, value))
        return ends
    # Without check times (studies older than them): every check at the trial's end.
    values = [trial.intermediate_values[step] for step in sorted(trial.intermediate_values)]
    return [(_end(trial), (index + 1) / curve.checks_per_epoch, v) for index, v in enumerate(values)]


class _Clock:
    """Busy time since the first start: the union of the spans, gaps up to MAX_IDLE_SECONDS included."""

    def __init__(self, spans: list[tuple[float, float]]) -> None:
        self._runs: list[tuple[float, float]] = []  # merged (start, end), in order
        self.cut_seconds, self.cuts = 0.0, 0
        for start, end in spans:
            if self._runs and start - self._runs[-1][1] <= MAX_IDLE_SECONDS:
                first, reach = self._runs[-1]
                self._runs[-1] = (first, max(reach, end))
                continue
            if self._runs:
                self.cut_seconds += start - self._runs[-1][1]
                self.cuts += 1
            self._runs.append((start, end))

    def at(self, when: float) -> float:
        """The busy seconds from the first start up to `when`."""
        return sum(max(0.0, min(end, when) - start) for start, end in self._runs)
