"""Tests for tuning.data.locate: which directories are searched, in what order, and what a miss says."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from types import SimpleNamespace

import pytest
from tiny_fashion import assert_same, empty_places, isolate, tiny_arrays, write_csv, write_idx

from tuning.data.load import load_fashion_mnist
from tuning.data.locate import CSV_FILES, IDX_FILES, candidate_dirs
from tuning.errors import TuneError


@pytest.fixture(autouse=True)
def _isolated(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    isolate(monkeypatch, tmp_path)


@pytest.fixture
def places(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> SimpleNamespace:
    return empty_places(monkeypatch, tmp_path)


def test_candidate_dirs(monkeypatch: pytest.MonkeyPatch, places: SimpleNamespace, tmp_path: Path) -> None:
    assert candidate_dirs() == [places.keras_dir, places.debian]
    assert candidate_dirs(tmp_path / "mine") == [tmp_path / "mine"]
    monkeypatch.setenv("TUNE_DATA_DIR", str(tmp_path / "env"))
    assert candidate_dirs() == [tmp_path / "env"]
    assert candidate_dirs(tmp_path / "mine") == [tmp_path / "mine"]


@pytest.mark.parametrize("keep", [IDX_FILES[:3], IDX_FILES[:1], (IDX_FILES[1], IDX_FILES[3])], ids=len)
def test_incomplete_idx_set_lists_missing_files(tmp_path: Path, places: SimpleNamespace, keep: tuple[str, ...]) -> None:
    # Even in a default place, and with a complete copy further down the list: never skip silently.
    write_idx(places.debian)
    directory = write_idx(places.keras_dir)
    for name in set(IDX_FILES) - set(keep):
        (directory / name).unlink()
    with pytest.raises(TuneError, match="incomplete Fashion-MNIST IDX files") as caught:
        load_fashion_mnist()
    message = str(caught.value)
    assert str(directory) in message
    assert all((name in message) != (name in keep) for name in IDX_FILES)


def test_incomplete_csv_set_lists_missing_file(tmp_path: Path) -> None:
    directory = write_csv(tmp_path / "csv")
    (directory / CSV_FILES[1]).unlink()
    with pytest.raises(TuneError, match=f"incomplete Fashion-MNIST Kaggle CSV files in .*missing {CSV_FILES[1]}"):
        load_fashion_mnist(directory)


@pytest.mark.parametrize(
    ("make", "problem"),
    [
        (lambda path: path.mkdir(), "holds neither train/ and test/ class folders nor Fashion-MNIST"),
        (lambda path: None, "does not exist"),
        (lambda path: path.write_text("x"), "is not a directory"),
    ],
    ids=["empty", "missing", "a file"],
)
def test_explicit_dir_without_data_names_it(
    tmp_path: Path, places: SimpleNamespace, make: Callable[[Path], None], problem: str
) -> None:
    write_idx(places.debian)  # a fallback exists, but an explicit directory must not fall back
    explicit = tmp_path / "explicit"
    make(explicit)
    with pytest.raises(TuneError, match=problem) as caught:
        load_fashion_mnist(explicit)
    assert f"data directory {explicit} " in str(caught.value)
    assert "apt-get install dataset-fashion-mnist" in str(caught.value)


def test_tune_data_dir_env_is_explicit(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, places: SimpleNamespace
) -> None:
    write_idx(places.debian)
    (tmp_path / "env").mkdir()
    monkeypatch.setenv("TUNE_DATA_DIR", str(tmp_path / "env"))
    with pytest.raises(TuneError, match=f"data directory {tmp_path / 'env'} \\(from TUNE_DATA_DIR\\) holds neither"):
        load_fashion_mnist()
    arrays = tiny_arrays(3)
    assert_same(load_fashion_mnist(write_idx(tmp_path / "arg", arrays)), arrays)  # the argument wins


def test_search_order(places: SimpleNamespace) -> None:
    write_idx(places.debian, tiny_arrays(1))
    debian = load_fashion_mnist()
    assert debian.source == str(places.debian)
    assert_same(debian, tiny_arrays(1))
    write_idx(places.keras_dir, tiny_arrays(2))
    keras_dir = load_fashion_mnist()
    assert keras_dir.source == str(places.keras_dir)
    assert_same(keras_dir, tiny_arrays(2))


def test_nothing_found_names_every_place(places: SimpleNamespace) -> None:
    with pytest.raises(TuneError) as caught:
        load_fashion_mnist()
    message = str(caught.value)
    for expected in (
        str(places.keras_dir),
        str(places.debian),
        "Keras' downloader",
        "apt-get install dataset-fashion-mnist",
        "--data DIR",
        "TUNE_DATA_DIR",
        *IDX_FILES,
        *CSV_FILES,
    ):
        assert expected in message
    assert "\n" not in message
