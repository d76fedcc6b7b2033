"""Test doubles for the data tests: tiny Fashion-MNIST sets written as IDX or CSV files, and empty default places.

A plain module, not a conftest: a second ``conftest.py`` would take the module
name that tests importing ``conftest`` rely on.
"""

from __future__ import annotations

import gzip
import sys
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

from tuning.data import load, locate
from tuning.data.arrays import Arrays
from tuning.data.dataset import Dataset
from tuning.data.locate import CSV_FILES, IDX_FILES

N_TRAIN, N_TEST = 30, 10


def tiny_arrays(seed: int = 0) -> Arrays:
    rng = np.random.default_rng(seed)
    x_train = rng.integers(0, 256, (N_TRAIN, 28, 28), dtype=np.uint8)
    x_test = rng.integers(0, 256, (N_TEST, 28, 28), dtype=np.uint8)
    y_train = rng.permutation(np.arange(N_TRAIN) % 10).astype(np.uint8)
    y_test = rng.permutation(np.arange(N_TEST) % 10).astype(np.uint8)
    return x_train, y_train, x_test, y_test


def idx_bytes(array: np.ndarray, *, magic: int | None = None, count: int | None = None, side: int = 28) -> bytes:
    """An uncompressed IDX file; the keyword arguments forge a bad header."""
    images = array.ndim == 3
    header = [magic or (2051 if images else 2049), len(array) if count is None else count]
    if images:
        header += [side, 28]
    return b"".join(value.to_bytes(4, "big") for value in header) + array.tobytes()


def write_idx(directory: Path, arrays: Arrays | None = None) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    for name, array in zip(IDX_FILES, arrays or tiny_arrays(), strict=True):
        (directory / name).write_bytes(gzip.compress(idx_bytes(array)))
    return directory


def csv_lines(x: np.ndarray, y: np.ndarray) -> list[str]:
    header = ",".join(["label", *(f"pixel{i}" for i in range(1, 785))])
    return [header, *(",".join(map(str, [label, *image.ravel()])) for image, label in zip(x, y, strict=True))]


def write_csv(directory: Path, arrays: Arrays | None = None) -> Path:
    x_train, y_train, x_test, y_test = arrays or tiny_arrays()
    directory.mkdir(parents=True, exist_ok=True)
    (directory / CSV_FILES[0]).write_text("\n".join(csv_lines(x_train, y_train)) + "\n")
    (directory / CSV_FILES[1]).write_text("\n".join(csv_lines(x_test, y_test)) + "\n")
    return directory


def assert_same(dataset: Dataset, arrays: Arrays) -> None:
    for got, expected in zip((dataset.x_train, dataset.y_train, dataset.x_test, dataset.y_test), arrays, strict=True):
        assert got.dtype == np.uint8
        np.testing.assert_array_equal(got, expected)


def isolate(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No TUNE_DATA_DIR from the caller's shell; the parse cache goes to ``tmp_path / "cache"``."""
    monkeypatch.delenv("TUNE_DATA_DIR", raising=False)
    monkeypatch.setenv("TUNE_CACHE_DIR", str(tmp_path / "cache"))


def empty_places(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> SimpleNamespace:
    """Empty stand-ins for every default place, and a Keras whose import fails."""
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setattr(locate, "DEBIAN_DIR", tmp_path / "debian")
    monkeypatch.setitem(sys.modules, "keras", None)
    return SimpleNamespace(keras_dir=home / ".keras/datasets/fashion-mnist", debian=tmp_path / "debian")


def forbid_parsing(monkeypatch: pytest.MonkeyPatch) -> None:
    """Make any parse of the source files fail the test: what follows must come from the cache."""
    monkeypatch.setattr(load, "_parse_files", _must_not_parse)


def _must_not_parse(files: list[Path]) -> Arrays:
    raise AssertionError(f"parsed {files} although the cache should have been used")
