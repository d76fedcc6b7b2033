"""Test accuracy of tune's best configurations, beside published reference numbers.

Per architecture: a pruned study (50 trials by default; resumable, run the same
command again after an interruption), an export of its best trial, retraining
of that configuration with 3 seeds on all 60,000 training images and one
evaluation per seed on the 10,000 test images. Writes accuracy.md and
accuracy.json to --output-dir, with the machine it ran on.

    python bench/accuracy.py                        # the full benchmark: hours on a CPU
    python bench/accuracy.py --arch mlp --trials 2 --epochs 1 --max-train-samples 500 \\
        --seeds 2 --storage sqlite:////tmp/acc.db --output-dir /tmp/acc --models-dir /tmp/acc   # smoke test
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import platform
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from tuning.cli.options import default_of
from tuning.results.retrain import RetrainConfig
from tuning.search.config import RUN_PRECISIONS, RunConfig
from tuning.search.engines.optuna import PRUNERS

# The search settings this benchmark passes on; each defaults to `tune run`'s own default.
SEARCH_SETTINGS = (
    "epochs",
    "checks_per_epoch",
    "pruner",
    "reduction_factor",
    "bootstrap_count",
    "precision",
    "defaults_first",
)

# (architecture, description, test accuracy in %); the figures the issue compares against.
REFERENCES = [
    ("mlp", "MLP, hand-tuned", 88.11),
    ("mlp", "MLP 256-128-100, Fashion-MNIST benchmark", 88.33),
    ("mlp", "MLP 256-128-64, Zalando's benchmark (the issue's aim)", 90.0),
    ("cnn", "ConvNet, hand-tuned", 91.85),
    ("cnn", "small ConvNets with batch normalisation", 93.4),
    ("cnn", "Google AutoML, after 24 compute hours", 93.9),
]


def main() -> None:
    args = _parse_args()
    import optuna

    from tuning.model.tfenv import quiet_tensorflow

    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    quiet_tensorflow()
    references = [{"arch": arch, "reference": name, "test_accuracy_percent": value} for arch, name, value in REFERENCES]
    report: dict[str, Any] = {"machine": _machine(), "settings": vars(args), "results": [], "references": references}
    print(f"machine: {_describe_machine(report['machine'])}")
    for arch in ["mlp", "cnn"] if args.arch == "both" else [args.arch]:
        row = _search(arch, args)
        report["results"].append(row)
        _finish(report, args)  # the study's figures are kept even if retraining is cut short
        if not args.search_only:
            row.update(_retrain(row, args))
            _finish(report, args)


def _finish(report: dict[str, Any], args: argparse.Namespace) -> None:
    report["finished_at"] = datetime.now(UTC).isoformat(timespec="seconds")
    _write(report, Path(args.output_dir))


def _parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--arch", choices=["mlp", "cnn", "both"], default="both")
    parser.add_argument("--trials", type=int, default=50, help="finished trials per study")
    for key in ("epochs", "checks_per_epoch", "reduction_factor", "bootstrap_count"):
        flag = "--" + key.replace("_", "-")
        parser.add_argument(flag, type=int, default=default_of(RunConfig, key), help=f"as tune run {flag}")
    parser.add_argument("--storage", default="sqlite:///bench/results/accuracy.db", help="Optuna storage URL")
    parser.add_argument(
        "--study",
        default=None,
        help="run (or finish, or only retrain) this study, e.g. one bench/search_speed.py timed; with --arch mlp or "
        "cnn [default: accuracy-ARCH-SETTINGS]",
    )
    parser.add_argument("--max-train-samples", type=int, default=None, help="search and retrain on a subset (smoke)")
    parser.add_argument(
        "--search-samples",
        type=int,
        default=None,
        help="search on a stratified subset of N images, retrain on all (a cheaper search)",
    )
    parser.add_argument("--pruner", choices=PRUNERS, default=default_of(RunConfig, "pruner"), help="as tune run")
    parser.add_argument(
        "--precision", choices=RUN_PRECISIONS, default=default_of(RunConfig, "precision"), help="as tune run"
    )
    parser.add_argument(
        "--extend", type=float, default=default_of(RetrainConfig, "extend"), help="as tune retrain --extend"
    )
    parser.add_argument(
        "--defaults-first",
        action=argparse.BooleanOptionalAction,
        default=default_of(RunConfig, "defaults_first"),
        help="as tune run --defaults-first/--no-defaults-first: a new study's first trial is the space's [start]",
    )
    parser.add_argument("--seeds", type=int, default=3, help="retrainings per architecture")
    parser.add_argument("--search-only", action="store_true", help="run (or finish) the studies, do not retrain")
    parser.add_argument("--seed", type=int, default=0, help="study seed (sampler, split, weights)")
    parser.add_argument("--data-dir", default=None, help="Fashion-MNIST folder [default: the usual places]")
    parser.add_argument("--output-dir", default="bench/results", help="where accuracy.md and accuracy.json go")
    parser.add_argument("--models-dir", default="models", help="where exports and retrained models go")
    args = parser.parse_args()
    if args.study and args.arch == "both":
        parser.error("--study names one study: give --arch mlp or --arch cnn")
    return args


def _search(arch: str, args: argparse.Namespace) -> dict[str, Any]:
    """Run (or finish) the study and export its best trial; the row of figures so far."""
    from tuning import attrs
    from tuning.results.export import Export
    from tuning.search.runner import prepare_run, run_study
    from tuning.search.study import state_counts

    search_samples = args.search_samples or args.max_train_samples
    subset = f"-n{search_samples}" if search_samples else ""
    changed = {key: getattr(args, key) for key in SEARCH_SETTINGS if getattr(args, key) != default_of(RunConfig, key)}
    variant = "".join(f"-{key.replace('_', '')}{value}" for key, value in changed.items()) or "-defaults"
    name = args.study or f"accuracy-{arch}{subset}{variant}"
    config = RunConfig(
        arch=arch,
        trials=args.trials,
        study_name=name,
        storage=args.storage,
        max_train_samples=search_samples,
        seed=args.seed,
        data=args.data_dir,
        **{key: getattr(args, key) for key in SEARCH_SETTINGS},
    )
    started = time.perf_counter()
    prepared = prepare_run(config)
    print(f"{name}: running {prepared.remaining} more trial(s) of {args.trials}")
    whole_study = prepared.remaining == args.trials
    run_study(prepared, callbacks=[_print_trial])
    elapsed = time.perf_counter() - started
    trials = prepared.study.get_trials(deepcopy=False)
    export = Export.from_study(prepared.study)
    export_path = export.write(Path(args.models_dir) / f"{name}.json")
    epochs_trained = sum(float(t.user_attrs.get(attrs.EPOCHS_RUN, 0)) for t in trials)
    return {
        "arch": arch,
        "study": name,
        "best_trial": export.best_trial,
        "best_val_accuracy": export.best_val_accuracy,
        "best_params": export.params,
        "trials": state_counts(trials),
        "epochs_trained": epochs_trained,
        "epochs_per_trial": epochs_trained / len(trials),
        "study_seconds": _study_seconds(trials),
        # the command's own clock (data loading, sampling, pruning included), when it ran the whole study
        "study_elapsed_seconds": elapsed if whole_study else None,
        "export": str(export_path),
        "precision": prepared.config.precision,
        "precision_reason": prepared.precision_reason,
    }


def _retrain(row: dict[str, Any], args: argparse.Namespace) -> dict[str, Any]:
    """Retrain the exported best configuration with args.seeds seeds; the test figures."""
    from tuning.results.retrain import prepare_retrain, retrain

    name, export_path = row["study"], row["export"]
    settings = RetrainConfig(
        export_path=str(export_path),
        output_dir=str(Path(args.models_dir) / name),
        seeds=args.seeds,
        extend=args.extend,
        max_train_samples=args.max_train_samples,
        data=args.data_dir,
    )
    to_retrain = prepare_retrain(settings)
    print(f"{name}: retraining trial {row['best_trial']} for {to_retrain.epochs} epochs, seeds {to_retrain.seeds}")
    result = retrain(to_retrain, on_run=lambda _, run: print(f"  seed {run.seed}: {run.evaluation.accuracy:.4f}"))
    print(f"{name}: test accuracy {_pct(result.accuracy_mean, result.accuracy_std)}")
    return {
        "test_accuracy_mean": result.accuracy_mean,
        "test_accuracy_std": result.accuracy_std,
        "test_accuracy_per_seed": [run.evaluation.accuracy for run in result.runs],
        "seeds": list(to_retrain.seeds),
        "retrain_epochs": to_retrain.epochs,
        "train_samples": len(to_retrain.split.y_train),
        "retrain_seconds": result.seconds,
        "model_dir": str(result.output_dir),
    }


def _print_trial(study: Any, trial: Any) -> None:
    value = "" if trial.value is None else f" val_acc {trial.value:.4f}"
    print(f"  trial {trial.number}: {trial.state.name.lower()}{value}", flush=True)


def _study_seconds(trials: list[Any]) -> float:
    """The study's wall-clock as tuning/anytime.py counts it (pauses between resumed runs left out)."""
    from tuning.anytime import anytime_curve

    return anytime_curve(trials).span_seconds


# --- the machine -------------------------------------------------------------


def _machine() -> dict[str, Any]:
    from tuning.results.export import package_versions

    return {
        "cores": os.cpu_count(),
        "cpu": _cpu_model(),
        "gpus": _gpus(),
        "platform": platform.platform(),
        "versions": package_versions(),
    }


def _cpu_model() -> str:
    try:
        lines = Path("/proc/cpuinfo").read_text(encoding="utf-8").splitlines()
    except OSError:
        return platform.processor() or "unknown"
    models = [line.split(":", 1)[1].strip() for line in lines if line.startswith("model name")]
    return models[0] if models else platform.processor() or "unknown"


def _gpus() -> list[str]:
    import tensorflow as tf

    devices = tf.config.list_physical_devices("GPU")
    return [tf.config.experimental.get_device_details(d).get("device_name", d.name) for d in devices]


def _describe_machine(machine: dict[str, Any]) -> str:
    gpus = ", ".join(machine["gpus"]) or "no GPU"
    return f"{machine['cores']} cores, {machine['cpu']}, {gpus}"


# --- the report --------------------------------------------------------------


def _write(report: dict[str, Any], out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    (out / "accuracy.json").write_text(json.dumps(report, indent=2, default=str) + "\n", encoding="utf-8")
    (out / "accuracy.md").write_text(_markdown(report), encoding="utf-8")
    print(f"wrote {out / 'accuracy.md'} and {out / 'accuracy.json'}")


def _epochs_text(epochs: int | None) -> str:
    """The epoch budget as set, or each architecture's default."""
    from tuning.model.registry import BUILT_IN, get_model

    if epochs is not None:
        return str(epochs)
    return " / ".join(f"{get_model(arch).epochs} ({arch})" for arch in BUILT_IN)


def _markdown(report: dict[str, Any]) -> str:
    settings = report["settings"]
    subset = settings.get("search_samples") or settings["max_train_samples"]
    retrained_on = f"{settings['max_train_samples']} images" if settings["max_train_samples"] else "all 60,000 images"
    lines = [
        "# Test accuracy of the best configurations",
        "",
        f"Machine: {_describe_machine(report['machine'])}. Finished {report.get('finished_at', '?')}.",
        f"Studies of {settings['trials']} trials of up to {_epochs_text(settings['epochs'])} epochs"
        f" ({settings.get('pruner', 'hyperband')} pruner"
        + (f" with reduction factor {settings['reduction_factor']}" if settings.get("reduction_factor", 3) != 3 else "")
        + (f", bootstrap count {settings['bootstrap_count']}" if settings.get("bootstrap_count") else "")
        + (f", {settings['checks_per_epoch']} checks per epoch" if settings.get("checks_per_epoch", 1) != 1 else "")
        + f", precision {settings.get('precision', 'float32')}"
        + (", the space's [start] configuration first" if settings.get("defaults_first") else "")
        + ")"
        + (f" on a {subset}-image subset" if subset else "")
        + f"; the best configuration retrained on {retrained_on} with {settings['seeds']} seeds and evaluated "
        "once on the 10,000 test images (mean ± sample std over seeds).",
        "",
        "| arch | test accuracy | references | best val accuracy | study wall-clock | epochs per trial "
        "| retrain wall-clock | trials complete / pruned / failed |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for row in report["results"]:
        refs = "; ".join(f"{name} {value:.2f}%" for arch, name, value in REFERENCES if arch == row["arch"])
        counts = row["trials"]
        retrained = "test_accuracy_mean" in row
        test = _pct(row["test_accuracy_mean"], row["test_accuracy_std"]) if retrained else "not retrained yet"
        per_trial = f"{row['epochs_per_trial']:.1f}" if "epochs_per_trial" in row else "?"
        lines.append(
            f"| {row['arch']} | {test} | {refs} | {100 * row['best_val_accuracy']:.2f}% "
            f"| {_duration(row['study_seconds'])} | {per_trial} "
            f"| {_duration(row['retrain_seconds']) if retrained else '-'} "
            f"| {counts['COMPLETE']} / {counts['PRUNED']} / {counts['FAIL']} |"
        )
    lines += ["", "Study wall-clock is the sum of trial durations (one worker)."]
    for row in report["results"]:
        if "precision" in row:
            lines.append(f"The {row['arch']} study trained in {row['precision']} ({row['precision_reason']}).")
    for row in report["results"]:
        if row.get("study_elapsed_seconds"):
            lines.append(
                f"The {row['arch']} study ran in one command: {_duration(row['study_elapsed_seconds'])} on its clock,"
                " data loading, sampling and pruning included."
            )
    lines.append("")
    return "\n".join(lines)


def _pct(mean: float, std: float | None) -> str:
    return f"{100 * mean:.2f}%" + ("" if std is None else f" ± {100 * std:.2f}")


def _duration(seconds: float) -> str:
    minutes, secs = divmod(round(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h {minutes:02d}m" if hours else f"{minutes}m {secs:02d}s"


if __name__ == "__main__":
    main()
