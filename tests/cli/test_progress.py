"""The running study's display: the study ETA, the epoch bar, and the lines written when output is not a terminal."""

from __future__ import annotations

import io
import math
from datetime import datetime, timedelta

import optuna
import pytest
from rich.console import Console

from tuning.cli.progress import TrialProgress, describe_trial, eta_seconds
from tuning.search.rungs import expected_epochs
from tuning.text import format_duration


def test_eta_is_the_mean_sampled_trial_once_enough_finished_times_the_trials_left() -> None:
    ten = [50.0] * 5 + [70.0] * 5
    assert eta_seconds(trial_seconds=ten, left=40, expected_epochs=1.0, epoch_seconds=1.0) == 2400.0
    assert eta_seconds(trial_seconds=[60.0] * 10, left=40, jobs=4, expected_epochs=1.0) == 600.0  # 4 at a time
    assert eta_seconds(trial_seconds=[60.0] * 10, left=2, running_for=20.0, expected_epochs=1.0) == 100.0
    assert eta_seconds(trial_seconds=[60.0], left=0, expected_epochs=1.0) == 0.0


def test_before_that_the_eta_is_expected_epochs_at_the_pace_so_far() -> None:
    eta = eta_seconds(trial_seconds=[], left=10, epoch_seconds=30.0, expected_epochs=0.5, running_for=45.0)
    assert eta == 105.0
    assert eta_seconds(trial_seconds=[600.0, 5.0], left=10, epoch_seconds=30.0, expected_epochs=0.5) == 150.0
    assert eta_seconds(trial_seconds=[60.0], left=10, expected_epochs=0.5) == 600.0  # no pace: the mean
    assert math.isnan(eta_seconds(trial_seconds=[], left=10, expected_epochs=6.0))


def _finished(number: int, seconds: float, epochs: float, **stored: object) -> optuna.trial.FrozenTrial:
    start = datetime(2026, 11, 30, 12, 0, 0)
    trial = optuna.trial.create_trial(value=0.9, user_attrs={"epochs_run": epochs, "best_epoch": 1, **stored})
    trial.number, trial.datetime_start, trial.datetime_complete = number, start, start + timedelta(seconds=seconds)
    return trial


def test_the_start_trial_sets_the_pace_but_does_not_stand_for_the_pruned_trials() -> None:
    # A 50-trial halving study (0.75 of 6 epochs per trial): the start trial ran all 6 epochs in 160 s.
    out = io.StringIO()
    expected = expected_epochs("halving", 6, 4, 4)
    study = optuna.create_study(direction="maximize")
    with TrialProgress(Console(file=out), total=50, epochs=6, expected_epochs=expected, period=3600.0) as progress:
        progress.on_trial(study, _finished(0, 160.0, 6.0, start=True))
        assert progress.eta() == pytest.approx(160.0 / 6 * expected * 49, rel=0.01)  # not 49 x 160 s
        progress.on_trial(study, _finished(1, 20.0, 0.25))
        assert progress.eta() == pytest.approx(180.0 / 6.25 * expected * 48, rel=0.01)  # the pace of both
    assert "1 of 50 done" in out.getvalue() and "2 of 50 done" in out.getvalue()


def test_a_study_whose_first_trial_ran_every_epoch_is_not_estimated_by_that_trial() -> None:
    # Recorded 2026-12-01: a 50-trial cnn study without the start trial took about 25 minutes; its first
    # trial ran all 6 epochs (225 s), the next nine stopped at a quarter epoch. The ETA once read 3 h 10 min.
    seconds = [225.0, 14.0, 6.0, 11.0, 28.0, 13.0, 12.0, 23.0, 19.0, 3.0]
    study_seconds = 25 * 60.0
    expected = expected_epochs("halving", 6, 4, 4)
    study = optuna.create_study(direction="maximize")
    progress = TrialProgress(Console(file=io.StringIO()), total=50, epochs=6, expected_epochs=expected, period=3600.0)
    for number, spent in enumerate(seconds):
        progress.on_trial(study, _finished(number, spent, 6.0 if number == 0 else 0.25))
        left = study_seconds - sum(seconds[: number + 1])
        assert 0.5 * left < progress.eta() < 2 * left, (number, progress.eta(), left)


@pytest.mark.parametrize(
    ("pruner", "epochs", "factor", "checks", "expected"),
    [
        ("halving", 6, 4, 4, 1 + 3 / 4 + 20 / 16),  # checks 1, 4 of 24, a quarter going on at each; 16 is the top
        ("halving", 60, 4, 4, 1 + 3 / 4 + 12 / 16 + 224 / 64),  # checks 1, 4, 16 of 240; 64 is the top
        ("halving", 8, 4, 1, 1 + 7 / 4),  # epoch 1 of 8; epoch 4 is the top rung
        ("halving", 1, 4, 1, 1.0),  # one check: nothing to prune
        ("hyperband", 8, 4, 1, ((1 + 3 / 4 + 4 / 16) + (4 + 4 / 4)) / 2),  # brackets starting at 1 and at 4
        ("median", 6, 4, 4, 24.0),  # an upper bound
        ("none", 6, 4, 4, 24.0),
    ],
)
def test_expected_epochs_per_trial_under_each_pruner(
    pruner: str, epochs: int, factor: int, checks: int, expected: float
) -> None:
    assert expected_epochs(pruner, epochs, factor, checks) == pytest.approx(expected / checks)


@pytest.mark.parametrize(
    ("seconds", "shown"),
    [(float("nan"), "?"), (42.4, "42 s"), (61.0, "1 min"), (2400.0, "40 min"), (3900.0, "1 h 05 min")],
)
def test_durations_read_like_a_person_would_say_them(seconds: float, shown: str) -> None:
    assert format_duration(seconds) == shown


def _trial(number: int, value: float) -> optuna.trial.FrozenTrial:
    trial = optuna.trial.create_trial(value=value, user_attrs={"epochs_run": 2, "best_epoch": 2})
    trial.number = number
    return trial


def test_piped_output_gets_a_line_per_trial_and_periodic_progress() -> None:
    out = io.StringIO()
    console = Console(file=out, width=160)  # a file: not a terminal
    assert not console.is_terminal
    study = optuna.create_study(direction="maximize")
    with TrialProgress(console, total=3, epochs=2, period=0.0) as progress:
        progress.on_epoch(0, 0.25, {"val_accuracy": 0.5})
        progress.on_epoch(0, 0.5, {"val_accuracy": 0.6})
        study.add_trial(_trial(0, 0.7))
        progress.on_trial(study, study.trials[0])
        progress.on_epoch(1, 0.25, {"val_accuracy": 0.55})
    lines = [line for line in out.getvalue().splitlines() if line]
    assert lines[0].startswith("  trial 0: epoch 0.25 of 2, val_acc 0.5000; 0 of 3 trials done, ETA ")
    assert lines[1].startswith("  trial 0: epoch 0.5 of 2, val_acc 0.6000; 0 of 3 trials done, ETA ")
    assert lines[2].startswith("trial   0  complete  val_acc 0.7000  best epoch 2/2")
    assert "start" not in lines[2]
    assert lines[2].split("; ")[-1].startswith("1 of 3 done, ETA ") and "ETA ?" not in lines[2]
    assert lines[3].startswith("  trial 1: epoch 0.25 of 2, val_acc 0.5500; 1 of 3 trials done, ETA ")
    assert len(lines) == 4


def test_progress_lines_wait_for_the_period_and_a_terminal_gets_bars_instead() -> None:
    piped = io.StringIO()
    with TrialProgress(Console(file=piped), total=3, epochs=2, period=3600.0) as progress:
        progress.on_epoch(0, 0.25, {"val_accuracy": 0.5})
    assert piped.getvalue().strip() == ""
    terminal = io.StringIO()
    with TrialProgress(Console(file=terminal, force_terminal=True), total=3, epochs=2, period=0.0) as progress:
        progress.on_epoch(0, 0.25, {"val_accuracy": 0.5})
        bar = progress._progress.tasks[1]  # the epoch bar advances at each check, within the epoch
        assert (bar.completed, bar.total) == (0.25, 2)
    assert "trial 0: epoch" not in terminal.getvalue()


def test_the_start_trial_is_named_as_such() -> None:
    trial = optuna.trial.create_trial(value=0.9, user_attrs={"epochs_run": 6, "best_epoch": 6, "start": True})
    assert describe_trial(trial).endswith("best epoch 6/6  (0.0 s)  (start configuration)")
