"""`tune report`: compare studies and their retrained models on one page."""

from __future__ import annotations

from pathlib import Path

import click

from tuning.cli.options import console, storage_option

__all__ = ["report"]

DEFAULT_OUTPUT = Path("dashboards") / "report.html"


@click.command()
@click.argument("study_names", metavar="[STUDY ...]", nargs=-1)
@storage_option
@click.option(
    "--models",
    "model_dirs",
    multiple=True,
    help="A retrain output folder, or a folder of them (repeat for more). [default: models/]",
)
@click.option("--output", "-o", default=str(DEFAULT_OUTPUT), show_default=True, help="HTML file to write.")
def report(study_names: tuple[str, ...], storage: str, model_dirs: tuple[str, ...], output: str) -> None:
    """One page comparing STUDYs (default: all in the storage) and their retrained models with published numbers."""
    import optuna

    from tuning.errors import TuneError
    from tuning.report.collect import compare_study, find_retrained
    from tuning.report.report import write_report
    from tuning.search.storage import open_storage
    from tuning.search.study import load_study

    opened = open_storage(storage, must_exist=True)
    names = list(study_names) or sorted(optuna.get_all_study_names(opened))
    if not names:
        raise TuneError("no studies in this storage; run `tune run` first or pass --storage")
    missing = [folder for folder in model_dirs if not Path(folder).is_dir()]
    if missing:
        raise TuneError(f"--models {missing[0]}: no such folder")
    retrained = find_retrained([Path(folder) for folder in model_dirs or ("models",)])
    rows = [compare_study(load_study(opened, name), retrained.get(name)) for name in names]
    paths = write_report(rows, Path(output))
    with_models = sum(row.retrained is not None for row in rows)
    console().print(
        f"wrote {', '.join(map(str, paths))}: {len(rows)} studies, {with_models} with a retrained model", markup=False
    )
