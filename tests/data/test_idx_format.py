"""Tests for tuning.data.idx_format: every way an IDX file can be broken is named, with its file."""

from __future__ import annotations

import gzip
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from tiny_fashion import N_TEST, N_TRAIN, idx_bytes, isolate, tiny_arrays, write_idx

from tuning.data.arrays import Arrays
from tuning.data.load import load_fashion_mnist
from tuning.data.locate import IDX_FILES
from tuning.errors import TuneError


@pytest.fixture(autouse=True)
def _isolated(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    isolate(monkeypatch, tmp_path)


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
