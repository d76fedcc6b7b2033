"""End to end: the real `tune` command in a subprocess, on real Fashion-MNIST subsets."""

from __future__ import annotations

import gzip
import hashlib
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import assert_clean_error, run_tune
from procs import tune_process, wait_for_running_trial

SMALL = ["--epochs", "2", "--max-train-samples", "600", "--seed", "0"]


def test_help_does_not_import_heavy_libraries() -> None:
    code = (
        "import sys\nfrom tuning.cli.main import main\n"
        "for args in (['--help'], ['run', '--help'], ['plots', '--help']):\n"
        "    try:\n        main(args)\n    except SystemExit:\n        pass\n"
        "heavy = ('tensorflow', 'keras', 'pandas', 'plotly', 'optuna', 'sklearn')\n"
        "print('LOADED', [m for m in heavy if m in sys.modules])\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert "Usage: tune run [OPTIONS] {mlp|cnn}" in out
    assert out.strip().endswith("LOADED []")


@pytest.fixture(scope="module")
def searched(tmp_path_factory: pytest.TempPathFactory, cache_dir: Path, fashion_dir: Path) -> dict:
    """One small mlp study made by the real command, shared by the tests below."""
    import os

    work = tmp_path_factory.mktemp("work")
    env = {**os.environ, "TUNE_CACHE_DIR": str(cache_dir), "TUNE_DATA_DIR": str(fashion_dir)}
    first = run_tune(["run", "mlp", "--trials", "3", "--pruner", "none", *SMALL], work, env)
    return {"work": work, "env": env, "first": first}


def test_run_shows_each_trial_and_the_best(searched: dict) -> None:
    result = searched["first"]
    assert result.returncode == 0, result.stderr
    assert "study 'mlp' in sqlite:///studies.db: running 3 trial(s)" in result.stdout
    for number in range(3):
        assert f"trial   {number}  complete  val_acc 0." in result.stdout
    assert "best: trial " in result.stdout
    assert (searched["work"] / "studies.db").is_file()
    assert "Traceback" not in result.stderr


def test_rerun_resumes_to_the_total(searched: dict) -> None:
    work, env = searched["work"], searched["env"]
    same = run_tune(["run", "mlp", "--trials", "3", "--pruner", "none", *SMALL], work, env)
    assert same.returncode == 0 and "already holds 3 trials" in same.stdout
    more = run_tune(["run", "mlp", "--trials", "4", "--pruner", "none", *SMALL], work, env)
    assert more.returncode == 0, more.stderr
    assert "3 of 4 trials already there; running 1 trial(s)" in more.stdout
    assert "trial   3  complete" in more.stdout


def test_studies_export_and_plots(searched: dict) -> None:
    work, env = searched["work"], searched["env"]
    listing = run_tune(["studies"], work, env)
    assert listing.returncode == 0 and "mlp" in listing.stdout
    exported = run_tune(["export", "mlp"], work, env)
    assert exported.returncode == 0, exported.stderr
    data = json.loads((work / "exports" / "mlp.json").read_text())
    assert data["arch"] == "mlp" and data["study"] == "mlp"
    assert 0.1 < data["best_val_accuracy"] <= 1 and data["best_epoch"] in (1, 2)
    assert data["model_params"]["n_layers"] == data["params"]["n_layers"]
    assert data["data"]["fingerprint"] and data["space_hash"] and data["versions"]["tensorflow"]
    plotted = run_tune(["plots", "mlp", "--no-png", "--output-dir", "report"], work, env)
    assert plotted.returncode == 0, plotted.stderr
    for name in ("index", "history", "intermediate_values", "parallel_coordinate", "importance_ped_anova"):
        assert (work / "report" / f"{name}.html").stat().st_size > 1000


def test_cnn_search_runs(tmp_path: Path, tune_env: dict) -> None:
    result = run_tune(
        ["run", "cnn", "--trials", "2", "--epochs", "1", "--max-train-samples", "300"], tmp_path, tune_env
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.count("complete  val_acc") + result.stdout.count("pruned") == 2


def _truncated_data(tmp_path: Path, fashion_dir: Path) -> Path:
    folder = tmp_path / "truncated"
    folder.mkdir()
    for source in fashion_dir.glob("*.gz"):
        shutil.copy(source, folder / source.name)
    images = folder / "train-images-idx3-ubyte.gz"
    images.write_bytes(images.read_bytes()[:5000])
    return folder


def _csv_data(tmp_path: Path, line: str) -> Path:
    folder = tmp_path / "csv"
    folder.mkdir()
    header = "label," + ",".join(f"pixel{i}" for i in range(1, 785))
    good = "3," + ",".join(["0"] * 784)
    (folder / "fashion-mnist_train.csv").write_text(f"{header}\n{good}\n{line}\n")
    (folder / "fashion-mnist_test.csv").write_text(f"{header}\n{good}\n")
    return folder


def _space(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "space.toml"
    path.write_text(text)
    return path


BAD_RUNS = {
    "unknown arch": (lambda t, d: ["run", "rnn"], ["'rnn' is not one of 'mlp', 'cnn'"]),
    "zero trials": (lambda t, d: ["run", "mlp", "--trials", "0"], ["trials=0"]),
    "negative trials": (lambda t, d: ["run", "mlp", "--trials", "-4"], ["trials=-4"]),
    "missing data dir": (lambda t, d: ["run", "mlp", "--data-dir", str(t / "nowhere")], ["nowhere"]),
    "truncated data": (
        lambda t, d: ["run", "mlp", "--data-dir", str(_truncated_data(t, d))],
        ["train-images-idx3-ubyte.gz"],
    ),
    "csv column count": (
        lambda t, d: ["run", "mlp", "--data-dir", str(_csv_data(t, "3,0,0"))],
        ["fashion-mnist_train.csv"],
    ),
    "csv label 10": (
        lambda t, d: ["run", "mlp", "--data-dir", str(_csv_data(t, "10," + ",".join(["0"] * 784)))],
        ["fashion-mnist_train.csv", "10"],
    ),
    "csv pixel 300": (
        lambda t, d: ["run", "mlp", "--data-dir", str(_csv_data(t, "1,300," + ",".join(["0"] * 783)))],
        ["300"],
    ),
    "csv text pixel": (
        lambda t, d: ["run", "mlp", "--data-dir", str(_csv_data(t, "1,dark," + ",".join(["0"] * 783)))],
        ["dark"],
    ),
    "space unknown type": (
        lambda t, d: ["run", "mlp", "--space", str(_space(t, 'arch = "mlp"\n[params.l2]\ntype = "real"\n'))],
        ["unknown type 'real'"],
    ),
    "space low >= high": (
        lambda t, d: [
            "run",
            "mlp",
            "--space",
            str(_space(t, 'arch = "mlp"\n[params.l2]\ntype = "float"\nlow = 0.1\nhigh = 0.01\n')),
        ],
        ["low must be < high"],
    ),
    "space for other arch": (
        lambda t, d: [
            "run",
            "cnn",
            "--space",
            str(_space(t, 'arch = "mlp"\n[params.l2]\ntype = "float"\nlow = 0.01\nhigh = 0.1\n')),
        ],
        ["is for arch 'mlp', not 'cnn'"],
    ),
    "malformed storage": (lambda t, d: ["run", "mlp", "--storage", "not-a-url"], ["malformed storage URL"]),
    "unreachable storage": (
        lambda t, d: ["studies", "--storage", "postgresql://u:pw1234@127.0.0.1:9/x"],
        ["cannot open storage postgresql://u:***@127.0.0.1:9/x"],
    ),
    "unknown study export": (lambda t, d: ["export", "nope"], ["no study named 'nope'", "studies: mlp"]),
    "unknown study plots": (lambda t, d: ["plots", "nope"], ["no study named 'nope'"]),
    "export to a file path": (lambda t, d: ["export", "mlp", "-o", str(t / "file.txt" / "x.json")], ["cannot write"]),
}


@pytest.mark.parametrize("case", list(BAD_RUNS))
def test_bad_input_is_one_clean_line_and_loses_nothing(
    case: str, searched: dict, tmp_path: Path, fashion_dir: Path
) -> None:
    work, env = searched["work"], searched["env"]
    (tmp_path / "file.txt").write_text("a file, not a folder")
    make_args, fragments = BAD_RUNS[case]
    before = hashlib.sha256((work / "studies.db").read_bytes()).hexdigest()
    result = run_tune(make_args(tmp_path, fashion_dir), work, {k: v for k, v in env.items() if k != "TUNE_DATA_DIR"})
    assert_clean_error(result, *fragments)
    assert "pw1234" not in result.stderr + result.stdout
    assert hashlib.sha256((work / "studies.db").read_bytes()).hexdigest() == before


def test_plots_refuse_a_study_with_too_few_complete_trials(tmp_path: Path, tune_env: dict) -> None:
    space = _space(tmp_path, 'arch = "mlp"\n[params.learning_rate]\ntype = "categorical"\nchoices = [1e8]\n')
    failed = run_tune(["run", "mlp", "--trials", "1", "--space", str(space), *SMALL], tmp_path, tune_env)
    assert failed.returncode == 0 and "failed    loss became NaN" in failed.stdout
    assert_clean_error(run_tune(["plots", "mlp"], tmp_path, tune_env), "0 complete trials")
    assert_clean_error(run_tune(["export", "mlp"], tmp_path, tune_env), "no complete trial")
    assert not (tmp_path / "dashboards").exists()


def test_not_gzip_is_reported(tmp_path: Path, tune_env: dict, fashion_dir: Path) -> None:
    folder = _truncated_data(tmp_path, fashion_dir)
    (folder / "t10k-labels-idx1-ubyte.gz").write_bytes(gzip.compress(b"\x00\x00\x08\x01" + b"\x00" * 8)[:-3])
    result = run_tune(["run", "mlp", "--data-dir", str(folder)], tmp_path, tune_env)
    assert_clean_error(result, "corrupt data file")


def test_ctrl_c_mid_trial_keeps_the_study_usable(tmp_path: Path, tune_env: dict) -> None:
    import signal

    import optuna

    args = ["run", "mlp", "--trials", "2", "--epochs", "6", "--max-train-samples", "3000", "--pruner", "none"]
    proc = tune_process(args, tmp_path, tune_env)
    storage = f"sqlite:///{tmp_path / 'studies.db'}"
    wait_for_running_trial(storage, proc)
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, (out, err)
    assert "Traceback" not in out + err
    assert "Run the same command to resume" in out
    trials = optuna.load_study(study_name="mlp", storage=storage).get_trials()
    assert [t.state.name for t in trials] == ["FAIL"]
    assert trials[0].user_attrs["fail_reason"] == "interrupted"
    resumed = run_tune(args, tmp_path, tune_env)
    assert resumed.returncode == 0, resumed.stderr
    assert "1 of 2 trials already there; running 1 trial(s)" in resumed.stdout
    states = [t.state.name for t in optuna.load_study(study_name="mlp", storage=storage).get_trials()]
    assert states == ["FAIL", "COMPLETE"]


def test_optuna_dashboard_serves_learning_curves(searched: dict) -> None:
    """`optuna-dashboard sqlite:///studies.db` (installed with tune) shows per-epoch values and attributes."""
    import socket
    import time
    import urllib.request

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    dashboard = shutil.which("optuna-dashboard", path=str(Path(sys.executable).parent)) or "optuna-dashboard"
    server = subprocess.Popen(
        [dashboard, "sqlite:///studies.db", "--host", "127.0.0.1", "--port", str(port)],
        cwd=searched["work"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        body = None
        for _ in range(100):
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/studies", timeout=2) as response:
                    body = json.load(response)
                break
            except OSError:
                time.sleep(0.2)
        assert body is not None, "optuna-dashboard did not answer"
        (summary,) = [s for s in body["study_summaries"] if s["study_name"] == "mlp"]
        url = f"http://127.0.0.1:{port}/api/studies/{summary['study_id']}?after=0"
        with urllib.request.urlopen(url, timeout=10) as response:
            detail = json.load(response)
    finally:
        server.terminate()
        server.wait(timeout=10)
    trial = detail["trials"][0]
    assert [v["step"] for v in trial["intermediate_values"]] == [1, 2]
    assert {a["key"] for a in trial["user_attrs"]} >= {"arch", "n_params", "epoch_seconds", "data_fingerprint"}
    assert "n_layers" in {p["name"] for p in trial["params"]}
