"""bench/search_speed.py's account of where a study's time went, on hand-made trials with known spans."""

from __future__ import annotations

import argparse
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
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


def _checked(number: int, state: str, began: float, values: list[float], **user: object) -> FrozenTrial:
    """A trial of 4 checks an epoch, each 10 s, with these validation accuracies."""
    checks = [10.0] * len(values)
    curve = {attrs.CHECKS_PER_EPOCH: 4, attrs.VAL_ACCURACY_PER_CHECK: values, attrs.EPOCHS_RUN: len(values) / 4}
    trial = _trial(number, state, began, began + 10 * len(values) + 1, checks, **curve, **user)
    trial.value = values[-1] if state == "COMPLETE" else None
    return trial


def test_search_seeds_reads_a_study_from_its_summary_as_from_the_storage(tmp_path: Path) -> None:
    """A study run on another machine is summed up from its committed STUDY.txt: the figures search_seeds reads from
    the storage come out the same from the text search_speed wrote about the same trials."""
    import optuna
    import search_seeds

    trials = [
        _checked(0, "COMPLETE", 0, [0.85, 0.90, 0.925, 0.93], **{attrs.START: True}),
        _checked(1, "PRUNED", 42, [0.80]),
        _checked(2, "COMPLETE", 53, [0.86, 0.91, 0.92, 0.935]),
        _checked(3, "FAIL", 95, [0.84, 0.88], **{attrs.FAIL_REASON: "interrupted"}),
    ]
    storage = f"sqlite:///{tmp_path / 's.db'}"
    study = optuna.create_study(study_name="seeded", storage=storage, direction="maximize")
    study.add_trials(trials)
    header = search_speed.Header("2026-12-02T00:00:00+00:00", 2, "a CPU", [], 20.0, "given")
    curve = search_speed.anytime_curve(trials)
    rows = search_speed._curve_rows(curve, 20.0)
    text = search_speed._summary(header, ["python", "run"], search_speed.Session(120, 0, False), trials, curve, rows)
    text += search_speed.r_drift(20.0, 25.0)  # --check-r: the machine slowed by a quarter
    (tmp_path / "seeded.txt").write_text(text, encoding="utf-8")
    args = argparse.Namespace(storage=storage, results=str(tmp_path), trials=4)

    stored = search_seeds._row("seeded", args)
    from_text = search_seeds.row_from_summary("seeded", text, 4)

    assert from_text["study"] == stored["study"] == "seeded"
    assert (from_text["trials"], from_text["complete"], from_text["pruned"], from_text["failed"]) == (4, 2, 1, 1)
    for key in (
        "trials",
        "finished",
        "complete",
        "pruned",
        "failed",
        "best",
        "best_is_start",
        "best_sampled",
    ):
        assert from_text[key] == stored[key], key
    for key in ("R", "cost_R", *(f"to_{value}" for value, _ in search_seeds.TARGETS)):
        assert from_text[key] == pytest.approx(stored[key], abs=0.05), key  # the text rounds to 0.1 R
    assert stored["best"] == 0.935 and not stored["best_is_start"]
    assert stored["R_after"] == from_text["R_after"] == 25.0  # both read it from the text: the storage has none
    table = search_seeds._markdown([stored], args)
    cost = stored["cost_R"]
    assert f"| 20.0 | 25.0 (+25%, over 10%) | 4 | 2 | 1 | 1 | {cost:.1f}; {cost * 0.8:.1f} in R after |" in table
    assert f"- cost (R after): mean {cost * 0.8:.1f}, sd - (one value)" in table
    no_check = search_seeds.row_from_summary("seeded", text.split("R after the search")[0], 4)
    assert no_check["R_after"] is None and "| 20.0 | not measured |" in search_seeds._markdown([no_check], args)
    # When the start configuration is the best, the text does not say which sampled trial came next.
    start_best = text.replace("93.50% (trial 2,", "93.50% (trial 0,")
    assert search_seeds.row_from_summary("seeded", start_best, 4)["best_sampled"] is None


def test_r_measured_again_after_the_search_says_when_the_machines_speed_moved() -> None:
    assert search_speed.r_drift(142.0, None) == ""
    steady = search_speed.r_drift(142.0, 150.0)  # +5.6%
    assert steady == "R after the search = 150.0 s (+6% from 142.0 s): within 10%\n"
    slowed = search_speed.r_drift(142.0, 205.3)  # +44.6%, as measured on 2026-12-03
    assert slowed.startswith("R after the search = 205.3 s (+45% from 142.0 s): the machine's speed changed")
    assert "not comparable" in search_speed.r_drift(142.0, 120.0)  # -15.5%
