"""The import graph of `tuning`, read from the source with `ast`: every import, at module level or
inside a function (only `if TYPE_CHECKING:` blocks are left out, as they never run).

Run it to see the stages and any circle or upward import: `python tests/imports_graph.py`.
tests/test_imports.py asserts there are none.
"""

from __future__ import annotations

import ast
import sys
from collections.abc import Iterator
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "tuning"

# Lowest first: a module may import its own stage and those below it, never one above.
# Ground is every module directly in tuning/ (attrs, errors, render, ...) but the Python API,
# which the CLI calls; the package itself (it re-exports the API) and `python -m tuning` are on top.
STAGES = ("ground", "data", "model", "search", "results", "report", "api", "cli")
_TOP = {"tuning", "tuning.__main__"}


def modules() -> dict[str, Path]:
    """Every module of the package by dotted name (a package by its own name)."""
    found = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        found[name] = path
    return found


def stage(module: str) -> str:
    """The stage of a module: its subpackage of `tuning`, or "ground"; "top" for the entry points."""
    if module in _TOP:
        return "top"
    if module == "tuning.api":
        return "api"
    parts = module.split(".")
    return parts[1] if len(parts) > 2 or (len(parts) == 2 and parts[1] in STAGES) else "ground"


def graph() -> dict[str, set[str]]:
    """Module -> the `tuning` modules it imports."""
    known = modules()
    return {name: {t for t in _imported(name, path, known) if t != name} for name, path in known.items()}


def circles(edges: dict[str, set[str]]) -> list[list[str]]:
    """The groups of two or more modules that import each other, directly or through others (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for target in sorted(edges[node]):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            group = []
            while True:
                member = stack.pop()
                group.append(member)
                if member == node:
                    break
            if len(group) > 1:
                found.append(sorted(group))

    sys.setrecursionlimit(max(sys.getrecursionlimit(), 10 * len(edges)))
    for node in sorted(edges):
        if node not in index:
            visit(node)
    return found


def upward(edges: dict[str, set[str]]) -> list[tuple[str, str]]:
    """(importer, imported) pairs where the imported module's stage is above the importer's."""
    rank = {name: position for position, name in enumerate(STAGES)} | {"top": len(STAGES)}
    return sorted(
        (source, target)
        for source, targets in edges.items()
        for target in targets
        if rank[stage(target)] > rank[stage(source)]
    )


def _imported(name: str, path: Path, known: dict[str, Path]) -> Iterator[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    skipped = {id(node) for block in _type_checking_blocks(tree) for node in ast.walk(block)}
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    for node in ast.walk(tree):
        if id(node) in skipped:
            continue
        if isinstance(node, ast.Import):
            yield from (_owner(alias.name, known) for alias in node.names if alias.name.startswith("tuning"))
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                base = ".".join([*anchor, *([base] if base else [])])
            if base.split(".")[0] == "tuning":
                for alias in node.names:
                    full = f"{base}.{alias.name}"
                    yield full if full in known else _owner(base, known)


def _owner(dotted: str, known: dict[str, Path]) -> str:
    """The longest known module that `dotted` names or lies in."""
    while dotted not in known:
        dotted = dotted.rpartition(".")[0]
    return dotted


def _type_checking_blocks(tree: ast.AST) -> Iterator[ast.If]:
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            yield node


if __name__ == "__main__":
    edges = graph()
    for group in circles(edges):
        print("circle:", " <-> ".join(group))
    for source, target in upward(edges):
        print(f"upward: {source} ({stage(source)}) imports {target} ({stage(target)})")
    print(f"{len(edges)} modules, {sum(map(len, edges.values()))} imports; stages low to high: {', '.join(STAGES)}")
