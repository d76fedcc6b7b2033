"""Tables on stdout: boxed in a terminal, plain aligned columns when piped (logs, grep, awk).

Every command that prints a table prints it here, so they all switch the same way.
Scripts that want the data rather than the text use the commands' `--json`.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

import click

if TYPE_CHECKING:
    from rich.console import Console

__all__ = ["print_json", "print_table", "trial_count"]


def print_table(console: Console, headings: Sequence[str], rows: Iterable[Sequence[str]]) -> None:
    """A rich table where `console` is a terminal, its last column folded to fit the width (the others kept
    whole); otherwise one line per row, columns padded, never wrapped."""
    rows = [list(row) for row in rows]
    if console.is_terminal:
        from rich.table import Table
        from rich.text import Text

        table = Table()
        for index, heading in enumerate(headings):  # short columns whole; the last (parameters) folds to fit
            last = index == len(headings) - 1
            table.add_column(
                heading, no_wrap=not last, overflow="fold" if last else "ellipsis", ratio=1 if last else None
            )
        for row in rows:
            table.add_row(*(Text(cell) for cell in row))  # Text: a cell's "[...]" is not markup
        console.print(table)
        return
    widths = [max(map(len, column)) for column in zip(headings, *rows, strict=True)]
    for row in [list(headings), *rows]:
        line = "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
        console.print(line, markup=False, emoji=False, highlight=False, soft_wrap=True)


def print_json(data: Any) -> None:
    """`data` as indented JSON on stdout, and nothing else there: for scripts (`tune studies --json | jq`)."""
    click.echo(json.dumps(data, indent=2, allow_nan=False))


def trial_count(states: Sequence[str]) -> str:
    """`50 trials: 7 complete, 43 pruned`, from each trial's state in tune's words (report/summary.py STATE_WORDS)."""
    from tuning.report.summary import STATE_WORDS

    counts = ", ".join(f"{states.count(word)} {word}" for word in STATE_WORDS.values() if word in states)
    return f"{len(states)} trial{'' if len(states) == 1 else 's'}: {counts}"
