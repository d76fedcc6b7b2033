"""Search engines: who proposes a study's configurations. One module per engine, registered here by name.

An engine is a module with the functions of `Engine`. The rest of `tune` asks the engine
of a run (`get_engine(config.engine)`) or of a stored study (`stored_engine(attrs)`) and
never compares engine names. A new engine is one module plus its line in `_MODULES`.
Engine modules are imported when first asked for; they import Optuna, Keras or
KerasTuner only inside their functions, so `tune --help` stays light.
"""

from __future__ import annotations

import importlib
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, cast

from tuning import attrs
from tuning.errors import TuneError

if TYPE_CHECKING:
    import optuna

    from tuning.model.train import RunEpochHook
    from tuning.search.config import RunConfig
    from tuning.search.runner import PreparedRun
    from tuning.search.space import SearchSpace
    from tuning.search.worker import TrialCallback

__all__ = ["DEFAULT_ENGINE", "ENGINE_NAMES", "Engine", "engine_state_dirs", "get_engine", "stored_engine"]

# --engine NAME -> the module that implements it.
_MODULES = {
    "optuna": "tuning.search.engines.optuna",
    "keras-tuner": "tuning.search.engines.keras_tuner",
}
ENGINE_NAMES = tuple(_MODULES)
DEFAULT_ENGINE = "optuna"  # also the engine of studies older than attrs.ENGINE


class Engine(Protocol):
    """What an engine is given (a run's settings, the prepared study) and what it does with them."""

    NAME: str  # as --engine takes it, and as the study records it (attrs.ENGINE)
    SUMMARY: str  # one line for `tune run --help`

    def state_dir(self, storage: str, study: str) -> Path | None:
        """The folder this engine keeps a study's own state in, beside the storage (None: it keeps none)."""

    def check_config(self, config: RunConfig) -> None:
        """Refuse (SettingError) settings this engine does not use, where they differ from their defaults."""

    def check_space(self, space: SearchSpace) -> None:
        """Refuse (TuneError) a search space this engine cannot search."""

    def study_attrs(self, config: RunConfig) -> dict[str, Any]:
        """What a new study records about its engine: attrs.ENGINE and the engine's own choices."""

    def check_resume(self, config: RunConfig, stored: dict[str, Any]) -> None:
        """Refuse a run on an existing study of this engine whose settings the engine cannot change midway."""

    def sampler(self, config: RunConfig, seed: int | None) -> optuna.samplers.BaseSampler:
        """The Optuna sampler of the study (with engines that propose for themselves, one that only records)."""

    def pruner(self, config: RunConfig, checks_per_epoch: int) -> optuna.pruners.BasePruner:
        """The Optuna pruner trials consult after each check."""

    def start_params(self, config: RunConfig, space: SearchSpace) -> dict[str, Any] | None:
        """The configuration a new study's first trial trains, or None."""

    def expected_epochs(self, config: RunConfig, checks_per_epoch: int) -> float:
        """The epochs a trial trains on average (for the ETA)."""

    def describe(self, config: RunConfig) -> str:
        """How the trials are run, for `tune run`'s first line: " with 4 workers", ""."""

    def label(self, stored: dict[str, Any]) -> str:
        """The engine of a stored study, in words: "optuna", "keras-tuner (hyperband)"."""

    def chooser(self, stored: dict[str, Any]) -> tuple[str, str]:
        """What proposed a stored study's configurations and what stopped its trials: ("tpe", "halving")."""

    def run(
        self, run: PreparedRun, *, callbacks: Sequence[TrialCallback] = (), on_epoch: RunEpochHook | None = None
    ) -> int:
        """Run trials until the study holds `run.config.trials` (or the timeout passes); return how many ran here."""


def get_engine(name: str) -> Engine:
    """The engine registered as `name`; TuneError naming the registered ones otherwise."""
    module = _MODULES.get(name)
    if module is None:
        raise TuneError(f"no engine named {name!r} (engines: {', '.join(ENGINE_NAMES)})")
    return cast("Engine", importlib.import_module(module))


def engine_state_dirs(storage: str, study: str) -> dict[str, Path]:
    """Engine name -> the folder it keeps for a study of this name beside the storage, where one exists."""
    found = {name: get_engine(name).state_dir(storage, study) for name in ENGINE_NAMES}
    return {name: folder for name, folder in found.items() if folder is not None and folder.is_dir()}


def stored_engine(stored: dict[str, Any]) -> Engine:
    """The engine a study with these user attributes was searched with."""
    return get_engine(str(stored.get(attrs.ENGINE, DEFAULT_ENGINE)))
