"""The samplers `tune` builds, on a real Optuna storage with a synthetic objective (no Keras)."""

from __future__ import annotations

from pathlib import Path

import optuna
import pytest

from tuning.search.engines.optuna import make_sampler
from tuning.search.storage import open_storage


def _proposals(sampler: optuna.samplers.BaseSampler, storage: optuna.storages.BaseStorage, trials: int) -> list:
    study = optuna.create_study(storage=storage, sampler=sampler, direction="maximize")
    study.optimize(lambda t: -((t.suggest_float("x", 0.0, 1.0) - 0.3) ** 2) - t.suggest_int("n", 1, 8), trials)
    return [(t.params["x"], t.params["n"]) for t in study.trials]


@pytest.mark.parametrize(("name", "startup"), [("tpe", 2), ("tpe", 5), ("tpe-univariate", 4)])
def test_tpe_samples_its_startup_trials_at_random_then_from_its_model(tmp_path: Path, name: str, startup: int) -> None:
    storage = open_storage(f"sqlite:///{tmp_path / 'studies.db'}")
    tpe = _proposals(make_sampler(name, seed=3, startup_trials=startup), storage, startup + 3)
    random = _proposals(make_sampler("random", seed=3), storage, startup + 3)
    assert tpe[:startup] == random[:startup]  # the same draws as random search with the seed
    assert all(t != r for t, r in zip(tpe[startup:], random[startup:], strict=True))  # then TPE's own
    # TPE has learnt that small n scores higher: its proposals after the startup lean low
    assert sum(n for _, n in tpe[startup:]) < sum(n for _, n in random[startup:])
