"""Read Fashion-MNIST's four gzipped IDX files, the format of the original release and of Debian's package.

Whatever breaks the format (bad gzip, wrong magic number, wrong image size, a
payload longer or shorter than its header says, a label outside 0-9, image and
label counts that differ) is a TuneError naming the file and the problem.
"""

from __future__ import annotations

import gzip
import math
import zlib
from pathlib import Path

import numpy as np

from tuning.data.arrays import Arrays, corrupt
from tuning.data.images import IMAGE_SHAPE, NUM_CLASSES
from tuning.errors import TuneError

__all__ = ["read_idx_set"]

_IMAGE_MAGIC = 2051
_LABEL_MAGIC = 2049


def read_idx_set(files: list[Path]) -> Arrays:
    """Parse the train images, train labels, test images and test labels files, in that order."""
    train_images, train_labels, test_images, test_labels = files
    x_train = _read_idx(train_images, _IMAGE_MAGIC)
    y_train = _read_idx(train_labels, _LABEL_MAGIC)
    x_test = _read_idx(test_images, _IMAGE_MAGIC)
    y_test = _read_idx(test_labels, _LABEL_MAGIC)
    _check_counts_agree(train_images, len(x_train), train_labels, len(y_train))
    _check_counts_agree(test_images, len(x_test), test_labels, len(y_test))
    return x_train, y_train, x_test, y_test


def _check_counts_agree(images: Path, n_images: int, labels: Path, n_labels: int) -> None:
    if n_images == n_labels:
        return
    raise TuneError(f"corrupt data: {images} holds {n_images} images but {labels} holds {n_labels} labels")


def _read_idx(path: Path, magic: int) -> np.ndarray:
    raw = _gunzip(path)
    header_size = 16 if magic == _IMAGE_MAGIC else 8
    if len(raw) < header_size:
        raise corrupt(path, f"truncated header ({len(raw)} bytes, expected {header_size})")
    found = int.from_bytes(raw[:4], "big")
    if found != magic:
        raise corrupt(path, f"wrong magic number {found} (expected {magic})")
    count = int.from_bytes(raw[4:8], "big")
    if count == 0:
        raise corrupt(path, "header says it holds 0 items")
    if magic == _IMAGE_MAGIC:
        return _idx_images(path, raw, count)
    return _idx_labels(path, raw, count)


def _gunzip(path: Path) -> bytes:
    try:
        with gzip.open(path, "rb") as stream:
            return stream.read()
    except EOFError:
        raise corrupt(path, "truncated gzip stream") from None
    except (gzip.BadGzipFile, zlib.error) as exc:
        raise corrupt(path, f"not a valid gzip file ({exc})") from None
    except OSError as exc:
        raise TuneError(f"cannot read data file {path}: {exc}") from None


def _idx_images(path: Path, raw: bytes, count: int) -> np.ndarray:
    rows = int.from_bytes(raw[8:12], "big")
    cols = int.from_bytes(raw[12:16], "big")
    if (rows, cols) != IMAGE_SHAPE:
        raise corrupt(path, f"images are {rows}x{cols}, expected {IMAGE_SHAPE[0]}x{IMAGE_SHAPE[1]}")
    _check_payload(path, len(raw) - 16, count * math.prod(IMAGE_SHAPE), "pixels")
    return np.frombuffer(raw, dtype=np.uint8, offset=16).reshape(count, *IMAGE_SHAPE).copy()


def _idx_labels(path: Path, raw: bytes, count: int) -> np.ndarray:
    _check_payload(path, len(raw) - 8, count, "labels")
    labels = np.frombuffer(raw, dtype=np.uint8, offset=8).copy()
    bad = np.flatnonzero(labels >= NUM_CLASSES)
    if bad.size:
        raise corrupt(path, f"label {labels[bad[0]]} at item {bad[0]} is outside 0-{NUM_CLASSES - 1}")
    return labels


def _check_payload(path: Path, got: int, expected: int, what: str) -> None:
    if got < expected:
        raise corrupt(path, f"truncated (expected {expected} bytes of {what}, got {got})")
    if got > expected:
        raise corrupt(path, f"{got - expected} unexpected bytes after the {expected} bytes of {what}")
