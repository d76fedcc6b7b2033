"""Several validations per epoch: how a pass is split into checks, and training with them."""

from __future__ import annotations

import keras
import pytest

from tuning.attrs import curve_of
from tuning.data.images import SHAPE as FASHION
from tuning.data.splits import train_validation_split
from tuning.model.builders import build_model
from tuning.model.callbacks import EpochRecorder
from tuning.model.params import resolve_params
from tuning.model.train import CheckPlan, check_plan, fit


@pytest.mark.parametrize(
    ("batches", "asked", "execution", "expected"),
    [
        (782, 4, 32, CheckPlan(4, 196, 28)),  # 50,000 images in batches of 64: 196 + 196 + 196 + 194
        (391, 4, 32, CheckPlan(4, 100, 25)),  # batches of 128: 100 + 100 + 100 + 91, not 128 * 3 + 7
        (196, 4, 32, CheckPlan(4, 50, 25)),
        (1563, 4, 32, CheckPlan(4, 403, 31)),  # batches of 32: 403 * 3 + 354
        (1000, 4, 32, CheckPlan(4, 256, 32)),
        (782, 1, 32, CheckPlan(1, None, 32)),  # one check: a plain epoch
        (20, 4, 32, CheckPlan(4, 5, 5)),  # executions shrink to fit a check
        (5, 4, 32, CheckPlan(3, 2, 2)),  # too few batches for 4 equal parts: 2 + 2 + 1
        (1, 4, 32, CheckPlan(1, None, 32)),
    ],
)
def test_check_plan(batches: int, asked: int, execution: int, expected: CheckPlan) -> None:
    plan = check_plan(batches, asked, execution)
    assert plan == expected
    if plan.steps_per_check:  # the checks cover the pass exactly, the last one possibly shorter
        last = batches - (plan.checks_per_epoch - 1) * plan.steps_per_check
        assert 0 < last <= plan.steps_per_check
        assert plan.steps_per_check % plan.steps_per_execution == 0
        assert plan.steps_per_execution <= execution
        if batches >= 3 * asked * execution:  # on real data, no check is much shorter than an equal part
            assert last >= 0.85 * batches / asked and plan.steps_per_check <= 1.05 * batches / asked


def test_curve_of_reads_per_check_and_older_per_epoch_records() -> None:
    new = curve_of(
        {
            "checks_per_epoch": 4,
            "check_seconds": [1.0, 1.0],
            "val_accuracy_per_check": [0.5, 0.6],
            "val_loss_per_check": [2, 1],
        }
    )
    assert new.epochs == [0.25, 0.5] and new.val_accuracy == [0.5, 0.6] and new.val_loss == [2, 1]
    old = curve_of(
        {"epoch_seconds": [3.0, 4.0], "val_accuracy_per_epoch": [0.7, 0.8], "train_accuracy_per_epoch": [0.6, 0.9]}
    )
    assert old.checks_per_epoch == 1 and old.epochs == [1, 2] and old.seconds == [3.0, 4.0]
    assert old.train_accuracy == [0.6, 0.9] and old.train_loss == []


@pytest.mark.slow
def test_fit_validates_on_the_whole_split_at_every_check(fashion) -> None:  # type: ignore[no-untyped-def]
    split = train_validation_split(fashion.x_train, fashion.y_train, max_train_samples=1000, seed=0)
    keras.utils.set_random_seed(0)
    params = resolve_params("mlp", {"n_layers": 1, "units_1": 64, "batch_size": 50, "lr_schedule": "cosine"})
    seen: list[float] = []
    recorder = EpochRecorder(lambda epoch, logs: seen.append(epoch))
    model = build_model("mlp", params, FASHION)
    result = fit(model, params, split, epochs=2, recorder=recorder, checks_per_epoch=4)  # 20 batches: 5 + 5 + 5 + 5
    assert seen == [0.25, 0.5, 0.75, 1, 1.25, 1.5, 1.75, 2]
    assert result.checks_per_epoch == 4 and len(result.history["val_accuracy"]) == len(result.epoch_seconds) == 8
    assert result.best_epoch == -(-result.best_check // 4) and 1 <= result.best_epoch <= 2
    assert len(split.y_train) == 1000
    assert int(model.optimizer.iterations) == 2 * 20  # two whole passes, no batch skipped or repeated
    assert float(model.optimizer.learning_rate) == pytest.approx(0.0, abs=1e-9)  # the cosine ran over both passes
    evaluated = model.evaluate(split.x_val, split.y_val, verbose=0, return_dict=True)
    assert result.history["val_accuracy"][-1] == pytest.approx(evaluated["accuracy"], abs=1e-6)  # the whole split


def test_batches_cover_a_pass_once_in_a_new_order_each_pass_without_autotuning() -> None:
    import numpy as np

    from tuning.model.train import batched

    keras.utils.set_random_seed(0)
    x = np.arange(10, dtype=np.uint8).reshape(10, 1, 1) * 3
    y = np.arange(10, dtype=np.uint8)
    dataset = batched(x, y, 4, shuffle=True)
    assert int(dataset.cardinality()) == 3  # 4 + 4 + 2: Keras knows where a pass ends
    assert dataset.options().autotune.enabled is False  # no tuning thread for a released iterator to wait on
    passes = [[(bx.numpy().ravel().tolist(), by.numpy().tolist()) for bx, by in dataset] for _ in range(2)]
    for one in passes:
        assert [len(by) for _, by in one] == [4, 4, 2]
        assert sorted(label for _, by in one for label in by) == list(range(10))  # each image once
        assert all(bx == [3 * label for label in by] for bx, by in one)  # images stay with their labels
    assert passes[0] != passes[1]  # reshuffled
    plain = [by.numpy().tolist() for _, by in batched(x, y, 4, shuffle=False)]
    assert plain == [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9]]
