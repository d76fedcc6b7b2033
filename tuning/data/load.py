"""Find, parse, validate and cache Fashion-MNIST.

The data may sit in an explicit directory (``--data-dir`` / ``TUNE_DATA_DIR``),
in Keras' download cache, in the Debian package's directory, or come from
Keras' downloader as a last resort. A directory holds either the four IDX
``.gz`` files or the two Kaggle CSVs. Parsed arrays are cached as ``.npy``
files keyed by a hash of the source files, so later loads take milliseconds.
"""

from __future__ import annotations

import gzip
import hashlib
import logging
import os
import shutil
import tempfile
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from tuning.errors import TuneError

if TYPE_CHECKING:
    import pandas as pd

__all__ = [
    "CLASS_NAMES",
    "DEBIAN_DIR",
    "Dataset",
    "candidate_dirs",
    "load_fashion_mnist",
]

logger = logging.getLogger(__name__)

CLASS_NAMES: tuple[str, ...] = (
    "T-shirt/top",
    "Trouser",
    "Pullover",
    "Dress",
    "Coat",
    "Sandal",
    "Shirt",
    "Sneaker",
    "Bag",
    "Ankle boot",
)
DEBIAN_DIR = Path("/usr/share/datasets/fashion-mnist")

# Fixed order: it is also the order in which files are hashed for the fingerprint.
IDX_FILES = (
    "train-images-idx3-ubyte.gz",
    "train-labels-idx1-ubyte.gz",
    "t10k-images-idx3-ubyte.gz",
    "t10k-labels-idx1-ubyte.gz",
)
CSV_FILES = ("fashion-mnist_train.csv", "fashion-mnist_test.csv")
KERAS_SOURCE = "keras-download"

_IMAGE_MAGIC = 2051
_LABEL_MAGIC = 2049
_SIDE = 28
_N_PIXELS = _SIDE * _SIDE
_N_CLASSES = len(CLASS_NAMES)
_ARRAY_NAMES = ("x_train", "y_train", "x_test", "y_test")
_HOW_TO_GET = (
    "To get it, run `apt-get install dataset-fashion-mnist` (puts it in "
    f"{DEBIAN_DIR}), or pass --data-dir DIR or set TUNE_DATA_DIR to a directory "
    f"holding the four IDX .gz files ({', '.join(IDX_FILES)}) or the Kaggle CSVs "
    f"({' and '.join(CSV_FILES)})."
)

_Arrays = tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]


@dataclass(frozen=True, eq=False)
class Dataset:
    """Fashion-MNIST as uint8 arrays, with where it came from and a content hash."""

    x_train: np.ndarray = field(repr=False)  # (n_train, 28, 28) uint8
    y_train: np.ndarray = field(repr=False)  # (n_train,) uint8, values 0-9
    x_test: np.ndarray = field(repr=False)  # (n_test, 28, 28) uint8
    y_test: np.ndarray = field(repr=False)  # (n_test,) uint8, values 0-9
    source: str  # the directory it came from, or "keras-download"
    fingerprint: str  # 16 hex chars of sha256 over the source files' bytes


def candidate_dirs(data_dir: str | Path | None = None) -> list[Path]:
    """Directories searched for the data, in order.

    An explicit ``data_dir`` (or ``TUNE_DATA_DIR``) is the only candidate: a
    user who names a directory wants that data, not a silent fallback.
    """
    explicit = _explicit_dir(data_dir)
    if explicit is not None:
        return [explicit]
    return [Path("~/.keras/datasets/fashion-mnist").expanduser(), DEBIAN_DIR]


def load_fashion_mnist(data_dir: str | Path | None = None, *, cache_dir: str | Path | None = None) -> Dataset:
    """Load Fashion-MNIST from the first place that has it; raise TuneError if none does."""
    cache_root = _cache_root(cache_dir)
    explicit = _explicit_dir(data_dir)
    if explicit is not None:
        return _load_explicit(explicit, from_env=not data_dir, cache_root=cache_root)
    for directory in candidate_dirs():
        files = _source_files(directory)
        if files is not None:
            return _load_files(directory, files, cache_root)
    arrays, reason = _download_with_keras()
    if arrays is not None:
        return _dataset(arrays, KERAS_SOURCE, _hash_arrays(arrays))
    raise TuneError(_not_found_message(reason))


# --- where to look -----------------------------------------------------------


def _explicit_dir(data_dir: str | Path | None) -> Path | None:
    chosen = str(data_dir) if data_dir is not None else ""
    chosen = chosen or os.environ.get("TUNE_DATA_DIR", "")
    return Path(chosen).expanduser() if chosen else None


def _cache_root(cache_dir: str | Path | None) -> Path:
    chosen = cache_dir if cache_dir is not None else os.environ.get("TUNE_CACHE_DIR")
    if not chosen:
        return Path("~/.cache/tune").expanduser()
    return Path(chosen).expanduser()


def _load_explicit(directory: Path, *, from_env: bool, cache_root: Path) -> Dataset:
    named = f"{directory} (from TUNE_DATA_DIR)" if from_env else str(directory)
    if not directory.exists():
        raise TuneError(f"data directory {named} does not exist. {_HOW_TO_GET}")
    if not directory.is_dir():
        raise TuneError(f"data directory {named} is not a directory. {_HOW_TO_GET}")
    files = _source_files(directory)
    if files is None:
        raise TuneError(f"data directory {named} holds no Fashion-MNIST files. {_HOW_TO_GET}")
    return _load_files(directory, files, cache_root)


def _source_files(directory: Path) -> list[Path] | None:
    """The data files in ``directory`` (IDX preferred), or None if it holds neither set."""
    if not directory.is_dir():
        return None
    idx = _complete_set(directory, IDX_FILES, "IDX")
    if idx is not None:
        return idx
    return _complete_set(directory, CSV_FILES, "Kaggle CSV")


def _complete_set(directory: Path, names: tuple[str, ...], kind: str) -> list[Path] | None:
    paths = [directory / name for name in names]
    missing = [path.name for path in paths if not path.is_file()]
    if not missing:
        return paths
    if len(missing) == len(names):
        return None
    raise TuneError(f"incomplete Fashion-MNIST {kind} files in {directory}: missing {', '.join(missing)}")


def _not_found_message(keras_reason: str) -> str:
    places = ", ".join(str(path) for path in candidate_dirs())
    return (
        f"Fashion-MNIST not found. Looked in {places}, and tried Keras' downloader "
        f"(keras.datasets.fashion_mnist.load_data: {keras_reason}). {_HOW_TO_GET}"
    )


# --- loading with the cache --------------------------------------------------


def _load_files(directory: Path, files: list[Path], cache_root: Path) -> Dataset:
    fingerprint = _hash_files(files)
    cache = cache_root / fingerprint
    arrays = _read_cache(cache)
    if arrays is None:
        arrays = _parse_files(files)
        _write_cache(cache, arrays, replace=cache.exists())
    return _dataset(arrays, str(directory), fingerprint)


def _dataset(arrays: _Arrays, source: str, fingerprint: str) -> Dataset:
    return Dataset(*arrays, source=source, fingerprint=fingerprint)


def _hash_files(files: list[Path]) -> str:
    digest = hashlib.sha256()
    for path in files:
        try:
            with path.open("rb") as stream:
                for block in iter(lambda: stream.read(1 << 20), b""):
                    digest.update(block)
        except OSError as exc:
            raise TuneError(f"cannot read data file {path}: {exc.strerror or exc}") from None
    return digest.hexdigest()[:16]


def _hash_arrays(arrays: _Arrays) -> str:
    digest = hashlib.sha256()
    for array in arrays:
        digest.update(np.ascontiguousarray(array).tobytes())
    return digest.hexdigest()[:16]


def _read_cache(cache: Path) -> _Arrays | None:
    if not cache.is_dir():
        return None
    try:
        loaded = [np.load(cache / f"{name}.npy", allow_pickle=False) for name in _ARRAY_NAMES]
        arrays: _Arrays = (loaded[0], loaded[1], loaded[2], loaded[3])
        _check_arrays(arrays, str(cache))
    except (OSError, ValueError, EOFError, TuneError) as exc:
        logger.warning("ignoring unreadable data cache %s (%s); re-parsing", cache, exc)
        return None
    logger.debug("loaded Fashion-MNIST from cache %s", cache)
    return arrays


def _write_cache(cache: Path, arrays: _Arrays, *, replace: bool) -> None:
    """Write into a staging folder, then rename: readers never see half a cache."""
    try:
        cache.parent.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=f".{cache.name}-", dir=cache.parent))
    except OSError as exc:
        logger.warning("cannot write data cache in %s (%s); going on without it", cache.parent, exc)
        return
    try:
        for name, array in zip(_ARRAY_NAMES, arrays, strict=True):
            np.save(staging / f"{name}.npy", array, allow_pickle=False)
        if replace:  # the unreadable cache we just ignored
            _remove(cache)
        os.rename(staging, cache)
    except OSError as exc:
        _log_failed_write(cache, exc)
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def _remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path, ignore_errors=True)
    else:
        path.unlink(missing_ok=True)


def _log_failed_write(cache: Path, exc: OSError) -> None:
    if cache.is_dir():  # a concurrent writer got there first: same content, nothing lost
        logger.debug("data cache %s written by someone else meanwhile", cache)
        return
    logger.warning("cannot write data cache %s (%s); going on without it", cache, exc)


def _download_with_keras() -> tuple[_Arrays | None, str]:
    """Keras' own loader, as a last resort; any failure just means "not available"."""
    try:
        import keras

        (x_train, y_train), (x_test, y_test) = keras.datasets.fashion_mnist.load_data()
    except Exception as exc:  # no network, no Keras, a bad download: all mean "not there"
        logger.debug("Keras' downloader failed: %r", exc)
        return None, f"{type(exc).__name__}: {exc}".replace("\n", " ")
    # Keras hands back read-only views of its buffers; give callers arrays they own.
    arrays = (_owned(x_train), _owned(y_train), _owned(x_test), _owned(y_test))
    _check_arrays(arrays, KERAS_SOURCE)
    return arrays, "ok"


# --- parsing and validation --------------------------------------------------


def _owned(array: np.ndarray) -> np.ndarray:
    return np.array(array, dtype=np.uint8)


def _parse_files(files: list[Path]) -> _Arrays:
    if files[0].name == IDX_FILES[0]:
        return _parse_idx_set(files)
    return _parse_csv_set(files)


def _parse_idx_set(files: list[Path]) -> _Arrays:
    train_images, train_labels, test_images, test_labels = files
    x_train = _read_idx(train_images, _IMAGE_MAGIC)
    y_train = _read_idx(train_labels, _LABEL_MAGIC)
    x_test = _read_idx(test_images, _IMAGE_MAGIC)
    y_test = _read_idx(test_labels, _LABEL_MAGIC)
    _check_counts_agree(train_images, len(x_train), train_labels, len(y_train))
    _check_counts_agree(test_images, len(x_test), test_labels, len(y_test))
    return x_train, y_train, x_test, y_test


def _check_counts_agree(images: Path, n_images: int, labels: Path, n_labels: int) -> None:
    if n_images == n_labels:
        return
    raise TuneError(f"corrupt data: {images} holds {n_images} images but {labels} holds {n_labels} labels")


def _read_idx(path: Path, magic: int) -> np.ndarray:
    raw = _gunzip(path)
    header_size = 16 if magic == _IMAGE_MAGIC else 8
    if len(raw) < header_size:
        raise _corrupt(path, f"truncated header ({len(raw)} bytes, expected {header_size})")
    found = int.from_bytes(raw[:4], "big")
    if found != magic:
        raise _corrupt(path, f"wrong magic number {found} (expected {magic})")
    count = int.from_bytes(raw[4:8], "big")
    if count == 0:
        raise _corrupt(path, "header says it holds 0 items")
    if magic == _IMAGE_MAGIC:
        return _idx_images(path, raw, count)
    return _idx_labels(path, raw, count)


def _gunzip(path: Path) -> bytes:
    try:
        with gzip.open(path, "rb") as stream:
            return stream.read()
    except EOFError:
        raise _corrupt(path, "truncated gzip stream") from None
    except (gzip.BadGzipFile, zlib.error) as exc:
        raise _corrupt(path, f"not a valid gzip file ({exc})") from None
    except OSError as exc:
        raise TuneError(f"cannot read data file {path}: {exc}") from None


def _idx_images(path: Path, raw: bytes, count: int) -> np.ndarray:
    rows = int.from_bytes(raw[8:12], "big")
    cols = int.from_bytes(raw[12:16], "big")
    if (rows, cols) != (_SIDE, _SIDE):
        raise _corrupt(path, f"images are {rows}x{cols}, expected {_SIDE}x{_SIDE}")
    _check_payload(path, len(raw) - 16, count * _N_PIXELS, "pixels")
    return np.frombuffer(raw, dtype=np.uint8, offset=16).reshape(count, _SIDE, _SIDE).copy()


def _idx_labels(path: Path, raw: bytes, count: int) -> np.ndarray:
    _check_payload(path, len(raw) - 8, count, "labels")
    labels = np.frombuffer(raw, dtype=np.uint8, offset=8).copy()
    bad = np.flatnonzero(labels >= _N_CLASSES)
    if bad.size:
        raise _corrupt(path, f"label {labels[bad[0]]} at item {bad[0]} is outside 0-{_N_CLASSES - 1}")
    return labels


def _check_payload(path: Path, got: int, expected: int, what: str) -> None:
    if got < expected:
        raise _corrupt(path, f"truncated (expected {expected} bytes of {what}, got {got})")
    if got > expected:
        raise _corrupt(path, f"{got - expected} unexpected bytes after the {expected} bytes of {what}")


def _corrupt(path: Path, problem: str) -> TuneError:
    return TuneError(f"corrupt data file {path}: {problem}")


def _parse_csv_set(files: list[Path]) -> _Arrays:
    x_train, y_train = _read_csv(files[0])
    x_test, y_test = _read_csv(files[1])
    return x_train, y_train, x_test, y_test


def _read_csv(path: Path) -> tuple[np.ndarray, np.ndarray]:
    frame = _read_frame(path)
    columns = [str(column) for column in frame.columns]
    if "label" not in columns:
        raise _corrupt(path, f"no 'label' column (header starts {','.join(columns[:3])})")
    if len(columns) != _N_PIXELS + 1:
        raise _corrupt(path, f"expected {_N_PIXELS + 1} columns (label + {_N_PIXELS} pixels), got {len(columns)}")
    if frame.empty:
        raise _corrupt(path, "no data rows after the header")
    values = _integer_values(path, frame)
    label_at = columns.index("label")
    labels = values[:, label_at]
    pixels = np.delete(values, label_at, axis=1)
    _check_range(path, labels, ["label"], _N_CLASSES - 1)
    _check_range(path, pixels, columns[:label_at] + columns[label_at + 1 :], 255)
    return pixels.astype(np.uint8).reshape(-1, _SIDE, _SIDE), labels.astype(np.uint8)


def _read_frame(path: Path) -> pd.DataFrame:
    import warnings

    import pandas as pd

    try:
        with warnings.catch_warnings():
            # index_col=False stops pandas from quietly turning an extra field into an index;
            # it then only warns about the dropped fields, so make that an error.
            warnings.simplefilter("error", pd.errors.ParserWarning)
            return pd.read_csv(path, index_col=False)
    except pd.errors.EmptyDataError:
        raise _corrupt(path, "empty file") from None
    except pd.errors.ParserWarning:
        raise _corrupt(path, "some rows have more fields than the header") from None
    except (ValueError, OSError) as exc:  # ParserError and UnicodeDecodeError are ValueErrors
        raise _corrupt(path, f"not a readable CSV ({_first_line(exc)})") from None


def _integer_values(path: Path, frame: pd.DataFrame) -> np.ndarray:
    import pandas as pd

    for column in frame.columns:
        series = frame[column]
        if pd.api.types.is_bool_dtype(series) or not pd.api.types.is_numeric_dtype(series):
            raise _non_numeric(path, series)
    if all(pd.api.types.is_integer_dtype(frame[column]) for column in frame.columns):
        return frame.to_numpy(dtype=np.int64)
    values = frame.to_numpy(dtype=np.float64)  # a missing field or a decimal made it float
    _check_whole_numbers(path, frame, values)
    return values.astype(np.int64)


def _non_numeric(path: Path, series: pd.Series) -> TuneError:
    import pandas as pd

    numbers = pd.to_numeric(series, errors="coerce")
    bad = np.flatnonzero((numbers.isna() & series.notna()).to_numpy())
    if not bad.size:
        return _corrupt(path, f"non-numeric values in column {series.name!r}")
    row = int(bad[0])
    return _corrupt(path, f"non-numeric value {series.iloc[row]!r} in column {series.name!r} at line {row + 2}")


def _check_whole_numbers(path: Path, frame: pd.DataFrame, values: np.ndarray) -> None:
    missing = np.argwhere(np.isnan(values))
    if missing.size:
        row, col = missing[0]
        raise _corrupt(path, f"missing value in column {frame.columns[col]!r} at line {row + 2}")
    fractional = np.argwhere(values != np.floor(values))
    if fractional.size:
        row, col = fractional[0]
        raise _corrupt(
            path,
            f"non-integer value {values[row, col]} in column {frame.columns[col]!r} at line {row + 2}",
        )


def _check_range(path: Path, values: np.ndarray, columns: list[str], highest: int) -> None:
    """Line numbers count the header as line 1, as an editor shows them."""
    table = values.reshape(len(values), -1)
    bad = np.argwhere((table < 0) | (table > highest))
    if not bad.size:
        return
    row, col = (int(i) for i in bad[0])
    raise _corrupt(
        path,
        f"value {table[row, col]} in column {columns[col]!r} at line {row + 2} is outside 0-{highest}",
    )


def _check_arrays(arrays: _Arrays, where: str) -> None:
    """Shapes, dtypes and label range; guards the cache and Keras' arrays."""
    x_train, y_train, x_test, y_test = arrays
    for name, x, y in (("train", x_train, y_train), ("test", x_test, y_test)):
        if x.dtype != np.uint8 or y.dtype != np.uint8:
            raise TuneError(f"{where}: {name} arrays are {x.dtype}/{y.dtype}, expected uint8")
        if x.ndim != 3 or x.shape[1:] != (_SIDE, _SIDE) or y.shape != (len(x),) or len(x) == 0:
            raise TuneError(f"{where}: {name} shapes {x.shape} and {y.shape} do not match")
        if y.max() >= _N_CLASSES:
            raise TuneError(f"{where}: {name} label {y.max()} is outside 0-{_N_CLASSES - 1}")


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__
