"""Load Fashion-MNIST from the first place that has it, through the parse cache.

The places and file sets are `locate`'s, the formats `idx_format`'s and
`csv_format`'s, the cache `cache`'s. What is left here is their order: an
explicit directory, else the default places, else Keras' downloader as a last
resort, and a `Dataset` that says where the arrays came from.
"""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np

from tuning.data import locate
from tuning.data.arrays import Arrays, check_arrays
from tuning.data.cache import cache_root, read_cache, write_cache
from tuning.data.csv_format import read_csv_set
from tuning.data.dataset import Dataset
from tuning.data.fingerprint import fingerprint_arrays, fingerprint_files
from tuning.data.idx_format import read_idx_set
from tuning.data.images import CLASS_NAMES, NAME, NUM_CLASSES
from tuning.errors import TuneError

__all__ = ["load_fashion_mnist"]

logger = logging.getLogger(__name__)

_KERAS_SOURCE = "keras-download"


def load_fashion_mnist(data_dir: str | Path | None = None, *, cache_dir: str | Path | None = None) -> Dataset:
    """Load Fashion-MNIST from the first place that has it; raise TuneError if none does."""
    root = cache_root(cache_dir)
    explicit = locate.explicit_dir(data_dir)
    if explicit is not None:
        return _load_files(explicit, locate.explicit_files(explicit, from_env=not data_dir), root)
    for directory in locate.candidate_dirs():
        files = locate.found_files(directory)
        if files is not None:
            return _load_files(directory, files, root)
    arrays, reason = _download_with_keras()
    if arrays is not None:
        return _fashion(arrays, _KERAS_SOURCE, fingerprint_arrays(arrays))
    raise TuneError(locate.not_found_message(reason))


def _load_files(directory: Path, files: list[Path], root: Path) -> Dataset:
    fingerprint = fingerprint_files(files)
    arrays = read_cache(root / fingerprint, NUM_CLASSES)
    if arrays is None:
        arrays = _parse_files(files)
        write_cache(root / fingerprint, arrays)
    return _fashion(arrays, str(directory), fingerprint)


def _fashion(arrays: Arrays, source: str, fingerprint: str) -> Dataset:
    return Dataset(*arrays, name=NAME, class_names=CLASS_NAMES, source=source, fingerprint=fingerprint)


def _parse_files(files: list[Path]) -> Arrays:
    if files[0].name == locate.IDX_FILES[0]:
        return read_idx_set(files)
    return read_csv_set(files)


def _download_with_keras() -> tuple[Arrays | None, str]:
    """Keras' own loader, as a last resort; any failure just means "not available"."""
    try:
        import keras

        (x_train, y_train), (x_test, y_test) = keras.datasets.fashion_mnist.load_data()
    except Exception as exc:  # no network, no Keras, a bad download: all mean "not there"
        logger.debug("Keras' downloader failed: %r", exc)
        return None, f"{type(exc).__name__}: {exc}".replace("\n", " ")
    # Keras hands back read-only views of its buffers; give callers arrays they own.
    arrays = (_owned(x_train), _owned(y_train), _owned(x_test), _owned(y_test))
    check_arrays(arrays, _KERAS_SOURCE, NUM_CLASSES)
    return arrays, "ok"


def _owned(array: np.ndarray) -> np.ndarray:
    return np.array(array, dtype=np.uint8)
