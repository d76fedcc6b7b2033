"""The README's command summary lists every command and every option each one takes."""

from __future__ import annotations

import re
from pathlib import Path

import click
import pytest

from tuning.cli.main import cli

README = Path(__file__).resolve().parents[2] / "README.md"


def _summary() -> dict[str, str]:
    """The `## Commands` block's text per command: {"run": "tune run {mlp|cnn} [--trials N] ..."}."""
    block = README.read_text().split("## Commands", 1)[1].split("```sh", 1)[1].split("```", 1)[0]
    entries: dict[str, str] = {}
    name = ""
    for line in block.splitlines():
        start = re.match(r"tune (\w+)", line)
        name = start.group(1) if start else name
        entries[name] = entries.get(name, "") + " " + line
    return entries


@pytest.mark.parametrize("name", sorted(cli.commands))
def test_the_summary_lists_every_option(name: str) -> None:
    listed = _summary().get(name, "")
    assert listed, f"tune {name} is missing from the README's command summary"
    options = [p for p in cli.commands[name].params if isinstance(p, click.Option)]
    for option in options:
        flags = [*option.opts, *option.secondary_opts]
        assert any(re.search(rf"{re.escape(flag)}\b(?!-)", listed) for flag in flags), (name, flags)
