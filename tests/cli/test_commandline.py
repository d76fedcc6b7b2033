"""The commands tune suggests: built from the command's own options, defaults left out, runnable as printed."""

from __future__ import annotations

import pytest

from tuning.cli.commandline import command_line, option_flags, same_command
from tuning.cli.main import cli
from tuning.cli.run import run


@pytest.mark.parametrize(
    ("call", "expected"),
    [
        (("export", "mlp"), "tune export mlp"),
        (("export", "mlp", {"storage": "sqlite:///studies.db"}), "tune export mlp"),  # the default
        (("export", "my study", {"storage": "runs/a b.db"}), "tune export 'my study' --storage 'runs/a b.db'"),
        (
            ("plots", "s", {"storage": "postgresql://ann:s3cret@db/tune", "png": False}),
            "tune plots s --no-png --storage 'postgresql://ann:***@db/tune'",
        ),
        (("retrain", "exports/s.json", {"seeds": 3, "png": True}), "tune retrain exports/s.json --seeds 3 --png"),
        (
            ("run", "cnn", {"timeout": 3600.0, "trials": 20, "defaults_first": False, "seed": None}),
            "tune run cnn --timeout 3600 --no-defaults-first",
        ),
    ],
)
def test_command_line(call: tuple, expected: str) -> None:
    name, *arguments = call
    options = arguments.pop() if arguments and isinstance(arguments[-1], dict) else {}
    assert command_line(cli.commands[name], *arguments, **options) == expected


def test_an_unknown_option_is_a_bug() -> None:
    with pytest.raises(TypeError, match="no option"):
        command_line(cli.commands["export"], "mlp", trials=3)


def test_same_command_keeps_what_was_typed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TUNE_DATA_DIR", "/data")  # from the environment: the same shell has it again
    typed = ["mlp", "--trials", "3", "--study", "night run", "--storage", "postgresql://u:pw@h/db", "-j", "2"]
    ctx = run.make_context("run", typed)
    assert (
        same_command(ctx) == "tune run mlp --trials 3 --study 'night run' --storage 'postgresql://u:***@h/db' --jobs 2"
    )
    assert same_command(ctx, trials=10).startswith("tune run mlp --trials 10 --study")


def test_option_flags() -> None:
    flags = option_flags(run)
    assert flags["max_train_samples"] == "--max-train-samples" and flags["study_name"] == "--study"
    assert flags["jobs"] == "--jobs"
