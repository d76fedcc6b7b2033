from __future__ import annotations

import keras
import pytest

from tuning.data.images import SHAPE as FASHION
from tuning.model.builders import build_model
from tuning.model.flops import forward_flops_per_image, training_flops_per_image


def _dense_model() -> keras.Model:
    return keras.Sequential([keras.Input((4,)), keras.layers.Dense(3), keras.layers.Dense(2)])


def _conv_model() -> keras.Model:
    # 6x6x2 -> Conv2D(4, 3x3, valid) -> 4x4x4 -> 64 -> Dense(5)
    return keras.Sequential(
        [keras.Input((6, 6, 2)), keras.layers.Conv2D(4, 3), keras.layers.Flatten(), keras.layers.Dense(5)]
    )


def test_dense_counts_two_flops_per_weight() -> None:
    first, second = 2 * 4 * 3, 2 * 3 * 2
    assert forward_flops_per_image(_dense_model()) == first + second
    # backward: every layer's weight gradient, and the input gradient of all but the first layer
    assert training_flops_per_image(_dense_model()) == 3 * (first + second) - first


def test_conv2d_counts_each_output_position() -> None:
    conv = 2 * (4 * 4) * (3 * 3) * 2 * 4
    dense = 2 * 64 * 5
    assert forward_flops_per_image(_conv_model()) == conv + dense
    assert training_flops_per_image(_conv_model()) == 3 * (conv + dense) - conv


@pytest.mark.parametrize(
    ("layer", "flops"),
    [
        (keras.layers.Conv2D(4, 3, strides=2, padding="same"), 2 * (3 * 3) * (3 * 3) * 2 * 4),
        (keras.layers.Conv2D(4, 3, padding="same", groups=2), 2 * (6 * 6) * (3 * 3) * 1 * 4),
        (keras.layers.Dense(5), 2 * (6 * 6) * 2 * 5),  # applied at each of the 6x6 positions
    ],
    ids=["strides", "groups", "dense-per-pixel"],
)
def test_strides_groups_and_dense_on_images(layer: keras.layers.Layer, flops: int) -> None:
    assert forward_flops_per_image(keras.Sequential([keras.Input((6, 6, 2)), layer])) == flops


def test_elementwise_layers_and_nesting_add_nothing() -> None:
    padded = keras.Sequential(
        [
            keras.Input((6, 6, 2)),
            keras.layers.Rescaling(1 / 255),
            keras.Sequential([keras.layers.Conv2D(4, 3)]),  # a nested model is opened up
            keras.layers.BatchNormalization(),
            keras.layers.Activation("relu"),
            keras.layers.Dropout(0.5),
            keras.layers.Flatten(),
            keras.layers.Dense(5),
        ]
    )
    assert forward_flops_per_image(padded) == forward_flops_per_image(_conv_model())
    assert training_flops_per_image(padded) == training_flops_per_image(_conv_model())


def test_first_layer_after_trainable_weights_passes_its_gradient_on() -> None:
    model = keras.Sequential([keras.Input((4,)), keras.layers.BatchNormalization(), keras.layers.Dense(3)])
    assert training_flops_per_image(model) == 3 * (2 * 4 * 3)


@pytest.mark.parametrize("precision", ["float32", "bfloat16"])
def test_project_builders(precision: str) -> None:
    mlp = build_model("mlp", {"n_layers": 1, "units_1": 32}, FASHION, precision=precision)
    assert forward_flops_per_image(mlp) == 2 * 784 * 32 + 2 * 32 * 10
    cnn = build_model(
        "cnn",
        {"n_blocks": 1, "filters_1": 8, "dense_units": 16, "augment": True, "flip": True},
        FASHION,
        precision=precision,
    )
    conv = 2 * (28 * 28) * (3 * 3) * 1 * 8
    dense = 2 * (14 * 14 * 8) * 16  # after 2x2 max pooling
    assert forward_flops_per_image(cnn) == conv + dense + 2 * 16 * 10
    assert training_flops_per_image(cnn) == 3 * (conv + dense + 2 * 16 * 10) - conv


def test_refuses_what_it_cannot_count() -> None:
    unbuilt = keras.Sequential([keras.layers.Dense(3)])
    with pytest.raises(ValueError, match=r"build the model on a keras\.Input"):
        forward_flops_per_image(unbuilt)
    depthwise = keras.Sequential([keras.Input((6, 6, 2)), keras.layers.DepthwiseConv2D(3)])
    with pytest.raises(ValueError, match=r"'depthwise_conv2d.*' \(DepthwiseConv2D\)"):
        forward_flops_per_image(depthwise)
