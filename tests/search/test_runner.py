"""The search on real data subsets, in process: trials, pruning, attributes, resuming."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import optuna
import pytest

from tuning.errors import TuneError
from tuning.search.config import RunConfig
from tuning.search.runner import prepare_run, run_study
from tuning.search.study import state_counts

pytestmark = pytest.mark.slow  # every test here runs real Keras trials


@pytest.fixture()
def config_for(tmp_path: Path, fashion_dir: Path, cache_dir: Path, monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    monkeypatch.setenv("TUNE_CACHE_DIR", str(cache_dir))

    def make(**overrides: object) -> RunConfig:
        settings: dict = {
            "arch": "mlp",
            "trials": 3,
            "epochs": 2,
            "max_train_samples": 600,
            "seed": 0,
            "pruner": "none",  # pruning is tested with synthetic trials (test_pruners.py)
            "storage": f"sqlite:///{tmp_path / 'studies.db'}",
            "data": str(fashion_dir),
        }
        return RunConfig(**{**settings, **overrides})

    return make


def test_trials_are_real_training_runs_with_attributes(config_for) -> None:  # type: ignore[no-untyped-def]
    run = prepare_run(config_for(trials=2, pruner="none", checks_per_epoch=4))
    assert run.remaining == 2
    assert len(run.setup.split.y_train) == 600 and len(run.setup.split.y_val) == 120
    run_study(run)
    trials = run.study.get_trials()
    assert len(trials) == 2
    for trial in trials:
        assert trial.state == optuna.trial.TrialState.COMPLETE
        assert 0.1 < trial.value <= 1.0
        attrs = trial.user_attrs
        assert attrs["arch"] == "mlp" and attrs["n_params"] > 1000
        checks = attrs["checks_per_epoch"]  # 4 asked; fewer where 600 images make too few batches
        assert 2 <= checks <= 4 and attrs["epochs_run"] == 2 and 1 <= attrs["best_epoch"] <= 2
        for name in ("check_seconds", "val_accuracy_per_check", "val_loss_per_check", "train_loss_per_check"):
            assert len(attrs[name]) == 2 * checks, name
        assert attrs["data_fingerprint"] == run.study.user_attrs["data_fingerprint"]
        # per-check (from 1) curve for the pruner and the dashboard
        assert set(trial.intermediate_values) == set(range(1, 2 * checks + 1))
        assert [round(v, 5) for v in trial.intermediate_values.values()] == attrs["val_accuracy_per_check"]
        assert trial.value == max(trial.intermediate_values.values())
    assert run.study.user_attrs["checks_per_epoch"] == 4
    assert run.study.user_attrs["space_hash"] == run.setup.space.hash


def test_rerun_runs_only_the_remainder(config_for) -> None:  # type: ignore[no-untyped-def]
    first = prepare_run(config_for(trials=2))
    # The default checks: 600 training images hold fewer than 2 checks of 2,000, so one per epoch.
    assert first.study.user_attrs["checks_per_epoch"] == first.setup.checks_per_epoch == 1
    run_study(first)
    again = prepare_run(config_for(trials=3))
    assert (again.used_before, again.remaining) == (2, 1)
    run_study(again)
    assert len(again.study.get_trials()) == 3
    assert prepare_run(config_for(trials=3)).remaining == 0


def test_successive_halving_in_bfloat16(config_for) -> None:  # type: ignore[no-untyped-def]
    from tuning.results.export import Export

    run = prepare_run(
        config_for(trials=5, epochs=3, checks_per_epoch=1, pruner="halving", precision="bfloat16", seed=1)
    )
    run_study(run)
    trials = run.study.get_trials()
    counts = state_counts(trials)
    assert counts["PRUNED"] > 0 and counts["COMPLETE"] > 0
    assert all(t.user_attrs["epochs_run"] == 1 for t in trials if t.state.name == "PRUNED")  # rungs at 1, 3, 9
    assert {t.user_attrs["precision"] for t in trials} == {"bfloat16"} == {run.study.user_attrs["precision"]}
    assert Export.from_study(run.study).precision == "bfloat16"
    joined = prepare_run(config_for(trials=5, epochs=3, pruner="halving", precision="float32", checks_per_epoch=4))
    assert joined.changes.changed == {"precision": ("bfloat16", "float32")}
    assert joined.setup.precision == "float32"
    assert joined.changes.ignored == {"checks_per_epoch": (1, 4)}  # pruning compares trials check by check
    assert joined.setup.checks_per_epoch == 1
    (entry,) = joined.study.user_attrs["setting_changes"]
    assert entry["changed"] == {"precision": ["bfloat16", "float32"]}


def test_rungs_within_the_first_epoch(config_for, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    space = tmp_path / "batch64.toml"  # 600 images in batches of 64: 10 batches, checks of 5 + 5
    space.write_text(
        'arch = "mlp"\n[params.batch_size]\ntype = "categorical"\nchoices = [64]\n'
        '[params.learning_rate]\ntype = "float"\nlow = 1e-5\nhigh = 1e-2\nlog = true\n'
    )
    config = config_for(trials=6, epochs=2, checks_per_epoch=2, pruner="halving", space_path=str(space))
    run = prepare_run(replace(config, reduction_factor=2))
    run_study(run)
    trials = run.study.get_trials()
    assert {t.user_attrs["checks_per_epoch"] for t in trials} == {2}
    pruned = [t for t in trials if t.state.name == "PRUNED"]
    assert pruned and all(t.user_attrs["epochs_run"] in (0.5, 1) for t in pruned)  # rungs at checks 1, 2: half an epoch
    assert any(t.user_attrs["epochs_run"] == 0.5 and set(t.intermediate_values) == {1} for t in pruned)
    for trial in trials:
        assert len(trial.user_attrs["val_accuracy_per_check"]) == trial.user_attrs["epochs_run"] * 2
    # A run that leaves the checks to the default joins with the study's 2 (its default here would be 1),
    # and nothing is reported as ignored: it asked for nothing.
    joined = prepare_run(replace(config, checks_per_epoch=None, trials=7))
    assert joined.setup.checks_per_epoch == joined.config.checks_per_epoch == 2
    assert not joined.changes.ignored


def test_the_start_configuration_comes_first(config_for, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    from tuning.search.space import default_space_path, load_space

    run = prepare_run(config_for(trials=2, epochs=1, study_name="d"))  # defaults_first is the default
    assert run.remaining == 2
    run_study(run)
    first, second = run.study.get_trials()
    assert first.params == load_space(default_space_path("mlp")).start  # the shipped [start], complete
    assert first.user_attrs["start"] is True and "start" not in second.user_attrs
    assert second.params != first.params and len(run.study.get_trials()) == 2
    prepare_run(config_for(trials=3, epochs=1, study_name="d"))  # joining enqueues nothing
    assert [t.state.name for t in run.study.get_trials()] == ["COMPLETE", "COMPLETE"]

    # A space without [start]: the builder defaults where the space holds them; the rest is sampled.
    space = tmp_path / "no-start.toml"
    space.write_text(
        'arch = "mlp"\n[params.learning_rate]\ntype = "float"\nlow = 0.01\nhigh = 0.1\n'
        '[params.batch_size]\ntype = "categorical"\nchoices = [64, 128]\n'
    )
    run = prepare_run(config_for(trials=1, epochs=1, study_name="e", space_path=str(space)))
    run_study(run)
    (trial,) = run.study.get_trials()
    assert trial.params["batch_size"] == 128 and 0.01 <= trial.params["learning_rate"] <= 0.1

    run = prepare_run(config_for(trials=1, epochs=1, study_name="f", defaults_first=False))
    assert run.study.get_trials() == []  # nothing queued
    space.write_text('arch = "mlp"\n[params.n_layers]\ntype = "int"\nlow = 1\nhigh = 3\n[start]\nn_layers = 4\n')
    with pytest.raises(TuneError, match=r"\[start\]: parameter n_layers=4 lies outside its space"):
        prepare_run(config_for(study_name="g", space_path=str(space)))
    assert sorted(optuna.get_all_study_names(run.storage)) == ["d", "e", "f"]  # refused before a study was created


def test_failing_trials_are_recorded_and_the_study_goes_on(config_for, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    space = tmp_path / "nan.toml"
    space.write_text(
        'arch = "mlp"\n[params.learning_rate]\ntype = "categorical"\nchoices = [1e8]\n'
        '[params.l2]\ntype = "float"\nlow = 1e-4\nhigh = 1e-3\n'
    )
    run = prepare_run(config_for(trials=2, space_path=str(space), study_name="nan"))
    run_study(run)
    trials = run.study.get_trials()
    assert [t.state.name for t in trials] == ["FAIL", "FAIL"]
    assert all(t.user_attrs["fail_reason"].startswith("loss became NaN") for t in trials)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"arch": "cnn"}, "created with arch='mlp'"),
        ({"max_train_samples": 700}, "created with max_train_samples=600"),
    ],
)
def test_resuming_with_other_settings_is_refused(config_for, change: dict, message: str) -> None:  # type: ignore[no-untyped-def]
    prepare_run(config_for(study_name="s"))
    with pytest.raises(TuneError, match=message):
        prepare_run(config_for(study_name="s", **change))


def test_resuming_with_another_space_is_refused(config_for, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    prepare_run(config_for(study_name="s"))
    space = tmp_path / "other.toml"
    space.write_text('arch = "mlp"\n[params.n_layers]\ntype = "int"\nlow = 1\nhigh = 2\n')
    with pytest.raises(TuneError, match="created with space_hash="):
        prepare_run(config_for(study_name="s", space_path=str(space)))
