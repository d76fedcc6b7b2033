"""Successive halving that lets the first trials to reach the top rung finish: rungs as ASHA places them.

Imports Optuna: import this module lazily (search/engines/optuna.py `make_pruner`).
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable

import optuna

from tuning import attrs

__all__ = ["TopRungHalving"]

_COST_PEERS = 3  # other trials a rung needs before a trial's time there is judged against theirs
_RUNG_KEY = "completed_rung_{}"  # where Optuna's SuccessiveHalvingPruner records a trial's value at rung k


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
    covers all trials that reached it. Below it, Optuna's pruner decides, except that while
    the study holds fewer than `finished` complete trials a rung keeps its best half rather
    than its best 1/factor: with factor 4 only one sampled trial in 16 would reach the top
    rung, so 50 trials would complete about 4, too few for importances and a robust export
    in some seeds (search/rungs.py `top_rung` keeps the first rung judged in budgets too
    short for two).

    With `cost_limit` F > 0, a trial is also stopped at a rung below the top one where its
    seconds since it started are more than F times the median of the other trials' at that
    rung (once 3 others reached it): the search's budget is time, and one configuration
    five times as dear per epoch as the others would take the place of five of them.
    """

    def __init__(
        self,
        halving: optuna.pruners.SuccessiveHalvingPruner,
        top_rung: int,
        finished: int,
        *,
        reduction_factor: int,
        bootstrap_count: int = 0,
        cost_limit: float = 0.0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        if top_rung < 1:
            raise ValueError(f"top_rung must be at least 1, but got {top_rung=}")
        if cost_limit < 0:
            raise ValueError(f"cost_limit must be 0 (off) or positive, but got {cost_limit=}")
        self._halving = halving
        self._top_rung = top_rung
        self._finished = finished
        self._factor = reduction_factor
        self._bootstrap_count = bootstrap_count
        self._cost_limit = cost_limit
        self._clock = clock

    def prune(self, study: optuna.Study, trial: optuna.trial.FrozenTrial) -> bool:
        step = trial.last_step
        if step is None:
            return False
        verdict = self._halving.prune(study, trial)  # records the trial's value at each rung it reaches
        if step >= self._top_rung:
            return verdict and self._complete(study) >= self._finished
        if not self._is_rung(step):
            return verdict
        if verdict and self._complete(study) < self._finished:
            verdict = not self._in_best_half(study, trial, step)
        if not self._cost_limit:
            return verdict
        costly = self._cost_reason(study, trial, step)  # records its time there whatever the verdict
        if not verdict and costly:
            optuna.trial.Trial(study, trial._trial_id).set_user_attr(attrs.COSTLY, costly)
        return verdict or costly is not None

    @staticmethod
    def _complete(study: optuna.Study) -> int:
        return len(study.get_trials(deepcopy=False, states=(optuna.trial.TrialState.COMPLETE,)))

    def _in_best_half(self, study: optuna.Study, trial: optuna.trial.FrozenTrial, step: int) -> bool:
        """Whether the trial's value at this rung is in the best half of the values recorded there (Optuna's
        promotion rule with factor 2), where more than `bootstrap_count` trials reached it."""
        key = _RUNG_KEY.format(self._rung_index(step))
        maximize = study.direction == optuna.study.StudyDirection.MAXIMIZE
        trials = study.get_trials(deepcopy=False)
        values = sorted((float(t.system_attrs[key]) for t in trials if key in t.system_attrs), reverse=maximize)
        if len(values) <= self._bootstrap_count:
            return False
        bar, value = values[max(len(values) // 2, 1) - 1], trial.intermediate_values[step]
        return value >= bar if maximize else value <= bar

    def _rung_index(self, step: int) -> int:
        """The rung at or above the step: k for the first factor**k >= step."""
        index, rung = 0, 1
        while rung < step:
            rung, index = rung * self._factor, index + 1
        return index

    def _is_rung(self, step: int) -> bool:
        return int(self._factor ** self._rung_index(step)) == step

    def _cost_reason(self, study: optuna.Study, trial: optuna.trial.FrozenTrial, step: int) -> str | None:
        """Record the trial's seconds to this rung; why it is too dear to go on, where they pass `cost_limit`
        times the median of the other trials' there (a trial of five times their cost per epoch would spend
        the budget of five); None otherwise."""
        assert trial.datetime_start is not None  # a running trial
        seconds = self._clock() - trial.datetime_start.timestamp()
        key = attrs.RUNG_SECONDS.format(step)
        optuna.trial.Trial(study, trial._trial_id).set_user_attr(key, round(seconds, 3))
        others = [
            float(t.user_attrs[key])
            for t in study.get_trials(deepcopy=False)
            if t.number != trial.number and key in t.user_attrs
        ]
        if len(others) < _COST_PEERS:
            return None
        median = statistics.median(others)
        if seconds <= self._cost_limit * median:
            return None
        return (
            f"not promoted for its cost: {seconds:.0f} s to check {step}, over {self._cost_limit:g} times the "
            f"median of the {len(others)} other trials there ({median:.0f} s; --cost-limit)."
        )
