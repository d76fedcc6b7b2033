"""Markdown notes optuna-dashboard shows: each trial's configuration in words and how it ended.

A trial's note is saved while the trial runs, as it ends (completed, pruned,
failed). Like artifacts, a note that cannot be stored is logged once and never
fails a trial. The study's note after `tune retrain` is results/note.py's.
"""

from __future__ import annotations

import functools
import logging
import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from tuning import attrs
from tuning.attrs import TrialCurve, curve_of
from tuning.errors import first_line

if TYPE_CHECKING:
    import optuna

__all__ = [
    "TrialEnding",
    "describe_config",
    "pruned_reason",
    "save_note",
    "save_trial_note",
    "trial_note",
]

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class TrialEnding:
    """How a trial ended: "complete", "pruned" or "failed", and for a failure its reason."""

    state: str
    reason: str | None = None

    def __post_init__(self) -> None:
        if self.state not in ("complete", "pruned", "failed"):
            raise ValueError(f"state must be complete, pruned or failed, but got state={self.state!r}")


def save_note(target: optuna.Trial | optuna.Study, body: str) -> None:
    """Store `body` as the dashboard note of a running trial or a study; log once if the storage refuses."""
    import optuna_dashboard

    try:
        optuna_dashboard.save_note(target, body)
    except Exception as exc:  # a note is for the reader; the result is already stored
        _warn_once(f"{type(exc).__name__}: {first_line(exc)}")


def save_trial_note(trial: optuna.Trial, ending: TrialEnding) -> None:
    """Note on the running trial how it ended and what it was, from what the trial and its study store."""
    try:
        stored = trial.user_attrs
        settings = trial.study.user_attrs.get(attrs.RUN_SETTINGS, {})
        body = trial_note(trial.number, str(stored.get(attrs.ARCH)), trial.params, stored, settings, ending)
    except Exception as exc:  # the storage failed to answer: no note, the trial goes on
        _warn_once(f"{type(exc).__name__}: {first_line(exc)}")
        return
    save_note(trial, body)


def trial_note(
    number: int,
    arch: str,
    params: dict[str, Any],
    stored: dict[str, Any],
    run_settings: dict[str, Any],
    ending: TrialEnding,
) -> str:
    """The note of trial `number`: its outcome, its configuration in words, and its parameters."""
    curve = curve_of(stored)
    outcome = _outcome(curve, run_settings, ending, stored.get(attrs.EPOCHS_RUN))
    size = stored.get(attrs.N_PARAMS)
    sized = f" {size:,} parameters," if size else ""
    start = "the space's start configuration (its [start] table, tried first). " if stored.get(attrs.START) else ""
    lines = [
        f"### Trial {number}: {outcome.split(':')[0]}",
        "",
        f"**How it ended:** {outcome}",
        "",
        f"**Configuration:** {start}{describe_config(arch, params)}{sized} trained in {attrs.precision_of(stored)}.",
        "",
        "| parameter | value |",
        "|---|---|",
        *(f"| {name} | {_number(value)} |" for name, value in sorted(params.items())),
    ]
    return "\n".join(lines) + "\n"


def describe_config(arch: str, params: dict[str, Any]) -> str:
    """A configuration in a sentence or two ("An MLP of 2 dense layers ...")."""
    from tuning.model.registry import get_model

    return get_model(arch).describe(params)


def _outcome(curve: TrialCurve, run_settings: dict[str, Any], ending: TrialEnding, epochs_run: Any) -> str:
    checks = len(curve.val_accuracy)
    best = max(curve.val_accuracy, default=math.nan)
    at = f"{curve.epochs[curve.val_accuracy.index(best)]:g}" if checks else "-"
    trained = f"{epochs_run:g}" if isinstance(epochs_run, int | float) else f"{checks / curve.checks_per_epoch:g}"
    if ending.state == "complete":
        return f"completed: {trained} epochs, best validation accuracy {best:.4f} after epoch {at}."
    if ending.state == "pruned":
        last = curve.val_accuracy[-1] if checks else math.nan
        return (
            f"pruned after epoch {trained} (check {checks}): {ending.reason or pruned_reason(checks, run_settings)} "
            f"Validation accuracy there {last:.4f}, best {best:.4f}."
        )
    reason = ending.reason or "unknown reason"
    if reason == "interrupted":
        reason = "interrupted (Ctrl-C or SIGTERM stopped the run; the trial's parameters can be queued again)"
    return f"failed: {reason}, after epoch {trained}."


def pruned_reason(step: int, run_settings: dict[str, Any]) -> str:
    """Which pruner stopped a trial at check `step`, and at which rung, from the run's settings."""
    pruner = run_settings.get("pruner")
    factor = run_settings.get("reduction_factor")  # absent from studies older than the setting: not said
    bootstrap = int(run_settings.get("bootstrap_count") or 0)
    waiting = f" (a rung stops every trial until more than {bootstrap} have reached it)" if bootstrap else ""
    kept = f": not in the best 1/{factor} there" if factor else ""
    if pruner == "halving":
        rung = round(math.log(step, factor)) if factor and step >= 1 else 0
        where = f"rung {rung} (check {step})" if factor and factor**rung == step else f"check {step}"
        return f"successive halving stopped it at {where}{kept}{waiting}."
    if pruner == "hyperband":
        keeping = f", keeping the best 1/{factor}" if factor else ""
        return f"Hyperband stopped it at a rung of its bracket (check {step}{keeping}){waiting}."
    if pruner == "median":
        return "the median rule stopped it: below the median of earlier trials at that check."
    return f"the {pruner or 'study'} pruner stopped it."


def _number(value: Any) -> str:
    return f"{value:.3g}" if isinstance(value, float) else str(value)


@functools.cache
def _warn_once(reason: str) -> None:
    logger.warning("could not store a dashboard note (%s); the search goes on without it", reason)
