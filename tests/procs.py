"""`tune` as a background process, for tests and bench/reliability.py (no pytest needed)."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path


def tune_process(args: list[str], cwd: Path, env: dict[str, str] | None = None) -> subprocess.Popen[str]:
    """Start `tune ARGS` in its own process group (so a test can signal it like a terminal would)."""
    return subprocess.Popen(
        [sys.executable, "-m", "tuning", *args],
        cwd=cwd,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )


def wait_for_running_trial(storage: str, proc: subprocess.Popen[str], study: str = "mlp", timeout: float = 120) -> int:
    """The number of a RUNNING trial that has reported an epoch: its worker is mid-training."""
    import optuna

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and proc.poll() is None:
        try:
            trials = optuna.load_study(study_name=study, storage=storage).get_trials(deepcopy=False)
        except KeyError:  # the study does not exist yet
            trials = []
        running = [t.number for t in trials if t.state.name == "RUNNING" and t.intermediate_values]
        if running:
            return running[0]
        time.sleep(0.2)
    raise AssertionError(f"no trial got going (exit status {proc.poll()})")
