"""Stratified, seeded train/validation splits of the training images.

The test set is never touched here: it is kept for the final evaluation of a
retrained model. ``max_train_samples`` subsets are drawn from the same base
split for a given seed, so validation images never leak into training.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from tuning.errors import SettingError, TuneError

__all__ = [
    "VALIDATION_SHARE",
    "VALIDATION_SIZE",
    "Split",
    "check_validation_size",
    "train_validation_split",
    "validation_count",
]

# Training images held out for the objective by default: as many as the test set has...
VALIDATION_SIZE = 10_000
# ...or, where the training images are fewer than 60,000, the same share of them (10,000 of 60,000).
VALIDATION_SHARE = 1 / 6


@dataclass(frozen=True, eq=False)
class Split:
    """Training and validation arrays drawn from the training images."""

    x_train: np.ndarray
    y_train: np.ndarray
    x_val: np.ndarray
    y_val: np.ndarray

    def __repr__(self) -> str:  # sizes, not arrays (the dataclass keeps a __repr__ the class defines)
        return f"Split(train={len(self.y_train)}, val={len(self.y_val)})"


def train_validation_split(
    x: np.ndarray,
    y: np.ndarray,
    *,
    validation_size: int = VALIDATION_SIZE,
    max_train_samples: int | None = None,
    seed: int = 0,
) -> Split:
    """Split ``x, y`` into stratified train and validation sets, the same way for the same seed.

    With ``max_train_samples=N``, train on a stratified N of the non-validation
    images and shrink the validation set in the same proportion (never below
    one image per class), so small, fast searches keep the same class balance.
    """
    n_classes = _check_inputs(x, y, validation_size)
    train_idx, val_idx = _stratified(np.arange(len(y)), y, keep=len(y) - validation_size, seed=seed)
    if max_train_samples is not None:
        _check_max_train_samples(max_train_samples, n_classes, len(train_idx))
        n_val = _scaled_validation_size(max_train_samples, validation_size, len(train_idx), n_classes)
        train_idx = _subset(train_idx, y, max_train_samples, seed)
        val_idx = _subset(val_idx, y, n_val, seed)
    return Split(x_train=x[train_idx], y_train=y[train_idx], x_val=x[val_idx], y_val=y[val_idx])


def check_validation_size(value: object) -> None:
    """Raise SettingError unless `value` is a count of images (whole, >= 1) or a fraction (0 < f < 1) of them."""
    if isinstance(value, float) and 0 < value < 1:
        return
    if isinstance(value, int) and not isinstance(value, bool) and value >= 1:
        return
    raise SettingError("validation_size", "must be a whole number >= 1 or a fraction between 0 and 1", value)


def validation_count(requested: int | float, y: np.ndarray) -> int:
    """How many of the training images with labels `y` to hold out for validation.

    A whole number is a count; a fraction below 1 is that share of the images.
    The default, VALIDATION_SIZE, becomes VALIDATION_SHARE of the images where
    they are fewer than 60,000 (1,500 images: 250). SettingError, naming the
    value as asked, if a stratified split cannot hold out that many.
    """
    check_validation_size(requested)
    n = len(y)
    low, high = _validation_bounds(y)
    if requested == VALIDATION_SIZE and n * VALIDATION_SHARE < VALIDATION_SIZE:
        return min(max(round(n * VALIDATION_SHARE), low), high)
    count = round(requested * n) if isinstance(requested, float) else requested
    if not low <= count <= high:
        note = "" if count == requested else f" ({count} of {n} images)"
        raise SettingError(
            "validation_size", f"must hold out between {low} and {high} of the {n} images", requested, note
        )
    return count


def _validation_bounds(y: np.ndarray) -> tuple[int, int]:
    """The fewest and most images a stratified split can hold out: one per class, and all but one per class."""
    n_classes = int(np.unique(y).size)
    return n_classes, len(y) - n_classes


def _check_inputs(x: np.ndarray, y: np.ndarray, validation_size: int) -> int:
    """Return the number of classes, or raise TuneError if no stratified split exists."""
    if len(x) != len(y):
        raise TuneError(f"images and labels differ in length, but got len(x)={len(x)} and len(y)={len(y)}")
    classes, counts = np.unique(y, return_counts=True)
    if classes.size < 2:
        raise TuneError(f"a stratified split needs at least 2 classes, but got classes={classes.tolist()}")
    if counts.min() < 2:
        rare = classes[counts.argmin()]
        raise TuneError(f"a stratified split needs at least 2 images per class, but class {rare} has 1")
    low, high = _validation_bounds(y)
    if not low <= validation_size <= high:
        raise SettingError("validation_size", f"must be between {low} and {high}", validation_size)
    return int(classes.size)


def _check_max_train_samples(max_train_samples: int, n_classes: int, available: int) -> None:
    if n_classes <= max_train_samples <= available:
        return
    raise SettingError("max_train_samples", f"must be between {n_classes} and {available}", max_train_samples)


def _scaled_validation_size(n_train: int, validation_size: int, available: int, n_classes: int) -> int:
    scaled = round(n_train * validation_size / available)
    return min(validation_size, max(n_classes, scaled))


def _stratified(indices: np.ndarray, y: np.ndarray, *, keep: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Split ``indices`` into ``keep`` and the rest, preserving the class mix of ``y[indices]``.

    A subset that leaves fewer images out than there are classes (or a pool with
    a single image of some class) cannot be stratified; it is drawn at random,
    which moves the class counts by at most the few images left out.
    """
    from sklearn.model_selection import train_test_split

    labels = y[indices]
    stratify = labels if _can_stratify(labels, keep) else None
    kept, rest = train_test_split(indices, train_size=keep, stratify=stratify, random_state=seed)
    return kept, rest


def _can_stratify(labels: np.ndarray, keep: int) -> bool:
    counts = np.unique(labels, return_counts=True)[1]
    return counts.min() >= 2 and counts.size <= min(keep, len(labels) - keep)


def _subset(indices: np.ndarray, y: np.ndarray, size: int, seed: int) -> np.ndarray:
    if size >= len(indices):
        return indices
    return _stratified(indices, y, keep=size, seed=seed)[0]
