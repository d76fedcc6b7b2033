"""`tune dashboard`: the real optuna-dashboard server in a subprocess, its HTTP API and a headless Chromium."""

from __future__ import annotations

import json
import re
import signal
import subprocess
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import optuna
import pytest
from conftest import assert_clean_error, invoke_tune
from procs import tune_process

from tuning import attrs
from tuning.render import find_chromium
from tuning.report.browser import open_page
from tuning.report.dashboard import open_dashboard
from tuning.search.artifacts import upload_trial_artifacts
from tuning.search.notes import TrialEnding, save_trial_note

optuna.logging.set_verbosity(optuna.logging.WARNING)

STUDY = "dash-mlp"
_URL = re.compile(r"open (http://\S+)")


def _objective(trial: optuna.Trial) -> float:
    """Stands in for training (tested in tests/search/test_artifacts.py): what a trial stores, then the real hooks."""
    units = trial.suggest_int("units_1", 32, 512, log=True)
    curve = [0.70 + 0.01 * trial.number, 0.75 + 0.01 * trial.number]
    attributes = {
        attrs.ARCH: "mlp",
        attrs.N_PARAMS: 785 * units + 10 * (units + 1),
        attrs.CHECKS_PER_EPOCH: 1,
        attrs.EPOCHS_RUN: 2,
        attrs.CHECK_SECONDS: [1.5, 1.4],
        attrs.VAL_ACCURACY_PER_CHECK: curve,
        attrs.TRAIN_ACCURACY_PER_CHECK: [0.68, 0.74],
        attrs.VAL_LOSS_PER_CHECK: [0.8, 0.7],
        attrs.TRAIN_LOSS_PER_CHECK: [0.9, 0.75],
    }
    for key, value in attributes.items():
        trial.set_user_attr(key, value)
    for step, value in enumerate(curve, start=1):
        trial.report(value, step)
    save_trial_note(trial, TrialEnding("complete"))
    upload_trial_artifacts(trial, trial.user_attrs.get("artifact_dir"), model=None, png=False)  # PNGs: test_artifacts
    return max(curve)


@pytest.fixture()
def study_db(tmp_path: Path) -> Path:
    """A SQLite storage whose trials stored notes and artifacts in studies.artifacts/ beside it."""
    db = tmp_path / "studies.db"
    study = optuna.create_study(study_name=STUDY, storage=f"sqlite:///{db}", direction="maximize")
    folder = str(tmp_path / "studies.artifacts")
    study.optimize(lambda trial: (trial.set_user_attr("artifact_dir", folder), _objective(trial))[1], n_trials=2)
    return db


@pytest.fixture()
def served(study_db: Path, tune_env: dict[str, str]) -> Iterator[tuple[subprocess.Popen[str], str]]:
    """`tune dashboard --port 0` running on the study; its process and the URL it printed."""
    proc = tune_process(["dashboard", "--storage", str(study_db), "--port", "0"], study_db.parent, tune_env)
    try:
        yield proc, _printed_url(proc)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()


def _printed_url(proc: subprocess.Popen[str], seen: list[str] | None = None) -> str:
    """The URL `tune dashboard` printed; the lines up to it go into `seen`."""
    assert proc.stdout is not None
    for line in proc.stdout:
        (seen if seen is not None else []).append(line)
        found = _URL.search(line)
        if found:
            return found.group(1)
    raise AssertionError(f"no URL printed; stderr: {proc.stderr.read() if proc.stderr else ''}")


def _get(url: str) -> bytes:
    with urllib.request.urlopen(url, timeout=10) as reply:
        return bytes(reply.read())


@pytest.mark.slow
def test_dashboard_api_has_each_trials_note_and_artifacts(served: tuple[subprocess.Popen[str], str]) -> None:
    proc, url = served
    assert url.startswith("http://127.0.0.1:")
    root = url.removesuffix("/dashboard/")
    studies = json.loads(_get(f"{root}/api/studies"))["study_summaries"]
    (study_id,) = [s["study_id"] for s in studies if s["study_name"] == STUDY]
    detail = json.loads(_get(f"{root}/api/studies/{study_id}?after=0"))
    assert len(detail["trials"]) == 2
    for trial in detail["trials"]:
        assert trial["note"]["body"].startswith(f"### Trial {trial['number']}: completed")
        files = {artifact["filename"]: artifact for artifact in trial["artifacts"]}
        assert "learning_curve.csv" in files
        csv_text = _get(f"{root}/artifacts/{study_id}/{trial['trial_id']}/{files['learning_curve.csv']['artifact_id']}")
        assert csv_text.decode().splitlines()[0].startswith("check,epoch,seconds")
    proc.send_signal(signal.SIGINT)  # as Ctrl-C in a terminal
    stdout, stderr = proc.communicate(timeout=20)
    assert proc.returncode == 0, stderr
    assert "Traceback" not in stderr and "dashboard stopped" in stdout


@pytest.mark.slow
@pytest.mark.chromium
def test_dashboard_study_page_renders_in_chromium(served: tuple[subprocess.Popen[str], str]) -> None:
    if find_chromium() is None:
        pytest.skip("no Chromium installed")
    _, url = served
    page = open_page(
        f"{url.rstrip('/')}/studies/1",
        wait_for=f"document.body.innerText.includes('{STUDY}') && document.querySelector('.js-plotly-plot .main-svg')",
    )
    assert page.ready, page.text[:500]
    assert page.errors == (), page.errors
    assert STUDY in page.text and page.figures >= 1


def test_dashboard_binds_loopback_by_default(study_db: Path) -> None:
    board = open_dashboard(str(study_db), port=0)
    try:
        assert board.server.server_address[0] == "127.0.0.1" and board.loopback
        assert board.artifact_dir == study_db.parent / "studies.artifacts"
    finally:
        board.server.server_close()


def test_dashboard_on_another_storage_needs_an_artifact_dir_and_hides_the_password() -> None:
    result = invoke_tune(["dashboard", "--storage", "postgresql://tune:s3cret@127.0.0.1:1/tune"])
    assert_clean_error(result, "postgresql://tune:***@127.0.0.1:1/tune", "--artifact-dir")
    assert "s3cret" not in result.stderr


@pytest.mark.slow
def test_dashboard_prints_its_storage_with_the_password_masked(
    postgres_url: str, tmp_path: Path, tune_env: dict[str, str]
) -> None:
    optuna.create_study(study_name="pg-dash", storage=postgres_url)
    args = ["dashboard", "--storage", postgres_url, "--port", "0", "--artifact-dir", str(tmp_path)]
    proc = tune_process(args, tmp_path, tune_env)
    seen: list[str] = []
    try:
        url = _printed_url(proc, seen)
        assert json.loads(_get(url.replace("/dashboard/", "/api/studies")))["study_summaries"]
    finally:
        proc.send_signal(signal.SIGINT)
        stdout, stderr = proc.communicate(timeout=20)
    password = postgres_url.split(":")[2].split("@")[0]
    assert proc.returncode == 0 and password not in "".join(seen) + stdout + stderr
    assert seen[0].startswith("optuna-dashboard on postgresql://tune:***@127.0.0.1:"), seen


def test_dashboard_on_a_busy_port_is_one_line(study_db: Path) -> None:
    import socket

    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = invoke_tune(["dashboard", "--storage", str(study_db), "--port", str(port)])
    assert_clean_error(result, f"cannot listen on 127.0.0.1:{port}")


def test_dashboard_on_a_missing_storage_is_one_line(tmp_path: Path) -> None:
    result = invoke_tune(["dashboard", "--storage", str(tmp_path / "none.db")])
    assert_clean_error(result, "no study database at")
    assert not (tmp_path / "none.db").exists()
