"""Shared fixtures: the real Fashion-MNIST (Debian's package), a shared parse cache, `tune` as a subprocess."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tuning.data.locate import DEBIAN_DIR

REPO = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="session")
def cache_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One parse cache for the whole session, so the real data is parsed once."""
    return tmp_path_factory.mktemp("tune-cache")


@pytest.fixture(scope="session")
def fashion_dir() -> Path:
    """Folder holding the real Fashion-MNIST IDX files (apt-get install dataset-fashion-mnist)."""
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


@pytest.fixture()
def tune_env(cache_dir: Path, fashion_dir: Path) -> dict[str, str]:
    """Environment for running `tune` in a subprocess against the real data."""
    env = dict(os.environ)
    env.update({"TUNE_CACHE_DIR": str(cache_dir), "TUNE_DATA_DIR": str(fashion_dir), "PYTHONUNBUFFERED": "1"})
    return env


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
