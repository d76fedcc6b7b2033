"""The terminal display of a running study: a bar over trials, one over epochs, a line per trial."""

from __future__ import annotations

import time
from types import TracebackType
from typing import TYPE_CHECKING

from tuning import attrs

if TYPE_CHECKING:
    import optuna
    from rich.console import Console
    from rich.progress import Progress

__all__ = ["TrialProgress", "describe_trial", "eta_seconds", "format_duration", "progress_bars"]


def describe_trial(trial: optuna.trial.FrozenTrial) -> str:
    """One line saying how a finished trial ended."""
    stored = trial.user_attrs
    curve = attrs.curve_of(stored)
    seconds = sum(curve.seconds)
    epochs = stored.get(attrs.EPOCHS_RUN, 0) + stored.get(attrs.KT_INITIAL_EPOCH, 0)  # a promoted trial's parent's too
    state = trial.state.name
    if state == "COMPLETE":
        return (
            f"trial {trial.number:>3}  [green]complete[/]  val_acc {trial.value:.4f}  best epoch "
            f"{stored.get(attrs.BEST_EPOCH)}/{epochs}  ({seconds:.1f} s)"
        )
    if state == "PRUNED":
        scores = curve.val_accuracy or [float("nan")]
        return (
            f"trial {trial.number:>3}  [yellow]pruned[/]    after epoch {epochs}, val_acc {scores[-1]:.4f}"
            f"  ({seconds:.1f} s)"
        )
    return f"trial {trial.number:>3}  [red]failed[/]    {stored.get(attrs.FAIL_REASON, 'unknown error')}"


def progress_bars(console: Console) -> Progress:
    """Bars with a description, a count, a status field and the time taken; gone when done."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[status]}"),
        TimeElapsedColumn(),
        console=console,
        transient=True,
    )


class TrialProgress:
    """Rich progress bars fed by Optuna's trial callback and the trainer's epoch hook."""

    def __init__(self, console: Console, *, total: int, epochs: int | None) -> None:
        """`epochs` None: no epoch bar (trials run in other processes, seen only when they end)."""
        self._console = console
        self._epochs = epochs
        self._progress = progress_bars(console)
        self._total = total
        self._done = 0
        self._started = time.monotonic()
        self._trials = self._progress.add_task("trials", total=total, status="best -")
        self._epoch_task = None if epochs is None else self._progress.add_task("epochs", total=epochs, status="")

    def __enter__(self) -> TrialProgress:
        self._started = time.monotonic()
        self._progress.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._progress.stop()

    def on_epoch(self, trial_number: int, epoch: float, logs: dict[str, float]) -> None:
        if self._epoch_task is None:
            return
        status = f"trial {trial_number}: val_acc {logs.get('val_accuracy', float('nan')):.4f}"
        self._progress.update(self._epoch_task, completed=epoch, status=status)

    def on_trial(self, study: optuna.Study, trial: optuna.trial.FrozenTrial) -> None:
        self._console.print(describe_trial(trial))
        best = _best_value(study)
        self._done += 1
        left = eta_seconds(time.monotonic() - self._started, self._done, self._total)
        status = ("best -" if best is None else f"best {best:.4f}") + f"  ETA {format_duration(left)}"
        self._progress.update(self._trials, advance=1, status=status)
        if self._epoch_task is not None:
            self._progress.reset(self._epoch_task, total=self._epochs, status="")


def _best_value(study: optuna.Study) -> float | None:
    try:
        return study.best_value
    except ValueError:  # no complete trial yet
        return None


def eta_seconds(elapsed: float, done: int, total: int) -> float:
    """Seconds until `total` trials, at the pace of the `done` trials this run has finished in `elapsed`."""
    if done <= 0:
        return float("nan")
    return elapsed / done * max(total - done, 0)


def format_duration(seconds: float) -> str:
    """'45 s', '12 min', '1 h 05 min'; '?' when unknown."""
    if seconds != seconds:  # NaN: nothing finished yet
        return "?"
    minutes = round(seconds / 60)
    if seconds < 60:
        return f"{seconds:.0f} s"
    if minutes < 60:
        return f"{minutes} min"
    return f"{minutes // 60} h {minutes % 60:02d} min"
