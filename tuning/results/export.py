"""Export a study's best trial as JSON: enough to rebuild and retrain the exact model."""

from __future__ import annotations

import json
import os
import platform
import tempfile
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tuning.errors import TuneError

if TYPE_CHECKING:
    import optuna

__all__ = ["EXPORT_FORMAT", "EXPORT_KEYS", "best_config", "package_versions", "write_json"]

EXPORT_FORMAT = 1
# The top-level keys of format EXPORT_FORMAT, exactly as best_config writes them.
EXPORT_KEYS = frozenset(
    {
        "format",
        "study",
        "arch",
        "best_trial",
        "best_val_accuracy",
        "best_epoch",
        "epochs",
        "precision",
        "params",
        "model_params",
        "n_params",
        "seed",
        "space_hash",
        "space",
        "data",
        "trials",
        "versions",
        "exported_at",
    }
)
_PACKAGES = ("tune", "tensorflow", "keras", "optuna", "optuna-integration", "numpy")


def package_versions() -> dict[str, str]:
    """Installed versions of the packages a result depends on (without importing them)."""
    versions = {"python": platform.python_version()}
    for name in _PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = "not installed"
    return versions


def best_config(study: optuna.Study) -> dict[str, Any]:
    """The best complete trial of `study` with what it takes to rebuild its model."""
    from optuna.trial import TrialState

    from tuning.model.params import resolve_params

    complete = study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,))
    if not complete:
        raise TuneError(f"study {study.study_name!r} has no complete trial yet; run `tune run` first")
    best = study.best_trial
    study_attrs = study.user_attrs
    arch = best.user_attrs.get("arch") or study_attrs.get("arch")
    if arch is None:
        raise TuneError(f"study {study.study_name!r} was not created by tune (no architecture recorded)")
    attrs = best.user_attrs
    return {
        "format": EXPORT_FORMAT,
        "study": study.study_name,
        "arch": arch,
        "best_trial": best.number,
        "best_val_accuracy": best.value,
        "best_epoch": attrs.get("best_epoch"),
        "epochs": study_attrs.get("epochs"),
        "precision": attrs.get("precision", "float32"),  # trials older than the attribute ran in float32
        "params": best.params,
        "model_params": resolve_params(arch, best.params),
        "n_params": attrs.get("n_params"),
        "seed": attrs.get("seed"),
        "space_hash": study_attrs.get("space_hash"),
        "space": study_attrs.get("space"),
        "data": {
            "fingerprint": study_attrs.get("data_fingerprint"),
            "source": attrs.get("data_source"),
            "train_samples": attrs.get("train_samples"),
            "validation_size": study_attrs.get("validation_size"),
            "max_train_samples": study_attrs.get("max_train_samples"),
            "split_seed": study_attrs.get("split_seed"),
        },
        "trials": {"complete": len(complete), "total": len(study.get_trials(deepcopy=False))},
        "versions": package_versions(),
        "exported_at": datetime.now(UTC).isoformat(timespec="seconds"),
    }


def write_json(data: dict[str, Any], path: str | Path) -> Path:
    """Write `data` to `path` atomically: a reader never sees half a file."""
    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile("w", dir=path.parent, suffix=".tmp", delete=False, encoding="utf-8") as f:
            json.dump(data, f, indent=2, sort_keys=False)
            f.write("\n")
        os.replace(f.name, path)
    except OSError as exc:
        raise TuneError(f"cannot write {path}: {exc.strerror or exc}") from None
    return path
