"""A user's own images through the whole pipeline: search, export, retrain, evaluate, with no Fashion-MNIST in sight.

scikit-learn's real 8x8 digits as a `.npz`, real Fashion-MNIST images written as PNG folders,
and the same images tinted into three channels.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import optuna
import pytest
from conftest import assert_clean_error, file_unchanged, invoke_tune

from tuning import attrs
from tuning.data.dataset import Dataset

pytestmark = [
    pytest.mark.slow,  # real training
    pytest.mark.filterwarnings("ignore:__array__ implementation:DeprecationWarning"),
]


def test_digits_from_an_npz_search_export_retrain_and_evaluate_on_themselves(in_tmp: Path) -> None:
    import sys

    sys.path.insert(0, str(Path(__file__).parents[1] / "data"))
    from real_images import DIGITS_TEST, digits_arrays, write_digits_npz

    digits = write_digits_npz(in_tmp / "digits.npz")
    run = invoke_tune(["run", "cnn", "--data", str(digits), "--trials", "2", "--epochs", "2", "--seed", "0"])
    assert run.returncode == 0, run.stderr
    assert "images of digits (8x8 grey, 10 classes)" in run.stdout
    study = optuna.load_study(study_name="cnn", storage="sqlite:///studies.db")
    stored = study.user_attrs
    assert stored[attrs.DATA_NAME] == "digits" and stored[attrs.IMAGE_SHAPE] == [8, 8]
    assert stored[attrs.CLASS_NAMES] == list("0123456789")
    trials = study.get_trials()
    assert not any(t.user_attrs.get(attrs.START) for t in trials)  # Fashion-MNIST's [start] is not digits'
    assert all(t.params["n_blocks"] <= 2 for t in trials)  # 8x8 images take two pooling blocks

    export = invoke_tune(["export", "cnn"])
    assert export.returncode == 0, export.stderr
    exported = json.loads((in_tmp / "exports" / "cnn.json").read_text())
    assert exported["data"]["name"] == "digits" and exported["data"]["image_shape"] == [8, 8]

    retrain = invoke_tune(["retrain", "exports/cnn.json", "--epochs", "12", "--output-dir", "model"])
    assert retrain.returncode == 0, retrain.stderr
    metrics = json.loads((in_tmp / "model" / "metrics.json").read_text())
    assert metrics["data"]["name"] == "digits" and list(metrics["per_class_accuracy"]) == list("0123456789")
    assert sum(map(sum, metrics["confusion_matrix"])) == DIGITS_TEST
    assert metrics["test_accuracy_mean"] > 0.5  # ten classes: chance is 0.1

    evaluate = invoke_tune(["evaluate", "model/model.keras"])  # the data recorded beside the model
    assert evaluate.returncode == 0, evaluate.stderr
    assert f"on {DIGITS_TEST} images" in evaluate.stdout

    x_train, _, x_test, _ = digits_arrays()
    inverted = write_digits_npz(in_tmp / "inverted.npz", x_train=255 - x_train, x_test=255 - x_test)
    args = ["retrain", "exports/cnn.json", "--data", str(inverted), "--epochs", "1", "--output-dir", "inverted"]
    assert_clean_error(invoke_tune(args), "are not the files study 'cnn' searched on", "--accept-other-data")
    assert invoke_tune([*args, "--accept-other-data"]).returncode == 0  # the configuration, on other digits
    with file_unchanged(in_tmp / "studies.db"):  # the study searched digits: Fashion-MNIST may not join it
        refused = invoke_tune(["run", "cnn", "--trials", "4", "--epochs", "2"])
    assert_clean_error(refused, "study 'cnn' searched digits from", "resume it on the same --data")


def test_png_folders_grey_and_colour_search_and_retrain(in_tmp: Path, fashion: Dataset) -> None:
    import sys

    sys.path.insert(0, str(Path(__file__).parents[1] / "data"))
    from real_images import write_png_folder

    picked = np.concatenate([np.flatnonzero(fashion.y_train == c)[:200] for c in range(10)])
    test = np.concatenate([np.flatnonzero(fashion.y_test == c)[:50] for c in range(10)])
    grey = {  # 2,500 real images as PNG files
        "train": (fashion.x_train[picked], fashion.y_train[picked]),
        "test": (fashion.x_test[test], fashion.y_test[test]),
    }
    folder = write_png_folder(in_tmp / "clothes", grey, fashion.class_names)
    run = invoke_tune(["run", "mlp", "--data", str(folder), "--trials", "2", "--epochs", "1", "--seed", "0"])
    assert run.returncode == 0, run.stderr
    assert "images of clothes (28x28 grey, 10 classes)" in run.stdout
    assert invoke_tune(["export", "mlp"]).returncode == 0
    retrain = invoke_tune(["retrain", "exports/mlp.json", "--epochs", "1", "--output-dir", "model"])
    assert retrain.returncode == 0, retrain.stderr
    metrics = json.loads((in_tmp / "model" / "metrics.json").read_text())
    assert "T-shirt-top" in metrics["per_class_accuracy"] and sum(map(sum, metrics["confusion_matrix"])) == 500

    # 32x32 colour: the real images with a 2-pixel border, tinted into three channels (a tenth of them).
    tinted = {}
    for part, (x, y) in grey.items():
        padded = np.pad(x[::10], ((0, 0), (2, 2), (2, 2)))
        tinted[part] = (np.stack([padded, padded // 2, 255 - padded], axis=-1), y[::10])
    colour = write_png_folder(in_tmp / "tinted", tinted, fashion.class_names)
    args = ["run", "cnn", "--data", str(colour), "--study", "colour", "--trials", "1", "--epochs", "1"]
    run = invoke_tune([*args, "--no-defaults-first"])
    assert run.returncode == 0, run.stderr
    assert "images of tinted (32x32 3 channels, 10 classes)" in run.stdout
    (trial,) = optuna.load_study(study_name="colour", storage="sqlite:///studies.db").get_trials()
    assert trial.state.name == "COMPLETE"


def test_csvs_of_another_shape_are_retrained_in_the_shape_searched(in_tmp: Path) -> None:
    import sys

    sys.path.insert(0, str(Path(__file__).parents[1] / "data"))
    from real_images import digits_arrays

    x_train, y_train, x_test, y_test = digits_arrays()
    for name, x, y in (("a_train.csv", x_train, y_train), ("a_test.csv", x_test, y_test)):
        colour = np.stack([x, x // 2, 255 - x], axis=-1).reshape(len(y), -1)
        header = ",".join(["label", *(f"p{i}" for i in range(colour.shape[1]))])
        (in_tmp / "csv").mkdir(exist_ok=True)
        np.savetxt(
            in_tmp / "csv" / name, np.column_stack([y, colour]), fmt="%d", delimiter=",", header=header, comments=""
        )
    args = ["run", "mlp", "--data", "csv", "--image-shape", "8x8x3", "--trials", "1", "--epochs", "1"]
    run = invoke_tune(args)
    assert run.returncode == 0, run.stderr
    assert "images of csv (8x8 3 channels, 10 classes)" in run.stdout
    assert invoke_tune(["export", "mlp"]).returncode == 0
    retrain = invoke_tune(["retrain", "exports/mlp.json", "--epochs", "1", "--output-dir", "model"])
    assert retrain.returncode == 0, retrain.stderr  # read again as 8x8x3, as recorded
    assert invoke_tune(["evaluate", "model/model.keras"]).returncode == 0
