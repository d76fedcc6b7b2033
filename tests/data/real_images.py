"""Real images in the formats a user brings: scikit-learn's digits as a `.npz`, Fashion-MNIST as PNG folders."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

DIGITS_TEST = 360  # of scikit-learn's 1,797 digits; the rest train


def digits_arrays() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """scikit-learn's 1,797 real 8x8 digits (16 grey levels) as 0-255 uint8, split stratified, seeded."""
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    digits = load_digits()
    images = np.round(digits.images * 255 / 16).astype(np.uint8)
    x_train, x_test, y_train, y_test = train_test_split(
        images, digits.target.astype(np.uint8), test_size=DIGITS_TEST, stratify=digits.target, random_state=0
    )
    return x_train, y_train, x_test, y_test


def write_digits_npz(path: Path, class_names: Sequence[str] | None = None, **arrays: np.ndarray) -> Path:
    """The digits as a `.npz` at `path` (name ending .npz); `arrays` replace or add arrays."""
    x_train, y_train, x_test, y_test = digits_arrays()
    stored = {"x_train": x_train, "y_train": y_train, "x_test": x_test, "y_test": y_test, **arrays}
    if class_names is not None:
        stored["class_names"] = np.array(class_names)
    np.savez(path, **stored)
    return path


def write_png_folder(root: Path, parts: dict[str, tuple[np.ndarray, np.ndarray]], class_names: Sequence[str]) -> Path:
    """`root/train/<class>/<i>.png` and `root/test/...` for the images and labels of each part.

    A class name's "/" (Fashion-MNIST's "T-shirt/top") becomes "-" in its folder's name.
    """
    from PIL import Image

    folders = folder_names(class_names)
    for part, (x, y) in parts.items():
        for name in folders:
            (root / part / name).mkdir(parents=True, exist_ok=True)
        for i, (image, label) in enumerate(zip(x, y, strict=True)):
            Image.fromarray(image).save(root / part / folders[int(label)] / f"{i:05d}.png")
    return root


def folder_names(class_names: Sequence[str]) -> list[str]:
    return [name.replace("/", "-") for name in class_names]
