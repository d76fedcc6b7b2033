"""KerasTuner as a search engine: its space, its trials in the Optuna study, resuming, and what it refuses."""

from __future__ import annotations

import json
import os
import re
import signal
from pathlib import Path

import optuna
import pytest
from conftest import assert_clean_error, invoke_tune

from tuning import attrs
from tuning.cli.progress import describe_trial
from tuning.errors import TuneError
from tuning.model.registry import get_model
from tuning.search.config import RunConfig
from tuning.search.runner import prepare_run, run_study
from tuning.search.space import default_space_path, distribution, load_space, suggest

SMALL = {"max_train_samples": 300, "precision": "float32", "checks_per_epoch": 2}
# Small fast models, and batches small enough that each epoch of 250 images splits into 2 checks.
SPACE = """arch = "mlp"
[params.units_1]
type = "int"
low = 16
high = 64
log = true
[params.learning_rate]
type = "float"
low = 1e-3
high = 1e-2
log = true
[params.batch_size]
type = "categorical"
choices = [32, 64]
"""
MIXED = 'arch = "mlp"\n[params.batch_size]\ntype = "categorical"\nchoices = [64, "big"]\n'


@pytest.mark.parametrize("arch", ["mlp", "cnn"])
def test_the_space_keeps_its_distributions_and_conditions(arch: str) -> None:
    import keras_tuner

    from tuning.search.kt_space import kt_hyperparameters, space_values

    space = load_space(default_space_path(arch))
    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=0))
    for _ in range(20):  # what an optuna trial records is what search/space.py `distribution` gives
        trial = study.ask()
        suggest(trial, space)
        assert trial.distributions == {name: distribution(p) for p in space.params if (name := p.name) in trial.params}
    hp = kt_hyperparameters(space)
    oracle = keras_tuner.oracles.RandomSearchOracle(
        objective=keras_tuner.Objective("val_accuracy", "max"), hyperparameters=hp, seed=3, max_trials=None
    )
    depth = "n_layers" if arch == "mlp" else "n_blocks"
    for _ in range(30):
        values = space_values(space, oracle._random_values())
        assert {f"{'units' if arch == 'mlp' else 'filters'}_{i}" for i in range(1, values[depth] + 1)} <= set(values)
        assert f"{'units' if arch == 'mlp' else 'filters'}_{values[depth] + 1}" not in values  # the `when` holds
        for p in space.params:
            if p.name in values:
                assert distribution(p)._contains(distribution(p).to_internal_repr(values[p.name])), (p, values)
                if p.type == "categorical":
                    assert any(type(c) is type(values[p.name]) for c in p.choices)  # booleans stay booleans


def test_a_space_keras_tuner_cannot_hold_is_refused(tmp_path: Path) -> None:
    from tuning.search.kt_space import kt_hyperparameters

    path = tmp_path / "mixed.toml"
    path.write_text(MIXED)
    with pytest.raises(TuneError, match="parameter 'batch_size' mixes choice types"):
        kt_hyperparameters(load_space(path))


@pytest.mark.slow
def test_hyperband_trials_land_in_the_study_and_a_rerun_resumes(tmp_path: Path, fashion_dir: Path) -> None:
    storage = str(tmp_path / "runs.db")
    (tmp_path / "space.toml").write_text(SPACE)
    config = RunConfig(
        "mlp",
        engine="keras-tuner",
        trials=3,
        epochs=2,
        reduction_factor=2,
        storage=storage,
        seed=1,
        data=str(fashion_dir),
        space_path=str(tmp_path / "space.toml"),
        **SMALL,
    )
    seen: list[int] = []
    run_study(prepare_run(config), callbacks=[lambda study, trial: seen.append(trial.number)])
    study = optuna.load_study(study_name="mlp", storage=f"sqlite:///{storage}")
    trials = study.get_trials()
    assert seen == [0, 1, 2]
    # Hyperband with 2 epochs and factor 2: bracket 1 runs 2 trials of 1 epoch, then continues the best for 1 more.
    assert [t.state.name for t in trials] == ["PRUNED"] * 2 + ["COMPLETE"]
    space = load_space(tmp_path / "space.toml")
    for trial in trials:
        assert trial.distributions == {p.name: distribution(p) for p in space.params if p.name in trial.params}
        assert trial.user_attrs[attrs.ENGINE] == "keras-tuner" and trial.user_attrs[attrs.KT_ORACLE] == "hyperband"
        assert trial.user_attrs[attrs.KT_BRACKET] == 1 and trial.user_attrs[attrs.SEED] is not None
    assert [t.user_attrs[attrs.KT_TRIAL_ID] for t in trials] == ["0000", "0001", "0002"]
    assert all(sorted(t.intermediate_values) == [1, 2] for t in trials[:2])  # 2 checks in its 1 epoch
    promoted = trials[2]
    parent = next(t for t in trials if t.user_attrs[attrs.KT_TRIAL_ID] == promoted.user_attrs[attrs.KT_PARENT])
    assert promoted.params == parent.params and promoted.user_attrs[attrs.KT_ROUND] == 1
    assert sorted(promoted.intermediate_values) == [3, 4]  # its checks continue the parent's
    assert promoted.value == max(promoted.intermediate_values.values())
    assert promoted.user_attrs[attrs.EPOCHS_RUN] == 1 and promoted.user_attrs[attrs.BEST_EPOCH] == 2
    assert re.search(r"complete\[/\]  val_acc \d\.\d{4}  best epoch 2/2 ", describe_trial(promoted))
    assert promoted.value > max(parent.intermediate_values.values()) - 0.1  # it went on from the parent's weights
    state = tmp_path / "runs.keras-tuner" / "mlp"
    assert (state / "oracle.json").is_file() and (state / f"trial_{parent.user_attrs[attrs.KT_TRIAL_ID]}").is_dir()

    more = prepare_run(RunConfig(**{**config.__dict__, "trials": 4, "validation_size": 10_000}))
    assert more.used_before == 3
    run_study(more)
    (last,) = study.get_trials()[3:]
    assert last.state.name == "COMPLETE" and last.user_attrs[attrs.KT_TRIAL_ID] == "0003"
    assert last.user_attrs[attrs.KT_BRACKET] == 0 and sorted(last.intermediate_values) == [1, 2, 3, 4]


@pytest.mark.slow
def test_export_and_retrain_a_best_trial_found_by_keras_tuner(
    tmp_path: Path, fashion_dir: Path, data_env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    args = ["run", "mlp", "--engine", "keras-tuner", "--kt-oracle", "random", "--storage", "runs.db"]
    small = ["--max-train-samples", "300", "--precision", "float32", "--epochs", "2", "--seed", "2"]
    result = invoke_tune([*args, *small, "--trials", "2"], env=data_env)
    assert result.returncode == 0, result.stderr
    assert "best: trial" in result.stdout
    assert "running 2 trial(s) proposed by KerasTuner's random oracle of up to 2 epochs" in result.stdout
    exported = invoke_tune(["export", "mlp", "--storage", "runs.db", "--output", "best.json"], env=data_env)
    assert exported.returncode == 0, exported.stderr
    best = json.loads((tmp_path / "best.json").read_text())
    study = optuna.load_study(study_name="mlp", storage="sqlite:///runs.db")
    assert best["best_trial"] == study.best_trial.number and best["params"].items() >= study.best_trial.params.items()
    retrained = invoke_tune(
        ["retrain", "best.json", "--max-train-samples", "300", "--output-dir", "model", "--no-png"], env=data_env
    )
    assert retrained.returncode == 0, retrained.stderr
    assert (tmp_path / "model" / "model.keras").is_file()


@pytest.mark.parametrize(
    ("extra", "named"),
    [
        (["--engine", "keras-tuner", "--pruner", "median"], "--pruner does not apply to the keras-tuner engine"),
        (["--engine", "keras-tuner", "--sampler", "random"], "--sampler does not apply"),
        (["--engine", "keras-tuner", "--startup-trials", "3"], "--startup-trials does not apply"),
        (["--engine", "keras-tuner", "--no-defaults-first"], "--defaults-first does not apply"),
        (["--engine", "keras-tuner", "--jobs", "2"], "--jobs must be 1 with the keras-tuner engine"),
        (["--engine", "keras-tuner", "--kt-oracle", "bayesian", "--reduction-factor", "3"], "--reduction-factor"),
        (["--kt-oracle", "random"], "--kt-oracle applies only to the keras-tuner engine"),
        (["--engine", "keras-tuner", "--kt-oracle", "grid"], "--kt-oracle"),
    ],
)
def test_options_that_do_not_apply_are_refused(extra: list[str], named: str, in_tmp: Path) -> None:
    result = invoke_tune(["run", "mlp", "--storage", "runs.db", "--trials", "1", *extra])
    assert_clean_error(result, named)
    assert not (in_tmp / "runs.db").exists()


@pytest.mark.parametrize(
    ("first", "then", "named"),
    [
        ([], ["--engine", "keras-tuner"], "searched with engine optuna, but this run asks for keras-tuner (hyperband)"),
        (["--engine", "keras-tuner"], [], "searched with engine keras-tuner (hyperband), but this run asks for optuna"),
        (["--engine", "keras-tuner"], ["--engine", "keras-tuner", "--kt-oracle", "bayesian"], "keras-tuner (bayesian)"),
        (
            ["--engine", "keras-tuner"],
            ["--engine", "keras-tuner", "--epochs", "3"],
            f"--epochs must stay {get_model('mlp').epochs}",
        ),
        (["--engine", "keras-tuner"], ["--engine", "keras-tuner", "--reduction-factor", "3"], "--reduction-factor"),
    ],
)
def test_a_study_of_another_engine_or_oracle_is_refused(
    first: list[str], then: list[str], named: str, in_tmp: Path
) -> None:
    settings = {"max_train_samples": 300, "precision": "float32", "study_name": "s", "storage": "runs.db"}
    engine = {"engine": "keras-tuner"} if first else {}
    prepare_run(RunConfig("mlp", **settings, **engine))  # creates the study; trains nothing
    before = (in_tmp / "runs.db").read_bytes()
    same = ["--max-train-samples", "300", "--precision", "float32"]
    result = invoke_tune(["run", "mlp", "--study", "s", "--storage", "runs.db", *same, *then])
    assert_clean_error(result, named)
    assert (in_tmp / "runs.db").read_bytes() == before


def test_a_space_keras_tuner_cannot_hold_is_refused_before_a_study_exists(in_tmp: Path) -> None:
    (in_tmp / "mixed.toml").write_text(MIXED)
    result = invoke_tune(["run", "mlp", "--engine", "keras-tuner", "--space", "mixed.toml", "--storage", "runs.db"])
    assert_clean_error(result, "parameter 'batch_size' mixes choice types (int, str)")
    assert not (in_tmp / "runs.db").exists()


@pytest.mark.parametrize("leftover", ["a trial without KerasTuner's state", "a queued trial"])
def test_a_study_keras_tuner_cannot_go_on_with_is_refused(leftover: str, in_tmp: Path) -> None:
    settings = {"max_train_samples": 300, "precision": "float32", "storage": "runs.db", "engine": "keras-tuner"}
    study = prepare_run(RunConfig("mlp", **settings)).study
    if leftover == "a queued trial":
        study.enqueue_trial({"n_layers": 1})
    else:  # a finished trial, whose runs.keras-tuner/mlp folder was deleted
        study.add_trial(optuna.trial.create_trial(params={}, distributions={}, value=0.5))
    before = (in_tmp / "runs.db").read_bytes()
    result = invoke_tune(
        [
            "run",
            "mlp",
            "--engine",
            "keras-tuner",
            "--storage",
            "runs.db",
            "--trials",
            "3",
            "--max-train-samples",
            "300",
            "--precision",
            "float32",
        ]
    )
    named = (
        "holds 1 queued trial(s)"
        if leftover == "a queued trial"
        else "its KerasTuner state runs.keras-tuner/mlp is missing"
    )
    assert_clean_error(result, named)
    assert (in_tmp / "runs.db").read_bytes() == before


def test_delete_removes_keras_tuners_state_too(in_tmp: Path) -> None:
    prepare_run(RunConfig("mlp", storage="runs.db", engine="keras-tuner", max_train_samples=300, precision="float32"))
    state = in_tmp / "runs.keras-tuner" / "mlp"
    state.mkdir(parents=True)
    (state / "oracle.json").write_text("{}")
    (in_tmp / "runs.keras-tuner" / "other").mkdir()  # another study's: kept
    result = invoke_tune(["delete", "mlp", "--storage", "runs.db", "--yes"])
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == (
        "deleted study 'mlp' and its 0 trial(s) from runs.db, and its keras-tuner state runs.keras-tuner/mlp"
    )
    assert not state.exists() and (in_tmp / "runs.keras-tuner" / "other").is_dir()


@pytest.mark.slow
def test_an_interrupted_trial_is_recorded_and_run_again_on_resume(tmp_path: Path, tune_env: dict[str, str]) -> None:
    from conftest import run_tune
    from procs import tune_process, wait_for_running_trial

    storage = f"sqlite:///{tmp_path / 'studies.db'}"
    args = ["run", "mlp", "--engine", "keras-tuner", "--kt-oracle", "random", "--trials", "2", "--seed", "0"]
    # 4 checks an epoch (the default gives 600 images 1): a trial stays running long enough to be interrupted
    small = ["--max-train-samples", "600", "--precision", "float32", "--checks-per-epoch", "4"]
    proc = tune_process([*args, *small, "--epochs", "100"], tmp_path, tune_env)
    wait_for_running_trial(storage, proc)
    os.killpg(proc.pid, signal.SIGINT)  # Ctrl-C in a terminal
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 130, (out, err)
    assert "Traceback" not in out + err and "Resume with: tune run mlp" in out
    (interrupted,) = optuna.load_study(study_name="mlp", storage=storage).get_trials()
    assert interrupted.state.name == "FAIL" and interrupted.user_attrs[attrs.FAIL_REASON] == "interrupted"
    assert interrupted.intermediate_values  # what it trained is kept
    resumed = run_tune([*args, *small, "--epochs", "1"], tmp_path, tune_env)  # KerasTuner's open trial first
    assert resumed.returncode == 0, resumed.stderr
    first, again = optuna.load_study(study_name="mlp", storage=storage).get_trials()
    assert again.state.name == "COMPLETE" and again.params == first.params
    assert again.user_attrs[attrs.KT_TRIAL_ID] == first.user_attrs[attrs.KT_TRIAL_ID] == "0000"


@pytest.mark.slow
def test_a_killed_runs_trial_is_failed_when_stale_and_run_again(tmp_path: Path, tune_env: dict[str, str]) -> None:
    from conftest import run_tune
    from procs import tune_process, wait_for_running_trial

    storage = f"sqlite:///{tmp_path / 'studies.db'}"
    args = ["run", "mlp", "--engine", "keras-tuner", "--kt-oracle", "random", "--trials", "2", "--seed", "0"]
    small = ["--max-train-samples", "600", "--precision", "float32", "--heartbeat", "1"]
    proc = tune_process([*args, *small, "--epochs", "100"], tmp_path, tune_env)
    wait_for_running_trial(storage, proc)
    os.killpg(proc.pid, signal.SIGKILL)  # no chance to record anything: the trial stays RUNNING
    proc.wait(timeout=30)
    resumed = run_tune([*args, *small, "--epochs", "1"], tmp_path, tune_env)
    assert resumed.returncode == 0, resumed.stderr
    for startup_line in ("absl::InitializeLog", "oneDNN", "cuda"):  # TensorFlow quiet, as with the optuna engine
        assert startup_line not in resumed.stderr
    killed, *others = optuna.load_study(study_name="mlp", storage=storage).get_trials()
    assert killed.state.name == "FAIL" and attrs.FAIL_REASON not in killed.user_attrs  # failed as stale
    (retry,) = [t for t in others if t.system_attrs.get("failed_trial") == killed.number]
    assert retry.state.name == "COMPLETE" and retry.params == killed.params
    assert retry.user_attrs[attrs.KT_TRIAL_ID] == killed.user_attrs[attrs.KT_TRIAL_ID] == "0000"
    assert [t.state.name for t in others] == ["COMPLETE", "COMPLETE"]  # the retry, then the second trial


def test_a_when_on_a_conditional_parameter_nests_the_scopes(tmp_path: Path) -> None:
    import keras_tuner

    from tuning.search.kt_space import kt_hyperparameters, space_values

    path = tmp_path / "nested.toml"
    path.write_text(
        'arch = "cnn"\n'
        '[params.augment]\ntype = "categorical"\nchoices = [true, false]\n'
        '[params.flip]\ntype = "categorical"\nchoices = [true, false]\nwhen = { augment = [true] }\n'
        '[params.translate]\ntype = "float"\nlow = 0.0\nhigh = 0.2\nstep = 0.05\nwhen = { flip = [true] }\n'
    )
    space = load_space(path)
    oracle = keras_tuner.oracles.RandomSearchOracle(
        objective=keras_tuner.Objective("val_accuracy", "max"), hyperparameters=kt_hyperparameters(space), seed=0
    )
    seen = set()
    for _ in range(40):
        values = space_values(space, oracle._random_values())
        seen.add(tuple(values))
        assert ("flip" in values) == values["augment"] and ("translate" in values) == values.get("flip", False)
        if "translate" in values:  # on the step grid Optuna's distribution holds
            assert distribution(space.params[2])._contains(values["translate"]), values
    assert seen == {("augment",), ("augment", "flip"), ("augment", "flip", "translate")}
