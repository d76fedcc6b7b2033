"""What `tune retrain` writes: the output folder's rules, the metrics file and the figures.

The folder is built under a temporary name and renamed into place at the end
(`tuning.atomic`), so a failure or Ctrl-C leaves nothing behind.
"""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tuning.errors import TuneError
from tuning.results.export import package_versions

if TYPE_CHECKING:
    from tuning.results.retrain import PreparedRetrain, RetrainResult

__all__ = ["OUTPUT_FILES", "check_output_dir", "write_outputs"]

# Everything retrain writes; an existing output folder holding only these is replaced.
OUTPUT_FILES = frozenset(
    {
        "model.keras",
        "metrics.json",
        "history.html",
        "history.png",
        "confusion_matrix.html",
        "confusion_matrix.png",
        "plotly.min.js",  # the pages' one shared copy (render.py write_figures)
    }
)


def check_output_dir(target: Path) -> None:
    """Refuse, before training, a folder that cannot be created or would overwrite foreign files."""
    if target.exists():
        if not target.is_dir():
            raise TuneError(f"output dir {target} exists and is not a directory")
        foreign = sorted(p.name for p in target.iterdir() if p.name not in OUTPUT_FILES)
        if foreign:
            raise TuneError(
                f"output dir {target} holds files tune retrain did not write ({', '.join(foreign[:3])}); "
                "choose another --output-dir"
            )
    ancestor = target.parent
    while not ancestor.exists() and ancestor != ancestor.parent:
        ancestor = ancestor.parent
    if not ancestor.is_dir():
        raise TuneError(f"cannot create output dir {target}: {ancestor} is not a directory")
    if not os.access(ancestor, os.W_OK | os.X_OK):
        raise TuneError(f"cannot create output dir {target}: {ancestor} is not writable")


def write_outputs(prepared: PreparedRetrain, result: RetrainResult, staging: Path) -> list[str]:
    """Write the figures and metrics.json into `staging` (model.keras is already there); return the file names."""
    from tuning.render import write_figures
    from tuning.results.figures import confusion_figure, history_figure

    name = prepared.export.study
    saved = result.saved
    figures = {
        "history": history_figure([(run.seed, run.history) for run in result.runs], f"{name} — retraining history"),
        "confusion_matrix": confusion_figure(
            saved.evaluation.confusion,
            saved.evaluation.class_names,
            f"{name} — test confusion matrix (seed {saved.seed}, accuracy {saved.evaluation.accuracy:.4f})",
        ),
    }
    plots = write_figures(figures, staging, png=prepared.config.png)
    metrics = staging / "metrics.json"
    metrics.write_text(json.dumps(_metrics(prepared, result), indent=2) + "\n", encoding="utf-8")
    return ["model.keras", metrics.name, *(path.name for path in plots)]


def _metrics(prepared: PreparedRetrain, result: RetrainResult) -> dict[str, Any]:
    config, split, data = prepared.config, prepared.split, prepared.data
    saved = result.saved
    return {
        "study": prepared.export.study,
        "arch": prepared.export.arch,
        **saved.evaluation.to_dict(),
        "saved_run": result.saved_run,
        "saved_seed": saved.seed,
        "saved_because": "best validation accuracy" if config.validation_split else "first seed",
        "test_accuracy_mean": result.accuracy_mean,
        "test_accuracy_std": result.accuracy_std,
        "seeds": list(prepared.seeds),
        "epochs": prepared.epochs,
        "epochs_reason": prepared.epochs_reason,
        "precision": prepared.precision,
        "validation_split": config.validation_split,
        "patience": config.patience if config.validation_split else None,
        "train_samples": len(split.y_train),
        "validation_samples": len(split.y_val),
        "wall_clock_seconds": round(result.seconds, 3),
        "runs": [run.to_dict() for run in result.runs],
        "data": {
            "name": data.name,
            "source": data.source,
            "fingerprint": data.fingerprint,
            "image_shape": list(data.image_shape),
        },
        "export": {"path": str(prepared.export_path.resolve()), "content": prepared.export.to_dict()},
        "versions": package_versions(),
        "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
    }
