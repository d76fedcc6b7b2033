"""One row per study in a storage, for `tune studies`."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import optuna

__all__ = ["StudyRow", "study_rows"]


@dataclass(frozen=True)
class StudyRow:
    name: str
    arch: str
    counts: dict[str, int]  # trials by state name
    best_value: float | None
    best_trial: int | None
    retried: int  # failed trials (dead workers) whose parameters were re-queued


def study_rows(storage: optuna.storages.BaseStorage) -> list[StudyRow]:
    """Every study in `storage`, sorted by name."""
    from tuning.search.study import state_counts
    from tuning.search.worker import retried_numbers

    rows = []
    for frozen in storage.get_all_studies():
        trials = storage.get_all_trials(frozen._study_id, deepcopy=False)
        complete = [t for t in trials if t.state.name == "COMPLETE" and t.value is not None]
        best = max(complete, key=lambda t: t.value or 0.0, default=None)
        rows.append(
            StudyRow(
                name=frozen.study_name,
                arch=str(frozen.user_attrs.get("arch", "?")),
                counts=state_counts(trials),
                best_value=best.value if best else None,
                best_trial=best.number if best else None,
                retried=len(retried_numbers(trials)),
            )
        )
    return sorted(rows, key=lambda row: row.name)
