"""Tests for tuning.data.load: the real data set, both formats end to end, and Keras' downloader as the last resort."""

from __future__ import annotations

import hashlib
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
from conftest import SUBSET_DIR
from tiny_fashion import assert_same, empty_places, forbid_parsing, isolate, tiny_arrays, write_csv, write_idx

from tuning.data.dataset import Dataset
from tuning.data.images import NUM_CLASSES
from tuning.data.load import load_fashion_mnist


@pytest.fixture(autouse=True)
def _isolated(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    isolate(monkeypatch, tmp_path)


def test_real_dataset_loads_and_second_load_hits_cache(
    fashion: Dataset, fashion_dir: Path, cache_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = fashion
    n_train, n_test = (1200, 200) if fashion_dir == SUBSET_DIR else (60000, 10000)  # the subset: its README
    assert first.x_train.shape == (n_train, 28, 28) and first.x_test.shape == (n_test, 28, 28)
    assert first.y_train.shape == (n_train,) and first.y_test.shape == (n_test,)
    assert {a.dtype for a in (first.x_train, first.y_train, first.x_test, first.y_test)} == {np.dtype(np.uint8)}
    assert set(np.unique(first.y_train)) == set(range(NUM_CLASSES)) == set(np.unique(first.y_test))
    assert np.bincount(first.y_train, minlength=10).tolist() == [n_train // 10] * 10
    assert first.source == str(fashion_dir) and len(first.fingerprint) == 16

    forbid_parsing(monkeypatch)
    second = load_fashion_mnist(fashion_dir, cache_dir=cache_dir)
    assert_same(second, (first.x_train, first.y_train, first.x_test, first.y_test))
    assert second.fingerprint == first.fingerprint


def test_idx_directory_loads(tmp_path: Path) -> None:
    arrays = tiny_arrays()
    dataset = load_fashion_mnist(write_idx(tmp_path / "idx", arrays))
    assert_same(dataset, arrays)
    assert dataset.source == str(tmp_path / "idx")
    assert len(dataset.fingerprint) == 16 and int(dataset.fingerprint, 16) >= 0


def test_csv_directory_agrees_with_idx(tmp_path: Path) -> None:
    arrays = tiny_arrays()
    from_idx = load_fashion_mnist(write_idx(tmp_path / "idx", arrays))
    from_csv = load_fashion_mnist(write_csv(tmp_path / "csv", arrays))
    assert_same(from_csv, (from_idx.x_train, from_idx.y_train, from_idx.x_test, from_idx.y_test))
    assert from_csv.source == str(tmp_path / "csv")
    assert from_csv.fingerprint != from_idx.fingerprint


def test_idx_preferred_when_both_formats_present(tmp_path: Path) -> None:
    directory = write_csv(write_idx(tmp_path / "both", tiny_arrays(0)), tiny_arrays(1))
    assert_same(load_fashion_mnist(directory), tiny_arrays(0))


def test_keras_download_is_the_last_resort(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    empty_places(monkeypatch, tmp_path)
    arrays = tiny_arrays(4)
    # Keras hands back read-only arrays; the loader must give back arrays the caller owns.
    frozen = [np.frombuffer(a.tobytes(), np.uint8).reshape(a.shape) for a in arrays]
    fashion_mnist = SimpleNamespace(load_data=lambda: ((frozen[0], frozen[1]), (frozen[2], frozen[3])))
    monkeypatch.setitem(sys.modules, "keras", SimpleNamespace(datasets=SimpleNamespace(fashion_mnist=fashion_mnist)))
    dataset = load_fashion_mnist()
    assert_same(dataset, arrays)
    assert dataset.source == "keras-download"
    assert dataset.fingerprint == hashlib.sha256(b"".join(a.tobytes() for a in arrays)).hexdigest()[:16]
    assert dataset.x_train.flags.writeable


def test_import_stays_light() -> None:
    code = (
        "import importlib, pkgutil, sys, tuning.data\n"
        "modules = [m.name for m in pkgutil.iter_modules(tuning.data.__path__)]\n"
        "for name in modules:\n    importlib.import_module(f'tuning.data.{name}')\n"
        "print(sorted(modules))\n"
        "print(sorted({'pandas', 'sklearn', 'keras', 'tensorflow'} & set(sys.modules)))\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    modules, heavy = result.stdout.splitlines()
    assert "'load'" in modules and "'csv_format'" in modules  # the loop did import them all
    assert heavy == "[]"
