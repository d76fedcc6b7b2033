"""What `tune report` compares: per study its search (best trial, cost, progress, importances) and its retrained model.

A study's retrained model is found by the `metrics.json` that `tune retrain`
writes (results/outputs.py), whose `study` names it; a study without one is
compared on what its search has.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tuning import attrs
from tuning.anytime import anytime_curve
from tuning.attrs import curve_of
from tuning.data.sources import searched_name

if TYPE_CHECKING:
    import optuna

__all__ = ["Retrained", "StudyComparison", "compare_study", "find_retrained"]

logger = logging.getLogger(__name__)

TOP_IMPORTANCES = 5


@dataclass(frozen=True)
class Retrained:
    """A retrained model's test figures, from its metrics.json."""

    path: Path  # the metrics.json
    trial: int  # the exported trial it was retrained from
    params: dict[str, Any]  # that trial's sampled parameters
    accuracy_mean: float
    accuracy_std: float | None  # None for one seed
    seeds: int
    per_class: dict[str, float]
    confusion: list[list[int]]  # rows: true class

    @classmethod
    def read(cls, path: Path) -> Retrained:
        metrics = json.loads(path.read_text(encoding="utf-8"))
        export = metrics["export"]["content"]
        return cls(
            path=path,
            trial=int(export["best_trial"]),
            params=dict(export["params"]),
            accuracy_mean=float(metrics["test_accuracy_mean"]),
            accuracy_std=metrics.get("test_accuracy_std"),
            seeds=len(metrics.get("seeds", [])) or 1,
            per_class={str(k): float(v) for k, v in metrics["per_class_accuracy"].items()},
            confusion=[[int(n) for n in row] for row in metrics["confusion_matrix"]],
        )


@dataclass(frozen=True)
class StudyComparison:
    """One study's line in the report."""

    name: str
    arch: str
    data: str  # the name of the data searched (data/sources.py searched_name)
    counts: dict[str, int]  # trials by state name
    best_value: float | None  # best validation accuracy; None before a complete trial
    best_trial: int | None
    n_params: int | None  # of the best trial's model
    epoch_seconds: float | None  # the best trial's mean seconds per epoch of training and validation
    progress: list[tuple[float, float]]  # (minutes on the study's clock, best so far) at each check (anytime.py)
    importances: dict[str, float]  # PED-ANOVA, the top TOP_IMPORTANCES; empty where undefined
    retrained: Retrained | None
    importances_over: str = ""  # the trials they rest on: "12 complete trials", "23 trials at epoch 1 (check 4)"


def compare_study(study: optuna.Study, retrained: Retrained | None) -> StudyComparison:
    """Gather what the report shows of `study`."""
    from tuning.report.plots import study_importances
    from tuning.search.study import state_counts

    trials = study.get_trials(deepcopy=False)
    if retrained is not None and not _retrained_from(trials, retrained):
        logger.warning(
            "%s is not a retrain of study %r as stored now (its trial %d had other parameters); left out",
            retrained.path,
            study.study_name,
            retrained.trial,
        )
        retrained = None
    complete = [t for t in trials if t.state.name == "COMPLETE" and t.value is not None]
    best = max(complete, key=lambda t: t.value or 0.0, default=None)
    importances, over = study_importances(study) or ({}, "")
    top = dict(sorted(importances.items(), key=lambda item: -item[1])[:TOP_IMPORTANCES])
    return StudyComparison(
        name=study.study_name,
        arch=str(study.user_attrs.get(attrs.ARCH, "?")),
        data=searched_name(study.user_attrs.get(attrs.DATA_NAME)),
        counts=state_counts(trials),
        best_value=best.value if best else None,
        best_trial=best.number if best else None,
        n_params=best.user_attrs.get(attrs.N_PARAMS) if best else None,
        epoch_seconds=_epoch_seconds(best.user_attrs) if best else None,
        progress=[(point.seconds / 60, point.best) for point in anytime_curve(trials).points],
        importances=top,
        retrained=retrained,
        importances_over=over,
    )


def _retrained_from(trials: list[optuna.trial.FrozenTrial], retrained: Retrained) -> bool:
    """Whether the model was retrained from one of these trials (not from an older study of the same name)."""
    return any(t.number == retrained.trial and t.params == retrained.params for t in trials)


def _epoch_seconds(stored: dict[str, Any]) -> float | None:
    curve = curve_of(stored)
    if not curve.seconds:
        return None
    return sum(curve.seconds) / (len(curve.seconds) / curve.checks_per_epoch)


def find_retrained(folders: list[Path]) -> dict[str, Retrained]:
    """The newest retrained model of each study in `folders` (retrain output folders, or folders holding them)."""
    found: dict[str, tuple[float, Retrained]] = {}
    for folder in folders:
        candidates = [folder / "metrics.json", *sorted(folder.glob("*/metrics.json"))]
        for path in filter(Path.is_file, candidates):
            try:
                study = str(json.loads(path.read_text(encoding="utf-8"))["study"])
                retrained = Retrained.read(path)
            except (OSError, ValueError, KeyError, TypeError) as exc:
                logger.warning("skipping %s: not a tune retrain metrics file (%s)", path, exc)
                continue
            mtime = path.stat().st_mtime
            if study not in found or found[study][0] < mtime:
                found[study] = (mtime, retrained)
    return {study: retrained for study, (_, retrained) in found.items()}
