"""Run settings: checked once, at construction, with the bad value shown."""

from __future__ import annotations

import pytest

from tuning.cli.run import run as run_command
from tuning.errors import TuneError
from tuning.search.config import RunConfig


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"trials": 0}, "trials must be a whole number >= 1, but got trials=0"),
        ({"trials": -3}, "but got trials=-3"),
        ({"epochs": 0}, "epochs=0"),
        ({"timeout": -1.0}, "timeout=-1.0"),
        ({"arch": "rnn"}, "unknown model 'rnn'"),
        ({"sampler": "grid"}, "unknown sampler 'grid'"),
        ({"precision": "float16"}, "unknown precision 'float16'"),
        ({"reduction_factor": 1}, "reduction_factor must be a whole number >= 2, but got reduction_factor=1"),
        ({"reduction_factor": 2.5}, "reduction_factor must be a whole number >= 2, but got reduction_factor=2.5"),
        ({"bootstrap_count": -1}, "bootstrap_count must be a whole number >= 0, but got bootstrap_count=-1"),
        ({"startup_trials": -1}, "startup_trials must be a whole number >= 0, but got startup_trials=-1"),
        ({"validation_size": 0}, "validation_size must be a whole number >= 1 or a fraction between 0 and 1"),
        ({"validation_size": 1.0}, "but got validation_size=1.0"),
        ({"validation_size": "0.2"}, "but got validation_size='0.2'"),
    ],
)
def test_impossible_settings_are_refused(settings: dict, message: str) -> None:
    with pytest.raises(TuneError, match=message):
        RunConfig(**{"arch": "mlp", **settings})


def test_every_run_setting_can_be_given_on_the_command_line() -> None:
    # steps_per_execution: a speed knob for bench/epoch_speed.py, chosen once for every machine
    options = {param.name for param in run_command.params}
    assert set(RunConfig.__dataclass_fields__) - options == {"steps_per_execution"}


def test_an_unknown_engine_is_refused_with_the_registered_ones() -> None:
    with pytest.raises(TuneError, match="unknown engine 'hyperopt'; choose one of: optuna, keras-tuner"):
        RunConfig("mlp", engine="hyperopt")


@pytest.mark.parametrize("size", [1, 5000, 0.2, 0.5])
def test_validation_size_is_a_count_or_a_fraction(size: int | float) -> None:
    assert RunConfig("mlp", validation_size=size).validation_size == size
