"""Which reader a `--data` value needs: a `.npz` file, a folder of class folders, or the Fashion-MNIST files.

`load_dataset` is the one way in for every command: the search, retraining, the robust
export and evaluation all load what a study or an export recorded through it.
"""

from __future__ import annotations

from pathlib import Path

from tuning.data import locate
from tuning.data.arrays import Arrays, check_arrays
from tuning.data.cache import cache_root, read_cache, write_cache
from tuning.data.dataset import Dataset
from tuning.data.fingerprint import fingerprint_files, fingerprint_tree
from tuning.data.folder_format import image_files, is_image_folder, read_image_folder
from tuning.data.images import NAME as FASHION_MNIST
from tuning.data.images import REFERENCES as FASHION_MNIST_REFERENCES
from tuning.data.load import load_fashion_mnist
from tuning.data.npz_format import read_npz
from tuning.errors import TuneError

__all__ = ["load_dataset", "load_searched", "published_references", "searched_name"]


def load_dataset(data: str | Path | None = None, *, cache_dir: str | Path | None = None) -> Dataset:
    """The dataset `data` names (else TUNE_DATA_DIR's; else Fashion-MNIST from the usual places).

    A `.npz` file (data/npz_format.py), a folder with `train/` and `test/` class folders
    (data/folder_format.py), or a folder with Fashion-MNIST's IDX or CSV files.
    """
    path = locate.explicit_dir(data)
    if path is None:
        return load_fashion_mnist(None, cache_dir=cache_dir)
    if path.is_file() or path.suffix == ".npz":
        return _npz(path)
    if path.is_dir() and is_image_folder(path):
        return _image_folder(path, cache_root(cache_dir))
    return load_fashion_mnist(data, cache_dir=cache_dir)


def load_searched(data: str | Path | None, source: str | None, name: str | None) -> Dataset:
    """The data a study or an export searched: `data` where the user names it, else the recorded `source`
    where it still is, else (for Fashion-MNIST, found anywhere) the usual places."""
    if data is not None:
        return load_dataset(data)
    if source and Path(source).exists():
        return load_dataset(source)
    if name in (None, FASHION_MNIST):
        return load_dataset(None)
    raise TuneError(f"the data searched ({name}, read from {source}) are not there any more; pass --data PATH")


def searched_name(recorded: str | None) -> str:
    """The name of the data a study or an export recorded (those older than other data: Fashion-MNIST)."""
    return recorded or FASHION_MNIST


def published_references(name: str) -> tuple[tuple[str, float], ...]:
    """Published test accuracies on the dataset `name`, (label, accuracy); none for a user's own data."""
    return FASHION_MNIST_REFERENCES if name == FASHION_MNIST else ()


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


def _checked(arrays: Arrays, class_names: tuple[str, ...], *, name: str, source: str, fingerprint: str) -> Dataset:
    check_arrays(arrays, source, len(class_names))
    x_train, y_train, x_test, y_test = arrays
    return Dataset(x_train, y_train, x_test, y_test, name, class_names, source, fingerprint)
