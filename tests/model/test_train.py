from __future__ import annotations

import keras
import pytest

from tuning.data.images import SHAPE as FASHION
from tuning.data.splits import train_validation_split
from tuning.errors import TrialFailed
from tuning.model.builders import build_model
from tuning.model.callbacks import EpochRecorder
from tuning.model.params import resolve_params
from tuning.model.train import fit

pytestmark = pytest.mark.slow  # every test here trains a real model


@pytest.fixture(scope="module")
def small_split(fashion):  # type: ignore[no-untyped-def]
    return train_validation_split(fashion.x_train, fashion.y_train, max_train_samples=1000, seed=0)


def test_fit_learns_and_records_every_epoch(small_split) -> None:  # type: ignore[no-untyped-def]
    keras.utils.set_random_seed(0)
    params = resolve_params("mlp", {"n_layers": 1, "units_1": 128, "learning_rate": 3e-3})
    seen = []
    recorder = EpochRecorder(lambda epoch, logs: seen.append(epoch))
    result = fit(build_model("mlp", params, FASHION), params, small_split, epochs=3, recorder=recorder)
    assert seen == [1, 2, 3]
    assert len(result.history["val_accuracy"]) == len(result.epoch_seconds) == 3
    assert result.best_val_accuracy > 0.6  # 10 classes: chance is 0.1
    assert result.history["val_accuracy"][result.best_epoch - 1] == result.best_val_accuracy


def test_nan_loss_fails_the_trial(small_split) -> None:  # type: ignore[no-untyped-def]
    keras.utils.set_random_seed(0)
    params = resolve_params("mlp", {"learning_rate": 1e8, "l2": 1e-3})
    recorder = EpochRecorder()
    with pytest.raises(TrialFailed, match="loss became NaN at epoch 1"):
        fit(build_model("mlp", params, FASHION), params, small_split, epochs=5, recorder=recorder)
    assert len(recorder.epoch_seconds) == 1  # training stopped at the first NaN


@pytest.mark.parametrize(("schedule", "final_fraction"), [("constant", 1.0), ("cosine", 0.0)])
def test_learning_rate_schedule(small_split, schedule: str, final_fraction: float) -> None:  # type: ignore[no-untyped-def]
    keras.utils.set_random_seed(0)
    params = resolve_params("mlp", {"n_layers": 1, "learning_rate": 2e-3, "lr_schedule": schedule})
    model = build_model("mlp", params, FASHION)
    result = fit(model, params, small_split, epochs=2, recorder=EpochRecorder())
    assert result.best_val_accuracy > 0.5
    assert float(model.optimizer.learning_rate) == pytest.approx(2e-3 * final_fraction, abs=1e-9)
