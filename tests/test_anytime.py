"""The anytime curve (tuning/anytime.py) on hand-made trials whose times and checks are known."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from optuna.trial import FrozenTrial, TrialState

from tuning import attrs
from tuning.anytime import MAX_IDLE_SECONDS, anytime_curve

ORIGIN = datetime(2026, 12, 2, tzinfo=UTC)


def _trial(
    number: int,
    state: str,
    start: float,
    checks: list[tuple[float, float]],  # (seconds, validation accuracy) per check
    end: float | None = None,
    reason: str | None = None,
) -> FrozenTrial:
    """A trial that started `start` s after ORIGIN, trained `checks` at 2 checks per epoch, and ended at `end`."""
    stored = {
        attrs.CHECKS_PER_EPOCH: 2,
        attrs.CHECK_SECONDS: [seconds for seconds, _ in checks],
        attrs.VAL_ACCURACY_PER_CHECK: [value for _, value in checks],
        **({attrs.FAIL_REASON: reason} if reason else {}),
    }
    done = TrialState[state]
    return FrozenTrial(
        number=number,
        state=done,
        value=max(v for _, v in checks) if done == TrialState.COMPLETE else None,
        datetime_start=ORIGIN + timedelta(seconds=start),
        datetime_complete=None if end is None else ORIGIN + timedelta(seconds=end),
        params={},
        distributions={},
        user_attrs=stored,
        system_attrs={},
        intermediate_values={step: v for step, (_, v) in enumerate(checks, start=1)},
        trial_id=number,
    )


def _points(trials: list[FrozenTrial]) -> list[tuple[float, float, int, float, float]]:
    return [(p.seconds, p.epochs_spent, p.trial, p.epoch, p.best) for p in anytime_curve(trials).points]


def test_each_check_ends_at_its_trials_start_plus_its_check_seconds_and_short_gaps_count() -> None:
    trials = [
        _trial(0, "COMPLETE", 0, [(10, 0.5), (10, 0.7)], end=25),
        _trial(1, "PRUNED", 30, [(10, 0.6)], end=42),  # 5 s after trial 0: sampling, counted
    ]
    assert _points(trials) == [(10, 0.5, 0, 0.5, 0.5), (20, 1.0, 0, 1.0, 0.7), (40, 1.5, 1, 0.5, 0.7)]
    curve = anytime_curve(trials)
    assert (curve.span_seconds, curve.cuts, curve.cut_seconds) == (42, 0, 0)


def test_a_pause_between_runs_is_cut_out() -> None:
    later = 25 + MAX_IDLE_SECONDS + 100
    trials = [
        _trial(0, "COMPLETE", 0, [(10, 0.5), (10, 0.7)], end=25),
        _trial(1, "COMPLETE", later, [(10, 0.8)], end=later + 12),
    ]
    curve = anytime_curve(trials)
    assert [p.seconds for p in curve.points] == [10, 20, 35]
    assert (curve.span_seconds, curve.cuts, curve.cut_seconds) == (37, 1, MAX_IDLE_SECONDS + 100)


def test_a_killed_trial_counts_its_checks_time_only_and_an_interrupted_one_until_it_ended() -> None:
    killed = _trial(1, "FAIL", 20, [(10, 0.9)], end=5000)  # failed when a worker found it stale
    curve = anytime_curve([_trial(0, "PRUNED", 0, [(10, 0.5)], end=15), killed])
    assert (curve.span_seconds, curve.points[-1].seconds, curve.points[-1].best) == (30, 30, 0.9)
    interrupted = _trial(1, "FAIL", 20, [(10, 0.9)], end=34, reason="interrupted")
    assert anytime_curve([_trial(0, "PRUNED", 0, [(10, 0.5)], end=15), interrupted]).span_seconds == 34


def test_parallel_trials_count_once_and_running_ones_not_at_all() -> None:
    trials = [
        _trial(0, "COMPLETE", 0, [(8, 0.5), (8, 0.6)], end=20),
        _trial(1, "PRUNED", 5, [(8, 0.55)], end=25),  # overlaps trial 0
        _trial(2, "RUNNING", 10, [(8, 0.99)]),
    ]
    curve = anytime_curve(trials)
    assert [(p.seconds, p.trial) for p in curve.points] == [(8, 0), (13, 1), (16, 0)]
    assert curve.span_seconds == 25 and curve.top is not None and curve.top.val_accuracy == 0.6


@pytest.mark.parametrize(("target", "expected"), [(0.55, 13.0), (0.6, 16.0), (0.61, None)])
def test_reached_is_the_first_check_at_which_the_best_passed_the_target(target: float, expected: float | None) -> None:
    trials = [_trial(0, "COMPLETE", 0, [(8, 0.5), (8, 0.6)], end=20), _trial(1, "PRUNED", 5, [(8, 0.55)], end=25)]
    hit = anytime_curve(trials).reached(target)
    assert (None if hit is None else hit.seconds) == expected


def test_trials_without_check_times_place_their_checks_at_their_end() -> None:
    old = _trial(0, "PRUNED", 0, [(10, 0.61)], end=12)
    old.user_attrs.pop(attrs.CHECK_SECONDS)
    assert _points([old]) == [(12, 0.5, 0, 0.5, 0.61)]
