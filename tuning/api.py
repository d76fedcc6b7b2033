"""The Python face of `tune`, for notebooks and scripts: one function per command, which the CLI calls too.

`run` is `tune run` (not `search`: that name is the `tuning.search` package).

    import tuning
    study = tuning.run("mlp", trials=20, storage="sqlite:///studies.db")
    tuning.export("mlp", storage="sqlite:///studies.db", output="exports/mlp.json")
    # or: the best mean over 3 runs of each of the 5 best configurations
    tuning.export("mlp", storage="sqlite:///studies.db", robust=5, robust_seeds=2)
    result = tuning.retrain("exports/mlp.json", seeds=3)
    print(result.accuracy_mean, result.output_dir)

Importing this module is as light as `tune --help`: TensorFlow, Keras, Optuna,
pandas and plotly load when a function first needs them.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from tuning.search.config import DEFAULT_STORAGE

if TYPE_CHECKING:
    import optuna

    from tuning.results.evaluate import Evaluation
    from tuning.results.export import Export
    from tuning.results.retrain import RetrainResult

__all__ = ["default_export_path", "evaluate", "export", "retrain", "run"]


def run(arch: str, *, trials: int = 20, storage: str = DEFAULT_STORAGE, **settings: Any) -> optuna.Study:
    """Run (or resume) the study for `arch` until it holds `trials` trials; return it.

    `settings` are the other fields of `tuning.search.config.RunConfig` (epochs,
    pruner, seed, study_name, ...), with the same defaults as `tune run`.
    """
    from tuning.search.config import RunConfig
    from tuning.search.runner import prepare_run, run_study

    prepared = prepare_run(RunConfig(arch=arch, trials=trials, storage=storage, **settings))
    run_study(prepared)
    return prepared.study


def default_export_path(study: str) -> Path:
    """Where `tune export STUDY` writes by default."""
    return Path("exports") / f"{study}.json"


def export(
    study: str,
    *,
    storage: str = DEFAULT_STORAGE,
    output: str | Path | None = None,
    robust: int | None = None,
    **settings: Any,
) -> Export:
    """Write the best trial of `study` as JSON (default: exports/STUDY.json) and return it.

    With `robust=K`, train the K best configurations again with more seeds on the
    search's validation split and export the one with the best mean validation
    accuracy (`tune export --robust`); `settings` are the other fields of
    `tuning.results.robust.RobustConfig` (robust_seeds, data). The study is only read.
    """
    from tuning.errors import TuneError
    from tuning.results.export import Export
    from tuning.results.robust import RobustConfig, prepare_robust, robust_export
    from tuning.search.storage import open_storage
    from tuning.search.study import load_study

    if robust is None and settings:
        raise TuneError(f"{', '.join(settings)} only apply with robust=K")
    config = None if robust is None else RobustConfig(robust=robust, **settings)
    loaded = load_study(open_storage(storage, must_exist=True), study)
    best = Export.from_study(loaded) if config is None else robust_export(prepare_robust(loaded, config))
    best.write(output or default_export_path(study))
    return best


def retrain(export_path: str | Path, **settings: Any) -> RetrainResult:
    """Retrain an export's configuration and evaluate it once on the test set.

    `settings` are the other fields of `tuning.results.retrain.RetrainConfig`
    (epochs, seeds, output_dir, ...). The result holds the test accuracy
    (`accuracy_mean`, `accuracy_std`), every run, and `output_dir` with the saved model.
    """
    from tuning.results.retrain import RetrainConfig, prepare_retrain
    from tuning.results.retrain import retrain as run_retrain

    return run_retrain(prepare_retrain(RetrainConfig(export_path=str(export_path), **settings)))


def evaluate(model_path: str | Path, data: str | Path | None = None) -> Evaluation:
    """Test accuracy, loss, per-class accuracy and confusion matrix of a saved Keras model."""
    from tuning.results.evaluate import evaluate_file

    return evaluate_file(model_path, data)
