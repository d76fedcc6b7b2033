"""The terminal display of a running study: a bar over trials, one over epochs, a line per trial."""

from __future__ import annotations

import statistics
import time
from collections.abc import Sequence
from types import TracebackType
from typing import TYPE_CHECKING

from tuning import attrs
from tuning.model.train import VAL_ACCURACY
from tuning.text import format_duration

if TYPE_CHECKING:
    import optuna
    from rich.console import Console
    from rich.progress import Progress

__all__ = ["SETTLED_TRIALS", "TrialProgress", "describe_trial", "eta_seconds", "progress_bars"]

SETTLED_TRIALS = 10  # sampled trials whose mean duration stands for the rest (`eta_seconds`)


def describe_trial(trial: optuna.trial.FrozenTrial) -> str:
    """One line saying how a finished trial ended."""
    stored = trial.user_attrs
    curve = attrs.curve_of(stored)
    seconds = sum(curve.seconds)
    epochs = stored.get(attrs.EPOCHS_RUN, 0) + stored.get(attrs.KT_INITIAL_EPOCH, 0)  # a promoted trial's parent's too
    state = trial.state.name
    start = bool(stored.get(attrs.START))  # the space's [start] configuration (--defaults-first)
    if state == "COMPLETE":
        return (
            f"trial {trial.number:>3}  [green]complete[/]  val_acc {trial.value:.4f}  best epoch "
            f"{stored.get(attrs.BEST_EPOCH)}/{epochs}  ({seconds:.1f} s)" + ("  (start configuration)" * start)
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
    """A running study's display, fed by Optuna's trial callback and the trainer's epoch hook.

    Each trial that ends gets a line with the trials done and the study's ETA. On a
    terminal, a bar over trials and one over the running trial's epochs (advanced
    at each check, several times per epoch). When output is a file or a pipe, where
    bars do not show, a progress line every `period` seconds instead.
    """

    def __init__(
        self,
        console: Console,
        *,
        total: int,
        epochs: int,
        expected_epochs: float | None = None,
        epoch_bar: bool = True,
        jobs: int = 1,
        period: float = 60.0,
    ) -> None:
        """`expected_epochs`: per trial under the pruner (search/study.py), default all `epochs`.
        `epoch_bar` False: trials run in other processes (`--jobs`), seen only when they end."""
        self._console = console
        self._epochs = epochs
        self._expected_epochs = float(epochs) if expected_epochs is None else expected_epochs
        self._jobs = jobs
        self._period = period
        self._progress = progress_bars(console)
        self._total = total
        self._done = 0  # trials this run has seen end
        self._trial_seconds: list[float] = []  # of those, the sampled ones' (not the start trial's)
        self._trial_started = self._last_line = time.monotonic()
        self._epoch_seconds: float | None = None  # the running trial's pace so far
        self._spent = (0.0, 0.0)  # seconds and epochs of every trial that ended: the study's pace
        self._best = "best -"
        self._trials = self._progress.add_task("trials", total=total, status=self._best)
        self._epoch_task = self._progress.add_task("epochs", total=epochs, status="") if epoch_bar else None

    def __enter__(self) -> TrialProgress:
        self._trial_started = self._last_line = time.monotonic()
        self._progress.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._progress.stop()

    def on_epoch(self, trial_number: int, epoch: float, logs: dict[str, float]) -> None:
        if self._epoch_task is None:
            return
        now = time.monotonic()
        self._epoch_seconds = (now - self._trial_started) / epoch if epoch > 0 else None
        val_acc = logs.get(VAL_ACCURACY, float("nan"))
        self._progress.update(self._epoch_task, completed=epoch, status=f"trial {trial_number}: val_acc {val_acc:.4f}")
        self._progress.update(self._trials, status=f"{self._best}  ETA {format_duration(self.eta())}")
        if not self._console.is_terminal and now - self._last_line >= self._period:
            self._last_line = now
            self._console.print(
                f"  trial {trial_number}: epoch {epoch:g} of {self._epochs}, val_acc {val_acc:.4f}; "
                f"{self._done} of {self._total} trials done, ETA {format_duration(self.eta())}",
                markup=False,
            )

    def on_trial(self, study: optuna.Study, trial: optuna.trial.FrozenTrial) -> None:
        now = time.monotonic()
        seconds = trial.duration.total_seconds() if trial.duration else now - self._trial_started
        self._done += 1
        epochs = float(trial.user_attrs.get(attrs.EPOCHS_RUN, 0.0))
        if not trial.user_attrs.get(attrs.START):
            self._trial_seconds.append(seconds)
        self._spent = (self._spent[0] + seconds, self._spent[1] + epochs)
        self._trial_started = self._last_line = now
        self._epoch_seconds = None
        best = _best_value(study)
        self._best = "best -" if best is None else f"best {best:.4f}"
        eta = format_duration(self.eta())
        self._console.print(f"{describe_trial(trial)}; {self._done} of {self._total} done, ETA {eta}")
        self._progress.update(self._trials, advance=1, status=f"{self._best}  ETA {eta}")
        if self._epoch_task is not None:
            self._progress.reset(self._epoch_task, total=self._epochs, status="")

    def eta(self) -> float:
        """Seconds until the trials this run has left are done, from the times measured so far."""
        seconds, epochs = self._spent
        return eta_seconds(
            trial_seconds=self._trial_seconds,
            left=self._total - self._done,
            expected_epochs=self._expected_epochs,
            jobs=self._jobs,
            epoch_seconds=seconds / epochs if epochs > 0 else self._epoch_seconds,
            running_for=time.monotonic() - self._trial_started if self._jobs == 1 else 0.0,
        )


def _best_value(study: optuna.Study) -> float | None:
    try:
        return study.best_value
    except ValueError:  # no complete trial yet
        return None


def eta_seconds(
    *,
    trial_seconds: Sequence[float],
    left: int,
    expected_epochs: float,
    jobs: int = 1,
    epoch_seconds: float | None = None,
    running_for: float = 0.0,
) -> float:
    """Seconds until `left` trials (the running ones among them) are done, `jobs` at a time.

    Once `SETTLED_TRIALS` sampled trials have finished (not the start trial, which leads
    every rung and runs every epoch), a trial takes their mean. Before, the pruner's
    `expected_epochs` per trial (the engine's) at `epoch_seconds`, the pace measured so
    far: trial times are skewed (a few run every epoch, most stop at the first rung), so
    the mean of a few is far off; a study whose first trial ran all 6 epochs was once
    shown 7 times its real length. Without a pace, the mean; NaN with neither. The
    running trial has been going for `running_for` seconds already.
    """
    if left <= 0:
        return 0.0
    if len(trial_seconds) >= SETTLED_TRIALS or (trial_seconds and epoch_seconds is None):
        per_trial = statistics.fmean(trial_seconds)
    elif epoch_seconds is not None:
        per_trial = epoch_seconds * expected_epochs
    else:
        return float("nan")
    return max(per_trial * left / jobs - running_for, 0.0)
