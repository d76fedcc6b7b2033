"""Which hyperparameters each architecture understands, and their defaults.

Builders read a plain dict; a parameter left out of a search space keeps the
default given here, so a user can pin a value by deleting it from the space.
This module imports nothing heavy: space validation and export use it without
TensorFlow.
"""

from __future__ import annotations

from typing import Any

from tuning.errors import check_choice

__all__ = [
    "ARCHITECTURES",
    "DEFAULTS",
    "LR_SCHEDULES",
    "MAX_DEPTH",
    "MIN_POOLED_SIDE",
    "check_arch",
    "depth_limit",
    "max_blocks",
    "parameter_names",
    "resolve_params",
]

ARCHITECTURES = ("mlp", "cnn")

# The deepest network a space may ask for: `units_1..3` / `filters_1..3`.
MAX_DEPTH = 3

DEFAULTS: dict[str, dict[str, Any]] = {
    "mlp": {
        "n_layers": 2,
        "units": 256,  # fallback for any units_i not in the space
        "dropout": 0.2,  # fallback for any dropout_i not in the space
        "l2": 1e-5,
        "learning_rate": 1e-3,
        "lr_schedule": "constant",
        "batch_size": 128,
    },
    "cnn": {
        "n_blocks": 2,
        "filters": 32,  # fallback for any filters_i not in the space
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
        "translate": 0.1,  # largest shift, as a fraction of the 28-pixel side
        "flip": False,  # random left-right mirroring
        "l2": 1e-5,
        "learning_rate": 1e-3,
        "lr_schedule": "constant",
        "batch_size": 128,
    },
}
# How the learning rate moves during one training run (model/train.py): "constant", or
# "cosine" decay from learning_rate to 0 over the run's epochs.
LR_SCHEDULES = ("constant", "cosine")

# A conv block ends in 2x2 max pooling; none may leave the image smaller than this on a side.
MIN_POOLED_SIDE = 2

# Per-layer parameters: name prefix -> the depth parameter that governs them.
_LAYERED = {"mlp": {"units": "n_layers", "dropout": "n_layers"}, "cnn": {"filters": "n_blocks"}}


def check_arch(arch: str) -> None:
    """TuneError unless `arch` names an architecture tune builds."""
    check_choice("architecture", arch, ARCHITECTURES)


def parameter_names(arch: str) -> frozenset[str]:
    """Every parameter name the `arch` builder reads (per-layer ones numbered 1..MAX_DEPTH)."""
    check_arch(arch)
    layered = _LAYERED[arch]
    names = {name for name in DEFAULTS[arch] if name not in layered}
    for prefix in layered:
        names.update(f"{prefix}_{i}" for i in range(1, MAX_DEPTH + 1))
    return frozenset(names)


def max_blocks(image_shape: tuple[int, ...]) -> int:
    """How many conv blocks (each halving the image) images of `image_shape` take: 3 for 28x28, 2 for 8x8."""
    side, blocks = min(image_shape[:2]), 0
    while side // 2 >= MIN_POOLED_SIDE:
        side, blocks = side // 2, blocks + 1
    return blocks


def depth_limit(arch: str, image_shape: tuple[int, ...]) -> tuple[str, int] | None:
    """The depth parameter the image size bounds and its largest value, or None where nothing is bounded."""
    check_arch(arch)
    return ("n_blocks", max_blocks(image_shape)) if arch == "cnn" else None


def resolve_params(arch: str, params: dict[str, Any]) -> dict[str, Any]:
    """The complete parameter dict a builder needs: defaults filled, inactive layers dropped.

    The result is what gets exported, so a model can be rebuilt from it alone.
    """
    check_arch(arch)
    defaults = DEFAULTS[arch]
    layered = _LAYERED[arch]
    resolved = {name: params.get(name, value) for name, value in defaults.items() if name not in layered}
    for prefix, depth_name in layered.items():
        depth = int(resolved[depth_name])
        for i in range(1, depth + 1):
            resolved[f"{prefix}_{i}"] = params.get(f"{prefix}_{i}", defaults[prefix])
    return resolved
