"""Evaluating saved models on the real test set: what is computed, and which files are refused."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import keras
import numpy as np
import pytest
from conftest import assert_clean_error, run_tune

from tuning.data.dataset import Dataset
from tuning.data.images import SHAPE as FASHION
from tuning.errors import TuneError
from tuning.results.evaluate import evaluate_file, evaluate_model, load_classifier

# Keras' own saving code trips over NumPy 2's copy keyword; nothing tune does.
pytestmark = pytest.mark.filterwarnings("ignore:__array__ implementation:DeprecationWarning")


def _saved(path: Path, input_shape: tuple[int, ...], units: int = 10, activation: str | None = "softmax") -> Path:
    """A small untrained model saved at `path`: raw pixels in, `units` outputs."""
    keras.utils.set_random_seed(0)
    inputs = keras.Input(shape=input_shape)
    x = keras.layers.Rescaling(1.0 / 255)(inputs)
    x = keras.layers.Flatten()(x)
    outputs = keras.layers.Dense(units, activation=activation)(x)
    keras.Model(inputs, outputs).save(path)
    return path


@pytest.mark.parametrize(
    ("input_shape", "activation", "from_logits"),
    [((28, 28), "softmax", False), ((28, 28, 1), "softmax", False), ((28, 28), None, True)],
)
def test_matches_keras_own_metrics(
    fashion: Dataset, tmp_path: Path, input_shape: tuple, activation: str | None, from_logits: bool
) -> None:
    model = load_classifier(_saved(tmp_path / "m.keras", input_shape, activation=activation), fashion.shape)
    got = evaluate_model(model, fashion.x_test, fashion.y_test, fashion.class_names)
    model.compile(loss=keras.losses.SparseCategoricalCrossentropy(from_logits=from_logits), metrics=["accuracy"])
    images = fashion.x_test.astype("float32").reshape(-1, *input_shape)
    loss, accuracy = model.evaluate(images, fashion.y_test, batch_size=1024, verbose=0)
    assert got.accuracy == pytest.approx(accuracy, abs=1e-6)
    assert got.loss == pytest.approx(loss, rel=1e-4)
    n = len(fashion.y_test)  # 10,000, or the shipped subset's 200
    assert got.confusion.sum() == n and np.trace(got.confusion) / n == got.accuracy
    assert list(got.confusion.sum(axis=1)) == [n // 10] * 10
    per_class = got.per_class_accuracy
    assert per_class["Trouser"] == got.confusion[1, 1] / (n // 10)


@pytest.mark.slow  # the real `tune` in a subprocess
def test_evaluate_command_prints_accuracy_and_classes(
    tmp_path: Path, tune_env: dict[str, str], fashion: Dataset
) -> None:
    path = _saved(tmp_path / "m.keras", (28, 28))
    expected = evaluate_file(path)
    result = run_tune(["evaluate", "m.keras"], tmp_path, tune_env)
    assert result.returncode == 0, result.stderr
    assert f"m.keras: test accuracy {expected.accuracy:.4f}, loss {expected.loss:.4f} on 10000 images" in result.stdout
    assert "Ankle boot" in result.stdout and "T-shirt/top" in result.stdout


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda d: d / "missing.keras", "model file not found"),
        (lambda d: d, "is a directory"),
        (lambda d: _text(d / "notes.keras"), "not a zip archive"),
        (lambda d: _text(d / "weights.h5"), "not a HDF5 file"),
        (lambda d: _text(d / "export.json"), "expected a .keras file"),
        (lambda d: _saved(d / "rgb.keras", (32, 32, 3)), r"takes input\(s\) of shape \(32, 32, 3\)"),
        (lambda d: _saved(d / "five.keras", (28, 28), units=5), r"outputs shape \(5,\); the data have 10 classes"),
    ],
)
def test_unusable_files_are_refused(tmp_path: Path, make: Callable[[Path], Path], message: str) -> None:
    with pytest.raises(TuneError, match=message):
        load_classifier(make(tmp_path), FASHION)


def _text(path: Path) -> Path:
    path.write_text("not a model")
    return path


def test_corrupt_zip_is_refused(tmp_path: Path) -> None:
    good = _saved(tmp_path / "m.keras", (28, 28))
    broken = tmp_path / "broken.keras"
    broken.write_bytes(good.read_bytes()[:2000])
    with pytest.raises(TuneError, match=r"cannot load .*broken.keras as a Keras model"):
        load_classifier(broken, FASHION)


@pytest.mark.parametrize(
    ("name", "fragments"),
    [("notes.keras", ["notes.keras is not a Keras model file"]), ("rgb.keras", ["(32, 32, 3)", "(28, 28, 1)"])],
)
@pytest.mark.slow  # the real `tune` in a subprocess
def test_cli_errors_are_one_line(tmp_path: Path, tune_env: dict[str, str], name: str, fragments: list[str]) -> None:
    _text(tmp_path / "notes.keras")
    _saved(tmp_path / "rgb.keras", (32, 32, 3))
    assert_clean_error(run_tune(["evaluate", name], tmp_path, tune_env), *fragments)
