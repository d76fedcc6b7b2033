"""README's and the docs' commands agree with the commands themselves: every `tune` line in README parses as
printed, and the command summary page lists every option."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import click
import pytest

from tuning.cli.main import cli

ROOT = Path(__file__).resolve().parents[2]


def _shell_lines(text: str) -> list[str]:
    """The commands of a page's ```sh blocks, comments cut, `bash setup.sh && .venv/bin/` prefixes dropped."""
    lines = []
    for block in re.findall(r"```sh\n(.*?)```", text, re.S):
        for line in block.splitlines():
            command = re.split(r"\s#", line)[0].strip()
            for part in command.split("&&"):
                part = part.strip().removeprefix(".venv/bin/")
                if part.startswith("tune "):
                    lines.append(part)
    return lines


README_COMMANDS = _shell_lines((ROOT / "README.md").read_text(encoding="utf-8"))


def test_readme_shows_commands() -> None:
    assert len(README_COMMANDS) >= 10


@pytest.mark.parametrize("line", README_COMMANDS)
def test_every_readme_command_parses_as_printed(line: str) -> None:
    """Options exist, values have their types, arguments are in place: click parses it as `tune` would."""
    name, *args = shlex.split(line)[1:]
    assert name in cli.commands, line
    cli.commands[name].make_context(name, args, parent=click.Context(cli, info_name="tune"))


def _summary() -> dict[str, str]:
    """docs/commands.md's block per command: {"run": "tune run [MODEL] [--trials N] ..."}."""
    page = (ROOT / "docs" / "commands.md").read_text(encoding="utf-8")
    block = page.split("```sh", 1)[1].split("```", 1)[0]
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
    assert listed, f"tune {name} is missing from docs/commands.md"
    options = [p for p in cli.commands[name].params if isinstance(p, click.Option)]
    for option in options:
        flags = [*option.opts, *option.secondary_opts]
        assert any(re.search(rf"{re.escape(flag)}\b(?!-)", listed) for flag in flags), (name, flags)
