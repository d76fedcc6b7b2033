"""The export: written from a study, read back with every field checked, old files still read."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from tuning.errors import TuneError
from tuning.model.params import resolve_params
from tuning.results.export import Export, check_searched_data
from tuning.results.retrain import default_epochs
from tuning.search.space import default_space_path, load_space, space_from_dict

FORMAT_1 = Path(__file__).with_name("export_format1.json")  # written by tune at commit 95c09e1


@pytest.fixture()
def export() -> dict[str, Any]:
    return json.loads(FORMAT_1.read_text())


def _write(path: Path, export: dict[str, Any]) -> Path:
    path.write_text(json.dumps(export))
    return path


def _with_space(export: dict[str, Any], name: str, spec: dict[str, Any], params: dict[str, Any]) -> dict[str, Any]:
    """A consistent export whose space entry `name` and sampled params are changed (hash and model_params follow)."""
    space = json.loads(json.dumps(export["space"]))
    entry = next(p for p in space["params"] if p["name"] == name)
    entry.update(spec)
    new_params = {**export["params"], **params}
    return {
        **export,
        "space": space,
        "space_hash": space_from_dict(space, "test").hash,
        "params": new_params,
        "model_params": resolve_params(export["arch"], new_params),
    }


def test_stored_space_round_trips() -> None:
    for arch in ("mlp", "cnn"):
        space = load_space(default_space_path(arch))
        rebuilt = space_from_dict(json.loads(json.dumps(space.to_dict(), default=list)), "stored")
        assert rebuilt.params == space.params and rebuilt.hash == space.hash


@pytest.mark.parametrize(
    ("best_epoch", "epochs", "expected"),
    [(7, 10, (7, "the best trial's best epoch (7 of 10)")), (None, 10, (10, "the search's epochs per trial (10)"))],
)
def test_default_epochs(export: dict[str, Any], best_epoch: int | None, epochs: int, expected: tuple) -> None:
    got = default_epochs(replace(Export.from_dict(export, "test"), best_epoch=best_epoch, epochs=epochs))
    assert got[0] == expected[0] and got[1].startswith(expected[1])


@pytest.mark.parametrize(
    ("best_epoch", "extend", "expected"),
    [
        (6, 2.0, (12, "the best trial still improved in its last epoch (6 of 6); x2")),
        (6, 1.5, (9, "the best trial still improved in its last epoch (6 of 6); x1.5")),
        (4, 2.0, (4, "the best trial's best epoch (4 of 6)")),  # it peaked earlier: more would not help
        (6, 1.0, (6, "the best trial's best epoch (6 of 6)")),  # --extend 1: no extension
    ],
)
def test_extend_only_a_curve_still_rising(
    export: dict[str, Any], best_epoch: int, extend: float, expected: tuple
) -> None:
    got = default_epochs(replace(Export.from_dict(export, "test"), best_epoch=best_epoch, epochs=6), extend)
    assert got == expected


def test_no_epochs_recorded_asks_for_epochs(export: dict[str, Any]) -> None:
    with pytest.raises(TuneError, match="pass --epochs"):
        default_epochs(replace(Export.from_dict(export, "test"), best_epoch=None, epochs=None))


def _edits() -> list[tuple[str, Any, str]]:
    """(case, how to spoil the export, expected message)."""
    return [
        ("extra key", lambda e: {**e, "note": "hi"}, r"unknown key\(s\) \['note'\]"),
        ("missing key", lambda e: {k: v for k, v in e.items() if k != "space"}, r"lacks key\(s\) \['space'\]"),
        ("format", lambda e: {**e, "format": 2}, "has format 2; this tune reads format 1"),
        ("arch", lambda e: {**e, "arch": "rnn"}, "unknown model 'rnn'"),
        ("outside", lambda e: {**e, "params": {**e["params"], "units_1": 5000}}, r"units_1=5000 lies outside"),
        (
            "wrong type",
            lambda e: {**e, "params": {**e["params"], "batch_size": "128"}},
            "batch_size='128' lies outside",
        ),
        ("unknown param", lambda e: {**e, "params": {**e["params"], "units_9": 3}}, r"\['units_9'\] are not in"),
        ("model_params", lambda e: {**e, "model_params": {**e["model_params"], "l2": 0.5}}, "'model_params' do not"),
        (
            "space edited",
            lambda e: _with_space(e, "units_1", {"high": 9999}, {}) | {"space_hash": e["space_hash"]},
            "does not match its space_hash",
        ),
        ("space garbled", lambda e: {**e, "space": {"arch": "mlp", "params": [{"type": "int"}]}}, "needs a 'name'"),
        ("seed", lambda e: {**e, "seed": "zero"}, "'seed' must be a whole number"),
        ("precision", lambda e: {**e, "precision": "float8"}, "'precision' must be one of"),
        ("score", lambda e: {**e, "best_val_accuracy": None}, "'best_val_accuracy' must be a number"),
        ("not an object", lambda e: [e], "must hold a JSON object"),
    ]


@pytest.mark.parametrize(("spoil", "message"), [case[1:] for case in _edits()], ids=[case[0] for case in _edits()])
def test_spoilt_exports_are_refused(export: dict[str, Any], tmp_path: Path, spoil: Any, message: str) -> None:
    with pytest.raises(TuneError, match=message):
        Export.read(_write(tmp_path / "e.json", spoil(export)))


def test_unreadable_exports_are_refused(tmp_path: Path) -> None:
    with pytest.raises(TuneError, match="export file not found"):
        Export.read(tmp_path / "nope.json")
    truncated = tmp_path / "cut.json"
    truncated.write_text(FORMAT_1.read_text()[:200])
    with pytest.raises(TuneError, match="is not valid JSON"):
        Export.read(truncated)


def test_an_export_written_before_the_export_type_is_read_unchanged() -> None:
    """exports/*.json written by tune before `Export` existed (format 1, commit 95c09e1) still read, field for field."""
    export = Export.read(FORMAT_1)
    assert export.to_dict() == json.loads(FORMAT_1.read_text())
    assert (export.arch, export.best_trial, export.data.max_train_samples, export.format) == ("mlp", 0, 300, 1)


def test_builder_parameters_added_since_an_export_take_their_defaults(export: dict[str, Any]) -> None:
    """An export written before a builder parameter existed lacks it in model_params: read, with the default."""
    older = {k: v for k, v in export["model_params"].items() if k != "lr_schedule"}
    read = Export.from_dict({**export, "model_params": older}, "older export")
    assert (
        read.model_params == resolve_params("mlp", export["params"]) and read.model_params["lr_schedule"] == "constant"
    )


@pytest.mark.parametrize("same", [True, False], ids=["searched-files", "other-files"])
def test_retrain_and_robust_export_refuse_data_other_than_the_searched_files(same: bool) -> None:
    import numpy as np

    from tuning.data.dataset import Dataset

    searched = Export.read(FORMAT_1)
    images, labels = np.zeros((2, 28, 28), np.uint8), np.zeros(2, np.uint8)
    fingerprint = searched.data.fingerprint if same else "0123456789abcdef"
    data = Dataset(images, labels, images, labels, "csv", ("a", "b"), source="/data/csv", fingerprint=str(fingerprint))
    if same:
        check_searched_data(searched, data)
        return
    with pytest.raises(TuneError, match=r"fingerprint 0123456789abcdef.*pass --data with those files"):
        check_searched_data(searched, data)
