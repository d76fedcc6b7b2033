"""KerasTuner as a search engine: its oracle proposes, tune's trainer trains, the Optuna study records each trial live.

Each KerasTuner trial is one Optuna trial, created with the space's own distributions
(search/space.py `distribution`), RUNNING while it trains, with validation accuracy
reported after every check and the user attributes a trial of the optuna engine gets,
plus the engine, the oracle, KerasTuner's trial id and Hyperband's bracket and round.
A trial that trains the full `epochs` ends COMPLETE; a Hyperband trial whose bracket gave
it fewer epochs ends PRUNED ("stopped by Hyperband"); a promoted Hyperband trial starts
from its parent's best weights and trains on to its round's epochs, so its checks and
intermediate values continue after the parent's (`attrs.KT_INITIAL_EPOCH`).

KerasTuner keeps its own state (oracle, brackets, trials, weights) in a folder beside the
storage (search/engines/keras_tuner.py `state_folder`, given to `kt_trials`); a re-run of the
same command reloads it and goes on.
Trials run in tune's worker loop (search/worker.py), with a heartbeat: a trial of a killed run
is failed once its heartbeat is stale, and KerasTuner proposes it again, as the queued retry
of the failed one. One process per study: `--jobs` above 1 is refused (search/engines/keras_tuner.py).

Imports KerasTuner and Keras: import this module lazily.
"""

from __future__ import annotations

import contextlib
import io
import logging
import math
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

import keras
import keras_tuner
from keras_tuner.engine.trial import TrialStatus

from tuning import attrs
from tuning.errors import TrialFailed, TuneError
from tuning.model.train import VAL_ACCURACY

if TYPE_CHECKING:
    import optuna

    from tuning.model.train import RunEpochHook
    from tuning.search.runner import PreparedRun
    from tuning.search.worker import TrialSource

__all__ = ["OBJECTIVE", "TuneTuner", "kt_trials"]

logger = logging.getLogger(__name__)

OBJECTIVE = VAL_ACCURACY  # what the oracle maximises: a trial's best validation accuracy
# A failed trial (NaN loss, out of memory) fails alone, as with the optuna engine; KerasTuner would stop after 3.
_NEVER = 2**31
_WEIGHTS = "best.weights.h5"  # a Hyperband trial's best check, for the trial promoted from it


def kt_trials(run: PreparedRun, state: Path, on_epoch: RunEpochHook | None = None) -> TrialSource:
    """The oracle's trials for tune's worker loop (search/worker.py `run_trials`), which heartbeats, records
    and retries them as it does the optuna engine's: `ask` takes the oracle's next trial, `objective` trains it.
    KerasTuner keeps its state in the folder `state`."""
    from tuning.search.worker import TrialSource

    tuner = _open_tuner(run, state)
    proposed: dict[int, Any] = {}  # Optuna trial number -> its KerasTuner trial

    def ask(study: optuna.Study) -> optuna.Trial | None:
        kt_trial = tuner.oracle.create_trial(tuner.tuner_id)  # a killed run's trial first (KerasTuner retries it)
        if kt_trial.status != TrialStatus.RUNNING:  # STOPPED, or IDLE (only with other workers)
            logger.info("KerasTuner's oracle has no trial to run (%s)", kt_trial.status)
            return None
        trial = _ask(study, run.setup.space, kt_trial.hyperparameters.values)
        proposed[trial.number] = kt_trial
        return trial

    def objective(trial: optuna.Trial) -> float:
        return _train(tuner, proposed.pop(trial.number), trial, on_epoch)

    return TrialSource(objective=objective, ask=ask)


def _open_tuner(run: PreparedRun, folder: Path) -> Any:
    """The tuner for the study's folder: reloaded if it exists, else new (refused if the study has trials)."""
    exists = (folder / "oracle.json").is_file()
    if run.used_before and not exists:
        raise TuneError(
            f"study {run.config.study_name!r} holds {run.used_before} KerasTuner trial(s) but its KerasTuner "
            f"state {folder} is missing; run from the folder that holds it, or use a new --study name"
        )
    # A study without trials starts afresh: a state left there belongs to a deleted study of that name. A study
    # whose trials all failed (a killed first trial, queued again) goes on from its state where there is one.
    fresh = not exists or not run.study.get_trials(deepcopy=False)
    if fresh and folder.exists():
        logger.warning("study %s has no trials: KerasTuner's state in %s starts afresh", run.config.study_name, folder)
    oracle = _make_oracle(run)
    with contextlib.redirect_stdout(io.StringIO()) as said:  # "Reloading Tuner from ..."
        tuner = TuneTuner(oracle, run, directory=str(folder.parent), project_name=folder.name, overwrite=fresh)
    logger.info("KerasTuner: %s", said.getvalue().strip() or f"new state in {folder}")
    tuner.oracle.verbose = 0  # KerasTuner's own trial tables: tune prints its progress
    if fresh:
        tuner.save()  # so that a run interrupted in its first trial reloads, and runs that trial again
    max_epochs = getattr(tuner.oracle, "max_epochs", run.config.epochs)
    factor = getattr(tuner.oracle, "factor", run.config.reduction_factor)
    if (max_epochs, factor) != (run.config.epochs, run.config.reduction_factor):
        raise TuneError(
            f"study {run.config.study_name!r}'s Hyperband runs with --epochs {max_epochs} and --reduction-factor "
            f"{factor} (KerasTuner's state in {folder}); resume it with those or use a new --study name"
        )
    return tuner


def _make_oracle(run: PreparedRun) -> Any:
    from tuning.search.kt_space import kt_hyperparameters

    config = run.config
    common: dict[str, Any] = {
        "objective": keras_tuner.Objective(OBJECTIVE, direction="max"),
        "hyperparameters": kt_hyperparameters(run.setup.space),
        "seed": run.setup.seed,
        "allow_new_entries": False,
        "tune_new_entries": False,
        "max_consecutive_failed_trials": _NEVER,
    }
    if config.kt_oracle == "hyperband":
        # No limit of iterations: --trials (or --timeout) ends the search, possibly within a bracket.
        return keras_tuner.oracles.HyperbandOracle(
            max_epochs=config.epochs, factor=config.reduction_factor, hyperband_iterations=None, **common
        )
    if config.kt_oracle == "bayesian":
        return keras_tuner.oracles.BayesianOptimizationOracle(max_trials=None, **common)
    return keras_tuner.oracles.RandomSearchOracle(max_trials=None, **common)


class TuneTuner(keras_tuner.engine.base_tuner.BaseTuner):
    """KerasTuner's state (oracle, trials, weights) in its folder; tune's worker loop runs the trials (`kt_trials`)."""

    def __init__(self, oracle: Any, run: PreparedRun, **kwargs: Any) -> None:
        self.prepared = run
        super().__init__(oracle, hypermodel=None, **kwargs)

    def run_trial(self, trial: Any, *args: Any, **kwargs: Any) -> Any:
        raise NotImplementedError("tune's worker loop trains KerasTuner's trials (search/kt_engine.py kt_trials)")


def _train(tuner: Any, kt_trial: Any, trial: optuna.Trial, on_epoch: RunEpochHook | None) -> float:
    """Train one KerasTuner trial as its Optuna trial; tell the oracle how it went (unless interrupted: KerasTuner
    keeps it open and proposes it again in the next run)."""
    import optuna

    from tuning.search.trial import TrialPlan, run_trial

    run = tuner.prepared
    setup = run.setup
    values = kt_trial.hyperparameters.values
    epochs = int(values.get("tuner/epochs", setup.epochs))
    initial = int(values.get("tuner/initial_epoch", 0))
    parent = values.get("tuner/trial_id")
    callbacks: list[keras.callbacks.Callback] = []
    if parent is not None:
        callbacks.append(_LoadWeights(os.path.join(tuner.get_trial_dir(parent), _WEIGHTS)))
    if epochs < setup.epochs:  # a later round may continue this trial
        callbacks.append(_SaveBest(os.path.join(tuner.get_trial_dir(kt_trial.trial_id), _WEIGHTS)))
    plan = TrialPlan(
        params=trial.params,
        epochs=epochs,
        initial_epoch=initial,
        prune=False,
        attrs={
            attrs.ENGINE: run.config.engine,
            attrs.KT_ORACLE: run.config.kt_oracle,
            attrs.KT_TRIAL_ID: kt_trial.trial_id,
            **({attrs.KT_BRACKET: values["tuner/bracket"]} if "tuner/bracket" in values else {}),
            **({attrs.KT_ROUND: values["tuner/round"]} if "tuner/round" in values else {}),
            **({attrs.KT_PARENT: parent} if parent is not None else {}),
            attrs.KT_INITIAL_EPOCH: initial,
        },
        callbacks=callbacks,
        stopped=f"KerasTuner's Hyperband gave it {epochs} of {setup.epochs} epochs in its round; "
        "a later round may go on.",
    )
    try:
        outcome = run_trial(trial, setup, plan, on_epoch)
    except TrialFailed as exc:
        kt_trial.status, kt_trial.message = TrialStatus.FAILED, str(exc)
        tuner.on_trial_end(kt_trial)
        raise
    result = outcome.result
    tuner.oracle.update_trial(
        kt_trial.trial_id, {OBJECTIVE: result.best_val_accuracy}, step=initial + result.best_epoch
    )
    kt_trial.status = TrialStatus.COMPLETED
    tuner.on_trial_end(kt_trial)  # the oracle learns the result; KerasTuner's state is saved
    if not outcome.complete:
        raise optuna.TrialPruned(plan.stopped)
    return result.best_val_accuracy


def _ask(study: optuna.Study, space: Any, values: dict[str, Any]) -> optuna.Trial:
    """A RUNNING Optuna trial holding the oracle's `values`, with the distributions the space file gives them:
    the queued retry of a killed run's trial where it holds them, else a new one."""
    from optuna.trial import TrialState

    from tuning.search.kt_space import space_values
    from tuning.search.space import distribution

    params = space_values(space, values)
    if not any(t.params == params for t in study.get_trials(deepcopy=False, states=(TrialState.WAITING,))):
        study.enqueue_trial(params)
    trial = study.ask({p.name: distribution(p) for p in space.params if p.name in params})
    if trial.params != params:  # another process queued a trial meanwhile: not ours to run
        raise TuneError(
            f"study {study.study_name!r}: a trial was queued while KerasTuner ran; run one process per study"
        )
    return trial


class _SaveBest(keras.callbacks.Callback):
    """Keep the weights of the best check so far (as KerasTuner's Hyperband does for promotion)."""

    def __init__(self, path: str) -> None:
        super().__init__()
        self._path, self._best = path, -math.inf

    def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        value = float((logs or {}).get(OBJECTIVE, -math.inf))
        if value > self._best:
            self._best = value
            Path(self._path).parent.mkdir(parents=True, exist_ok=True)
            self.model.save_weights(self._path)


class _LoadWeights(keras.callbacks.Callback):
    """Start from a parent trial's saved weights."""

    def __init__(self, path: str) -> None:
        super().__init__()
        self._path = path

    def on_train_begin(self, logs: dict[str, Any] | None = None) -> None:
        if not os.path.isfile(self._path):
            raise TrialFailed(f"the weights of the trial it continues are missing: {self._path}")
        self.model.load_weights(self._path)
