"""Retraining an export: the real command on a real study's export, small training subsets, the full test set."""

from __future__ import annotations

import json
import statistics
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from conftest import assert_clean_error, run_tune
from test_export import _with_space

from tuning.data.dataset import Dataset
from tuning.data.images import CLASS_NAMES
from tuning.errors import TuneError
from tuning.results.export import Export
from tuning.results.retrain import RetrainConfig, prepare_retrain, retrain

SMALL = ["--max-train-samples", "1000", "--no-png"]
pytestmark = pytest.mark.slow  # every test here trains real models


@pytest.fixture(scope="module", autouse=True)
def _cache_env(cache_dir: Path, fashion_dir: Path) -> Iterator[None]:
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("TUNE_CACHE_DIR", str(cache_dir))
        patch.setenv("TUNE_DATA_DIR", str(fashion_dir))
        yield


@pytest.fixture(scope="module")
def export_file(tmp_path_factory: pytest.TempPathFactory, _cache_env: None) -> Path:
    """The export of a real one-trial mlp study on 300 images."""
    from tuning.search.config import RunConfig
    from tuning.search.runner import prepare_run, run_study

    root = tmp_path_factory.mktemp("study")
    config = RunConfig(
        arch="mlp", trials=1, epochs=1, max_train_samples=300, seed=0, pruner="none", storage=f"sqlite:///{root}/s.db"
    )
    run = prepare_run(config)
    run_study(run)
    return Export.from_study(run.study).write(root / "mlp.json")


@pytest.fixture()
def export(export_file: Path) -> dict[str, Any]:
    return json.loads(export_file.read_text())


def _write(path: Path, export: dict[str, Any]) -> Path:
    path.write_text(json.dumps(export))
    return path


def test_retrain_command_end_to_end(
    export_file: Path, tmp_path: Path, tune_env: dict[str, str], fashion: Dataset
) -> None:
    import keras

    result = run_tune(["retrain", str(export_file), "--seeds", "2", "--output-dir", "out", *SMALL], tmp_path, tune_env)
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""  # tune's lines only, with TF_CPP_MIN_LOG_LEVEL=2 set (tune_env)
    # the export's trial peaked in its last epoch, so the default --extend 2 doubles the search's epochs
    assert "epochs: 2 (the best trial still improved in its last epoch (1 of 1); x2); seeds: 0, 1" in result.stdout
    assert "on 1000 images" in result.stdout and "(mean ± sample std over 2 seeds)" in result.stdout
    out = tmp_path / "out"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]  # no staging folder left
    assert sorted(p.name for p in out.iterdir()) == [
        "confusion_matrix.html",
        "history.html",
        "metrics.json",
        "model.keras",
        "plotly.min.js",
    ]
    metrics = json.loads((out / "metrics.json").read_text())

    runs = metrics["runs"]
    assert [run["seed"] for run in runs] == metrics["seeds"] == [0, 1]
    accuracies = [run["test_accuracy"] for run in runs]
    assert metrics["test_accuracy_std"] == pytest.approx(statistics.stdev(accuracies))
    assert metrics["test_accuracy_mean"] == pytest.approx(statistics.fmean(accuracies))
    assert metrics["saved_run"] == 0 and metrics["saved_because"] == "first seed"
    assert metrics["test_accuracy"] == runs[0]["test_accuracy"] > 0.5
    assert list(metrics["per_class_accuracy"]) == list(CLASS_NAMES)
    assert np.array(metrics["confusion_matrix"]).sum() == metrics["test_images"] == 10_000
    assert (metrics["epochs"], metrics["train_samples"], metrics["validation_samples"]) == (2, 1000, 0)
    assert metrics["export"]["content"] == json.loads(export_file.read_text())
    assert metrics["versions"]["keras"] == keras.__version__
    assert metrics["wall_clock_seconds"] >= sum(run["seconds"] for run in runs)  # the whole retrain, both seeds
    assert "loss" in runs[0]["history"] and "val_accuracy" not in runs[0]["history"]

    model = keras.saving.load_model(out / "model.keras")
    predicted = model.predict(fashion.x_test.astype("float32"), batch_size=1024, verbose=0).argmax(axis=1)
    assert np.mean(predicted == fashion.y_test) == pytest.approx(metrics["test_accuracy"], abs=1e-6)
    html = (out / "history.html").read_text()
    assert len(html) < 1_000_000 and "seed 1 train" in html and 'src="plotly.min.js"' in html
    assert (out / "plotly.min.js").stat().st_size > 1_000_000  # one copy of plotly.js for both pages


def test_retrain_into_a_closed_pipe_trains_on_and_keeps_the_model(
    export_file: Path, tmp_path: Path, tune_env: dict[str, str]
) -> None:
    """`tune retrain ... | head -2`: the reader goes away, the retrain goes on and writes its model."""
    from procs import tune_process

    proc = tune_process(
        ["retrain", str(export_file), "--seeds", "2", "--output-dir", "out", *SMALL], tmp_path, tune_env
    )
    assert proc.stdout is not None and proc.stderr is not None
    assert proc.stdout.readline().startswith("retraining mlp") and proc.stdout.readline().startswith("epochs: 2")
    proc.stdout.close()
    err = proc.stderr.read()
    assert proc.wait(timeout=120) == 0, err
    assert err == "tune: output closed (broken pipe); carrying on without it\n"
    metrics = json.loads((tmp_path / "out" / "metrics.json").read_text())
    assert len(metrics["seeds"]) == 2 and (tmp_path / "out" / "model.keras").is_file()


def test_validation_split_saves_the_best_by_validation(export_file: Path, tmp_path: Path) -> None:
    config = RetrainConfig(
        export_path=str(export_file),
        epochs=2,
        seeds=2,
        validation_split=True,
        max_train_samples=1000,
        output_dir=str(tmp_path / "models" / "v"),
        png=False,
    )
    prepared = prepare_retrain(config)
    assert (len(prepared.split.y_train), len(prepared.split.y_val)) == (1000, 200)
    result = retrain(prepared)
    val = [run.best_val_accuracy for run in result.runs]
    assert result.saved_run == val.index(max(val))  # chosen by validation, never by test accuracy
    assert all(len(run.history["val_accuracy"]) == len(run.epoch_seconds) for run in result.runs)
    metrics = json.loads((tmp_path / "models" / "v" / "metrics.json").read_text())
    assert metrics["saved_because"] == "best validation accuracy" and metrics["validation_samples"] == 200
    assert metrics["test_accuracy"] == result.saved.evaluation.accuracy
    assert "seed 1 validation" in (tmp_path / "models" / "v" / "history.html").read_text()


def test_retrain_follows_the_exports_precision(export: dict[str, Any], tmp_path: Path, fashion: Dataset) -> None:
    import keras

    path = _write(tmp_path / "bf16.json", {**export, "precision": "bfloat16"})
    out = tmp_path / "bf16"
    result = retrain(prepare_retrain(RetrainConfig(str(path), max_train_samples=1000, output_dir=str(out), png=False)))
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["precision"] == "bfloat16"
    model = keras.saving.load_model(out / "model.keras")
    assert model.get_layer("dense_1").compute_dtype == "bfloat16"
    predicted = model.predict(fashion.x_test, batch_size=1024, verbose=0).argmax(axis=1)
    assert np.mean(predicted == fashion.y_test) == pytest.approx(result.saved.evaluation.accuracy, abs=1e-6)
    overridden = RetrainConfig(str(path), max_train_samples=1000, output_dir=str(tmp_path / "f32"), precision="float32")
    retrain(prepare_retrain(overridden))
    assert json.loads((tmp_path / "f32" / "metrics.json").read_text())["precision"] == "float32"


def test_diverging_training_leaves_nothing_behind(export: dict[str, Any], tmp_path: Path) -> None:
    unstable = _with_space(
        export,
        "learning_rate",
        {"type": "categorical", "low": None, "high": None, "log": False, "choices": [1e8]},
        {"learning_rate": 1e8, "l2": 1e-3},
    )
    config = RetrainConfig(
        export_path=str(_write(tmp_path / "nan.json", unstable)),
        epochs=3,
        max_train_samples=1000,
        output_dir=str(tmp_path / "a" / "b"),
        png=False,
    )
    with pytest.raises(TuneError, match="retraining with seed 0 diverged: loss became NaN at epoch"):
        retrain(prepare_retrain(config))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["nan.json"]


def test_epochs_option_overrides_the_export(export_file: Path, tmp_path: Path) -> None:
    prepared = prepare_retrain(RetrainConfig(str(export_file), epochs=3, output_dir=str(tmp_path / "o")))
    assert (prepared.epochs, prepared.epochs_reason, len(prepared.split.y_train)) == (3, "--epochs", 60_000)


def test_foreign_output_dir_is_refused(export_file: Path, tmp_path: Path) -> None:
    (tmp_path / "mine.txt").write_text("keep me")
    with pytest.raises(TuneError, match=r"holds files tune retrain did not write \(mine.txt\)"):
        prepare_retrain(RetrainConfig(str(export_file), output_dir=str(tmp_path)))
    assert (tmp_path / "mine.txt").read_text() == "keep me"


@pytest.mark.parametrize(
    ("case", "args", "fragments"),
    [
        ("not json", ["bad.json"], ["export bad.json is not valid JSON"]),
        ("outside space", ["outside.json"], ["units_1=5000 lies outside its space"]),
        ("under a file", ["good.json", "--output-dir", "plain/sub"], ["cannot create output dir plain/sub", "plain"]),
        ("zero seeds", ["good.json", "--seeds", "0"], ["--seeds must be a whole number >= 1, but got 0"]),
    ],
)
def test_bad_input_gives_one_clean_line(
    export: dict[str, Any], tmp_path: Path, tune_env: dict[str, str], case: str, args: list[str], fragments: list[str]
) -> None:
    (tmp_path / "bad.json").write_text("{not json")
    _write(tmp_path / "outside.json", {**export, "params": {**export["params"], "units_1": 5000}})
    _write(tmp_path / "good.json", export)
    (tmp_path / "plain").write_text("a regular file")
    before = sorted(p.name for p in tmp_path.iterdir())
    result = run_tune(["retrain", *args, *SMALL], tmp_path, tune_env)
    assert_clean_error(result, *fragments)
    assert sorted(p.name for p in tmp_path.iterdir()) == before  # no models/ folder, no staging folder
