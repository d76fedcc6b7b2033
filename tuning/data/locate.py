"""Where the Fashion-MNIST files are: the places searched, the file sets recognised, what to say when none is found.

A directory the user names (``--data`` or ``TUNE_DATA_DIR``) is the only
place looked at: who names a directory wants that data, not a silent fallback.
Otherwise Keras' download cache comes first, then the Debian package's
directory. A directory holds either the four IDX ``.gz`` files or the two
Kaggle CSVs; part of a set is an error, never skipped.
"""

from __future__ import annotations

import os
from pathlib import Path

from tuning.errors import TuneError

__all__ = [
    "CSV_FILES",
    "DEBIAN_DIR",
    "IDX_FILES",
    "candidate_dirs",
    "data_hint",
    "explicit_dir",
    "explicit_files",
    "found_files",
    "not_found_message",
]

DEBIAN_DIR = Path("/usr/share/datasets/fashion-mnist")

# Fixed order: it is also the order in which files are hashed for the fingerprint.
IDX_FILES = (
    "train-images-idx3-ubyte.gz",
    "train-labels-idx1-ubyte.gz",
    "t10k-images-idx3-ubyte.gz",
    "t10k-labels-idx1-ubyte.gz",
)
CSV_FILES = ("fashion-mnist_train.csv", "fashion-mnist_test.csv")

_HOW_TO_GET = (
    "To get it, run `apt-get install dataset-fashion-mnist` (puts it in "
    f"{DEBIAN_DIR}), or pass --data DIR or set TUNE_DATA_DIR to a directory "
    f"holding the four IDX .gz files ({', '.join(IDX_FILES)}) or the Kaggle CSVs "
    f"({' and '.join(CSV_FILES)})."
)


def candidate_dirs(data_dir: str | Path | None = None) -> list[Path]:
    """Directories searched for the data, in order.

    An explicit ``data_dir`` (or ``TUNE_DATA_DIR``) is the only candidate: a
    user who names a directory wants that data, not a silent fallback.
    """
    explicit = explicit_dir(data_dir)
    if explicit is not None:
        return [explicit]
    return [Path("~/.keras/datasets/fashion-mnist").expanduser(), DEBIAN_DIR]


def explicit_dir(data_dir: str | Path | None) -> Path | None:
    """The directory the user named: ``data_dir``, else ``TUNE_DATA_DIR``, else None."""
    chosen = str(data_dir) if data_dir is not None else ""
    chosen = chosen or os.environ.get("TUNE_DATA_DIR", "")
    return Path(chosen).expanduser() if chosen else None


def explicit_files(directory: Path, *, from_env: bool) -> list[Path]:
    """The data files in a directory the user named; a TuneError saying how to get them if it has none."""
    named = f"{directory} (from TUNE_DATA_DIR)" if from_env else str(directory)
    if not directory.exists():
        raise TuneError(f"data directory {named} does not exist. {_HOW_TO_GET}")
    if not directory.is_dir():
        raise TuneError(f"data directory {named} is not a directory. {_HOW_TO_GET}")
    files = found_files(directory)
    if files is None:
        raise TuneError(
            f"data directory {named} holds neither train/ and test/ class folders nor Fashion-MNIST's files. "
            f"{_HOW_TO_GET}"
        )
    return files


def found_files(directory: Path) -> list[Path] | None:
    """The data files in ``directory`` (IDX preferred), or None if it holds neither set.

    Raises TuneError for part of a set: a half-copied download must be noticed, not passed over.
    """
    if not directory.is_dir():
        return None
    idx = _complete_set(directory, IDX_FILES, "IDX")
    if idx is not None:
        return idx
    return _complete_set(directory, CSV_FILES, "Kaggle CSV")


def data_hint(source: str | None) -> str | None:
    """The `--data` a printed command needs to read `source` again: None where the usual places
    (with this shell's TUNE_DATA_DIR) find that folder first, or where `source` is not here."""
    if source is None or not Path(source).exists():
        return None
    if not Path(source).is_dir() or _has_parts(Path(source)):
        return source  # a .npz, a folder of class folders: only named, never found
    for directory in candidate_dirs():
        try:
            if found_files(directory) is not None:
                return None if directory.resolve() == Path(source).resolve() else source
        except TuneError:  # part of a set: the command would stop there, so name the folder
            break
    return source


def _has_parts(folder: Path) -> bool:
    return (folder / "train").is_dir() and (folder / "test").is_dir()


def not_found_message(keras_reason: str) -> str:
    """One line naming every place tried, why Keras' downloader failed, and how to get the data."""
    places = ", ".join(str(path) for path in candidate_dirs())
    return (
        f"Fashion-MNIST not found. Looked in {places}, and tried Keras' downloader "
        f"(keras.datasets.fashion_mnist.load_data: {keras_reason}). {_HOW_TO_GET}"
    )


def _complete_set(directory: Path, names: tuple[str, ...], kind: str) -> list[Path] | None:
    paths = [directory / name for name in names]
    missing = [path.name for path in paths if not path.is_file()]
    if not missing:
        return paths
    if len(missing) == len(names):
        return None
    raise TuneError(f"incomplete Fashion-MNIST {kind} files in {directory}: missing {', '.join(missing)}")
