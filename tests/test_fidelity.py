"""Trials compared at one budget (tuning/fidelity.py), on hand-made trials whose checks are known."""

from __future__ import annotations

import optuna
import pytest
from optuna.distributions import FloatDistribution, IntDistribution
from optuna.trial import FrozenTrial, TrialState, create_trial

from tuning.fidelity import Fidelity, at_least, compared_configurations, distinct_count

optuna.logging.set_verbosity(optuna.logging.WARNING)


def _trial(state: str, x: int, checks: list[float], value: float | None = None) -> FrozenTrial:
    """A trial with parameter x that reported `checks` at steps 1, 2, ...; a complete one's value is its best."""
    done = TrialState[state]
    return create_trial(
        state=done,
        params={"x": x, "lr": 0.01 * x},
        distributions={"x": IntDistribution(0, 20), "lr": FloatDistribution(1e-3, 1.0)},
        value=(max(checks) if value is None else value) if done in (TrialState.COMPLETE, TrialState.PRUNED) else None,
        intermediate_values=dict(enumerate(checks, start=1)),
    )


# Checks 1, 4 and 16 of a 24-check budget, as successive halving leaves them (steps between omitted).
START = _trial("COMPLETE", 1, [0.80, 0.88, 0.91, 0.93])
TRIALS = [
    START,
    _trial("PRUNED", 2, [0.70]),  # stopped at check 1
    _trial("PRUNED", 3, [0.82, 0.89]),  # stopped at check 2
    _trial("PRUNED", 4, [0.75, 0.86]),
    _trial("PRUNED", 5, [0.78, 0.90, 0.90]),  # stopped at check 3
    _trial("FAIL", 6, [0.99, 0.99, 0.99]),  # failed (a NaN loss, say): never compared
    _trial("RUNNING", 7, [0.98, 0.98, 0.98]),  # still training: its checks are not final
]


def _numbers(fidelity: Fidelity | None) -> list[int]:
    assert fidelity is not None
    return [TRIALS.index(t) for t in fidelity.trials]


@pytest.mark.parametrize(
    ("wanted", "check", "members", "values"),
    [
        (1, None, [0], [0.93]),  # one configuration completed: enough for 1
        (2, 3, [0, 4], [0.91, 0.90]),  # the highest check two reached: 3
        (4, 2, [0, 2, 3, 4], [0.88, 0.89, 0.86, 0.90]),
        (5, 1, [0, 1, 2, 3, 4], [0.80, 0.70, 0.82, 0.75, 0.78]),  # every finished trial, at its first check
    ],
)
def test_at_least_takes_the_highest_check_enough_trials_reached_with_their_value_there(
    wanted: int, check: int | None, members: list[int], values: list[float]
) -> None:
    fidelity = at_least(TRIALS, wanted, checks_per_epoch=4)
    assert fidelity is not None and fidelity.check == check
    assert _numbers(fidelity) == members and list(fidelity.values) == values


def test_more_than_were_tried_is_none() -> None:
    assert at_least(TRIALS, 6, checks_per_epoch=4) is None  # 5 configurations finished a check; the others never
    assert compared_configurations(TRIALS) == 5


def test_complete_trials_come_first_once_enough_completed() -> None:
    others = [_trial("COMPLETE", 8, [0.81, 0.85, 0.9, 0.92]), _trial("COMPLETE", 9, [0.5, 0.6], value=0.6)]
    fidelity = at_least([*TRIALS, *others], 3, checks_per_epoch=4)
    assert fidelity is not None and fidelity.check is None and fidelity.epochs is None
    assert list(fidelity.values) == [0.93, 0.92, 0.6]  # their best checks, not a check's
    assert fidelity.describe() == "3 complete trials, each with its best validation accuracy"


def test_a_configuration_tried_twice_counts_once() -> None:
    twice = [START, _trial("PRUNED", 1, [0.79]), _trial("PRUNED", 2, [0.7])]
    assert distinct_count(twice) == 2
    fidelity = at_least(twice, 2, checks_per_epoch=1)
    assert fidelity is not None and fidelity.check == 1 and len(fidelity.trials) == 3
    assert at_least(twice, 3, checks_per_epoch=1) is None


def test_the_study_view_holds_each_trial_with_its_value_at_the_check() -> None:
    fidelity = at_least(TRIALS, 4, checks_per_epoch=4)
    assert fidelity is not None
    assert fidelity.epochs == 0.5
    assert fidelity.describe() == (
        "4 trials at check 2 (epoch 0.5), pruned ones included, each with its validation accuracy there"
    )
    study = fidelity.as_study("view")
    assert [t.state for t in study.trials] == [TrialState.COMPLETE] * 4
    assert [t.value for t in study.trials] == [0.88, 0.89, 0.86, 0.90]
    assert [t.params["x"] for t in study.trials] == [1, 3, 4, 5]
    assert study.best_trial.params == {"x": 5, "lr": 0.05}
