"""The four uint8 arrays every source of Fashion-MNIST yields, and the checks they must pass.

IDX files, Kaggle CSVs, the parse cache and Keras' downloader all hand back
(x_train, y_train, x_test, y_test). The parsers check each file as they read
it; `check_arrays` guards the arrays that were not parsed here (the cache,
Keras), so a damaged cache or an odd download cannot reach training.
"""

from __future__ import annotations

from pathlib import Path
from typing import TypeAlias

import numpy as np

from tuning.data.images import IMAGE_SHAPE, NUM_CLASSES
from tuning.errors import TuneError

__all__ = ["ARRAY_NAMES", "Arrays", "check_arrays", "corrupt"]

Arrays: TypeAlias = tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]
ARRAY_NAMES = ("x_train", "y_train", "x_test", "y_test")  # the order of `Arrays`


def check_arrays(arrays: Arrays, where: str) -> None:
    """Raise TuneError, naming ``where``, unless dtypes, shapes and label range are Fashion-MNIST's."""
    x_train, y_train, x_test, y_test = arrays
    for name, x, y in (("train", x_train, y_train), ("test", x_test, y_test)):
        if x.dtype != np.uint8 or y.dtype != np.uint8:
            raise TuneError(f"{where}: {name} arrays are {x.dtype}/{y.dtype}, expected uint8")
        if x.ndim != 3 or x.shape[1:] != IMAGE_SHAPE or y.shape != (len(x),) or len(x) == 0:
            raise TuneError(f"{where}: {name} shapes {x.shape} and {y.shape} do not match")
        if y.max() >= NUM_CLASSES:
            raise TuneError(f"{where}: {name} label {y.max()} is outside 0-{NUM_CLASSES - 1}")


def corrupt(path: Path, problem: str) -> TuneError:
    """The error for a data file that breaks its format: it names the file and the problem."""
    return TuneError(f"corrupt data file {path}: {problem}")
