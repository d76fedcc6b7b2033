"""Epoch time of the seed-sized models under different TensorFlow settings, and the FLOP rate it makes.

Each setting runs in its own process (TF_ENABLE_ONEDNN_OPTS is read at import),
one warm-up epoch then timed epochs, and is printed as a ratio against the
baseline (steps_per_execution=1, TensorFlow's default oneDNN setting) of the
same session.

Each line then gives images per second, the training FLOPs per image
(tuning.model.flops: the multiply-adds of the Dense and convolution layers,
forward and backward; element-wise layers such as batch norm, activations,
pooling and dropout, and the optimizer's update, are not counted), the GFLOP/s
that makes, and its share of this machine's matrix-multiply peak: the best of a
few large square tf.matmul products in float32 and bfloat16, timed first in a
process of its own (bfloat16 settings are set against the bfloat16 peak).

--space-corners adds the cheapest and the dearest corner of a search space (by
training FLOPs, with batch size, batch norm, augmentation and dropout, which cost
time but no counted FLOPs, at their cheap or dear end), --space-samples N random
configurations drawn as bench/space_cost.py draws them. Those run the settings
`tune run` trains with (spe=32, float32 and bfloat16) unless --settings says which.
--output FILE writes what is printed to FILE as well.

    python bench/epoch_speed.py --samples 20000 --epochs 2
    python bench/epoch_speed.py --arch cnn-bn --space-corners --samples 10000 --output epoch_speed.txt
    python bench/epoch_speed.py --arch mlp --settings spe32,bf16 --samples 2000 --epochs 1 --peak-sizes 512  # smoke
"""

from __future__ import annotations

import argparse
import functools
import json
import os
import shlex
import subprocess
import sys
import time
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from space_cost import sample_params

if TYPE_CHECKING:
    from tuning.search.space import Param, SearchSpace

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


@dataclass(frozen=True)
class Setting:
    key: str  # its name for --settings
    label: str
    spe: int  # steps_per_execution
    onednn: str | None  # TF_ENABLE_ONEDNN_OPTS, or None for TensorFlow's default
    precision: str


SETTINGS = [
    Setting("spe1", "spe=1 default", 1, None, "float32"),
    Setting("spe8", "spe=8 default", 8, None, "float32"),
    Setting("spe32", "spe=32 default", 32, None, "float32"),
    Setting("spe64", "spe=64 default", 64, None, "float32"),
    Setting("onednn0", "spe=32 onednn=0", 32, "0", "float32"),
    Setting("onednn1", "spe=32 onednn=1", 32, "1", "float32"),
    Setting("bf16", "spe=32 bfloat16", 32, None, "bfloat16"),
]
ALL_SETTINGS = tuple(setting.key for setting in SETTINGS)
TUNE_SETTINGS = ("spe32", "bf16")  # what `tune run` trains with (train.DEFAULT_STEPS_PER_EXECUTION, --precision)
# Per architecture, the depth parameter (each of its values is tried for the corners) and the width
# parameters, whose FLOPs only grow with their value: all low for the cheapest corner, all high for the dearest.
_DEPTH = {"mlp": "n_layers", "cnn": "n_blocks"}
_WIDTHS = {
    "mlp": ("units_1", "units_2", "units_3"),
    "cnn": ("filters_1", "filters_2", "filters_3", "convs_per_block", "kernel_size", "dense_units"),
}
# Parameters that cost time but no counted FLOPs, and the end of their range that costs more.
_DEAR_END = {
    "batch_size": "low",  # more steps per epoch
    "batch_norm": "high",
    "augment": "high",
    "translate": "high",  # 0 leaves the translation layer out
    "flip": "high",
    "conv_dropout": "high",  # 0 skips the random mask
    "dense_dropout": "high",
    "dropout_1": "high",
    "dropout_2": "high",
    "dropout_3": "high",
}
FLOPS_NOTE = (
    "GFLOP/img: training FLOPs per image, Dense and conv multiply-adds only (forward, weight and input gradients; "
    "batch norm, activations, pooling, dropout and the optimizer not counted)"
)


@dataclass(frozen=True)
class Config:
    """A network to time: its name in the table, architecture, builder parameters and default settings."""

    name: str
    arch: str
    params: dict[str, Any]
    settings: tuple[str, ...] = ALL_SETTINGS
    note: str = ""  # printed above its lines: where it comes from


@dataclass(frozen=True)
class Timing:
    """One setting's result: its fastest timed epoch and the model's training FLOPs per image."""

    seconds: float
    images: int
    train_flops: int

    @property
    def images_per_second(self) -> float:
        return self.images / self.seconds

    @property
    def gflops_per_second(self) -> float:
        return self.train_flops * self.images_per_second / 1e9


class Report:
    """Lines printed as they come and, with a path, kept written to that file too (a partial run keeps its lines)."""

    def __init__(self, path: str | None) -> None:
        self.path = Path(path) if path else None
        self.lines: list[str] = []

    def __call__(self, line: str = "") -> None:
        print(line, flush=True)
        self.lines.append(line)
        if self.path:
            self.path.write_text("\n".join(self.lines) + "\n", encoding="utf-8")


def machine_lines() -> list[str]:
    """When, how and where a benchmark ran: date, command, CPU model and its AVX-512/AMX flags, load, versions."""
    from tuning.model.precision import cpu_flags
    from tuning.results.export import package_versions

    vector_flags = sorted(flag for flag in cpu_flags() if flag.startswith(("avx512", "amx")))
    versions = package_versions()
    load = " ".join(f"{value:.2f}" for value in os.getloadavg())
    return [
        f"date: {datetime.now().astimezone().isoformat(timespec='seconds')}",
        f"command: python {shlex.join(sys.argv)}",
        f"cpu: {cpu_model()}, {os.cpu_count()} cores ({len(os.sched_getaffinity(0))} usable by this process)",
        f"avx512/amx flags: {' '.join(vector_flags) or 'none'}",
        f"load average before: {load}",
        gpu_line(),
        f"python {versions['python']}, tensorflow {versions['tensorflow']}, keras {versions['keras']}",
    ]


def gpu_line() -> str:
    """The GPUs TensorFlow sees as installed (asked in a subprocess, so this process stays free of TensorFlow);
    without an NVIDIA driver there are none to ask about."""
    if not Path("/proc/driver/nvidia/gpus").is_dir():
        return "gpu: none (no NVIDIA driver on this machine); tune trained on the CPU"
    ask = "import tensorflow as tf; print(*[d.name for d in tf.config.list_physical_devices('GPU')])"
    done = subprocess.run([sys.executable, "-c", ask], capture_output=True, text=True, check=False)
    seen = done.stdout.split()
    if not seen:
        return "gpu: an NVIDIA driver, but TensorFlow as installed sees no GPU; tune trained on the CPU"
    return f"gpu: TensorFlow as installed sees {len(seen)} ({', '.join(seen)})"


def cpu_model() -> str:
    """The CPU's model name from /proc/cpuinfo."""
    try:
        lines = Path("/proc/cpuinfo").read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        return "unknown CPU"
    return next((line.split(":", 1)[1].strip() for line in lines if line.startswith("model name")), "unknown CPU")


# --- configurations ----------------------------------------------------------


def seed_config(name: str) -> Config:
    """SEED_PARAMS[name] as a configuration (its architecture is the name up to the first '-')."""
    return Config(name, name.split("-")[0], SEED_PARAMS[name])


def load_space_arg(value: str) -> SearchSpace:
    """A space file, or "mlp"/"cnn" for the shipped one."""
    from tuning.model.registry import BUILT_IN
    from tuning.search.space import default_space_path, load_space

    return load_space(default_space_path(value) if value in BUILT_IN else value)


def space_corners(space: SearchSpace) -> list[Config]:
    """The cheapest and the dearest corner of `space` by training FLOPs per image.

    At each depth the widths go to the low (high) end of their ranges and the
    model is built and counted; the cheapest (dearest) depth wins. The time-only
    parameters (_DEAR_END) go to the cheap (dear) end as well.
    """
    corners = []
    for end, pick, word in (("low", min, "cheapest"), ("high", max, "dearest")):
        candidates = [_widths_at(space, depth, end) for depth in _depths(space)]
        widths = pick(candidates, key=functools.partial(_training_flops, space.arch))
        params = {**widths, **_time_only(space, end)}
        name = f"{space.arch}-{'min' if end == 'low' else 'max'}"
        note = f"the {word} corner of {_relative(space.source)} by training FLOPs"
        corners.append(Config(name, space.arch, _active(space, params), TUNE_SETTINGS, note))
    return corners


def _depths(space: SearchSpace) -> list[Any]:
    from tuning.model.registry import get_model

    depth = next((param for param in space.params if param.name == _DEPTH[space.arch]), None)
    if depth is None:
        return [get_model(space.arch).defaults[_DEPTH[space.arch]]]
    if depth.type == "categorical":
        return list(depth.choices)
    return list(range(_end(depth, "low"), _end(depth, "high") + 1, int(depth.step or 1)))


def _widths_at(space: SearchSpace, depth: Any, end: str) -> dict[str, Any]:
    widths = {param.name: _end(param, end) for param in space.params if param.name in _WIDTHS[space.arch]}
    return {_DEPTH[space.arch]: depth, **widths}


def _training_flops(arch: str, params: dict[str, Any]) -> int:
    import keras

    from tuning.data.images import SHAPE as FASHION
    from tuning.model.builders import build_model
    from tuning.model.flops import training_flops_per_image

    keras.backend.clear_session()
    return training_flops_per_image(build_model(arch, params, FASHION))


def _end(param: Param, end: str) -> Any:
    """The low or high end of a parameter's range (of its choices, for a categorical)."""
    if param.type == "categorical":
        return min(param.choices) if end == "low" else max(param.choices)
    value = param.low if end == "low" else param.high
    assert value is not None  # a numeric parameter has both ends
    return int(value) if param.type == "int" else value


def _time_only(space: SearchSpace, end: str) -> dict[str, Any]:
    """The time-only parameters at their dear end for `end` "high", at their cheap end for "low"."""
    opposite = {"low": "high", "high": "low"}
    return {
        param.name: _end(param, _DEAR_END[param.name] if end == "high" else opposite[_DEAR_END[param.name]])
        for param in space.params
        if param.name in _DEAR_END
    }


def _active(space: SearchSpace, params: dict[str, Any]) -> dict[str, Any]:
    """`params` without those the model would not use: layers beyond its depth, unmet `when` conditions."""
    from tuning.model.params import resolve_params

    used = resolve_params(space.arch, params)
    conditions = {param.name: param.when for param in space.params if param.when}
    return {
        name: value
        for name, value in params.items()
        if name in used and (name not in conditions or params.get(conditions[name][0]) in conditions[name][1])
    }


def _relative(path: str) -> str:
    """`path` relative to the working folder when it lies inside it (shorter in a pasted result)."""
    return os.path.relpath(path) if Path(path).resolve().is_relative_to(Path.cwd()) else path


def shown(params: dict[str, Any]) -> str:
    return " ".join(f"{k}={v:.3g}" if isinstance(v, float) else f"{k}={v}" for k, v in params.items())


# --- timing, each in a process of its own -----------------------------------------


class EpochTimer:
    """A compiled model of `arch`/`params` with the first `samples` training images; epoch() times one epoch."""

    def __init__(self, arch: str, params: dict[str, Any], samples: int, *, spe: int, precision: str) -> None:
        import keras

        from tuning.data.images import SHAPE as FASHION
        from tuning.data.load import load_fashion_mnist
        from tuning.model.builders import build_model
        from tuning.model.params import resolve_params
        from tuning.model.train import compile_model

        data = load_fashion_mnist()
        self.x, self.y = data.x_train[:samples], data.y_train[:samples]
        keras.utils.set_random_seed(0)
        self.params = resolve_params(arch, params)
        self.model = build_model(arch, self.params, FASHION, precision=precision)
        compile_model(self.model, self.params, steps_per_execution=spe)

    def epoch(self) -> float:
        start = time.perf_counter()
        self.model.fit(self.x, self.y, batch_size=self.params["batch_size"], epochs=1, verbose=0)
        return time.perf_counter() - start


def _child(arch: str, params: dict[str, Any], samples: int, epochs: int, spe: int, precision: str) -> None:
    from tuning.model.flops import training_flops_per_image
    from tuning.model.tfenv import quiet_tensorflow

    quiet_tensorflow()
    timer = EpochTimer(arch, params, samples, spe=spe, precision=precision)
    timer.epoch()  # warm-up: tracing, allocation
    seconds = min(timer.epoch() for _ in range(epochs))
    print(json.dumps({"seconds": seconds, "train_flops": training_flops_per_image(timer.model)}))


def _measure(config: Config, samples: int, epochs: int, setting: Setting) -> Timing:
    env = dict(os.environ)
    env.pop("TF_ENABLE_ONEDNN_OPTS", None)
    if setting.onednn is not None:
        env["TF_ENABLE_ONEDNN_OPTS"] = setting.onednn
    command = [sys.executable, __file__, "--child", config.arch, "--params", json.dumps(config.params)]
    command += ["--samples", str(samples), "--epochs", str(epochs), "--spe", str(setting.spe)]
    command += ["--precision", setting.precision]
    out = subprocess.run(command, env=env, check=True, capture_output=True, text=True).stdout
    result = json.loads(out.strip().splitlines()[-1])
    return Timing(float(result["seconds"]), samples, int(result["train_flops"]))


def seconds_per_50k(name: str, samples: int, *, spe: int = 32, precision: str = "float32") -> float:
    """One epoch of SEED_PARAMS[name] scaled to 50,000 images: a fresh process, one warm-up then one timed epoch."""
    setting = Setting("", "", spe, None, precision)
    return _measure(seed_config(name), samples, 1, setting).seconds * 50_000 / samples


def _peak_child(sizes: list[int], repeats: int) -> None:
    from tuning.model.tfenv import quiet_tensorflow

    quiet_tensorflow()
    peaks = {dtype: {size: _matmul_gflops(size, dtype, repeats) for size in sizes} for dtype in ("float32", "bfloat16")}
    print(json.dumps(peaks))


def _matmul_gflops(size: int, dtype: str, repeats: int) -> float:
    """GFLOP/s of the fastest of `repeats` size x size products (2 size^3 FLOPs each), after one untimed."""
    import tensorflow as tf

    a = tf.cast(tf.random.uniform((size, size)), dtype)
    b = tf.cast(tf.random.uniform((size, size)), dtype)
    tf.matmul(a, b)[0, 0].numpy()  # warm-up: oneDNN picks and caches its kernel
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        tf.matmul(a, b)[0, 0].numpy()  # reading one value waits for the whole product
        best = min(best, time.perf_counter() - start)
    return 2 * size**3 / best / 1e9


def measure_peaks(sizes: list[int], repeats: int) -> dict[str, dict[int, float]]:
    """dtype -> size -> matmul GFLOP/s, timed in a fresh process with TensorFlow's default threads."""
    command = [sys.executable, __file__, "--child-peak", "--peak-sizes", ",".join(map(str, sizes))]
    command += ["--peak-repeats", str(repeats)]
    out = subprocess.run(command, check=True, capture_output=True, text=True).stdout
    peaks = json.loads(out.strip().splitlines()[-1])
    return {dtype: {int(size): gflops for size, gflops in by_size.items()} for dtype, by_size in peaks.items()}


# --- the table ---------------------------------------------------------------------


def _report_peaks(report: Report, sizes: list[int], repeats: int) -> dict[str, float]:
    if not sizes:
        report("matmul peak: skipped (--no-peak)")
        return {}
    peaks = measure_peaks(sizes, repeats)
    for dtype, by_size in peaks.items():
        shown_sizes = "  ".join(f"{size}: {gflops:7.1f} GFLOP/s" for size, gflops in by_size.items())
        report(f"matmul peak {dtype:8} (best of {repeats}, square tf.matmul)  {shown_sizes}")
    return {dtype: max(by_size.values()) for dtype, by_size in peaks.items()}


def _line(name: str, width: int, setting: Setting, timing: Timing, baseline: tuple[str, float], samples: int) -> str:
    seconds = timing.seconds
    per_50k = seconds * 50_000 / samples
    base_label, base_seconds = baseline
    return (
        f"{name:{width}} {setting.label:18} {seconds:7.2f} s  ({per_50k:6.1f} s per 50k)  "
        f"x{base_seconds / seconds:.2f} vs {base_label}"
        f"  {timing.images_per_second:8.0f} img/s  {timing.train_flops / 1e9:9.4g} GFLOP/img"
        f"  {timing.gflops_per_second:7.1f} GFLOP/s"
    )


def _settings_arg(value: str) -> tuple[str, ...]:
    keys = tuple(key.strip() for key in value.split(",") if key.strip())
    unknown = [key for key in keys if key not in ALL_SETTINGS]
    if unknown or not keys:
        raise argparse.ArgumentTypeError(f"expected a comma list of {', '.join(ALL_SETTINGS)}, but got {value!r}")
    return keys


def _sizes_arg(value: str) -> list[int]:
    try:
        sizes = [int(size) for size in value.split(",") if size.strip()]
    except ValueError:
        sizes = []
    if not sizes or min(sizes) < 1:
        raise argparse.ArgumentTypeError(f"expected a comma list of matrix sizes such as 2048,4096, but got {value!r}")
    return sizes


def _parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--arch", choices=[*SEED_PARAMS, "all", "none"], default="all", help="seed configurations")
    parser.add_argument("--samples", type=int, default=20_000, help="training images per epoch")
    parser.add_argument("--epochs", type=int, default=2, help="timed epochs per setting (the fastest counts)")
    parser.add_argument(
        "--settings",
        type=_settings_arg,
        default=None,
        help=f"comma list of {','.join(ALL_SETTINGS)} [default: all; space ones {','.join(TUNE_SETTINGS)}]",
    )
    parser.add_argument("--space-corners", action="store_true", help="add the cheapest and dearest corner of --space")
    parser.add_argument("--space-samples", type=int, default=0, help="add N random configurations of --space")
    parser.add_argument("--space", default="cnn", help="space file, or mlp/cnn for the shipped one [default: cnn]")
    parser.add_argument("--seed", type=int, default=0, help="sampler seed for --space-samples")
    parser.add_argument("--peak-sizes", type=_sizes_arg, default=[2048, 4096], help="matmul sizes [default: 2048,4096]")
    parser.add_argument("--peak-repeats", type=int, default=3, help="timed products per size and dtype (best counts)")
    parser.add_argument("--no-peak", action="store_true", help="skip the matmul peak (and the percent column)")
    parser.add_argument("--output", default=None, help="write what is printed to this file too")
    parser.add_argument("--child", default=None, help=argparse.SUPPRESS)
    parser.add_argument("--params", default="{}", help=argparse.SUPPRESS)
    parser.add_argument("--child-peak", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--spe", type=int, default=1, help=argparse.SUPPRESS)
    parser.add_argument("--precision", default="float32", help=argparse.SUPPRESS)
    return parser.parse_args()


def _configs(args: argparse.Namespace) -> list[Config]:
    names = list(SEED_PARAMS) if args.arch == "all" else [] if args.arch == "none" else [args.arch]
    configs = [seed_config(name) for name in names]
    if not (args.space_corners or args.space_samples):
        return configs
    space = load_space_arg(args.space)
    if args.space_corners:
        configs += space_corners(space)
    if args.space_samples:
        note = f"drawn from {_relative(space.source)} with RandomSampler(seed={args.seed})"
        for number, params in enumerate(sample_params(space, args.space_samples, args.seed), 1):
            configs.append(Config(f"{space.arch}-r{number}", space.arch, params, TUNE_SETTINGS, note))
    return configs


def main() -> None:
    args = _parse_args()
    if args.child:
        _child(args.child, json.loads(args.params), args.samples, args.epochs, args.spe, args.precision)
        return
    if args.child_peak:
        _peak_child(args.peak_sizes, args.peak_repeats)
        return
    configs = _configs(args)
    if not configs:
        sys.exit("epoch_speed: nothing to time: --arch none without --space-corners or --space-samples")
    report = Report(args.output)
    report(f"epoch seconds on {args.samples} images, best of {args.epochs}, cores={os.cpu_count()}")
    for line in machine_lines():
        report(line)
    peaks = _report_peaks(report, [] if args.no_peak else args.peak_sizes, args.peak_repeats)
    report(FLOPS_NOTE)
    width = max(6, *(len(config.name) for config in configs))
    settings = {setting.key: setting for setting in SETTINGS}
    for config in configs:
        if config.note:
            report(f"{config.name}: {config.note}: {shown(config.params)}")
        baseline: tuple[str, float] | None = None
        for key in args.settings or config.settings:
            setting = settings[key]
            timing = _measure(config, args.samples, args.epochs, setting)
            baseline = baseline or (setting.label.removesuffix(" default"), timing.seconds)
            line = _line(config.name, width, setting, timing, baseline, args.samples)
            if peaks:
                share = 100 * timing.gflops_per_second / peaks[setting.precision]
                line += f"  {share:5.1f}% of {setting.precision} peak"
            report(line)


if __name__ == "__main__":
    main()
