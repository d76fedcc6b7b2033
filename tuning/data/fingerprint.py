"""Content hashes that identify a copy of a dataset.

A study records the fingerprint of the data it searched on, retraining refuses
other data, and the parse cache is keyed by it, so changed files are never
served from a stale cache.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np

from tuning.data.arrays import Arrays
from tuning.errors import TuneError

__all__ = ["fingerprint_arrays", "fingerprint_files", "fingerprint_tree"]


def fingerprint_files(files: list[Path]) -> str:
    """16 hex chars of sha256 over the files' bytes, in the order given."""
    digest = hashlib.sha256()
    _add_files(digest, files)
    return digest.hexdigest()[:16]


def fingerprint_tree(root: Path, files: list[Path]) -> str:
    """16 hex chars of sha256 over the files' paths below `root` and their bytes: in an image folder
    the path says the class, so moving an image to another class folder changes the data."""
    digest = hashlib.sha256()
    for path in files:
        digest.update(path.relative_to(root).as_posix().encode() + b"\0")
    _add_files(digest, files)
    return digest.hexdigest()[:16]


def _add_files(digest: hashlib._Hash, files: list[Path]) -> None:
    for path in files:
        try:
            with path.open("rb") as stream:
                for block in iter(lambda: stream.read(1 << 20), b""):
                    digest.update(block)
        except OSError as exc:
            raise TuneError(f"cannot read data file {path}: {exc.strerror or exc}") from None


def fingerprint_arrays(arrays: Arrays) -> str:
    """16 hex chars of sha256 over the arrays' bytes: for data that came without files (Keras' downloader)."""
    digest = hashlib.sha256()
    for array in arrays:
        digest.update(np.ascontiguousarray(array).tobytes())
    return digest.hexdigest()[:16]
