"""Model builders: a plain parameter dict and the data's shape in, an uncompiled Keras model out.

Builders know nothing about Optuna, so the search, the tests and retraining all
build models the same way. Models take raw pixels (0-255) of the data's image
shape, grey (H, W) or colour (H, W, C), rescale them themselves (so a saved model
needs no separate preprocessing) and output one probability per class.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from tuning.data.dataset import DataShape
from tuning.errors import TrialFailed, check_choice
from tuning.model.params import MIN_POOLED_SIDE, max_blocks, resolve_params

if TYPE_CHECKING:
    import keras

__all__ = ["PRECISIONS", "build_model", "check_precision"]

# Compute precision -> Keras dtype policy. "bfloat16" computes in bfloat16 and keeps
# float32 weights (mixed precision); the softmax output stays float32 either way.
# It pays only on CPUs with bfloat16 instructions (README, "Speed").
PRECISIONS = {"float32": "float32", "bfloat16": "mixed_bfloat16"}
# Batch norm's moving statistics forget their start values within ~50 batches with 0.9
# (PyTorch's default). With Keras' 0.99 they lag for hundreds of batches, so batch-norm
# networks validate far below their training accuracy in the first epoch and the pruner
# stopped them for that alone (README, "Search spaces").
BN_MOMENTUM = 0.9


def check_precision(precision: str) -> None:
    """TuneError unless `precision` is one of PRECISIONS."""
    check_choice("precision", precision, PRECISIONS)


def build_model(arch: str, params: dict[str, Any], shape: DataShape, *, precision: str = "float32") -> keras.Model:
    """Build the `arch` network described by `params` (missing values take their defaults) for data of `shape`.

    `precision` picks the layers' dtype policy; it is saved with the model, so a
    reloaded model computes the same way.
    """
    import keras

    resolved = resolve_params(arch, params)
    builder = _build_mlp if arch == "mlp" else _build_cnn
    previous = keras.config.dtype_policy()
    keras.config.set_dtype_policy(PRECISIONS[precision])
    try:
        return builder(resolved, shape)
    finally:
        keras.config.set_dtype_policy(previous)


def _build_mlp(p: dict[str, Any], shape: DataShape) -> keras.Model:
    import keras

    l2 = keras.regularizers.L2(p["l2"])
    inputs = keras.Input(shape=shape.image_shape, name="pixels")
    x = keras.layers.Rescaling(1.0 / 255)(inputs)
    x = keras.layers.Flatten()(x)
    for i in range(1, p["n_layers"] + 1):
        x = keras.layers.Dense(p[f"units_{i}"], activation="relu", kernel_regularizer=l2, name=f"dense_{i}")(x)
        x = keras.layers.Dropout(p[f"dropout_{i}"])(x)
    outputs = keras.layers.Dense(shape.num_classes, activation="softmax", name="class", dtype="float32")(x)
    return keras.Model(inputs, outputs, name="mlp")


def _build_cnn(p: dict[str, Any], shape: DataShape) -> keras.Model:
    import keras

    if p["n_blocks"] > max_blocks(shape.image_shape):
        size = "x".join(str(n) for n in shape.image_shape[:2])
        raise TrialFailed(
            f"n_blocks={p['n_blocks']} is too deep for {size} images: at most {max_blocks(shape.image_shape)} "
            f"blocks keep them {MIN_POOLED_SIDE}x{MIN_POOLED_SIDE} or larger"
        )
    l2 = keras.regularizers.L2(p["l2"])
    inputs = keras.Input(shape=shape.image_shape, name="pixels")
    x = keras.layers.Rescaling(1.0 / 255)(inputs)
    if len(shape.image_shape) == 2:  # grey: one channel for the convolutions
        x = keras.layers.Reshape((*shape.image_shape, 1))(x)
    x = _augment(x, p)
    for block in range(1, p["n_blocks"] + 1):
        for conv in range(1, p["convs_per_block"] + 1):
            x = keras.layers.Conv2D(
                p[f"filters_{block}"],
                p["kernel_size"],
                padding="same",
                use_bias=not p["batch_norm"],  # batch norm's offset replaces the bias
                kernel_regularizer=l2,
                name=f"conv_{block}_{conv}",
            )(x)
            if p["batch_norm"]:
                x = keras.layers.BatchNormalization(momentum=BN_MOMENTUM)(x)
            x = keras.layers.Activation("relu")(x)
        x = keras.layers.MaxPooling2D(2)(x)
        x = keras.layers.Dropout(p["conv_dropout"])(x)
    x = keras.layers.Flatten()(x)
    x = keras.layers.Dense(p["dense_units"], activation="relu", kernel_regularizer=l2, name="dense")(x)
    x = keras.layers.Dropout(p["dense_dropout"])(x)
    outputs = keras.layers.Dense(shape.num_classes, activation="softmax", name="class", dtype="float32")(x)
    return keras.Model(inputs, outputs, name="cnn")


def _augment(x: keras.KerasTensor, p: dict[str, Any]) -> keras.KerasTensor:
    """Random shifts and mirror images of (batch, H, W, C) images when `p["augment"]`.

    Keras' random preprocessing layers act only in training, so evaluation,
    prediction and a saved model see the image unchanged.
    """
    import keras

    if not p["augment"]:
        return x
    if p["translate"] > 0:
        # Nearest-pixel shifts keep strokes as sharp as in the test images; the border
        # fills with 0 (black, the background of Fashion-MNIST and digits).
        translate = p["translate"]
        x = keras.layers.RandomTranslation(
            translate, translate, fill_mode="constant", interpolation="nearest", name="augment_translate"
        )(x)
    if p["flip"]:
        x = keras.layers.RandomFlip("horizontal", name="augment_flip")(x)
    return x
