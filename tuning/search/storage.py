"""Open an Optuna storage from a URL, with errors a user can act on and passwords masked."""

from __future__ import annotations

import logging
import re
import warnings
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tuning.errors import TuneError

if TYPE_CHECKING:
    import optuna
    from sqlalchemy.engine import URL

__all__ = [
    "HEARTBEAT",
    "STALE_BEATS",
    "check_url",
    "database_reason",
    "mask_url",
    "open_storage",
    "sqlite_path",
    "storage_url",
]

logger = logging.getLogger(__name__)

_EXAMPLES = "e.g. sqlite:///studies.db, runs/studies.db or postgresql://user:password@host:5432/db"
# "name:" at the start: a URL missing its "//" (sqlite:studies.db), not a file path.
_SCHEME_ONLY = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*:")


def storage_url(storage: str) -> str:
    """The database URL of a storage as the user gives it: a URL, or a SQLite file's path (anything without `://`).

    A path is relative to the current folder, as `sqlite:///runs/x.db` is.
    """
    if "://" in storage or _SCHEME_ONLY.match(storage) or not storage.strip():
        return storage  # a URL, or a malformed one for check_url to refuse
    return f"sqlite:///{Path(storage).expanduser()}"


def mask_url(url: str) -> str:
    """`url` with any password replaced by ***, safe to print, log or store; a SQLite file path as given."""
    from sqlalchemy.engine import make_url

    if storage_url(url) != url:
        return url  # a file path: no password to hide
    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:  # not even parseable: show only the scheme
        if "://" in url:
            return url.split("://", 1)[0] + "://…"
        scheme = _SCHEME_ONLY.match(url)
        return scheme.group(0) + "…" if scheme else "<unparseable URL>"


def check_url(url: str, *, must_exist: bool = False) -> URL:
    """Parse `url` (or a SQLite file path, see `storage_url`) without connecting; TuneError if it is not usable.

    A SQLite file needs its folder (it is not created), and with `must_exist` the file itself.
    """
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    try:
        parsed = make_url(storage_url(url))
    except (ArgumentError, ValueError):
        raise TuneError(f"malformed storage URL {mask_url(url)!r}; expected a database URL, {_EXAMPLES}") from None
    if parsed.get_backend_name() not in ("sqlite", "postgresql", "mysql", "mariadb", "oracle", "mssql"):
        raise TuneError(f"unsupported storage URL {mask_url(url)!r}; expected a database URL, {_EXAMPLES}")
    path = sqlite_path(parsed)
    if path is not None and must_exist and not path.is_file():
        raise TuneError(
            f"no study database at {path} (storage {mask_url(url)}); run `tune run` first or pass --storage"
        )
    if path is not None and not path.parent.is_dir():
        raise TuneError(f"cannot create storage {mask_url(url)}: folder {path.parent} does not exist")
    return parsed


# Trials beat every HEARTBEAT seconds; one silent for STALE_BEATS beats belongs to a dead worker.
HEARTBEAT = 10
STALE_BEATS = 3
MAX_RETRIES = 2  # how often a dead worker's trial is re-queued with the same parameters


def open_storage(url: str, *, must_exist: bool = False, heartbeat: int = HEARTBEAT) -> optuna.storages.RDBStorage:
    """Connect to the RDB storage at `url` (or a SQLite file path), creating Optuna's tables if needed.

    `must_exist` is for read-only commands: a SQLite file that is not there is
    an error rather than a new empty database. Trials carry a heartbeat; stale
    ones are failed and retried (see tuning.search.worker).
    """
    parsed = check_url(url, must_exist=must_exist)
    sqlite_wait = sqlite_path(parsed) is not None and "timeout" not in parsed.query
    return _connect(storage_url(url), mask_url(url), sqlite_wait, heartbeat)


def sqlite_path(parsed: URL) -> Path | None:
    """The file behind a SQLite URL (plain or `file:` URI form); None for other databases or memory."""
    database = parsed.database or ""
    if parsed.get_backend_name() != "sqlite" or database in ("", ":memory:"):
        return None
    return Path(database.removeprefix("file:"))


def _connect(url: str, masked: str, sqlite_wait: bool, heartbeat: int) -> optuna.storages.RDBStorage:
    import optuna
    from sqlalchemy.exc import SQLAlchemyError

    # SQLite: wait for a writer's lock instead of failing at once with "database is locked".
    # A `?timeout=N` in the URL wins.
    engine_kwargs: dict[str, Any] = {"pool_pre_ping": True}
    if sqlite_wait:
        engine_kwargs = {"connect_args": {"timeout": 60}}
    try:
        with warnings.catch_warnings():  # heartbeat_interval is marked experimental
            warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
            return optuna.storages.RDBStorage(
                url,
                engine_kwargs=engine_kwargs,
                heartbeat_interval=heartbeat,
                grace_period=STALE_BEATS * heartbeat,
                heartbeat_stale_trial_callback=optuna.storages.RetryHeartbeatStaleTrialCallback(max_retry=MAX_RETRIES),
            )
    except ImportError as exc:
        raise TuneError(
            f"storage {masked} needs a database driver that is not installed ({exc.name}); "
            "for PostgreSQL: pip install 'tune[postgres]'"
        ) from None
    except (SQLAlchemyError, RuntimeError, ValueError) as exc:
        raise TuneError(f"cannot open storage {masked}: {_first_line(exc, url)}") from None


def _first_line(exc: BaseException, url: str) -> str:
    """The root cause's first line, never showing the URL's password."""
    from sqlalchemy.engine import make_url

    text = database_reason(exc) or (str(exc).strip().splitlines() or [type(exc).__name__])[0]
    password = make_url(url).password
    return text.replace(str(password), "***") if password else text


def database_reason(exc: BaseException) -> str | None:
    """The database's own one-line reason if `exc` or what caused it is a database error, else None."""
    chain: list[BaseException] = []
    current: BaseException | None = exc
    while current is not None and current not in chain:
        chain.append(current)
        current = current.__cause__ or current.__context__
    database_errors = [e for e in chain if type(e).__module__.split(".")[0] == "sqlalchemy"]
    if not database_errors:
        return None
    cause = getattr(database_errors[-1], "orig", None) or database_errors[-1]
    return (str(cause).strip().splitlines() or [type(cause).__name__])[0]
