"""Do two one-thread training processes beat one two-thread process here? (For `tune run --jobs auto`.)

For each configuration, (a) one process with TensorFlow's default thread pools
(every core, as `tune run --jobs 1`) and (b) N processes started together with intra-op threads = 1 each (N = --cores,
default 2) train the same model: each process builds it, trains one warm-up epoch
on --samples images, waits until every process of its side is warm, then trains
--epochs timed epochs. Printed per configuration: images per second in total for
(a) and for (b) (all images trained / the slowest process's seconds) and b/a,
above a header with the date, CPU model and AVX-512/AMX flags: a block ready to
paste, which --output FILE writes as well.

How `tune run` sets threads (tuning/search/processes.py, engines/optuna.py run_in_process): with
`--jobs 1` the search trains in the main process and leaves TensorFlow's thread
pools at their defaults (every core); with `--jobs J` it spawns J workers, each
calling quiet_tensorflow(threads=cores // J), i.e. intra-op threads cores // J
and inter-op threads min(that, 2). On an N-core machine (a) is `--jobs 1` and (b)
`--jobs N`, less the workers' own costs (storage, claim lock, heartbeats).
The processes of (b) run quiet_tensorflow(threads=1) the same way, at
steps_per_execution 32 as `tune run` does. (A first version set (a)'s threads to N
explicitly; its (a) ran at about 60% of bench/epoch_speed.py's speed for the same
models, 2026-11-30, so its b/a figures are not used.) On a machine with more than N CPUs
every process is pinned to the same N of them (os.sched_setaffinity), so both
sides get N cores, as on the 2-core development machine; --no-pin lets them roam.

Configurations: the seeds of bench/epoch_speed.py (mlp 256-128, cnn
Conv32-Conv64-Dense128, cnn-bn two blocks of two 3x3 convolutions with batch norm)
and cnn-max, the dearest corner of search_spaces/cnn.toml (5x5 kernels, 64/128/256
filters, two convolutions per block). Each has its own default images and epochs,
for some seconds of timed training per side on 2 cores; --samples and --epochs set
them for all.

    python bench/parallel_speed.py --output parallel_speed.txt
    python bench/parallel_speed.py --configs mlp --samples 2000 --epochs 1   # smoke test
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from typing import IO, Any

from epoch_speed import (
    SEED_PARAMS,
    Config,
    EpochTimer,
    Report,
    load_space_arg,
    machine_lines,
    seed_config,
    shown,
    space_corners,
)

from tuning.model.train import DEFAULT_STEPS_PER_EXECUTION

DEFAULT_CONFIGS = ["mlp", "cnn", "cnn-bn", "cnn-max"]
CORNERS = ("cnn-min", "cnn-max")
# name -> (images per epoch, timed epochs) without --samples / --epochs: some seconds per side on 2 cores.
DEFAULT_SIZES = {
    "mlp": (50_000, 3),
    "cnn": (20_000, 1),
    "cnn-bn": (10_000, 1),
    "cnn-min": (50_000, 3),
    "cnn-max": (2_048, 1),
}


@dataclass(frozen=True)
class Side:
    """One way to use the cores: `processes` processes of `threads` intra-op threads each."""

    processes: int
    threads: int

    @property
    def label(self) -> str:
        processes = f"{self.processes} process{'es' if self.processes > 1 else ''}"
        return f"{processes} x {self.threads} thread{'s' if self.threads > 1 else ''}"


def _child(arch: str, params: dict[str, Any], samples: int, epochs: int, threads: int, precision: str) -> None:
    from tuning.model.tfenv import quiet_tensorflow

    quiet_tensorflow(threads=threads or None)  # 0: TensorFlow's own thread settings, as `tune run --jobs 1`
    timer = EpochTimer(arch, params, samples, spe=DEFAULT_STEPS_PER_EXECUTION, precision=precision)
    timer.epoch()  # warm-up: tracing, allocation
    print("ready", flush=True)
    sys.stdin.readline()  # the parent's go, once every process of this side is warm
    seconds = sum(timer.epoch() for _ in range(epochs))
    print(json.dumps({"seconds": seconds, "images": samples * epochs}), flush=True)


def _run_side(config: Config, side: Side, samples: int, epochs: int, precision: str, cpus: list[int]) -> list[dict]:
    """Start the side's processes, let them warm up, start their timed epochs together; their results."""
    command = [sys.executable, __file__, "--child", config.arch, "--params", json.dumps(config.params)]
    threads = 0 if side.processes == 1 else side.threads  # one process: what `tune run --jobs 1` does
    command += ["--samples", str(samples), "--epochs", str(epochs), "--threads", str(threads)]
    command += ["--precision", precision, "--cpus", ",".join(map(str, cpus))]
    with contextlib.ExitStack() as stack:
        logs = [stack.enter_context(tempfile.TemporaryFile(mode="w+")) for _ in range(side.processes)]
        children = [stack.enter_context(_started(command, log)) for log in logs]
        for child, log in zip(children, logs, strict=True):
            _wait_for(child, log, "ready")
        for child in children:
            assert child.stdin is not None
            child.stdin.write("go\n")
            child.stdin.flush()
        return [json.loads(_wait_for(child, log, "{")) for child, log in zip(children, logs, strict=True)]


@contextlib.contextmanager
def _started(command: list[str], log: IO[str]) -> Iterator[subprocess.Popen[str]]:
    """A training process talking through pipes, its stderr into `log`; killed if the caller fails."""
    child = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=log, text=True)
    with child:  # closes the pipes and waits on the way out
        try:
            yield child
        except BaseException:  # one failed or Ctrl-C: the others would wait for "go" or train on
            child.kill()
            raise


def _wait_for(child: subprocess.Popen[str], log: IO[str], start: str) -> str:
    """The child's next stdout line beginning with `start`; exits with its stderr if it ends first."""
    assert child.stdout is not None
    for line in child.stdout:
        if line.startswith(start):
            return line
    child.wait()
    log.seek(0)
    sys.exit(f"parallel_speed: a training process failed (exit status {child.returncode}):\n{log.read()[-3000:]}")


def images_per_second(results: list[dict]) -> float:
    """All images trained / the slowest process's seconds: the side's throughput while all of it runs."""
    return sum(result["images"] for result in results) / max(result["seconds"] for result in results)


def _pinned_cpus(cores: int, pin: bool) -> list[int]:
    usable = sorted(os.sched_getaffinity(0))
    if len(usable) < cores:
        sys.exit(f"parallel_speed: --cores {cores} but this process may use only {len(usable)} CPUs")
    return usable[:cores] if pin and len(usable) > cores else []


def _configs(names: list[str]) -> list[Config]:
    corners = {}
    if any(name in CORNERS for name in names):
        from tuning.model.tfenv import quiet_tensorflow

        quiet_tensorflow()
        corners = {config.name: config for config in space_corners(load_space_arg("cnn"))}
    return [corners[name] if name in CORNERS else seed_config(name) for name in names]


def _names_arg(value: str) -> list[str]:
    names = [name.strip() for name in value.split(",") if name.strip()]
    known = [*SEED_PARAMS, *CORNERS]
    unknown = [name for name in names if name not in known]
    if unknown or not names:
        raise argparse.ArgumentTypeError(f"expected a comma list of {', '.join(known)}, but got {value!r}")
    return names


def _parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument(
        "--configs",
        type=_names_arg,
        default=DEFAULT_CONFIGS,
        help=f"comma list of {', '.join([*SEED_PARAMS, *CORNERS])} [default: {','.join(DEFAULT_CONFIGS)}]",
    )
    parser.add_argument("--samples", type=int, default=None, help="images per epoch for every configuration")
    parser.add_argument("--epochs", type=int, default=None, help="timed epochs per process for every configuration")
    parser.add_argument("--cores", type=int, default=2, help="N: (a) 1 process x N threads, (b) N x 1 [default: 2]")
    parser.add_argument("--repeats", type=int, default=1, help="run (a) then (b) this many times; the best counts")
    parser.add_argument("--precision", choices=["float32", "bfloat16"], default="float32")
    parser.add_argument("--no-pin", action="store_true", help="do not pin the processes to the same --cores CPUs")
    parser.add_argument("--output", default=None, help="write what is printed to this file too")
    parser.add_argument("--child", default=None, help=argparse.SUPPRESS)
    parser.add_argument("--params", default="{}", help=argparse.SUPPRESS)
    parser.add_argument("--threads", type=int, default=1, help=argparse.SUPPRESS)
    parser.add_argument("--cpus", default="", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.cores < 2 or args.repeats < 1:
        parser.error(f"--cores must be at least 2 and --repeats at least 1, but got {args.cores=}, {args.repeats=}")
    return args


def main() -> None:
    args = _parse_args()
    if args.child:
        if args.cpus:  # before TensorFlow sizes its thread pools
            os.sched_setaffinity(0, [int(cpu) for cpu in args.cpus.split(",")])
        _child(args.child, json.loads(args.params), args.samples, args.epochs, args.threads, args.precision)
        return
    cpus = _pinned_cpus(args.cores, not args.no_pin)
    configs = _configs(args.configs)
    sides = (Side(1, args.cores), Side(args.cores, 1))
    report = Report(args.output)
    spe = DEFAULT_STEPS_PER_EXECUTION
    report(f"parallel_speed: (a) {sides[0].label} against (b) {sides[1].label}, {args.precision}, spe={spe}")
    for line in machine_lines():
        report(line)
    report(f"processes pinned to CPUs {','.join(map(str, cpus))}" if cpus else "processes not pinned")
    report(f"images/s: all processes' images / the slowest one's seconds; best of {args.repeats}")
    report(f"b/a above 1: {args.cores} one-thread processes (--jobs {args.cores}) train more images per second")
    for config in configs:
        if config.note:
            report(f"{config.name}: {config.note}: {shown(config.params)}")
    report(f"{'config':8} {'images x epochs':>16}  {'(a) img/s':>10}  {'(b) img/s':>10}  b/a")
    for config in configs:
        samples, epochs = DEFAULT_SIZES[config.name]
        samples, epochs = args.samples or samples, args.epochs or epochs
        best = [0.0, 0.0]
        for _ in range(args.repeats):
            for index, side in enumerate(sides):
                results = _run_side(config, side, samples, epochs, args.precision, cpus)
                best[index] = max(best[index], images_per_second(results))
        report(
            f"{config.name:8} {f'{samples} x {epochs}':>16}  {best[0]:10.1f}  {best[1]:10.1f}  x{best[1] / best[0]:.2f}"
        )


if __name__ == "__main__":
    main()
