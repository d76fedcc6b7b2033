"""Options shared by several commands, and the defaults they show, read from the settings dataclasses."""

from __future__ import annotations

import dataclasses
import sys
from typing import TYPE_CHECKING, Any

import click

from tuning.search.config import DEFAULT_STORAGE

if TYPE_CHECKING:
    from rich.console import Console

__all__ = ["console", "data_dir_option", "default_of", "setting_option", "storage_option"]


def default_of(settings: type, name: str) -> Any:
    """The default of field `name` of a settings dataclass (RunConfig, RetrainConfig): stated there, once."""
    (found,) = [f for f in dataclasses.fields(settings) if f.name == name]
    return found.default


def setting_option(settings: type, flag: str, help: str, *aliases: str, **extra: Any) -> Any:
    """A click option for the settings field named like `flag` (--max-train-samples: max_train_samples).

    Its default is the field's; shown in --help unless it is None or a flag.
    """
    default = default_of(settings, flag.lstrip("-").replace("-", "_"))
    shown = default is not None and not extra.get("is_flag")
    return click.option(flag, *aliases, default=default, show_default=shown, help=help, **extra)


storage_option = click.option(
    "--storage",
    default=DEFAULT_STORAGE,
    show_default=False,
    help=f"Optuna storage URL (any SQLAlchemy URL, e.g. postgresql://user:pw@host/db). [default: {DEFAULT_STORAGE}]",
)
data_dir_option = click.option(
    "--data-dir",
    default=None,
    envvar="TUNE_DATA_DIR",
    help="Folder with the Fashion-MNIST IDX .gz files or Kaggle CSVs. [env: TUNE_DATA_DIR]",
)


def console() -> Console:
    """The terminal, or a wide virtual one when output is piped (logs, CI), so tables are not wrapped at 80."""
    from rich.console import Console

    return Console(highlight=False, soft_wrap=True, width=None if sys.stdout.isatty() else 160)
