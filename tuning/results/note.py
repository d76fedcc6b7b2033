"""The study's dashboard note after `tune retrain`: the test accuracy over seeds, the saved model, its figures."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from tuning.errors import first_line

if TYPE_CHECKING:
    import optuna

    from tuning.results.retrain import PreparedRetrain, RetrainResult

__all__ = ["note_retrain", "retrain_note"]

logger = logging.getLogger(__name__)


def note_retrain(prepared: PreparedRetrain, result: RetrainResult) -> None:
    """Note the retrain on its study, with its PNG figures as study artifacts, where the storage holds the study.

    Skipped (logged) where the storage or the study is not there, or the study of that name is
    not the one the export came from; never fails the retrain, whose outputs are written already.
    """
    from tuning.search.artifacts import artifact_dir_for, upload_study_files
    from tuning.search.notes import save_note

    config = prepared.config
    study = _exported_study(config.storage, prepared.export.study, prepared.export.best_trial, prepared.export.params)
    if study is None:
        return
    pngs = [result.output_dir / name for name in result.files if name.endswith(".png")]
    stored = upload_study_files(study, artifact_dir_for(config.storage, config.artifact_dir), pngs)
    save_note(study, retrain_note(prepared, result, [path.name for path in pngs] if stored else []))


def _exported_study(storage: str, name: str, trial: int, params: dict[str, Any]) -> optuna.Study | None:
    import optuna

    from tuning.errors import TuneError
    from tuning.search.storage import mask_url, open_storage

    try:
        study = optuna.load_study(study_name=name, storage=open_storage(storage, must_exist=True))
        trials = study.get_trials(deepcopy=False)
    except (TuneError, KeyError) as exc:
        logger.info("no dashboard note: study %r not found in %s (%s)", name, mask_url(storage), first_line(exc))
        return None
    except Exception as exc:  # the storage failed: the retrain's outputs matter more
        logger.warning("no dashboard note: %s: %s", type(exc).__name__, first_line(exc))
        return None
    if not any(t.number == trial and t.params == params for t in trials):
        logger.warning("no dashboard note: study %r in %s is not the one exported", name, mask_url(storage))
        return None
    return study


def retrain_note(prepared: PreparedRetrain, result: RetrainResult, figures: list[str]) -> str:
    """The study's note after `tune retrain`: export, test accuracy mean ± std over seeds, the saved model."""
    export = prepared.export
    accuracies = ", ".join(f"{run.evaluation.accuracy:.4f} (seed {run.seed})" for run in result.runs)
    spread = "" if result.accuracy_std is None else f" ± {result.accuracy_std:.4f}"
    lines = [
        f"## Retrained: test accuracy {result.accuracy_mean:.4f}{spread} over {len(result.runs)} seed(s)",
        "",
        f"- export: `{prepared.export_path.resolve()}` (trial {export.best_trial}, "
        f"validation accuracy {export.best_val_accuracy:.4f})",
        f"- test accuracy per seed: {accuracies}",
        f"- saved model: `{(result.output_dir / 'model.keras').resolve()}` (seed {result.saved.seed})",
        f"- epochs: {prepared.epochs} ({prepared.epochs_reason}), {len(prepared.split.y_train)} training images, "
        f"{prepared.precision}",
    ]
    if figures:
        lines.append(f"- figures (artifacts of this study): {', '.join(figures)}")
    return "\n".join(lines) + "\n"
