"""`tune run` in this process, without training: what it prints (follow-up commands, changed settings, help)."""

from __future__ import annotations

import shlex
from pathlib import Path

import optuna
import pytest
from conftest import invoke_tune

from tuning import attrs
from tuning.model.registry import get_model
from tuning.search.config import RunConfig
from tuning.search.runner import prepare_run
from tuning.search.space import default_space_path

SMALL = ["--max-train-samples", "600", "--precision", "float32"]


E = get_model("mlp").epochs  # a run that does not set --epochs


def _study_with_one_trial(storage: str, fashion_dir: Path) -> optuna.Study:
    """Study "s" as `tune run mlp --study s --storage STORAGE` creates it, holding one complete trial (no training)."""
    settings = {"max_train_samples": 600, "precision": "float32", "data": str(fashion_dir)}
    study = prepare_run(RunConfig("mlp", study_name="s", storage=storage, defaults_first=False, **settings)).study
    distribution = optuna.distributions.FloatDistribution(1e-5, 1e-1, log=True)
    study.add_trial(
        optuna.trial.create_trial(
            params={"learning_rate": 0.001}, distributions={"learning_rate": distribution}, value=0.8
        )
    )
    return study


@pytest.fixture()
def in_tmp(in_tmp: Path) -> Path:
    """The shared fresh folder (conftest.py), with a runs/ folder for the storages here."""
    (in_tmp / "runs").mkdir()
    return in_tmp


@pytest.mark.parametrize("form", ["relative path", "absolute path", "url"])
def test_follow_up_commands_run_as_printed(form: str, in_tmp: Path, fashion_dir: Path) -> None:
    storage = {"relative path": "runs/x.db", "absolute path": str(in_tmp / "runs/x.db"), "url": "sqlite:///runs/x.db"}
    study = _study_with_one_trial(storage[form], fashion_dir)
    result = invoke_tune(["run", "mlp", "--storage", storage[form], "--study", "s", "--trials", "1", *SMALL])
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    quoted = shlex.quote(storage[form])
    assert lines[0] == (
        f"study 's' in {storage[form]} already holds 1 trials (asked for 1); nothing to run. To run more, "
        f"raise --trials: tune run mlp --trials 11 --study s --storage {quoted} --max-train-samples 600 "
        "--precision float32"
    )
    assert lines[-1] == f"next: tune export s --storage {quoted}"  # not tune plots: one configuration to rank
    suggested = shlex.split(lines[0].split("raise --trials: ")[1])
    more = invoke_tune([*suggested[1:], "--trials", "1"])  # the suggested command, held to 1 trial: no training
    assert more.returncode == 0 and "already holds 1 trials" in more.stdout
    distribution = optuna.distributions.FloatDistribution(1e-5, 1e-1, log=True)
    lr = {"learning_rate": 0.01}
    study.add_trial(optuna.trial.create_trial(params=lr, distributions={"learning_rate": distribution}, value=0.7))
    again = invoke_tune(["run", "mlp", "--storage", storage[form], "--study", "s", "--trials", "2", *SMALL])
    assert again.stdout.splitlines()[-1] == f"      tune plots s --storage {quoted}"
    plots = invoke_tune(shlex.split(again.stdout.splitlines()[-1])[1:])  # as printed: it finds the study
    assert plots.returncode == 0, plots.stderr
    assert "no study database" in invoke_tune(["plots", "s"]).stderr  # what the old hint did


def test_changed_settings_are_one_line_and_recorded(in_tmp: Path, fashion_dir: Path) -> None:
    _study_with_one_trial("runs/x.db", fashion_dir)
    args = ["run", "mlp", "--storage", "runs/x.db", "--study", "s", "--trials", "1", *SMALL]
    result = invoke_tune([*args, "--epochs", "2", "--pruner", "median", "--checks-per-epoch", "2"])
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[0] == (
        f"study 's' goes on with settings changed since its last run: --pruner halving -> median, --epochs {E} -> 2; "
        "--checks-per-epoch 2 ignored: study 's' keeps 1 (recorded in the study's 'setting_changes')."
    )
    assert result.stderr == ""
    (entry,) = optuna.load_study(study_name="s", storage="sqlite:///runs/x.db").user_attrs[attrs.SETTING_CHANGES]
    assert entry["changed"] == {"pruner": ["halving", "median"], "epochs": [E, 2]}
    again = invoke_tune([*args, "--epochs", "2", "--pruner", "median"])
    assert "settings changed" not in again.stdout  # the same as the latest run


def test_help_states_the_defaults_truthfully() -> None:
    result = invoke_tune(["run", "--help"], env={"COLUMNS": "200"})
    text = " ".join(result.stdout.split())
    shipped = default_space_path("mlp").parent
    assert f"[default: the space shipped with tune for a built-in MODEL, {shipped}/MODEL.toml]" in text
    assert "[default: 60 for mlp, 6 for cnn; a model of yours: its `epochs`, else 20]" in text
    assert "[default: none: an unseeded sampler; a new study draws its trial seed at random" in text
    assert "--validation-size N|FRACTION" in text and "[default: 10000]" in text
    assert "[default: as many as keep each check over 2,000 training images, at most 4: 4 on Fashion-MNIST]" in text
