"""Tests for tuning.data.cache: written once under the fingerprint, never stale, and never fatal."""

from __future__ import annotations

import errno
import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from tiny_fashion import N_TEST, assert_same, forbid_parsing, isolate, tiny_arrays, write_idx

from tuning.data.cache import read_cache, write_cache
from tuning.data.dataset import Dataset
from tuning.data.images import CLASS_NAMES
from tuning.data.load import load_fashion_mnist


@pytest.fixture(autouse=True)
def _isolated(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    isolate(monkeypatch, tmp_path)


def test_cache_is_written_under_fingerprint_and_reused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    arrays = tiny_arrays()
    directory = write_idx(tmp_path / "idx", arrays)
    first = load_fashion_mnist(directory)  # cache dir from TUNE_CACHE_DIR
    cache = tmp_path / "cache" / first.fingerprint
    assert sorted(path.name for path in cache.iterdir()) == ["x_test.npy", "x_train.npy", "y_test.npy", "y_train.npy"]
    assert [path.name for path in cache.parent.iterdir()] == [first.fingerprint]  # no staging folder left
    forbid_parsing(monkeypatch)
    assert_same(load_fashion_mnist(directory), arrays)


def test_changed_files_are_not_served_from_a_stale_cache(tmp_path: Path) -> None:
    directory = write_idx(tmp_path / "idx", tiny_arrays(0))
    before = load_fashion_mnist(directory)
    write_idx(directory, tiny_arrays(1))
    after = load_fashion_mnist(directory)
    assert after.fingerprint != before.fingerprint
    assert_same(after, tiny_arrays(1))


@pytest.mark.parametrize(
    "damage",
    [
        lambda cache: (cache / "x_train.npy").write_bytes(b"not numpy"),
        lambda cache: np.save(cache / "y_test.npy", np.zeros(3, np.uint8)),
        lambda cache: np.save(cache / "x_test.npy", np.zeros((N_TEST, 28, 28), np.float32)),
        lambda cache: (cache / "y_train.npy").unlink(),
    ],
    ids=["garbage", "wrong length", "wrong dtype", "missing file"],
)
def test_unreadable_cache_is_ignored_and_rewritten(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch, damage: Callable[[Path], None]
) -> None:
    arrays = tiny_arrays()
    directory = write_idx(tmp_path / "idx", arrays)
    cache = tmp_path / "cache" / load_fashion_mnist(directory).fingerprint
    damage(cache)
    with caplog.at_level(logging.WARNING, logger="tuning.data.cache"):
        assert_same(load_fashion_mnist(directory), arrays)
    assert f"ignoring unreadable data cache {cache}" in caplog.text
    forbid_parsing(monkeypatch)
    assert_same(load_fashion_mnist(directory), arrays)


def test_unwritable_cache_dir_is_a_warning(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    arrays = tiny_arrays()
    blocked = tmp_path / "blocked"
    blocked.write_text("a file where the cache directory should be")
    with caplog.at_level(logging.WARNING, logger="tuning.data.cache"):
        assert_same(load_fashion_mnist(write_idx(tmp_path / "idx", arrays), cache_dir=blocked), arrays)
    assert "cannot write data cache" in caplog.text


def test_full_disk_while_saving_is_a_warning_and_leaves_nothing(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    real_save = np.save
    saved: list[str] = []

    def save_until_full(file: Path, array: np.ndarray, **kwargs: Any) -> None:
        if saved:
            raise OSError(errno.ENOSPC, "No space left on device")
        saved.append(str(file))
        real_save(file, array, **kwargs)

    monkeypatch.setattr(np, "save", save_until_full)
    cache = tmp_path / "cache" / "0123456789abcdef"
    with caplog.at_level(logging.WARNING, logger="tuning.data.cache"):
        write_cache(cache, tiny_arrays())
    assert f"cannot write data cache {cache}: No space left on device; going on without it" in caplog.text
    assert saved and not (tmp_path / "cache").exists()  # neither the half-written staging folder nor its parent


def test_cache_written_meanwhile_by_another_writer_is_fine(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Force the race: the other writer publishes the same cache while this one is still saving.
    arrays = tiny_arrays()
    cache = tmp_path / "cache" / "0123456789abcdef"
    real_save = np.save
    raced: list[bool] = []

    def save_after_the_other_writer(file: Path, array: np.ndarray, **kwargs: Any) -> None:
        if not raced:
            raced.append(True)
            write_cache(cache, arrays)
            assert cache.is_dir()
        real_save(file, array, **kwargs)

    monkeypatch.setattr(np, "save", save_after_the_other_writer)
    with caplog.at_level(logging.DEBUG, logger="tuning.data.cache"):
        write_cache(cache, arrays)
    assert raced
    assert not [record for record in caplog.records if record.levelno >= logging.WARNING]
    cached = read_cache(cache)
    assert cached is not None
    assert_same(
        Dataset(*cached, name="fashion-mnist", class_names=CLASS_NAMES, source="cache", fingerprint=cache.name), arrays
    )
    assert [path.name for path in cache.parent.iterdir()] == [cache.name]  # no staging or moved-aside folder left
