"""The documentation site builds with warnings as errors, its links lead somewhere, its command reference
holds every command and option, and its pages open in a real browser."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlparse

import click
import pytest

from tuning.cli.main import cli

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """`mkdocs build --strict`: broken links, missing pages or a reference that fails to render stop it."""
    folder = tmp_path_factory.mktemp("docs") / "site"
    built = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(folder)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env={"PATH": "/usr/bin:/bin", "NO_MKDOCS_2_WARNING": "1", "HOME": str(folder.parent)},
        timeout=300,
    )
    assert built.returncode == 0, built.stderr
    return folder


def test_the_reference_holds_every_command_and_option(site: Path) -> None:
    reference = (site / "reference" / "index.html").read_text(encoding="utf-8")
    for name, command in cli.commands.items():
        assert f"tune {name}" in reference, name
        for option in (p for p in command.params if isinstance(p, click.Option)):
            assert any(flag in reference for flag in [*option.opts, *option.secondary_opts]), (name, option.opts)


def test_every_link_between_pages_leads_to_a_page(site: Path) -> None:
    pages = sorted(p for p in site.rglob("*.html") if p.name != "404.html")  # 404's links are the server's
    assert len(pages) >= 15
    for page in pages:
        for href in re.findall(r'href="([^"#]*)', page.read_text(encoding="utf-8")):
            parsed = urlparse(href)
            if not href or parsed.scheme or href.startswith("mailto:"):
                continue
            target = (page.parent / parsed.path).resolve()
            assert target.exists() or (target / "index.html").exists(), (page.relative_to(site), href)


@pytest.mark.chromium
def test_the_pages_open_in_chromium_without_errors(site: Path) -> None:
    from tuning.render import find_chromium
    from tuning.report.browser import open_page

    if find_chromium() is None:
        pytest.skip("no Chromium installed")
    for page in ("index.html", "reference/index.html", "own-model-data/index.html"):
        loaded = open_page((site / page).as_uri())
        assert loaded.ready and loaded.errors == (), (page, loaded.errors)
        assert "tune" in loaded.text
