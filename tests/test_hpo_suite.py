"""bench/hpo_suite.py and its arithmetic (bench/hpo_aggregate.py) on hand-made curves and trials with known answers,
and its `tune run` commands as the real command line parses them. Nothing trains."""

from __future__ import annotations

import math
import sys
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from optuna.trial import FrozenTrial, TrialState

from tuning import attrs
from tuning.anytime import AnytimeCurve, CurvePoint, anytime_curve

BENCH = Path(__file__).resolve().parents[1] / "bench"
if str(BENCH) not in sys.path:
    sys.path.append(str(BENCH))  # after the package and the tests: a bench script's name shadows nothing

import hpo_suite  # noqa: E402
from hpo_aggregate import (  # noqa: E402
    Paired,
    SeedCurve,
    aggregate,
    paired,
    ranks,
    resample,
    spread,
    step_value,
    task_target,
)

R = 10.0  # seconds per R in the hand-made curves
BUDGET = 4.0  # R
STEPS = 4  # time grid: 0, 1, 2, 3, 4 R


def _curve(task: str, method: str, seed: int, checks: list[tuple[float, float, float]]) -> SeedCurve:
    """A study whose checks ended at these (seconds, epochs spent, best so far)."""
    points = tuple(CurvePoint(s, e, trial=0, epoch=e, val_accuracy=best, best=best) for s, e, best in checks)
    span = checks[-1][0] if checks else 0.0
    return SeedCurve(task, method, seed, AnytimeCurve(points, span_seconds=span, cut_seconds=0.0, cuts=0), R)


# Task t1: methods a and b, two seeds each, and c with one seed; t2: a and b tie for a while.
T1 = [
    _curve("t1", "a", 0, [(5, 1, 0.60), (15, 2, 0.70), (35, 3, 0.80), (45, 4, 0.99)]),  # the last past the budget
    _curve("t1", "a", 1, [(10, 1, 0.50), (25, 2, 0.90)]),
    _curve("t1", "b", 0, [(20, 1, 0.70), (30, 2, 0.75)]),
    _curve("t1", "b", 1, [(20, 1, 0.65), (40, 2, 0.85)]),
    _curve("t1", "c", 0, [(5, 1, 0.95)]),
]
T2 = [
    _curve("t2", "a", 0, [(10, 1, 0.5)]),
    _curve("t2", "a", 1, [(10, 1, 0.7)]),
    _curve("t2", "b", 0, [(10, 1, 0.6)]),
    _curve("t2", "b", 1, [(10, 1, 0.6), (30, 2, 0.8)]),
]


def _means(values: list[float]) -> list[object]:
    """Comparable to a list of expected means, None where there is none."""
    return [None if math.isnan(v) else pytest.approx(v) for v in values]


def test_a_step_curve_holds_each_best_from_its_check_on_and_has_no_value_before_or_past_its_end() -> None:
    xs, ys = [1.0, 2.5], [0.5, 0.9]
    assert math.isnan(step_value(xs, ys, 0.99))
    assert [step_value(xs, ys, x) for x in (1.0, 2.49, 2.5, 100.0)] == [0.5, 0.5, 0.9, 0.9]
    assert math.isnan(step_value(xs, ys, 2.6, end=2.5))
    assert _means(resample(xs, ys, [0, 1, 2, 3])) == [None, 0.5, 0.5, 0.9]


def test_spread_is_mean_sample_sd_and_range_and_nothing_where_a_seed_has_no_value() -> None:
    s = spread([0.6, 0.5, 0.7])
    assert (s.mean, s.sd, s.low, s.high, s.n) == (pytest.approx(0.6), pytest.approx(0.1), 0.5, 0.7, 3)
    assert math.isnan(spread([0.8]).sd) and spread([0.8]).mean == 0.8
    missing = spread([0.8, math.nan])
    assert math.isnan(missing.mean) and missing.n == 1


def test_means_over_seeds_on_the_time_grid_with_sd_and_range() -> None:
    t1 = aggregate(T1, BUDGET, reference="b", steps=STEPS).tasks["t1"]
    a, b = t1.methods["a"].time_curve, t1.methods["b"].time_curve
    assert _means([p.mean for p in a]) == [None, 0.55, 0.60, 0.80, 0.85]
    assert _means([p.mean for p in b]) == [None, None, 0.675, 0.70, 0.80]
    assert a[1].sd == pytest.approx(math.sqrt(0.005)) and (a[1].low, a[1].high) == (0.5, 0.6)
    assert a[4].sd == pytest.approx(math.sqrt(0.005)) and (a[4].low, a[4].high) == (0.8, 0.9)
    assert b[1].n == 0 and b[2].n == 2


def test_the_epochs_axis_ends_each_seed_at_the_epochs_it_spent_within_the_budget() -> None:
    t1 = aggregate(T1, BUDGET, reference="b", steps=STEPS).tasks["t1"]
    assert t1.epoch_grid == (0.0, 0.75, 1.5, 2.25, 3.0)  # a's seed 0 spent 3 epochs by 4 R (its 4th came later)
    a = t1.methods["a"].epoch_curve
    assert _means([p.mean for p in a]) == [None, None, 0.55, None, None]
    assert (a[3].n, a[4].n) == (1, 1)  # past 2 epochs only seed 0 is still there
    assert t1.methods["a"].epochs.mean == pytest.approx(2.5)


def test_final_best_and_time_to_target_with_a_seed_that_never_reaches_it() -> None:
    t1 = aggregate(T1, BUDGET, reference="b", steps=STEPS).tasks["t1"]
    assert (t1.target, t1.target_from) == (pytest.approx(0.80), "b's mean final best")
    a, b, c = (t1.methods[m] for m in "abc")
    assert (a.final.mean, a.final.low, a.final.high) == (pytest.approx(0.85), 0.80, 0.90)  # not the 0.99 after 4 R
    assert (a.reached, a.to_target.mean, a.to_target.sd) == (2, pytest.approx(3.0), pytest.approx(math.sqrt(0.5)))
    assert (b.reached, b.to_target.mean, b.to_target.n) == (1, pytest.approx(4.0), 1)  # seed 0 ends at 0.75
    assert (c.reached, c.to_target.mean) == (1, pytest.approx(0.5))


def test_ranks_are_one_for_the_best_ties_share_their_mean_rank_and_no_value_ranks_last() -> None:
    assert ranks({"a": 0.9, "b": 0.8, "c": 0.9, "d": math.nan}) == {"a": 1.5, "c": 1.5, "b": 3.0, "d": 4.0}
    assert ranks({"a": math.nan, "b": math.nan}) == {"a": 1.5, "b": 1.5}


def test_ranks_over_time_per_task_and_averaged_over_the_tasks_each_method_ran_on() -> None:
    result = aggregate(T1 + T2, BUDGET, reference="b", steps=STEPS)
    assert result.time_grid == (0.0, 1.0, 2.0, 3.0, 4.0)
    assert result.tasks["t1"].ranks == {"a": [2, 2, 3, 2, 2], "b": [2, 3, 2, 3, 3], "c": [2, 1, 1, 1, 1]}
    assert result.tasks["t2"].ranks == {"a": [1.5, 1.5, 1.5, 2, 2], "b": [1.5, 1.5, 1.5, 1, 1]}  # tied at 0.6
    assert result.average_ranks == {
        "a": [1.75, 1.75, 2.25, 2.0, 2.0],
        "b": [1.75, 2.25, 1.75, 2.0, 2.0],
        "c": [2.0, 1.0, 1.0, 1.0, 1.0],
    }
    assert result.rank_tasks == {"a": 2, "b": 2, "c": 1}


def test_a_candidate_is_compared_with_the_default_seed_by_seed_on_the_pairs_both_finished() -> None:
    result = aggregate(T1 + T2, BUDGET, reference="b", steps=STEPS)
    # finals at 4 R: t1 a 0.80 (not 0.99: after 4 R), 0.90; b 0.75, 0.85; c 0.95 (seed 0 only);
    # t2 a 0.5, 0.7; b 0.6, 0.8
    b = paired(result, "b", "a")
    assert b.differences == {
        ("t1", 0): pytest.approx(-0.05),
        ("t1", 1): pytest.approx(-0.05),
        ("t2", 0): pytest.approx(0.1),
        ("t2", 1): pytest.approx(0.1),
    }
    assert (b.overall.mean, b.overall.sd, b.overall.n) == (pytest.approx(0.025), pytest.approx(0.15 / math.sqrt(3)), 4)
    assert (b.per_task["t1"].mean, b.per_task["t2"].mean) == (pytest.approx(-0.05), pytest.approx(0.1))
    assert (b.better, b.worse, b.equal) == (2, 2, 0)
    c = paired(result, "c", "a")  # one seed, on one task
    assert c.differences == {("t1", 0): pytest.approx(0.15)} and set(c.per_task) == {"t1"} and c.overall.n == 1
    same = paired(result, "a", "a")
    assert (same.better, same.worse, same.equal, same.overall.mean) == (0, 0, 4, 0.0)
    assert paired(result, "kt", "a").differences == {}  # a method that did not run has no pairs
    (row,) = hpo_suite._candidate_lines([b, paired(result, "kt", "a")], ["t1", "t2"], BUDGET)[-1:]
    assert row == (
        "| b | 4 | +2.50 ± 8.66 (-5.00 to +10.00) | 2 / 2 / 0 | no | -5.00 ± 0.00 (-5.00 to -5.00) "
        "| +10.00 ± 0.00 (+10.00 to +10.00) |"
    )


def _pairs(**per_task: list[float]) -> Paired:
    differences = {(task, seed): d for task, values in per_task.items() for seed, d in enumerate(values)}
    values = list(differences.values())
    spreads = {task: spread(v) for task, v in per_task.items()}
    return Paired("m", "tune", differences, spread(values), spreads, 0, 0)


def test_a_candidate_is_shown_better_when_its_mean_clears_its_standard_error_and_no_task_loses() -> None:
    # mean 0.02, sd 0.01 over 4 pairs: standard error 0.005
    assert _pairs(t1=[0.01, 0.02], t2=[0.03, 0.02]).shown_better
    # mean +0.16, sd 0.54 over 9 pairs: standard error 0.18 (the bootstrap-count row's shape)
    tasks = {"t1": [-0.47, 0.34, 1.28], "t2": [0.04, 0.67, 0.0], "t3": [0.0, 0.0, -0.42]}
    assert not _pairs(**tasks).shown_better
    assert not _pairs(t1=[0.05, 0.06], t2=[0.05, 0.04], t3=[-0.01, 0.0]).shown_better  # t3 loses on average
    assert not _pairs(t1=[0.05, 0.06, 0.07]).shown_better  # one task only
    assert not _pairs(t1=[0.0, 0.0], t2=[0.0, 0.0]).shown_better  # the same as tune's everywhere
    assert not _pairs(t1=[0.05], t2=[math.nan]).shown_better  # a pair without a value: no verdict


def test_the_aim_compares_the_default_with_the_target_method_per_task_and_says_whether_it_is_met() -> None:
    names = {"a": hpo_suite.BASE_METHOD, "b": hpo_suite.TARGET_METHOD}
    curves = [replace(c, method=names.get(c.method, c.method)) for c in T1 + T2]
    lines = hpo_suite._aim_lines(aggregate(curves, BUDGET, reference=hpo_suite.TARGET_METHOD, steps=STEPS))
    # t1: target 80% (b's finals 0.75, 0.85); a reaches it at 3.5 and 2.5 R (mean 3.0), b once, at 4 R
    assert "| t1 | 80.00% | 3.00 / 4.00 | 2 of 2 / 1 of 2 | 1.33 |" in lines
    assert "| t2 | 70.00% | 1.00 / 3.00 | 1 of 2 / 1 of 2 | 3.00 |" in lines  # b's 0.6, 0.8; each one seed at 0.7+
    assert "- Mean ratio over the tasks: 2.17 (aim: at least 3)." in lines
    assert any(line.endswith("**not met**.") for line in lines)
    assert "- tune's average rank at the end of the budget: 2.00; first: c (1.00)." in lines
    fast = [_curve("t", names["a"], 0, [(10, 1, 0.9)]), _curve("t", names["b"], 0, [(30, 1, 0.8)])]
    lines = hpo_suite._aim_lines(aggregate(fast, BUDGET, reference=hpo_suite.TARGET_METHOD, steps=STEPS))
    assert "| t | 80.00% | 1.00 / 3.00 | 1 of 1 / 1 of 1 | 3.00 |" in lines
    assert any(line.endswith("**met**.") for line in lines)


def test_the_target_falls_back_to_the_lowest_method_mean_where_the_reference_did_not_run() -> None:
    target, said = task_target({"a": [0.8, 0.9], "b": [0.7, 0.8]}, "kt")
    assert target == pytest.approx(0.75) and said == "b's mean final best, the lowest (kt did not run)"
    assert task_target({"a": [0.6, 0.7], "kt": [0.8, 0.9]}, "kt") == (pytest.approx(0.85), "kt's mean final best")


# --- from trials: tuning/anytime.py's curve, then the aggregate -----------------------------------

ORIGIN = datetime(2026, 12, 2, tzinfo=UTC)


def _trial(number: int, state: str, start: float, checks: list[tuple[float, float]], end: float) -> FrozenTrial:
    """A trial that started `start` s after ORIGIN, with 2 checks an epoch (seconds, accuracy), ended at `end`."""
    return FrozenTrial(
        number=number,
        state=TrialState[state],
        value=max(v for _, v in checks) if state == "COMPLETE" else None,
        datetime_start=ORIGIN + timedelta(seconds=start),
        datetime_complete=ORIGIN + timedelta(seconds=end),
        params={},
        distributions={},
        user_attrs={
            attrs.CHECKS_PER_EPOCH: 2,
            attrs.CHECK_SECONDS: [s for s, _ in checks],
            attrs.VAL_ACCURACY_PER_CHECK: [v for _, v in checks],
        },
        system_attrs={},
        intermediate_values={step: v for step, (_, v) in enumerate(checks, start=1)},
        trial_id=number,
    )


def test_from_trials_through_the_anytime_curve_to_means_final_best_and_time_to_target() -> None:
    seed0 = [_trial(0, "COMPLETE", 0, [(10, 0.5), (10, 0.7)], 25), _trial(1, "PRUNED", 30, [(10, 0.6)], 42)]
    seed1 = [_trial(0, "COMPLETE", 0, [(20, 0.8)], 22)]
    curves = [SeedCurve("t", "m", seed, anytime_curve(trials), 20.0) for seed, trials in enumerate([seed0, seed1])]
    result = aggregate(curves, 2.0, reference="m", steps=4)  # 2 R = 40 s; grid every 10 s
    m = result.tasks["t"].methods["m"]
    assert _means([p.mean for p in m.time_curve]) == [None, None, 0.75, 0.75, 0.75]
    assert m.time_curve[1].n == 1  # at 10 s only seed 0 had checked
    assert (m.final.mean, m.final.sd) == (pytest.approx(0.75), pytest.approx(math.sqrt(0.005)))
    assert m.epochs.low == 0.5 and m.epochs.high == 1.5  # 3 and 1 checks at 2 an epoch
    assert result.tasks["t"].target == pytest.approx(0.75)
    assert (m.reached, m.to_target.mean) == (1, pytest.approx(1.0))  # seed 1 at 20 s; seed 0 ends at 0.7


# --- the suite's studies and commands --------------------------------------------------------------


def _suite(tmp_path: Path, trials: int = 1000) -> hpo_suite.Suite:
    """All tasks and methods, 2 seeds, 4 R of 10 s each."""
    storage = f"sqlite:///{tmp_path / 'suite.db'}"
    return hpo_suite.Suite(hpo_suite.TASKS, hpo_suite.METHODS, 2, BUDGET, R, "given", trials, storage, tmp_path, 0)


def test_the_plan_runs_seed_by_seed_and_tune_start_only_on_fashion_mnist(tmp_path: Path) -> None:
    suite = _suite(tmp_path)
    plan = [hpo_suite.study_name(*study) for study in suite.plan()]
    assert len(plan) == 2 * 32 and plan[0] == "fashion-mlp-tune-s0" and plan[32] == "fashion-mlp-tune-s1"
    assert "digits-cnn-tune-start-s0" not in plan and "fashion-cnn-subset-tune-start-s1" in plan
    assert [n for n in plan if n.startswith("digits-cnn")][:5] == [
        "digits-cnn-tune-s0",
        "digits-cnn-tune-1check-s0",
        "digits-cnn-tune-rf3-s0",
        "digits-cnn-tune-hyperband-s0",
        "digits-cnn-tune-startup5-s0",
    ]


def test_every_study_command_is_one_tune_run_accepts_with_the_methods_settings(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tuning.cli.run import run
    from tuning.search.config import RunConfig

    monkeypatch.delenv("TUNE_DATA_DIR", raising=False)  # --data's default
    suite = _suite(tmp_path)
    # method -> (engine, sampler, pruner, defaults_first, reduction factor, checks per epoch, startup trials,
    # bootstrap count); None checks:
    # tune's default, which follows the data's size (4 on both Fashion-MNIST tasks, 1 on digits)
    expected = {
        "tune": ("optuna", "tpe", "halving", False, 4, None, 10, 0),
        "tune-start": ("optuna", "tpe", "halving", True, 4, None, 10, 0),
        "tune-1check": ("optuna", "tpe", "halving", False, 4, 1, 10, 0),
        "tune-rf3": ("optuna", "tpe", "halving", False, 3, None, 10, 0),
        "tune-hyperband": ("optuna", "tpe", "hyperband", False, 4, None, 10, 0),
        "tune-startup5": ("optuna", "tpe", "halving", False, 4, None, 5, 0),
        "tune-bootstrap1": ("optuna", "tpe", "halving", False, 4, None, 10, 1),
        "tune-univariate": ("optuna", "tpe-univariate", "halving", False, 4, None, 10, 0),
        "random": ("optuna", "random", "none", False, 4, None, 10, 0),
        # reported once an epoch, as Optuna's example
        "optuna-plain": ("optuna", "tpe", "median", False, 4, 1, 10, 0),
        # KerasTuner's own factor; the engine refuses the optuna settings changed
        "kt-hyperband": ("keras-tuner", "tpe", "halving", None, 3, None, 10, 0),
    }
    for task, method, seed in suite.plan():
        command = hpo_suite.tune_command(suite, task, method, seed)
        assert command[1:4] == ["-m", "tuning", "run"]
        config = RunConfig(**run.make_context("run", command[4:]).params)  # refuses a flag its engine does not take
        settings = (config.engine, config.sampler, config.pruner, config.defaults_first)
        pruning = (config.reduction_factor, config.checks_per_epoch, config.startup_trials, config.bootstrap_count)
        assert (*settings, *pruning) == expected[method.name]
        assert (config.study_name, config.seed, config.trials) == (hpo_suite.study_name(task, method, seed), seed, 1000)
        assert config.max_train_samples == (12000 if task.name == "fashion-cnn-subset" else None)
        assert config.data == (str(tmp_path / "data" / "digits.npz") if task.name == "digits-cnn" else None)


def test_a_study_has_finished_when_its_clock_ran_the_budget_or_it_holds_all_its_trials(tmp_path: Path) -> None:
    suite = _suite(tmp_path, trials=5)  # budget 4 R = 40 s

    def state(span: float, used: int, exists: bool = True) -> hpo_suite.StudyState:
        return hpo_suite.StudyState(exists, AnytimeCurve((), span, 0.0, 0), used, R, 0)

    assert hpo_suite.is_finished(state(39.3, 3), suite)  # 98% of it: SIGINT lands a moment late
    assert not hpo_suite.is_finished(state(39.1, 3), suite)
    assert hpo_suite.is_finished(state(12.0, 5), suite)
    assert not hpo_suite.is_finished(state(0.0, 0, exists=False), suite)


def test_an_earlier_session_left_running_is_recorded_as_killed_and_others_are_kept() -> None:
    killed = {"r_seconds": 142.0, "outcome": "running", "started": "2026-12-02T23:03:50+00:00"}
    ended = {"r_seconds": 44.0, "outcome": "complete", "ended": "2026-12-01T10:00:00+00:00"}
    assert hpo_suite._closed(killed) == {**killed, "outcome": "killed before it recorded its end"}
    assert hpo_suite._closed(ended) == ended


def test_a_run_stops_at_its_budget_after_its_first_trial_or_when_none_began() -> None:
    assert hpo_suite.deadline(None, 100.0, 40.0) == ("startup", 100.0 + hpo_suite.STARTUP_LIMIT_SECONDS)
    assert hpo_suite.deadline(130.0, 100.0, 40.0) == ("budget", 170.0)


def _stored(storage: str, studies: dict[str, list[FrozenTrial]]) -> None:
    import optuna

    for name, trials in studies.items():
        study = optuna.create_study(study_name=name, storage=storage, direction="maximize")
        study.add_trials(trials)


def _summarize(monkeypatch: pytest.MonkeyPatch, out: Path, storage: str, r: str) -> str:
    """hpo_suite.py --summarize-only on the digits task, tune and random, 2 seeds, 2 R: summary.md."""
    argv = ["hpo_suite.py", "--summarize-only", "--skip-r", r, "--budget-r", "2", "--seeds", "2"]
    argv += ["--tasks", "digits-cnn", "--methods", "tune", "random", "--output-dir", str(out), "--storage", storage]
    monkeypatch.setattr(sys, "argv", argv)
    hpo_suite.main()
    return (out / "summary.md").read_text(encoding="utf-8")


SESSION_ONE = {  # budget 2 R of 20 s: 40 s
    "digits-cnn-tune-s0": [
        _trial(0, "COMPLETE", 0, [(10, 0.5), (10, 0.7)], 25),
        _trial(1, "PRUNED", 30, [(10, 0.6)], 42),
    ],
    "digits-cnn-tune-s1": [_trial(0, "COMPLETE", 0, [(20, 0.8)], 22)],  # cut short at 22 s
    "digits-cnn-random-s0": [_trial(0, "COMPLETE", 0, [(20, 0.6), (20, 0.9)], 40)],
}  # digits-cnn-random-s1: never ran


def test_summarize_only_reads_the_studies_of_a_storage_and_reports_the_partial_cells(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    storage = f"sqlite:///{tmp_path / 'suite.db'}"
    _stored(storage, SESSION_ONE)
    summary = _summarize(monkeypatch, tmp_path, storage, "20")
    rows = (tmp_path / "curves.csv").read_text(encoding="utf-8").splitlines()
    assert rows == [
        "study,time_r,epochs,trial,epoch,val_accuracy,best_val_accuracy",
        "digits-cnn-random-s0,1.0,0.5,0,0.5,0.6,0.6",
        "digits-cnn-random-s0,2.0,1.0,0,1.0,0.9,0.9",
        "digits-cnn-tune-s0,0.5,0.5,0,0.5,0.5,0.5",
        "digits-cnn-tune-s0,1.0,1.0,0,1.0,0.7,0.7",
        "digits-cnn-tune-s0,2.0,1.5,1,0.5,0.6,0.7",
        "digits-cnn-tune-s1,1.0,0.5,0,0.5,0.8,0.8",
    ]
    assert (tmp_path / "studies.csv").read_text(encoding="utf-8").splitlines() == [
        "study,session,r_seconds,span_r,cut_r,cuts,trials,r_after",
        "digits-cnn-random-s0,-1,20.0,2.0,0.0,0,1,",
        "digits-cnn-tune-s0,-1,20.0,2.1,0.0,0,2,",  # its pruned trial ended at 42 s
        "digits-cnn-tune-s1,-1,20.0,1.1,0.0,0,1,",
    ]
    assert "- digits-cnn / tune: 1 of 2 seeds finished (s1 1.10 R, 1 trial)" in summary
    assert "- digits-cnn / random: 1 of 2 seeds finished (s1 not run)" in summary
    assert "Target 70.00%: tune's mean final best, the lowest (kt-hyperband did not run)." in summary
    assert "| tune | 1 | 70.00% | 1 of 1 reached: 1.00 | 1.5 |" in summary
    assert "| random | 1 | 90.00% | 1 of 1 reached: 2.00 | 1.0 |" in summary
    # average ranks at 0.5, 1, 1.5 and 2 R: random checks first at 1 R, and passes tune at 2 R
    assert "| tune | 1 | 1.00 | 1.00 | 1.00 | 2.00 |\n| random | 1 | 2.00 | 2.00 | 2.00 | 1.00 |" in summary
    assert (tmp_path / "curves-digits-cnn.html").is_file() and (tmp_path / "ranks.html").is_file()


def test_a_later_session_on_another_machine_reads_the_earlier_studies_from_the_tables_in_their_own_r(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import shutil

    first, later = tmp_path / "first", tmp_path / "later"
    first.mkdir()
    _stored(f"sqlite:///{first / 'suite.db'}", SESSION_ONE)
    _summarize(monkeypatch, first, f"sqlite:///{first / 'suite.db'}", "20")
    later.mkdir()  # a fresh machine: the committed tables, not the storage
    for name in (hpo_suite.STUDIES_CSV, hpo_suite.CURVES_CSV):
        shutil.copy(first / name, later / name)
    storage = f"sqlite:///{later / 'suite.db'}"
    # Twice as fast a machine (R = 10 s): seed 1 of random, and seed 1 of tune again from the start.
    _stored(storage, {"digits-cnn-random-s1": [_trial(0, "COMPLETE", 0, [(10, 0.7), (10, 0.8)], 21)]})
    _stored(storage, {"digits-cnn-tune-s1": [_trial(0, "COMPLETE", 0, [(5, 0.6), (5, 0.95)], 20)]})
    summary = _summarize(monkeypatch, later, storage, "10")
    assert "None: every cell holds 2 finished seeds." in summary
    # tune: s0 ends at 0.7 (its checks in the first session's 20 s), s1 reaches 0.95 at 10 s = 1 R here; the
    # target is tune's mean 82.5% (the lower), which random's s0 reaches at 40 s = 2 R of the first session
    lines = summary.splitlines()
    assert "| tune | 2 | 82.50% ± 17.68% (70.00%-95.00%) | 1 of 2 reached: 1.00 | 1.2 ± 0.4 (1.0-1.5) |" in lines
    assert "| random | 2 | 85.00% ± 7.07% (80.00%-90.00%) | 1 of 2 reached: 2.00 | 1.0 ± 0.0 (1.0-1.0) |" in lines
    assert "| tune | 1 | 1.00 | 1.00 | 1.00 | 2.00 |" in lines and "| random | 1 | 2.00 | 2.00 | 2.00 | 1.00 |" in lines
    assert (later / "studies.csv").read_text(encoding="utf-8").splitlines()[1:] == [
        "digits-cnn-random-s0,-1,20.0,2.0,0.0,0,1,",
        "digits-cnn-random-s1,-1,10.0,2.1,0.0,0,1,",
        "digits-cnn-tune-s0,-1,20.0,2.1,0.0,0,2,",
        "digits-cnn-tune-s1,-1,10.0,2.0,0.0,0,1,",  # the storage's run replaces the tables' cut-short one
    ]
    (later / "suite.db").unlink()  # the tables alone give the same figures, each study in its own R
    assert _summarize(monkeypatch, later, storage, "10").split("\n", 3)[3] == summary.split("\n", 3)[3]


def _session(r: float, r_after: float | None) -> dict[str, object]:
    session = {"machine": ["cpu: test"], "r_seconds": r, "r_note": "given", "outcome": "complete"}
    return session if r_after is None else {**session, "r_after": r_after}


def test_sessions_whose_r_moved_past_the_tolerance_by_their_end_are_found() -> None:
    record = {"sessions": [_session(20.0, 21.0), _session(20.0, None), _session(20.0, 26.0), _session(20.0, 17.0)]}
    assert hpo_suite.drifted_sessions(record) == {2: pytest.approx(0.3), 3: pytest.approx(-0.15)}
    assert hpo_suite.drifted_sessions({}) == {}


def _flagged_tables(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """SESSION_ONE in a storage and the tables, digits-cnn-random-s0 run in session 0, the tune studies in session 1,
    whose R moved 45% by its end; the storage's URL."""
    import json

    storage = f"sqlite:///{tmp_path / 'suite.db'}"
    _stored(storage, SESSION_ONE)
    _summarize(monkeypatch, tmp_path, storage, "20")
    table = tmp_path / hpo_suite.STUDIES_CSV
    rows = table.read_text(encoding="utf-8").splitlines()
    sessions = {"digits-cnn-random-s0": "0", "digits-cnn-tune-s0": "1", "digits-cnn-tune-s1": "1"}
    rows[1:] = [row.replace(",-1,", f",{sessions[row.split(',')[0]]},") for row in rows[1:]]
    table.write_text("\n".join(rows) + "\n", encoding="utf-8")
    record = {"sessions": [_session(20.0, 21.0), _session(20.0, 29.0)]}
    (tmp_path / hpo_suite.RECORD).write_text(json.dumps(record), encoding="utf-8")
    return storage


def test_the_summary_names_the_studies_of_a_session_whose_machine_changed_speed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    storage = _flagged_tables(tmp_path, monkeypatch)
    (tmp_path / "suite.db").unlink()  # from here on the tables, each study in the session that ran it
    summary = _summarize(monkeypatch, tmp_path, storage, "20")
    assert "  - R after the session = 21.0 s (+5% from 20.0 s): within 10%" in summary
    assert "  - R after the session = 29.0 s (+45% from 20.0 s): the machine's speed changed" in summary
    assert "- session 1 (R +45% by its end): digits-cnn-tune-s0, digits-cnn-tune-s1\n" in summary
    assert "session 0 (" not in summary


def test_a_study_not_run_yet_is_not_named_among_those_of_a_session_whose_machine_changed_speed() -> None:
    empty = AnytimeCurve((), span_seconds=0.0, cut_seconds=0.0, cuts=0)
    task, methods = hpo_suite.TASKS[0], hpo_suite.METHODS[:2]
    studies = [  # a session's own index is what study_state gives a study the storage does not hold
        hpo_suite.Study(task, method, 0, hpo_suite.StudyState(ran, empty, 0, R, 1), ran, _curve(task.name, "m", 0, []))
        for method, ran in zip(methods, (True, False), strict=True)
    ]
    lines = hpo_suite._drifted({"sessions": [_session(20.0, 21.0), _session(20.0, 29.0)]}, studies)
    assert lines[-1] == f"- session 1 (R +45% by its end): {hpo_suite.study_name(task, methods[0], 0)}"


def test_again_names_studies_by_name_or_the_flagged_ones_each_once_and_refuses_a_study_not_planned(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import json

    _flagged_tables(tmp_path, monkeypatch)
    record = json.loads((tmp_path / hpo_suite.RECORD).read_text(encoding="utf-8"))
    suite = _suite(tmp_path)
    flagged = ["digits-cnn-tune-s0", "digits-cnn-tune-s1"]
    assert hpo_suite.again_names(["flagged"], suite, record) == flagged
    assert hpo_suite.again_names(["digits-cnn-tune-s1", "flagged"], suite, record) == flagged[::-1]
    assert hpo_suite.again_names(["fashion-mlp-random-s1"], suite, record) == ["fashion-mlp-random-s1"]
    with pytest.raises(SystemExit, match="'digits-cnn-tune-start-s0' is not a study of this suite"):
        hpo_suite.again_names(["digits-cnn-tune-start-s0"], suite, record)  # no [start] on digits
    assert hpo_suite.again_names(["flagged"], suite, {"sessions": [_session(20.0, 21.0)]}) == []


def test_forgotten_studies_leave_the_storage_and_the_tables_and_the_rest_stays(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    storage = _flagged_tables(tmp_path, monkeypatch)
    (tmp_path / "suite.db").unlink()
    _stored(storage, {"digits-cnn-tune-s1": SESSION_ONE["digits-cnn-tune-s1"]})  # this one the storage holds
    suite = _suite(tmp_path)
    opened = hpo_suite._open_storage(storage)
    hpo_suite.forget(suite, opened, ["digits-cnn-tune-s0", "digits-cnn-tune-s1"])
    assert hpo_suite._load_study(hpo_suite._open_storage(storage), "digits-cnn-tune-s1") is None
    assert list(hpo_suite.read_tables(tmp_path)) == ["digits-cnn-random-s0"]
    assert (tmp_path / hpo_suite.CURVES_CSV).read_text(encoding="utf-8").splitlines()[1:] == [
        "digits-cnn-random-s0,1.0,0.5,0,0.5,0.6,0.6",
        "digits-cnn-random-s0,2.0,1.0,0,1.0,0.9,0.9",
    ]


def test_a_study_with_r_measured_around_it_is_judged_by_those_readings_not_by_its_session() -> None:
    empty = AnytimeCurve((), span_seconds=0.0, cut_seconds=0.0, cuts=0)
    sessions = {1: 0.45}  # session 1's R moved 45% by its end
    steady = hpo_suite.StudyState(True, empty, 0, 20.0, 1, r_after=21.0)  # in that session, steady around it
    moved = hpo_suite.StudyState(True, empty, 0, 20.0, 0, r_after=26.0)  # in a steady session, +30% around it
    unmeasured = hpo_suite.StudyState(True, empty, 0, 20.0, 1)  # no R after it: its session's readings
    assert [hpo_suite.speed_changed(x, sessions) for x in (steady, moved, unmeasured)] == [False, True, True]
    task, method = hpo_suite.TASKS[0], hpo_suite.METHODS[0]
    studies = [
        hpo_suite.Study(task, method, seed, state, True, _curve(task.name, method.name, seed, []))
        for seed, state in enumerate((steady, moved, unmeasured))
    ]
    lines = hpo_suite._drifted({"sessions": [_session(20.0, 21.0), _session(20.0, 29.0)]}, studies)
    names = [hpo_suite.study_name(task, method, seed) for seed in range(3)]
    assert lines[-2:] == [
        f"- session 1 (R +45% by its end): {names[2]}",
        f"- {names[1]}: R 20.0 s before it, 26.0 s after (+30%)",
    ]


# A stand-in for `tune run`: starts a trial of the study, then waits to be interrupted (exit status 130).
_FAKE_TUNE = """
import signal, sys, time
signal.signal(signal.SIGINT, lambda *_: sys.exit(130))
import optuna
study = optuna.create_study(study_name=sys.argv[2], storage=sys.argv[1])
print("starting a trial", flush=True)
study.ask()
time.sleep(60)
"""


@pytest.mark.slow  # a subprocess
def test_a_study_run_is_interrupted_at_its_budget_after_its_first_trial(tmp_path: Path) -> None:
    import time

    url = f"sqlite:///{tmp_path / 'suite.db'}"
    storage = hpo_suite._open_storage(url)
    command = [sys.executable, "-c", _FAKE_TUNE, url, "s"]
    started, left = time.time(), 1.0
    run = hpo_suite._run_study(command, tmp_path / "s.log", storage, "s", left)
    stopped = time.time()
    assert (run.returncode, run.stopped_by, run.ctrl_c) == (130, "budget", False)
    assert "starting a trial" in (tmp_path / "s.log").read_text(encoding="utf-8")
    trial_start = hpo_suite._first_start(storage, "s", since=started)
    assert trial_start is not None
    assert left <= stopped - trial_start < left + hpo_suite.POLL_SECONDS + 3  # `left` after the trial began


@pytest.mark.slow  # a subprocess
def test_each_study_run_is_marked_with_its_session_and_recorded_in_the_tables_as_it_ends(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import optuna

    url = f"sqlite:///{tmp_path / 'suite.db'}"
    suite = hpo_suite.Suite(hpo_suite.TASKS[:1], hpo_suite.METHODS[:2], 1, 0.1, R, "given", 5, url, tmp_path, 3)
    storage = hpo_suite._open_storage(url)
    names = {method.name: f"x{index}" for index, method in enumerate(suite.methods)}
    monkeypatch.setattr(hpo_suite, "study_name", lambda task, method, seed: names[method.name])
    monkeypatch.setattr(
        hpo_suite,
        "tune_command",
        lambda s, task, method, seed: [sys.executable, "-c", _FAKE_TUNE, url, names[method.name]],
    )
    readings = iter([10.5, 30.0])  # R measured after each study: the machine slows down during the second
    monkeypatch.setattr(hpo_suite, "measure_r", lambda skip_r, samples: (next(readings), "timed"))
    assert hpo_suite._run_studies(suite, storage, math.inf, 100) == ("complete", 30.0)
    marks = [optuna.load_study(study_name=name, storage=url).user_attrs for name in ("x0", "x1")]
    a, b, c = hpo_suite.SESSION_ATTR, hpo_suite.R_ATTR, hpo_suite.R_AFTER_ATTR
    assert marks == [{a: 3, b: R, c: 10.5}, {a: 3, b: 10.5, c: 30.0}]  # each in the R measured just before it
    # each one trial never ended (the stand-in was interrupted): no check, no span, one trial used
    rows = (tmp_path / "studies.csv").read_text(encoding="utf-8").splitlines()[1:]
    assert rows == ["x0,3,10.0,0.0,0.0,0,1,10.5", "x1,3,10.5,0.0,0.0,0,1,30.0"]
    states = hpo_suite.read_tables(tmp_path)
    assert not hpo_suite.speed_changed(states["x0"], {}) and hpo_suite.speed_changed(states["x1"], {})


@pytest.mark.slow  # subprocesses
def test_max_hours_passing_during_a_study_lets_it_run_its_budget_and_starts_no_other(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import time

    url = f"sqlite:///{tmp_path / 'suite.db'}"
    # two studies of 0.1 R = 1 s each; the invocation's time ends 0.2 s after the first one starts
    suite = hpo_suite.Suite(hpo_suite.TASKS[:1], hpo_suite.METHODS[:2], 1, 0.1, R, "given", 5, url, tmp_path, 0)
    storage = hpo_suite._open_storage(url)
    monkeypatch.setattr(
        hpo_suite,
        "tune_command",
        lambda s, task, method, seed: [sys.executable, "-c", _FAKE_TUNE, url, hpo_suite.study_name(task, method, seed)],
    )
    monkeypatch.setattr(hpo_suite, "measure_r", lambda skip_r, samples: (R, "timed"))
    started = time.time()
    assert hpo_suite._run_studies(suite, storage, started + 0.2, 100) == ("stopped by --max-hours", R)
    first, second = (hpo_suite.study_name(suite.tasks[0], m, 0) for m in suite.methods)
    assert f"{first}: budget reached, SIGINT to tune" in capsys.readouterr().out
    trial_start = hpo_suite._first_start(storage, first, since=started)
    assert trial_start is not None and time.time() - trial_start >= 1.0  # its 0.1 R, well past the 0.2 s
    assert hpo_suite._load_study(storage, second) is None  # never started
    rows = (tmp_path / "studies.csv").read_text(encoding="utf-8").splitlines()[1:]
    assert [row.split(",")[0] for row in rows] == [first]
