"""The package layout as docs/development.md shows it: each module with the first line of its docstring.

`python tests/layout.py` prints it; tests/test_layout.py checks that docs/development.md holds it as printed.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
_ORDER = ("cli", "api.py", "report", "results", "search", "model", "data")  # top of the data flow first


def layout() -> str:
    """tuning/ and its subpackages, one line per module, its docstring's first line beside it."""
    lines = ["tuning/"]
    lines += _folder(ROOT / "tuning", "  ")
    return "\n".join(lines) + "\n"


def _folder(folder: Path, indent: str) -> list[str]:
    entries = sorted(
        (p for p in folder.iterdir() if p.name != "__pycache__" and (p.is_dir() or p.suffix == ".py")),
        key=lambda p: (_ORDER.index(p.name) if p.name in _ORDER else len(_ORDER), p.is_dir(), p.name),
    )
    lines = []
    for path in entries:
        if path.is_dir():
            lines.append(f"{indent}{path.name}/{'':{max(1, 22 - len(indent) - len(path.name))}}{_summary(path)}")
            lines += _folder(path, indent + "  ")
        elif path.name != "__init__.py":
            lines.append(f"{indent}{path.name:{max(1, 23 - len(indent))}}{_summary(path)}")
    return lines


def _summary(path: Path) -> str:
    source = path / "__init__.py" if path.is_dir() else path
    docstring = ast.get_docstring(ast.parse(source.read_text(encoding="utf-8"))) or ""
    return docstring.splitlines()[0] if docstring else ""


if __name__ == "__main__":
    print(layout(), end="")
