"""A lock around "count the study's trials, then start one", so workers never overshoot `--trials`.

Workers on one machine share a SQLite file and take a file lock beside it; workers on
many machines share a PostgreSQL study and take a PostgreSQL advisory lock. Other
databases get no lock: two workers may then both take the last slot.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import optuna

__all__ = ["slot_lock"]

logger = logging.getLogger(__name__)


@contextlib.contextmanager
def slot_lock(storage: optuna.storages.RDBStorage, study_name: str) -> Iterator[None]:
    """Hold the study's slot lock for the duration of the block."""
    from tuning.search.storage import sqlite_path

    path = sqlite_path(storage.engine.url)
    if path is not None:
        with _file_lock(path.with_name(path.name + ".lock")):
            yield
    elif storage.engine.url.get_backend_name() == "postgresql":
        with _advisory_lock(storage, study_name):
            yield
    else:
        yield


@contextlib.contextmanager
def _file_lock(path: Path) -> Iterator[None]:
    with path.open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


@contextlib.contextmanager
def _advisory_lock(storage: optuna.storages.RDBStorage, study_name: str) -> Iterator[None]:
    from sqlalchemy import text

    key = int.from_bytes(hashlib.sha256(f"tune:{study_name}".encode()).digest()[:8], "big", signed=True)
    with storage.engine.connect() as connection:
        connection.execute(text("SELECT pg_advisory_lock(:key)"), {"key": key})
        try:
            yield
        finally:
            connection.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": key})
            connection.commit()
