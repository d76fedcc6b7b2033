"""Shared fixtures: the real Fashion-MNIST (Debian's package), a shared parse cache, `tune` as a subprocess
or in this process (click's CliRunner)."""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator, Mapping
from pathlib import Path

import pytest

from tuning.data.locate import DEBIAN_DIR

REPO = Path(__file__).resolve().parent.parent


@pytest.fixture(autouse=True)
def _chromium_only_where_marked(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> None:
    """Hide the installed Chromium from tests not marked `chromium`.

    With a Chromium, every search starts one for its trials' learning-curve PNGs (about
    3.5 s, then 0.4 s a trial): minutes over the suite. The PNG paths are tested where
    marked; the rest run as on a machine without a browser (`BROWSER_PATH` names none).
    """
    if request.node.get_closest_marker("chromium") is None:
        monkeypatch.setenv("BROWSER_PATH", "/nonexistent/chromium")


@pytest.fixture(scope="session")
def cache_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One parse cache for the whole session, so the real data is parsed once.

    It holds a `--precision auto` probe result for this machine (bfloat16 x1.00, not
    faster), as a probe run earlier would have left it: the suite's auto runs train in
    float32 on every CPU and skip the 25-second probe, which tests/model/test_precision.py
    runs for real.
    """
    from tuning.model.precision import remember_speedup

    folder = tmp_path_factory.mktemp("tune-cache")
    remember_speedup(1.0, folder)
    return folder


_SHM = Path("/dev/shm")
_BASETEMP = pytest.StashKey[str]()


@pytest.hookimpl(tryfirst=True)
def pytest_configure(config: pytest.Config) -> None:
    """Temporary folders in memory where the machine has /dev/shm: the tests' SQLite studies commit
    hundreds of times, and each commit waits for the disk (test_pruners.py: 25 s on disk, 7 s here)."""
    if config.option.basetemp is None and _SHM.is_dir() and os.access(_SHM, os.W_OK):
        config.option.basetemp = config.stash[_BASETEMP] = tempfile.mkdtemp(prefix="tune-tests-", dir=_SHM)


def pytest_unconfigure(config: pytest.Config) -> None:
    made = config.stash.get(_BASETEMP, None)
    if made is not None:  # memory, not disk: give it back
        shutil.rmtree(made, ignore_errors=True)


# 1,200 training and 200 test images of the real dataset (its README says which): what a session without
# slow tests reads, so `pytest -m "not slow"` needs neither the Debian package nor a download.
SUBSET_DIR = Path(__file__).resolve().parent / "data" / "fashion-subset"


@pytest.hookimpl(trylast=True)  # after `-m` has deselected
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    config.stash[_SLOW_SELECTED] = any(item.get_closest_marker("slow") for item in items)


_SLOW_SELECTED = pytest.StashKey[bool]()


@pytest.fixture(scope="session")
def fashion_dir(request: pytest.FixtureRequest) -> Path:
    """Folder holding real Fashion-MNIST IDX files: the whole dataset (apt-get install dataset-fashion-mnist)
    where the session trains (slow tests), else the shipped subset."""
    if not request.config.stash.get(_SLOW_SELECTED, True):
        return SUBSET_DIR
    if (DEBIAN_DIR / "train-images-idx3-ubyte.gz").is_file():
        return DEBIAN_DIR
    reason = f"real Fashion-MNIST not found in {DEBIAN_DIR}: apt-get install dataset-fashion-mnist"
    if os.environ.get("CI"):
        pytest.fail(reason)
    pytest.skip(reason)


@pytest.fixture(scope="session")
def fashion(fashion_dir: Path, cache_dir: Path):  # type: ignore[no-untyped-def]
    """The real Fashion-MNIST arrays."""
    from tuning.data.load import load_fashion_mnist

    return load_fashion_mnist(fashion_dir, cache_dir=cache_dir)


@pytest.fixture(scope="session")
def data_env(cache_dir: Path, fashion_dir: Path) -> dict[str, str]:
    """The variables that point `tune` at the real data and the shared parse cache (for `invoke_tune`)."""
    return {"TUNE_CACHE_DIR": str(cache_dir), "TUNE_DATA_DIR": str(fashion_dir)}


@pytest.fixture()
def in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, data_env: dict[str, str]) -> Path:
    """A fresh current folder, with the variables that point `tune` at the real data (TUNE_DATA_DIR) and cache."""
    monkeypatch.chdir(tmp_path)
    for name, value in data_env.items():
        monkeypatch.setenv(name, value)
    return tmp_path


@pytest.fixture()
def tune_env(data_env: dict[str, str]) -> dict[str, str]:
    """Environment for running `tune` in a subprocess against the real data.

    TF_CPP_MIN_LOG_LEVEL=2, a common user setting, once let TensorFlow's `failed
    call to cuInit` ERROR line through on machines without a GPU: tune must print
    its own lines only, whatever the level.
    """
    return {**os.environ, **data_env, "PYTHONUNBUFFERED": "1", "TF_CPP_MIN_LOG_LEVEL": "2"}


def run_tune(
    args: list[str], cwd: Path, env: dict[str, str] | None = None, timeout: float = 300
) -> subprocess.CompletedProcess[str]:
    """Run the real `tune` command (as `python -m tuning`) and capture its output."""
    return subprocess.run(
        [sys.executable, "-m", "tuning", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def assert_clean_error(result: subprocess.CompletedProcess[str], *fragments: str) -> None:
    """Exit status 2, one `tune: error:` line naming the fragments, no traceback."""
    assert result.returncode == 2, (result.returncode, result.stdout, result.stderr)
    assert "Traceback" not in result.stderr + result.stdout
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("tune: error: "), result.stderr
    for fragment in fragments:
        assert fragment in lines[0], (fragment, lines[0])


def invoke_tune(args: list[str], env: Mapping[str, str | None] | None = None) -> subprocess.CompletedProcess[str]:
    """Run `tune ARGS` in this process with click's CliRunner: the exit status and output of the real command.

    `env` overrides variables for the call (None removes one). Warnings logged during the call land on
    its stderr, as the real command's `logging.basicConfig` puts them there; a bug's exception propagates.
    """
    import optuna  # noqa: F401  # Optuna's log handler keeps the sys.stderr of its import: make it pytest's
    from click.testing import CliRunner

    from tuning.cli.main import cli

    handler = _CurrentStderrHandler()
    logging.getLogger().addHandler(handler)
    try:
        result = CliRunner(env=env).invoke(cli, args, prog_name="tune", catch_exceptions=False)
    finally:
        logging.getLogger().removeHandler(handler)
    return subprocess.CompletedProcess(["tune", *args], result.exit_code, result.stdout, result.stderr)


class _CurrentStderrHandler(logging.StreamHandler):
    """Warnings and errors to whatever sys.stderr is when a record arrives (CliRunner swaps it in and out)."""

    def __init__(self) -> None:
        super().__init__()
        self.setLevel(logging.WARNING)

    def emit(self, record: logging.LogRecord) -> None:
        self.stream = sys.stderr
        super().emit(record)


@contextlib.contextmanager
def file_unchanged(path: Path) -> Iterator[None]:
    """Fail unless the file's bytes are the same after the block as before it."""
    before = hashlib.sha256(path.read_bytes()).hexdigest()
    yield
    assert hashlib.sha256(path.read_bytes()).hexdigest() == before, f"{path} changed"


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A real, throwaway PostgreSQL server (Debian's `postgresql`), for the whole session."""
    from pgserver import find_bindir, postgres_server

    if find_bindir() is None:
        reason = "PostgreSQL server binaries not found: apt-get install postgresql"
        if os.environ.get("CI"):
            pytest.fail(reason)
        pytest.skip(reason)
    with postgres_server() as url:
        yield url
