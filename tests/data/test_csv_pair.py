"""A user's pair of Kaggle-style CSVs under any names: real digits, square by default or in the shape given."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from real_images import digits_arrays, write_digits_npz

from tuning.data.sources import load_dataset
from tuning.errors import TuneError


def _write(folder: Path, x: np.ndarray, y: np.ndarray, name: str) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    rows = np.column_stack([y, x.reshape(len(y), -1)])
    header = ",".join(["label", *(f"p{i}" for i in range(rows.shape[1] - 1))])
    np.savetxt(folder / name, rows, fmt="%d", delimiter=",", header=header, comments="")


def test_digits_as_csvs_under_their_own_names_read_square_by_default(tmp_path: Path) -> None:
    x_train, y_train, x_test, y_test = digits_arrays()
    _write(tmp_path / "digits-csv", x_train, y_train, "my_train_set.csv")
    _write(tmp_path / "digits-csv", x_test, y_test, "my_test_set.csv")
    data = load_dataset(tmp_path / "digits-csv", cache_dir=tmp_path / "cache")
    assert data.name == "digits-csv" and data.image_shape == (8, 8) and data.class_names == tuple("0123456789")
    assert np.array_equal(data.x_train, x_train) and np.array_equal(data.y_test, y_test)
    again = load_dataset(tmp_path / "digits-csv", cache_dir=tmp_path / "cache")  # from the parse cache
    assert again.fingerprint == data.fingerprint and np.array_equal(again.x_test, x_test)
    said = load_dataset(tmp_path / "digits-csv", cache_dir=tmp_path / "cache", image_shape=(8, 8))
    assert said.fingerprint == data.fingerprint  # the shape as a retrain passes it: the same data


def test_an_image_shape_reads_other_shapes_and_is_part_of_the_datas_identity(tmp_path: Path) -> None:
    x_train, y_train, x_test, y_test = digits_arrays()
    colour = {part: np.stack([x, x // 2, 255 - x], axis=-1) for part, x in (("train", x_train), ("test", x_test))}
    _write(tmp_path / "c", colour["train"], y_train, "train.csv")
    _write(tmp_path / "c", colour["test"], y_test, "test.csv")
    with pytest.raises(TuneError, match=r"192 pixel columns are no square image; give the shape with --image-shape"):
        load_dataset(tmp_path / "c", cache_dir=tmp_path / "cache")
    data = load_dataset(tmp_path / "c", cache_dir=tmp_path / "cache", image_shape=(8, 8, 3))
    assert data.image_shape == (8, 8, 3) and np.array_equal(data.x_train, colour["train"])
    wide = load_dataset(tmp_path / "c", cache_dir=tmp_path / "cache", image_shape=(8, 24))
    assert wide.image_shape == (8, 24) and wide.fingerprint != data.fingerprint
    with pytest.raises(TuneError, match=r"expected 101 columns \(label \+ 100 pixels of 10x10 images\), got 193"):
        load_dataset(tmp_path / "c", cache_dir=tmp_path / "cache", image_shape=(10, 10))


def test_an_image_shape_for_data_that_are_no_csv_is_refused(tmp_path: Path) -> None:
    with pytest.raises(TuneError, match="--image-shape applies to a folder of CSV files"):
        load_dataset(write_digits_npz(tmp_path / "d.npz"), image_shape=(8, 8))
