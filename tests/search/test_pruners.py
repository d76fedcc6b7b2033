"""The pruners `tune` builds, driven by the production worker loop with synthetic learning curves (no Keras)."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import optuna
import pytest

from tuning.search.engines.optuna import make_pruner, make_sampler
from tuning.search.rungs import default_checks_per_epoch, top_rung
from tuning.search.storage import open_storage
from tuning.search.worker import run_worker

Objective = Callable[[optuna.Trial], float]
Outcomes = list[tuple[str, int | None]]  # (state, epochs run) of each trial
Search = Callable[..., Outcomes]


def curve_objective(epochs: int) -> Objective:
    """A trial whose validation accuracy climbs towards a sampled `quality`, pruned as PruningCallback prunes.

    It reports once per epoch (steps from 1) and never asks the pruner after the last epoch.
    """

    def objective(trial: optuna.Trial) -> float:
        quality = trial.suggest_float("quality", 0.0, 1.0)
        for epoch in range(1, epochs + 1):
            trial.report(quality * (1 - 0.5**epoch), epoch)
            if epoch < epochs and trial.should_prune():
                raise optuna.TrialPruned(f"pruned after epoch {epoch}")
        return quality * (1 - 0.5**epochs)

    return objective


def table_objective(curves: Sequence[Sequence[float]]) -> Objective:
    """Trial n reports `curves[n]`, one value per epoch, pruned as `curve_objective` is."""

    def objective(trial: optuna.Trial) -> float:
        curve = curves[trial.number]
        trial.suggest_float("quality", 0.0, 1.0)
        for epoch, value in enumerate(curve, start=1):
            trial.report(value, epoch)
            if epoch < len(curve) and trial.should_prune():
                raise optuna.TrialPruned(f"pruned after epoch {epoch}")
        return max(curve)

    return objective


@pytest.fixture(scope="module")
def storage(tmp_path_factory: pytest.TempPathFactory) -> optuna.storages.RDBStorage:
    """One database for the module (creating Optuna's tables is the slow part); each test has its own study."""
    return open_storage(f"sqlite:///{tmp_path_factory.mktemp('pruners') / 'studies.db'}")


@pytest.fixture()
def search(storage: optuna.storages.RDBStorage) -> Search:
    """Run a seeded study of `trials` trials through the worker loop, the first ones with the given qualities."""

    def run(
        pruner: optuna.pruners.BasePruner, objective: Objective, trials: int, qualities: Sequence[float] = ()
    ) -> Outcomes:
        # A fixed name: Hyperband assigns trials to brackets by hashing it.
        study = optuna.create_study(
            study_name="synthetic",
            storage=storage,
            sampler=make_sampler("random", seed=0),
            pruner=pruner,
            direction="maximize",
        )
        for quality in qualities:
            study.enqueue_trial({"quality": quality})
        try:
            run_worker(study, storage, objective, total=trials)
            return [(t.state.name, t.last_step) for t in study.get_trials()]
        finally:
            optuna.delete_study(study_name="synthetic", storage=storage)

    return run


def stopped_at(outcomes: Outcomes, state: str) -> set[int | None]:
    return {epochs for name, epochs in outcomes if name == state}


def test_hyperband_prunes_some_trials_at_its_rungs_and_completed_ones_run_every_epoch(search: Search) -> None:
    outcomes = search(make_pruner("hyperband", epochs=4, reduction_factor=3), curve_objective(4), trials=6)
    assert len(outcomes) == 6
    assert stopped_at(outcomes, "COMPLETE") == {4}
    assert stopped_at(outcomes, "PRUNED") == {1, 3}  # brackets starting at epoch 1 (rungs 1, 3) and at 3


@pytest.mark.parametrize(
    ("reduction_factor", "expected"),
    [
        # rungs at epochs 1, 2 (the top one, 4, lets trials finish): the fourth trial, second of 4
        # at epoch 1, is not the best of 3 at 2
        (2, [("COMPLETE", 5), ("COMPLETE", 5), ("PRUNED", 1), ("PRUNED", 2)]),
        (3, [("COMPLETE", 5), ("COMPLETE", 5), ("PRUNED", 1), ("PRUNED", 1)]),  # rungs at 1, 3: never a stop at 2
    ],
)
def test_halving_reduction_factor_sets_the_rungs(
    search: Search, reduction_factor: int, expected: list[tuple[str, int]]
) -> None:
    pruner = make_pruner("halving", epochs=5, reduction_factor=reduction_factor, finished=2)  # from trial 2 on
    qualities = [0.5, 0.6, 0.1, 0.55]
    assert search(pruner, curve_objective(5), trials=4, qualities=qualities) == expected


@pytest.mark.parametrize(
    ("checks", "factor", "top"),
    [(24, 4, 16), (16, 4, 16), (15, 4, 4), (240, 4, 64), (3, 2, 2), (3, 4, 4), (1, 4, 4)],
)
def test_top_rung_is_the_largest_power_of_the_factor_within_the_checks_past_the_first(
    checks: int, factor: int, top: int
) -> None:
    assert top_rung(checks, factor) == top


@pytest.mark.parametrize(
    ("images", "checks"),
    [(50_000, 4), (12_000, 4), (8_000, 4), (7_999, 3), (4_000, 2), (3_999, 1), (1_197, 1), (1, 1)],
)
def test_default_checks_per_epoch_keep_each_check_over_2000_images_at_most_4(images: int, checks: int) -> None:
    # Fashion-MNIST (50,000) and the suite's 12,000-image subset keep 4; digits' 1,197 images are checked once.
    assert default_checks_per_epoch(images) == checks


# 6 epochs, factor 2: rungs at epochs 1, 2 and the top one at 4. Trials 1 and 2 lead at 1 and 2 but
# not at 4, where Optuna's pruner alone stops them.
TOP_RUNG_CURVES = [
    [0.5, 0.6, 0.7, 0.8, 0.85, 0.9],
    [0.6, 0.7, 0.75, 0.78, 0.8, 0.82],
    [0.65, 0.75, 0.77, 0.79, 0.8, 0.81],
]


@pytest.mark.parametrize(
    ("finished", "expected"),
    [
        (5, [("COMPLETE", 6)] * 3),  # fewer than 5 complete: each trial that reached the top rung finishes
        (2, [("COMPLETE", 6), ("COMPLETE", 6), ("PRUNED", 4)]),  # trial 2 is judged there, 2 having completed
        (1, [("COMPLETE", 6), ("PRUNED", 4), ("PRUNED", 4)]),
    ],
)
def test_halving_lets_trials_at_the_top_rung_finish_until_enough_completed(
    search: Search, finished: int, expected: list[tuple[str, int]]
) -> None:
    pruner = make_pruner("halving", epochs=6, reduction_factor=2, finished=finished)
    assert search(pruner, table_objective(TOP_RUNG_CURVES), trials=3) == expected


# 4 epochs, factor 4: one rung below the top one, at epoch 1. Trial 3 is the second best of the 4 there: in
# their best half, not in their best quarter.
HALF_CURVES = [[0.9, 0.91, 0.92, 0.93], [0.5, 0.6, 0.7, 0.8], [0.6, 0.7, 0.8, 0.85], [0.8, 0.85, 0.9, 0.92]]


@pytest.mark.parametrize(
    ("finished", "expected"),
    [
        (5, [("COMPLETE", 4), ("PRUNED", 1), ("PRUNED", 1), ("COMPLETE", 4)]),  # 1 complete of 5: best half goes on
        (1, [("COMPLETE", 4), ("PRUNED", 1), ("PRUNED", 1), ("PRUNED", 1)]),  # enough complete: best quarter only
    ],
)
def test_halving_rungs_keep_their_best_half_until_enough_trials_completed(
    search: Search, finished: int, expected: list[tuple[str, int]]
) -> None:
    pruner = make_pruner("halving", epochs=4, reduction_factor=4, finished=finished)
    assert search(pruner, table_objective(HALF_CURVES), trials=4) == expected


@pytest.mark.parametrize(
    ("bootstrap_count", "trials", "expected"),
    [(0, 1, [("COMPLETE", 2)]), (2, 2, [("PRUNED", 1)] * 2)],
    ids=["first-trial-runs-to-the-end", "first-two-stopped-at-epoch-1"],
)
def test_bootstrap_count_stops_the_first_trials_at_each_rung(
    search: Search, bootstrap_count: int, trials: int, expected: list[tuple[str, int]]
) -> None:
    pruner = make_pruner("halving", epochs=2, reduction_factor=2, bootstrap_count=bootstrap_count)
    assert search(pruner, curve_objective(2), trials=trials) == expected


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("median", [("COMPLETE", 3)] * 3 + [("PRUNED", 1)] * 2),  # n_startup_trials=3
        ("none", [("COMPLETE", 3)] * 5),
    ],
)
def test_median_spares_the_first_three_trials_and_none_never_prunes(
    search: Search, name: str, expected: list[tuple[str, int]]
) -> None:
    # Each trial is worse than the one before, so all but the first would be below the median.
    qualities = [0.9, 0.8, 0.7, 0.6, 0.5]
    pruner = make_pruner(name, epochs=3, reduction_factor=3)
    assert search(pruner, curve_objective(3), trials=5, qualities=qualities) == expected


class _Clock:
    """Seconds as a trial's checks cost them: each trial starts at 0 and adds its cost per check."""

    def __init__(self) -> None:
        self.elapsed = 0.0

    def __call__(self) -> float:
        import time

        return time.time() + self.elapsed


def costed_objective(costs: Sequence[float], clock: _Clock, epochs: int = 6) -> Objective:
    """Trial n reports the same climbing curve as its peers, one check per epoch costing `costs[n]` seconds."""

    def objective(trial: optuna.Trial) -> float:
        clock.elapsed = 0.0
        trial.suggest_float("quality", 0.0, 1.0)
        for epoch in range(1, epochs + 1):
            clock.elapsed += costs[trial.number]
            trial.report(0.5 + 0.01 * epoch + 0.001 * trial.number, epoch)  # each trial a little better
            if epoch < epochs and trial.should_prune():
                raise optuna.TrialPruned(f"pruned after epoch {epoch}")
        return 0.5 + 0.01 * epochs + 0.001 * trial.number

    return objective


@pytest.mark.parametrize(
    ("cost_limit", "expected"),
    [
        (0.0, [("COMPLETE", 6)] * 5),  # off: the dear last trial leads, and goes on
        (3.0, [("COMPLETE", 6)] * 4 + [("PRUNED", 1)]),  # 10x the others' seconds at check 1
        (20.0, [("COMPLETE", 6)] * 5),
    ],
)
def test_cost_limit_stops_a_trial_far_dearer_than_its_peers_at_a_rung(
    search: Search, cost_limit: float, expected: list[tuple[str, int]]
) -> None:
    clock = _Clock()
    pruner = make_pruner("halving", epochs=6, reduction_factor=2, cost_limit=cost_limit, clock=clock)
    assert search(pruner, costed_objective([1.0, 1.0, 1.0, 1.0, 10.0], clock), trials=5) == expected
