"""Which reader a `--data` value needs: a `.npz` file, a folder of class folders, a folder with a training
and a test CSV, or the Fashion-MNIST files.

`load_dataset` is the one way in for every command: the search, retraining, the robust
export and evaluation all load what a study or an export recorded through it.
"""

from __future__ import annotations

from pathlib import Path

from tuning.data import locate
from tuning.data.arrays import Arrays, check_arrays, numbered_classes
from tuning.data.cache import cache_root, read_cache, write_cache
from tuning.data.csv_format import read_csv_pair
from tuning.data.dataset import Dataset
from tuning.data.fingerprint import fingerprint_files, fingerprint_tree
from tuning.data.folder_format import image_files, is_image_folder, read_image_folder
from tuning.data.images import NAME as FASHION_MNIST
from tuning.data.images import REFERENCES as FASHION_MNIST_REFERENCES
from tuning.data.load import load_fashion_mnist
from tuning.data.npz_format import read_npz
from tuning.errors import TuneError

__all__ = ["csv_pair", "is_built_in", "load_dataset", "load_searched", "published_references", "searched_name"]


def load_dataset(
    data: str | Path | None = None,
    *,
    cache_dir: str | Path | None = None,
    image_shape: tuple[int, ...] | None = None,
) -> Dataset:
    """The dataset `data` names (else TUNE_DATA_DIR's; else Fashion-MNIST from the usual places).

    A `.npz` file (data/npz_format.py), a folder with `train/` and `test/` class folders
    (data/folder_format.py), a folder with one CSV named *train* and one named *test*
    (data/csv_format.py: of `image_shape`, else square grey images), or a folder with
    Fashion-MNIST's IDX or CSV files.
    """
    path = locate.explicit_dir(data)
    csvs = None if path is None or not path.is_dir() else csv_pair(path)
    if image_shape is not None and csvs is None:
        raise TuneError(f"--image-shape applies to a folder of CSV files, not to {path or 'Fashion-MNIST'}")
    if path is None:
        return load_fashion_mnist(None, cache_dir=cache_dir)
    if path.is_file() or path.suffix == ".npz":
        return _npz(path)
    if path.is_dir() and is_image_folder(path):
        return _image_folder(path, cache_root(cache_dir))
    if csvs is not None:
        return _csv_pair(path, csvs, image_shape, cache_root(cache_dir))
    return load_fashion_mnist(data, cache_dir=cache_dir)


def csv_pair(folder: Path) -> tuple[Path, Path] | None:
    """A user's training and test CSV in `folder` (one name holding "train", one "test"); None where the folder
    holds Fashion-MNIST's own CSV names or not exactly such a pair."""
    if any((folder / name).exists() for name in locate.CSV_FILES):
        return None
    files = sorted(folder.glob("*.csv"))
    train = [f for f in files if "train" in f.name.lower()]
    test = [f for f in files if "test" in f.name.lower() and f not in train]
    return (train[0], test[0]) if len(train) == 1 and len(test) == 1 else None


def load_searched(
    data: str | Path | None, source: str | None, name: str | None, image_shape: list[int] | None = None
) -> Dataset:
    """The data a study or an export searched: `data` where the user names it, else the recorded `source`
    where it still is, else (for Fashion-MNIST, found anywhere) the usual places. CSV files are read in
    the recorded `image_shape`."""
    if data is not None or (source and Path(source).exists()):
        where = Path(str(data if data is not None else source))
        shape = tuple(image_shape) if image_shape and where.is_dir() and csv_pair(where) else None
        return load_dataset(where, image_shape=shape)
    if name in (None, FASHION_MNIST):
        return load_dataset(None)
    raise TuneError(f"the data searched ({name}, read from {source}) are not there any more; pass --data PATH")


def searched_name(recorded: str | None) -> str:
    """The name of the data a study or an export recorded (those older than other data: Fashion-MNIST)."""
    return recorded or FASHION_MNIST


def is_built_in(name: str) -> bool:
    """Whether `name` is the built-in dataset, the one the shipped spaces' `[start]` configurations were found on."""
    return name == FASHION_MNIST


def published_references(name: str) -> tuple[tuple[str, float], ...]:
    """Published test accuracies on the dataset `name`, (label, accuracy); none for a user's own data."""
    return FASHION_MNIST_REFERENCES if is_built_in(name) else ()


def _npz(path: Path) -> Dataset:
    if not path.exists():
        raise TuneError(f"data file {path} does not exist")
    if path.suffix != ".npz":
        raise TuneError(
            f"data file {path}: expected a .npz (x_train, y_train, x_test, y_test), or a folder; see `tune run --help`"
        )
    arrays, class_names = read_npz(path)
    return _checked(arrays, class_names, name=path.stem, source=str(path), fingerprint=fingerprint_files([path]))


def _image_folder(root: Path, cache: Path) -> Dataset:
    files, class_names = image_files(root)
    listed = [path for part in files.values() for path, _ in part]
    fingerprint = fingerprint_tree(root, listed)
    arrays = read_cache(cache / fingerprint, len(class_names))
    if arrays is None:
        arrays = read_image_folder(files)
        write_cache(cache / fingerprint, arrays)
    return _checked(arrays, class_names, name=root.resolve().name, source=str(root), fingerprint=fingerprint)


def _csv_pair(folder: Path, csvs: tuple[Path, Path], image_shape: tuple[int, ...] | None, cache: Path) -> Dataset:
    import hashlib

    files = fingerprint_files(list(csvs))
    asked = "x".join(map(str, image_shape)) if image_shape else "square"
    arrays = read_cache(cache / f"{files}-{asked}")
    if arrays is None:
        arrays = read_csv_pair(*csvs, image_shape)
        write_cache(cache / f"{files}-{asked}", arrays)
    # The same files read in another shape are other images: the shape is part of the data's identity.
    shaped = f"{files}:{'x'.join(str(n) for n in arrays[0].shape[1:])}"
    fingerprint = hashlib.sha256(shaped.encode()).hexdigest()[:16]
    name = folder.resolve().name
    return _checked(arrays, numbered_classes(arrays), name=name, source=str(folder), fingerprint=fingerprint)


def _checked(arrays: Arrays, class_names: tuple[str, ...], *, name: str, source: str, fingerprint: str) -> Dataset:
    check_arrays(arrays, source, len(class_names))
    x_train, y_train, x_test, y_test = arrays
    return Dataset(x_train, y_train, x_test, y_test, name, class_names, source, fingerprint)
