"""Tests for tuning.data.csv_format: every bad value in a Kaggle CSV is named with its file, column and line."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from tiny_fashion import csv_lines, isolate, tiny_arrays, write_csv

from tuning.data.load import load_fashion_mnist
from tuning.data.locate import CSV_FILES
from tuning.errors import TuneError


@pytest.fixture(autouse=True)
def _isolated(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    isolate(monkeypatch, tmp_path)


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
