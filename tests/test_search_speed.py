"""bench/search_speed.py's account of where a study's time went, on hand-made trials with known spans."""

from __future__ import annotations

import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

from optuna.trial import FrozenTrial, TrialState

from tuning import attrs

BENCH = Path(__file__).resolve().parents[1] / "bench"
if str(BENCH) not in sys.path:
    sys.path.append(str(BENCH))

import search_speed  # noqa: E402

ORIGIN = datetime(2026, 12, 2, tzinfo=UTC)


def _trial(number: int, state: str, began: float, ended: float, checks: list[float], **user: object) -> FrozenTrial:
    return FrozenTrial(
        number=number,
        state=TrialState[state],
        value=0.9 if state == "COMPLETE" else None,
        datetime_start=ORIGIN + timedelta(seconds=began),
        datetime_complete=ORIGIN + timedelta(seconds=ended),
        params={},
        distributions={},
        user_attrs={attrs.CHECK_SECONDS: checks, **user},
        system_attrs={},
        intermediate_values={},
        trial_id=number,
    )


def test_time_split_by_outcome_with_what_lies_outside_the_checks_and_between_trials() -> None:
    trials = [  # R = 10 s
        _trial(0, "COMPLETE", 0, 40, [10, 10, 10, 9], **{attrs.START: True}),  # 1 s outside its checks
        _trial(1, "PRUNED", 41, 46, [3], **{attrs.EPOCHS_RUN: 0.25}),  # 2 s outside; 1 s after trial 0
        _trial(2, "COMPLETE", 48, 78, [15, 14]),  # 1 s outside; 2 s between
        _trial(3, "PRUNED", 79, 99, [5, 5, 5, 5], **{attrs.EPOCHS_RUN: 1}),  # 0 outside; 1 s between
        _trial(4, "PRUNED", 100, 104, [4], **{attrs.EPOCHS_RUN: 0.25}),  # 1 s between
        _trial(5, "FAIL", 200, 203, [2]),  # 96 s after trial 4: a pause between runs, not counted; 1 s outside
    ]
    assert search_speed.time_split(trials, 10.0) == [
        "trial time by outcome: start trial: 1 trial, 4.0 R; complete: 1 trial, 3.0 R; stopped at epoch 1: 1 trial, "
        "2.0 R; stopped at epoch 0.25: 2 trials, 0.9 R; failed: 1 trial, 0.3 R",
        "within trials outside their checks: 0.5 R; between trials: 0.5 R",
    ]
