"""`tune export --robust K`: export the configuration with the best mean over seeds, not the luckiest single run.

A study's best trial is the best of many single seeded runs, so part of its
lead can be the luck of its seed. This module trains the study's K best
complete trials (distinct configurations) S more times each, with reproducible
seeds other than their own, exactly as the search trained them: the search's
own train/validation split, each trial's epochs and precision, the study's
checks per epoch. It then exports the configuration whose mean best validation
accuracy (the trial's own run and the S new ones) is highest. The test set is
never touched, and the study is only read.

Where fewer than K configurations completed (successive halving stops most
trials), the candidates are the study's best trial and the best others at the
highest check that K configurations reached, pruned ones included
(tuning/fidelity.py). A pruned candidate has no full run to count, so its own
seed is trained again for the whole budget too: every candidate's mean is over
1 + S full runs.
"""

from __future__ import annotations

import logging
import statistics
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING

from tuning import attrs
from tuning.errors import SettingError, TrialFailed, TuneError, check_whole, check_whole_fields
from tuning.fidelity import Fidelity, at_least, compared_configurations
from tuning.model.train import RunEpochHook
from tuning.results.export import Export, RobustCandidate, RobustRecord, check_searched_data, check_searched_model
from tuning.search.trial import trial_seed

if TYPE_CHECKING:
    import optuna

    from tuning.data.dataset import DataShape
    from tuning.data.splits import Split

__all__ = [
    "CandidatePlan",
    "PreparedRobust",
    "RobustConfig",
    "RobustRun",
    "choose",
    "extra_seeds",
    "prepare_robust",
    "robust_export",
    "top_trials",
]

logger = logging.getLogger(__name__)

# Called after each training run with its result.
RobustRunHook = Callable[["RobustRun"], None]


@dataclass(frozen=True)
class RobustConfig:
    """How many of a study's best configurations to train again, and how often each."""

    robust: int  # K: the best complete trials (distinct configurations) to train again
    robust_seeds: int = 2  # S: extra runs per configuration, besides the trial's own
    data: str | None = None  # what data/sources.py load_dataset reads; None: the built-in data from the usual places

    def __post_init__(self) -> None:
        check_whole_fields(self, ("robust", "robust_seeds"))


def extra_seeds(study_seed: int, trial_number: int, count: int) -> tuple[int, ...]:
    """Seeds of `count` more runs of trial `trial_number`: the seeds it would have had in studies seeded
    study_seed + 1, ..., + count.

    Reproducible, different from the trial's own seed (`trial_seed(study_seed, n)`)
    and from each other, and from every other trial's own seed in a study of fewer
    than a million trials.
    """
    return tuple(trial_seed(study_seed + k, trial_number) for k in range(1, count + 1))


def top_trials(study: optuna.Study, k: int) -> tuple[list[optuna.trial.FrozenTrial], Fidelity]:
    """The `k` best configurations, one trial each, the study's best trial first, and what they were ranked on.

    Ranked on the complete trials where `k` configurations completed, else on every
    trial at the highest check that `k` reached (their validation accuracy there);
    the study's best trial leads either way. A configuration tried twice counts once,
    with its better trial. TuneError when fewer than `k` configurations were tried.
    """
    from tuning.search.study import study_checks_per_epoch

    check_whole("robust", k)
    trials = study.get_trials(deepcopy=False)
    if not any(t.state.name == "COMPLETE" for t in trials):
        raise TuneError(f"study {study.study_name!r} has no complete trial yet; run `tune run` first")
    fidelity = at_least(trials, k, study_checks_per_epoch(study.user_attrs))
    if fidelity is None:
        complete = sum(t.state.name == "COMPLETE" for t in trials)
        has = (
            f" and study {study.study_name!r} has {compared_configurations(trials)} with a validation check "
            f"({complete} complete trial(s))"
        )
        raise SettingError("robust", "must be at most the number of configurations tried", k, has)
    best = study.best_trial
    ranked = sorted(zip(fidelity.values, fidelity.trials, strict=True), key=lambda vt: (-vt[0], vt[1].number))
    distinct = [best]
    for _, trial in ranked:
        if all(trial.params != kept.params for kept in distinct):
            distinct.append(trial)
    return distinct[:k], fidelity


def choose(means: Sequence[float]) -> int:
    """Index of the best mean; on a tie the first (the better single run), so a tie keeps the plain choice."""
    return max(range(len(means)), key=lambda i: (means[i], -i))


# --- preparing ---------------------------------------------------------------


@dataclass(frozen=True)
class CandidatePlan:
    """One configuration to train again, and how."""

    trial: optuna.trial.FrozenTrial = field(repr=False)
    seed: int  # the trial's own
    extra_seeds: tuple[int, ...]
    epochs: int  # the trial's own budget
    precision: str  # the trial's own
    complete: bool  # its own run trained the whole budget; a pruned trial's own seed is trained again

    @property
    def seeds_to_train(self) -> tuple[int, ...]:
        return self.extra_seeds if self.complete else (self.seed, *self.extra_seeds)


@dataclass(frozen=True)
class PreparedRobust:
    """Checked inputs of a robust export: the candidates and the search's split; nothing trained yet."""

    config: RobustConfig
    study: optuna.Study = field(repr=False)
    plain: Export = field(repr=False)  # what `tune export` without --robust writes
    candidates: tuple[CandidatePlan, ...]  # the plain best first
    ranked: Fidelity = field(repr=False)  # what the candidates were chosen on
    checks_per_epoch: int  # the study's validations per epoch: the trials' values are the best check's
    split: Split
    shape: DataShape  # the searched data's image shape and class count

    @property
    def runs(self) -> list[tuple[CandidatePlan, int]]:
        """Every training run, in order: (candidate, seed)."""
        return [(plan, seed) for plan in self.candidates for seed in plan.seeds_to_train]


def prepare_robust(study: optuna.Study, config: RobustConfig) -> PreparedRobust:
    """Pick the candidates and rebuild the search's split, before any training; TuneError on bad input."""
    from tuning.data.sources import load_searched
    from tuning.results.retrain import search_split
    from tuning.search.study import study_checks_per_epoch

    plain = Export.from_study(study)
    check_searched_model(plain)
    trials, ranked = top_trials(study, config.robust)
    data = load_searched(config.data, plain.data.source, plain.data.name, plain.data.image_shape)
    check_searched_data(plain, data)
    study_seed = int(study.user_attrs.get(attrs.SEED, 0))
    return PreparedRobust(
        config=config,
        study=study,
        plain=plain,
        candidates=tuple(_plan(trial, study, study_seed, config.robust_seeds) for trial in trials),
        ranked=ranked,
        checks_per_epoch=study_checks_per_epoch(study.user_attrs),
        split=search_split(plain.data, data, plain.data.max_train_samples),
        shape=data.shape,
    )


def _plan(trial: optuna.trial.FrozenTrial, study: optuna.Study, study_seed: int, count: int) -> CandidatePlan:
    stored = trial.user_attrs
    complete = trial.state.name == "COMPLETE"
    # A complete trial ran its whole budget (a promoted KerasTuner one, after its parent's);
    # trials older than epochs_run, and pruned ones: their run's --epochs.
    run = stored.get(attrs.EPOCHS_RUN) if complete else None
    epochs = (
        run + stored.get(attrs.KT_INITIAL_EPOCH, 0)
        if run
        else attrs.trial_settings(stored, study.user_attrs)[attrs.EPOCHS]
    )
    if not epochs:
        raise TuneError(f"trial {trial.number} of study {study.study_name!r} records no epochs; was it made by tune?")
    return CandidatePlan(
        trial=trial,
        seed=int(stored.get(attrs.SEED, trial_seed(study_seed, trial.number))),
        extra_seeds=extra_seeds(study_seed, trial.number, count),
        epochs=int(epochs),
        precision=attrs.precision_of(stored),
        complete=complete,
    )


# --- training ----------------------------------------------------------------


@dataclass(frozen=True)
class RobustRun:
    """One extra training run of a candidate."""

    index: int  # from 0, over all runs
    trial: int
    seed: int
    val_accuracy: float  # the best over its checks, as the search scores a trial
    best_epoch: int  # the epoch (from 1) holding that check
    seconds: float


def robust_export(
    prepared: PreparedRobust, *, on_epoch: RunEpochHook | None = None, on_run: RobustRunHook | None = None
) -> Export:
    """Train every candidate with its extra seeds; the export of the best mean, recording every candidate."""
    from tuning.model.tfenv import quiet_tensorflow

    quiet_tensorflow()
    scores: dict[int, list[float]] = {
        plan.trial.number: [float(plan.trial.value or 0.0)] if plan.complete else [] for plan in prepared.candidates
    }
    own_runs: dict[int, RobustRun] = {}  # pruned candidates' own seed, trained in full
    for index, (plan, seed) in enumerate(prepared.runs):
        run = _train_once(prepared, plan, index, seed, on_epoch)
        scores[plan.trial.number].append(run.val_accuracy)
        if not plan.complete and seed == plan.seed:
            own_runs[plan.trial.number] = run
        if on_run is not None:
            on_run(run)
    candidates = [
        RobustCandidate(
            trial=plan.trial.number,
            epochs=plan.epochs,
            seeds=[plan.seed, *plan.extra_seeds],
            val_accuracies=scores[plan.trial.number],
            mean=statistics.fmean(scores[plan.trial.number]),
        )
        for plan in prepared.candidates
    ]
    chosen = choose([candidate.mean for candidate in candidates])
    record = RobustRecord(
        robust_seeds=prepared.config.robust_seeds,
        chosen_trial=candidates[chosen].trial,
        plain_trial=prepared.plain.best_trial,
        candidates=candidates,
        ranked_at_check=prepared.ranked.check,
    )
    plan = prepared.candidates[chosen]
    export = Export.from_study(prepared.study, plan.trial)
    if not plan.complete:  # its figures come from its own seed's full run, not from where it was pruned
        own = own_runs[plan.trial.number]
        export = replace(export, best_val_accuracy=own.val_accuracy, best_epoch=own.best_epoch)
    return replace(export, robust=record)


def _train_once(
    prepared: PreparedRobust, plan: CandidatePlan, index: int, seed: int, on_epoch: RunEpochHook | None
) -> RobustRun:
    from tuning.model.callbacks import EpochRecorder
    from tuning.model.params import resolve_params
    from tuning.model.train import train_model

    started = time.perf_counter()
    arch, number = prepared.plain.arch, plan.trial.number
    recorder = EpochRecorder(None if on_epoch is None else (lambda epoch, logs: on_epoch(index, epoch, logs)))
    try:
        _, result = train_model(
            arch,
            resolve_params(arch, plan.trial.params),
            prepared.split,
            shape=prepared.shape,
            seed=seed,
            epochs=plan.epochs,
            recorder=recorder,
            precision=plan.precision,
            checks_per_epoch=prepared.checks_per_epoch,
        )
    except TrialFailed as exc:
        raise TuneError(f"training trial {number}'s configuration again with seed {seed} failed: {exc}") from None
    logger.info("trial %d, seed %d: best validation accuracy %.4f", number, seed, result.best_val_accuracy)
    seconds = time.perf_counter() - started
    return RobustRun(index, number, seed, result.best_val_accuracy, result.best_epoch, seconds)
