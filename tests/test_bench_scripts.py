"""Every bench/ module imports: a name moved or renamed in the package breaks it here, not in a long run.

A script (it runs `main()` under `if __name__ == "__main__"`) must have one; a module the scripts share
(bench/hpo_aggregate.py) need not.
"""

from __future__ import annotations

import importlib
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[1] / "bench"


@pytest.mark.parametrize("script", sorted(p.stem for p in BENCH.glob("*.py")))
def test_bench_script_imports(script: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.syspath_prepend(str(BENCH))
    module = importlib.import_module(script)
    if 'if __name__ == "__main__":' in (BENCH / f"{script}.py").read_text(encoding="utf-8"):
        assert callable(getattr(module, "main", None)), f"bench/{script}.py has no main()"
    sys.modules.pop(script, None)
