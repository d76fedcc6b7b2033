"""optuna-dashboard on a tune storage, with the artifacts trials stored (search/artifacts.py).

The server is optuna-dashboard's own WSGI app on the standard library's
threaded server, bound where asked (loopback by default: the dashboard can
edit notes and delete artifacts, and has no login).
"""

from __future__ import annotations

import ipaddress
import logging
import socketserver
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from tuning.errors import TuneError

__all__ = ["LOOPBACK", "Dashboard", "open_dashboard"]

logger = logging.getLogger(__name__)

LOOPBACK = "127.0.0.1"


class _ThreadedServer(socketserver.ThreadingMixIn, WSGIServer):
    daemon_threads = True  # a hanging browser request does not keep the process alive after Ctrl-C


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:  # the standard library's name
        logger.debug("%s " + format, self.address_string(), *args)


@dataclass(frozen=True)
class Dashboard:
    """A bound, not yet serving dashboard: call `server.serve_forever()`."""

    server: WSGIServer
    url: str  # where to open it, with the port really bound (port 0 asks for a free one)
    artifact_dir: Path

    @property
    def loopback(self) -> bool:
        """Whether only this machine can connect."""
        host = str(self.server.server_address[0])
        return ipaddress.ip_address(host).is_loopback


def open_dashboard(
    storage: str, *, host: str = LOOPBACK, port: int = 8080, artifact_dir: str | None = None
) -> Dashboard:
    """Bind optuna-dashboard for `storage` (which must exist) with its artifact folder.

    The folder defaults to the one beside a SQLite file; other storages need `artifact_dir`.
    """
    import optuna_dashboard
    from optuna.artifacts import FileSystemArtifactStore

    from tuning.search.artifacts import artifact_dir_for
    from tuning.search.storage import mask_url, open_storage

    folder = artifact_dir_for(storage, artifact_dir)
    if folder is None:
        raise TuneError(
            f"storage {mask_url(storage)} is not a SQLite file: give its artifact folder with --artifact-dir"
        )
    app = optuna_dashboard.wsgi(open_storage(storage, must_exist=True), artifact_store=FileSystemArtifactStore(folder))
    try:
        server = make_server(host, port, app, server_class=_ThreadedServer, handler_class=_QuietHandler)
    except OSError as exc:
        raise TuneError(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from None
    bound_host, bound_port = str(server.server_address[0]), server.server_address[1]
    shown = f"[{bound_host}]" if ":" in bound_host else bound_host
    return Dashboard(server=server, url=f"http://{shown}:{bound_port}/dashboard/", artifact_dir=folder)
