"""README's layout section is the tree as it is (tests/layout.py makes it from the modules' docstrings)."""

from __future__ import annotations

from layout import ROOT, layout


def test_readme_shows_the_layout_of_the_tree_as_it_is() -> None:
    assert layout() in (ROOT / "README.md").read_text(encoding="utf-8"), "run: python tests/layout.py"
