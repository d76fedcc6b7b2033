"""Options shared by several commands, and the defaults they show, read from the settings dataclasses."""

from __future__ import annotations

import dataclasses
import sys
from typing import TYPE_CHECKING, Any

import click

from tuning.search.config import DEFAULT_STORAGE

if TYPE_CHECKING:
    from rich.console import Console

__all__ = [
    "Choice",
    "CountOrFraction",
    "ImageShape",
    "console",
    "data_option",
    "default_of",
    "searched_data_option",
    "setting_option",
    "storage_option",
]


class Choice(click.Choice):
    """click's Choice, whose error suggests the nearest choice ("...; did you mean 'cnn'?")."""

    def get_invalid_choice_message(self, value: Any, ctx: click.Context | None) -> str:
        import difflib

        message = super().get_invalid_choice_message(value, ctx)
        near = difflib.get_close_matches(str(value), [str(choice) for choice in self.choices], n=1)
        return f"{message.rstrip('.')}; did you mean {near[0]!r}?" if near else message


class CountOrFraction(click.ParamType):
    """A whole number (a count) or a decimal below 1 (a share): 5000 or 0.2."""

    name = "count_or_fraction"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> int | float:
        if isinstance(value, int | float):
            return value
        for kind in (int, float):
            try:
                return kind(value)
            except ValueError:
                pass
        self.fail(f"{value!r} is neither a whole number nor a fraction such as 0.2", param, ctx)


class ImageShape(click.ParamType):
    """One image's shape: HxW for grey images, HxWxC for C channels: 8x8, 32x32x3."""

    name = "image_shape"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> tuple[int, ...]:
        if isinstance(value, tuple):
            return value
        parts = str(value).lower().split("x")
        if len(parts) in (2, 3) and all(part.isdigit() and int(part) >= 1 for part in parts):
            return tuple(int(part) for part in parts)
        self.fail(f"{value!r} is not an image shape such as 28x28 or 32x32x3", param, ctx)


def default_of(settings: type, name: str) -> Any:
    """The default of field `name` of a settings dataclass (RunConfig, RetrainConfig): stated there, once."""
    (found,) = [f for f in dataclasses.fields(settings) if f.name == name]
    return found.default


def setting_option(settings: type, flag: str, help: str, *aliases: str, **extra: Any) -> Any:
    """A click option for the settings field named like `flag` (--max-train-samples: max_train_samples).

    Its default is the field's; shown in --help unless it is None or a flag.
    """
    default = default_of(settings, flag.split("/")[0].lstrip("-").replace("-", "_"))  # "--x/--no-x": x
    shown = default is not None and not extra.get("is_flag") and "/" not in flag
    return click.option(flag, *aliases, default=default, show_default=shown, help=help, **extra)


storage_option = click.option(
    "--storage",
    default=DEFAULT_STORAGE,
    show_default=False,
    help="Optuna storage: a database URL (any SQLAlchemy URL, e.g. postgresql://user:pw@host/db) or a SQLite "
    f"file's path (runs/x.db, relative to this folder). [default: {DEFAULT_STORAGE}]",
)
data_option = click.option(
    "--data",
    "--data-dir",
    "data",
    default=None,
    envvar="TUNE_DATA_DIR",
    help="The images: a .npz (x_train, y_train, x_test, y_test[, class_names]), a folder with train/ and test/ "
    "holding one folder per class, or a folder with the Fashion-MNIST IDX .gz files or Kaggle CSVs. "
    "[default: Fashion-MNIST from the usual places] [env: TUNE_DATA_DIR]",
)
searched_data_option = click.option(
    "--data",
    "--data-dir",
    "data",
    default=None,
    help="The images, as `tune run --data` takes them, where they are no longer where the search read them. "
    "[default: the data the study searched, as recorded]",
)


def console(keep_going: bool = False) -> Console:
    """The terminal, or a wide virtual one when output is piped (logs, CI), so tables are not wrapped at 80.

    A reader that goes away stops the command as Ctrl-C does (`tuning.cli.output`), or
    with `keep_going` lets it finish with its output discarded.
    """
    from rich.console import Console

    from tuning.cli.output import Stdout

    width = None if sys.stdout.isatty() else 160
    return Console(file=Stdout(keep_going), highlight=False, soft_wrap=True, width=width)  # type: ignore[arg-type]  # a TextIO
