"""`--precision auto`: float32 without bfloat16 instructions, else what the cached or fresh probe finds faster."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tuning.model import precision
from tuning.model.precision import AUTO, resolve_precision

BF16 = frozenset({"avx512f", "avx512_bf16"})


def _cache(tmp_path: Path, speedup: float) -> Path:
    path = tmp_path / "precision-probe.json"
    path.write_text(json.dumps({precision._machine_key(): speedup}))
    return path


def test_an_explicit_precision_is_kept() -> None:
    assert resolve_precision("bfloat16", flags=frozenset()).precision == "bfloat16"
    assert resolve_precision("float32", flags=BF16).reason == "as asked"


def test_without_bfloat16_instructions_auto_is_float32_and_probes_nothing(tmp_path: Path) -> None:
    choice = resolve_precision(AUTO, flags=frozenset({"avx2", "avx512f"}), cache_dir=tmp_path)
    assert (choice.precision, choice.reason) == ("float32", "auto: this CPU has no bfloat16 instructions")
    assert not any(tmp_path.iterdir())


@pytest.mark.parametrize(("speedup", "expected"), [(1.31, "bfloat16"), (1.01, "float32"), (0.4, "float32")])
def test_auto_follows_the_cached_probe(tmp_path: Path, speedup: float, expected: str) -> None:
    _cache(tmp_path, speedup)
    choice = resolve_precision(AUTO, flags=BF16, cache_dir=tmp_path)
    assert choice.precision == expected and f"x{speedup:.2f}" in choice.reason


def test_the_cpus_flags_are_read() -> None:
    assert "fpu" in precision.cpu_flags() or not Path("/proc/cpuinfo").is_file()


@pytest.mark.slow  # trains a small ConvNet for a few batches in each precision
def test_a_fresh_probe_times_both_precisions_and_is_cached(tmp_path: Path) -> None:
    choice = resolve_precision(AUTO, flags=BF16, cache_dir=tmp_path, batches=3)
    stored = json.loads((tmp_path / "precision-probe.json").read_text())
    (speedup,) = stored.values()
    assert speedup > 0 and choice.precision == ("bfloat16" if speedup >= precision.MIN_SPEEDUP else "float32")
    assert resolve_precision(AUTO, flags=BF16, cache_dir=tmp_path) == choice  # from the cache, no second probe
