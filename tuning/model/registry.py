"""Which models tune can search: the built-in `mlp` and `cnn`, and any user's model named by reference.

`get_model` is the one way from a name (as `tune run MODEL`, a space's `arch` and the
study record it) to a ModelSpec (model/spec.py). The built-ins are registered here and
nowhere else; a user's model joins on the same terms (model/user.py).
"""

from __future__ import annotations

import functools
import importlib
from pathlib import Path

from tuning.errors import TuneError
from tuning.model.spec import ModelSpec

__all__ = ["BUILT_IN", "default_study", "get_model"]

# Built-in model name -> the module whose SPEC it is.
_MODULES = {"mlp": "tuning.model.mlp", "cnn": "tuning.model.cnn"}
BUILT_IN = tuple(_MODULES)


def get_model(name: str) -> ModelSpec:
    """The model `name` names: a built-in one, or a user's `FILE.py:function` / `module:function`.

    A user's file is run again only when it changed (its size or modification time).
    """
    from tuning.model.user import is_reference, stamp

    if name in _MODULES:
        spec: ModelSpec = importlib.import_module(_MODULES[name]).SPEC
        return spec
    if is_reference(name):
        return _user_model(name, stamp(name))
    import difflib

    close = difflib.get_close_matches(name, BUILT_IN, n=1)
    guess = f" (did you mean {close[0]!r}?)" if close else ""
    raise TuneError(
        f"unknown model {name!r}{guess}: expected one of {', '.join(BUILT_IN)}, or your own as FILE.py:function "
        "or module:function"
    )


def default_study(name: str) -> str:
    """The study a model's runs go to without --study: a built-in's name; for a user's `dir/models.py:build`,
    "models.build"."""
    where, _, function = name.rpartition(":")
    return f"{Path(where).stem if where.endswith('.py') else where}.{function}" if where else name


@functools.cache
def _user_model(reference: str, stamp: tuple[int, int] | None) -> ModelSpec:
    from tuning.model.user import load_reference

    return load_reference(reference)
