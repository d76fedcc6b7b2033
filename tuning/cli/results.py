"""`tune export`, `tune retrain` and `tune evaluate`: from a study's best trial to a test-evaluated model."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from tuning import api
from tuning.cli.commandline import command_line
from tuning.cli.options import Choice, console, default_of, searched_data_option, setting_option, storage_option
from tuning.cli.tables import print_table
from tuning.data.locate import data_hint
from tuning.model.builders import PRECISIONS
from tuning.model.train import VAL_ACCURACY
from tuning.results.retrain import RetrainConfig
from tuning.results.robust import RobustConfig

if TYPE_CHECKING:
    from rich.console import Console

    from tuning.results.evaluate import Evaluation
    from tuning.results.export import Export
    from tuning.results.retrain import PreparedRetrain, RetrainResult
    from tuning.results.robust import PreparedRobust

__all__ = ["evaluate_command", "export", "retrain_command"]


@click.command()
@click.argument("study")
@click.option("--output", "-o", default=None, help="JSON file to write. [default: exports/STUDY.json]")
@click.option(
    "--robust",
    type=int,
    default=None,
    metavar="K",
    help="Train the K best configurations again with --robust-seeds more seeds each, on the search's "
    "validation split, and export the best mean validation accuracy (K*S more training runs).",
)
@setting_option(RobustConfig, "--robust-seeds", "With --robust: extra seeds per configuration.", metavar="S")
@storage_option
@searched_data_option
def export(
    study: str, output: str | None, robust: int | None, robust_seeds: int, storage: str, data: str | None
) -> None:
    """Write the best configuration of STUDY as JSON (for `tune retrain`); with --robust, the best mean over seeds."""
    path = Path(output) if output else api.default_export_path(study)
    if robust is None:
        if click.get_current_context().get_parameter_source("robust_seeds") != click.core.ParameterSource.DEFAULT:
            raise click.UsageError("--robust-seeds needs --robust K")
        best = api.export(study, storage=storage, output=path)
    else:
        best = _robust_export(study, storage, RobustConfig(robust, robust_seeds, data), console())
        best.write(path)
    console().print(
        f"wrote {path}: trial {best.best_trial}, validation accuracy "
        f"{best.best_val_accuracy:.4f}, {best.arch} with {best.n_params} parameters"
    )
    # As printed, it reads the files the study searched and notes its result on the study.
    retrain = command_line(retrain_command, str(path), storage=storage, data=data_hint(best.data.source))
    console().print(f"next: {retrain}", markup=False)


def _robust_export(study: str, storage: str, config: RobustConfig, console: Console) -> Export:
    """Train the candidates again with progress bars; print their table and whether the choice changed."""
    from tuning.results.robust import prepare_robust
    from tuning.search.storage import open_storage
    from tuning.search.study import load_study

    prepared = prepare_robust(load_study(open_storage(storage, must_exist=True), study), config)
    split, trials = prepared.split, ", ".join(str(plan.trial.number) for plan in prepared.candidates)
    if prepared.ranked.check is not None:
        pruned = ", ".join(str(plan.trial.number) for plan in prepared.candidates if not plan.complete)
        console.print(
            f"fewer than {config.robust} configurations of study {study!r} completed: the candidates are its best "
            f"trial and the best of {prepared.ranked.describe()}; the pruned ones (trials {pruned}) are trained "
            "with their own seed again too, for their whole budget"
        )
    console.print(
        f"training the {len(prepared.candidates)} best configuration(s) of study {study!r} (trials {trials}) again "
        f"with {config.robust_seeds} more seed(s) each: {len(prepared.runs)} runs on {len(split.y_train)} images, "
        f"validating on {len(split.y_val)}"
    )
    chosen = _robust_with_progress(prepared, console)
    _print_candidates(chosen, console)
    return chosen


def _robust_with_progress(prepared: PreparedRobust, console: Console) -> Export:
    from tuning.cli.progress import progress_bars
    from tuning.results.robust import RobustRun, robust_export

    runs = prepared.runs
    progress = progress_bars(console)
    bar = progress.add_task("runs", total=len(runs), status="")
    epochs = progress.add_task("epochs", total=runs[0][0].epochs, status="")

    def on_epoch(index: int, epoch: float, logs: dict[str, float]) -> None:
        plan, seed = runs[index]
        status = f"trial {plan.trial.number}, seed {seed}: val_acc {logs.get('val_accuracy', float('nan')):.4f}"
        progress.update(epochs, completed=epoch, status=status)

    def on_run(run: RobustRun) -> None:
        console.print(
            f"trial {run.trial:>3}  seed {run.seed:>10}  val_acc {run.val_accuracy:.4f}  ({run.seconds:.1f} s)"
        )
        progress.update(bar, advance=1)
        if run.index + 1 < len(runs):
            progress.reset(epochs, total=runs[run.index + 1][0].epochs, status="")

    with progress:
        return robust_export(prepared, on_epoch=on_epoch, on_run=on_run)


def _print_candidates(chosen: Export, console: Console) -> None:
    record = chosen.robust
    assert record is not None
    rows = []
    for candidate in record.candidates:
        marks = [
            name
            for name, trial in (("plain best", record.plain_trial), ("chosen", record.chosen_trial))
            if trial == candidate.trial
        ]
        scores = "  ".join(f"{score:.4f}" for score in candidate.val_accuracies)
        seeds = ", ".join(map(str, candidate.seeds))
        rows.append([str(candidate.trial), seeds, scores, f"{candidate.mean:.4f}", ", ".join(marks)])
    print_table(console, ["trial", "seeds", "validation accuracy per run", "mean", ""], rows)
    means = {candidate.trial: candidate.mean for candidate in record.candidates}
    runs = record.robust_seeds + 1
    if record.chosen_trial == record.plain_trial:
        console.print(
            f"robust choice: trial {record.chosen_trial} (mean {means[record.chosen_trial]:.4f} over "
            f"{runs} runs), the same as the plain best"
        )
    else:
        console.print(
            f"robust choice: trial {record.chosen_trial} (mean {means[record.chosen_trial]:.4f} over {runs} runs) "
            f"differs from the plain best, trial {record.plain_trial} (mean {means[record.plain_trial]:.4f})"
        )


@click.command("retrain")
@click.argument("export_path", metavar="EXPORT.json")
@click.option("--epochs", type=int, default=None, help="Training epochs. [default: the export's best epoch]")
@click.option("--output-dir", default=None, help="Folder for the model, metrics and plots. [default: models/STUDY/]")
@setting_option(
    RetrainConfig,
    "--extend",
    "Without --epochs: train F times the search's epochs when the best trial still improved in its last epoch.",
    type=float,
    metavar="F",
)
@setting_option(RetrainConfig, "--seeds", "Train K times with different seeds; mean ± std.")
@click.option("--seed", type=int, default=None, help="Seed of the first training. [default: the best trial's seed]")
@click.option(
    "--validation-split/--no-validation-split",
    default=default_of(RetrainConfig, "validation_split"),
    show_default=True,
    help="Keep the search's validation images out of training, for early stopping and best-epoch restore.",
)
@click.option("--max-train-samples", type=int, default=None, help="Train on a stratified subset of N images (quick).")
@click.option(
    "--precision",
    type=Choice(list(PRECISIONS)),
    default=None,
    help="float32 or bfloat16. [default: the precision of the best trial]",
)
@click.option("--png/--no-png", default=None, help="PNG copies of the plots. [default: when a Chromium is installed]")
@searched_data_option
@setting_option(
    RetrainConfig,
    "--storage",
    "The study's storage (URL or SQLite file): its optuna-dashboard note gets the test accuracy and its "
    "artifacts the PNG figures; skipped where the study is not there.",
)
@click.option(
    "--artifact-dir",
    default=None,
    help="Folder of the study's dashboard artifacts. [default: beside a SQLite storage, studies.artifacts/]",
)
@click.option(
    "--accept-other-data",
    is_flag=True,
    default=False,
    help="Retrain the exported configuration on --data other than the data the study searched.",
)
@click.option(
    "--accept-changed-model",
    is_flag=True,
    default=False,
    help="Retrain your model (FILE.py:function) even where its file changed since the search.",
)
def retrain_command(export_path: str, **options: Any) -> None:
    """Retrain the configuration in EXPORT.json on the training images; evaluate once on the test set."""
    from tuning.results.retrain import prepare_retrain

    prepared = prepare_retrain(RetrainConfig(export_path=export_path, **options))
    out = console(keep_going=True)  # `| head` must not cost the model: it trains on, output discarded
    export, split = prepared.export, prepared.split
    held_out = f", validating on {len(split.y_val)} for early stopping" if len(split.y_val) else ""
    out.print(
        f"retraining {export.arch} from study {export.study!r} (trial {export.best_trial}, "
        f"validation accuracy {export.best_val_accuracy:.4f}) on {len(split.y_train)} images{held_out}"
    )
    out.print(f"epochs: {prepared.epochs} ({prepared.epochs_reason}); seeds: {', '.join(map(str, prepared.seeds))}")
    result = _retrain_with_progress(prepared, out)
    std, n = result.accuracy_std, len(result.runs)
    spread = "" if std is None else f" ± {std:.4f} (mean ± sample std over {n} seeds)"
    why = "best validation accuracy" if prepared.config.validation_split else "first seed"
    out.print(f"test accuracy {result.accuracy_mean:.4f}{spread}")
    out.print(f"saved model: seed {result.saved.seed} ({why}); its per-class test accuracy:")
    _print_evaluation(result.saved.evaluation, out)
    out.print(f"wrote {result.output_dir}/: {', '.join(result.files)} ({result.seconds:.1f} s)")


def _retrain_with_progress(prepared: PreparedRetrain, console: Console) -> RetrainResult:
    from tuning.cli.progress import progress_bars
    from tuning.results.retrain import RunResult, retrain

    progress = progress_bars(console)
    runs = progress.add_task("seeds", total=len(prepared.seeds), status="")
    epochs = progress.add_task("epochs", total=prepared.epochs, status="")

    def on_epoch(index: int, epoch: float, logs: dict[str, float]) -> None:
        shown = [f"{key} {logs[key]:.4f}" for key in ("loss", "accuracy", VAL_ACCURACY) if key in logs]
        progress.update(epochs, completed=epoch, status=f"seed {prepared.seeds[index]}: {'  '.join(shown)}")

    def on_run(index: int, run: RunResult) -> None:
        best = "" if run.best_epoch is None else f", best epoch {run.best_epoch} (val_acc {run.best_val_accuracy:.4f})"
        console.print(
            f"seed {run.seed}: test accuracy {run.evaluation.accuracy:.4f}, loss {run.evaluation.loss:.4f}  "
            f"({len(run.epoch_seconds)} epochs{best}, {run.seconds:.1f} s)"
        )
        progress.update(runs, advance=1)
        progress.reset(epochs, total=prepared.epochs, status="")

    with progress:
        return retrain(prepared, on_epoch=on_epoch, on_run=on_run)


@click.command("evaluate")
@click.argument("model_path", metavar="MODEL.keras")
@searched_data_option
def evaluate_command(model_path: str, data: str | None) -> None:
    """Test accuracy, loss and per-class accuracy of a saved Keras model on the 10,000 test images."""
    evaluation = api.evaluate(model_path, data)
    out = console()
    out.print(
        f"{model_path}: test accuracy {evaluation.accuracy:.4f}, loss {evaluation.loss:.4f} "
        f"on {evaluation.n_images} images"
    )
    _print_evaluation(evaluation, out)


def _print_evaluation(evaluation: Evaluation, console: Console) -> None:
    rows = []
    confusion = evaluation.confusion
    for i, (name, accuracy) in enumerate(evaluation.per_class_accuracy.items()):
        row = confusion[i].copy()
        row[i] = 0
        other = int(row.argmax())
        mistaken = f"{list(evaluation.per_class_accuracy)[other]} ({row[other]})" if row[other] else "-"
        rows.append([name, f"{accuracy:.4f}", str(int(confusion[i].sum())), mistaken])
    print_table(console, ["class", "test accuracy", "images", "most often mistaken for"], rows)
