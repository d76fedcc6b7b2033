"""Dashboard artifacts and notes of real trials: stored while each trial runs, however it ends; never fatal."""

from __future__ import annotations

import csv
import io
import logging
from dataclasses import replace
from pathlib import Path

import optuna
import optuna_dashboard
import pytest
from optuna.artifacts import get_all_artifact_meta

from tuning.attrs import TrialCurve
from tuning.render import find_chromium
from tuning.search import artifacts
from tuning.search.artifacts import CURVE_COLUMNS, curve_csv, default_artifact_dir
from tuning.search.config import RunConfig
from tuning.search.runner import prepare_run, run_study


def test_default_artifact_dir_is_beside_a_sqlite_file(tmp_path: Path) -> None:
    assert default_artifact_dir(f"sqlite:///{tmp_path / 'runs.db'}") == tmp_path / "runs.artifacts"
    assert default_artifact_dir(str(tmp_path / "x.db")) == tmp_path / "x.artifacts"
    assert default_artifact_dir("postgresql://tune:secret@db:5432/tune") is None


def test_curve_csv_has_one_row_per_check_with_epochs() -> None:
    curve = TrialCurve(2, [1.5, 1.25], [0.7, 0.8], [0.6, 0.75], [0.9, 0.6], [1.1, 0.7])
    rows = list(csv.reader(io.StringIO(curve_csv(curve))))
    assert rows[0] == list(CURVE_COLUMNS)
    assert rows[1:] == [
        ["1", "0.5", "1.5", "0.6", "1.1", "0.7", "0.9"],
        ["2", "1.0", "1.25", "0.75", "0.7", "0.8", "0.6"],
    ]


@pytest.fixture()
def tiny_run(tmp_path: Path, fashion_dir: Path, cache_dir: Path, monkeypatch: pytest.MonkeyPatch) -> RunConfig:
    """Two one-epoch MLP trials on 600 images; halving with bootstrap 1 prunes the first at its first check."""
    monkeypatch.setenv("TUNE_CACHE_DIR", str(cache_dir))
    return RunConfig(
        arch="mlp",
        trials=2,
        epochs=1,
        checks_per_epoch=2,
        max_train_samples=600,
        seed=0,
        pruner="halving",
        reduction_factor=2,
        bootstrap_count=1,
        storage=f"sqlite:///{tmp_path / 'studies.db'}",
        data=str(fashion_dir),
        precision="float32",
    )


@pytest.mark.slow
@pytest.mark.chromium
def test_each_trial_stores_its_curve_summary_and_note(tiny_run: RunConfig, tmp_path: Path) -> None:
    run = prepare_run(tiny_run)
    run_study(run)
    study = run.study
    assert study.metric_names == ["val_accuracy"]
    trials = study.get_trials()
    assert trials[0].state == optuna.trial.TrialState.PRUNED  # bootstrap 1: alone at its rung
    store = optuna.artifacts.FileSystemArtifactStore(tmp_path / "studies.artifacts")
    for trial in trials:
        metas = {meta.filename: meta for meta in get_all_artifact_meta(trial, storage=run.storage)}
        assert {"learning_curve.csv", "model_summary.txt"} <= set(metas)
        assert ("learning_curve.png" in metas) == (find_chromium() is not None)
        with store.open_reader(metas["learning_curve.csv"].artifact_id) as reader:
            rows = list(csv.DictReader(io.StringIO(reader.read().decode())))
        assert [float(row["val_accuracy"]) for row in rows] == trial.user_attrs["val_accuracy_per_check"]
        with store.open_reader(metas["model_summary.txt"].artifact_id) as reader:
            assert f"{trial.user_attrs['n_params']:,}" in reader.read().decode()
        note = optuna_dashboard.get_note(_live(study, trial))
        assert note.startswith(f"### Trial {trial.number}: ") and "An MLP of" in note
    first_note = optuna_dashboard.get_note(_live(study, trials[0]))
    assert "pruned after epoch 0.5 (check 1): successive halving stopped it at rung 0 (check 1)" in first_note


@pytest.mark.slow
def test_unwritable_artifact_dir_does_not_fail_trials(
    tiny_run: RunConfig, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    (tmp_path / "studies.artifacts").write_text("a file where the folder should be\n")
    artifacts._warn_once.cache_clear()  # logged once per process: forget earlier tests' warnings
    run = prepare_run(replace(tiny_run, pruner="none"))
    with caplog.at_level(logging.WARNING, logger="tuning.search.artifacts"):
        run_study(run)
    states = [trial.state for trial in run.study.get_trials()]
    assert states == [optuna.trial.TrialState.COMPLETE] * 2
    warnings = [r.getMessage() for r in caplog.records if r.name == "tuning.search.artifacts"]
    assert len(warnings) == 1 and "could not store trial artifacts" in warnings[0], warnings
    assert all(not get_all_artifact_meta(t, storage=run.storage) for t in run.study.get_trials())


def _live(study: optuna.Study, frozen: optuna.trial.FrozenTrial) -> optuna.Trial:
    """A Trial handle on a stored trial, which get_note takes (it reads the study's system attributes)."""
    return optuna.Trial(study, frozen._trial_id)


def test_run_puts_artifacts_beside_the_storage_or_where_told(tiny_run: RunConfig, tmp_path: Path) -> None:
    assert prepare_run(tiny_run).setup.artifact_dir == str(tmp_path / "studies.artifacts")
    elsewhere = str(tmp_path / "shared" / "artifacts")
    assert prepare_run(replace(tiny_run, artifact_dir=elsewhere)).setup.artifact_dir == elsewhere
