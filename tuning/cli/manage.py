"""`tune enqueue` and `tune delete`: change what a storage holds, other than by running trials."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from tuning import attrs
from tuning.cli.options import console, storage_option
from tuning.errors import TuneError
from tuning.jsonobject import parse_json_object
from tuning.text import format_params

if TYPE_CHECKING:
    import optuna

__all__ = ["delete", "enqueue"]


@click.command()
@click.argument("study")
@click.option(
    "--params", "params_json", default=None, help="""The configuration as a JSON object: '{"n_layers": 2}'."""
)
@click.option("--params-file", default=None, help="A file holding that JSON object.")
@storage_option
def enqueue(study: str, params_json: str | None, params_file: str | None, storage: str) -> None:
    """Queue a configuration on STUDY; the next `tune run` of it runs that trial first.

    Each parameter is checked against the study's search space (name, type, range,
    choices; a conditional one needs the parameter it depends on); those left out are
    sampled as usual. A queued trial counts towards `tune run --trials N`, and queued
    trials always run, even where that takes the study past N.
    """
    from tuning.search.queue import enqueue as enqueue_params
    from tuning.search.storage import mask_url, open_storage
    from tuning.search.study import load_study

    params = _read_params(params_json, params_file)
    loaded = load_study(open_storage(storage, must_exist=True), study)
    queued = enqueue_params(loaded, params)
    out = console()
    given = format_params(queued) or "nothing fixed"
    out.print(f"queued on study {study!r} in {mask_url(storage)}: {given}; any parameter not given is sampled")
    out.print(f"run the queued trials (raise --trials for more): {_run_command(loaded, storage)}")


def _run_command(study: optuna.Study, storage: str) -> str:
    """The `tune run` that runs the study's queued trials and no others, with its stored split settings."""
    from tuning.cli.commandline import command_line
    from tuning.cli.run import run
    from tuning.data.locate import data_hint
    from tuning.search.worker import slots_used

    stored = study.user_attrs
    arch = str(stored.get(attrs.ARCH, "ARCH"))
    return command_line(
        run,
        arch,
        study_name=study.study_name if study.study_name != arch else None,
        storage=storage,
        trials=slots_used(study.get_trials(deepcopy=False)),
        epochs=stored.get(attrs.EPOCHS),
        max_train_samples=stored.get(attrs.MAX_TRAIN_SAMPLES),
        validation_size=stored.get(attrs.VALIDATION_SIZE),
        space_path=None if _shipped_space(stored) else "SPACE.toml",  # the study's own file: not stored
        data=data_hint(_data_source(study)),
    )


def _data_source(study: optuna.Study) -> str | None:
    """The folder the study's latest trial read its data from."""
    sources = [t.user_attrs.get(attrs.DATA_SOURCE) for t in study.get_trials(deepcopy=False)]
    return next((str(source) for source in reversed(sources) if source), None)


def _shipped_space(stored: dict[str, Any]) -> bool:
    from tuning.search.space import default_space_path, load_space

    arch = stored.get(attrs.ARCH)
    return arch is None or load_space(default_space_path(arch)).hash == stored.get(attrs.SPACE_HASH)


def _read_params(params_json: str | None, params_file: str | None) -> dict[str, Any]:
    """The JSON object of --params or --params-file (exactly one of them)."""
    if (params_json is None) == (params_file is None):
        raise click.UsageError("give the configuration with --params JSON or --params-file FILE (one of them)")
    if params_file is not None:
        where = f"--params-file {params_file}"
        try:
            text = Path(params_file).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise TuneError(f"cannot read {where}: {exc.strerror if isinstance(exc, OSError) else exc}") from None
    else:
        where, text = "--params", str(params_json)
    return parse_json_object(text, where, 'like {"name": value}')


@click.command()
@click.argument("study")
@storage_option
@click.option("--yes", "-y", is_flag=True, help="Delete without asking (needed when stdin is not a terminal).")
def delete(study: str, storage: str, yes: bool) -> None:
    """Delete STUDY and all its trials from the storage (and what an engine keeps of it beside it), after asking."""
    import shutil

    import optuna
    from optuna.trial import TrialState

    from tuning.search.engines import engine_state_dirs
    from tuning.search.storage import mask_url, open_storage
    from tuning.search.study import load_study

    opened = open_storage(storage, must_exist=True)
    trials = load_study(opened, study).get_trials(deepcopy=False)
    running = sum(t.state == TrialState.RUNNING for t in trials)  # a `tune run` may be using it
    what = f"study {study!r} and its {len(trials)} trial(s)" + (f" ({running} running)" if running else "")
    what += f" from {mask_url(storage)}"
    states = engine_state_dirs(storage, study)
    for name, state in states.items():
        what += f", and its {name} state {state}"
    if not yes:
        if sys.stdin is None or not sys.stdin.isatty():
            raise TuneError(f"not deleting {what} without confirmation: stdin is not a terminal; pass --yes")
        if not click.confirm(f"delete {what}?", default=False):
            console().print("nothing deleted.")
            return
    optuna.delete_study(study_name=study, storage=opened)
    for state in states.values():
        shutil.rmtree(state)
    console().print(f"deleted {what}")
