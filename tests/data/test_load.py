"""Tests for tuning.data.load: finding, parsing, validating and caching Fashion-MNIST."""

from __future__ import annotations

import gzip
import hashlib
import logging
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

from tuning.data import load as data
from tuning.data.load import CLASS_NAMES, CSV_FILES, DEBIAN_DIR, IDX_FILES, candidate_dirs, load_fashion_mnist
from tuning.errors import TuneError

N_TRAIN, N_TEST = 30, 10
Arrays = tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]


# --- tiny data sets written by the tests themselves ----------------------------


def tiny_arrays(seed: int = 0) -> Arrays:
    rng = np.random.default_rng(seed)
    x_train = rng.integers(0, 256, (N_TRAIN, 28, 28), dtype=np.uint8)
    x_test = rng.integers(0, 256, (N_TEST, 28, 28), dtype=np.uint8)
    y_train = rng.permutation(np.arange(N_TRAIN) % 10).astype(np.uint8)
    y_test = rng.permutation(np.arange(N_TEST) % 10).astype(np.uint8)
    return x_train, y_train, x_test, y_test


def idx_bytes(array: np.ndarray, *, magic: int | None = None, count: int | None = None, side: int = 28) -> bytes:
    """An uncompressed IDX file; the keyword arguments forge a bad header."""
    images = array.ndim == 3
    header = [magic or (2051 if images else 2049), len(array) if count is None else count]
    if images:
        header += [side, 28]
    return b"".join(value.to_bytes(4, "big") for value in header) + array.tobytes()


def write_idx(directory: Path, arrays: Arrays | None = None) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    for name, array in zip(IDX_FILES, arrays or tiny_arrays(), strict=True):
        (directory / name).write_bytes(gzip.compress(idx_bytes(array)))
    return directory


def csv_lines(x: np.ndarray, y: np.ndarray) -> list[str]:
    header = ",".join(["label", *(f"pixel{i}" for i in range(1, 785))])
    return [header, *(",".join(map(str, [label, *image.ravel()])) for image, label in zip(x, y, strict=True))]


def write_csv(directory: Path, arrays: Arrays | None = None) -> Path:
    x_train, y_train, x_test, y_test = arrays or tiny_arrays()
    directory.mkdir(parents=True, exist_ok=True)
    (directory / CSV_FILES[0]).write_text("\n".join(csv_lines(x_train, y_train)) + "\n")
    (directory / CSV_FILES[1]).write_text("\n".join(csv_lines(x_test, y_test)) + "\n")
    return directory


def assert_same(dataset: data.Dataset, arrays: Arrays) -> None:
    for got, expected in zip((dataset.x_train, dataset.y_train, dataset.x_test, dataset.y_test), arrays, strict=True):
        assert got.dtype == np.uint8
        np.testing.assert_array_equal(got, expected)


@pytest.fixture(autouse=True)
def _isolated(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("TUNE_DATA_DIR", raising=False)
    monkeypatch.setenv("TUNE_CACHE_DIR", str(tmp_path / "cache"))


@pytest.fixture
def places(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> SimpleNamespace:
    """Empty stand-ins for every default place, and a Keras whose import fails."""
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setattr(data, "DEBIAN_DIR", tmp_path / "debian")
    monkeypatch.setitem(sys.modules, "keras", None)
    return SimpleNamespace(keras_dir=home / ".keras/datasets/fashion-mnist", debian=tmp_path / "debian")


# --- the real data set ---------------------------------------------------------


@pytest.fixture
def real_dir() -> Path:
    if all((DEBIAN_DIR / name).is_file() for name in IDX_FILES):
        return DEBIAN_DIR
    reason = f"Fashion-MNIST is not in {DEBIAN_DIR} (apt-get install dataset-fashion-mnist)"
    if os.environ.get("CI"):
        pytest.fail(reason)
    pytest.skip(reason)


def test_real_dataset_loads_and_second_load_hits_cache(
    real_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = load_fashion_mnist(real_dir, cache_dir=tmp_path)
    assert first.x_train.shape == (60000, 28, 28) and first.x_test.shape == (10000, 28, 28)
    assert first.y_train.shape == (60000,) and first.y_test.shape == (10000,)
    assert {a.dtype for a in (first.x_train, first.y_train, first.x_test, first.y_test)} == {np.dtype(np.uint8)}
    assert set(np.unique(first.y_train)) == set(range(10)) == set(np.unique(first.y_test))
    assert np.bincount(first.y_train, minlength=10).tolist() == [6000] * 10
    assert first.source == str(real_dir) and len(first.fingerprint) == 16
    assert len(CLASS_NAMES) == 10

    monkeypatch.setattr(data, "_parse_files", _must_not_parse)
    second = load_fashion_mnist(real_dir, cache_dir=tmp_path)
    assert_same(second, (first.x_train, first.y_train, first.x_test, first.y_test))
    assert second.fingerprint == first.fingerprint


def _must_not_parse(files: list[Path]) -> Arrays:
    raise AssertionError(f"parsed {files} although the cache should have been used")


# --- formats -------------------------------------------------------------------


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


# Each case: the file to replace, its raw (already compressed or not) content, the expected problem.
IDX_CORRUPTIONS: dict[str, tuple[str, Callable[[Arrays], bytes], str]] = {
    "truncated gzip": (IDX_FILES[0], lambda a: gzip.compress(idx_bytes(a[0]))[:200], "truncated gzip stream"),
    "not gzip": (IDX_FILES[2], lambda a: b"plain text, not gzip", "not a valid gzip file"),
    "wrong magic": (IDX_FILES[0], lambda a: gzip.compress(idx_bytes(a[0], magic=2049)), "wrong magic number 2049"),
    "labels magic in images": (IDX_FILES[1], lambda a: gzip.compress(idx_bytes(a[1], magic=2051)), "expected 2049"),
    "short payload": (
        IDX_FILES[0],
        lambda a: gzip.compress(idx_bytes(a[0], count=N_TRAIN + 5)),
        f"truncated (expected {(N_TRAIN + 5) * 784} bytes of pixels, got {N_TRAIN * 784})",
    ),
    "short labels": (
        IDX_FILES[3],
        lambda a: gzip.compress(idx_bytes(a[3], count=N_TEST + 1)),
        f"truncated (expected {N_TEST + 1} bytes of labels, got {N_TEST})",
    ),
    "trailing bytes": (IDX_FILES[0], lambda a: gzip.compress(idx_bytes(a[0], count=N_TRAIN - 1)), "784 unexpected"),
    "wrong image size": (IDX_FILES[2], lambda a: gzip.compress(idx_bytes(a[2], side=32)), "images are 32x28"),
    "zero items": (IDX_FILES[1], lambda a: gzip.compress(idx_bytes(a[1][:0])), "holds 0 items"),
    "truncated header": (IDX_FILES[1], lambda a: gzip.compress(b"\x00\x00\x08"), "truncated header"),
    "label 10": (IDX_FILES[1], lambda a: gzip.compress(idx_bytes(np.full(N_TRAIN, 10, np.uint8))), "label 10"),
}


@pytest.mark.parametrize("case", IDX_CORRUPTIONS, ids=str)
def test_corrupt_idx_file_names_file_and_problem(tmp_path: Path, case: str) -> None:
    name, content, problem = IDX_CORRUPTIONS[case]
    arrays = tiny_arrays()
    directory = write_idx(tmp_path / "idx", arrays)
    (directory / name).write_bytes(content(arrays))
    with pytest.raises(TuneError, match="corrupt data file") as caught:
        load_fashion_mnist(directory)
    assert str(directory / name) in str(caught.value)
    assert problem in str(caught.value)


def test_image_and_label_counts_must_agree(tmp_path: Path) -> None:
    x_train, y_train, x_test, y_test = tiny_arrays()
    directory = write_idx(tmp_path / "idx", (x_train, y_train[:-1], x_test, y_test))
    with pytest.raises(TuneError) as caught:
        load_fashion_mnist(directory)
    message = str(caught.value)
    assert f"{directory / IDX_FILES[0]} holds {N_TRAIN} images" in message
    assert f"{directory / IDX_FILES[1]} holds {N_TRAIN - 1} labels" in message


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


def _set_field(lines: list[str], line: int, column: int, value: str) -> list[str]:
    fields = lines[line - 1].split(",")
    fields[column] = value
    return [*lines[: line - 1], ",".join(fields), *lines[line:]]


# Each case edits the lines of a valid training CSV (line 1 is the header) and names the expected problem.
CSV_CORRUPTIONS: dict[str, tuple[Callable[[list[str]], list[str]], str]] = {
    "one row too long": (lambda lines: _set_field(lines, 3, 5, "1,2"), "Expected 785 fields in line 3, saw 786"),
    "every row too long": (lambda lines: [lines[0], *(f"{ln},0" for ln in lines[1:])], "more fields than the header"),
    "too few columns": (lambda lines: [ln.rsplit(",", 1)[0] for ln in lines], "expected 785 columns"),
    "row too short": (lambda lines: [lines[0], lines[1].rsplit(",", 1)[0], *lines[2:]], "missing value in column"),
    "non-numeric pixel": (
        lambda lines: _set_field(lines, 3, 5, "abc"),
        "non-numeric value 'abc' in column 'pixel5' at line 3",
    ),
    "non-numeric label": (
        lambda lines: _set_field(lines, 2, 0, "shirt"),
        "non-numeric value 'shirt' in column 'label'",
    ),
    "label 10": (lambda lines: _set_field(lines, 4, 0, "10"), "value 10 in column 'label' at line 4 is outside 0-9"),
    "pixel 256": (
        lambda lines: _set_field(lines, 3, 3, "256"),
        "value 256 in column 'pixel3' at line 3 is outside 0-255",
    ),
    "negative pixel": (lambda lines: _set_field(lines, 2, 784, "-1"), "value -1 in column 'pixel784' at line 2"),
    "fractional pixel": (lambda lines: _set_field(lines, 2, 1, "0.5"), "non-integer value 0.5 in column 'pixel1'"),
    "no label column": (lambda lines: [lines[0].replace("label", "class", 1), *lines[1:]], "no 'label' column"),
    "header only": (lambda lines: lines[:1], "no data rows"),
    "empty file": (lambda lines: [], "empty file"),
}


@pytest.mark.parametrize("case", CSV_CORRUPTIONS, ids=str)
def test_bad_csv_names_file_and_problem(tmp_path: Path, case: str) -> None:
    edit, problem = CSV_CORRUPTIONS[case]
    x_train, y_train, _, _ = tiny_arrays()
    directory = write_csv(tmp_path / "csv")
    (directory / CSV_FILES[0]).write_text("\n".join(edit(csv_lines(x_train, y_train))))
    with pytest.raises(TuneError, match="corrupt data file") as caught:
        load_fashion_mnist(directory)
    assert str(directory / CSV_FILES[0]) in str(caught.value)
    assert problem in str(caught.value)


def test_binary_csv_is_a_tune_error(tmp_path: Path) -> None:
    directory = write_csv(tmp_path / "csv")
    (directory / CSV_FILES[1]).write_bytes(bytes(range(256)) * 50)
    with pytest.raises(TuneError, match=f"corrupt data file {directory / CSV_FILES[1]}"):
        load_fashion_mnist(directory)


# --- where to look -------------------------------------------------------------


def test_candidate_dirs(monkeypatch: pytest.MonkeyPatch, places: SimpleNamespace, tmp_path: Path) -> None:
    assert candidate_dirs() == [places.keras_dir, places.debian]
    assert candidate_dirs(tmp_path / "mine") == [tmp_path / "mine"]
    monkeypatch.setenv("TUNE_DATA_DIR", str(tmp_path / "env"))
    assert candidate_dirs() == [tmp_path / "env"]
    assert candidate_dirs(tmp_path / "mine") == [tmp_path / "mine"]


@pytest.mark.parametrize(
    ("make", "problem"),
    [
        (lambda path: path.mkdir(), "holds no Fashion-MNIST files"),
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
    with pytest.raises(TuneError, match=f"data directory {tmp_path / 'env'} \\(from TUNE_DATA_DIR\\) holds no"):
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
        "--data-dir",
        "TUNE_DATA_DIR",
        *IDX_FILES,
        *CSV_FILES,
    ):
        assert expected in message
    assert "\n" not in message


def test_keras_download_is_the_last_resort(monkeypatch: pytest.MonkeyPatch, places: SimpleNamespace) -> None:
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


# --- the cache -----------------------------------------------------------------


def test_cache_is_written_under_fingerprint_and_reused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    arrays = tiny_arrays()
    directory = write_idx(tmp_path / "idx", arrays)
    first = load_fashion_mnist(directory)  # cache dir from TUNE_CACHE_DIR
    cache = tmp_path / "cache" / first.fingerprint
    assert sorted(path.name for path in cache.iterdir()) == ["x_test.npy", "x_train.npy", "y_test.npy", "y_train.npy"]
    assert [path.name for path in cache.parent.iterdir()] == [first.fingerprint]  # no staging folder left
    monkeypatch.setattr(data, "_parse_files", _must_not_parse)
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
    with caplog.at_level(logging.WARNING, logger="tuning.data.load"):
        assert_same(load_fashion_mnist(directory), arrays)
    assert f"ignoring unreadable data cache {cache}" in caplog.text
    monkeypatch.setattr(data, "_parse_files", _must_not_parse)
    assert_same(load_fashion_mnist(directory), arrays)


def test_unwritable_cache_dir_is_a_warning(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    arrays = tiny_arrays()
    blocked = tmp_path / "blocked"
    blocked.write_text("a file where the cache directory should be")
    with caplog.at_level(logging.WARNING, logger="tuning.data.load"):
        assert_same(load_fashion_mnist(write_idx(tmp_path / "idx", arrays), cache_dir=blocked), arrays)
    assert "cannot write data cache" in caplog.text


def test_import_stays_light() -> None:
    heavy = "{'pandas', 'sklearn', 'keras', 'tensorflow'}"
    code = f"import sys, tuning.data.load, tuning.data.splits; print(sorted({heavy} & set(sys.modules)))"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]"
