"""What one epoch costs across a search space: sample configurations, time an epoch of each.

Configurations are drawn with Optuna's RandomSampler from the space file (as the first
trials of a study are), each trained for one epoch on N images after a warm-up, and the
time is scaled to 50,000 images. The seed-sized ConvNet (Conv32-Conv64-Dense128) runs
first as the baseline, so each figure is also given as a ratio to it.

    python bench/space_cost.py --arch cnn --configs 12 --samples 5000
"""

from __future__ import annotations

import argparse
import statistics
import time
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from tuning.search.space import SearchSpace


def epoch_seconds(arch: str, params: dict[str, Any], x: Any, y: Any) -> float:
    import keras

    from tuning.data.images import SHAPE as FASHION
    from tuning.model.builders import build_model
    from tuning.model.params import resolve_params
    from tuning.model.train import DEFAULT_STEPS_PER_EXECUTION, compile_model

    keras.backend.clear_session()
    keras.utils.set_random_seed(0)
    resolved = resolve_params(arch, params)
    model = build_model(arch, resolved, FASHION)
    compile_model(model, resolved, steps_per_execution=DEFAULT_STEPS_PER_EXECUTION)
    model.fit(x[:512], y[:512], batch_size=resolved["batch_size"], epochs=1, verbose=0)  # trace and allocate
    start = time.perf_counter()
    model.fit(x, y, batch_size=resolved["batch_size"], epochs=1, verbose=0)
    return (time.perf_counter() - start) * 50_000 / len(y)


def sample_params(space: SearchSpace, count: int, seed: int) -> list[dict[str, Any]]:
    """`count` configurations of `space` drawn by Optuna's RandomSampler, as a study's first trials are."""
    import optuna

    from tuning.search.space import suggest

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=seed))
    drawn = []
    for _ in range(count):
        trial = study.ask()
        drawn.append(suggest(trial, space))
        study.tell(trial, 0.0)
    return drawn


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--arch", choices=["mlp", "cnn"], default="cnn")
    parser.add_argument("--space", default=None, help="space file [default: the shipped one]")
    parser.add_argument("--configs", type=int, default=12, help="random configurations to time")
    parser.add_argument("--samples", type=int, default=5000, help="images per timed epoch")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    from tuning.data.load import load_fashion_mnist
    from tuning.model.tfenv import quiet_tensorflow
    from tuning.search.space import default_space_path, load_space

    quiet_tensorflow()
    data = load_fashion_mnist()
    x, y = data.x_train[: args.samples], data.y_train[: args.samples]
    space = load_space(args.space or default_space_path(args.arch), args.arch)
    baseline_params = {
        "n_blocks": 2,
        "filters_1": 32,
        "filters_2": 64,
        "convs_per_block": 1,
        "batch_norm": False,
        "kernel_size": 3,
        "dense_units": 128,
        "batch_size": 128,
    }
    baseline = epoch_seconds("cnn", baseline_params, x, y)
    print(
        f"seconds per epoch of 50k images (timed on {args.samples}); baseline Conv32-Conv64-Dense128: {baseline:.1f} s"
    )
    times = []
    for params in sample_params(space, args.configs, args.seed):
        seconds = epoch_seconds(args.arch, params, x, y)
        times.append(seconds)
        shown = " ".join(f"{k}={v:.3g}" if isinstance(v, float) else f"{k}={v}" for k, v in params.items())
        print(f"{seconds:7.1f} s  x{seconds / baseline:5.1f}  {shown}", flush=True)
    quantiles = statistics.quantiles(times, n=10)
    print(
        f"median {statistics.median(times):.1f} s, p90 {quantiles[-1]:.1f} s, max {max(times):.1f} s, "
        f"mean {statistics.mean(times):.1f} s per 50k-image epoch"
    )


if __name__ == "__main__":
    main()
