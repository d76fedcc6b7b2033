"""Stages import only downward, and no modules import each other in a circle.

Read from the source (tests/imports_graph.py: every import, function-level ones included),
and checked again at run time: a fresh interpreter importing every module of a stage.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from imports_graph import STAGES, circles, graph, modules, stage, upward


def test_no_two_modules_import_each_other_even_through_others() -> None:
    assert circles(graph()) == []


def test_no_module_imports_a_stage_above_its_own() -> None:
    assert upward(graph()) == []


def test_the_graph_sees_imports_inside_functions() -> None:
    # cli/run.py imports search/runner.py only inside its functions (tune --help stays light)
    assert "tuning.search.runner" in graph()["tuning.cli.run"]


@pytest.mark.slow  # an interpreter each, importing Keras and KerasTuner
@pytest.mark.parametrize(
    ("imported", "allowed"),
    [
        ("search", {"ground", "data", "model", "search"}),
        ("model", {"ground", "data", "model"}),
        ("data", {"ground", "data"}),
    ],
)
def test_a_fresh_interpreter_importing_a_stage_loads_no_stage_above_it(imported: str, allowed: set[str]) -> None:
    assert set(STAGES) >= allowed
    names = [name for name in modules() if stage(name) == imported]
    code = (
        "import importlib, json, sys\n"
        f"for name in {names!r}: importlib.import_module(name)\n"
        "print(json.dumps(sorted({m for m in sys.modules if m.startswith('tuning.')})))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=300)
    loaded = json.loads(done.stdout.strip().splitlines()[-1])
    assert set(names) <= set(loaded)
    assert {stage(name) for name in loaded} <= allowed, sorted(n for n in loaded if stage(n) not in allowed)
