"""Epoch time of the seed-sized models under different TensorFlow settings.

Each setting runs in its own process (TF_ENABLE_ONEDNN_OPTS is read at import),
one warm-up epoch then timed epochs, and is printed as a ratio against the
baseline (steps_per_execution=1, TensorFlow's default oneDNN setting) of the
same session.

    python bench/epoch_speed.py --samples 20000 --epochs 2
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from typing import Any

SEED_PARAMS: dict[str, dict[str, Any]] = {
    "mlp": {"n_layers": 2, "units_1": 256, "units_2": 128, "dropout_1": 0.2, "dropout_2": 0.2, "batch_size": 128},
    # Conv32-Conv64-Dense128, the shape the timings were taken on.
    "cnn": {
        "n_blocks": 2,
        "filters_1": 32,
        "filters_2": 64,
        "convs_per_block": 1,
        "batch_norm": False,
        "dense_units": 128,
        "batch_size": 128,
    },
}
# The ConvNet shape the accuracy benchmark's searches favour: two conv blocks of two convs with batch norm.
SEED_PARAMS["cnn-bn"] = {**SEED_PARAMS["cnn"], "convs_per_block": 2, "batch_norm": True, "dense_units": 256}
SETTINGS = [  # (label, steps_per_execution, TF_ENABLE_ONEDNN_OPTS or None for TF's default, precision)
    ("spe=1 default", 1, None, "float32"),
    ("spe=8 default", 8, None, "float32"),
    ("spe=32 default", 32, None, "float32"),
    ("spe=64 default", 64, None, "float32"),
    ("spe=32 onednn=0", 32, "0", "float32"),
    ("spe=32 onednn=1", 32, "1", "float32"),
    ("spe=32 bfloat16", 32, None, "bfloat16"),
]


def _child(name: str, samples: int, epochs: int, spe: int, precision: str) -> None:
    from tuning.data.load import load_fashion_mnist
    from tuning.model.builders import build_model
    from tuning.model.params import resolve_params
    from tuning.model.tfenv import quiet_tensorflow
    from tuning.model.train import compile_model

    quiet_tensorflow()
    import keras

    data = load_fashion_mnist()
    x, y = data.x_train[:samples], data.y_train[:samples]
    keras.utils.set_random_seed(0)
    arch = name.split("-")[0]
    params = resolve_params(arch, SEED_PARAMS[name])
    model = build_model(arch, params, precision=precision)
    compile_model(model, params, steps_per_execution=spe)
    model.fit(x, y, batch_size=params["batch_size"], epochs=1, verbose=0)  # warm-up: tracing, allocation
    times = []
    for _ in range(epochs):
        start = time.perf_counter()
        model.fit(x, y, batch_size=params["batch_size"], epochs=1, verbose=0)
        times.append(time.perf_counter() - start)
    print(json.dumps({"seconds": min(times)}))


def _measure(arch: str, samples: int, epochs: int, spe: int, onednn: str | None, precision: str) -> float:
    env = dict(os.environ)
    env.pop("TF_ENABLE_ONEDNN_OPTS", None)
    if onednn is not None:
        env["TF_ENABLE_ONEDNN_OPTS"] = onednn
    out = subprocess.run(
        [
            sys.executable,
            __file__,
            "--child",
            arch,
            "--samples",
            str(samples),
            "--epochs",
            str(epochs),
            "--spe",
            str(spe),
            "--precision",
            precision,
        ],
        env=env,
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    return float(json.loads(out.strip().splitlines()[-1])["seconds"])


def seconds_per_50k(name: str, samples: int, *, spe: int = 32, precision: str = "float32") -> float:
    """One epoch of SEED_PARAMS[name] scaled to 50,000 images: a fresh process, one warm-up then one timed epoch."""
    return _measure(name, samples, 1, spe, None, precision) * 50_000 / samples


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--arch", choices=[*SEED_PARAMS, "all"], default="all")
    parser.add_argument("--samples", type=int, default=20_000, help="training images per epoch")
    parser.add_argument("--epochs", type=int, default=2, help="timed epochs per setting (the fastest counts)")
    parser.add_argument("--child", default=None, help=argparse.SUPPRESS)
    parser.add_argument("--spe", type=int, default=1, help=argparse.SUPPRESS)
    parser.add_argument("--precision", default="float32", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        _child(args.child, args.samples, args.epochs, args.spe, args.precision)
        return
    print(f"epoch seconds on {args.samples} images, best of {args.epochs}, cores={os.cpu_count()}")
    for arch in list(SEED_PARAMS) if args.arch == "all" else [args.arch]:
        baseline = None
        for label, spe, onednn, precision in SETTINGS:
            seconds = _measure(arch, args.samples, args.epochs, spe, onednn, precision)
            baseline = baseline or seconds
            per_50k = seconds * 50_000 / args.samples
            print(
                f"{arch:6} {label:18} {seconds:7.2f} s  ({per_50k:6.1f} s per 50k)  x{baseline / seconds:.2f} vs spe=1"
            )


if __name__ == "__main__":
    main()
