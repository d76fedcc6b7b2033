"""Files attached to trials and studies for optuna-dashboard: learning curves, model summaries, retrain figures.

They go into an Optuna `FileSystemArtifactStore`: by default a folder beside a
SQLite storage file (`studies.db` -> `studies.artifacts/`); other storages need
a folder named explicitly. Optuna attaches an artifact only to a running trial,
so the objective uploads before its trial returns or raises. Storing is a
courtesy to the reader: a failure (unwritable folder, full disk, database
error) is logged once per process and never fails a trial or a retrain.
"""

from __future__ import annotations

import csv
import functools
import io
import logging
import tempfile
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING

from tuning.attrs import TrialCurve, curve_of
from tuning.errors import first_line

if TYPE_CHECKING:
    import keras
    import optuna
    from optuna.artifacts import FileSystemArtifactStore

__all__ = [
    "ARTIFACT_SUFFIX",
    "CURVE_COLUMNS",
    "artifact_dir_for",
    "curve_csv",
    "default_artifact_dir",
    "upload_study_files",
    "upload_trial_artifacts",
]

logger = logging.getLogger(__name__)

ARTIFACT_SUFFIX = ".artifacts"  # studies.db -> studies.artifacts/
CURVE_COLUMNS = ("check", "epoch", "seconds", "train_accuracy", "train_loss", "val_accuracy", "val_loss")


def default_artifact_dir(storage: str) -> Path | None:
    """The folder beside a SQLite storage file (`runs/x.db` -> `runs/x.artifacts`); None for other storages."""
    from tuning.search.storage import check_url, sqlite_path

    path = sqlite_path(check_url(storage))
    return None if path is None else path.with_suffix(ARTIFACT_SUFFIX)


def artifact_dir_for(storage: str, artifact_dir: str | Path | None) -> Path | None:
    """`artifact_dir` if given, else the storage's default folder (None: the storage has none)."""
    return Path(artifact_dir) if artifact_dir else default_artifact_dir(storage)


def curve_csv(curve: TrialCurve) -> str:
    """The learning curve as CSV, one row per check, with the epochs trained at each."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CURVE_COLUMNS)
    columns = (curve.seconds, curve.train_accuracy, curve.train_loss, curve.val_accuracy, curve.val_loss)
    for index, epoch in enumerate(curve.epochs):
        values = [column[index] if index < len(column) else "" for column in columns]
        writer.writerow([index + 1, epoch, *values])
    return out.getvalue()


def upload_trial_artifacts(
    trial: optuna.Trial, artifact_dir: str | Path | None, model: keras.Model | None, *, png: bool = True
) -> None:
    """Attach the running trial's learning curve (CSV, and with `png` a PNG where Chromium is) and model summary."""
    if artifact_dir is None:
        return
    try:
        with tempfile.TemporaryDirectory(prefix="tune-artifacts-") as tmp:
            files = _trial_files(trial, model, Path(tmp), png)
            _upload(trial, Path(artifact_dir), files)
    except Exception as exc:  # any failure to store: the trial's result matters more than its pictures
        _warn_once("trial artifacts", str(artifact_dir), f"{type(exc).__name__}: {first_line(exc)}")


def upload_study_files(study: optuna.Study, artifact_dir: str | Path | None, files: Iterable[Path]) -> int:
    """Attach existing files (a retrain's figures) to the study; return how many were stored."""
    if artifact_dir is None:
        return 0
    try:
        return _upload(study, Path(artifact_dir), [path for path in files if path.is_file()])
    except Exception as exc:  # the retrain's outputs are written already; the dashboard copy is extra
        _warn_once("study artifacts", str(artifact_dir), f"{type(exc).__name__}: {first_line(exc)}")
        return 0


def _trial_files(trial: optuna.Trial, model: keras.Model | None, folder: Path, png: bool) -> list[Path]:
    from tuning.render import curve_figure, figure_png, png_wanted

    curve = curve_of(trial.user_attrs)
    files = [folder / "learning_curve.csv"]
    files[0].write_text(curve_csv(curve), encoding="utf-8")
    if model is not None:
        files.append(folder / "model_summary.txt")
        files[-1].write_text(_summary(model), encoding="utf-8")
    if png and curve.val_accuracy and png_wanted(None):
        try:  # the picture is the least of the three: a failed render keeps the CSV and the summary
            image = figure_png(curve_figure(curve, f"trial {trial.number}: learning curve"))
        except Exception as exc:
            _warn_once("trial learning-curve PNGs", "kaleido/Chromium", f"{type(exc).__name__}: {first_line(exc)}")
        else:
            files.append(folder / "learning_curve.png")
            files[-1].write_bytes(image)
    return files


def _summary(model: keras.Model) -> str:
    lines: list[str] = []
    model.summary(print_fn=lambda line, **_: lines.append(line))
    return "\n".join(lines) + "\n"


def _upload(target: optuna.Trial | optuna.Study, folder: Path, files: list[Path]) -> int:
    from optuna.artifacts import upload_artifact

    store = _store(folder)
    for path in files:
        upload_artifact(artifact_store=store, file_path=str(path), study_or_trial=target)
    return len(files)


def _store(folder: Path) -> FileSystemArtifactStore:
    from optuna.artifacts import FileSystemArtifactStore

    folder.mkdir(parents=True, exist_ok=True)
    return FileSystemArtifactStore(folder)


@functools.cache
def _warn_once(what: str, where: str, reason: str) -> None:
    """Log a storing failure once per process and kind, not once per trial."""
    logger.warning("could not store %s in %s (%s); the search goes on without them", what, where, reason)
