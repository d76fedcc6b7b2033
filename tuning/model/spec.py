"""What tune knows of a model: one `ModelSpec` per model, the built-in ones and a user's alike.

A model is a `build(params, shape)` function that returns a Keras model for data of
`shape` (tuning/data/dataset.py DataShape: one image's shape and the class count), plus
what the search and the reports need around it: its parameters' defaults, which of them
are per layer, its default epochs, and how to say a configuration in words.

tune's trainer reads three parameters itself, whatever the model: `learning_rate`,
`batch_size` and `lr_schedule` (TRAINING_DEFAULTS gives them where a space leaves them
out). Every other parameter is the model's own; `build` receives all of them.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import keras

    from tuning.data.dataset import DataShape

__all__ = ["LR_SCHEDULES", "MAX_DEPTH", "TRAINING_DEFAULTS", "ModelSpec", "training_words"]

# What the trainer reads (model/train.py), with the values it uses where a space leaves them out.
TRAINING_DEFAULTS: Mapping[str, Any] = {"learning_rate": 1e-3, "lr_schedule": "constant", "batch_size": 128}
# How the learning rate moves during one training run: "constant", or "cosine" decay to 0 over the run's epochs.
LR_SCHEDULES = ("constant", "cosine")
# The deepest network a space may ask for of a model with per-layer parameters: `units_1..3`.
MAX_DEPTH = 3


@dataclass(frozen=True)
class ModelSpec:
    """One model tune can search: how to build it, and what to know about its parameters."""

    name: str  # a built-in model's name, or the user's reference ("models.py:build", "package.module:build")
    build: Callable[[dict[str, Any], DataShape], keras.Model] = field(repr=False)
    # Every parameter `build` reads, with its default; for a per-layer one (see `layered`), the
    # default of each layer's. None: not known (a user's model): any parameter a space names goes in.
    defaults: Mapping[str, Any] | None = None
    layered: Mapping[str, str] = field(default_factory=dict)  # per-layer prefix -> its depth parameter
    epochs: int = 20  # what a run trains each trial for without --epochs
    words: Callable[[dict[str, Any]], str] | None = field(default=None, repr=False)  # a configuration, described
    # The depth parameter that images of a shape bound, and its largest value there (a ConvNet's pooling blocks).
    depth_limit: Callable[[tuple[int, ...]], tuple[str, int] | None] | None = field(default=None, repr=False)
    source_hash: str | None = None  # a user's model: 16 hex chars of sha256 of the file that defines it

    def parameter_names(self) -> frozenset[str] | None:
        """Every parameter name the model reads (per-layer ones numbered 1..MAX_DEPTH); None: not known."""
        if self.defaults is None:
            return None
        names = {name for name in self.defaults if name not in self.layered} | set(TRAINING_DEFAULTS)
        for prefix in self.layered:
            names.update(f"{prefix}_{i}" for i in range(1, MAX_DEPTH + 1))
        return frozenset(names)

    def resolve(self, params: Mapping[str, Any]) -> dict[str, Any]:
        """The complete parameter dict `build` gets: defaults filled in, inactive layers dropped.

        The result is what gets exported, so a model can be rebuilt from it alone.
        """
        defaults = {**TRAINING_DEFAULTS, **(self.defaults or {})}
        resolved = {name: params.get(name, value) for name, value in defaults.items() if name not in self.layered}
        if self.defaults is None:
            resolved.update(params)  # a user's model: whatever the space holds
        for prefix, depth_name in self.layered.items():
            for i in range(1, int(resolved[depth_name]) + 1):
                resolved[f"{prefix}_{i}"] = params.get(f"{prefix}_{i}", defaults[prefix])
        return resolved

    def describe(self, params: Mapping[str, Any]) -> str:
        """A configuration in a sentence or two, for trial notes."""
        full = self.resolve(params)
        body = self.words(full) if self.words is not None else f"Model {self.name}."
        return f"{body} {training_words(full)}"


def training_words(full: Mapping[str, Any]) -> str:
    """How the trainer trains a configuration, in words: "Adam at learning rate 0.001 (constant), batch 128"."""
    schedule = "cosine decay to 0" if full["lr_schedule"] == "cosine" else "constant"
    rate = full["learning_rate"]
    rate_text = f"{rate:.3g}" if isinstance(rate, float) else str(rate)
    return f"Adam at learning rate {rate_text} ({schedule}), batch {full['batch_size']};"
