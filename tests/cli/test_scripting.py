"""`tune studies --json`, `tune trials`, `tune enqueue`, `tune delete` on studies built by hand, without training.

The studies are real Optuna SQLite studies carrying the attributes `tune run` stores, with
trials in every state; one slow test queues a configuration and runs it for real.
"""

from __future__ import annotations

import json
import os
import pty
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import optuna
import pytest
from conftest import REPO, assert_clean_error, file_unchanged, invoke_tune
from optuna.distributions import CategoricalDistribution, FloatDistribution, IntDistribution
from optuna.trial import TrialState, create_trial

from tuning import attrs
from tuning.search.space import default_space_path, load_space

BOX_DRAWING = re.compile("[\u2500-\u257f]")
DISTRIBUTIONS = {
    "n_layers": IntDistribution(1, 3),
    "units_1": IntDistribution(64, 1024, log=True),
    "dropout_1": FloatDistribution(0.0, 0.6),
    "batch_size": CategoricalDistribution([64, 128, 256, 512]),
}
CHECKS = 4


def _trial(state: TrialState, value: float | None, params: dict[str, Any], **stored: Any) -> optuna.trial.FrozenTrial:
    user_attrs = {attrs.ARCH: "mlp", attrs.CHECKS_PER_EPOCH: CHECKS, **stored}
    return create_trial(
        state=state,
        value=value,
        params=params,
        distributions={name: DISTRIBUTIONS[name] for name in params},
        user_attrs=user_attrs,
        intermediate_values={1: value} if state == TrialState.PRUNED and value is not None else None,
    )


def _build(path: Path) -> None:
    """Study mlp (tune's attributes; a complete, a pruned, a failed and a running trial) and an empty study cnn."""
    optuna.logging.set_verbosity(optuna.logging.ERROR)
    storage = f"sqlite:///{path}"
    for arch in ("mlp", "cnn"):
        space = load_space(default_space_path(arch))
        study = optuna.create_study(study_name=arch, storage=storage, direction="maximize")
        stored = {
            attrs.ARCH: arch,
            attrs.SPACE: space.to_dict(),
            attrs.SPACE_HASH: space.hash,
            attrs.EPOCHS: 2,
            attrs.MAX_TRAIN_SAMPLES: 600,
            attrs.CHECKS_PER_EPOCH: CHECKS,
            attrs.SEED: 0,
        }
        attrs.set_attrs(study, stored)
    study = optuna.load_study(study_name="mlp", storage=storage)
    small = {"n_layers": 1, "units_1": 128, "dropout_1": 0.25, "batch_size": 128}
    study.add_trial(
        _trial(
            TrialState.COMPLETE,
            0.8625,
            small,
            **{
                attrs.EPOCHS_RUN: 2,
                attrs.CHECK_SECONDS: [1.5] * 2 * CHECKS,
                attrs.VAL_ACCURACY_PER_CHECK: [0.8] * 7 + [0.8625],
                attrs.BEST_EPOCH: 2,
            },
        )
    )
    study.add_trial(
        _trial(
            TrialState.PRUNED,
            0.71,
            {**small, "units_1": 900},
            **{attrs.EPOCHS_RUN: 0.25, attrs.CHECK_SECONDS: [4.0], attrs.VAL_ACCURACY_PER_CHECK: [0.71]},
        )
    )
    study.add_trial(
        _trial(
            TrialState.FAIL,
            None,
            {**small, "dropout_1": 0.5},
            **{attrs.EPOCHS_RUN: 0, attrs.FAIL_REASON: "NaN loss at epoch 1\nsecond line", attrs.CHECK_SECONDS: []},
        )
    )
    study.add_trial(_trial(TrialState.RUNNING, None, {"n_layers": 2}))


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("scripting") / "studies.db"
    _build(path)
    return path


@pytest.fixture()
def studies_db(built: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """This test's own copy of the built storage, as ./studies.db (the default storage)."""
    monkeypatch.chdir(tmp_path)
    return Path(shutil.copy(built, tmp_path / "studies.db"))


def _trials(path: Path, study: str = "mlp") -> list[optuna.trial.FrozenTrial]:
    return optuna.load_study(study_name=study, storage=f"sqlite:///{path}").get_trials()


def _ok(args: list[str]) -> str:
    result = invoke_tune(args)
    assert result.returncode == 0, result.stderr
    return result.stdout


# --- tune studies ----------------------------------------------------------------------


def test_studies_json_is_the_storage_and_nothing_else(studies_db: Path) -> None:
    listed = json.loads(_ok(["studies", "--json"]))  # parses: nothing else on stdout
    assert [row["study"] for row in listed] == ["cnn", "mlp"]
    cnn, mlp = listed
    assert mlp == {
        "study": "mlp",
        "arch": "mlp",
        "engine": "optuna",
        "trials": {"complete": 1, "pruned": 1, "failed": 1, "running": 1, "queued": 0},
        "retried": 0,
        "best_value": 0.8625,
        "best_trial": 0,
    }
    assert cnn["arch"] == "cnn" and sum(cnn["trials"].values()) == 0 and cnn["best_value"] is None


def test_studies_piped_is_plain_text(studies_db: Path) -> None:
    out = _ok(["studies"])
    assert not BOX_DRAWING.search(out), out
    header, *rows = out.splitlines()
    assert header.split()[:10] == [
        "study",
        "arch",
        "engine",
        "complete",
        "pruned",
        "failed",
        "retried",
        "running",
        "queued",
        "best",
    ]
    assert rows[1].split() == ["mlp", "mlp", "optuna", "1", "1", "1", "0", "1", "0", "0.8625", "0"]


def test_studies_json_of_an_empty_storage_is_an_empty_array(tmp_path: Path) -> None:
    optuna.storages.RDBStorage(f"sqlite:///{tmp_path / 'empty.db'}")
    assert json.loads(_ok(["studies", "--json", "--storage", f"sqlite:///{tmp_path / 'empty.db'}"])) == []


# --- tune trials -----------------------------------------------------------------------


def test_trials_json_matches_the_stored_trials(studies_db: Path) -> None:
    rows = json.loads(_ok(["trials", "mlp", "--json"]))
    stored = _trials(studies_db)
    assert [row["number"] for row in rows] == [t.number for t in stored]
    for row, trial in zip(rows, stored, strict=True):
        assert row["params"] == trial.params and row["value"] == trial.value
    complete, pruned, failed, running = rows
    assert (complete["state"], complete["stopped"], complete["epochs_run"]) == ("complete", "complete", 2)
    assert complete["seconds"] == pytest.approx(1.5 * 8)  # the sum of its check seconds
    assert (pruned["state"], pruned["stopped"], pruned["epochs_run"]) == ("pruned", "pruned after epoch 0.25", 0.25)
    assert pruned["seconds"] == 4.0 and pruned["value"] == 0.71
    assert failed["state"] == "failed" and failed["stopped"] == "failed: NaN loss at epoch 1"
    assert (running["state"], running["stopped"], running["epochs_run"]) == ("running", "running", None)
    assert running["seconds"] >= 0  # so far


def test_trials_piped_is_plain_text(studies_db: Path) -> None:
    out = _ok(["trials", "mlp"])
    assert not BOX_DRAWING.search(out), out
    header, *rows, total = out.splitlines()
    assert header.split() == ["trial", "state", "val", "acc", "epochs", "seconds", "params"]
    assert len(rows) == 4 and total == "4 trials: 1 complete, 1 pruned, 1 failed, 1 running"
    assert re.match(
        r"0 +complete +0\.8625 +2 +12\.0 +n_layers=1, units_1=128, dropout_1=0\.25, batch_size=128$", rows[0]
    )
    assert re.match(r"1 +pruned after epoch 0\.25 +0\.7100 +0\.25 +4\.0 +n_layers=1, units_1=900", rows[1])
    assert re.match(r"2 +failed: NaN loss at epoch 1 +- +0 +", rows[2])
    assert re.match(r"3 +running +- +- +[\d.]+ +n_layers=2$", rows[3])


def test_trials_of_an_unknown_study_is_one_line_naming_the_studies(studies_db: Path) -> None:
    with file_unchanged(studies_db):
        result = invoke_tune(["trials", "nope"])
    assert_clean_error(result, "no study named 'nope'", "studies: cnn, mlp")


def test_trials_of_a_study_without_trials(studies_db: Path) -> None:
    assert _ok(["trials", "cnn"]).strip() == "study 'cnn' has no trials yet."
    assert json.loads(_ok(["trials", "cnn", "--json"])) == []


# --- tune enqueue ----------------------------------------------------------------------

QUEUED = {"n_layers": 2, "units_1": 512, "dropout_1": 0.1, "units_2": 64, "dropout_2": 0.0, "batch_size": 256}


def test_enqueue_queues_a_waiting_trial_with_exactly_the_given_params(studies_db: Path) -> None:
    out = _ok(["enqueue", "mlp", "--params", json.dumps(QUEUED)])
    waiting = [t for t in _trials(studies_db) if t.state == TrialState.WAITING]
    assert len(waiting) == 1 and waiting[0].system_attrs["fixed_params"] == QUEUED
    assert "queued on study 'mlp' in sqlite:///studies.db: n_layers=2, units_1=512, dropout_1=0.1" in out
    # the run that runs it and no other: 4 trials there, the queued one among them
    assert "tune run mlp --trials 5 --epochs 2 --max-train-samples 600" in out
    listed = json.loads(_ok(["trials", "mlp", "--json"]))[-1]
    assert (listed["state"], listed["stopped"], listed["params"]) == ("queued", "queued", QUEUED)
    assert json.loads(_ok(["studies", "--json"]))[1]["trials"]["queued"] == 1


def test_enqueue_from_a_file_stores_whole_numbers_of_float_parameters_as_floats(studies_db: Path) -> None:
    (studies_db.parent / "config.json").write_text(json.dumps({"n_layers": 1, "dropout_1": 0, "l2": 1e-5}))
    _ok(["enqueue", "mlp", "--params-file", "config.json"])
    (waiting,) = [t for t in _trials(studies_db) if t.state == TrialState.WAITING]
    fixed = waiting.system_attrs["fixed_params"]
    assert fixed == {"n_layers": 1, "dropout_1": 0.0, "l2": 1e-5} and isinstance(fixed["dropout_1"], float)


def test_enqueue_checks_against_the_space_stored_on_the_study(studies_db: Path) -> None:
    (studies_db.parent / "space.toml").write_text('arch = "mlp"\n[params.n_layers]\ntype = "int"\nlow = 1\nhigh = 2\n')
    space = load_space(studies_db.parent / "space.toml")
    study = optuna.create_study(study_name="own", storage="sqlite:///studies.db", direction="maximize")
    attrs.set_attrs(study, {attrs.ARCH: "mlp", attrs.SPACE: space.to_dict(), attrs.SPACE_HASH: space.hash})
    study.set_user_attr(attrs.VALIDATION_SIZE, 120)
    with file_unchanged(studies_db):
        assert_clean_error(invoke_tune(["enqueue", "own", "--params", '{"n_layers": 3}']), "n_layers=3 lies outside")
        assert_clean_error(
            invoke_tune(["enqueue", "own", "--params", '{"units_1": 64}']), "unknown parameter 'units_1'"
        )
    out = _ok(["enqueue", "own", "--params", '{"n_layers": 2}'])
    assert "tune run mlp --trials 1 --study own --space SPACE.toml --validation-size 120" in out


REFUSED: dict[str, tuple[list[str], list[str]]] = {
    "unknown name": (["--params", '{"n_layers": 1, "unit_1": 64}'], ["unknown parameter 'unit_1'", "units_1"]),
    "out of range": (["--params", '{"units_1": 2048}'], ["units_1=2048 lies outside its space", "[64, 1024]"]),
    "float for an int": (["--params", '{"n_layers": 2.5}'], ["n_layers=2.5 must be an int"]),
    "string for an int": (["--params", '{"units_1": "big"}'], ["units_1='big' must be an int"]),
    "bool for a float": (["--params", '{"dropout_1": true}'], ["dropout_1=True must be a number"]),
    "not a choice": (["--params", '{"batch_size": 100}'], ["batch_size=100 is not one of its choices"]),
    "string for a choice": (["--params", '{"batch_size": "128"}'], ["batch_size='128' is not one of its choices"]),
    "condition not given": (["--params", '{"units_3": 64}'], ["'units_3' exists only when n_layers is one of [3]"]),
    "condition not met": (["--params", '{"n_layers": 2, "units_3": 64}'], ["'units_3' does not apply when n_layers=2"]),
    "not an object": (["--params", "[1, 2]"], ["--params must hold a JSON object", "holds a list: [1, 2]"]),
    "not JSON": (["--params", "{n_layers: 1}"], ["--params is not valid JSON"]),
    "missing file": (["--params-file", "missing.json"], ["cannot read --params-file missing.json"]),
    "neither": ([], ["--params JSON or --params-file FILE"]),
    "both": (["--params", "{}", "--params-file", "x.json"], ["--params JSON or --params-file FILE"]),
}


@pytest.mark.parametrize("case", list(REFUSED))
def test_enqueue_refuses_in_one_line_and_stores_nothing(studies_db: Path, case: str) -> None:
    args, fragments = REFUSED[case]
    with file_unchanged(studies_db):
        result = invoke_tune(["enqueue", "mlp", *args])
    assert_clean_error(result, *fragments)


def test_enqueue_on_an_unknown_study_or_one_without_a_space(studies_db: Path) -> None:
    optuna.create_study(study_name="bare", storage="sqlite:///studies.db")
    with file_unchanged(studies_db):
        unknown = invoke_tune(["enqueue", "nope", "--params", "{}"])
        bare = invoke_tune(["enqueue", "bare", "--params", '{"n_layers": 1}'])
    assert_clean_error(unknown, "no study named 'nope'", "studies: bare, cnn, mlp")
    assert_clean_error(bare, "study 'bare' holds no search space")


# --- tune delete -----------------------------------------------------------------------


def test_delete_with_yes_removes_the_study_only(studies_db: Path) -> None:
    out = _ok(["delete", "mlp", "--yes"])
    assert out.strip() == "deleted study 'mlp' and its 4 trial(s) (1 running) from sqlite:///studies.db"
    assert optuna.get_all_study_names(storage="sqlite:///studies.db") == ["cnn"]


def test_delete_without_yes_on_a_pipe_refuses_and_deletes_nothing(studies_db: Path) -> None:
    with file_unchanged(studies_db):
        result = invoke_tune(["delete", "mlp"])
        unknown = invoke_tune(["delete", "nope", "--yes"])
    assert_clean_error(
        result, "not deleting study 'mlp' and its 4 trial(s) (1 running)", "stdin is not a terminal; pass --yes"
    )
    assert_clean_error(unknown, "no study named 'nope'")


@pytest.mark.slow  # a real `tune` process on a pseudo-terminal
@pytest.mark.parametrize(("answer", "kept"), [("n", True), ("y", False)])
def test_delete_asks_on_a_terminal(studies_db: Path, answer: str, kept: bool) -> None:
    leader, follower = pty.openpty()
    proc = subprocess.Popen(
        [sys.executable, "-m", "tuning", "delete", "mlp"],
        cwd=studies_db.parent,
        env={**os.environ, "PYTHONPATH": str(REPO)},
        stdin=follower,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    os.close(follower)
    os.write(leader, f"{answer}\n".encode())
    out, err = proc.communicate(timeout=60)
    os.close(leader)
    assert proc.returncode == 0, err
    assert "delete study 'mlp' and its 4 trial(s) (1 running) from sqlite:///studies.db? [y/N]" in out
    assert ("nothing deleted." in out) is kept
    assert ("mlp" in optuna.get_all_study_names(storage="sqlite:///studies.db")) is kept


# --- a queued configuration, really run --------------------------------------------------


@pytest.mark.slow  # trains one small model
def test_the_next_run_runs_the_queued_configuration_first(
    tmp_path: Path, fashion_dir: Path, data_env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from tuning.search.config import RunConfig
    from tuning.search.runner import prepare_run

    storage = f"sqlite:///{tmp_path / 'studies.db'}"
    settings = ["--epochs", "1", "--max-train-samples", "600", "--precision", "float32", "--storage", storage]
    monkeypatch.setenv("TUNE_CACHE_DIR", data_env["TUNE_CACHE_DIR"])
    # the study as `tune run` creates it before its first trial
    prepare_run(
        RunConfig(
            arch="mlp",
            trials=1,
            epochs=1,
            max_train_samples=600,
            precision="float32",
            storage=storage,
            data=str(fashion_dir),
            defaults_first=False,  # no start trial queued: the user's configuration is the only one
        )
    )
    given = {
        "n_layers": 1,
        "units_1": 96,
        "dropout_1": 0.1,
        "l2": 1e-5,
        "learning_rate": 0.002,
        "batch_size": 128,
        "lr_schedule": "constant",
    }
    queued = invoke_tune(["enqueue", "mlp", "--storage", storage, "--params", json.dumps(given)])
    assert queued.returncode == 0, queued.stderr
    ran = invoke_tune(["run", "mlp", "--trials", "1", *settings], env=data_env)
    assert ran.returncode == 0, ran.stderr
    assert "running 1 trial(s)" in ran.stdout
    (trial,) = _trials(tmp_path / "studies.db")
    assert trial.number == 0 and trial.state in (TrialState.COMPLETE, TrialState.PRUNED)
    assert trial.params == given
