"""Model builders: a plain parameter dict in, an uncompiled Keras model out.

Builders know nothing about Optuna, so the search, the tests and retraining all
build models the same way. Models take raw 28x28 pixels (0-255) and rescale
them themselves, so a saved model needs no separate preprocessing.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from tuning.data.images import IMAGE_SHAPE, NUM_CLASSES
from tuning.errors import check_choice
from tuning.model.params import resolve_params

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


def build_model(arch: str, params: dict[str, Any], *, precision: str = "float32") -> keras.Model:
    """Build the `arch` network described by `params` (missing values take their defaults).

    `precision` picks the layers' dtype policy; it is saved with the model, so a
    reloaded model computes the same way.
    """
    import keras

    resolved = resolve_params(arch, params)
    builder = _build_mlp if arch == "mlp" else _build_cnn
    previous = keras.config.dtype_policy()
    keras.config.set_dtype_policy(PRECISIONS[precision])
    try:
        return builder(resolved)
    finally:
        keras.config.set_dtype_policy(previous)


def _build_mlp(p: dict[str, Any]) -> keras.Model:
    import keras

    l2 = keras.regularizers.L2(p["l2"])
    inputs = keras.Input(shape=IMAGE_SHAPE, name="pixels")
    x = keras.layers.Rescaling(1.0 / 255)(inputs)
    x = keras.layers.Flatten()(x)
    for i in range(1, p["n_layers"] + 1):
        x = keras.layers.Dense(p[f"units_{i}"], activation="relu", kernel_regularizer=l2, name=f"dense_{i}")(x)
        x = keras.layers.Dropout(p[f"dropout_{i}"])(x)
    outputs = keras.layers.Dense(NUM_CLASSES, activation="softmax", name="class", dtype="float32")(x)
    return keras.Model(inputs, outputs, name="mlp")


def _build_cnn(p: dict[str, Any]) -> keras.Model:
    import keras

    l2 = keras.regularizers.L2(p["l2"])
    inputs = keras.Input(shape=IMAGE_SHAPE, name="pixels")
    x = keras.layers.Rescaling(1.0 / 255)(inputs)
    x = keras.layers.Reshape((*IMAGE_SHAPE, 1))(x)
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
    outputs = keras.layers.Dense(NUM_CLASSES, activation="softmax", name="class", dtype="float32")(x)
    return keras.Model(inputs, outputs, name="cnn")


def _augment(x: keras.KerasTensor, p: dict[str, Any]) -> keras.KerasTensor:
    """Random shifts and mirror images of (batch, 28, 28, 1) images when `p["augment"]`.

    Keras' random preprocessing layers act only in training, so evaluation,
    prediction and a saved model see the image unchanged.
    """
    import keras

    if not p["augment"]:
        return x
    if p["translate"] > 0:
        # Nearest-pixel shifts keep strokes as sharp as in the test images; the border
        # fills with 0, the background colour of Fashion-MNIST.
        translate = p["translate"]
        x = keras.layers.RandomTranslation(
            translate, translate, fill_mode="constant", interpolation="nearest", name="augment_translate"
        )(x)
    if p["flip"]:
        x = keras.layers.RandomFlip("horizontal", name="augment_flip")(x)
    return x
