"""Settings changed on an existing study: found against its latest run, recorded on it with the time."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

import optuna
import pytest

from tuning import attrs
from tuning.model.registry import get_model
from tuning.search.changes import CHANGEABLE, record_changes
from tuning.search.config import RunConfig
from tuning.search.rungs import default_checks_per_epoch
from tuning.search.study import open_run_study


@pytest.fixture()
def storage() -> optuna.storages.BaseStorage:
    return optuna.storages.InMemoryStorage()


E = get_model("mlp").epochs  # the epochs of a run that does not set them


def _join(storage: optuna.storages.BaseStorage, **settings: object) -> tuple[optuna.Study, object]:
    """Create or join study "s" as a run with `settings` would, and record what it changes."""
    config = RunConfig(**{"arch": "mlp", "study_name": "s", "precision": "float32", **settings})
    # A new study gets its checks per epoch resolved as prepare_run resolves them on Fashion-MNIST's 50,000 images.
    created = replace(config, checks_per_epoch=config.checks_per_epoch or default_checks_per_epoch(50_000))
    study = open_run_study(created, storage, {attrs.ARCH: "mlp"})
    return study, record_changes(study, config)


def test_a_new_study_records_its_settings_and_no_change(storage: optuna.storages.BaseStorage) -> None:
    study, changes = _join(storage)
    assert not changes
    assert set(study.user_attrs[attrs.RUN_SETTINGS]) == set(CHANGEABLE)
    assert study.user_attrs[attrs.RUN_SETTINGS]["pruner"] == "halving"
    study, changes = _join(storage)
    assert not changes and attrs.SETTING_CHANGES not in study.user_attrs


def test_each_run_that_changes_settings_is_recorded(storage: optuna.storages.BaseStorage) -> None:
    _join(storage)
    study, changes = _join(storage, epochs=8, pruner="median", sampler="random", checks_per_epoch=2)
    assert changes.changed == {"sampler": ("tpe", "random"), "pruner": ("halving", "median"), "epochs": (E, 8)}
    assert changes.ignored == {"checks_per_epoch": (4, 2)}  # the study keeps its checks per epoch
    (entry,) = study.user_attrs[attrs.SETTING_CHANGES]
    assert datetime.fromisoformat(entry["at"]).tzinfo is not None
    assert entry["changed"] == {"sampler": ["tpe", "random"], "pruner": ["halving", "median"], "epochs": [E, 8]}
    assert entry["ignored"] == {"checks_per_epoch": [4, 2]}
    assert study.user_attrs[attrs.RUN_SETTINGS]["epochs"] == 8
    assert study.user_attrs[attrs.RUN_SETTINGS]["checks_per_epoch"] == 4
    assert study.user_attrs[attrs.EPOCHS] == E  # what the study was created with stays

    study, changes = _join(storage, epochs=8, pruner="median", sampler="random")  # as the latest run: no change
    assert not changes and len(study.user_attrs[attrs.SETTING_CHANGES]) == 1
    study, changes = _join(storage, reduction_factor=3, bootstrap_count=2, precision="bfloat16", startup_trials=4)
    assert changes.changed == {  # sampler, pruner and epochs back to the defaults
        "sampler": ("random", "tpe"),
        "startup_trials": (10, 4),
        "pruner": ("median", "halving"),
        "reduction_factor": (4, 3),
        "bootstrap_count": (0, 2),
        "epochs": (8, E),
        "precision": ("float32", "bfloat16"),
    }
    assert len(study.user_attrs[attrs.SETTING_CHANGES]) == 2


def test_a_study_older_than_the_record_compares_what_it_stored(storage: optuna.storages.BaseStorage) -> None:
    study = optuna.create_study(study_name="s", storage=storage, direction="maximize")
    attrs.set_attrs(study, {attrs.ARCH: "mlp", attrs.SEED: 1, attrs.EPOCHS: 10})  # no precision: float32
    study, changes = _join(storage, pruner="hyperband", precision="bfloat16")
    assert changes.changed == {"epochs": (10, E), "precision": ("float32", "bfloat16")}  # its pruner is unknown
    assert not changes.ignored  # the default checks: the study's 1, nothing asked
    study, changes = _join(storage, pruner="hyperband", precision="bfloat16", checks_per_epoch=4)
    assert changes.ignored == {"checks_per_epoch": (1, 4)}
    assert study.user_attrs[attrs.RUN_SETTINGS]["pruner"] == "hyperband"
