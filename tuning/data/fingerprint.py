"""Content hashes that identify a copy of Fashion-MNIST.

A study records the fingerprint of the data it searched on, retraining warns
when it differs, and the parse cache is keyed by it, so changed files are
never served from a stale cache.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np

from tuning.data.arrays import Arrays
from tuning.errors import TuneError

__all__ = ["fingerprint_arrays", "fingerprint_files"]


def fingerprint_files(files: list[Path]) -> str:
    """16 hex chars of sha256 over the files' bytes, in the order given."""
    digest = hashlib.sha256()
    for path in files:
        try:
            with path.open("rb") as stream:
                for block in iter(lambda: stream.read(1 << 20), b""):
                    digest.update(block)
        except OSError as exc:
            raise TuneError(f"cannot read data file {path}: {exc.strerror or exc}") from None
    return digest.hexdigest()[:16]


def fingerprint_arrays(arrays: Arrays) -> str:
    """16 hex chars of sha256 over the arrays' bytes: for data that came without files (Keras' downloader)."""
    digest = hashlib.sha256()
    for array in arrays:
        digest.update(np.ascontiguousarray(array).tobytes())
    return digest.hexdigest()[:16]
