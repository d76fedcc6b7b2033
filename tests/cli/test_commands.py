"""`tune` commands in this process (click's CliRunner) on real Fashion-MNIST subsets: run, resume, export, plots."""

from __future__ import annotations

import json
import re
import shlex
import shutil
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any

import numpy as np
import optuna
import pytest
from conftest import assert_clean_error, file_unchanged, invoke_tune
from pgserver import free_port

from tuning.errors import TuneError
from tuning.search.config import RunConfig
from tuning.search.runner import prepare_run
from tuning.search.space import default_space_path

pytestmark = pytest.mark.slow  # every test here trains real models, or reads a study that did

SMALL = ["--epochs", "2", "--max-train-samples", "600", "--seed", "0"]
SEARCH = ["run", "mlp", "--trials", "3", "--pruner", "none", *SMALL]


@pytest.fixture(scope="module")
def searched(
    tmp_path_factory: pytest.TempPathFactory, data_env: dict[str, str]
) -> tuple[Path, subprocess.CompletedProcess[str]]:
    """A small mlp study made by `tune run` in the default storage; tests read or copy it, never change it."""
    work = tmp_path_factory.mktemp("searched")
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(work)
        result = invoke_tune(SEARCH, env=data_env)
    return work / "studies.db", result


@pytest.fixture()
def study_copy(
    searched: tuple[Path, subprocess.CompletedProcess[str]], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Path:
    """This test's own copy of the searched study, as ./studies.db."""
    monkeypatch.chdir(tmp_path)
    return Path(shutil.copy(searched[0], tmp_path / "studies.db"))


def test_run_shows_each_trial_and_the_best(searched: tuple[Path, subprocess.CompletedProcess[str]]) -> None:
    db, result = searched
    assert result.returncode == 0, result.stderr
    assert "study 'mlp' in sqlite:///studies.db: running 3 trial(s)" in result.stdout
    for number in range(3):  # CliRunner's output is not a terminal: one line per trial, with the study's ETA
        (line,) = [line for line in result.stdout.splitlines() if line.startswith(f"trial   {number}  complete")]
        start = "  \\(start configuration\\)" if number == 0 else ""  # the space's [start] comes first
        assert re.search(rf"\(\d+\.\d s\){start}; {number + 1} of 3 done, ETA \d+ (s|min)$", line), line
    assert "; 3 of 3 done, ETA 0 s" in result.stdout
    best = optuna.load_study(study_name="mlp", storage=f"sqlite:///{db}").best_trial
    assert f"study 'mlp': 3 trials: 3 complete\nbest: trial {best.number}, validation accuracy {best.value:.4f}" in (
        result.stdout
    )
    assert "Traceback" not in result.stderr


def test_rerun_resumes_to_the_total(study_copy: Path, data_env: dict[str, str]) -> None:
    same = invoke_tune(SEARCH, env=data_env)
    assert same.returncode == 0 and "already holds 3 trials" in same.stdout
    more = invoke_tune(["run", "mlp", "--trials", "4", "--pruner", "none", *SMALL], env=data_env)
    assert more.returncode == 0, more.stderr
    assert "3 of 4 trials already there; running 1 trial(s)" in more.stdout
    assert "trial   3  complete" in more.stdout


def test_export_and_index_give_the_best_trials_own_settings(study_copy: Path, data_env: dict[str, str]) -> None:
    """Trials store what they ran with: a resume with --epochs 1 on a study created with 2, 600 images."""
    from tuning.results.export import Export

    resume = ["run", "mlp", "--trials", "4", "--pruner", "none", *SMALL[2:], "--epochs", "1"]
    resumed = invoke_tune(resume, env=data_env)
    assert resumed.returncode == 0, resumed.stderr
    validated = int(re.search(r"validating on (\d+)", resumed.stdout).group(1))  # type: ignore[union-attr]
    study = optuna.load_study(study_name="mlp", storage="sqlite:///studies.db")
    assert study.user_attrs["epochs"] == 2 and study.user_attrs["validation_size"] == 10_000
    trials = study.get_trials()
    assert [t.user_attrs["epochs"] for t in trials] == [2, 2, 2, 1]
    assert {t.user_attrs["validation_samples"] for t in trials} == {validated} and validated < 1000
    assert Export.from_study(study, chosen=trials[3]).epochs == 1
    assert invoke_tune(["export", "mlp"]).returncode == 0
    data = json.loads(Path("exports/mlp.json").read_text())
    best = trials[data["best_trial"]].user_attrs
    assert data["epochs"] == best["epochs"] and data["checks_per_epoch"] == best["checks_per_epoch"]
    assert data["data"]["validation_samples"] == validated and data["data"]["train_samples"] == 600
    assert data["steps_per_execution"] == best["steps_per_execution"] >= 1
    assert Export.read("exports/mlp.json").data.validation_samples == validated  # reads back
    assert invoke_tune(["plots", "mlp", "--no-png", "--output-dir", "report"]).returncode == 0
    index = Path("report/index.html").read_text()
    ran = index.split("best trial trained with", 1)[1].split("</table>", 1)[0]
    assert f"<tr><th>epochs</th><td>{best['epochs']}</td></tr>" in ran
    assert f"<tr><th>validation_samples</th><td>{validated}</td></tr>" in ran


def test_studies_export_and_plots(study_copy: Path) -> None:
    listing = invoke_tune(["studies", "--json"])
    assert listing.returncode == 0, listing.stderr
    (row,) = json.loads(listing.stdout)
    assert (row["study"], row["arch"]) == ("mlp", "mlp")
    assert row["trials"] == {"complete": 3, "pruned": 0, "failed": 0, "running": 0, "queued": 0}
    exported = invoke_tune(["export", "mlp"])
    assert exported.returncode == 0, exported.stderr
    data = json.loads((study_copy.parent / "exports" / "mlp.json").read_text())
    assert data["arch"] == "mlp" and data["study"] == "mlp"
    assert row["best_trial"] == data["best_trial"] and row["best_value"] == data["best_val_accuracy"]
    assert 0.1 < data["best_val_accuracy"] <= 1 and data["best_epoch"] in (1, 2)
    assert data["model_params"]["n_layers"] == data["params"]["n_layers"]
    assert data["data"]["fingerprint"] and data["space_hash"] and data["versions"]["tensorflow"]
    plotted = invoke_tune(["plots", "mlp", "--no-png", "--output-dir", "report"])
    assert plotted.returncode == 0, plotted.stderr
    for name in ("index", "history", "intermediate_values", "parallel_coordinate", "importance_ped_anova"):
        assert (study_copy.parent / "report" / f"{name}.html").stat().st_size > 1000


def test_export_to_a_file_path_is_one_clean_line_and_loses_nothing(study_copy: Path, tmp_path: Path) -> None:
    (tmp_path / "file.txt").write_text("a file, not a folder")
    with file_unchanged(study_copy):
        result = invoke_tune(["export", "mlp", "-o", str(tmp_path / "file.txt" / "x.json")])
    assert_clean_error(result, "cannot write")


def test_plots_refuse_a_study_with_too_few_complete_trials(
    tmp_path: Path, data_env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    space = tmp_path / "space.toml"
    space.write_text('arch = "mlp"\n[params.learning_rate]\ntype = "categorical"\nchoices = [1e8]\n')
    failed = invoke_tune(
        ["run", "mlp", "--trials", "1", "--space", str(space), "--pruner", "none", *SMALL], env=data_env
    )
    assert failed.returncode == 0 and "failed    loss became NaN" in failed.stdout
    assert_clean_error(invoke_tune(["plots", "mlp"]), "0 configurations with a validation check", "--trials 11")
    assert_clean_error(invoke_tune(["export", "mlp"]), "no complete trial")
    assert not (tmp_path / "dashboards").exists()
    assert not (tmp_path / "exports").exists()


@pytest.fixture(scope="module")
def halved(tmp_path_factory: pytest.TempPathFactory, data_env: dict[str, str]) -> Path:
    """A small study with the default pruner: the start trial, then 4 slow learners halving stops at their first check.

    The slow learners (learning rate 1e-4, heavy dropout) are queued, so that every one of them
    falls behind the start trial, as most sampled trials do in the default ConvNet study.
    """
    work = tmp_path_factory.mktemp("halved")
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(work)
        # 4 checks an epoch as the main command's 50,000 images get them (the default gives this subset 1);
        # the second run below leaves them to the default and goes on with the study's 4.
        created = invoke_tune(["run", "mlp", "--trials", "1", "--checks-per-epoch", "4", *SMALL], env=data_env)
        assert created.returncode == 0, created.stderr
        for units in (64, 96, 128, 160):
            slow = {"n_layers": 1, "units_1": units, "dropout_1": 0.6, "learning_rate": 1e-4, "batch_size": 64}
            assert invoke_tune(["enqueue", "mlp", "--params", json.dumps(slow)]).returncode == 0
        result = invoke_tune(["run", "mlp", "--trials", "5", *SMALL], env=data_env)
    assert result.returncode == 0, result.stderr
    assert "ignored" not in result.stdout
    return work / "studies.db"


@pytest.fixture()
def halved_copy(halved: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    return Path(shutil.copy(halved, tmp_path / "studies.db"))


def _states(db: Path) -> list[str]:
    return [t.state.name for t in optuna.load_study(study_name="mlp", storage=f"sqlite:///{db}").get_trials()]


def test_plots_of_a_default_study_with_one_complete_trial_rank_every_trial_at_its_first_check(
    halved_copy: Path,
) -> None:
    assert _states(halved_copy) == ["COMPLETE"] + ["PRUNED"] * 4  # the start trial led at every check
    listing = invoke_tune(["trials", "mlp"])
    assert listing.stdout.splitlines()[-1] == "5 trials: 1 complete, 4 pruned"
    plotted = invoke_tune(["plots", "mlp", "--no-png"])
    assert plotted.returncode == 0, plotted.stderr
    pages = halved_copy.parent / "dashboards" / "mlp"
    assert (pages / "importance_ped_anova.html").is_file() and (pages / "importance_fanova.html").is_file()
    index = (pages / "index.html").read_text(encoding="utf-8")
    assert "Ranked over 5 trials at check 1 (epoch 0.25), pruned ones included" in index


def test_robust_export_of_a_default_study_trains_pruned_candidates_in_full(halved_copy: Path) -> None:
    study = optuna.load_study(study_name="mlp", storage="sqlite:///studies.db")
    exported = invoke_tune(["export", "mlp", "--robust", "3", "--robust-seeds", "1"])
    assert exported.returncode == 0, exported.stderr
    said = " ".join(exported.stdout.split())  # one line however the console wrapped it
    assert (
        "fewer than 3 configurations of study 'mlp' completed: the candidates are its best trial and the best "
        "of 5 trials at check 1 (epoch 0.25)"
    ) in said
    data = json.loads(Path("exports/mlp.json").read_text())
    record = data["robust"]
    assert record["ranked_at_check"] == 1 and record["plain_trial"] == 0
    for candidate in record["candidates"]:
        trial = study.trials[candidate["trial"]]
        assert candidate["seeds"][0] == trial.user_attrs["seed"] and len(candidate["val_accuracies"]) == 2
        assert candidate["epochs"] == 2  # a pruned one's whole budget, not where it stopped
        if trial.state.name == "COMPLETE":
            assert candidate["val_accuracies"][0] == trial.value  # its own run counts as it is
    chosen = next(c for c in record["candidates"] if c["trial"] == record["chosen_trial"])
    assert data["best_trial"] == chosen["trial"] and data["best_val_accuracy"] == chosen["val_accuracies"][0]


def test_cnn_search_runs(tmp_path: Path, data_env: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    result = invoke_tune(["run", "cnn", "--trials", "2", "--epochs", "1", "--max-train-samples", "300"], env=data_env)
    assert result.returncode == 0, result.stderr
    assert "study 'cnn' in sqlite:///studies.db" in result.stdout
    assert len(re.findall(r"^trial +\d +(complete +val_acc|pruned +after)", result.stdout, re.MULTILINE)) == 2
    assert re.search(r"^study 'cnn': 2 trials: ", result.stdout, re.MULTILINE)


def test_optuna_dashboard_serves_learning_curves(study_copy: Path) -> None:
    """`optuna-dashboard sqlite:///studies.db` (installed with tune) shows per-epoch values and attributes."""
    port = free_port()
    dashboard = shutil.which("optuna-dashboard", path=str(Path(sys.executable).parent)) or "optuna-dashboard"
    server = subprocess.Popen(
        [dashboard, "sqlite:///studies.db", "--host", "127.0.0.1", "--port", str(port)],
        cwd=study_copy.parent,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        summaries = _get_json(f"http://127.0.0.1:{port}/api/studies", wait=30)["study_summaries"]
        (summary,) = [s for s in summaries if s["study_name"] == "mlp"]
        detail = _get_json(f"http://127.0.0.1:{port}/api/studies/{summary['study_id']}?after=0")
    finally:
        server.terminate()
        server.wait(timeout=10)
    trial = detail["trials"][0]
    stored = {a["key"]: a["value"] for a in trial["user_attrs"]}
    checks = (
        json.loads(stored["checks_per_epoch"])
        if isinstance(stored["checks_per_epoch"], str)
        else stored["checks_per_epoch"]
    )
    epochs = float(stored["epochs_run"])
    assert [v["step"] for v in trial["intermediate_values"]] == list(range(1, round(epochs * int(checks)) + 1))
    assert set(stored) >= {"arch", "n_params", "check_seconds", "val_accuracy_per_check", "data_fingerprint"}
    assert "n_layers" in {p["name"] for p in trial["params"]}


def _get_json(url: str, wait: float = 0) -> Any:
    """The JSON at `url`, retrying for up to `wait` seconds while nothing answers."""
    deadline = time.monotonic() + wait
    while True:
        try:
            with urllib.request.urlopen(url, timeout=10) as response:
                return json.load(response)
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)


def _kaggle_csvs(folder: Path, fashion: Any, n_train: int, n_test: int) -> Path:
    """Fashion-MNIST's first images as the two Kaggle CSVs (label, pixel1..pixel784)."""
    folder.mkdir()
    header = ",".join(["label", *(f"pixel{i}" for i in range(1, 785))])
    for name, x, y in (
        ("fashion-mnist_train.csv", fashion.x_train[:n_train], fashion.y_train[:n_train]),
        ("fashion-mnist_test.csv", fashion.x_test[:n_test], fashion.y_test[:n_test]),
    ):
        rows = np.column_stack([y, x.reshape(len(y), -1)])
        np.savetxt(folder / name, rows, fmt="%d", delimiter=",", header=header, comments="")
    return folder


def test_small_csv_data_and_a_timeout(
    tmp_path: Path, fashion: Any, data_env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """1,500 training rows validate on a sixth of them; the first line names the space; a timeout says how to go on."""
    monkeypatch.chdir(tmp_path)
    data = _kaggle_csvs(tmp_path / "csv", fashion, 1500, 300)
    (tmp_path / "search_spaces").mkdir()  # a copy the run does not read without --space
    (tmp_path / "search_spaces" / "mlp.toml").write_text(default_space_path("mlp").read_text())
    args = ["run", "mlp", "--trials", "3", "--timeout", "0.001", "--epochs", "1", "--precision", "float32"]
    args += ["--data-dir", str(data)]
    result = invoke_tune(args, env={**data_env, "TUNE_DATA_DIR": None})
    assert result.returncode == 0, result.stderr
    first = result.stdout.splitlines()[0]
    assert "on 1250 images of fashion-mnist (28x28 grey, 10 classes), validating on 250; float32 (as asked); " in first
    assert first.endswith(
        f"space {default_space_path('mlp')} (the one shipped with tune; search_spaces/mlp.toml is read only "
        "with --space search_spaces/mlp.toml)."
    )
    timed_out = re.search(
        r"^timeout reached \(0.001 s\): the study holds [01] of 3 trials. Go on with: (.*)$", result.stdout, re.M
    )
    assert timed_out and shlex.split(timed_out.group(1)) == ["tune", *args]
    study = optuna.load_study(study_name="mlp", storage="sqlite:///studies.db")
    assert study.user_attrs["validation_size"] == 250

    def join(size: int | float) -> None:  # another run on the study, without training
        prepare_run(RunConfig("mlp", validation_size=size, data=str(data), precision="float32", epochs=1))

    join(250)  # the same count, asked as a count
    with pytest.raises(TuneError, match="created with validation_size=250, but this run has validation_size=300"):
        join(0.2)
