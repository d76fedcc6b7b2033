"""Test accuracy of retraining recipes: given configurations trained for given epochs on all 60,000 images.

Which configurations and epoch budgets can pass 94% (issue 11) at all, before spending
CPU hours on them. It builds models with tune's own builders and trains them with the
same optimiser, loss and cosine schedule as tuning/model/train.py, but in plain
`model.fit`, so it runs under any Keras backend (an accelerator, if one is lent: the
figures in bench/results/retrain_recipes_gpu.jsonl came from an H200 with the JAX
backend, t22 at 6 epochs with the torch backend). One seed per recipe; prints one JSON line each.

    python bench/retrain_recipes.py --only t22 --epochs 6             # on this CPU, TensorFlow
    KERAS_BACKEND=jax python bench/retrain_recipes.py --jobs 3         # every recipe
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from concurrent.futures import ProcessPoolExecutor, as_completed
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

# Trial 22 of bench/results/search_speed.db (speed-cnn-defaults): the best of a default study.
T22 = {
    "n_blocks": 1, "filters_1": 46, "convs_per_block": 2, "kernel_size": 5, "batch_norm": False,
    "conv_dropout": 0.2014, "dense_units": 115, "dense_dropout": 0.1995, "l2": 2.04e-06,
    "learning_rate": 0.00251, "batch_size": 64, "lr_schedule": "cosine", "augment": False,
}  # fmt: skip
AUGMENT = {"augment": True, "translate": 0.08, "flip": True}
# A two-block batch-norm ConvNet (Conv64x2-Conv128x2, 3x3), inside the shipped cnn space.
C = {
    "n_blocks": 2, "filters_1": 64, "filters_2": 128, "convs_per_block": 2, "kernel_size": 3, "batch_norm": True,
    "conv_dropout": 0.25, "dense_units": 256, "dense_dropout": 0.3, "l2": 1e-5, "learning_rate": 2e-3,
    "batch_size": 128, "lr_schedule": "cosine", "augment": False,
}  # fmt: skip
# The best MLP of bench/results/mlp-e30 (89.53% at 28 constant-rate epochs), with a cosine schedule.
MLP = {
    "n_layers": 2, "units_1": 600, "dropout_1": 0.31, "units_2": 173, "dropout_2": 0.216, "l2": 3.5e-07,
    "learning_rate": 0.00053, "batch_size": 128, "lr_schedule": "cosine",
}  # fmt: skip
RECIPES: dict[str, tuple[str, dict[str, Any], list[int]]] = {
    "t22": ("cnn", T22, [6, 12, 24]),
    "t22+aug": ("cnn", {**T22, **AUGMENT}, [12, 24, 40]),
    "C-bn-noaug": ("cnn", C, [15, 30]),
    "C-bn-aug": ("cnn", {**C, **AUGMENT, "translate": 0.1}, [15, 30]),
    "mlp-cosine": ("mlp", MLP, [30, 60]),
}


def train(name: str, epochs: int, seed: int, data_dir: str | None) -> dict[str, Any]:
    """Train recipe `name` for `epochs` on all training images; its test accuracy along the way."""
    import keras

    from tuning.data.images import SHAPE as FASHION
    from tuning.data.load import load_fashion_mnist
    from tuning.model.builders import build_model

    arch, params, _ = RECIPES[name]
    keras.utils.set_random_seed(seed)
    data = load_fashion_mnist(data_dir)
    x_train, x_test = data.x_train.astype("float32"), data.x_test.astype("float32")
    y_train, y_test = data.y_train.astype("int32"), data.y_test.astype("int32")
    model = build_model(arch, params, FASHION)
    steps = -(-len(y_train) // params["batch_size"]) * epochs
    rate = params["learning_rate"]
    if params["lr_schedule"] == "cosine":
        rate = keras.optimizers.schedules.CosineDecay(rate, decay_steps=steps)
    model.compile(keras.optimizers.Adam(rate), "sparse_categorical_crossentropy", metrics=["accuracy"])
    curve: list[tuple[int, float, float]] = []

    class Curve(keras.callbacks.Callback):
        def on_epoch_end(self, epoch: int, logs: dict[str, float] | None = None) -> None:
            if (epoch + 1) % max(1, epochs // 6) == 0 or epoch + 1 == epochs:
                test = model.evaluate(x_test, y_test, batch_size=1000, verbose=0)[1]
                curve.append((epoch + 1, round(float(test), 4), round(float((logs or {})["accuracy"]), 4)))

    started = time.perf_counter()
    model.fit(x_train, y_train, batch_size=params["batch_size"], epochs=epochs, verbose=0, callbacks=[Curve()])
    return {
        "name": name, "epochs": epochs, "seed": seed, "backend": keras.backend.backend(), "test": curve[-1][1],
        "curve(epoch,test,train)": curve, "params_count": model.count_params(),
        "seconds": round(time.perf_counter() - started, 1),
    }  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--only", nargs="*", choices=sorted(RECIPES), help="recipes to run [default: all]")
    parser.add_argument("--epochs", type=int, nargs="*", help="epoch budgets [default: each recipe's own]")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--jobs", type=int, default=1, help="recipes trained at once (processes)")
    parser.add_argument("--data-dir", default=os.environ.get("TUNE_DATA_DIR"))
    args = parser.parse_args()
    runs = [(n, e) for n in args.only or RECIPES for e in args.epochs or RECIPES[n][2]]
    with ProcessPoolExecutor(args.jobs) as pool:
        futures = [pool.submit(train, name, epochs, args.seed, args.data_dir) for name, epochs in runs]
        for future in as_completed(futures):
            print(json.dumps(future.result()), flush=True)


if __name__ == "__main__":
    main()
