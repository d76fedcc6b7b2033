"""The study ETA shown beside the trials bar."""

from __future__ import annotations

import math

import pytest

from tuning.cli.progress import eta_seconds, format_duration


def test_eta_is_the_pace_so_far_times_the_trials_left() -> None:
    assert eta_seconds(elapsed=600.0, done=10, total=50) == 2400.0
    assert eta_seconds(elapsed=600.0, done=50, total=50) == 0.0
    assert math.isnan(eta_seconds(elapsed=5.0, done=0, total=50))


@pytest.mark.parametrize(
    ("seconds", "shown"),
    [(float("nan"), "?"), (42.4, "42 s"), (61.0, "1 min"), (2400.0, "40 min"), (3900.0, "1 h 05 min")],
)
def test_durations_read_like_a_person_would_say_them(seconds: float, shown: str) -> None:
    assert format_duration(seconds) == shown
