from __future__ import annotations

import numpy as np
import pytest

from tuning.data.images import SHAPE as FASHION
from tuning.errors import TuneError
from tuning.model.builders import build_model
from tuning.model.params import parameter_names, resolve_params
from tuning.model.registry import get_model
from tuning.model.spec import TRAINING_DEFAULTS


def test_resolve_fills_defaults_and_drops_inactive_layers() -> None:
    params = resolve_params("mlp", {"n_layers": 1, "units_1": 64, "units_3": 999})
    assert params["units_1"] == 64
    assert "units_3" not in params and "units_2" not in params
    assert params["learning_rate"] == TRAINING_DEFAULTS["learning_rate"]  # the trainer's, for every model
    assert resolve_params("cnn", {"n_blocks": 3})["filters_3"] == get_model("cnn").defaults["filters"]


def test_parameter_names_and_unknown_arch() -> None:
    assert {"units_1", "units_3", "dropout_2", "l2"} <= parameter_names("mlp")
    assert {"filters_3", "kernel_size", "batch_norm"} <= parameter_names("cnn")
    with pytest.raises(TuneError, match="unknown model 'rnn'"):
        parameter_names("rnn")


@pytest.mark.parametrize(
    ("arch", "params"),
    [
        ("mlp", {"n_layers": 1, "units_1": 32}),
        ("mlp", {"n_layers": 3, "units_1": 64, "units_2": 32, "units_3": 16}),
        ("cnn", {"n_blocks": 1, "filters_1": 8, "batch_norm": False}),
        (
            "cnn",
            {
                "n_blocks": 3,
                "filters_1": 8,
                "filters_2": 8,
                "filters_3": 8,
                "convs_per_block": 2,
                "kernel_size": 5,
                "batch_norm": True,
            },
        ),
    ],
)
def test_models_take_raw_pixels_and_give_class_probabilities(arch: str, params: dict) -> None:
    model = build_model(arch, params, FASHION)
    pixels = np.random.default_rng(0).integers(0, 256, size=(4, 28, 28)).astype("uint8")
    probabilities = np.asarray(model(pixels))
    assert probabilities.shape == (4, 10)
    np.testing.assert_allclose(probabilities.sum(axis=1), 1.0, rtol=1e-5)


def test_depth_changes_the_model() -> None:
    layers = {n: len(build_model("mlp", {"n_layers": n}, FASHION).layers) for n in (1, 2, 3)}
    assert layers[1] < layers[2] < layers[3]
    convs = [
        layer
        for layer in build_model("cnn", {"n_blocks": 3, "convs_per_block": 2}, FASHION).layers
        if layer.name.startswith("conv_")
    ]
    assert len(convs) == 6


def test_bfloat16_computes_in_bfloat16_and_outputs_float32(tmp_path) -> None:  # type: ignore[no-untyped-def]
    import keras

    model = build_model("cnn", {"n_blocks": 1, "filters_1": 8}, FASHION, precision="bfloat16")
    conv = model.get_layer("conv_1_1")
    assert conv.dtype_policy.name == "mixed_bfloat16" and conv.compute_dtype == "bfloat16"
    assert conv.kernel.dtype == "float32"  # mixed precision keeps float32 weights
    assert model.get_layer("class").compute_dtype == "float32"
    assert keras.config.dtype_policy().name == "float32"  # the global policy is left as it was
    pixels = np.random.default_rng(0).integers(0, 256, size=(4, 28, 28)).astype("uint8")
    probabilities = model(pixels)
    assert np.asarray(probabilities).dtype == np.float32
    np.testing.assert_allclose(np.asarray(probabilities).sum(axis=1), 1.0, rtol=1e-5)
    model.save(tmp_path / "m.keras")
    reloaded = keras.saving.load_model(tmp_path / "m.keras")
    assert reloaded.get_layer("conv_1_1").dtype_policy.name == "mixed_bfloat16"
    np.testing.assert_array_equal(np.asarray(reloaded(pixels)), np.asarray(probabilities))
    assert build_model("cnn", {"n_blocks": 1}, FASHION).get_layer("conv_1_1").compute_dtype == "float32"


@pytest.mark.parametrize("arch", ["mlp", "cnn"])
@pytest.mark.parametrize(("image_shape", "classes"), [((8, 8), 10), ((32, 32, 3), 3)], ids=["8x8-grey", "32x32-colour"])
def test_models_take_the_datas_shape_and_classes(arch: str, image_shape: tuple[int, ...], classes: int) -> None:
    from tuning.data.dataset import DataShape

    model = build_model(arch, {"n_blocks": 2}, DataShape(image_shape, classes))
    pixels = np.random.default_rng(0).integers(0, 256, size=(3, *image_shape)).astype("uint8")
    assert tuple(model.inputs[0].shape[1:]) == image_shape
    assert np.asarray(model(pixels)).shape == (3, classes)


@pytest.mark.parametrize(("image_shape", "blocks"), [((28, 28), 3), ((8, 8), 2), ((32, 32, 3), 4), ((5, 9), 1)])
def test_max_blocks_keeps_the_pooled_image_at_least_2x2(image_shape: tuple[int, ...], blocks: int) -> None:
    from tuning.model.cnn import max_blocks

    assert max_blocks(image_shape) == blocks


def test_a_cnn_too_deep_for_its_images_fails_its_trial_in_one_line() -> None:
    from tuning.data.dataset import DataShape
    from tuning.errors import TrialFailed

    with pytest.raises(TrialFailed, match=r"n_blocks=3 is too deep for 8x8 images: at most 2 blocks"):
        build_model("cnn", {"n_blocks": 3}, DataShape((8, 8), 10))
