"""Commands `tune` suggests (next steps, how to resume), written so they run as printed.

Each is built from the command's own click parameters: arguments in order, then
every option whose value differs from its default, shell-quoted. A storage URL
is shown with its password masked.
"""

from __future__ import annotations

import shlex
from typing import Any

import click

__all__ = ["command_line", "option_flags", "same_command"]


def command_line(command: click.Command, *arguments: Any, **options: Any) -> str:
    """`tune COMMAND ARGUMENTS --option value ...` for options (by parameter name) not at their defaults."""
    name = str(command.name)
    words = ["tune", name, *map(_text, arguments)]
    for param in command.params:
        if isinstance(param, click.Option) and param.name in options:
            words += _option_words(param, options.pop(param.name))
    if options:
        raise TypeError(f"tune {name} has no option(s) {sorted(options)}")
    return shlex.join(words)


def same_command(ctx: click.Context, **changed: Any) -> str:
    """The command of `ctx` as the user typed it (options from the environment left out), with `changed` values."""
    command = ctx.command
    typed = {
        name: value
        for name, value in ctx.params.items()
        if ctx.get_parameter_source(name) == click.core.ParameterSource.COMMANDLINE
    }
    values = {**typed, **changed}
    arguments = [values.pop(p.name) for p in command.params if isinstance(p, click.Argument) and p.name in values]
    return command_line(command, *arguments, **values)


def option_flags(command: click.Command) -> dict[str, str]:
    """Each option's parameter name and its flag as a user types it: {"max_train_samples": "--max-train-samples"}."""
    return {str(p.name): _flag(p) for p in command.params if isinstance(p, click.Option)}


def _option_words(param: click.Option, value: Any) -> list[str]:
    if value is None or value == param.default:
        return []
    if param.is_flag:
        off = param.secondary_opts[:1]  # --no-png
        return [_flag(param)] if value else off
    if param.name == "storage":
        from tuning.search.storage import mask_url

        value = mask_url(str(value))
    return [_flag(param), _text(value)]


def _flag(param: click.Parameter) -> str:
    return max(param.opts, key=len)


def _text(value: Any) -> str:
    """3600.0 as 3600, as a user would type it."""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)
