from __future__ import annotations

import json
import math
import re
import subprocess
from pathlib import Path

import optuna
import pytest
from optuna.distributions import BaseDistribution, FloatDistribution
from optuna.trial import TrialState

from tuning.errors import TuneError
from tuning.render import find_chromium
from tuning.report.plots import MIN_TRIALS, RANKED_TRIALS, write_plots
from tuning.search.study import state_counts

optuna.logging.set_verbosity(optuna.logging.WARNING)

PLOTS = [
    "importance_ped_anova",
    "importance_fanova",
    "history",
    "learning_curves",
    "intermediate_values",
    "parallel_coordinate",
]
SPACE = {  # as SearchSpace.to_dict() stores it
    "arch": "cnn",
    "params": [
        {
            "name": "lr",
            "type": "float",
            "low": 1e-4,
            "high": 0.1,
            "log": True,
            "step": None,
            "choices": [],
            "when": None,
        },
        {
            "name": "optimizer",
            "type": "categorical",
            "low": None,
            "high": None,
            "log": False,
            "step": None,
            "choices": ["adam", "sgd"],
            "when": None,
        },
        {
            "name": "units_3",
            "type": "int",
            "low": 16,
            "high": 64,
            "log": False,
            "step": 16,
            "choices": [],
            "when": ["n_layers", [3]],
        },
    ],
}
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def _objective(trial: optuna.Trial) -> float:
    """A cheap stand-in for training: accuracy peaks at lr=3e-3, `units_3` only with 3 layers."""
    lr = trial.suggest_float("lr", 1e-4, 1e-1, log=True)
    n_layers = trial.suggest_int("n_layers", 1, 3)
    optimizer = trial.suggest_categorical("optimizer", ["adam", "sgd"])
    if n_layers == 3:
        trial.suggest_int("units_3", 16, 64)
    if trial.number == 4:
        raise ValueError("simulated failed trial")
    final = 0.92 - 0.04 * abs(math.log10(lr) + 2.5) - (0.02 if optimizer == "sgd" else 0.0)
    curve: dict[str, list[float]] = {"val_accuracy_per_check": [], "train_loss_per_check": []}
    for epoch in range(4):
        trial.report(final - 0.1 / (epoch + 1), epoch)
        curve["val_accuracy_per_check"].append(final - 0.1 / (epoch + 1))
        curve["train_loss_per_check"].append(1.0 / (epoch + 1))
        for key, values in curve.items():  # as tune's objective stores a trial's curve, however it ends
            trial.set_user_attr(key, values)
        if trial.should_prune():
            raise optuna.TrialPruned()
    return final


def _make_study(n_trials: int, storage: str | None = None, name: str = "cnn") -> optuna.Study:
    study = optuna.create_study(
        study_name=name,
        storage=storage,
        direction="maximize",
        sampler=optuna.samplers.RandomSampler(seed=1),
        pruner=optuna.pruners.MedianPruner(n_startup_trials=3, n_warmup_steps=1),
    )
    study.optimize(_objective, n_trials=n_trials, catch=(ValueError,))
    return study


def _fixed_study(rows: list[tuple[dict[str, float], float]]) -> optuna.Study:
    """A study whose complete trials have exactly the given params and accuracies."""
    study = optuna.create_study(study_name="fixed", direction="maximize")
    for params, value in rows:
        distributions: dict[str, BaseDistribution] = {name: FloatDistribution(0.0, 1.0) for name in params}
        study.add_trial(optuna.trial.create_trial(params=params, distributions=distributions, value=value))
    return study


@pytest.fixture(scope="module")
def written(tmp_path_factory: pytest.TempPathFactory) -> tuple[optuna.Study, list[Path]]:
    root = tmp_path_factory.mktemp("plots")
    storage = f"sqlite:///{root / 'studies.db'}"
    _make_study(20, storage=storage)
    study = optuna.load_study(study_name="cnn", storage=storage)
    for key, value in {"arch": "cnn", "space_hash": "ab12<cd>", "data_fingerprint": "f00d", "space": SPACE}.items():
        study.set_user_attr(key, value)
    return study, write_plots(study, root / "out" / "cnn", png=False)


def test_fixture_study_covers_pruned_failed_and_conditional_trials(written: tuple[optuna.Study, list[Path]]) -> None:
    study, _ = written
    counts = state_counts(study.get_trials())
    complete = study.get_trials(states=(optuna.trial.TrialState.COMPLETE,))
    with_units_3 = sum("units_3" in t.params for t in complete)
    assert MIN_TRIALS <= counts["COMPLETE"] < RANKED_TRIALS and counts["PRUNED"] > 0 and counts["FAIL"] == 1
    assert 0 < with_units_3 < len(complete)


def test_writes_every_plot_and_index_first(written: tuple[optuna.Study, list[Path]]) -> None:
    _, paths = written
    assert paths[0].name == "index.html"
    assert sorted(p.name for p in paths[1:]) == sorted([*(f"{name}.html" for name in PLOTS), "plotly.min.js"])
    assert all(p.is_file() and p.stat().st_size > 0 for p in paths)


def test_plot_pages_share_one_local_plotly_js_and_load_nothing_remote(
    written: tuple[optuna.Study, list[Path]],
) -> None:
    _, paths = written
    (shared,) = [p for p in paths if p.name == "plotly.min.js"]
    assert "plotly.js v" in shared.read_text(encoding="utf-8")[:1000] and shared.stat().st_size > 1_000_000
    for path in paths[1:]:
        if path.suffix != ".html":
            continue
        text = path.read_text(encoding="utf-8")
        assert len(text) < 200_000, path.name  # not 4.8 MB of plotly.js each
        assert re.findall(r"<script[^>]*\bsrc=\"([^\"]*)\"", text) == ["plotly.min.js"], path.name
        assert not re.search(r"<link[^>]*\bhref=[\"']?https?:", text), path.name


@pytest.mark.slow  # starts a real Chromium
@pytest.mark.skipif(find_chromium() is None, reason="no Chromium (apt-get install chromium)")
@pytest.mark.chromium
def test_a_page_draws_its_plot_offline_from_the_shared_plotly_js(written: tuple[optuna.Study, list[Path]]) -> None:
    page = next(p for p in written[1] if p.name == "learning_curves.html")
    browser = [str(find_chromium()), "--headless", "--no-sandbox", "--disable-gpu", "--no-proxy-server"]
    dom = subprocess.run(
        [*browser, "--virtual-time-budget=5000", "--dump-dom", page.as_uri()],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    ).stdout
    assert 'class="main-svg"' in dom  # plotly.js loaded from plotly.min.js beside the page, and drew


def test_counts_get_whole_number_axes_and_curves_have_loss_beside_accuracy(
    written: tuple[optuna.Study, list[Path]],
) -> None:
    by_name = {p.stem: p.read_text(encoding="utf-8") for p in written[1] if p.suffix == ".html"}
    for name in ("history", "learning_curves", "intermediate_values"):
        assert '"dtick":1' in by_name[name] and '"tickformat":"d"' in by_name[name], name
    curves = by_name["learning_curves"]
    assert all(
        title in curves for title in ('"text":"validation accuracy"', '"text":"training accuracy"', '"text":"loss"')
    )
    assert "trial 0 (complete)" in curves and "(pruned)" in curves
    assert "check (1 per epoch)" in by_name["intermediate_values"]


def _has_text(html: str, text: str) -> bool:
    """`text` in the page, literally or as JSON writes it (plotly may escape non-ASCII as \\uXXXX)."""
    return text in html or json.dumps(text)[1:-1] in html


def test_plot_titles_name_the_study_and_the_objective(written: tuple[optuna.Study, list[Path]]) -> None:
    _, paths = written
    by_name = {p.stem: p.read_text(encoding="utf-8") for p in paths}
    assert _has_text(by_name["importance_ped_anova"], "cnn — hyperparameter importance (PED-ANOVA)")
    assert _has_text(by_name["importance_fanova"], "cnn — hyperparameter importance (fANOVA)")
    assert all("validation accuracy" in by_name[name] for name in ["history", "intermediate_values"])


def test_index_summarises_the_study_and_links_every_plot(written: tuple[optuna.Study, list[Path]]) -> None:
    study, paths = written
    index = paths[0].read_text(encoding="utf-8")
    assert "<title>cnn" in index and "<script" not in index
    assert f"{study.best_value:.6g}" in index
    assert f"<th>best trial</th><td>{study.best_trial.number}</td>" in index
    assert f"<th>PRUNED</th><td>{state_counts(study.get_trials())['PRUNED']}</td>" in index
    assert "ab12&lt;cd&gt;" in index and "f00d" in index
    assert "<h2>Search space</h2>" in index and "{&quot;arch" not in index  # a table, not the raw JSON
    space = index.split("<h2>Search space</h2>", 1)[1].split("</table>", 1)[0]
    assert "<tr><td>lr</td><td>float</td><td>0.0001 to 0.1</td><td>yes</td><td></td></tr>" in space
    assert "<tr><td>optimizer</td><td>categorical</td><td>adam, sgd</td><td></td><td></td></tr>" in space
    assert "<tr><td>units_3</td><td>int</td><td>16 to 64, step 16</td><td></td><td>n_layers in 3</td></tr>" in space
    assert all(f'href="{name}.html"' in index for name in PLOTS)
    assert ".png" not in index


def test_index_ranks_conditional_params_with_ped_anova_only(written: tuple[optuna.Study, list[Path]]) -> None:
    index = written[1][0].read_text(encoding="utf-8").split("<h2>Hyperparameter importance</h2>", 1)[1]
    row = re.search(r"<tr><td>units_3</td>(.*?)</tr>", index)
    assert row is not None
    assert re.findall(r'<td class="num">([^<]*)</td>', row.group(1))[1] == "—"


@pytest.mark.filterwarnings("ignore:The number of trials is too small")  # PED-ANOVA's own verdict
@pytest.mark.parametrize(
    "evaluator",
    [optuna.importance.PedAnovaImportanceEvaluator(), optuna.importance.FanovaImportanceEvaluator(seed=0)],
    ids=["ped_anova", "fanova"],
)
def test_min_trials_is_where_evaluators_start_to_rank(
    evaluator: optuna.importance.BaseImportanceEvaluator,
) -> None:
    rows = [({"x": 0.1, "y": 0.5}, 0.6), ({"x": 0.9, "y": 0.55}, 0.9), ({"x": 0.5, "y": 0.2}, 0.7)]
    too_few = optuna.importance.get_param_importances(_fixed_study(rows[: MIN_TRIALS - 1]), evaluator=evaluator)
    enough = optuna.importance.get_param_importances(_fixed_study(rows[:MIN_TRIALS]), evaluator=evaluator)
    assert len(set(too_few.values())) <= 1
    assert len(set(enough.values())) > 1


def test_one_configuration_refuses_before_writing_and_says_how_many_trials_would_do(tmp_path: Path) -> None:
    study = _make_study(1)
    study.set_user_attr("arch", "mlp")
    out = tmp_path / "out"
    with pytest.raises(TuneError) as refused:
        write_plots(study, out, png=False)
    assert str(refused.value) == (
        "study 'cnn' has 1 configuration with a validation check; hyperparameter importances need at least 2 "
        "(a pruned trial counts, at the checks it ran). Run more trials: tune run mlp --study cnn --trials 10 "
        "(with this --storage) brings it to 10"
    )
    assert not out.exists()


def test_where_few_completed_importances_rest_on_every_trial_at_the_highest_check_enough_reached(
    tmp_path: Path,
) -> None:
    """One complete trial (the start configuration) and 13 pruned at checks 1 or 2: ranked at check 2.

    At check 2 the accuracy follows x alone; y only moves it at check 1.
    """
    study = optuna.create_study(study_name="halved", direction="maximize")
    distributions: dict[str, BaseDistribution] = {"x": FloatDistribution(0.0, 1.0), "y": FloatDistribution(0.0, 1.0)}

    def add(state: TrialState, x: float, y: float, checks: list[float]) -> None:
        study.add_trial(
            optuna.trial.create_trial(
                state=state,
                params={"x": x, "y": y},
                distributions=distributions,
                value=max(checks),
                intermediate_values=dict(enumerate(checks, start=1)),
            )
        )

    add(TrialState.COMPLETE, 0.5, 0.5, [0.8, 0.85, 0.9, 0.92])
    for i in range(13):  # 4 stopped at check 1, 9 at check 2
        x, y = (i * 0.37) % 1, (i * 0.61) % 1
        add(TrialState.PRUNED, x, y, [0.5 + 0.3 * y, 0.6 + 0.3 * x][: 1 + (i % 4 > 0)])
    paths = write_plots(study, tmp_path, png=False)
    index = paths[0].read_text(encoding="utf-8")
    ranked = (
        "Ranked over 10 trials at check 2 (epoch 2), pruned ones included, each with its validation accuracy there."
    )
    assert ranked in index and f"Fewer than {RANKED_TRIALS} configurations completed" in index
    rows = dict(re.findall(r"<tr><td>(\w)</td><td class=\"num\">([^<]*)</td>", index))
    assert float(rows["x"]) > float(rows["y"])  # PED-ANOVA, over the trials at check 2
    page = next(p for p in paths if p.name == "importance_ped_anova.html").read_text(encoding="utf-8")
    assert _has_text(page, "halved — hyperparameter importance (PED-ANOVA), over 10 trials at epoch 2 (check 2)")


@pytest.mark.parametrize(
    ("rows", "skipped", "reason"),
    [
        ([({"x": 0.1}, 0.8), ({"x": 0.5}, 0.8), ({"x": 0.9}, 0.8)], PLOTS[:2], "same validation accuracy"),
        ([({"x": 0.1}, 0.8), ({"y": 0.5}, 0.7), ({"x": 0.9}, 0.6)], PLOTS[1:2], "no parameter is present"),
    ],
    ids=["identical_values", "no_common_param"],
)
def test_undefined_importances_skip_that_plot_with_a_note(
    tmp_path: Path, rows: list[tuple[dict[str, float], float]], skipped: list[str], reason: str
) -> None:
    paths = write_plots(_fixed_study(rows), tmp_path, png=False)
    index = paths[0].read_text(encoding="utf-8")
    assert {p.stem for p in paths[1:] if p.suffix == ".html"} == set(PLOTS) - set(skipped)
    assert reason in index
    assert all(f'href="{name}.html"' not in index for name in skipped)


def test_png_false_writes_no_png(written: tuple[optuna.Study, list[Path]]) -> None:
    _, paths = written
    assert not list(paths[0].parent.glob("*.png"))


@pytest.fixture
def no_chromium(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("BROWSER_PATH", raising=False)
    monkeypatch.setenv("PATH", str(tmp_path / "empty-bin"))


@pytest.mark.usefixtures("no_chromium")
def test_png_true_without_chromium_says_how_to_get_one(tmp_path: Path) -> None:
    out = tmp_path / "out"
    with pytest.raises(TuneError, match="apt-get install chromium"):
        write_plots(_make_study(6), out, png=True)
    assert not out.exists()


@pytest.mark.usefixtures("no_chromium")
def test_png_default_without_chromium_writes_html_only(tmp_path: Path) -> None:
    paths = write_plots(_make_study(6), tmp_path, png=None)
    assert paths and all(p.suffix == ".html" or p.name == "plotly.min.js" for p in paths)


@pytest.mark.slow  # starts a real Chromium
@pytest.mark.skipif(find_chromium() is None, reason="no Chromium for kaleido (apt-get install chromium)")
@pytest.mark.chromium
def test_png_export_writes_a_png_per_plot(tmp_path: Path) -> None:
    paths = write_plots(_make_study(8), tmp_path, png=True)
    pngs = [p for p in paths if p.suffix == ".png"]
    index = paths[0].read_text(encoding="utf-8")
    assert sorted(p.stem for p in pngs) == sorted(PLOTS)
    assert all(p.read_bytes().startswith(PNG_MAGIC) for p in pngs)
    assert all(f'href="{name}.png"' in index for name in PLOTS)


@pytest.mark.skipif(not Path("/bin/false").exists(), reason="needs /bin/false as a browser that cannot start")
@pytest.mark.parametrize("png", [None, True])
def test_png_export_failure_warns_by_default_and_fails_when_asked(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture, png: bool | None
) -> None:
    monkeypatch.setenv("BROWSER_PATH", "/bin/false")
    if png:
        with pytest.raises(TuneError, match="PNG export"):
            write_plots(_make_study(6), tmp_path, png=png)
    else:
        paths = write_plots(_make_study(6), tmp_path, png=png)
        assert [p.suffix for p in paths] == [".html"] * 7 + [".js"]
        assert "PNG export failed" in caplog.text
    assert not list(tmp_path.glob("*.png"))


def test_one_configuration_tried_three_times_is_refused_too(tmp_path: Path) -> None:
    study = _fixed_study([({"x": 0.5}, 0.7), ({"x": 0.5}, 0.8), ({"x": 0.5}, 0.9)])
    with pytest.raises(TuneError, match=r"'fixed' has 1 configuration with a validation check; .* --trials 12 "):
        write_plots(study, tmp_path / "out", png=False)
