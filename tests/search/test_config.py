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
        ({"arch": "rnn"}, "unknown architecture 'rnn'"),
        ({"sampler": "grid"}, "unknown sampler 'grid'"),
        ({"precision": "float16"}, "unknown precision 'float16'"),
        ({"reduction_factor": 1}, "reduction_factor must be a whole number >= 2, but got reduction_factor=1"),
        ({"reduction_factor": 2.5}, "reduction_factor must be a whole number >= 2, but got reduction_factor=2.5"),
        ({"bootstrap_count": -1}, "bootstrap_count must be a whole number >= 0, but got bootstrap_count=-1"),
        ({"validation_size": 0}, "validation_size must be a whole number >= 1 or a fraction between 0 and 1"),
        ({"validation_size": 1.0}, "but got validation_size=1.0"),
        ({"validation_size": "0.2"}, "but got validation_size='0.2'"),
    ],
)
def test_impossible_settings_are_refused(settings: dict, message: str) -> None:
    with pytest.raises(TuneError, match=message):
        RunConfig(**{"arch": "mlp", **settings})


def test_the_command_line_defaults_are_the_run_settings_defaults() -> None:
    """`tune run` states no default of its own: each option's default is RunConfig's."""
    fields = RunConfig.__dataclass_fields__
    checked = 0
    for param in run_command.params:
        if param.name in fields and param.name not in ("arch", "study_name", "space_path", "data_dir"):
            assert param.default == fields[param.name].default, param.name
            checked += 1
    assert checked >= 10


@pytest.mark.parametrize("size", [1, 5000, 0.2, 0.5])
def test_validation_size_is_a_count_or_a_fraction(size: int | float) -> None:
    assert RunConfig("mlp", validation_size=size).validation_size == size
