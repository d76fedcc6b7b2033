"""The real `tune` script in a subprocess: what only a real process shows (imports, signals, exit statuses)."""

from __future__ import annotations

import signal
import subprocess
import sys
from pathlib import Path

import optuna
import pytest
from conftest import assert_clean_error, invoke_tune, run_tune
from procs import tune_process, wait_for_running_trial


def test_help_does_not_import_heavy_libraries() -> None:
    """Not marked slow: one interpreter that imports only the CLI (under a second)."""
    code = (
        "import sys\nfrom tuning.cli.main import main\n"
        "for args in (['--help'], ['run', '--help'], ['plots', '--help']):\n"
        "    try:\n        main(args)\n    except SystemExit as exit:\n        print('STATUS', exit.code)\n"
        "heavy = ('tensorflow', 'keras', 'pandas', 'plotly', 'optuna', 'sklearn')\n"
        "print('LOADED', [m for m in heavy if m in sys.modules])\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    for usage in ("Usage: tune [OPTIONS] COMMAND", "Usage: tune run [OPTIONS] [MODEL]", "Usage: tune plots"):
        assert usage in out
    assert out.count("STATUS 0") == 3
    assert out.strip().endswith("LOADED []")


@pytest.mark.slow
@pytest.mark.parametrize(
    ("args", "fragments"),
    [
        (["run", "rnn"], ["unknown model 'rnn'", "expected one of mlp, cnn, or your own as FILE.py:function"]),
        (
            ["studies", "--storage", "postgresql://u:pw1234@127.0.0.1:9/x"],
            ["cannot open storage postgresql://u:***@127.0.0.1:9/x"],
        ),
    ],
    ids=["usage error", "unreachable storage"],
)
def test_the_script_reports_bad_input_as_one_line(
    args: list[str], fragments: list[str], tmp_path: Path, tune_env: dict[str, str]
) -> None:
    """The script's own stderr, log lines and library warnings included, holds just the error line."""
    result = run_tune(args, tmp_path, tune_env)
    assert_clean_error(result, *fragments)
    if "pw1234" in " ".join(args):
        assert "pw1234" not in result.stderr + result.stdout


@pytest.mark.slow
def test_ctrl_c_mid_trial_keeps_the_study_usable(
    tmp_path: Path, tune_env: dict[str, str], data_env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    args = ["run", "mlp", "--trials", "2", "--epochs", "6", "--max-train-samples", "3000", "--pruner", "none"]
    proc = tune_process(args, tmp_path, tune_env)
    storage = f"sqlite:///{tmp_path / 'studies.db'}"
    wait_for_running_trial(storage, proc)
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, (out, err)
    assert "Traceback" not in out + err
    assert "Resume with: tune run mlp --trials 2 --epochs 6 --max-train-samples 3000 --pruner none" in out
    assert err.strip() == "tune: interrupted", err
    trials = optuna.load_study(study_name="mlp", storage=storage).get_trials()
    assert [t.state.name for t in trials] == ["FAIL"]
    assert trials[0].user_attrs["fail_reason"] == "interrupted"
    monkeypatch.chdir(tmp_path)
    resumed = invoke_tune(args, env=data_env)
    assert resumed.returncode == 0, resumed.stderr
    assert "1 of 2 trials already there; running 1 trial(s)" in resumed.stdout
    states = [t.state.name for t in optuna.load_study(study_name="mlp", storage=storage).get_trials()]
    assert states == ["FAIL", "COMPLETE"]
