"""Does `tune export --robust` pick a configuration that tests better than the plain best trial?

For one study (read only): the plain export (the best single run) and the robust
export (the best mean over each of the K best configurations' own run and S more
seeds, on the search's validation split), then both chosen configurations
retrained with the same seeds (3 by default) on all training images and
evaluated on the test set. Prints whether the winner changed and each one's
test accuracy, mean ± sample std over seeds. When the winner does not change,
the configuration is retrained once.

Costs K*S search-sized training runs, then 2 x --seeds full retrainings: hours
for a ConvNet study on a CPU.

    python bench/robust.py --storage sqlite:///bench/results/search_speed.db --study speed-cnn-defaults --robust 2
    # smoke test on a tiny study:
    tune run mlp --trials 3 --epochs 1 --max-train-samples 300 --pruner none --storage sqlite:////tmp/rb/s.db
    python bench/robust.py --storage sqlite:////tmp/rb/s.db --study mlp --robust 2 --seeds 2 \\
        --max-train-samples 1000 --output-dir /tmp/rb
"""

from __future__ import annotations

import argparse
import logging
import time
from pathlib import Path
from typing import Any


def main() -> None:
    args = _parse_args()
    import optuna

    from tuning.model.tfenv import quiet_tensorflow

    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    quiet_tensorflow()
    out = Path(args.output_dir)
    plain, robust, seconds = _exports(args, out)
    record = robust.robust
    assert record is not None
    print(f"robust export: {record.robust_seeds} more seed(s) for each of {len(record.candidates)} configurations")
    for candidate in record.candidates:
        scores = ", ".join(f"{score:.4f}" for score in candidate.val_accuracies)
        print(f"  trial {candidate.trial}: validation accuracy {scores}; mean {candidate.mean:.4f}")
    print(f"  took {seconds:.0f} s")
    changed = robust.best_trial != plain.best_trial
    verdict = "yes" if changed else "no"
    print(f"winner changed: {verdict} (plain: trial {plain.best_trial}, robust: trial {robust.best_trial})")
    plain_test = _retrain("plain", out, args)
    robust_test = _retrain("robust", out, args) if changed else plain_test
    print(f"test accuracy, plain  (trial {plain.best_trial}): {_pct(*plain_test)}")
    print(f"test accuracy, robust (trial {robust.best_trial}): {_pct(*robust_test)}")


def _parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--storage", default="sqlite:///bench/results/search_speed.db", help="Optuna storage URL")
    parser.add_argument("--study", required=True, help="the study's name (`tune studies` lists them)")
    parser.add_argument("--robust", type=int, default=3, help="as tune export --robust K")
    parser.add_argument("--robust-seeds", type=int, default=2, help="as tune export --robust-seeds S")
    parser.add_argument("--seeds", type=int, default=3, help="retrainings per chosen configuration")
    parser.add_argument("--seed", type=int, default=0, help="first retraining seed, the same for both configurations")
    parser.add_argument("--epochs", type=int, default=None, help="retraining epochs [default: each export's best]")
    parser.add_argument("--max-train-samples", type=int, default=None, help="retrain on a subset (smoke test)")
    parser.add_argument("--data-dir", default=None, help="Fashion-MNIST folder [default: the usual places]")
    parser.add_argument("--output-dir", default="bench/results/robust", help="exports and retrained models")
    return parser.parse_args()


def _exports(args: argparse.Namespace, out: Path) -> tuple[Any, Any, float]:
    """Write plain.json and robust.json to `out`; both exports and the robust export's seconds."""
    from tuning import api

    plain = api.export(args.study, storage=args.storage, output=out / "plain.json")
    print(f"plain export: trial {plain.best_trial}, validation accuracy {plain.best_val_accuracy:.4f}")
    started = time.perf_counter()
    robust = api.export(
        args.study,
        storage=args.storage,
        output=out / "robust.json",
        robust=args.robust,
        robust_seeds=args.robust_seeds,
        data=args.data_dir,
    )
    return plain, robust, time.perf_counter() - started


def _retrain(name: str, out: Path, args: argparse.Namespace) -> tuple[float, float | None]:
    """Retrain out/NAME.json with args.seeds seeds; its test accuracy mean and std."""
    from tuning.results.retrain import RetrainConfig, prepare_retrain, retrain

    config = RetrainConfig(
        export_path=str(out / f"{name}.json"),
        epochs=args.epochs,
        output_dir=str(out / name),
        seeds=args.seeds,
        seed=args.seed,
        max_train_samples=args.max_train_samples,
        data=args.data_dir,
        png=False,
    )
    prepared = prepare_retrain(config)
    images = len(prepared.split.y_train)
    print(f"{name}: retraining for {prepared.epochs} epochs on {images} images, seeds {prepared.seeds}")
    result = retrain(prepared, on_run=lambda _, run: print(f"  seed {run.seed}: {run.evaluation.accuracy:.4f}"))
    return result.accuracy_mean, result.accuracy_std


def _pct(mean: float, std: float | None) -> str:
    return f"{100 * mean:.2f}%" + ("" if std is None else f" ± {100 * std:.2f}")


if __name__ == "__main__":
    main()
