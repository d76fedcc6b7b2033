"""The dashboard notes' words: configuration and how a trial ended, from what the trial stored."""

from __future__ import annotations

import pytest

from tuning.search.notes import TrialEnding, describe_config, pruned_reason, trial_note

STORED = {
    "arch": "cnn",
    "n_params": 421642,
    "checks_per_epoch": 4,
    "epochs_run": 1.25,
    "precision": "bfloat16",
    "val_accuracy_per_check": [0.61, 0.7, 0.74, 0.78, 0.77],
}
SETTINGS = {"pruner": "halving", "reduction_factor": 4, "bootstrap_count": 1}
CNN = {"n_blocks": 2, "filters_1": 32, "filters_2": 64, "convs_per_block": 2, "kernel_size": 5, "batch_norm": True}


def test_cnn_configuration_in_words() -> None:
    words = describe_config("cnn", {**CNN, "augment": True, "flip": True, "lr_schedule": "cosine"})
    assert words.startswith("A ConvNet of 2 blocks (32, 64 filters) of 2 5x5 convolutions with batch normalisation")
    assert "augmented by shifts up to 0.1 of the side and flips" in words and "cosine decay to 0" in words


def test_mlp_configuration_in_words() -> None:
    words = describe_config("mlp", {"n_layers": 1, "units_1": 512, "dropout_1": 0.25})
    assert words.startswith("An MLP of 1 dense layer of 512 (dropout 0.25) units, L2 ")


@pytest.mark.parametrize(
    ("ending", "expected"),
    [
        (TrialEnding("complete"), "completed: 1.25 epochs, best validation accuracy 0.7800 after epoch 1."),
        (TrialEnding("pruned"), "pruned after epoch 1.25 (check 5): successive halving stopped it at check 5"),
        (TrialEnding("failed", "loss became NaN at epoch 2"), "failed: loss became NaN at epoch 2, after epoch 1.25."),
        (TrialEnding("failed", "out of memory (3 parameters): OOM"), "failed: out of memory (3 parameters): OOM"),
        (TrialEnding("failed", "interrupted"), "failed: interrupted (Ctrl-C or SIGTERM stopped the run"),
    ],
)
def test_note_says_how_the_trial_ended(ending: TrialEnding, expected: str) -> None:
    note = trial_note(7, "cnn", CNN, STORED, SETTINGS, ending)
    assert note.startswith(f"### Trial 7: {expected.split(':')[0]}\n")
    assert f"**How it ended:** {expected}" in note
    assert "421,642 parameters, trained in bfloat16" in note and "| filters_2 | 64 |" in note
    assert "start configuration" not in note


def test_the_start_trial_says_so() -> None:
    note = trial_note(0, "cnn", CNN, {**STORED, "start": True}, SETTINGS, TrialEnding("complete"))
    assert "**Configuration:** the space's start configuration (its [start] table, tried first). A ConvNet" in note


def test_pruned_reason_names_the_rung() -> None:
    reason = pruned_reason(4, SETTINGS)
    assert reason.startswith("successive halving stopped it at rung 1 (check 4): not in the best 1/4")
    assert "until more than 1 have reached it" in pruned_reason(1, SETTINGS)
    assert pruned_reason(3, {"pruner": "median"}).startswith("the median rule stopped it")
    assert pruned_reason(2, {"pruner": "hyperband", "reduction_factor": 3}).startswith("Hyperband stopped it")
    # a study older than the setting: which factor it ran with is not known, so not said
    assert pruned_reason(4, {"pruner": "halving"}) == "successive halving stopped it at check 4."


def test_an_unknown_ending_is_refused() -> None:
    with pytest.raises(ValueError, match="state="):
        TrialEnding("lost")
