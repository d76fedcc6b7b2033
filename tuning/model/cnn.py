"""The built-in `cnn`: blocks of convolutions (optional batch norm), 2x2 max pooling and dropout; a dense layer."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from tuning.errors import TrialFailed
from tuning.model.spec import ModelSpec

if TYPE_CHECKING:
    import keras

    from tuning.data.dataset import DataShape

__all__ = ["BN_MOMENTUM", "MIN_POOLED_SIDE", "SPEC", "max_blocks"]

# Batch norm's moving statistics forget their start values within ~50 batches with 0.9
# (PyTorch's default). With Keras' 0.99 they lag for hundreds of batches, so batch-norm
# networks validate far below their training accuracy in the first epoch and the pruner
# stopped them for that alone (README, "Search spaces").
BN_MOMENTUM = 0.9
# A block ends in 2x2 max pooling; none may leave the image smaller than this on a side.
MIN_POOLED_SIDE = 2


def max_blocks(image_shape: tuple[int, ...]) -> int:
    """How many blocks (each halving the image) images of `image_shape` take: 3 for 28x28, 2 for 8x8."""
    side, blocks = min(image_shape[:2]), 0
    while side // 2 >= MIN_POOLED_SIDE:
        side, blocks = side // 2, blocks + 1
    return blocks


def depth_limit(image_shape: tuple[int, ...]) -> tuple[str, int]:
    return "n_blocks", max_blocks(image_shape)


def build(p: dict[str, Any], shape: DataShape) -> keras.Model:
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


def words(p: dict[str, Any]) -> str:
    n, convs, k = int(p["n_blocks"]), int(p["convs_per_block"]), p["kernel_size"]
    filters = ", ".join(str(p[f"filters_{i}"]) for i in range(1, n + 1))
    norm = " with batch normalisation" if p["batch_norm"] else ""
    augment = "no augmentation"
    if p["augment"]:
        augment = f"augmented by shifts up to {p['translate']:.3g} of the side" + (" and flips" * bool(p["flip"]))
    return (
        f"A ConvNet of {n} block{'s' * (n != 1)} ({filters} filters) of {convs} {k}x{k} convolution"
        f"{'s' * (convs != 1)}{norm}, 2x2 max pooling and dropout {p['conv_dropout']:.3g}; a dense layer of "
        f"{p['dense_units']} units (dropout {p['dense_dropout']:.3g}); {augment}; L2 {p['l2']:.3g}."
    )


# The model's own defaults: what a space leaves out; learning_rate, lr_schedule and batch_size are the
# trainer's (model/spec.py TRAINING_DEFAULTS).
DEFAULTS = {
    "n_blocks": 2,
    "filters": 32,  # each filters_i the space leaves out
    "convs_per_block": 1,
    "kernel_size": 3,
    "batch_norm": True,
    "conv_dropout": 0.2,
    "dense_units": 128,
    "dense_dropout": 0.3,
    # Training-only data augmentation (random shifts, mirror images); off keeps the
    # plain network. translate and flip take effect only with augment on, but are
    # always resolved so an export holds the same keys either way.
    "augment": False,
    "translate": 0.1,  # largest shift, as a fraction of the image side
    "flip": False,  # random left-right mirroring
    "l2": 1e-5,
}

SPEC = ModelSpec(
    name="cnn",
    build=build,
    defaults=DEFAULTS,
    layered={"filters": "n_blocks"},
    epochs=6,
    words=words,
    depth_limit=depth_limit,
)
