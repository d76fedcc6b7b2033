"""Successive halving that lets the first trials to reach the top rung finish: rungs as ASHA places them.

Imports Optuna: import this module lazily (search/engines/optuna.py `make_pruner`).
"""

from __future__ import annotations

import optuna

__all__ = ["TopRungHalving"]


class TopRungHalving(optuna.pruners.BasePruner):
    """Optuna's successive halving, where the top rung stops no trial until `finished` trials completed.

    Optuna's pruner knows no maximum: with 24 checks and factor 4 it judges a trial at
    checks 1, 4 and 16, and at 16, with few trials there, only one that beats every
    other goes on, for 8 more checks: a study whose first trial is a good start
    configuration then completes that one alone. In ASHA (Li et al., 2020) a budget of
    R checks has rungs r**k up to the highest one within R, and reaching that one means
    training to R. So here a trial at or past `top_rung` finishes while the study holds
    fewer than `finished` complete trials; after that the top rung judges as the others
    do (the best 1/factor there go on), which bounds what completing trials costs.
    Every trial's value at the top rung is recorded, so that rung's comparison later
    covers all trials that reached it. Below it, Optuna's pruner decides as before
    (search/rungs.py `top_rung` keeps the first rung judged in budgets too short for two).
    """

    def __init__(self, halving: optuna.pruners.SuccessiveHalvingPruner, top_rung: int, finished: int) -> None:
        if top_rung < 1:
            raise ValueError(f"top_rung must be at least 1, but got {top_rung=}")
        self._halving = halving
        self._top_rung = top_rung
        self._finished = finished

    def prune(self, study: optuna.Study, trial: optuna.trial.FrozenTrial) -> bool:
        step = trial.last_step
        if step is None:
            return False
        verdict = self._halving.prune(study, trial)  # records the trial's value at each rung it reaches
        if not verdict or step < self._top_rung:
            return verdict
        complete = study.get_trials(deepcopy=False, states=(optuna.trial.TrialState.COMPLETE,))
        return len(complete) >= self._finished
