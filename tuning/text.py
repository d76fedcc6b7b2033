"""How `tune` writes quantities and settings in messages, tables and pages."""

from __future__ import annotations

from typing import Any

__all__ = ["format_duration", "format_params"]


def format_duration(seconds: float) -> str:
    """'45 s', '12 min', '1 h 05 min'; '?' when unknown."""
    if seconds != seconds:  # NaN: nothing finished yet
        return "?"
    minutes = round(seconds / 60)
    if seconds < 60:
        return f"{seconds:.0f} s"
    if minutes < 60:
        return f"{minutes} min"
    return f"{minutes // 60} h {minutes % 60:02d} min"


def format_params(params: dict[str, Any]) -> str:
    """`name=value, ...` for a table cell or a message, floats to 4 significant digits."""
    return ", ".join(
        f"{name}={value:.4g}" if isinstance(value, float) else f"{name}={value}" for name, value in params.items()
    )
