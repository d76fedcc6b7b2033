"""`tune export --robust K`: the K best configurations trained again with more seeds, the best mean exported.

The choice and the record are tested on synthetic studies in milliseconds; the
training on a real four-trial mlp study of 300 images (marked slow).
"""

from __future__ import annotations

import json
import re
import statistics
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import optuna
import pytest
from conftest import assert_clean_error, file_unchanged, invoke_tune
from optuna.distributions import IntDistribution
from optuna.trial import TrialState, create_trial
from test_export import FORMAT_1

from tuning import api, attrs
from tuning.errors import TuneError
from tuning.results.export import Export
from tuning.results.robust import (
    RobustConfig,
    choose,
    extra_seeds,
    prepare_robust,
    robust_export,
    top_trials,
)
from tuning.search.trial import trial_seed

# --- without training ----------------------------------------------------------


def _study(*trials: tuple[int, float | None]) -> optuna.Study:
    """An in-memory study of complete trials with parameter x and these values; None: a pruned trial.

    Each trial has one check: a complete one's value there, a pruned one's 0.99, which counts
    only where candidates are ranked at that check.
    """
    study = optuna.create_study(direction="maximize", study_name="synthetic")
    for x, value in trials:
        state = TrialState.COMPLETE if value is not None else TrialState.PRUNED
        intermediate = {1: 0.99 if value is None else value}
        study.add_trial(
            create_trial(
                params={"x": x},
                distributions={"x": IntDistribution(0, 10)},
                value=value,
                state=state,
                intermediate_values=intermediate,
            )
        )
    return study


def test_extra_seeds_are_reproducible_and_distinct_from_every_trials_own() -> None:
    seeds = extra_seeds(7, 3, 4)
    assert seeds == extra_seeds(7, 3, 4) and len(set(seeds)) == 4
    own = {trial_seed(7, number) for number in range(10_000)}
    assert own.isdisjoint(seeds)
    others = {seed for number in range(50) if number != 3 for seed in extra_seeds(7, number, 4)}
    assert others.isdisjoint(seeds)
    assert all(0 <= seed < 2**31 for seed in extra_seeds(2**31 - 1, 10**6, 3))


def test_top_trials_are_distinct_configurations_best_first() -> None:
    # trial 0: x=1 0.80; 1: x=2 0.90; 2: x=2 0.85 (same config as 1); 3: pruned; 4: x=3 0.90 (ties 1); 5: x=4 0.70
    study = _study((1, 0.80), (2, 0.90), (2, 0.85), (5, None), (3, 0.90), (4, 0.70))
    top, ranked_on = top_trials(study, 4)
    ranked = [trial.number for trial in top]
    assert ranked_on.check is None  # four configurations completed: the pruned trial's 0.99 does not count
    assert ranked[0] == study.best_trial.number  # the plain rule's pick comes first, even among ties
    assert sorted(ranked[:2]) == [1, 4] and ranked[2:] == [0, 5]
    assert [trial.number for trial in top_trials(study, 1)[0]] == [study.best_trial.number]


def test_where_fewer_completed_the_candidates_are_the_best_trial_and_the_best_at_a_check() -> None:
    # trial 0: x=1 0.80; 1: x=2 pruned, 0.99 at check 1; 2: x=3 0.90 (the best complete); 3: x=4 pruned
    top, ranked_on = top_trials(_study((1, 0.80), (2, None), (3, 0.90), (4, None)), 3)
    assert ranked_on.check == 1 and len(ranked_on.trials) == 4
    assert [trial.number for trial in top] == [2, 1, 3]  # the plain pick, then the best at check 1


@pytest.mark.parametrize(
    ("trials", "k", "message"),
    [
        (((1, 0.8), (2, 0.9), (3, None)), 4, r"robust=4 and study 'synthetic' has 3 with a validation check \(2 comp"),
        (((1, 0.8), (1, 0.9), (2, 0.7)), 3, r"has 2 with a validation check \(3 complete trial\(s\)\)$"),
        (((1, 0.8),), 0, "robust must be a whole number >= 1, but got robust=0"),
        (((1, None),), 1, "has no complete trial yet"),
    ],
)
def test_asking_for_more_candidates_than_there_are_says_how_many(trials: Any, k: int, message: str) -> None:
    with pytest.raises(TuneError, match=message):
        top_trials(_study(*trials), k)


@pytest.mark.parametrize(
    ("settings", "message"),
    [({"robust": 0}, "robust=0"), ({"robust": 2, "robust_seeds": 0}, "robust_seeds=0"), ({"robust": True}, "True")],
)
def test_config_refuses_bad_counts(settings: dict[str, Any], message: str) -> None:
    with pytest.raises(TuneError, match=message):
        RobustConfig(**settings)


@pytest.mark.parametrize(("means", "index"), [([0.5, 0.7, 0.6], 1), ([0.7, 0.6, 0.7], 0), ([0.4], 0)])
def test_choose_is_the_best_mean_and_the_plain_pick_on_a_tie(means: list[float], index: int) -> None:
    assert choose(means) == index


def _robust_record(chosen: int = 0) -> dict[str, Any]:
    scores = {0: [0.5, 0.6, 0.7], 4: [0.55, 0.5, 0.5]}
    return {
        "robust_seeds": 2,
        "chosen_trial": chosen,
        "plain_trial": 4,
        "candidates": [
            {"trial": t, "epochs": 1, "seeds": [t, t + 1000003, t + 2000006], "val_accuracies": s, "mean": sum(s) / 3}
            for t, s in sorted(scores.items(), key=lambda item: -item[1][0])
        ],
    }


def test_an_export_with_a_robust_record_round_trips(tmp_path: Path) -> None:
    data = {**json.loads(FORMAT_1.read_text()), "robust": _robust_record()}
    export = Export.from_dict(data, "test")
    assert export.robust is not None and export.robust.candidates[0].trial == 4
    assert Export.read(export.write(tmp_path / "r.json")).to_dict() == data
    at_check = {**data, "robust": {**_robust_record(), "ranked_at_check": 4}}  # candidates ranked at check 4
    assert Export.read(Export.from_dict(at_check, "test").write(tmp_path / "c.json")).to_dict() == at_check
    plain = Export.read(FORMAT_1)  # written before the field existed: still read, and written without it
    assert plain.robust is None and "robust" not in plain.to_dict()


def _spoil_mean(record: dict[str, Any]) -> dict[str, Any]:
    record["candidates"][1]["mean"] = 0.9
    return record


@pytest.mark.parametrize(
    ("spoil", "message"),
    [
        (_spoil_mean, "'mean' is not the mean of its val_accuracies"),
        (lambda r: r | {"chosen_trial": 4}, "'chosen_trial' 4 is not its best_trial"),
        (lambda r: r | {"plain_trial": 9}, "must be among its candidates"),
        (lambda r: {k: v for k, v in r.items() if k != "plain_trial"}, "'robust' must be an object with the keys"),
        (lambda r: r | {"candidates": []}, "'candidates' must be a non-empty list"),
    ],
)
def test_spoilt_robust_records_are_refused(tmp_path: Path, spoil: Any, message: str) -> None:
    path = tmp_path / "e.json"
    path.write_text(json.dumps({**json.loads(FORMAT_1.read_text()), "robust": spoil(_robust_record())}))
    with pytest.raises(TuneError, match=message):
        Export.read(path)


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (["--robust", "0"], "--robust must be a whole number >= 1, but got 0"),
        (["--robust", "2", "--robust-seeds", "0"], "--robust-seeds must be a whole number >= 1, but got 0"),
        (["--robust-seeds", "3"], "--robust-seeds needs --robust K"),
    ],
)
def test_bad_robust_options_are_one_line_before_any_storage_is_opened(
    args: list[str], fragment: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    assert_clean_error(invoke_tune(["export", "mlp", *args]), fragment)
    assert list(tmp_path.iterdir()) == []


# --- training ------------------------------------------------------------------


@pytest.fixture(scope="module")
def _data_env(cache_dir: Path, fashion_dir: Path) -> Iterator[None]:
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("TUNE_CACHE_DIR", str(cache_dir))
        patch.setenv("TUNE_DATA_DIR", str(fashion_dir))
        yield


@pytest.fixture(scope="module")
def storage(tmp_path_factory: pytest.TempPathFactory, _data_env: None) -> str:
    """A real four-trial mlp study on 300 images (60 validation images), one epoch per trial."""
    url = f"sqlite:///{tmp_path_factory.mktemp('study')}/s.db"
    api.run("mlp", trials=4, storage=url, epochs=1, max_train_samples=300, seed=0, pruner="none", precision="float32")
    return url


def _db(url: str) -> Path:
    return Path(url.removeprefix("sqlite:///"))


def _complete(url: str) -> list[optuna.trial.FrozenTrial]:
    study = optuna.load_study(study_name="mlp", storage=url)
    return study.get_trials(states=(TrialState.COMPLETE,))


@pytest.mark.slow
def test_robust_export_chooses_the_best_mean_and_records_every_run(storage: str, tmp_path: Path) -> None:
    with file_unchanged(_db(storage)):
        export = api.export("mlp", storage=storage, output=tmp_path / "r.json", robust=2, robust_seeds=2)
    record, trials = export.robust, {t.number: t for t in _complete(storage)}
    assert record is not None and record.robust_seeds == 2
    plain = optuna.load_study(study_name="mlp", storage=storage).best_trial
    assert record.plain_trial == plain.number == record.candidates[0].trial
    ranked = sorted(trials.values(), key=lambda t: -float(t.value or 0))
    assert trials[record.candidates[1].trial].value == ranked[1].value  # the second-best configuration
    seeds = [seed for candidate in record.candidates for seed in candidate.seeds]
    assert len(set(seeds)) == len(seeds) == 6  # distinct, own seed included
    for candidate in record.candidates:
        trial = trials[candidate.trial]
        assert candidate.seeds[0] == trial.user_attrs[attrs.SEED] and candidate.epochs == 1
        assert candidate.val_accuracies[0] == trial.value and len(candidate.val_accuracies) == 3
        assert all(0 < score <= 1 for score in candidate.val_accuracies)
        assert candidate.mean == pytest.approx(statistics.fmean(candidate.val_accuracies))
    means = [candidate.mean for candidate in record.candidates]
    assert record.chosen_trial == record.candidates[choose(means)].trial == export.best_trial
    assert export.params == trials[export.best_trial].params
    assert export.best_val_accuracy == trials[export.best_trial].value
    assert Export.read(tmp_path / "r.json") == export
    assert json.loads((tmp_path / "r.json").read_text())["robust"]["chosen_trial"] == export.best_trial


@pytest.mark.slow
def test_a_run_with_the_trials_own_seed_reproduces_its_value(storage: str) -> None:
    """The runs train as the search did: same split, epochs, precision, checks; only the seed differs."""
    study = optuna.load_study(study_name="mlp", storage=storage)
    prepared = prepare_robust(study, RobustConfig(robust=2, robust_seeds=1))
    assert len(prepared.split.y_train) == study.best_trial.user_attrs[attrs.TRAIN_SAMPLES] == 300
    own_seeds = replace(prepared, candidates=tuple(replace(p, extra_seeds=(p.seed,)) for p in prepared.candidates))
    record = robust_export(own_seeds).robust
    assert record is not None
    for candidate in record.candidates:
        assert candidate.val_accuracies[1] == pytest.approx(candidate.val_accuracies[0], abs=1e-6)


@pytest.mark.slow
def test_export_robust_command_prints_the_candidates(
    storage: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    with file_unchanged(_db(storage)):
        result = invoke_tune(["export", "mlp", "--storage", storage, "--robust", "2", "--robust-seeds", "1"])
    assert result.returncode == 0, result.stderr
    record = json.loads((tmp_path / "exports" / "mlp.json").read_text())["robust"]
    assert "2 runs on 300 images, validating on 60" in result.stdout
    for candidate in record["candidates"]:
        row = f"{candidate['trial']} +{re.escape(', '.join(map(str, candidate['seeds'])))} .*{candidate['mean']:.4f}"
        assert re.search(f"^{row}", result.stdout, re.MULTILINE)  # a plain table: stdout is not a terminal
    same = record["chosen_trial"] == record["plain_trial"]
    verdict = "the same as the plain best" if same else f"differs from the plain best, trial {record['plain_trial']}"
    assert f"robust choice: trial {record['chosen_trial']} " in result.stdout and verdict in result.stdout
    assert f"wrote exports/mlp.json: trial {record['chosen_trial']}," in result.stdout


@pytest.mark.slow
def test_more_candidates_than_complete_trials_is_one_line(storage: str, tmp_path: Path) -> None:
    with file_unchanged(_db(storage)):
        result = invoke_tune(["export", "mlp", "--storage", storage, "--robust", "9", "-o", str(tmp_path / "r.json")])
    assert_clean_error(
        result,
        "--robust must be at most the number of configurations tried, but got 9 and study 'mlp' has 4 with a "
        "validation check (4 complete trial(s))",
    )
    assert not (tmp_path / "r.json").exists()
