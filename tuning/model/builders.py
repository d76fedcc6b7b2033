"""Building a model: a plain parameter dict and the data's shape in, an uncompiled Keras model out.

Builds know nothing about Optuna, so the search, the tests and retraining all
build models the same way. tune's models take raw pixels (0-255) of the data's
image shape, grey (H, W) or colour (H, W, C), rescale them themselves (so a saved
model needs no separate preprocessing) and output one probability per class.
"""

from __future__ import annotations

import functools
import logging
from typing import TYPE_CHECKING, Any

from tuning.errors import TrialFailed, check_choice, first_line
from tuning.model.registry import get_model
from tuning.model.spec import TRAINING_DEFAULTS

if TYPE_CHECKING:
    import keras

    from tuning.data.dataset import DataShape
    from tuning.model.spec import ModelSpec

__all__ = ["PRECISIONS", "build_model", "check_precision"]

logger = logging.getLogger(__name__)

# Compute precision -> Keras dtype policy. "bfloat16" computes in bfloat16 and keeps
# float32 weights (mixed precision); the softmax output stays float32 either way.
# It pays only on CPUs with bfloat16 instructions (README, "Speed").
PRECISIONS = {"float32": "float32", "bfloat16": "mixed_bfloat16"}


def check_precision(precision: str) -> None:
    """TuneError unless `precision` is one of PRECISIONS."""
    check_choice("precision", precision, PRECISIONS)


def build_model(arch: str, params: dict[str, Any], shape: DataShape, *, precision: str = "float32") -> keras.Model:
    """Build the `arch` model described by `params` (missing values take their defaults) for data of `shape`.

    `precision` picks the layers' dtype policy; it is saved with the model, so a
    reloaded model computes the same way. A user's build that raises, or returns
    anything but a Keras model with one score per class, fails the trial
    (TrialFailed) with that reason.
    """
    import keras

    spec = get_model(arch)
    resolved = spec.resolve(params)
    previous = keras.config.dtype_policy()
    keras.config.set_dtype_policy(PRECISIONS[precision])
    try:
        model = spec.build(resolved, shape) if spec.source_hash is None else _users_build(spec, resolved, shape)
    finally:
        keras.config.set_dtype_policy(previous)
    return model


def _users_build(spec: ModelSpec, params: dict[str, Any], shape: DataShape) -> keras.Model:
    import keras

    recorded = _ReadRecorder(params)
    try:
        model = spec.build(recorded, shape)
    except TrialFailed:
        raise
    except Exception as exc:  # the user's code: the trial fails with its reason, the search goes on
        raise TrialFailed(f"model {spec.name} failed to build: {type(exc).__name__}: {first_line(exc)}") from None
    if not isinstance(model, keras.Model):
        raise TrialFailed(f"model {spec.name} returned a {type(model).__name__}, not a keras.Model")
    outputs = [tuple(t.shape[1:]) for t in model.outputs]
    if outputs != [(shape.num_classes,)]:
        raise TrialFailed(f"model {spec.name} outputs {outputs}; the data need one output of {shape.num_classes}")
    unread = set(params) - recorded.read - set(TRAINING_DEFAULTS)
    if unread:
        _warn_unread(spec.name, tuple(sorted(unread)))
    return model


class _ReadRecorder(dict[str, Any]):
    """The parameters as a user's build gets them, noting which it reads."""

    def __init__(self, params: dict[str, Any]) -> None:
        super().__init__(params)
        self.read: set[str] = set()

    def __getitem__(self, key: str) -> Any:
        self.read.add(key)
        return super().__getitem__(key)

    def get(self, key: str, default: Any = None) -> Any:
        self.read.add(key)
        return super().get(key, default)

    def copy(self) -> dict[str, Any]:
        self.read.update(dict.keys(self))
        return dict(dict.items(self))


def _reads_all(name: str) -> Any:
    """`dict.<name>` noting every key as read: a build that walks or copies the whole dict may read any of it."""
    method = getattr(dict, name)

    def reading(self: _ReadRecorder) -> Any:
        self.read.update(dict.keys(self))
        return method(self)

    reading.__name__ = name
    return reading


for _name in ("keys", "items", "values", "__iter__"):
    setattr(_ReadRecorder, _name, _reads_all(_name))


@functools.cache
def _warn_unread(model: str, names: tuple[str, ...]) -> None:
    """Said once per model and set of names: a space's parameter the model never reads changes nothing."""
    logger.warning("model %s never reads %s: the search varies them for nothing", model, ", ".join(names))
