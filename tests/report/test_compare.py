"""`tune compare`: its page, table and reach times, from real studies in a SQLite storage (no training)."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import optuna
import pytest
from conftest import assert_clean_error, invoke_tune

from tuning import attrs

START = datetime(2026, 1, 1, 12, 0, 0)


def _study(storage: str, name: str, engine: dict[str, str], trials: list[tuple[str, float, float, float]]) -> None:
    """A study whose trials are (state, start minute, minutes, validation accuracy), trained 1 epoch each."""
    study = optuna.create_study(study_name=name, storage=storage, direction="maximize")
    for key, value in {
        attrs.ARCH: "mlp",
        attrs.RUN_SETTINGS: {"sampler": "tpe", "pruner": "halving"},
        **engine,
    }.items():
        study.set_user_attr(key, value)
    distribution = optuna.distributions.FloatDistribution(1e-4, 1e-2, log=True)
    for state, start, minutes, accuracy in trials:
        study.add_trial(
            optuna.trial.FrozenTrial(
                number=0,
                trial_id=0,
                state=optuna.trial.TrialState[state],
                value=accuracy if state == "COMPLETE" else None,
                values=None,
                datetime_start=START + timedelta(minutes=start),
                datetime_complete=START + timedelta(minutes=start + minutes),
                params={"learning_rate": 0.001},
                distributions={"learning_rate": distribution},
                user_attrs={attrs.EPOCHS_RUN: 1},
                system_attrs={},
                intermediate_values={1: accuracy},
            )
        )


def test_compare_writes_its_page_and_table(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    storage = "sqlite:///runs.db"
    _study(storage, "fast", {}, [("COMPLETE", 0, 1, 0.85), ("PRUNED", 1, 1, 0.89), ("COMPLETE", 2, 1, 0.92)])
    kt = {attrs.ENGINE: "keras-tuner", attrs.KT_ORACLE: "hyperband"}
    # A pause of an hour before its last trial: not search time; nor is the failed trial's span (no checks recorded).
    _study(storage, "slow", kt, [("COMPLETE", 0, 2, 0.80), ("FAIL", 2, 1, 0.0), ("COMPLETE", 63, 3, 0.885)])
    result = invoke_tune(["compare", "fast", "slow", "--storage", "runs.db", "--output", "out/c.html", "--no-png"])
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].split() == [
        *(["study", "engine", "sampler/oracle", "pruner", "trials", "best", "val", "acc"]),
        *(["time", "to", "88.11%", "epochs", "to", "88.11%", "time", "to", "91.85%", "epochs", "to", "91.85%"]),
    ]
    assert lines[1].split() == [
        *(["fast", "optuna", "tpe", "halving", "2", "complete,", "1", "pruned", "92.00%"]),
        *(["2", "min", "2", "3", "min", "3"]),
    ]
    assert lines[2].split() == [
        *(["slow", "keras-tuner", "(hyperband)", "hyperband", "(oracle)", "2", "complete,", "1", "failed", "88.50%"]),
        *(["5", "min", "3", "not", "reached", "-"]),
    ]
    assert lines[-1] == "wrote out/c.html"
    page = (tmp_path / "out/c.html").read_text()
    assert "plotly" in page and "<script" in page and 'src="http' not in page  # plotly.js inlined
    assert "against epochs trained" in page and "same architecture on the same data" in page
    assert not (tmp_path / "out/c.png").exists()


def test_compare_says_when_studies_are_not_like_for_like(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    _study("sqlite:///runs.db", "a", {}, [("COMPLETE", 0, 1, 0.9)])
    _study("sqlite:///runs.db", "b", {attrs.ARCH: "cnn"}, [("COMPLETE", 0, 1, 0.9)])
    result = invoke_tune(["compare", "a", "b", "--storage", "runs.db", "--no-png", "--target", "85"])
    assert result.returncode == 0, result.stderr
    assert "note: the studies differ in arch: not like for like." in result.stdout
    assert "Not like for like" in (tmp_path / "compare.html").read_text()


def test_compare_of_other_data_tables_no_fashion_mnist_targets(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    _study("sqlite:///runs.db", "d", {attrs.DATA_NAME: "digits"}, [("COMPLETE", 0, 1, 0.97)])
    plain = invoke_tune(["compare", "d", "--storage", "runs.db", "--no-png"])
    assert plain.returncode == 0, plain.stderr
    assert "88.11%" not in plain.stdout and "91.85%" not in plain.stdout
    asked = invoke_tune(["compare", "d", "--storage", "runs.db", "--no-png", "--target", "95"])
    assert "time to 95.00%" in asked.stdout


@pytest.mark.parametrize(
    ("args", "named"),
    [
        (["a", "zz"], "no study named 'zz'"),
        (["a", "a"], "a STUDY is named twice"),
        (["a", "--target", "120"], "--target is a percentage"),
    ],
)
def test_compare_refuses_bad_input(
    args: list[str], named: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    _study("sqlite:///runs.db", "a", {}, [("COMPLETE", 0, 1, 0.9)])
    assert_clean_error(invoke_tune(["compare", *args, "--storage", "runs.db", "--no-png"]), named)
    assert not (tmp_path / "compare.html").exists()
