"""Read Kaggle-style CSVs: a ``label`` column and one column per pixel, one image a row.

Fashion-MNIST's two files (`read_csv_set`: 784 pixels, labels 0-9), or any pair of a
training and a test file (`read_csv_pair`) of square grey images, or of the image shape
the user gives (H x W, or H x W x C with the pixels of a row in H, W, C order).

CSVs are edited by hand and exported by spreadsheets, so every bad value (not
a number, not whole, missing, out of range) is reported with its column and
its line as an editor shows it. pandas is imported only here, only when a CSV
is read: importing the package must stay light.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from tuning.data.arrays import MAX_CLASSES, Arrays, corrupt
from tuning.data.images import IMAGE_SHAPE, NUM_CLASSES
from tuning.errors import TuneError, first_line

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["read_csv_pair", "read_csv_set"]


def read_csv_set(files: list[Path]) -> Arrays:
    """Parse Fashion-MNIST's training CSV, then its test CSV."""
    x_train, y_train = _read_csv(files[0], IMAGE_SHAPE, NUM_CLASSES - 1)
    x_test, y_test = _read_csv(files[1], IMAGE_SHAPE, NUM_CLASSES - 1)
    return x_train, y_train, x_test, y_test


def read_csv_pair(train: Path, test: Path, image_shape: tuple[int, ...] | None) -> Arrays:
    """Parse a training and a test CSV of images of `image_shape` (None: square grey ones)."""
    x_train, y_train = _read_csv(train, image_shape, MAX_CLASSES - 1)
    x_test, y_test = _read_csv(test, image_shape, MAX_CLASSES - 1)
    return x_train, y_train, x_test, y_test


def _read_csv(path: Path, image_shape: tuple[int, ...] | None, highest_label: int) -> tuple[np.ndarray, np.ndarray]:
    frame = _read_frame(path)
    columns = [str(column) for column in frame.columns]
    if "label" not in columns:
        raise corrupt(path, f"no 'label' column (header starts {','.join(columns[:3])})")
    shape = image_shape or _square(path, len(columns) - 1)
    pixels_per_image = math.prod(shape)
    if len(columns) != pixels_per_image + 1:
        raise corrupt(
            path,
            f"expected {pixels_per_image + 1} columns (label + {pixels_per_image} pixels of "
            f"{'x'.join(map(str, shape))} images), got {len(columns)}",
        )
    if frame.empty:
        raise corrupt(path, "no data rows after the header")
    values = _integer_values(path, frame)
    label_at = columns.index("label")
    labels = values[:, label_at]
    pixels = np.delete(values, label_at, axis=1)
    _check_range(path, labels, ["label"], highest_label)
    _check_range(path, pixels, columns[:label_at] + columns[label_at + 1 :], 255)
    images = pixels.astype(np.uint8).reshape(-1, *shape)
    return (images[..., 0] if images.ndim == 4 and shape[-1] == 1 else images), labels.astype(np.uint8)


def _square(path: Path, pixels: int) -> tuple[int, int]:
    side = math.isqrt(pixels)
    if side * side != pixels or side == 0:
        raise corrupt(path, f"{pixels} pixel columns are no square image; give the shape with --image-shape HxW[xC]")
    return side, side


def _read_frame(path: Path) -> pd.DataFrame:
    import warnings

    import pandas as pd

    try:
        with warnings.catch_warnings():
            # index_col=False stops pandas from quietly turning an extra field into an index;
            # it then only warns about the dropped fields, so make that an error.
            warnings.simplefilter("error", pd.errors.ParserWarning)
            return pd.read_csv(path, index_col=False)
    except pd.errors.EmptyDataError:
        raise corrupt(path, "empty file") from None
    except pd.errors.ParserWarning:
        raise corrupt(path, "some rows have more fields than the header") from None
    except (ValueError, OSError) as exc:  # ParserError and UnicodeDecodeError are ValueErrors
        raise corrupt(path, f"not a readable CSV ({first_line(exc)})") from None


def _integer_values(path: Path, frame: pd.DataFrame) -> np.ndarray:
    import pandas as pd

    for column in frame.columns:
        series = frame[column]
        if pd.api.types.is_bool_dtype(series) or not pd.api.types.is_numeric_dtype(series):
            raise _non_numeric(path, series)
    if all(pd.api.types.is_integer_dtype(frame[column]) for column in frame.columns):
        return frame.to_numpy(dtype=np.int64)
    values = frame.to_numpy(dtype=np.float64)  # a missing field or a decimal made it float
    _check_whole_numbers(path, frame, values)
    return values.astype(np.int64)


def _non_numeric(path: Path, series: pd.Series) -> TuneError:
    import pandas as pd

    numbers = pd.to_numeric(series, errors="coerce")
    bad = np.flatnonzero((numbers.isna() & series.notna()).to_numpy())
    if not bad.size:
        return corrupt(path, f"non-numeric values in column {series.name!r}")
    row = int(bad[0])
    return corrupt(path, f"non-numeric value {series.iloc[row]!r} in column {series.name!r} at line {row + 2}")


def _check_whole_numbers(path: Path, frame: pd.DataFrame, values: np.ndarray) -> None:
    missing = np.argwhere(np.isnan(values))
    if missing.size:
        row, col = missing[0]
        raise corrupt(path, f"missing value in column {frame.columns[col]!r} at line {row + 2}")
    fractional = np.argwhere(values != np.floor(values))
    if fractional.size:
        row, col = fractional[0]
        raise corrupt(
            path,
            f"non-integer value {values[row, col]} in column {frame.columns[col]!r} at line {row + 2}",
        )


def _check_range(path: Path, values: np.ndarray, columns: list[str], highest: int) -> None:
    """Line numbers count the header as line 1, as an editor shows them."""
    table = values.reshape(len(values), -1)
    bad = np.argwhere((table < 0) | (table > highest))
    if not bad.size:
        return
    row, col = (int(i) for i in bad[0])
    raise corrupt(
        path,
        f"value {table[row, col]} in column {columns[col]!r} at line {row + 2} is outside 0-{highest}",
    )
