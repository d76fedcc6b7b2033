"""A JSON object given by the user (an export file, `tune enqueue --params`), parsed with its problems named."""

from __future__ import annotations

import json
from typing import Any

from tuning.errors import TuneError

__all__ = ["parse_json_object"]


def parse_json_object(text: str, where: str, expected: str) -> dict[str, Any]:
    """The object `text` holds; TuneError naming `where` when it is not JSON or not an object.

    `expected` words what the object should be, e.g. 'like {"n_layers": 2}'.
    """
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise TuneError(f"{where} is not valid JSON: {exc}") from None
    if not isinstance(data, dict):
        raise TuneError(f"{where} must hold a JSON object {expected}, but holds a {_kind(data)}: {text.strip():.60}")
    return data


def _kind(value: Any) -> str:
    return {list: "list", str: "string", bool: "boolean", type(None): "null"}.get(type(value), "number")
