"""One row per trial of a study, for `tune trials`: what it tried, how far it got, why it stopped."""

from __future__ import annotations

import datetime
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any

from tuning import attrs
from tuning.report.summary import STATE_WORDS

if TYPE_CHECKING:
    import optuna

__all__ = ["TrialRow", "trial_rows"]

_FIXED_PARAMS = "fixed_params"  # Optuna's system attribute holding a queued trial's given parameters


@dataclass(frozen=True)
class TrialRow:
    number: int
    state: str  # complete, pruned, failed, running or queued (summary.STATE_WORDS)
    value: float | None  # the objective: best validation accuracy (a pruned trial: its last check's)
    params: dict[str, Any]  # sampled; for a queued trial, the ones it was queued with
    epochs_run: float | None  # passes over the training images, fractional when stopped between checks
    seconds: float | None  # its checks' training and validation, or start to end where they were not stored
    stopped: str  # "complete", "pruned after epoch 1.25", "failed: NaN loss", "running", "queued"

    def to_dict(self) -> dict[str, Any]:
        """The row for `tune trials --json`: every field by its name."""
        return asdict(self)


def trial_rows(study: optuna.Study) -> list[TrialRow]:
    """Every trial of `study`, by number."""
    from tuning.search.worker import retried_numbers

    trials = study.get_trials(deepcopy=False)
    retried = retried_numbers(trials)
    return [_row(trial, trial.number in retried) for trial in sorted(trials, key=lambda t: t.number)]


def _row(trial: optuna.trial.FrozenTrial, retried: bool) -> TrialRow:
    state = STATE_WORDS[trial.state.name]
    params = dict(trial.params) if state != "queued" else dict(trial.system_attrs.get(_FIXED_PARAMS, {}))
    epochs = _epochs_run(trial.user_attrs)
    return TrialRow(
        number=trial.number,
        state=state,
        value=trial.value,
        params=params,
        epochs_run=epochs,
        seconds=_seconds(trial),
        stopped=_stopped(trial, state, epochs, retried),
    )


def _epochs_run(stored: dict[str, Any]) -> float | None:
    if attrs.EPOCHS_RUN in stored:
        return float(stored[attrs.EPOCHS_RUN])
    curve = attrs.curve_of(stored)  # trials older than the attribute: count their checks
    return curve.epochs[-1] if curve.epochs else None


def _seconds(trial: optuna.trial.FrozenTrial) -> float | None:
    checks = attrs.curve_of(trial.user_attrs).seconds
    if checks:
        return round(sum(checks), 3)
    if trial.datetime_start is None:  # queued
        return None
    end = trial.datetime_complete or datetime.datetime.now()  # a running trial: so far
    return round((end - trial.datetime_start).total_seconds(), 3)


def _stopped(trial: optuna.trial.FrozenTrial, state: str, epochs: float | None, retried: bool) -> str:
    if state == "pruned":
        return "pruned" if epochs is None else f"pruned after epoch {round(epochs, 2):g}"
    if state != "failed":
        return state
    lines = str(trial.user_attrs.get(attrs.FAIL_REASON, "")).strip().splitlines()
    reason = lines[0] if lines else "no reason recorded"  # e.g. a dead worker's trial, failed as stale
    return f"failed: {reason}" + (" (retried)" if retried else "")
