"""`tune report` on two real studies, one retrained (which notes itself on its study), opened in headless Chromium."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import optuna
import optuna_dashboard
import pytest
from conftest import assert_clean_error, invoke_tune
from optuna.artifacts import get_all_artifact_meta

from tuning.render import find_chromium
from tuning.report.browser import open_page
from tuning.results.export import Export
from tuning.results.retrain import RetrainConfig, prepare_retrain, retrain
from tuning.search.config import RunConfig
from tuning.search.runner import prepare_run, run_study

pytestmark = pytest.mark.chromium  # the report's PNG snapshot and the page in Chromium


@pytest.fixture(scope="module")
def searched(tmp_path_factory: pytest.TempPathFactory, cache_dir: Path, fashion_dir: Path) -> Iterator[Path]:
    """studies.db with two small mlp studies; mlp-a retrained (2 seeds) into models/mlp-a/."""
    root = tmp_path_factory.mktemp("report")
    storage = f"sqlite:///{root / 'studies.db'}"
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("TUNE_CACHE_DIR", str(cache_dir))
        for name in ("mlp-a", "mlp-b"):
            config = RunConfig(
                arch="mlp",
                study_name=name,
                trials=2,
                epochs=1,
                max_train_samples=300,
                seed=0,
                pruner="none",
                storage=storage,
                data=str(fashion_dir),
                precision="float32",
            )
            run_study(prepare_run(config))
        export = Export.from_study(optuna.load_study(study_name="mlp-a", storage=storage)).write(root / "mlp-a.json")
        settings = RetrainConfig(
            str(export),
            seeds=2,
            max_train_samples=300,
            output_dir=str(root / "models" / "mlp-a"),
            data=str(fashion_dir),
            storage=storage,
        )
        retrain(prepare_retrain(settings))
        yield root


@pytest.mark.slow  # uses the real searches and retrain of `searched`
def test_retrain_notes_its_result_and_figures_on_the_study(searched: Path) -> None:
    storage = f"sqlite:///{searched / 'studies.db'}"
    study = optuna.load_study(study_name="mlp-a", storage=storage)
    note = optuna_dashboard.get_note(study)
    assert note.startswith("## Retrained: test accuracy 0.") and "over 2 seed(s)" in note
    assert f"`{(searched / 'models' / 'mlp-a' / 'model.keras').resolve()}`" in note
    assert f"`{(searched / 'mlp-a.json').resolve()}`" in note
    names = {meta.filename for meta in get_all_artifact_meta(study)}
    if find_chromium() is not None:
        assert names == {"confusion_matrix.png", "history.png"}
    assert optuna_dashboard.get_note(optuna.load_study(study_name="mlp-b", storage=storage)) == ""


@pytest.mark.slow  # uses the real searches and retrain of `searched`
def test_report_renders_both_studies_in_chromium(searched: Path) -> None:
    if find_chromium() is None:
        pytest.skip("no Chromium installed")
    out = searched / "out" / "report.html"
    result = invoke_tune(
        ["report", "--storage", str(searched / "studies.db"), "--models", str(searched / "models"), "-o", str(out)]
    )
    assert result.returncode == 0, result.stderr
    assert "2 studies, 1 with a retrained model" in result.stdout
    page_source = out.read_text()
    assert 'src="http' not in page_source and page_source.count("<script") >= 5  # plotly.js inlined: opens offline
    assert out.with_suffix(".png").read_bytes().startswith(b"\x89PNG")
    page = open_page(out.resolve().as_uri(), wait_for="document.querySelectorAll('.js-plotly-plot').length >= 5")
    assert page.ready and page.errors == (), page.errors
    assert page.figures == 5  # accuracy, progress, importances, per-class accuracy, confusion matrices
    for text in ("mlp-a", "mlp-b", "not retrained", "(2 seeds)", "hand-tuned ConvNet 91.85%", "Google AutoML 93.90%"):
        assert text in page.text, text


@pytest.mark.slow  # uses the real searches and retrain of `searched`
def test_report_of_an_unknown_study_is_one_line(searched: Path) -> None:
    result = invoke_tune(["report", "nope", "--storage", str(searched / "studies.db")])
    assert_clean_error(result, "no study named 'nope'", "mlp-a, mlp-b")


def test_report_bad_input_is_one_line(tmp_path: Path) -> None:
    db = tmp_path / "studies.db"
    optuna.create_study(study_name="s", storage=f"sqlite:///{db}")
    missing = invoke_tune(["report", "--storage", str(db), "--models", str(tmp_path / "nope")])
    assert_clean_error(missing, f"--models {tmp_path / 'nope'}: no such folder")
    (tmp_path / "file").write_text("")
    unwritable = invoke_tune(["report", "--storage", str(db), "-o", str(tmp_path / "file" / "report.html")])
    assert_clean_error(unwritable, "cannot write")
    empty = tmp_path / "empty.db"
    optuna.storages.RDBStorage(f"sqlite:///{empty}")
    assert_clean_error(invoke_tune(["report", "--storage", str(empty)]), "no studies in this storage")


def test_a_study_without_complete_trials_is_shown_with_what_it_has() -> None:
    from optuna.distributions import FloatDistribution
    from optuna.trial import TrialState, create_trial

    from tuning.report.collect import compare_study
    from tuning.report.report import report_html

    study = optuna.create_study(study_name="young", direction="maximize")
    pruned = create_trial(
        state=TrialState.PRUNED,
        params={"lr": 0.01},
        distributions={"lr": FloatDistribution(1e-4, 1.0)},
        intermediate_values={1: 0.61},
    )
    study.add_trial(pruned)
    row = compare_study(study, None)
    assert (row.best_value, row.best_trial, row.importances, row.retrained) == (None, None, {}, None)
    assert row.counts["PRUNED"] == 1 and [value for _, value in row.progress] == [0.61]
    page = report_html([row])
    assert "young" in page and "not retrained" in page and page.count('class="plotly-graph-div"') == 2


def test_importances_say_which_trials_they_rest_on() -> None:
    from optuna.distributions import FloatDistribution
    from optuna.trial import TrialState, create_trial

    from tuning.report.collect import compare_study
    from tuning.report.report import report_html

    study = optuna.create_study(study_name="halved", direction="maximize")
    for i, lr in enumerate([0.01, 0.02, 0.05, 0.1, 0.2]):
        checks = {1: 0.5 + lr, 2: 0.6 + lr} if i < 2 else {1: 0.5 + lr}  # two complete, three pruned at check 1
        study.add_trial(
            create_trial(
                state=TrialState.COMPLETE if i < 2 else TrialState.PRUNED,
                params={"lr": lr, "momentum": 0.9 - 0.1 * (i % 2)},
                distributions={"lr": FloatDistribution(1e-4, 1.0), "momentum": FloatDistribution(0.0, 1.0)},
                value=max(checks.values()),
                intermediate_values=checks,
            )
        )
    row = compare_study(study, None)
    assert row.importances_over == "5 trials at epoch 1 (check 1)"
    assert set(row.importances) == {"lr", "momentum"}
    assert "over 5 trials at epoch 1 (check 1)" in report_html([row])  # under the study's name


def test_a_report_shows_published_numbers_only_for_the_data_they_belong_to() -> None:
    from optuna.distributions import FloatDistribution
    from optuna.trial import create_trial

    from tuning import attrs
    from tuning.report.collect import compare_study
    from tuning.report.report import report_html

    rows = []
    for name, data in (("digits-study", "digits"), ("fashion-study", None)):
        study = optuna.create_study(study_name=name, direction="maximize")
        if data is not None:
            study.set_user_attr(attrs.DATA_NAME, data)
        trial = create_trial(params={"lr": 0.01}, distributions={"lr": FloatDistribution(1e-4, 1.0)}, value=0.98)
        study.add_trial(trial)
        rows.append(compare_study(study, None))
    digits_page = report_html(rows[:1])
    assert "<h1>Searches on digits: digits-study</h1>" in digits_page
    assert "No published test accuracies" in digits_page and "Google AutoML" not in digits_page
    fashion_page = report_html(rows[1:])  # a study older than other data: Fashion-MNIST
    assert (
        "<h1>Searches on fashion-mnist: fashion-study</h1>" in fashion_page and "Google AutoML 93.90%" in fashion_page
    )
    both = report_html(rows)
    assert "Searches on digits, fashion-mnist" in both and "Google AutoML" not in both
