"""Trials compared at one budget: the complete ones, or all of them at the highest check enough reached.

Importance evaluators and `tune export --robust` rank configurations by one value
each. A complete trial's value is its best check over the whole budget; a pruned
trial has no value comparable with it. Where too few trials completed (successive
halving stops most of them), configurations are compared at a check instead: the
highest check that enough distinct configurations reached, each with its validation
accuracy there, as the pruner saw it, pruned trials included.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Iterable, Sequence

    import optuna
    from optuna.trial import FrozenTrial

__all__ = ["Fidelity", "at_least", "compared_configurations", "distinct_count"]

_COMPARED = ("COMPLETE", "PRUNED")  # a running trial's checks are not final; a failed one may have stopped on a NaN


@dataclass(frozen=True)
class Fidelity:
    """The trials a ranking rests on, each with its value there."""

    check: int | None  # the check the values are read at; None: complete trials, each with its best check
    checks_per_epoch: int
    trials: tuple[FrozenTrial, ...]
    values: tuple[float, ...]  # one per trial

    @property
    def epochs(self) -> float | None:
        """The epochs trained at `check`; None for complete trials."""
        return None if self.check is None else self.check / self.checks_per_epoch

    def describe(self) -> str:
        """What the ranking rests on, for pages, tables and messages."""
        n = len(self.trials)
        noun = "trial" if n == 1 else "trials"
        if self.check is None:
            return f"{n} complete {noun}, each with its best validation accuracy"
        return (
            f"{n} {noun} at check {self.check} (epoch {self.epochs:g}), pruned ones included, "
            "each with its validation accuracy there"
        )

    def as_study(self, name: str) -> optuna.Study:
        """An in-memory study holding these trials as complete ones with these values, for Optuna's evaluators."""
        import optuna

        verbosity = optuna.logging.get_verbosity()
        optuna.logging.set_verbosity(optuna.logging.WARNING)  # not "A new study created in memory" on a user's screen
        try:
            study = optuna.create_study(study_name=name, direction="maximize")
        finally:
            optuna.logging.set_verbosity(verbosity)
        study.add_trials(
            optuna.trial.create_trial(
                params=trial.params, distributions=trial.distributions, value=value, user_attrs=trial.user_attrs
            )
            for trial, value in zip(self.trials, self.values, strict=True)
        )
        return study


def at_least(trials: Sequence[FrozenTrial], wanted: int, checks_per_epoch: int) -> Fidelity | None:
    """The complete trials where `wanted` distinct configurations completed, else the highest check that
    `wanted` of them reached; None where no check has that many."""
    complete = [t for t in trials if t.state.name == "COMPLETE" and t.value is not None]
    if distinct_count(complete) >= wanted:
        return Fidelity(None, checks_per_epoch, tuple(complete), tuple(float(t.value or 0.0) for t in complete))
    compared = [t for t in trials if t.state.name in _COMPARED and t.intermediate_values]
    for check in sorted({step for t in compared for step in t.intermediate_values}, reverse=True):
        reached = [t for t in compared if check in t.intermediate_values]
        if distinct_count(reached) >= wanted:
            values = tuple(float(t.intermediate_values[check]) for t in reached)
            return Fidelity(check, checks_per_epoch, tuple(reached), values)
    return None


def compared_configurations(trials: Iterable[FrozenTrial]) -> int:
    """Configurations a ranking can use: of complete trials, and of pruned ones with a check."""
    return distinct_count(
        t for t in trials if t.state.name == "COMPLETE" or (t.state.name == "PRUNED" and t.intermediate_values)
    )


def distinct_count(trials: Iterable[FrozenTrial]) -> int:
    """How many different configurations `trials` tried (a configuration sampled twice counts once)."""
    return len({_key(t.params) for t in trials})


def _key(params: dict[str, Any]) -> tuple[tuple[str, Any], ...]:
    return tuple(sorted((name, repr(value)) for name, value in params.items()))
