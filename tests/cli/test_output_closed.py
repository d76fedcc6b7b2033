"""A reader that goes away (`tune ... | head`, a closed terminal) stops `tune` as Ctrl-C does, with no traceback."""

from __future__ import annotations

import signal
import subprocess
import sys
from pathlib import Path

import optuna
import pytest
from procs import tune_process, wait_for_running_trial

RUN = ["run", "mlp", "--trials", "3", "--epochs", "2", "--max-train-samples", "1000", "--pruner", "none"]


def _study_of_two(storage: str) -> None:
    study = optuna.create_study(study_name="mlp", storage=storage, direction="maximize")
    for value in (0.5, 0.6):
        study.add_trial(optuna.trial.create_trial(params={}, distributions={}, value=value))


@pytest.mark.slow  # the real `tune` in a subprocess
@pytest.mark.parametrize("args", [["trials", "mlp"], ["trials", "mlp", "--json"], ["studies"], ["studies", "--json"]])
def test_listing_into_a_closed_pipe_ends_quietly(args: list[str], tmp_path: Path, tune_env: dict[str, str]) -> None:
    storage = f"sqlite:///{tmp_path / 'studies.db'}"
    _study_of_two(storage)
    proc = subprocess.Popen(
        [sys.executable, "-m", "tuning", *args, "--storage", storage],
        env=tune_env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None and proc.stderr is not None
    proc.stdout.close()  # the reader is gone before tune writes a line
    err = proc.stderr.read()
    assert proc.wait(timeout=60) == 128 + signal.SIGPIPE
    assert err == ""


@pytest.mark.slow
def test_run_into_a_closed_pipe_stops_and_keeps_the_study(tmp_path: Path, tune_env: dict[str, str]) -> None:
    proc = tune_process([*RUN, "--storage", "studies.db"], tmp_path, tune_env)
    assert proc.stdout is not None and proc.stderr is not None
    assert proc.stdout.readline().startswith("study 'mlp' in studies.db: running 3 trial(s)")
    proc.stdout.close()  # `| head -1`
    err = proc.stderr.read()
    assert proc.wait(timeout=120) == 128 + signal.SIGPIPE
    assert "Traceback" not in err
    assert err.startswith("tune: output closed (broken pipe), interrupted: running trials were recorded")
    assert "Resume with: tune run mlp --trials 3 --storage studies.db" in err
    trials = optuna.load_study(study_name="mlp", storage=f"sqlite:///{tmp_path / 'studies.db'}").get_trials()
    assert 1 <= len(trials) < 3  # stopped at the first line it could not write
    for trial in trials:  # none left RUNNING: finished, or recorded as Ctrl-C records it
        assert trial.state.name == "COMPLETE" or trial.user_attrs.get("fail_reason") == "interrupted", trial


@pytest.mark.slow
def test_sighup_records_the_running_trial(tmp_path: Path, tune_env: dict[str, str]) -> None:
    """The terminal closed (an ssh session dropped): as Ctrl-C, exit status 128 + SIGHUP."""
    args = ["run", "mlp", "--trials", "2", "--epochs", "6", "--max-train-samples", "3000", "--pruner", "none"]
    proc = tune_process(args, tmp_path, tune_env)
    storage = f"sqlite:///{tmp_path / 'studies.db'}"
    wait_for_running_trial(storage, proc)
    proc.send_signal(signal.SIGHUP)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 128 + signal.SIGHUP, (out, err)
    assert err.strip() == "tune: interrupted" and "Traceback" not in out
    trials = optuna.load_study(study_name="mlp", storage=storage).get_trials()
    assert [(t.state.name, t.user_attrs["fail_reason"]) for t in trials] == [("FAIL", "interrupted")]
