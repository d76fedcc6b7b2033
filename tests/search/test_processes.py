"""Parallel and distributed workers, dead workers, interrupts: real processes, real SQLite and PostgreSQL."""

from __future__ import annotations

import json
import os
import shlex
import signal
import sqlite3
from pathlib import Path

import optuna
import pytest
from conftest import assert_clean_error, run_tune
from procs import tune_process, wait_for_running_trial

from tuning.search.worker import slots_used

pytestmark = pytest.mark.slow  # real `tune` processes training real trials

TINY = ["--epochs", "1", "--max-train-samples", "300", "--seed", "0"]
# Trials long enough (a few seconds) to be caught mid-training by a signal.
LONGER = ["--epochs", "4", "--max-train-samples", "2000", "--pruner", "none"]


def trials_of(storage: str, study: str = "mlp") -> list[optuna.trial.FrozenTrial]:
    return optuna.load_study(study_name=study, storage=storage).get_trials()


def assert_all_finished(trials: list[optuna.trial.FrozenTrial], total: int) -> None:
    states = [t.state.name for t in trials]
    assert set(states) <= {"COMPLETE", "PRUNED", "FAIL"}, states  # none RUNNING or WAITING
    assert slots_used(trials) == total, states


def test_four_workers_on_sqlite_reach_the_total_exactly(tmp_path: Path, tune_env: dict) -> None:
    result = run_tune(["run", "mlp", "--trials", "8", "--jobs", "4", *TINY], tmp_path, tune_env)
    assert result.returncode == 0, result.stderr
    assert "with 4 workers" in result.stdout
    assert "locked" not in result.stderr and "Traceback" not in result.stderr
    trials = trials_of(f"sqlite:///{tmp_path / 'studies.db'}")
    assert len(trials) == 8
    assert_all_finished(trials, 8)
    assert result.stdout.count("trial ") >= 8  # each trial shown as it lands


def test_three_machines_on_postgres_share_one_study(tmp_path: Path, tune_env: dict, postgres_url: str) -> None:
    """Three separate `tune run` commands, as on three machines (one with 2 workers), joining one PostgreSQL study."""
    args = ["run", "mlp", "--study", "shared", "--storage", postgres_url, "--trials", "8", *TINY]
    first = run_tune([*args[:-6], "--trials", "1", *TINY], tmp_path, tune_env)  # creates the study
    assert first.returncode == 0, first.stderr
    procs = [tune_process([*args, *extra], tmp_path, tune_env) for extra in ([], [], ["--jobs", "2"])]
    outputs = [p.communicate(timeout=300) for p in procs]
    for proc, (out, err) in zip(procs, outputs, strict=True):
        assert proc.returncode == 0, err
        assert "tune-test-pw" not in out + err  # the password never shows
    assert "postgresql://tune:***@127.0.0.1" in outputs[2][0] and "with 2 workers" in outputs[2][0]
    trials = trials_of(postgres_url, "shared")
    assert len(trials) == 8
    assert_all_finished(trials, 8)


def test_killed_worker_trial_is_failed_and_retried(tmp_path: Path, tune_env: dict) -> None:
    storage = f"sqlite:///{tmp_path / 'studies.db'}"
    args = ["run", "mlp", "--trials", "3", *LONGER, "--heartbeat", "1"]
    victim = tune_process(args, tmp_path, tune_env)
    number = wait_for_running_trial(storage, victim)
    os.killpg(victim.pid, signal.SIGKILL)
    victim.wait(timeout=30)
    survivor = run_tune(args, tmp_path, tune_env)
    assert survivor.returncode == 0, survivor.stderr
    trials = trials_of(storage)
    orphan = trials[number]
    assert orphan.state.name == "FAIL" and "fail_reason" not in orphan.user_attrs  # failed as stale
    (retry,) = [t for t in trials if t.system_attrs.get("failed_trial") == number]
    assert retry.state.name == "COMPLETE" and retry.params == orphan.params
    assert_all_finished(trials, 3)
    listing = run_tune(["studies", "--json"], tmp_path, tune_env)
    assert json.loads(listing.stdout)[0]["retried"] == 1


@pytest.mark.parametrize(("sig", "status"), [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_interrupted_workers_leave_a_consistent_study(tmp_path: Path, tune_env: dict, sig: int, status: int) -> None:
    storage = f"sqlite:///{tmp_path / 'studies.db'}"
    args = ["run", "mlp", "--trials", "4", "--jobs", "2", *LONGER]
    proc = tune_process(args, tmp_path, tune_env)
    wait_for_running_trial(storage, proc)
    if sig == signal.SIGINT:
        os.killpg(proc.pid, sig)  # Ctrl-C in a terminal reaches the whole process group
    else:
        proc.send_signal(sig)  # `kill PID` reaches the parent only; it stops its workers
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == status, (out, err)
    assert "Traceback" not in out + err, err
    (resume,) = [line.split("Resume with: ")[1] for line in out.splitlines() if "Resume with: " in line]
    assert resume.startswith("tune run mlp --trials 4 ") and "--jobs 2" in resume
    trials = trials_of(storage)
    assert all(t.state.is_finished() for t in trials), [t.state.name for t in trials]
    assert any(t.user_attrs.get("fail_reason") == "interrupted" for t in trials)
    if sig != signal.SIGINT:
        return  # the resume line is the same; running it once (after Ctrl-C) is enough
    resumed = run_tune(shlex.split(resume)[1:], tmp_path, tune_env)  # the command as printed
    assert resumed.returncode == 0, resumed.stderr
    assert_all_finished(trials_of(storage), 4)


def test_wrong_postgres_password_is_masked(tmp_path: Path, tune_env: dict, postgres_url: str) -> None:
    bad = postgres_url.replace("tune-test-pw", "wrong-secret")
    result = run_tune(["run", "mlp", "--storage", bad, *TINY], tmp_path, tune_env)
    assert_clean_error(result, "postgresql://tune:***@127.0.0.1", "password authentication failed")
    assert "wrong-secret" not in result.stderr + result.stdout


def test_other_arch_or_space_on_an_existing_study_is_refused(tmp_path: Path, tune_env: dict) -> None:
    assert run_tune(["run", "mlp", "--trials", "1", "--study", "s", *TINY], tmp_path, tune_env).returncode == 0
    assert_clean_error(run_tune(["run", "cnn", "--study", "s", *TINY], tmp_path, tune_env), "created with arch='mlp'")
    space = tmp_path / "narrow.toml"
    space.write_text('arch = "mlp"\n[params.n_layers]\ntype = "int"\nlow = 1\nhigh = 2\n')
    assert_clean_error(
        run_tune(["run", "mlp", "--study", "s", "--space", str(space), *TINY], tmp_path, tune_env),
        "created with space_hash=",
    )


def test_read_only_locked_and_corrupt_databases(tmp_path: Path, tune_env: dict) -> None:
    db = tmp_path / "studies.db"
    assert run_tune(["run", "mlp", "--trials", "1", *TINY], tmp_path, tune_env).returncode == 0
    before = db.read_bytes()
    read_only = f"sqlite:///file:{db}?mode=ro&uri=true"
    assert_clean_error(
        run_tune(["run", "mlp", "--trials", "2", "--storage", read_only, *TINY], tmp_path, tune_env),
        "readonly database",
    )
    holder = sqlite3.connect(db)
    holder.execute("BEGIN EXCLUSIVE")
    try:
        locked = f"sqlite:///{db}?timeout=1"
        assert_clean_error(run_tune(["studies", "--storage", locked], tmp_path, tune_env), "database is locked")
    finally:
        holder.rollback()
        holder.close()
    assert db.read_bytes() == before
    corrupt = tmp_path / "corrupt.db"
    corrupt.write_bytes(b"\x00garbage" * 500)
    assert_clean_error(
        run_tune(["studies", "--storage", f"sqlite:///{corrupt}"], tmp_path, tune_env), "file is not a database"
    )
