"""Read an export written by `tune export` and check that it describes a model tune can rebuild exactly.

An export is refused, with the file and the problem named, when it is not JSON, lacks or adds
keys, has another format, or when its parameters fall outside its stored space or do not
match its builder parameters: signs of an edited or foreign file.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from tuning.errors import TuneError
from tuning.model.builders import PRECISIONS
from tuning.model.params import ARCHITECTURES
from tuning.results.export import EXPORT_FORMAT, EXPORT_KEYS

__all__ = ["load_export"]


def load_export(path: str | Path) -> dict[str, Any]:
    """Read an export and check it describes a model this version of tune can rebuild exactly."""
    path = Path(path)
    export = _read_json(path)
    where = f"export {path}"
    _check_keys(export, where)
    arch = export["arch"]
    if arch not in ARCHITECTURES:
        raise TuneError(f"{where}: unknown architecture {arch!r}; expected one of {', '.join(ARCHITECTURES)}")
    _check_params(export, where)
    _check_numbers(export, where)
    return export


def _read_json(path: Path) -> dict[str, Any]:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise TuneError(f"export file not found: {path} (write one with `tune export STUDY`)") from None
    except IsADirectoryError:
        raise TuneError(f"export {path} is a directory, not a JSON file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise TuneError(f"cannot read export {path}: {getattr(exc, 'strerror', None) or exc}") from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise TuneError(f"export {path} is not valid JSON: {exc}") from None
    if not isinstance(data, dict):
        raise TuneError(f"export {path} must hold a JSON object as `tune export` writes, but holds a {_kind(data)}")
    return data


def _kind(value: Any) -> str:
    return {list: "list", str: "string", bool: "boolean", type(None): "null"}.get(type(value), "number")


def _check_keys(export: dict[str, Any], where: str) -> None:
    if "format" in export and export["format"] != EXPORT_FORMAT:
        raise TuneError(f"{where} has format {export['format']!r}; this tune reads format {EXPORT_FORMAT}")
    missing = sorted(EXPORT_KEYS - set(export))
    if missing:
        raise TuneError(f"{where} lacks key(s) {missing}; write it again with `tune export`")
    extra = sorted(set(export) - EXPORT_KEYS)
    if extra:
        raise TuneError(f"{where} has unknown key(s) {extra}; was it edited? Write it again with `tune export`")


def _check_params(export: dict[str, Any], where: str) -> None:
    """The sampled params lie in the stored space, and model_params are exactly what they resolve to."""
    from tuning.model.params import resolve_params
    from tuning.search.space import check_params, space_from_dict

    params, model_params = export["params"], export["model_params"]
    for name in ("params", "model_params"):
        if not isinstance(export[name], dict):
            raise TuneError(f"{where}: {name!r} must be an object, but got {export[name]!r:.60}")
    space = space_from_dict(export["space"], f"in {where}")
    if space.arch != export["arch"]:
        raise TuneError(f"{where}: its space is for arch {space.arch!r}, not {export['arch']!r}; was it edited?")
    if space.hash != export["space_hash"]:
        raise TuneError(f"{where}: its space does not match its space_hash {export['space_hash']!r}; was it edited?")
    unknown = sorted(set(params) - {p.name for p in space.params})
    if unknown:
        raise TuneError(f"{where}: parameter(s) {unknown} are not in its search space")
    try:
        check_params(space, params)
    except TuneError as exc:
        raise TuneError(f"{where}: {exc}") from None
    if model_params != resolve_params(export["arch"], params):
        raise TuneError(f"{where}: 'model_params' do not match 'params' with defaults filled in; was it edited?")


def _check_numbers(export: dict[str, Any], where: str) -> None:
    if not isinstance(export["study"], str) or not export["study"]:
        raise TuneError(f"{where}: 'study' must be a non-empty string, but got study={export['study']!r}")
    score = export["best_val_accuracy"]
    if isinstance(score, bool) or not isinstance(score, (int, float)):
        raise TuneError(f"{where}: 'best_val_accuracy' must be a number, but got best_val_accuracy={score!r}")
    if export["precision"] not in PRECISIONS:
        raise TuneError(f"{where}: 'precision' must be one of {list(PRECISIONS)}, but got {export['precision']!r}")
    for name in ("best_trial", "best_epoch", "epochs", "seed"):
        value = export[name]
        if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < 0):
            raise TuneError(f"{where}: {name!r} must be a whole number >= 0 or null, but got {name}={value!r}")
    if not isinstance(export["data"], dict):
        raise TuneError(f"{where}: 'data' must be an object, but got {export['data']!r:.60}")
    for name in ("validation_size", "split_seed"):
        value = export["data"].get(name)
        if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < 0):
            raise TuneError(f"{where}: data.{name} must be a whole number >= 0, but got {value!r}")
