"""Atomic writes: build a file or a folder under a temporary name beside its target, then rename it into place.

A reader never sees half a data cache, half an export or half a retrain output,
and a failure or Ctrl-C leaves nothing behind: not the temporary, not the parent
folders created for it.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from tuning.errors import TuneError

__all__ = ["atomic_path", "write_text_atomically"]


@contextmanager
def atomic_path(target: Path, *, folder: bool = False, what: str = "") -> Iterator[Path]:
    """Yield a fresh temporary file path (or an empty folder) beside `target`; on success rename it to `target`.

    An existing `target` is replaced (a folder is moved aside first, then deleted).
    OSErrors become TuneError naming `what` (default: the target).
    """
    what = what or str(target)
    created = [p for p in reversed(target.parents) if not p.exists()]
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        staging = _make_staging(target, folder)
    except OSError as exc:
        _remove_empty(created)
        raise TuneError(f"cannot write {what}: {exc.strerror or exc}") from None
    try:
        yield staging
        _publish(staging, target, what)
    finally:
        _remove(staging)
        _remove_empty(created)  # nothing to do once published: they are no longer empty


def write_text_atomically(path: Path, text: str) -> Path:
    """Write `text` to `path` atomically (UTF-8)."""
    with atomic_path(path) as staging:
        try:
            staging.write_text(text, encoding="utf-8")
        except OSError as exc:
            raise TuneError(f"cannot write {path}: {exc.strerror or exc}") from None
    return path


def _make_staging(target: Path, folder: bool) -> Path:
    prefix = f".{target.name}-"
    if folder:
        return Path(tempfile.mkdtemp(prefix=prefix, dir=target.parent))
    handle, name = tempfile.mkstemp(prefix=prefix, suffix=".tmp", dir=target.parent)
    os.close(handle)
    return Path(name)


def _publish(staging: Path, target: Path, what: str) -> None:
    staging.chmod(0o755 if staging.is_dir() else 0o644)  # mkdtemp/mkstemp made it private
    try:
        if staging.is_dir() and target.is_dir():
            old = Path(tempfile.mkdtemp(prefix=f".{target.name}-old-", dir=target.parent))
            os.replace(target, old)
            os.replace(staging, target)
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.replace(staging, target)
    except OSError as exc:
        raise TuneError(f"cannot write {what}: {exc.strerror or exc}") from None


def _remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path, ignore_errors=True)
    else:
        path.unlink(missing_ok=True)


def _remove_empty(created: list[Path]) -> None:
    for directory in reversed(created):
        try:
            directory.rmdir()
        except OSError:
            return
