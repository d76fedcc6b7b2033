"""A user's model, named by reference: `path/to/models.py:build` or `package.module:build`.

The reference names either a build function, `build(params, shape) -> keras.Model`, or a
`tuning.ModelSpec` (model/spec.py) for a model that declares its defaults, per-layer
parameters, epochs and words. A function may carry the same as attributes: `build.defaults`
(dict), `build.epochs` (int). Loading a reference runs that Python file, as `import` would.
A file's content hash is recorded with the study and the export, so a retrain can tell
that the model changed since the search.
"""

from __future__ import annotations

import hashlib
import importlib
import importlib.util
import sys
from pathlib import Path
from typing import Any

from tuning.errors import TuneError, first_line
from tuning.model.spec import ModelSpec

__all__ = ["is_reference", "load_reference", "source_hash", "stamp"]


def is_reference(name: str) -> bool:
    """Whether `name` names a user's model ("FILE.py:function" or "module:function"), not a built-in one."""
    return ":" in name


def load_reference(reference: str) -> ModelSpec:
    """The model `reference` names; TuneError in one line where it does not import or is not a model."""
    where, _, attribute = reference.rpartition(":")
    if not where or not attribute.isidentifier():
        raise TuneError(f"model {reference!r}: expected FILE.py:function or module:function")
    module, path = _import(where, reference)
    target = getattr(module, attribute, None)
    if target is None:
        raise TuneError(f"model {reference!r}: {where} defines no {attribute!r}")
    name = f"{path}:{attribute}" if path is not None else reference
    digest = source_hash(path) if path is not None else _module_hash(module)
    if isinstance(target, ModelSpec):
        return ModelSpec(**{**target.__dict__, "name": name, "source_hash": digest})
    if not callable(target):
        raise TuneError(f"model {reference!r}: {attribute} is a {type(target).__name__}, not a build function")
    defaults = getattr(target, "defaults", None)
    if defaults is not None and not isinstance(defaults, dict):
        raise TuneError(f"model {reference!r}: {attribute}.defaults must be a dict of parameter defaults")
    epochs = getattr(target, "epochs", 20)
    if not isinstance(epochs, int) or isinstance(epochs, bool) or epochs < 1:
        raise TuneError(f"model {reference!r}: {attribute}.epochs must be a whole number >= 1, but got {epochs!r}")
    return ModelSpec(name=name, build=target, defaults=defaults, epochs=epochs, source_hash=digest)


def stamp(reference: str) -> tuple[int, int] | None:
    """The size and modification time of a reference's file (None for a module or a missing file): what
    tells a changed model file from the one loaded before."""
    where = reference.rpartition(":")[0]
    if not (where.endswith(".py") or "/" in where):
        return None
    try:
        status = Path(where).expanduser().stat()
    except OSError:
        return None
    return status.st_size, status.st_mtime_ns


def source_hash(path: Path) -> str:
    """16 hex chars of sha256 over the file's bytes."""
    return hashlib.sha256(path.read_bytes()).hexdigest()[:16]


def _import(where: str, reference: str) -> tuple[Any, Path | None]:
    """The module `where` names (a .py file, or a dotted module on sys.path) and its file, if a file."""
    if where.endswith(".py") or "/" in where:
        path = Path(where).expanduser().resolve()
        if not path.is_file():
            raise TuneError(f"model {reference!r}: no file {path}")
        name = f"tune_user_model_{hashlib.sha256(str(path).encode()).hexdigest()[:12]}"
        spec = importlib.util.spec_from_file_location(name, path)
        if spec is None or spec.loader is None:
            raise TuneError(f"model {reference!r}: {path} is not a Python file")
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module  # dataclasses and pickling look the module up by name
        _run(lambda: spec.loader.exec_module(module), reference)
        return module, path
    return _run(lambda: importlib.import_module(where), reference), None


def _run(load: Any, reference: str) -> Any:
    try:
        return load()
    except TuneError:
        raise
    except Exception as exc:  # the user's code: any error means "does not import"
        raise TuneError(f"model {reference!r} does not import: {type(exc).__name__}: {first_line(exc)}") from None


def _module_hash(module: Any) -> str | None:
    file = getattr(module, "__file__", None)
    return source_hash(Path(file)) if file and Path(file).is_file() else None
