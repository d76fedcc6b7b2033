"""A small residual ConvNet, searched by tune as one of its own models.

    tune run examples/residual/models.py:build --space examples/residual/space.toml
    tune run --space examples/residual/space.toml --data digits.npz     # the space names the model

`build(params, shape)` gets every parameter of the space (and tune's own three:
learning_rate, batch_size, lr_schedule, which tune's trainer reads) and the data's
shape (`shape.image_shape`, `shape.num_classes`); it returns an uncompiled Keras model
that takes raw 0-255 pixels and gives one probability per class. tune compiles and
trains it. `build.defaults` and `build.epochs` are optional: a parameter the space
leaves out takes its default here, and runs train `epochs` epochs unless told otherwise.
"""

from __future__ import annotations

from typing import Any


def build(params: dict[str, Any], shape: Any) -> Any:
    import keras

    width, blocks = int(params["width"]), int(params["blocks"])
    inputs = keras.Input(shape=shape.image_shape)
    x = keras.layers.Rescaling(1.0 / 255)(inputs)
    if len(shape.image_shape) == 2:  # grey images: add the channel axis
        x = keras.layers.Reshape((*shape.image_shape, 1))(x)
    x = keras.layers.Conv2D(width, 3, padding="same", activation="relu")(x)
    for _ in range(blocks):
        skip = x
        x = keras.layers.Conv2D(width, 3, padding="same", activation="relu")(x)
        x = keras.layers.Conv2D(width, 3, padding="same")(x)
        x = keras.layers.Activation("relu")(keras.layers.Add()([x, skip]))
    x = keras.layers.GlobalAveragePooling2D()(x)
    x = keras.layers.Dropout(float(params["dropout"]))(x)
    outputs = keras.layers.Dense(shape.num_classes, activation="softmax")(x)
    return keras.Model(inputs, outputs, name="residual")


build.defaults = {"width": 32, "blocks": 2, "dropout": 0.2}  # type: ignore[attr-defined]
build.epochs = 10  # type: ignore[attr-defined]
