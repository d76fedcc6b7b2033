"""What every source of images yields: four arrays, the class names, where they came from and a content hash.

Built-in Fashion-MNIST (data/load.py) and a user's own data (an `.npz`, a folder of
images; data/sources.py picks the reader) give the same record, so the search,
retraining and the reports read shape, class count and class names from it and
from nothing else.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

__all__ = ["DataShape", "Dataset"]


@dataclass(frozen=True)
class DataShape:
    """What a model builder needs to know of the data: one image's shape and the number of classes."""

    image_shape: tuple[int, ...]  # (H, W) for grey, (H, W, C) for colour
    num_classes: int

    def __post_init__(self) -> None:
        if len(self.image_shape) not in (2, 3) or min(self.image_shape) < 1 or self.num_classes < 2:
            raise ValueError(f"images {self.image_shape} in {self.num_classes} classes cannot be classified")

    @property
    def channels(self) -> int:
        return self.image_shape[2] if len(self.image_shape) == 3 else 1

    def describe(self) -> str:
        """E.g. "28x28 grey, 10 classes" or "32x32 3 channels, 2 classes"."""
        size = "x".join(str(n) for n in self.image_shape[:2])
        colour = "grey" if self.channels == 1 else f"{self.channels} channels"
        return f"{size} {colour}, {self.num_classes} classes"


@dataclass(frozen=True, eq=False)
class Dataset:
    """Images as uint8 arrays (N, H, W) for grey or (N, H, W, C) for colour, labels 0..classes-1."""

    x_train: np.ndarray = field(repr=False)
    y_train: np.ndarray = field(repr=False)
    x_test: np.ndarray = field(repr=False)
    y_test: np.ndarray = field(repr=False)
    name: str  # the built-in data's (data/images.py NAME), or the file or folder the user named
    class_names: tuple[str, ...]  # label i is class_names[i]
    source: str  # the file or folder it came from, or "keras-download"
    fingerprint: str  # 16 hex chars of sha256 over the source's bytes

    @property
    def image_shape(self) -> tuple[int, ...]:
        """One image's shape: (H, W) for grey, (H, W, C) for colour."""
        return tuple(int(n) for n in self.x_train.shape[1:])

    @property
    def num_classes(self) -> int:
        return len(self.class_names)

    @property
    def shape(self) -> DataShape:
        return DataShape(self.image_shape, self.num_classes)

    def identity(self) -> dict[str, Any]:
        """What a study records of the data it searched (tuning/attrs.py names the keys' meaning)."""
        return {
            "name": self.name,
            "image_shape": list(self.image_shape),
            "class_names": list(self.class_names),
        }
