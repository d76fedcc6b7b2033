"""What each pruner spends and finds: the same study run once per pruner, epochs counted.

Every pruner gets a fresh study with the same seed (so the same sampler stream to start
with) on the same stratified subset, and the same number of trials and epoch budget.
Printed per pruner: epochs trained in total and per trial, trials complete / pruned, the
best validation accuracy, wall-clock, and epochs as a ratio to Hyperband's (the default)
in the same session. Epoch counts, unlike seconds, do not depend on what else the machine
is doing.

    python bench/pruner_cost.py --arch mlp --trials 50 --epochs 10 --samples 10000
"""

from __future__ import annotations

import argparse
import logging
import tempfile
import time
from pathlib import Path

from tuning.search.engines.optuna import PRUNERS


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--arch", choices=["mlp", "cnn"], default="mlp")
    parser.add_argument("--trials", type=int, default=50)
    parser.add_argument("--epochs", type=int, default=10, help="most epochs per trial")
    parser.add_argument("--samples", type=int, default=10_000, help="stratified training subset (1/6 validates)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--pruners", nargs="+", choices=PRUNERS, default=["hyperband", "halving", "median"])
    args = parser.parse_args()

    import optuna

    from tuning.model.tfenv import quiet_tensorflow
    from tuning.search.config import RunConfig
    from tuning.search.runner import prepare_run, run_study
    from tuning.search.study import state_counts

    quiet_tensorflow()
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    logging.basicConfig(level=logging.WARNING)
    print(f"{args.arch}, {args.trials} trials of up to {args.epochs} epochs on {args.samples} images, seed {args.seed}")
    baseline = None
    with tempfile.TemporaryDirectory() as tmp:
        for pruner in args.pruners:
            config = RunConfig(
                arch=args.arch,
                trials=args.trials,
                epochs=args.epochs,
                max_train_samples=args.samples,
                seed=args.seed,
                pruner=pruner,
                study_name=pruner,
                storage=f"sqlite:///{Path(tmp) / 'pruners.db'}",
            )
            started = time.perf_counter()
            prepared = prepare_run(config)
            run_study(prepared)
            seconds = time.perf_counter() - started
            trials = prepared.study.get_trials(deepcopy=False)
            epochs = sum(len(t.intermediate_values) for t in trials)
            baseline = baseline or epochs
            counts = state_counts(trials)
            print(
                f"{pruner:10} epochs {epochs:4d} ({epochs / len(trials):4.1f} per trial, x{epochs / baseline:.2f} of "
                f"{args.pruners[0]})  complete/pruned {counts['COMPLETE']}/{counts['PRUNED']}  "
                f"best val {prepared.study.best_value:.4f}  {seconds:5.0f} s",
                flush=True,
            )


if __name__ == "__main__":
    main()
