"""The built-in `mlp`: dense layers with dropout over the flattened pixels."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from tuning.model.spec import ModelSpec

if TYPE_CHECKING:
    import keras

    from tuning.data.dataset import DataShape

__all__ = ["SPEC"]


def build(p: dict[str, Any], shape: DataShape) -> keras.Model:
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


def words(p: dict[str, Any]) -> str:
    n = int(p["n_layers"])
    layers = ", ".join(f"{p[f'units_{i}']} (dropout {p[f'dropout_{i}']:.3g})" for i in range(1, n + 1))
    return f"An MLP of {n} dense layer{'s' * (n != 1)} of {layers} units, L2 {p['l2']:.3g}."


# The model's own defaults: what a space leaves out; learning_rate, lr_schedule and batch_size are the
# trainer's (model/spec.py TRAINING_DEFAULTS).
DEFAULTS = {
    "n_layers": 2,
    "units": 256,  # each units_i the space leaves out
    "dropout": 0.2,  # each dropout_i the space leaves out
    "l2": 1e-5,
}

SPEC = ModelSpec(
    name="mlp",
    build=build,
    defaults=DEFAULTS,
    layered={"units": "n_layers", "dropout": "n_layers"},
    epochs=60,
    words=words,
)
