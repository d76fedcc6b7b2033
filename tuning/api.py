"""The Python face of `tune`, for notebooks and scripts: one function per command, which the CLI calls too.

`run` is `tune run` (not `search`: that name is the `tuning.search` package). Keywords are
the command line's options: `study=`, `space=`, `data=`, `storage=`, `trials=`, ...

    import tuning
    study = tuning.run(MODEL, trials=20, storage="sqlite:///studies.db")  # MODEL: a built-in's name or yours
    tuning.export(study.study_name, storage="sqlite:///studies.db", robust=3)  # exports/STUDY.json
    result = tuning.retrain(f"exports/{study.study_name}.json", seeds=3)
    print(result.accuracy_mean, result.output_dir)

    # your own model (a function in a file) on your own images:
    from my_models import build
    tuning.run(build, space="my_space.toml", data="digits.npz", trials=30)

Importing this module is as light as `tune --help`: TensorFlow, Keras, Optuna,
pandas and plotly load when a function first needs them.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tuning.errors import TuneError
from tuning.search.config import DEFAULT_STORAGE

if TYPE_CHECKING:
    import optuna

    from tuning.results.evaluate import Evaluation
    from tuning.results.export import Export
    from tuning.results.retrain import RetrainResult

__all__ = ["default_export_path", "evaluate", "export", "plots", "retrain", "run"]


def run(
    model: str | Callable[..., Any] | None = None,
    *,
    trials: int = 20,
    storage: str = DEFAULT_STORAGE,
    study: str = "",
    space: str | Path | None = None,
    data: str | Path | None = None,
    **settings: Any,
) -> optuna.Study:
    """Run (or resume) the study of `model` until it holds `trials` trials; return it.

    `model` is a built-in model's name (mlp, cnn), a reference ("models.py:build", "package.module:build"), or the
    build function itself (defined at the top level of a file); None: the one `space` names.
    `settings` are the other fields of `tuning.search.config.RunConfig` (epochs, pruner,
    seed, ...), with the same defaults as `tune run`.
    """
    from tuning.search.config import RunConfig
    from tuning.search.runner import prepare_run, run_study
    from tuning.search.space import load_space

    if model is None:
        if space is None:
            raise TuneError("name the model (mlp, cnn, your build function or FILE.py:function) or give space=")
        model = load_space(space).arch
    config = RunConfig(
        arch=model_reference(model),
        trials=trials,
        storage=storage,
        study_name=study,
        space_path=None if space is None else str(space),
        data=None if data is None else str(data),
        **settings,
    )
    prepared = prepare_run(config)
    run_study(prepared)
    return prepared.study


def model_reference(model: str | Callable[..., Any]) -> str:
    """The name the registry knows `model` by: a string as it is; a function as FILE.py:function."""
    import inspect

    if isinstance(model, str):
        return model
    if not callable(model):
        raise TuneError(f"model must be a name or a build function, but got {type(model).__name__}")
    source = inspect.getsourcefile(model)
    name = getattr(model, "__qualname__", "")
    if source is None or not name.isidentifier():
        raise TuneError(f"model {model!r}: tune needs a function defined at the top level of a .py file")
    return f"{Path(source).resolve()}:{name}"


def plots(study: str, *, storage: str = DEFAULT_STORAGE, output: str | Path | None = None) -> list[Path]:
    """Importance plots, history, parallel coordinates and the rest of `tune plots` (default dashboards/STUDY/)."""
    from tuning.report.plots import write_plots
    from tuning.search.storage import open_storage
    from tuning.search.study import load_study

    loaded = load_study(open_storage(storage, must_exist=True), study)
    return write_plots(loaded, output or Path("dashboards") / study)


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
