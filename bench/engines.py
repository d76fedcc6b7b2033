"""tune's default Optuna search against KerasTuner's Hyperband and Bayesian optimisation, on equal terms.

The same architecture, search space, data, split, epochs and wall-clock budget for
each search, run one after another in this process: `tune run` with its defaults
(TPE, successive halving), then `--engine keras-tuner` with `--kt-oracle hyperband`
and with `--kt-oracle bayesian`. Writes the `tune compare` page (engines-ARCH.html,
plus a PNG where Chromium is installed) and a table with the machine and settings
(engines-ARCH.md) to --output-dir.

The budget is each study's own time (tuning/report/compare.py: the union of its trial
spans): a re-run of the same command finishes studies that used less than --minutes.
A trial in flight when the budget ends runs to its end.

    python bench/engines.py                      # the full benchmark: 3 x 30 minutes, cnn, all images
    python bench/engines.py --minutes 0.5 --max-train-samples 600 --epochs 2 \\
        --storage sqlite:////tmp/engines.db --output-dir /tmp/engines      # smoke test
"""

from __future__ import annotations

import argparse
import logging
import os
import platform
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from tuning.cli.options import default_of
from tuning.search.config import RUN_PRECISIONS, RunConfig

# (label, settings): the searches compared, in the order they run.
SEARCHES: list[tuple[str, dict[str, str]]] = [
    ("optuna", {}),
    ("kt-hyperband", {"engine": "keras-tuner", "kt_oracle": "hyperband"}),
    ("kt-bayesian", {"engine": "keras-tuner", "kt_oracle": "bayesian"}),
]


def main() -> None:
    args = _parse_args()
    import optuna

    from tuning.model.tfenv import quiet_tensorflow
    from tuning.report.compare import compare_rows, default_targets, study_curve, write_compare

    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    quiet_tensorflow()
    studies = [_search(label, settings, args) for label, settings in SEARCHES if label in args.searches]
    curves = [study_curve(study) for study in studies]
    out = Path(args.output_dir)
    targets = default_targets(curves)  # Fashion-MNIST's hand-tuned MLP and ConvNet
    written = write_compare(curves, out / f"engines-{args.arch}.html", targets)
    headings, rows = compare_rows(curves, targets)
    table = _markdown_table(headings, rows)
    speedup = _speedup(curves, targets[-1])
    report = "\n".join(
        [
            f"# tune run {args.arch}: engines side by side ({datetime.now(UTC).isoformat(timespec='seconds')})",
            "",
            f"Machine: {os.cpu_count()} cores, {platform.processor() or platform.machine()}, {platform.platform()}.",
            f"Settings: {vars(args)}.",
            "",
            table,
            "",
            speedup,
            "",
        ]
    )
    md = out / f"engines-{args.arch}.md"
    md.write_text(report, encoding="utf-8")
    print(table)
    print(speedup)
    print(f"wrote {md}, {', '.join(map(str, written))}")


def _search(label: str, settings: dict[str, str], args: argparse.Namespace) -> Any:
    """Run (or finish) one search for what is left of its budget; return its study."""
    from tuning.report.compare import study_curve
    from tuning.search.runner import prepare_run, run_study

    subset = f"-n{args.max_train_samples}" if args.max_train_samples else ""
    name = f"engines-{args.arch}{subset}-{label}"
    config = RunConfig(
        arch=args.arch,
        trials=args.trials,
        study_name=name,
        storage=args.storage,
        epochs=args.epochs,
        max_train_samples=args.max_train_samples,
        seed=args.seed,
        data=args.data_dir,
        precision=args.precision,
        timeout=60.0,  # replaced below, once the study's spent time is known
        **settings,
    )
    prepared = prepare_run(config)
    curve = study_curve(prepared.study)
    left = args.minutes * 60 - curve.curve.span_seconds
    if left <= 0:
        print(f"{name}: budget of {args.minutes:g} min already spent")
        return prepared.study
    print(f"{name}: {left / 60:.1f} min left of {args.minutes:g}")
    prepared = prepare_run(RunConfig(**{**config.__dict__, "timeout": left}))
    run_study(prepared, callbacks=[_print_trial])
    return prepared.study


def _print_trial(study: Any, trial: Any) -> None:
    value = "-" if trial.value is None else f"{trial.value:.4f}"
    print(f"  {study.study_name} trial {trial.number}: {trial.state.name.lower()} {value}", flush=True)


def _speedup(curves: list[Any], target: float) -> str:
    """How many times sooner tune's default search reached `target` than KerasTuner's Hyperband (the issue's goal)."""
    reached = {curve.name.rsplit("-", 1)[-1]: curve.curve.reached(target) for curve in curves}
    ours, theirs = reached.get("optuna"), reached.get("hyperband")
    if ours is None or theirs is None:
        return f"Speed-up at {target:.2%}: not measurable (one of the two searches did not reach it)."
    return (
        f"Speed-up at {target:.2%}: tune's default search reached it after {ours.seconds / 60:.1f} min, "
        f"KerasTuner Hyperband after {theirs.seconds / 60:.1f} min: {theirs.seconds / ours.seconds:.1f}x in "
        f"wall-clock, {theirs.epochs_spent / ours.epochs_spent:.1f}x in epochs."
    )


def _markdown_table(headings: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(headings) + " |", "|" + "---|" * len(headings)]
    return "\n".join(lines + ["| " + " | ".join(row) + " |" for row in rows])


def _parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--arch", choices=["mlp", "cnn"], default="cnn")
    parser.add_argument("--minutes", type=float, default=30.0, help="wall-clock budget of each search")
    parser.add_argument("--trials", type=int, default=10_000, help="a cap on trials per search (the budget ends first)")
    parser.add_argument("--epochs", type=int, default=default_of(RunConfig, "epochs"), help="as tune run --epochs")
    parser.add_argument("--max-train-samples", type=int, default=None, help="search on a subset (smoke)")
    parser.add_argument(
        "--precision", choices=RUN_PRECISIONS, default=default_of(RunConfig, "precision"), help="as tune run"
    )
    parser.add_argument("--seed", type=int, default=0, help="seed of each study (sampler or oracle, split, weights)")
    parser.add_argument(
        "--searches", nargs="+", choices=[label for label, _ in SEARCHES], default=[label for label, _ in SEARCHES]
    )
    parser.add_argument("--storage", default="sqlite:///bench/results/engines.db", help="Optuna storage URL")
    parser.add_argument("--data-dir", default=None, help="Fashion-MNIST folder [default: the usual places]")
    parser.add_argument("--output-dir", default="bench/results", help="where engines-ARCH.md and .html go")
    return parser.parse_args()


if __name__ == "__main__":
    main()
