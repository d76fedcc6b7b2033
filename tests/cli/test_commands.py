"""`tune` commands in this process (click's CliRunner) on real Fashion-MNIST subsets: run, resume, export, plots."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any

import optuna
import pytest
from conftest import assert_clean_error, file_unchanged, invoke_tune
from pgserver import free_port

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
    for number in range(3):
        assert f"trial   {number}  complete  val_acc 0." in result.stdout
    best = optuna.load_study(study_name="mlp", storage=f"sqlite:///{db}").best_trial
    assert f"best: trial {best.number}, validation accuracy {best.value:.4f}" in result.stdout
    assert "Traceback" not in result.stderr


def test_rerun_resumes_to_the_total(study_copy: Path, data_env: dict[str, str]) -> None:
    same = invoke_tune(SEARCH, env=data_env)
    assert same.returncode == 0 and "already holds 3 trials" in same.stdout
    more = invoke_tune(["run", "mlp", "--trials", "4", "--pruner", "none", *SMALL], env=data_env)
    assert more.returncode == 0, more.stderr
    assert "3 of 4 trials already there; running 1 trial(s)" in more.stdout
    assert "trial   3  complete" in more.stdout


def test_studies_export_and_plots(study_copy: Path) -> None:
    listing = invoke_tune(["studies"])
    assert listing.returncode == 0, listing.stderr
    row = _table_row(listing.stdout, "mlp")
    assert (row["arch"], row["complete"], row["pruned"], row["failed"]) == ("mlp", "3", "0", "0")
    exported = invoke_tune(["export", "mlp"])
    assert exported.returncode == 0, exported.stderr
    data = json.loads((study_copy.parent / "exports" / "mlp.json").read_text())
    assert data["arch"] == "mlp" and data["study"] == "mlp"
    assert row["best trial"] == str(data["best_trial"])
    assert 0.1 < data["best_val_accuracy"] <= 1 and data["best_epoch"] in (1, 2)
    assert data["model_params"]["n_layers"] == data["params"]["n_layers"]
    assert data["data"]["fingerprint"] and data["space_hash"] and data["versions"]["tensorflow"]
    plotted = invoke_tune(["plots", "mlp", "--no-png", "--output-dir", "report"])
    assert plotted.returncode == 0, plotted.stderr
    for name in ("index", "history", "intermediate_values", "parallel_coordinate", "importance_ped_anova"):
        assert (study_copy.parent / "report" / f"{name}.html").stat().st_size > 1000


def _table_row(listing: str, study: str) -> dict[str, str]:
    """The row of `tune studies` for `study`, keyed by column heading."""
    header, row = [line for line in listing.splitlines() if "┃ study" in line or f"│ {study} " in line]
    headings = [cell.strip() for cell in header.split("┃")[1:-1]]
    return dict(zip(headings, [cell.strip() for cell in row.split("│")[1:-1]], strict=True))


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
    assert_clean_error(invoke_tune(["plots", "mlp"]), "0 complete trials")
    assert_clean_error(invoke_tune(["export", "mlp"]), "no complete trial")
    assert not (tmp_path / "dashboards").exists()
    assert not (tmp_path / "exports").exists()


def test_cnn_search_runs(tmp_path: Path, data_env: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    result = invoke_tune(["run", "cnn", "--trials", "2", "--epochs", "1", "--max-train-samples", "300"], env=data_env)
    assert result.returncode == 0, result.stderr
    assert "study 'cnn' in sqlite:///studies.db" in result.stdout
    assert result.stdout.count("complete  val_acc") + result.stdout.count("pruned") == 2


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
    assert [v["step"] for v in trial["intermediate_values"]] == [1, 2]
    assert {a["key"] for a in trial["user_attrs"]} >= {"arch", "n_params", "epoch_seconds", "data_fingerprint"}
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
