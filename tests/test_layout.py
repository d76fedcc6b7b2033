"""The development page's layout is the tree as it is (tests/layout.py makes it from the modules' docstrings)."""

from __future__ import annotations

from layout import ROOT, layout


def test_the_development_page_shows_the_layout_of_the_tree_as_it_is() -> None:
    page = (ROOT / "docs" / "development.md").read_text(encoding="utf-8")
    assert layout() in page, "run: python tests/layout.py, and put its output in docs/development.md"
