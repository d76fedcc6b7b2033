"""`tune dashboard`: optuna-dashboard on a storage, with the artifacts and notes tune's trials stored."""

from __future__ import annotations

import click

from tuning.cli.options import console, storage_option
from tuning.report.dashboard import LOOPBACK  # the standard library's wsgiref only: --help stays light

__all__ = ["dashboard"]


@click.command()
@storage_option
@click.option(
    "--host",
    default=LOOPBACK,
    show_default=True,
    help="Address to listen on; 0.0.0.0 lets other machines in (the dashboard has no login).",
)
@click.option("--port", type=click.IntRange(0, 65535), default=8080, show_default=True, help="0: any free port.")
@click.option(
    "--artifact-dir",
    default=None,
    help="Folder of the trials' artifacts. [default: beside a SQLite file, studies.db -> studies.artifacts/; "
    "required for other storages]",
)
def dashboard(storage: str, host: str, port: int, artifact_dir: str | None) -> None:
    """Serve optuna-dashboard on a storage: studies, trials, their notes and artifacts, until Ctrl-C."""
    from tuning.report.dashboard import open_dashboard
    from tuning.search.storage import mask_url

    board = open_dashboard(storage, host=host, port=port, artifact_dir=artifact_dir)
    out = console()
    out.print(f"optuna-dashboard on {mask_url(storage)} (artifacts: {board.artifact_dir})", markup=False)
    if not board.loopback:
        out.print(f"listening on {host}: reachable from other machines, without a login", markup=False)
    out.print(f"open {board.url}  (Ctrl-C stops it)", markup=False)
    try:
        board.server.serve_forever(poll_interval=0.2)
    except KeyboardInterrupt:  # Ctrl-C (or SIGTERM, see tuning.signals): the normal way to stop
        out.print("dashboard stopped")
    finally:
        board.server.server_close()
