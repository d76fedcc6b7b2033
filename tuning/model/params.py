"""A model's parameters by the model's name: which it reads, their defaults, the complete set a build gets.

Builders read a plain dict; a parameter left out of a search space keeps its model's
default (model/spec.py), so a user can pin a value by deleting it from the space. The
facts are each model's spec (model/registry.py); these functions look them up by name
for the modules that hold only a name (a space, a study, an export). Nothing heavy is
imported: space validation and export use this without TensorFlow.
"""

from __future__ import annotations

from typing import Any

from tuning.model.registry import get_model

__all__ = ["check_arch", "depth_limit", "parameter_names", "resolve_params"]


def check_arch(arch: str) -> None:
    """TuneError unless `arch` names a model tune can build: a built-in one, or a user's that imports."""
    get_model(arch)


def parameter_names(arch: str) -> frozenset[str] | None:
    """Every parameter name the `arch` model reads (per-layer ones numbered 1..MAX_DEPTH); None: not known."""
    return get_model(arch).parameter_names()


def depth_limit(arch: str, image_shape: tuple[int, ...]) -> tuple[str, int] | None:
    """The depth parameter the image size bounds and its largest value, or None where nothing is bounded."""
    limit = get_model(arch).depth_limit
    return None if limit is None else limit(image_shape)


def resolve_params(arch: str, params: dict[str, Any]) -> dict[str, Any]:
    """The complete parameter dict the `arch` model's build gets: defaults filled, inactive layers dropped.

    The result is what gets exported, so a model can be rebuilt from it alone.
    """
    return get_model(arch).resolve(params)
