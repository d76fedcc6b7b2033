"""Read a user's `.npz`: arrays x_train, y_train, x_test, y_test, and optionally class_names.

Images are (N, H, W) grey or (N, H, W, C) colour with whole pixel values 0-255 (any
integer dtype, or floats holding whole numbers); labels are whole numbers 0..classes-1.
Without `class_names` the classes are 0..(largest label), named by their number.
Whatever does not fit is a TuneError naming the file and the array.
"""

from __future__ import annotations

import zipfile
from pathlib import Path

import numpy as np

from tuning.data.arrays import ARRAY_NAMES, MAX_CLASSES, Arrays, corrupt, numbered_classes

__all__ = ["read_npz"]

_CLASS_NAMES = "class_names"


def read_npz(path: Path) -> tuple[Arrays, tuple[str, ...]]:
    """The four arrays of the `.npz` at `path` as uint8, and the class names."""
    stored = _load(path)
    missing = [name for name in ARRAY_NAMES if name not in stored]
    if missing:
        held = ", ".join(sorted(stored)) or "nothing"
        raise corrupt(path, f"no array {', '.join(missing)} (it holds {held}); expected {', '.join(ARRAY_NAMES)}")
    x_train, x_test = (_images(path, name, stored[name]) for name in ("x_train", "x_test"))
    y_train, y_test = (_labels(path, name, stored[name]) for name in ("y_train", "y_test"))
    arrays = (x_train, y_train.astype(np.uint8), x_test, y_test.astype(np.uint8))
    return arrays, _class_names(path, stored.get(_CLASS_NAMES), arrays)


def _load(path: Path) -> dict[str, np.ndarray]:
    try:
        with np.load(path, allow_pickle=False) as npz:
            return {name: npz[name] for name in npz.files}
    except (OSError, ValueError, EOFError, zipfile.BadZipFile) as exc:
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise corrupt(path, f"not a readable .npz ({reason})") from None


def _images(path: Path, name: str, x: np.ndarray) -> np.ndarray:
    if x.ndim == 4 and x.shape[-1] == 1:
        x = x[..., 0]  # grey with a channel axis: one convention for grey images, (N, H, W)
    if x.ndim not in (3, 4) or len(x) == 0:
        raise corrupt(path, f"{name} has shape {x.shape}; expected images (N, H, W) or (N, H, W, C)")
    if x.dtype.kind not in "uif" or (x.size and (x.min() < 0 or x.max() > 255)):
        raise corrupt(path, f"{name} holds {_range(x)}; expected pixel values 0-255")
    if x.dtype.kind == "f" and not np.array_equal(x, np.round(x)):
        raise corrupt(path, f"{name} holds fractional values ({_range(x)}); expected whole pixel values 0-255")
    return x.astype(np.uint8)


def _labels(path: Path, name: str, y: np.ndarray) -> np.ndarray:
    if y.ndim == 2 and y.shape[1] == 1:
        y = y[:, 0]
    if y.ndim != 1 or y.dtype.kind not in "ui" or y.min() < 0 or y.max() >= MAX_CLASSES:
        expected = f"expected one label 0-{MAX_CLASSES - 1} per image"
        raise corrupt(path, f"{name} has shape {y.shape} and {_range(y)}; {expected}")
    return y


def _class_names(path: Path, names: np.ndarray | None, arrays: Arrays) -> tuple[str, ...]:
    if names is None:
        return numbered_classes(arrays)
    largest_label = len(numbered_classes(arrays)) - 1
    if names.ndim != 1 or names.dtype.kind not in "US":
        raise corrupt(path, f"{_CLASS_NAMES} has shape {names.shape} ({names.dtype}); expected one string per class")
    named = tuple(str(each) for each in names.tolist())
    if largest_label >= len(named):
        raise corrupt(path, f"label {largest_label} is outside 0-{len(named) - 1} ({len(named)} class names)")
    return named


def _range(x: np.ndarray) -> str:
    if x.size == 0 or x.dtype.kind not in "uifb":
        return f"{x.dtype} values"
    return f"{x.dtype} values {x.min()}-{x.max()}"
