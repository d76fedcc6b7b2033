"""The four uint8 arrays every source of images yields, and the checks they must pass.

IDX files, CSVs, `.npz` files, image folders, the parse cache and Keras' downloader all
hand back (x_train, y_train, x_test, y_test): images (N, H, W) for grey or (N, H, W, C)
for colour, labels 0..classes-1. The parsers check each file as they read it;
`check_arrays` guards every set before it reaches training, so a damaged cache, an odd
download or a hand-made `.npz` cannot.
"""

from __future__ import annotations

from pathlib import Path
from typing import TypeAlias

import numpy as np

from tuning.errors import TuneError

__all__ = ["ARRAY_NAMES", "MAX_CLASSES", "Arrays", "check_arrays", "corrupt", "numbered_classes"]

Arrays: TypeAlias = tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]
ARRAY_NAMES = ("x_train", "y_train", "x_test", "y_test")  # the order of `Arrays`
MAX_CLASSES = 256  # labels are stored as uint8


def check_arrays(arrays: Arrays, where: str, num_classes: int | None = None) -> None:
    """Raise TuneError, naming ``where``, unless the arrays are images and labels that fit together.

    uint8 throughout; images (N, H, W) or (N, H, W, C), the same shape in train and test;
    one label per image, below `num_classes` where it is known.
    """
    x_train, y_train, x_test, y_test = arrays
    if num_classes is not None and num_classes < 2:
        raise TuneError(f"{where}: {num_classes} class; a classifier needs at least 2")
    for name, x, y in (("train", x_train, y_train), ("test", x_test, y_test)):
        if x.dtype != np.uint8 or y.dtype != np.uint8:
            raise TuneError(f"{where}: {name} arrays are {x.dtype}/{y.dtype}, expected uint8")
        if x.ndim not in (3, 4) or y.shape != (len(x),) or len(x) == 0:
            raise TuneError(f"{where}: {name} shapes {x.shape} and {y.shape} do not match")
        if num_classes is not None and y.max() >= num_classes:
            raise TuneError(f"{where}: {name} label {y.max()} is outside 0-{num_classes - 1}")
    if x_train.shape[1:] != x_test.shape[1:]:
        raise TuneError(
            f"{where}: train images are {_shape(x_train)} but test images {_shape(x_test)}; they must match"
        )


def numbered_classes(arrays: Arrays) -> tuple[str, ...]:
    """Class names for data that come without them: "0" to the largest label, train and test together."""
    largest = max(int(arrays[1].max()), int(arrays[3].max()))
    return tuple(str(i) for i in range(largest + 1))


def _shape(x: np.ndarray) -> str:
    return "x".join(str(n) for n in x.shape[1:])


def corrupt(path: Path, problem: str) -> TuneError:
    """The error for a data file that breaks its format: it names the file and the problem."""
    return TuneError(f"corrupt data file {path}: {problem}")
