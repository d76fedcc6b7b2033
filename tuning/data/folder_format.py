"""Read a folder of images: `train/` and `test/`, each with one subfolder per class, as Keras' image folders are.

Class names are the subfolder names, sorted; train and test must have the same ones.
Every file in them must be an image Pillow reads (PNG, JPEG, BMP, GIF, ...), all of one
size. Grey images stay (N, H, W); if any image has colour, all become (N, H, W, 3).
Hidden files (`.DS_Store`) are skipped. Problems are TuneErrors naming the file or folder.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from tuning.data.arrays import MAX_CLASSES, Arrays, corrupt
from tuning.errors import TuneError

__all__ = ["PARTS", "image_files", "is_image_folder", "read_image_folder"]

PARTS = ("train", "test")
_GREY_MODES = ("1", "L", "LA", "I", "I;16", "F")


def is_image_folder(root: Path) -> bool:
    """Whether `root` holds the `train/` and `test/` folders of an image dataset."""
    return all((root / part).is_dir() for part in PARTS)


def image_files(root: Path) -> tuple[dict[str, list[tuple[Path, int]]], tuple[str, ...]]:
    """Per part, its image files with their labels (sorted), and the class names."""
    classes = {part: _class_folders(root / part) for part in PARTS}
    names = tuple(folder.name for folder in classes["train"])
    test_names = tuple(folder.name for folder in classes["test"])
    if names != test_names:
        only = sorted(set(names) ^ set(test_names))
        raise TuneError(f"image folder {root}: train/ and test/ must hold the same class folders (differ: {only})")
    if len(names) > MAX_CLASSES:
        raise TuneError(f"image folder {root}: {len(names)} classes; at most {MAX_CLASSES} are supported")
    files = {part: [(f, label) for label, d in enumerate(classes[part]) for f in _files(d)] for part in PARTS}
    return files, names


def read_image_folder(files: dict[str, list[tuple[Path, int]]]) -> Arrays:
    """Decode every image (as `image_files` listed them) into uint8 arrays."""
    decoded = {part: [_read(path) for path, _ in files[part]] for part in PARTS}
    first = files["train"][0][0]
    size = decoded["train"][0].shape[:2]
    for part in PARTS:
        for (path, _), image in zip(files[part], decoded[part], strict=True):
            if image.shape[:2] != size:
                expected = _size(decoded["train"][0])
                raise corrupt(path, f"{_size(image)} pixels, but {first} is {expected}: all must be one size")
    colour = any(image.ndim == 3 for part in PARTS for image in decoded[part])
    x_train, x_test = (_stack(decoded[part], colour) for part in PARTS)
    y_train, y_test = (np.array([label for _, label in files[part]], dtype=np.uint8) for part in PARTS)
    return x_train, y_train, x_test, y_test


def _class_folders(part: Path) -> list[Path]:
    folders = sorted(p for p in part.iterdir() if p.is_dir() and not p.name.startswith("."))
    if not folders:
        raise TuneError(f"image folder {part} has no class folders; put each class's images in a folder of its own")
    stray = sorted(p.name for p in part.iterdir() if p.is_file() and not p.name.startswith("."))
    if stray:
        raise TuneError(f"image folder {part} holds files outside the class folders ({', '.join(stray[:3])})")
    return folders


def _files(folder: Path) -> list[Path]:
    files = sorted(p for p in folder.iterdir() if not p.name.startswith("."))
    if not files:
        raise TuneError(f"class folder {folder} is empty")
    nested = [p.name for p in files if p.is_dir()]
    if nested:
        raise TuneError(f"class folder {folder} holds folders ({', '.join(nested[:3])}); put the images in it directly")
    return files


def _read(path: Path) -> np.ndarray:
    """(H, W) for a grey image, (H, W, 3) for a colour one."""
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(path) as image:
            if image.mode in _GREY_MODES:
                return np.asarray(image.convert("L"), dtype=np.uint8)
            rgb = np.asarray(image.convert("RGB"), dtype=np.uint8)
    except (UnidentifiedImageError, OSError, ValueError) as exc:
        raise corrupt(path, f"not an image Pillow can read ({type(exc).__name__})") from None
    if (rgb[..., 0] == rgb[..., 1]).all() and (rgb[..., 1] == rgb[..., 2]).all():
        return rgb[..., 0]  # colour format, grey content
    return rgb


def _stack(images: list[np.ndarray], colour: bool) -> np.ndarray:
    if colour:
        images = [np.repeat(image[..., None], 3, axis=-1) if image.ndim == 2 else image for image in images]
    return np.stack(images)


def _size(image: np.ndarray) -> str:
    return f"{image.shape[1]}x{image.shape[0]}"
