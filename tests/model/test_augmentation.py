from __future__ import annotations

from pathlib import Path
from typing import Any

import keras
import numpy as np
import optuna
import pytest

from tuning.data.images import SHAPE as FASHION
from tuning.model.builders import build_model
from tuning.model.params import parameter_names, resolve_params
from tuning.model.train import compile_model
from tuning.search.space import check_params, default_params, default_space_path, load_space, suggest

# Small and without dropout or batch norm, so that in training only augmentation is random.
TINY = {"n_blocks": 1, "filters_1": 4, "dense_units": 8, "batch_norm": False, "conv_dropout": 0.0, "dense_dropout": 0.0}
AUGMENTED = {**TINY, "augment": True, "translate": 0.15, "flip": True}


@pytest.fixture
def pixels() -> np.ndarray:
    return np.random.default_rng(0).integers(0, 256, size=(8, 28, 28)).astype("uint8")


def augmentation_layers(model: keras.Model) -> list[str]:
    return [layer.name for layer in model.layers if layer.name.startswith("augment_")]


def test_augmentation_is_off_by_default_and_always_resolved() -> None:
    assert {"augment", "translate", "flip"} <= parameter_names("cnn")
    off = resolve_params("cnn", {})
    assert (off["augment"], off["translate"], off["flip"]) == (False, 0.1, False)
    on = resolve_params("cnn", {"augment": True})
    assert set(on) == set(off) and on["translate"] == 0.1
    assert augmentation_layers(build_model("cnn", TINY, FASHION)) == []


@pytest.mark.parametrize(
    ("params", "layers"),
    [
        ({"augment": False, "translate": 0.1, "flip": True}, []),
        ({"augment": True, "translate": 0.1, "flip": False}, ["augment_translate"]),
        ({"augment": True, "translate": 0.0, "flip": True}, ["augment_flip"]),
        ({"augment": True, "translate": 0.05, "flip": True}, ["augment_translate", "augment_flip"]),
    ],
)
def test_augmentation_layers_only_when_asked(params: dict[str, Any], layers: list[str]) -> None:
    assert augmentation_layers(build_model("cnn", {**TINY, **params}, FASHION)) == layers


def test_augmentation_acts_in_training_only(pixels: np.ndarray) -> None:
    keras.utils.set_random_seed(0)
    augmented, plain = build_model("cnn", AUGMENTED, FASHION), build_model("cnn", TINY, FASHION)
    with_weights = [layer for layer in augmented.layers if layer.weights and not layer.name.startswith("augment_")]
    for source, target in zip([layer for layer in plain.layers if layer.weights], with_weights, strict=True):
        target.set_weights(source.get_weights())
    inference = np.asarray(augmented.predict(pixels, verbose=0))
    np.testing.assert_array_equal(inference, np.asarray(plain.predict(pixels, verbose=0)))
    np.testing.assert_array_equal(np.asarray(augmented(pixels, training=False)), inference)
    np.testing.assert_array_equal(np.asarray(augmented.predict(pixels, verbose=0)), inference)
    assert not np.allclose(np.asarray(augmented(pixels, training=True)), inference)


@pytest.mark.parametrize("precision", ["float32", "bfloat16"])
def test_augmented_model_saves_and_reloads(precision: str, pixels: np.ndarray, tmp_path: Path) -> None:
    model = build_model("cnn", AUGMENTED, FASHION, precision=precision)
    expected = "mixed_bfloat16" if precision == "bfloat16" else "float32"
    assert model.get_layer("augment_translate").dtype_policy.name == expected
    assert np.asarray(model(pixels, training=True)).dtype == np.float32  # the random layers run in this precision
    predictions = np.asarray(model.predict(pixels, verbose=0))
    model.save(tmp_path / "m.keras")
    reloaded = keras.saving.load_model(tmp_path / "m.keras")
    assert augmentation_layers(reloaded) == ["augment_translate", "augment_flip"]
    assert reloaded.get_layer("augment_translate").dtype_policy.name == expected
    np.testing.assert_array_equal(np.asarray(reloaded.predict(pixels, verbose=0)), predictions)


@pytest.mark.slow
def test_augmented_bfloat16_model_fits(pixels: np.ndarray) -> None:
    keras.utils.set_random_seed(0)
    model = build_model("cnn", AUGMENTED, FASHION, precision="bfloat16")
    compile_model(model, resolve_params("cnn", AUGMENTED), steps_per_execution=1)
    history = model.fit(pixels, np.arange(8) % 10, batch_size=4, epochs=1, verbose=0)
    assert np.isfinite(history.history["loss"][0])


def test_shipped_cnn_space_samples_augmentation() -> None:
    space = load_space(default_space_path("cnn"), "cnn")
    assert default_params(space)["augment"] is False  # the baseline trial is today's plain network
    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=0))
    sampled = []
    for _ in range(20):
        params = suggest(study.ask(), space)
        check_params(space, params)
        assert params["augment"] or not {"translate", "flip"} & set(params)
        sampled.append(params)
    augmented = next(p for p in sampled if p["augment"] and p["flip"])
    assert 0.0 <= augmented["translate"] <= 0.15
    model = build_model("cnn", {**augmented, **TINY}, FASHION)
    assert "augment_flip" in augmentation_layers(model)
