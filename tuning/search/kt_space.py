"""A TOML search space as KerasTuner hyperparameters: the same ranges, scales, steps, choices and conditions.

Imports KerasTuner (and so Keras) inside `kt_hyperparameters`: import this module freely.
"""

from __future__ import annotations

import contextlib
from typing import TYPE_CHECKING, Any

from tuning.errors import TuneError

if TYPE_CHECKING:
    import keras_tuner

    from tuning.search.space import Param, SearchSpace

__all__ = ["check_kt_space", "kt_hyperparameters", "space_values"]


def check_kt_space(space: SearchSpace) -> None:
    """TuneError naming the first parameter KerasTuner cannot express (before any storage is touched)."""
    for p in space.params:
        if p.type == "categorical" and len({type(choice) for choice in p.choices}) > 1:
            kinds = ", ".join(sorted({type(choice).__name__ for choice in p.choices}))
            raise TuneError(
                f"search space {space.source}: parameter {p.name!r} mixes choice types ({kinds}), which "
                "KerasTuner's Choice cannot hold; use one type or --engine optuna"
            )


def kt_hyperparameters(space: SearchSpace) -> keras_tuner.HyperParameters:
    """`space` declared on a fresh `kt.HyperParameters`; a `when` becomes a conditional scope (nested as needed)."""
    import keras_tuner

    check_kt_space(space)
    hp = keras_tuner.HyperParameters()
    by_name = {p.name: p for p in space.params}
    for p in space.params:
        with contextlib.ExitStack() as scopes:
            for parent, values in _conditions(p, by_name):
                scopes.enter_context(hp.conditional_scope(parent, list(values)))
            _declare(hp, p)
    return hp


def _conditions(p: Param, by_name: dict[str, Param]) -> list[tuple[str, tuple[object, ...]]]:
    """The `when` of `p` and of its ancestors, outermost first."""
    chain = []
    while p.when is not None:
        chain.append(p.when)
        p = by_name[p.when[0]]
    return chain[::-1]


def _declare(hp: keras_tuner.HyperParameters, p: Param) -> None:
    sampling = "log" if p.log else "linear"
    if p.type == "categorical":
        hp.Choice(p.name, list(p.choices))
    elif p.type == "int":
        step = None if p.step is None else int(p.step)
        hp.Int(p.name, int(p.low or 0), int(p.high or 0), step=step, sampling=sampling)
    else:
        hp.Float(p.name, float(p.low or 0), float(p.high or 0), step=p.step, sampling=sampling)


def space_values(space: SearchSpace, values: dict[str, Any]) -> dict[str, Any]:
    """A KerasTuner trial's values as `space` holds them: applying parameters only, choices as listed.

    KerasTuner adds its own ("tuner/epochs", ...) and hands booleans back as 0 and 1.
    """
    from tuning.search.space import in_space

    kept = in_space(space, values)
    for p in space.params:
        if p.name in kept and p.type == "categorical":
            kept[p.name] = next(choice for choice in p.choices if choice == kept[p.name])
        elif p.name in kept and p.type == "int":
            kept[p.name] = int(kept[p.name])
        elif p.name in kept:
            kept[p.name] = float(kept[p.name])
    return kept
