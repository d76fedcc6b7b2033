"""One row per study in a storage, for `tune studies`."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from tuning import attrs
from tuning.search.engines import stored_engine

if TYPE_CHECKING:
    import optuna

__all__ = ["STATE_WORDS", "StudyRow", "study_rows"]

# Optuna's trial states as tune's tables and JSON name them ("queued": waiting to be run, e.g. by `tune enqueue`).
STATE_WORDS = {"COMPLETE": "complete", "PRUNED": "pruned", "FAIL": "failed", "RUNNING": "running", "WAITING": "queued"}


@dataclass(frozen=True)
class StudyRow:
    name: str
    arch: str
    engine: str  # "optuna", or "keras-tuner (ORACLE)" (its engine's label)
    counts: dict[str, int]  # trials by state name
    best_value: float | None
    best_trial: int | None
    retried: int  # failed trials (dead workers) whose parameters were re-queued

    def to_dict(self) -> dict[str, Any]:
        """The row for `tune studies --json`: trials counted by state in tune's words."""
        return {
            "study": self.name,
            "arch": self.arch,
            "engine": self.engine,
            "trials": {word: self.counts.get(state, 0) for state, word in STATE_WORDS.items()},
            "retried": self.retried,
            "best_value": self.best_value,
            "best_trial": self.best_trial,
        }


def study_rows(storage: optuna.storages.BaseStorage) -> list[StudyRow]:
    """Every study in `storage`, sorted by name; the best trial by each study's own direction."""
    import optuna

    return [
        _row(optuna.load_study(study_name=name, storage=storage))
        for name in sorted(optuna.get_all_study_names(storage))
    ]


def _row(study: optuna.Study) -> StudyRow:
    from tuning.search.study import state_counts
    from tuning.search.worker import retried_numbers

    trials = study.get_trials(deepcopy=False)
    try:
        best: optuna.trial.FrozenTrial | None = study.best_trial
    except ValueError:  # no complete trial yet
        best = None
    return StudyRow(
        name=study.study_name,
        arch=str(study.user_attrs.get(attrs.ARCH, "?")),
        engine=stored_engine(study.user_attrs).label(study.user_attrs),
        counts=state_counts(trials),
        best_value=best.value if best else None,
        best_trial=best.number if best else None,
        retried=len(retried_numbers(trials)),
    )
