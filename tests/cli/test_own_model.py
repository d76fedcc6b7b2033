"""A user's model from examples/: searched, exported, retrained and evaluated with the CLI and the Python API,
on real images (scikit-learn's digits); its trials carry notes and artifacts for the dashboard; a model file
that changed after the search is refused at retrain."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import optuna
import optuna_dashboard
import pytest
from conftest import assert_clean_error, invoke_tune
from optuna.artifacts import get_all_artifact_meta

from tuning import attrs

pytestmark = [pytest.mark.slow, pytest.mark.filterwarnings("ignore:__array__ implementation:DeprecationWarning")]

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


@pytest.fixture()
def digits(in_tmp: Path) -> Path:
    sys.path.insert(0, str(Path(__file__).parents[1] / "data"))
    from real_images import write_digits_npz

    return write_digits_npz(in_tmp / "digits.npz")


def test_the_example_model_through_the_cli_and_a_changed_file_refused_at_retrain(digits: Path, tmp_path: Path) -> None:
    example = shutil.copytree(EXAMPLES / "residual", tmp_path / "residual")  # a copy this test may change
    args = ["--data", str(digits), "--trials", "3", "--epochs", "2", "--seed", "0"]
    run = invoke_tune(["run", "--space", str(example / "space.toml"), *args])  # the space names the model
    assert run.returncode == 0, run.stderr
    study = optuna.load_study(study_name="models.build", storage="sqlite:///studies.db")
    assert study.user_attrs[attrs.ARCH] == f"{example / 'models.py'}:build"
    assert len(study.user_attrs[attrs.MODEL_HASH]) == 16
    trials = study.get_trials()
    assert all(t.state.name in ("COMPLETE", "PRUNED") for t in trials), [t.user_attrs for t in trials]
    assert all({"width", "blocks", "dropout", "learning_rate"} == set(t.params) for t in trials)
    note = optuna_dashboard.get_note(optuna.Trial(study, trials[0]._trial_id))  # what the dashboard shows
    assert f"Model {example / 'models.py'}:build. Adam at learning rate" in note
    assert all(get_all_artifact_meta(t, storage=study._storage) for t in trials)  # each trial's curves

    assert invoke_tune(["export", "models.build", "--output", "best.json"]).returncode == 0
    assert json.loads(Path("best.json").read_text())["model_hash"] == study.user_attrs[attrs.MODEL_HASH]
    retrain = invoke_tune(["retrain", "best.json", "--epochs", "2", "--output-dir", "model"])
    assert retrain.returncode == 0, retrain.stderr
    evaluate = invoke_tune(["evaluate", "model/model.keras"])
    assert evaluate.returncode == 0 and "on 360 images" in evaluate.stdout

    models = example / "models.py"
    models.write_text(models.read_text() + "\n# an edit after the search\n")
    refused = invoke_tune(["retrain", "best.json", "--epochs", "1", "--output-dir", "model2"])
    assert_clean_error(refused, "changed since study 'models.build' searched it", "--accept-changed-model")
    accepted = invoke_tune(
        ["retrain", "best.json", "--epochs", "1", "--output-dir", "model2", "--accept-changed-model"]
    )
    assert accepted.returncode == 0, accepted.stderr
    resumed = invoke_tune(["run", "--space", str(example / "space.toml"), *args[:2], "--trials", "4"])
    assert_clean_error(resumed, "model_hash")  # the study searched the model as it was


def test_the_python_walkthrough_runs_as_a_user_would(tmp_path: Path, data_env: dict[str, str]) -> None:
    done = subprocess.run(
        [sys.executable, str(EXAMPLES / "walkthrough.py"), "--trials", "3", "--epochs", "1", "--workdir", "w"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        env={**data_env, "PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "BROWSER_PATH": "/nonexistent/chromium"},
        timeout=600,
    )
    assert done.returncode == 0, done.stderr
    assert "searched: 3 trials" in done.stdout and "on 360 test images" in done.stdout
    assert "importance" in done.stdout.split("plots: ")[1]
    assert (tmp_path / "w" / "model" / "model.keras").is_file()
