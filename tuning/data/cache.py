"""The parse cache: a dataset's arrays as ``.npy`` files, in a folder named by the source files' fingerprint.

Parsing the CSVs takes seconds, loading ``.npy`` files milliseconds. A cache
is written atomically, so readers never see half of one; an unreadable cache
is ignored (and rewritten), and one that cannot be written costs a warning,
never the run.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

import numpy as np

from tuning.atomic import atomic_path
from tuning.data.arrays import ARRAY_NAMES, Arrays, check_arrays
from tuning.errors import TuneError

__all__ = ["cache_root", "read_cache", "write_cache"]

logger = logging.getLogger(__name__)


def cache_root(cache_dir: str | Path | None) -> Path:
    """The folder holding one cache per fingerprint: ``cache_dir``, else ``TUNE_CACHE_DIR``, else ~/.cache/tune."""
    chosen = cache_dir if cache_dir is not None else os.environ.get("TUNE_CACHE_DIR")
    if not chosen:
        return Path("~/.cache/tune").expanduser()
    return Path(chosen).expanduser()


def read_cache(cache: Path, num_classes: int | None = None) -> Arrays | None:
    """The arrays cached in the folder ``cache``, or None if it is missing or unreadable (with a warning)."""
    if not cache.is_dir():
        return None
    try:
        loaded = [np.load(cache / f"{name}.npy", allow_pickle=False) for name in ARRAY_NAMES]
        arrays: Arrays = (loaded[0], loaded[1], loaded[2], loaded[3])
        check_arrays(arrays, str(cache), num_classes)
    except (OSError, ValueError, EOFError, TuneError) as exc:
        logger.warning("ignoring unreadable data cache %s (%s); re-parsing", cache, exc)
        return None
    logger.debug("loaded the data from cache %s", cache)
    return arrays


def write_cache(cache: Path, arrays: Arrays) -> None:
    """Save ``arrays`` as the folder ``cache``, replacing an unreadable one; a failure is only logged."""
    what = f"data cache {cache}"
    was_there = cache.is_dir()
    try:
        with atomic_path(cache, folder=True, what=what) as staging:
            _save(staging, arrays, what)
    except TuneError as exc:
        if not was_there and cache.is_dir():  # a concurrent writer got there first: same content, nothing lost
            logger.debug("data cache %s written by someone else meanwhile", cache)
            return
        logger.warning("%s; going on without it", exc)


def _save(folder: Path, arrays: Arrays, what: str) -> None:
    try:
        for name, array in zip(ARRAY_NAMES, arrays, strict=True):
            np.save(folder / f"{name}.npy", array, allow_pickle=False)
    except OSError as exc:
        raise TuneError(f"cannot write {what}: {exc.strerror or exc}") from None
