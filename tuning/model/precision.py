"""`--precision auto`: bfloat16 where this CPU computes it natively and a short probe shows it faster, else float32.

Without bfloat16 instructions (AVX512_BF16 or AMX-BF16) TensorFlow emulates the
type and a bfloat16 ConvNet trained several times slower than float32 (README,
"Speed"), so such CPUs get float32 without a probe. With them, the probe times a
few training batches of a small batch-norm ConvNet in each precision; the result
is cached per CPU model and TensorFlow version under the tune cache folder, so
later runs decide instantly.
"""

from __future__ import annotations

import json
import logging
import os
import platform
import time
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

__all__ = ["AUTO", "PrecisionChoice", "cpu_flags", "remember_speedup", "resolve_precision"]

logger = logging.getLogger(__name__)

AUTO = "auto"
BF16_FLAGS = frozenset({"avx512_bf16", "amx_bf16"})
MIN_SPEEDUP = 1.05  # below this the probe's noise could hide a loss; float32 keeps full precision
# The probe network: two blocks of two 3x3 convolutions with batch norm, the shape searches favour.
_PROBE_PARAMS = {"n_blocks": 2, "filters_1": 32, "filters_2": 64, "convs_per_block": 2, "batch_norm": True}
_PROBE_BATCH = 128


@dataclass(frozen=True)
class PrecisionChoice:
    """The precision a run trains in, and why (printed and stored on the study)."""

    precision: str
    reason: str


def cpu_flags() -> frozenset[str]:
    """The CPU's feature flags from /proc/cpuinfo (empty where there is none)."""
    line = next((line for line in _cpuinfo_lines() if line.startswith("flags")), "flags:")
    return frozenset(line.split(":", 1)[1].split())


def resolve_precision(
    requested: str, *, flags: frozenset[str] | None = None, cache_dir: Path | None = None, batches: int = 24
) -> PrecisionChoice:
    """`requested` itself, or for "auto" what this machine trains fastest in (see the module docstring)."""
    if requested != AUTO:
        return PrecisionChoice(requested, "as asked")
    native = BF16_FLAGS & (cpu_flags() if flags is None else flags)
    if not native:
        return PrecisionChoice("float32", "auto: this CPU has no bfloat16 instructions")
    speedup = _cached_speedup(cache_dir, batches)
    if speedup >= MIN_SPEEDUP:
        return PrecisionChoice("bfloat16", f"auto: {'/'.join(sorted(native))}, probe bfloat16 x{speedup:.2f}")
    return PrecisionChoice("float32", f"auto: probe bfloat16 x{speedup:.2f}, not faster")


def _cached_speedup(cache_dir: Path | None, batches: int) -> float:
    try:
        cached = json.loads(_cache_file(cache_dir).read_text(encoding="utf-8"))
        return float(cached[_machine_key()])
    except (OSError, ValueError, KeyError, TypeError):
        pass
    speedup = round(probe_speedup(batches), 3)  # as cached, so a fresh and a cached decision read the same
    remember_speedup(speedup, cache_dir)
    return speedup


def remember_speedup(speedup: float, cache_dir: Path | None = None) -> None:
    """Cache a probe's bfloat16 speed-up for this CPU model and TensorFlow version, as a probe run leaves it."""
    _store(_cache_file(cache_dir), _machine_key(), speedup)


def _cache_file(cache_dir: Path | None) -> Path:
    from tuning.data.cache import cache_root

    return cache_root(cache_dir) / "precision-probe.json"


def _machine_key() -> str:
    model = next(
        (line.split(":", 1)[1].strip() for line in _cpuinfo_lines() if line.startswith("model name")),
        platform.processor() or "unknown CPU",
    )
    versions = "/".join(_version(name) for name in ("tensorflow", "keras"))
    return f"{model} | {os.cpu_count()} cores | {versions}"


def _cpuinfo_lines() -> list[str]:
    try:
        return Path("/proc/cpuinfo").read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        return []


def _version(name: str) -> str:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return "none"


def _store(path: Path, key: str, speedup: float) -> None:
    from tuning.atomic import write_text_atomically
    from tuning.errors import TuneError

    try:
        known = json.loads(path.read_text(encoding="utf-8")) if path.is_file() else {}
    except (OSError, ValueError):
        known = {}
    try:
        write_text_atomically(path, json.dumps({**known, key: speedup}, indent=1) + "\n")
    except TuneError as exc:  # an unwritable cache only costs a probe next time
        logger.warning("precision probe not cached: %s", exc)


def probe_speedup(batches: int = 24) -> float:
    """float32 seconds / bfloat16 seconds for `batches` training batches of the probe network (after a warm-up)."""
    return _seconds_per_batch("float32", batches) / _seconds_per_batch("bfloat16", batches)


def _seconds_per_batch(precision: str, batches: int) -> float:
    from tuning.model.tfenv import quiet_tensorflow

    quiet_tensorflow()  # before Keras loads TensorFlow, or TF's start-up lines reach stderr
    import keras
    import numpy as np

    from tuning.data.dataset import DataShape
    from tuning.model.builders import build_model
    from tuning.model.cnn import SPEC as PROBE_MODEL
    from tuning.model.train import compile_model

    keras.backend.clear_session()
    keras.utils.set_random_seed(0)
    model = build_model(PROBE_MODEL.name, _PROBE_PARAMS, DataShape((28, 28), 10), precision=precision)
    compile_model(model, {"learning_rate": 1e-3}, steps_per_execution=1)
    rng = np.random.default_rng(0)
    x = rng.integers(0, 256, size=(_PROBE_BATCH, 28, 28)).astype("float32")
    y = rng.integers(0, 10, size=_PROBE_BATCH)
    for _ in range(3):  # warm-up: graph tracing and oneDNN kernel choice
        model.train_on_batch(x, y)
    started = time.perf_counter()
    for _ in range(batches):
        model.train_on_batch(x, y)
    return (time.perf_counter() - started) / batches
