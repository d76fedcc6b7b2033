"""The `tune` command group and its entry point: user errors become one line and exit status 2.

Heavy libraries (TensorFlow, Keras, pandas, plotly, Optuna) are imported inside
the commands that need them, so `tune --help` stays fast.
"""

from __future__ import annotations

import logging
import signal
import sys
from collections.abc import Sequence
from typing import Any, NoReturn

import click

from tuning.cli.browse import plots, studies, trials
from tuning.cli.commandline import option_flags
from tuning.cli.compare import compare
from tuning.cli.dashboard import dashboard
from tuning.cli.manage import delete, enqueue
from tuning.cli.report import report
from tuning.cli.results import evaluate_command, export, retrain_command
from tuning.cli.run import run
from tuning.errors import Interrupted, SettingError, TuneError
from tuning.model.tfenv import show_tensorflow_logs
from tuning.signals import discard_lost_output, raise_on_signals

__all__ = ["cli", "main"]


class _TuneGroup(click.Group):
    """A click group whose `main` reports errors the tune way, in-process (CliRunner) as from the shell."""

    def main(  # type: ignore[override]
        self, args: Sequence[str] | None = None, prog_name: str | None = None, **extra: Any
    ) -> NoReturn:
        extra.pop("standalone_mode", None)
        try:
            status = super().main(args=args, prog_name=prog_name or "tune", standalone_mode=False, **extra)
        except Exception as exc:
            _exit_for(exc)
        sys.exit(status if isinstance(status, int) else 0)  # ctx.exit(n) returns n here

    def invoke(self, ctx: click.Context) -> Any:
        """Run the command; a bad setting is named by its option as typed (--trials, not trials)."""
        try:
            return super().invoke(ctx)
        except SettingError as exc:
            command = self.commands.get(ctx.invoked_subcommand or "")
            flag = option_flags(command).get(exc.setting) if command else None
            if flag is None:
                raise
            raise exc.as_option(flag) from None
        except Interrupted as exc:
            if exc.signum != signal.SIGPIPE:
                raise  # click turns it into Abort
            raise _output_closed() from None
        except OSError:
            if not discard_lost_output():
                raise
            raise _output_closed() from None


def _output_closed() -> click.exceptions.Exit:
    """Stdout's reader went away (`tune trials | head -1`): exit quietly with 141, as one killed by SIGPIPE."""
    return click.exceptions.Exit(128 + signal.SIGPIPE)


def _exit_for(exc: Exception) -> NoReturn:
    """Print the one line for a user error, or re-raise a bug with its traceback."""
    from tuning.search.storage import database_reason

    if isinstance(exc, click.exceptions.NoArgsIsHelpError):
        click.echo(exc.ctx.get_help() if exc.ctx else str(exc))
        sys.exit(2)
    if isinstance(exc, click.UsageError):
        hint = f" (see `{exc.ctx.command_path} --help`)" if exc.ctx else ""
        _fail(f"{exc.format_message()}{hint}")
    if isinstance(exc, TuneError):
        _fail(str(exc))
    if isinstance(exc, click.exceptions.Abort):  # how click passes on Ctrl-C, or SIGTERM/SIGHUP as Interrupted
        cause = exc.__cause__
        signum = cause.signum if isinstance(cause, Interrupted) else signal.SIGINT
        discard_lost_output()  # a hung-up terminal (SIGHUP): the line below goes nowhere, without failing
        click.echo("tune: interrupted", err=True)
        sys.exit(128 + signum)
    if isinstance(exc, click.exceptions.Exit):
        sys.exit(exc.exit_code)
    if isinstance(exc, click.ClickException):
        _fail(exc.format_message(), exc.exit_code)
    reason = database_reason(exc)  # the database refused mid-command: read-only, locked, gone
    if reason is None:
        raise exc  # a bug: keep the traceback
    _fail(f"storage error: {reason}")


def _fail(message: str, status: int = 2) -> NoReturn:
    click.echo(f"tune: error: {message}", err=True)
    sys.exit(status)


@click.group(
    name="tune", cls=_TuneGroup, context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100}
)
@click.version_option(package_name="tune")
@click.option("-v", "--verbose", count=True, help="More log output (-vv for debug, with TensorFlow's own lines).")
@click.pass_context
def cli(ctx: click.Context, verbose: int) -> None:
    """Pruned Optuna hyperparameter searches over Keras classifiers on Fashion-MNIST."""
    level = (logging.WARNING, logging.INFO, logging.DEBUG)[min(verbose, 2)]
    logging.basicConfig(level=level, format="%(levelname)s %(name)s: %(message)s")
    show_tensorflow_logs(verbose >= 2)  # tune's lines only, whatever TF_CPP_MIN_LOG_LEVEL says; TF's with -vv
    ctx.obj = {"verbose": verbose}


for _command in (
    run,
    studies,
    trials,
    enqueue,
    delete,
    export,
    plots,
    retrain_command,
    evaluate_command,
    dashboard,
    report,
    compare,
):
    cli.add_command(_command)


def main(argv: list[str] | None = None) -> NoReturn:
    """Entry point of the `tune` script.

    SIGINT, SIGTERM, SIGHUP and a closed stdout record the running trial, then exit 128 + signal.
    """
    raise_on_signals()
    cli.main(args=argv)
