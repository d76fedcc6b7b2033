"""A user's `.npz`: real digits at their native 8x8, and every way a file can be wrong."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
from real_images import DIGITS_TEST, digits_arrays, write_digits_npz

from tuning.data.sources import load_dataset
from tuning.errors import TuneError


def test_digits_load_at_their_own_shape_with_numbered_classes(tmp_path: Path) -> None:
    data = load_dataset(write_digits_npz(tmp_path / "digits.npz"))
    x_train, _, _, y_test = digits_arrays()
    assert data.name == "digits" and data.source == str(tmp_path / "digits.npz")
    assert data.image_shape == (8, 8) and data.class_names == tuple("0123456789")
    assert len(data.y_test) == DIGITS_TEST and np.array_equal(data.x_train, x_train)
    assert data.x_train.dtype == data.y_train.dtype == np.uint8 and np.array_equal(data.y_test, y_test)


def test_class_names_a_channel_axis_and_wide_integer_types_are_taken(tmp_path: Path) -> None:
    x_train, y_train, x_test, _ = digits_arrays()
    names = [f"digit {i}" for i in range(10)]
    path = write_digits_npz(
        tmp_path / "d.npz",
        names,
        x_train=x_train[..., None].astype(np.int64),  # (N, 8, 8, 1), int64
        y_train=y_train.astype(np.int64)[:, None],  # a column
        x_test=x_test.astype(np.float32),  # whole numbers as floats
    )
    data = load_dataset(path)
    assert data.class_names == tuple(names) and data.image_shape == (8, 8)
    assert np.array_equal(data.x_train, x_train) and np.array_equal(data.x_test, x_test)


def test_the_fingerprint_follows_the_content(tmp_path: Path) -> None:
    x_train, *_ = digits_arrays()
    first = load_dataset(write_digits_npz(tmp_path / "a.npz")).fingerprint
    assert load_dataset(write_digits_npz(tmp_path / "b.npz")).fingerprint == first
    assert load_dataset(write_digits_npz(tmp_path / "c.npz", x_train=255 - x_train)).fingerprint != first


def _bad(**arrays: Any) -> dict[str, Any]:
    return arrays


@pytest.mark.parametrize(
    ("arrays", "class_names", "message"),
    [
        (_bad(y_test=None), None, "no array y_test"),
        (_bad(x_train=np.zeros((5, 8), np.uint8)), None, r"x_train has shape \(5, 8\); expected images"),
        (_bad(x_test=np.full((3, 8, 8), 0.5)), None, "fractional values"),
        (_bad(x_test=np.full((3, 8, 8), 300)), None, "expected pixel values 0-255"),
        (_bad(y_train=np.full(1437, -1)), None, "expected one label"),
        (_bad(y_train=np.zeros(1437, np.float32)), None, "expected one label"),
        (_bad(x_test=np.zeros((360, 7, 7), np.uint8)), None, "train images are 8x8 but test images 7x7"),
        (_bad(y_test=np.zeros(5, np.uint8)), None, "do not match"),
        (_bad(), ["zero", "one"], r"label 9 is outside 0-1 \(2 class names\)"),
        (_bad(y_train=np.zeros(1437, np.uint8), y_test=np.zeros(360, np.uint8)), None, "a classifier needs at least 2"),
    ],
    ids=lambda v: v if isinstance(v, str) else None,
)
def test_bad_files_are_refused_naming_the_array(
    tmp_path: Path, arrays: dict[str, Any], class_names: list[str] | None, message: str
) -> None:
    path = tmp_path / "bad.npz"
    x_train, y_train, x_test, y_test = digits_arrays()
    stored = {"x_train": x_train, "y_train": y_train, "x_test": x_test, "y_test": y_test, **arrays}
    stored = {name: array for name, array in stored.items() if array is not None}
    if class_names is not None:
        stored["class_names"] = np.array(class_names)
    np.savez(path, **stored)
    with pytest.raises(TuneError, match=message):
        load_dataset(path)


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("broken.npz", b"PK\x03\x04 not really", "not a readable .npz"),
        ("data.csv", b"label,pixel1\n", "expected a .npz"),
        ("missing.npz", None, "does not exist"),
    ],
)
def test_files_that_are_no_npz_are_refused(tmp_path: Path, name: str, content: bytes | None, message: str) -> None:
    if content is not None:
        (tmp_path / name).write_bytes(content)
    with pytest.raises(TuneError, match=message):
        load_dataset(tmp_path / name)
