"""Tests for tuning.data.splits: stratified, seeded, disjoint train/validation splits."""

from __future__ import annotations

import numpy as np
import pytest

from tuning.data.splits import VALIDATION_SIZE, Split, train_validation_split, validation_count
from tuning.errors import SettingError, TuneError

N_CLASSES = 10


def images(n: int, *, imbalanced: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """Tiny "images" whose single pixel is their own index, so splits can be traced back."""
    rng = np.random.default_rng(0)
    weights = np.arange(1, N_CLASSES + 1) if imbalanced else np.ones(N_CLASSES)
    y = rng.choice(N_CLASSES, size=n, p=weights / weights.sum()).astype(np.uint8)
    x = np.arange(n, dtype=np.int64).reshape(n, 1, 1)
    return x, y


def ids(x: np.ndarray) -> np.ndarray:
    return x.ravel()


def assert_stratified(part: np.ndarray, whole: np.ndarray) -> None:
    """Each class gets its share of ``part``, give or take one image."""
    expected = np.bincount(whole, minlength=N_CLASSES) * len(part) / len(whole)
    got = np.bincount(part, minlength=N_CLASSES)
    assert np.all(np.abs(got - expected) <= 1), (got, expected)


@pytest.mark.parametrize("imbalanced", [False, True], ids=["balanced", "imbalanced"])
def test_split_is_stratified_disjoint_and_complete(imbalanced: bool) -> None:
    x, y = images(6000, imbalanced=imbalanced)
    split = train_validation_split(x, y, validation_size=1000)
    assert (len(split.y_train), len(split.y_val)) == (5000, 1000)
    assert_stratified(split.y_train, y)
    assert_stratified(split.y_val, y)
    assert not set(ids(split.x_train)) & set(ids(split.x_val))
    assert sorted([*ids(split.x_train), *ids(split.x_val)]) == list(range(6000))
    np.testing.assert_array_equal(y[ids(split.x_train)], split.y_train)  # images keep their labels
    np.testing.assert_array_equal(y[ids(split.x_val)], split.y_val)


def test_same_seed_same_split_other_seed_other_split() -> None:
    x, y = images(2000)
    first, again = (train_validation_split(x, y, validation_size=500, seed=7) for _ in range(2))
    other = train_validation_split(x, y, validation_size=500, seed=8)
    np.testing.assert_array_equal(first.x_train, again.x_train)
    np.testing.assert_array_equal(first.x_val, again.x_val)
    assert set(ids(first.x_val)) != set(ids(other.x_val))


@pytest.mark.parametrize(
    ("max_train_samples", "expected_val"),
    [(5000, 1000), (2500, 500), (1000, 200), (333, 67), (10, 10), (20, 10)],
)
def test_max_train_samples_shrinks_validation_in_proportion(max_train_samples: int, expected_val: int) -> None:
    x, y = images(6000)
    split = train_validation_split(x, y, validation_size=1000, max_train_samples=max_train_samples)
    assert len(split.y_train) == max_train_samples
    assert len(split.y_val) == expected_val
    assert_stratified(split.y_train, y)
    assert_stratified(split.y_val, y)


def test_subsets_come_from_the_same_base_split() -> None:
    x, y = images(3000)
    full = train_validation_split(x, y, validation_size=600, seed=3)
    for n in (100, 1000, 2399):
        small = train_validation_split(x, y, validation_size=600, max_train_samples=n, seed=3)
        assert set(ids(small.x_train)) <= set(ids(full.x_train))
        assert set(ids(small.x_val)) <= set(ids(full.x_val))
        assert not set(ids(small.x_train)) & set(ids(full.x_val))


def test_split_repr_is_short() -> None:
    x, y = images(100)
    assert repr(train_validation_split(x, y, validation_size=20)) == "Split(train=80, val=20)"
    assert isinstance(train_validation_split(x, y, validation_size=20), Split)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"validation_size": 0}, "validation_size must be between 10 and 990, but got validation_size=0"),
        ({"validation_size": -5}, "but got validation_size=-5"),
        ({"validation_size": 1000}, "but got validation_size=1000"),
        ({"validation_size": 995}, "but got validation_size=995"),
        ({"validation_size": 200, "max_train_samples": 0}, "between 10 and 800, but got max_train_samples=0"),
        ({"validation_size": 200, "max_train_samples": 9}, "but got max_train_samples=9"),
        ({"validation_size": 200, "max_train_samples": 801}, "but got max_train_samples=801"),
    ],
)
def test_impossible_arguments_show_the_bad_value(kwargs: dict[str, int], message: str) -> None:
    x, y = images(1000)
    with pytest.raises(TuneError, match=message):
        train_validation_split(x, y, **kwargs)


def test_bad_inputs() -> None:
    x, y = images(100)
    with pytest.raises(TuneError, match="len\\(x\\)=100 and len\\(y\\)=99"):
        train_validation_split(x, y[:-1], validation_size=20)
    with pytest.raises(TuneError, match="at least 2 classes"):
        train_validation_split(x, np.zeros(100, np.uint8), validation_size=20)
    y_rare = y.copy()
    y_rare[:] = np.arange(100) % 9
    y_rare[0] = 9  # class 9 appears once
    with pytest.raises(TuneError, match="class 9 has 1"):
        train_validation_split(x, y_rare, validation_size=20)


def test_default_validation_size_on_fashion_mnist_sized_labels() -> None:
    y = (np.arange(60000) % N_CLASSES).astype(np.uint8)
    x = np.zeros((60000, 1, 1), np.uint8)
    split = train_validation_split(x, y, max_train_samples=5000)
    assert (len(split.y_train), len(split.y_val)) == (5000, 1000)
    assert np.bincount(split.y_train).tolist() == [500] * N_CLASSES
    assert np.bincount(split.y_val).tolist() == [100] * N_CLASSES


@pytest.mark.parametrize(
    ("n", "requested", "expected"),
    [
        (60000, VALIDATION_SIZE, 10000),  # the default where the data has room for it
        (70000, VALIDATION_SIZE, 10000),
        (1500, VALIDATION_SIZE, 250),  # else the same share: a sixth (a Kaggle CSV of 1,500 rows)
        (30, VALIDATION_SIZE, 10),  # never below one image per class
        (1500, 0.2, 300),  # a fraction of the images
        (1500, 100, 100),  # a count
        (60000, 5000, 5000),
    ],
)
def test_validation_count(n: int, requested: int | float, expected: int) -> None:
    y = (np.arange(n) % N_CLASSES).astype(np.uint8)
    assert validation_count(requested, y) == expected


@pytest.mark.parametrize(
    ("requested", "message"),
    [
        (1491, "validation_size must hold out between 10 and 1490 of the 1500 images, but got validation_size=1491$"),
        (0.999, "but got validation_size=0.999 \\(1498 of 1500 images\\)$"),
        (0.001, "but got validation_size=0.001 \\(2 of 1500 images\\)$"),
        (1.5, "validation_size must be a whole number >= 1 or a fraction between 0 and 1, but got validation_size=1.5"),
        (0, "but got validation_size=0$"),
        (True, "but got validation_size=True$"),
    ],
)
def test_impossible_validation_sizes_show_the_value_asked(requested: int | float, message: str) -> None:
    y = (np.arange(1500) % N_CLASSES).astype(np.uint8)
    with pytest.raises(SettingError, match=message) as caught:
        validation_count(requested, y)
    assert caught.value.setting == "validation_size"
