"""The worker loop with synthetic objectives: the total, resuming, timeouts, failures, interrupts, dead workers."""

from __future__ import annotations

import time
from collections.abc import Callable

import optuna
import pytest

from tuning import attrs
from tuning.errors import Interrupted, TrialFailed
from tuning.search.storage import open_storage
from tuning.search.worker import retried_numbers, run_worker, slots_used

Objective = Callable[[optuna.Trial], float]


def scripted(*outcomes: float | BaseException) -> Objective:
    """An objective whose trial number N returns outcomes[N], or raises it if it is an exception."""

    def objective(trial: optuna.Trial) -> float:
        outcome = outcomes[trial.number]
        if isinstance(outcome, BaseException):
            raise outcome
        return outcome

    return objective


def sampled(trial: optuna.Trial) -> float:
    return trial.suggest_float("x", 0.0, 1.0)


@pytest.fixture(scope="module")
def storage(tmp_path_factory: pytest.TempPathFactory) -> optuna.storages.RDBStorage:
    """One SQLite database for the module, its trials beating every second (stale after 3 s) as `--heartbeat 1`."""
    return open_storage(f"sqlite:///{tmp_path_factory.mktemp('worker') / 'studies.db'}", heartbeat=1)


@pytest.fixture()
def study(storage: optuna.storages.RDBStorage, request: pytest.FixtureRequest) -> optuna.Study:
    """A new study of its own for each test."""
    return optuna.create_study(study_name=request.node.name, storage=storage, direction="maximize")


def states(study: optuna.Study) -> list[str]:
    return [t.state.name for t in study.get_trials()]


def test_a_rerun_runs_only_the_remainder_and_then_nothing(
    storage: optuna.storages.RDBStorage, study: optuna.Study
) -> None:
    assert run_worker(study, storage, sampled, total=2) == 2
    rejoined = optuna.load_study(study_name=study.study_name, storage=storage)  # as a later `tune run` would
    assert run_worker(rejoined, storage, sampled, total=3) == 1
    assert run_worker(rejoined, storage, sampled, total=3) == 0
    assert states(study) == ["COMPLETE"] * 3


def test_timeout_stops_starting_new_trials(storage: optuna.storages.RDBStorage, study: optuna.Study) -> None:
    def slow(trial: optuna.Trial) -> float:
        time.sleep(0.2)  # outlasts the timeout, so no second trial may start
        return 0.5

    assert run_worker(study, storage, slow, total=5, timeout=0.1) == 1
    assert states(study) == ["COMPLETE"]


def test_a_failed_trial_is_recorded_and_counts_and_the_loop_goes_on(
    storage: optuna.storages.RDBStorage, study: optuna.Study
) -> None:
    objective = scripted(0.5, TrialFailed("NaN loss"), 0.7)
    assert run_worker(study, storage, objective, total=3) == 3
    assert states(study) == ["COMPLETE", "FAIL", "COMPLETE"]


def test_a_run_whose_first_trials_all_fail_stops_with_the_first_reason(
    storage: optuna.storages.RDBStorage, study: optuna.Study
) -> None:
    from tuning.errors import TuneError
    from tuning.search.worker import FAILURES_TO_STOP

    def broken(trial: optuna.Trial) -> float:
        trial.set_user_attr(attrs.FAIL_REASON, f"model m.py:build failed to build: ValueError: {trial.number}")
        raise TrialFailed("no build")

    with pytest.raises(TuneError, match=r"first 3 trials of this run failed.*the first: model m.py:build .* 0\."):
        run_worker(study, storage, broken, total=10)
    assert states(study) == ["FAIL"] * FAILURES_TO_STOP  # kept in the study
    later = scripted(*[TrialFailed("x")] * 3, 0.5, *[TrialFailed("x")] * 3)  # a success first: failures go on
    again = optuna.create_study(study_name=study.study_name + "-b", storage=storage, direction="maximize")
    again.enqueue_trial({})
    assert run_worker(again, storage, lambda t: later(t) if t.number else 0.5, total=5) == 5


def test_callbacks_get_each_finished_trial_once(storage: optuna.storages.RDBStorage, study: optuna.Study) -> None:
    seen: list[tuple[optuna.Study, optuna.trial.FrozenTrial]] = []
    objective = scripted(0.5, TrialFailed("NaN loss"), optuna.TrialPruned())
    run_worker(study, storage, objective, total=3, callbacks=[lambda s, t: seen.append((s, t))])
    assert all(s is study for s, _ in seen)
    assert [(t.number, t.state.name) for _, t in seen] == [(0, "COMPLETE"), (1, "FAIL"), (2, "PRUNED")]


@pytest.mark.parametrize(
    ("error", "given_reason", "reason"),
    [
        (KeyboardInterrupt(), None, "interrupted"),  # Ctrl-C outside training too
        (Interrupted(15), "interrupted", "interrupted"),  # the objective's own reason is kept
        (RuntimeError("a bug"), None, "RuntimeError: a bug"),
    ],
    ids=["ctrl-c", "signal", "bug"],
)
def test_an_interrupt_or_a_bug_fails_the_trial_and_stops_the_loop(
    storage: optuna.storages.RDBStorage,
    study: optuna.Study,
    error: BaseException,
    given_reason: str | None,
    reason: str,
) -> None:
    def objective(trial: optuna.Trial) -> float:
        if given_reason is not None:
            trial.set_user_attr(attrs.FAIL_REASON, given_reason)
        raise error

    with pytest.raises(type(error)):
        run_worker(study, storage, objective, total=3)
    (trial,) = study.get_trials()
    assert trial.state.name == "FAIL" and trial.user_attrs[attrs.FAIL_REASON] == reason


@pytest.mark.slow  # waits for the heartbeat to go stale
@pytest.mark.filterwarnings("ignore:Heartbeat of storage is supposed to be used with Study.optimize")
def test_a_dead_workers_trial_is_failed_and_retried_in_its_slot(
    storage: optuna.storages.RDBStorage, study: optuna.Study
) -> None:
    # A worker that started a trial and died: the trial stays RUNNING and its heartbeat stops.
    orphan = study.ask()
    orphan.suggest_float("x", 0.0, 1.0)
    storage.record_heartbeat(orphan._trial_id)
    seen: list[optuna.trial.FrozenTrial] = []
    # The total is taken, so the worker waits until the heartbeat is stale (3 s), fails the trial, runs its retry.
    # (The timeout only bounds a worker that never notices: it then runs nothing.)
    assert run_worker(study, storage, sampled, total=1, timeout=60, callbacks=[lambda _, t: seen.append(t)]) == 1
    failed, retry = study.get_trials()
    assert failed.state.name == "FAIL" and attrs.FAIL_REASON not in failed.user_attrs  # failed as stale
    assert [t.number for t in seen] == [retry.number]
    assert retry.state.name == "COMPLETE" and retry.params == failed.params
    assert retried_numbers([failed, retry]) == {failed.number}
    assert slots_used([failed, retry]) == 1


@pytest.mark.parametrize(("finished", "queued", "total"), [(0, 1, 1), (0, 2, 1), (2, 1, 4), (2, 1, 2)])
def test_queued_trials_run_first_and_count_towards_the_total(
    storage: optuna.storages.RDBStorage, study: optuna.Study, finished: int, queued: int, total: int
) -> None:
    if finished:
        run_worker(study, storage, sampled, total=finished)
    given = [0.125 * (i + 1) for i in range(queued)]
    for x in given:
        study.enqueue_trial({"x": x})  # as `tune enqueue` does
    # every queued trial runs, then new ones up to the total (PreparedRun.remaining says so up front)
    assert run_worker(study, storage, sampled, total=total) == max(total - finished, queued)
    trials = study.get_trials()
    assert [t.params["x"] for t in trials[finished : finished + queued]] == given
    assert len(trials) == max(total, finished + queued) and states(study) == ["COMPLETE"] * len(trials)
