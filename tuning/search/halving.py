"""Successive halving that lets a trial which reached the top rung finish: rungs as ASHA places them.

Imports Optuna: import this module lazily (search/study.py `make_pruner`).
"""

from __future__ import annotations

import optuna

__all__ = ["TopRungHalving"]


class TopRungHalving(optuna.pruners.BasePruner):
    """Optuna's successive halving, judging trials only at the rungs below `top_rung`.

    Optuna's pruner knows no maximum: with 24 checks and factor 4 it judges a trial at
    checks 1, 4 and 16, and at 16, with few trials there, only one that beats every
    other goes on, for 8 more checks. In ASHA (Li et al., 2020) a budget of R checks
    has rungs r**k up to the highest one within R, and reaching that one means
    training to R: a promotion into it is the last decision. So here a trial at or
    past `top_rung` is never stopped; below it, Optuna's pruner decides as before
    (search/study.py `top_rung` keeps the first rung judged in budgets too short for two).
    """

    def __init__(self, halving: optuna.pruners.SuccessiveHalvingPruner, top_rung: int) -> None:
        if top_rung < 1:
            raise ValueError(f"top_rung must be at least 1, but got {top_rung=}")
        self._halving = halving
        self._top_rung = top_rung

    def prune(self, study: optuna.Study, trial: optuna.trial.FrozenTrial) -> bool:
        step = trial.last_step
        if step is None or step >= self._top_rung:
            return False
        return self._halving.prune(study, trial)
