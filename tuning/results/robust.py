"""`tune export --robust K`: export the configuration with the best mean over seeds, not the luckiest single run.

A study's best trial is the best of many single seeded runs, so part of its
lead can be the luck of its seed. This module trains the study's K best
complete trials (distinct configurations) S more times each, with reproducible
seeds other than their own, exactly as the search trained them: the search's
own train/validation split, each trial's epochs and precision, the study's
checks per epoch. It then exports the configuration whose mean best validation
accuracy (the trial's own run and the S new ones) is highest. The test set is
never touched, and the study is only read.
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
from tuning.results.export import Export, RobustCandidate, RobustRecord
from tuning.search.objective import trial_seed

if TYPE_CHECKING:
    import optuna

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

# Called after each check with (run index from 0, epochs trained so far, that check's logs).
RobustEpochHook = Callable[[int, float, dict[str, float]], None]
# Called after each training run with its result.
RobustRunHook = Callable[["RobustRun"], None]


@dataclass(frozen=True)
class RobustConfig:
    """How many of a study's best configurations to train again, and how often each."""

    robust: int  # K: the best complete trials (distinct configurations) to train again
    robust_seeds: int = 2  # S: extra runs per configuration, besides the trial's own
    data_dir: str | None = None  # where the Fashion-MNIST files are; None: search the usual places

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


def top_trials(study: optuna.Study, k: int) -> list[optuna.trial.FrozenTrial]:
    """The `k` complete trials with the highest values, one per configuration, the study's best trial first.

    A configuration sampled twice counts once, with its better trial.
    TuneError when the study has fewer than `k` distinct configurations.
    """
    from optuna.trial import TrialState

    check_whole("robust", k)
    complete = study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,))
    if not complete:
        raise TuneError(f"study {study.study_name!r} has no complete trial yet; run `tune run` first")
    best = study.best_trial.number
    ranked = sorted(complete, key=lambda t: (-float(t.value or 0.0), t.number != best, t.number))
    distinct: list[optuna.trial.FrozenTrial] = []
    for trial in ranked:
        if all(trial.params != kept.params for kept in distinct):
            distinct.append(trial)
    if k > len(distinct):
        of = "" if len(distinct) == len(complete) else f" of {len(distinct)} distinct configurations"
        has = f" and study {study.study_name!r} has {len(complete)} complete trial(s){of}"
        raise SettingError("robust", "must be at most the number of complete trials", k, has)
    return distinct[:k]


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


@dataclass(frozen=True)
class PreparedRobust:
    """Checked inputs of a robust export: the candidates and the search's split; nothing trained yet."""

    config: RobustConfig
    study: optuna.Study = field(repr=False)
    plain: Export = field(repr=False)  # what `tune export` without --robust writes
    candidates: tuple[CandidatePlan, ...]  # the plain best first
    checks_per_epoch: int  # the study's validations per epoch: the trials' values are the best check's
    split: Split

    @property
    def runs(self) -> list[tuple[CandidatePlan, int]]:
        """Every training run, in order: (candidate, seed)."""
        return [(plan, seed) for plan in self.candidates for seed in plan.extra_seeds]


def prepare_robust(study: optuna.Study, config: RobustConfig) -> PreparedRobust:
    """Pick the candidates and rebuild the search's split, before any training; TuneError on bad input."""
    from tuning.data.load import load_fashion_mnist
    from tuning.results.retrain import search_split
    from tuning.search.study import study_checks_per_epoch

    plain = Export.from_study(study)
    trials = top_trials(study, config.robust)
    data = load_fashion_mnist(config.data_dir)
    searched_on = plain.data.fingerprint
    if searched_on and searched_on != data.fingerprint:
        raise TuneError(
            f"the data in {data.source} (fingerprint {data.fingerprint}) are not the files study "
            f"{study.study_name!r} searched on (fingerprint {searched_on}); pass --data-dir with those"
        )
    study_seed = int(study.user_attrs.get(attrs.SEED, 0))
    return PreparedRobust(
        config=config,
        study=study,
        plain=plain,
        candidates=tuple(_plan(trial, study, study_seed, config.robust_seeds) for trial in trials),
        checks_per_epoch=study_checks_per_epoch(study.user_attrs),
        split=search_split(plain.data, data, plain.data.max_train_samples),
    )


def _plan(trial: optuna.trial.FrozenTrial, study: optuna.Study, study_seed: int, count: int) -> CandidatePlan:
    stored = trial.user_attrs
    # A complete trial ran its whole budget (a promoted KerasTuner one, after its parent's);
    # trials older than epochs_run: their run's --epochs.
    run = stored.get(attrs.EPOCHS_RUN)
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
    )


# --- training ----------------------------------------------------------------


@dataclass(frozen=True)
class RobustRun:
    """One extra training run of a candidate."""

    index: int  # from 0, over all runs
    trial: int
    seed: int
    val_accuracy: float  # the best over its checks, as the search scores a trial
    seconds: float


def robust_export(
    prepared: PreparedRobust, *, on_epoch: RobustEpochHook | None = None, on_run: RobustRunHook | None = None
) -> Export:
    """Train every candidate with its extra seeds; the export of the best mean, recording every candidate."""
    from tuning.model.tfenv import quiet_tensorflow

    quiet_tensorflow()
    scores: dict[int, list[float]] = {
        plan.trial.number: [float(plan.trial.value or 0.0)] for plan in prepared.candidates
    }
    for index, (plan, seed) in enumerate(prepared.runs):
        run = _train_once(prepared, plan, index, seed, on_epoch)
        scores[plan.trial.number].append(run.val_accuracy)
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
    )
    return replace(Export.from_study(prepared.study, prepared.candidates[chosen].trial), robust=record)


def _train_once(
    prepared: PreparedRobust, plan: CandidatePlan, index: int, seed: int, on_epoch: RobustEpochHook | None
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
            seed=seed,
            epochs=plan.epochs,
            recorder=recorder,
            precision=plan.precision,
            checks_per_epoch=prepared.checks_per_epoch,
        )
    except TrialFailed as exc:
        raise TuneError(f"training trial {number}'s configuration again with seed {seed} failed: {exc}") from None
    logger.info("trial %d, seed %d: best validation accuracy %.4f", number, seed, result.best_val_accuracy)
    return RobustRun(index, number, seed, result.best_val_accuracy, time.perf_counter() - started)
