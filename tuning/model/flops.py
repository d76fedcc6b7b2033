"""Floating-point operations per image of a built Keras model, for FLOP rates in benchmarks.

Only layers that multiply by a weight matrix are counted: Dense (2 x inputs x
units per position) and Conv1D/2D/3D (2 x output positions x kernel window x
input channels x filters). Element-wise and data-movement layers (biases,
activations, batch normalisation, pooling, dropout, rescaling, augmentation) and
the optimizer's per-weight update are left out: each costs a few operations per
value, against hundreds per output value of a convolution. A multiply-add is two FLOPs.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import keras

__all__ = ["forward_flops_per_image", "training_flops_per_image"]


def forward_flops_per_image(model: keras.Model) -> int:
    """FLOPs to run one image through `model` (prediction, or the forward half of training)."""
    return sum(_layer_flops(layer) for layer in _counted_layers(model))


def training_flops_per_image(model: keras.Model) -> int:
    """FLOPs of one image's share of a training step: the forward pass, then the backward pass.

    Backward multiplies by each weight matrix twice more, once for the weights'
    gradient and once for the gradient handed to the layer below. The first
    counted layer, fed by the data alone, hands on no gradient (TensorFlow prunes
    it from the compiled step), so the total is 3 x forward less that layer's
    forward cost: close to 3 x forward for a ConvNet, about 2.1 x for an MLP whose
    first Dense layer dominates. Exact for a chain of layers, as tune builds; an
    upper bound for a branching graph.
    """
    layers = _counted_layers(model)
    if not layers:
        return 0
    flat = _flat_layers(model)
    fed_by_data = not any(layer.trainable_weights for layer in flat[: flat.index(layers[0])])
    forward = sum(_layer_flops(layer) for layer in layers)
    return 3 * forward - (_layer_flops(layers[0]) if fed_by_data else 0)


def _counted_layers(model: keras.Model) -> list[keras.layers.Layer]:
    """The Dense and convolution layers in model order; ValueError on another layer with a weight matrix."""
    counted = []
    for layer in _flat_layers(model):
        if isinstance(layer, _counted_types()):
            counted.append(layer)
        elif layer.trainable_weights and not isinstance(layer, _uncounted_types()):
            raise ValueError(
                f"cannot count the FLOPs of layer {layer.name!r} ({type(layer).__name__}): "
                "only Dense and Conv1D/2D/3D layers are counted"
            )
    return counted


def _flat_layers(model: keras.Model) -> list[keras.layers.Layer]:
    """The model's layers in order, with nested models opened up."""
    import keras

    flat = []
    for layer in model.layers:
        flat.extend(_flat_layers(layer) if isinstance(layer, keras.Model) else [layer])
    return flat


def _layer_flops(layer: keras.layers.Layer) -> int:
    try:
        output_shape = layer.output.shape[1:]
    except (AttributeError, ValueError) as exc:  # never called, or called more than once
        raise ValueError(
            f"cannot count the FLOPs of layer {layer.name!r}: build the model on a keras.Input first ({exc})"
        ) from None
    if any(size is None for size in output_shape):
        raise ValueError(f"cannot count the FLOPs of layer {layer.name!r}: its output shape {output_shape} varies")
    # Dense kernel: (inputs, units); ConvND kernel: (*window, input channels / groups, filters).
    # Either way each output value takes one multiply-add per kernel entry of its column.
    kernel = tuple(int(size) for size in layer.kernel.shape)
    positions = math.prod(output_shape) // kernel[-1]
    return 2 * math.prod(kernel) * positions


def _counted_types() -> tuple[type, ...]:
    import keras

    return (keras.layers.Dense, keras.layers.Conv1D, keras.layers.Conv2D, keras.layers.Conv3D)


def _uncounted_types() -> tuple[type, ...]:
    """Layers with weights but no matrix product: per-value scales and offsets, a table lookup."""
    import keras

    return (
        keras.layers.BatchNormalization,
        keras.layers.LayerNormalization,
        keras.layers.GroupNormalization,
        keras.layers.PReLU,
        keras.layers.Embedding,
    )
