"""`tune compare`: several searches side by side, on one page and in one table."""

from __future__ import annotations

from pathlib import Path

import click

from tuning.cli.options import console, storage_option
from tuning.cli.tables import print_table
from tuning.errors import TuneError

__all__ = ["compare"]

_TARGETS = "on Fashion-MNIST the hand-tuned MLP's and ConvNet's 88.11 and 91.85; none on other data"


@click.command()
@click.argument("studies", nargs=-1, required=True, metavar="STUDY [STUDY ...]")
@storage_option
@click.option("--output", "-o", default="compare.html", show_default=True, help="HTML page to write.")
@click.option(
    "--target",
    "targets",
    type=float,
    multiple=True,
    metavar="PERCENT",
    help=f"Validation accuracy (in %) whose time and epochs to reach are tabled; repeatable. [default: {_TARGETS}]",
)
@click.option("--png/--no-png", default=None, help="A PNG of the curves too. [default: when a Chromium is installed]")
def compare(studies: tuple[str, ...], storage: str, output: str, targets: tuple[float, ...], png: bool | None) -> None:
    """Compare STUDY searches (either engine): best validation accuracy against wall-clock and epochs."""
    from tuning.report.compare import compare_rows, default_targets, different_setups, study_curve, write_compare
    from tuning.search.storage import open_storage
    from tuning.search.study import load_study

    for target in targets:
        if not 0 < target <= 100:
            raise TuneError(f"--target is a percentage in (0, 100], but got {target:g}")
    if len(set(studies)) != len(studies):
        raise TuneError(f"a STUDY is named twice: {' '.join(studies)}")
    opened = open_storage(storage, must_exist=True)
    curves = [study_curve(load_study(opened, name)) for name in studies]
    chosen = tuple(t / 100 for t in targets) or default_targets(curves)
    written = write_compare(curves, Path(output), chosen, png=png)
    out = console()
    print_table(out, *compare_rows(curves, chosen))
    differ = different_setups(curves)
    if differ:
        out.print(f"note: the studies differ in {', '.join(differ)}: not like for like.")
    out.print(f"wrote {', '.join(map(str, written))}", markup=False)
