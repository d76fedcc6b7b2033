"""A folder of PNG images (real Fashion-MNIST, written at test time): read back exactly; every way it can be wrong."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from real_images import folder_names, write_png_folder

from tuning.data.dataset import Dataset
from tuning.data.sources import load_dataset
from tuning.errors import TuneError

_PER_CLASS = {"train": 30, "test": 10}


def _first(fashion: Dataset, part: str) -> tuple[np.ndarray, np.ndarray]:
    """The first images of each class of `part`, in class order (as a folder lists them)."""
    x, y = (fashion.x_train, fashion.y_train) if part == "train" else (fashion.x_test, fashion.y_test)
    picked = np.concatenate([np.flatnonzero(y == c)[: _PER_CLASS[part]] for c in range(10)])
    return x[picked], y[picked]


@pytest.fixture(scope="module")
def png_folder(fashion: Dataset, tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("pngs") / "fashion-png"
    return write_png_folder(root, {part: _first(fashion, part) for part in _PER_CLASS}, fashion.class_names)


def test_a_png_folder_reads_back_the_images_it_was_written_from(
    png_folder: Path, fashion: Dataset, tmp_path: Path
) -> None:
    data = load_dataset(png_folder, cache_dir=tmp_path)
    assert data.name == "fashion-png" and data.image_shape == (28, 28)
    folders = folder_names(fashion.class_names)
    assert data.class_names == tuple(sorted(folders))  # folder names, sorted
    x_test, y_test = _first(fashion, "test")
    by_name = {name: i for i, name in enumerate(data.class_names)}
    relabelled = np.array([by_name[folders[label]] for label in y_test], np.uint8)
    order = np.argsort(relabelled, kind="stable")  # the folder lists classes in name order
    assert np.array_equal(data.x_test, x_test[order]) and np.array_equal(data.y_test, relabelled[order])
    again = load_dataset(png_folder, cache_dir=tmp_path)  # from the parse cache
    assert again.fingerprint == data.fingerprint and np.array_equal(again.x_train, data.x_train)
    assert any(tmp_path.iterdir())


def test_moving_an_image_to_another_class_changes_the_fingerprint(png_folder: Path, tmp_path: Path) -> None:
    import shutil

    copy = shutil.copytree(png_folder, tmp_path / "copy")
    before = load_dataset(copy, cache_dir=tmp_path / "cache").fingerprint
    moved = next((copy / "train" / "Bag").iterdir())
    moved.rename(copy / "train" / "Coat" / ("x" + moved.name))
    assert load_dataset(copy, cache_dir=tmp_path / "cache").fingerprint != before


def test_colour_images_become_three_channels(fashion: Dataset, tmp_path: Path) -> None:
    x, y = _first(fashion, "test")  # 10 of each class
    tinted = np.stack([x, x // 2, 255 - x], axis=-1)  # real images tinted into three channels
    root = write_png_folder(tmp_path / "tinted", {"train": (tinted, y), "test": (tinted, y)}, fashion.class_names)
    data = load_dataset(root, cache_dir=tmp_path / "cache")
    assert data.image_shape == (28, 28, 3) and data.shape.channels == 3


def _break_empty(root: Path) -> None:
    for image in (root / "test" / "Bag").iterdir():
        image.unlink()


def _break_not_image(root: Path) -> None:
    (root / "train" / "Bag" / "notes.txt").write_text("not an image")


def _break_size(root: Path) -> None:
    from PIL import Image

    Image.fromarray(np.zeros((14, 14), np.uint8)).save(root / "train" / "Bag" / "small.png")


def _break_classes(root: Path) -> None:
    (root / "test" / "Hat").mkdir()
    (root / "test" / "Hat" / "a.png").write_bytes((next((root / "test" / "Bag").iterdir())).read_bytes())


def _break_stray(root: Path) -> None:
    (root / "train" / "loose.png").write_bytes(b"")


@pytest.mark.parametrize(
    ("damage", "message"),
    [
        (_break_empty, r"class folder .*test/Bag is empty"),
        (_break_not_image, r"corrupt data file .*notes.txt: not an image Pillow can read"),
        (_break_size, r"small.png: 14x14 pixels, but .* is 28x28"),
        (_break_classes, r"train/ and test/ must hold the same class folders \(differ: \['Hat'\]\)"),
        (_break_stray, r"holds files outside the class folders \(loose.png\)"),
    ],
    ids=["empty-class", "not-an-image", "other-size", "other-classes", "stray-file"],
)
def test_bad_folders_are_refused_naming_the_file(
    png_folder: Path, tmp_path: Path, damage: Callable[[Path], None], message: str
) -> None:
    import shutil

    copy = shutil.copytree(png_folder, tmp_path / "copy")
    damage(copy)
    with pytest.raises(TuneError, match=message):
        load_dataset(copy, cache_dir=tmp_path / "cache")
