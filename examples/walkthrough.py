"""tune from Python, end to end, on your own model and your own images.

The model is the residual ConvNet in residual/models.py (with its space, residual/space.toml);
the images are scikit-learn's 1,797 real 8x8 handwritten digits, saved as a `.npz` the way
you would save yours. Search, export the best configuration, retrain it, evaluate it on the
test images, and write the importance plots:

    python examples/walkthrough.py            # in ./walkthrough/, a few minutes on a laptop
    python examples/walkthrough.py --trials 8 --epochs 3 --workdir /tmp/w
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))  # so that `residual.models` imports, as your own package would

from residual.models import build  # noqa: E402

import tuning  # noqa: E402


def save_digits(path: Path) -> Path:
    """Your data as tune reads it: x_train, y_train, x_test, y_test (uint8 pixels 0-255) and class names."""
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    digits = load_digits()
    images = np.round(digits.images * 255 / 16).astype(np.uint8)  # 16 grey levels -> 0-255
    x_train, x_test, y_train, y_test = train_test_split(
        images, digits.target, test_size=360, stratify=digits.target, random_state=0
    )
    names = np.array([str(d) for d in range(10)])
    np.savez(path, x_train=x_train, y_train=y_train, x_test=x_test, y_test=y_test, class_names=names)
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--workdir", type=Path, default=Path("walkthrough"))
    parser.add_argument("--trials", type=int, default=20)
    parser.add_argument("--epochs", type=int, default=None, help="default: the model's own (build.epochs)")
    args = parser.parse_args()
    work = args.workdir
    work.mkdir(parents=True, exist_ok=True)
    storage = f"sqlite:///{work / 'studies.db'}"
    data = save_digits(work / "digits.npz")

    study = tuning.run(
        build,
        space=HERE / "residual" / "space.toml",
        data=data,
        study="residual",
        storage=storage,
        trials=args.trials,
        seed=0,
        **({"epochs": args.epochs} if args.epochs else {}),
    )
    print(f"searched: {len(study.trials)} trials, best validation accuracy {study.best_value:.4f}")

    best = tuning.export("residual", storage=storage, output=work / "residual.json")
    print(f"best configuration: {best.params}")

    result = tuning.retrain(work / "residual.json", output_dir=str(work / "model"), storage=storage)
    print(f"retrained: test accuracy {result.accuracy_mean:.4f}, model in {result.output_dir}")

    evaluation = tuning.evaluate(work / "model" / "model.keras")  # the data recorded beside the model
    print(f"evaluated again: {evaluation.accuracy:.4f} on {evaluation.n_images} test images")

    written = tuning.plots("residual", storage=storage, output=work / "plots")
    print(f"plots: {', '.join(path.name for path in written)}")


if __name__ == "__main__":
    main()
