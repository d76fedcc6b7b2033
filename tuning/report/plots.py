"""HTML plots of a study that open offline, with a hand-written index page.

``write_plots`` writes one HTML file per figure, all loading the one
``plotly.min.js`` written beside them (so every page opens offline, and a study's
plots cost one copy of plotly.js, not one per page), optional PNG copies, and
``index.html``: a summary of the study, its search space as a table, the
PED-ANOVA and fANOVA importance rankings side by side, and links.

Importances and parallel coordinates rest on the complete trials where at least
``RANKED_TRIALS`` configurations completed; where fewer did (successive halving
stops most trials), on every trial at the highest check that many reached, with
its validation accuracy there (tuning/fidelity.py). The pages and the index say
which.

Two kinds of refusal:

- Fewer than ``MIN_TRIALS`` configurations with a validation check: ``TuneError``
  before any file is written, since with one both evaluators return equal,
  meaningless importances.
- Importances undefined for a study that is otherwise fine (every ranked trial
  has the same accuracy, or an evaluator raises, or it
  finds no parameter to assess): that importance plot is skipped, the reason is
  logged and shown in ``index.html``, and the other plots are still written.
"""

from __future__ import annotations

import html
import json
import logging
import shlex
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tuning import attrs
from tuning.errors import TuneError
from tuning.fidelity import Fidelity, at_least, compared_configurations
from tuning.render import PLOTLY_JS, integer_axis, png_wanted, write_html, write_pngs

if TYPE_CHECKING:
    from collections.abc import Callable

    import optuna
    import plotly.graph_objects as go
    from optuna.importance import BaseImportanceEvaluator
    from optuna.trial import FrozenTrial

__all__ = [
    "MIN_TRIALS",
    "RANKED_TRIALS",
    "importance_fidelity",
    "study_importances",
    "write_plots",
]

logger = logging.getLogger(__name__)

# With 0 or 1 trials both evaluators return equal importances for every parameter
# (PED-ANOVA warns "too small"); from 2 on they separate parameters.
MIN_TRIALS = 2
# Configurations that must have completed for importances to rest on complete trials; with
# fewer, they rest on the highest check this many reached (tuning/fidelity.py).
RANKED_TRIALS = 10
# Below this many ranked trials the rankings are mostly noise (README, `tune plots`).
_STABLE_TRIALS = 20
_TARGET_NAME = "validation accuracy"
_STATES = ("COMPLETE", "PRUNED", "FAIL", "RUNNING")
_PLOT_LABELS = {
    "importance_ped_anova": "Hyperparameter importance (PED-ANOVA)",
    "importance_fanova": "Hyperparameter importance (fANOVA)",
    "history": "Optimization history",
    "learning_curves": "Learning curves: validation and training accuracy, loss (incl. pruned trials)",
    "intermediate_values": "Validation accuracy per check, as the pruner saw it (incl. pruned trials)",
    "parallel_coordinate": "Parallel coordinates",
}


@dataclass(frozen=True)
class _Importance:
    """One evaluator's ranking, or the reason it was skipped (``values is None``)."""

    label: str
    stem: str
    values: dict[str, float] | None
    notes: tuple[str, ...]


def write_plots(study: optuna.Study, output_dir: str | Path, *, png: bool | None = None) -> list[Path]:
    """Write the study's plots and ``index.html`` into ``output_dir``.

    ``png=None`` writes PNG copies only when a Chromium is installed and carries
    on with HTML alone if the export fails; ``png=True`` makes both an error.
    Returns the written paths, ``index.html`` first.
    """
    fidelity = _check_study(study)
    ranked = fidelity.as_study(study.study_name)
    want_png = png_wanted(png)
    importances = [_evaluate(ranked, fidelity, *spec) for spec in _evaluators()]
    figures = _build_figures(study, ranked, fidelity, importances)

    out = Path(output_dir)
    out.mkdir(parents=True, exist_ok=True)
    pages = [write_html(fig, out / f"{stem}.html", shared_plotlyjs=True) for stem, fig in figures.items()]
    images = write_pngs(figures, out, required=png is True) if want_png else []
    index = out / "index.html"
    index.write_text(_index_html(study, fidelity, importances, pages, images), encoding="utf-8")
    logger.info("wrote %d plot files to %s", len(pages) + len(images) + 2, out)
    return [index, *pages, out / PLOTLY_JS, *images]


def _check_study(study: optuna.Study) -> Fidelity:
    """The trials importances rest on, or refuse a study that cannot be plotted."""
    name = study.study_name
    if len(study.directions) != 1:
        raise TuneError(f"study {name!r} has {len(study.directions)} objectives; plots need one")
    fidelity = importance_fidelity(study)
    if fidelity is not None:
        return fidelity
    trials = study.get_trials(deepcopy=False)
    tried = compared_configurations(trials)
    finished = sum(t.state.is_finished() for t in trials)
    arch = str(study.user_attrs.get(attrs.ARCH, "ARCH"))
    where = "" if name == arch else f" --study {shlex.quote(name)}"
    noun = "configuration" if tried == 1 else "configurations"
    raise TuneError(
        f"study {name!r} has {tried} {noun} with a validation check; hyperparameter importances need at least "
        f"{MIN_TRIALS} (a pruned trial counts, at the checks it ran). Run more trials: tune run {arch}{where} "
        f"--trials {finished + RANKED_TRIALS - tried} (with this --storage) brings it to {RANKED_TRIALS}"
    )


def importance_fidelity(study: optuna.Study) -> Fidelity | None:
    """The trials the study's importances rest on: complete ones where `RANKED_TRIALS` configurations completed,
    else every trial at the highest check that many (or all there are) reached; None below `MIN_TRIALS`."""
    from tuning.search.study import study_checks_per_epoch

    trials = study.get_trials(deepcopy=False)
    wanted = max(MIN_TRIALS, min(RANKED_TRIALS, compared_configurations(trials)))
    return at_least(trials, wanted, study_checks_per_epoch(study.user_attrs))


def study_importances(study: optuna.Study) -> tuple[dict[str, float], str] | None:
    """The study's PED-ANOVA importances as `tune plots` ranks them, and over which trials in a few words;
    None where they are undefined."""
    fidelity = importance_fidelity(study)
    if fidelity is None:
        return None
    values = _evaluate(fidelity.as_study(study.study_name), fidelity, *_evaluators()[0]).values
    return None if values is None else (values, _ranked_words(fidelity))


def _evaluators() -> list[tuple[str, str, BaseImportanceEvaluator]]:
    from optuna.importance import FanovaImportanceEvaluator, PedAnovaImportanceEvaluator

    return [
        ("PED-ANOVA", "importance_ped_anova", PedAnovaImportanceEvaluator()),
        ("fANOVA", "importance_fanova", FanovaImportanceEvaluator(seed=0)),
    ]


def _evaluate(
    ranked: optuna.Study,
    fidelity: Fidelity,
    label: str,
    stem: str,
    evaluator: BaseImportanceEvaluator,
) -> _Importance:
    """One evaluator over `ranked` (fidelity.as_study: the trials of `fidelity` as complete ones)."""
    from optuna.importance import get_param_importances

    reason = _undefined_reason(fidelity)
    if reason is not None:
        return _skipped(label, stem, reason)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            values = get_param_importances(ranked, evaluator=evaluator)
        except (RuntimeError, ValueError) as exc:
            return _skipped(label, stem, f"it could not be computed: {exc}")
    if not values:
        return _skipped(label, stem, f"no parameter is present in every one of the {_ranked_words(fidelity)}")
    notes = tuple(dict.fromkeys(str(w.message) for w in caught))
    return _Importance(label, stem, {k: float(v) for k, v in values.items()}, notes)


def _undefined_reason(fidelity: Fidelity) -> str | None:
    values = fidelity.values  # of at least MIN_TRIALS configurations
    if len(set(values)) == 1:
        return f"all {_ranked_words(fidelity)} have the same {_TARGET_NAME} ({values[0]})"
    return None


def _ranked_words(fidelity: Fidelity) -> str:
    """The ranked trials in a few words: `12 complete trials` or `23 trials at epoch 1 (check 4)`."""
    n = len(fidelity.trials)
    if fidelity.check is None:
        return f"{n} complete trials"
    return f"{n} trials at epoch {fidelity.epochs:g} (check {fidelity.check})"


def _skipped(label: str, stem: str, reason: str) -> _Importance:
    logger.warning("skipping the %s importance plot: %s", label, reason)
    return _Importance(label, stem, None, (f"skipped: {reason}",))


def _build_figures(
    study: optuna.Study, ranked: optuna.Study, fidelity: Fidelity, importances: list[_Importance]
) -> dict[str, go.Figure]:
    """Every plot; importances and parallel coordinates over `ranked`, the trials of `fidelity`."""
    import optuna.visualization as vis

    from tuning.search.study import study_checks_per_epoch

    name = study.study_name
    last_trial = max(t.number for t in study.get_trials(deepcopy=False))
    over = _ranked_words(fidelity)
    figures: dict[str, go.Figure] = {}
    for imp in importances:
        if imp.values is None:
            continue
        fig = vis.plot_param_importances(ranked, evaluator=_replay(imp.values), target_name=_TARGET_NAME)
        figures[imp.stem] = _titled(fig, f"{name} — hyperparameter importance ({imp.label}), over {over}")
    history = vis.plot_optimization_history(study, target_name=_TARGET_NAME)
    history.update_xaxes(**integer_axis(last_trial))
    figures["history"] = _titled(history, f"{name} — optimization history")
    figures["learning_curves"] = _learning_curves(study)
    checks = study_checks_per_epoch(study.user_attrs)
    steps = vis.plot_intermediate_values(study)  # Optuna's step k is check k: epoch k / checks
    steps.update_layout(xaxis_title=f"check ({checks} per epoch)", yaxis_title=_TARGET_NAME)
    steps.update_xaxes(**integer_axis(max((len(t.intermediate_values) for t in study.trials), default=0)))
    figures["intermediate_values"] = _titled(steps, f"{name} — {_TARGET_NAME} per check")
    parallel = vis.plot_parallel_coordinate(ranked, target_name=_TARGET_NAME)
    figures["parallel_coordinate"] = _titled(parallel, f"{name} — parameters vs {_TARGET_NAME}, over {over}")
    return figures


def _learning_curves(study: optuna.Study) -> go.Figure:
    from tuning.report.figures import learning_curves_figure
    from tuning.report.summary import STATE_WORDS

    curves = [
        (f"trial {t.number} ({STATE_WORDS[t.state.name]})", attrs.curve_of(t.user_attrs))
        for t in study.get_trials(deepcopy=False)
        if t.state.is_finished()
    ]
    return learning_curves_figure(curves, f"{study.study_name} — learning curves")


def _replay(values: dict[str, float]) -> BaseImportanceEvaluator:
    """An evaluator returning ``values``: each evaluator runs once and plot and table agree."""
    from optuna.importance import BaseImportanceEvaluator

    class _Replay(BaseImportanceEvaluator):
        def evaluate(
            self,
            study: optuna.Study,
            params: list[str] | None = None,
            *,
            target: Callable[[FrozenTrial], float] | None = None,
        ) -> dict[str, float]:
            return dict(values)

    return _Replay()


def _titled(fig: go.Figure, title: str) -> go.Figure:
    fig.update_layout(title_text=title)
    return fig


def _index_html(
    study: optuna.Study,
    fidelity: Fidelity,
    importances: list[_Importance],
    pages: list[Path],
    images: list[Path],
) -> str:
    name = html.escape(study.study_name)
    return (
        '<!doctype html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        f"<title>{name} — tuning report</title>\n<style>{_CSS}</style>\n</head>\n<body>\n"
        f"<h1>Study {name}</h1>\n<h2>Summary</h2>\n{_summary_table(study)}\n"
        f"<h2>Search space</h2>\n{_space_table(study.user_attrs.get(attrs.SPACE, {}))}\n"
        f"<h2>Hyperparameter importance</h2>\n{_fidelity_paragraph(fidelity)}\n{_importance_table(importances)}\n"
        f"{_importance_notes(importances, len(fidelity.trials))}\n"
        f"<h2>Plots</h2>\n{_links(pages, images)}\n</body>\n</html>\n"
    )


_CSS = (
    "body{font-family:sans-serif;margin:2em;max-width:60em}"
    "table{border-collapse:collapse;margin:.5em 0}"
    "th,td{border:1px solid #ccc;padding:.25em .6em;text-align:left;vertical-align:top}"
    "td.num{text-align:right;font-variant-numeric:tabular-nums}"
)


def _summary_table(study: optuna.Study) -> str:
    best = study.best_trial
    rows = [
        ("study", html.escape(study.study_name)),
        ("direction", html.escape(study.direction.name.lower())),
        ("trials", _table(_state_counts(study))),
        (f"best {_TARGET_NAME}", html.escape(_fmt(best.value))),
        ("best trial", str(best.number)),
        ("best params", _table([(k, _fmt(v)) for k, v in best.params.items()])),
        ("best trial trained with", _table([(k, _fmt(v)) for k, v in _ran_with(study, best).items()])),
    ]
    stored = sorted((k, v) for k, v in study.user_attrs.items() if k != attrs.SPACE)  # as created
    rows += [(f"study {html.escape(key)}", html.escape(_fmt(value))) for key, value in stored]
    return _raw_table(rows)


def _ran_with(study: optuna.Study, trial: FrozenTrial) -> dict[str, Any]:
    return attrs.trial_settings(trial.user_attrs, study.user_attrs)


def _space_table(space: dict[str, Any]) -> str:
    """The stored search space (SearchSpace.to_dict()), one row per parameter."""
    header = "<tr><th>parameter</th><th>type</th><th>range or choices</th><th>log</th><th>condition</th></tr>\n"
    rows = [header]
    for param in space.get("params", []):
        if param.get("type") == "categorical":
            values = ", ".join(_fmt(choice) for choice in param.get("choices", []))
        else:
            step = f", step {_fmt(param['step'])}" if param.get("step") is not None else ""
            values = f"{_fmt(param.get('low'))} to {_fmt(param.get('high'))}{step}"
        when = param.get("when")
        condition = f"{when[0]} in {', '.join(map(_fmt, when[1]))}" if when else ""
        cells = (param.get("name", "?"), param.get("type", "?"), values, "yes" if param.get("log") else "", condition)
        rows.append("<tr>" + "".join(f"<td>{html.escape(str(cell))}</td>" for cell in cells) + "</tr>\n")
    return "<table>\n" + "".join(rows) + "</table>"


def _state_counts(study: optuna.Study) -> list[tuple[str, str]]:
    from tuning.search.study import state_counts

    counts = state_counts(study.get_trials(deepcopy=False))
    return [(state, str(counts[state])) for state in _STATES]


def _importance_table(importances: list[_Importance]) -> str:
    params = list(dict.fromkeys(p for imp in importances for p in imp.values or {}))
    header = "".join(f"<th>{html.escape(imp.label)}</th>" for imp in importances)
    rows = [f"<tr><th>parameter</th>{header}</tr>\n"]
    for param in params:
        cells = "".join(f'<td class="num">{_importance_cell(imp, param)}</td>' for imp in importances)
        rows.append(f"<tr><td>{html.escape(param)}</td>{cells}</tr>\n")
    return "<table>\n" + "".join(rows) + "</table>"


def _importance_cell(imp: _Importance, param: str) -> str:
    if imp.values is None:
        return "skipped"
    if param not in imp.values:
        return "—"
    return f"{imp.values[param]:.3f}"


def _fidelity_paragraph(fidelity: Fidelity) -> str:
    """Which trials the rankings (and the parallel coordinates) rest on."""
    text = f"Ranked over {fidelity.describe()}."
    if fidelity.check is not None:
        text += (
            f" Fewer than {RANKED_TRIALS} configurations completed, so every configuration is compared at the "
            "highest check that enough of them reached: a ranking of how the parameters act early in training."
        )
    return f"<p>{html.escape(text)}</p>"


def _importance_notes(importances: list[_Importance], n_ranked: int) -> str:
    notes = [f"{imp.label}: {note}" for imp in importances for note in imp.notes]
    if n_ranked < _STABLE_TRIALS:
        notes.append(
            f"Only {n_ranked} trials ranked: importances are noisy below about "
            f"{_STABLE_TRIALS}, and the two evaluators often disagree."
        )
    if _has_unassessed(importances):
        notes.append(
            "— means not assessed: fANOVA considers only parameters present in every "
            "ranked trial, while PED-ANOVA also assesses conditional ones."
        )
    notes.append("Each evaluator's importances are normalised to sum to 1.")
    items = "".join(f"<li>{html.escape(note)}</li>\n" for note in notes)
    return f"<ul>\n{items}</ul>"


def _has_unassessed(importances: list[_Importance]) -> bool:
    assessed = [set(imp.values) for imp in importances if imp.values is not None]
    return len(assessed) > 1 and len(set.union(*assessed)) > len(set.intersection(*assessed))


def _links(pages: list[Path], images: list[Path]) -> str:
    pngs = {path.stem for path in images}
    items = []
    for page in pages:
        label = html.escape(_PLOT_LABELS.get(page.stem, page.stem))
        item = f'<li><a href="{html.escape(page.name)}">{label}</a>'
        if page.stem in pngs:
            item += f' (<a href="{html.escape(page.stem)}.png">PNG</a>)'
        items.append(item + "</li>\n")
    return "<ul>\n" + "".join(items) + "</ul>"


def _table(rows: list[tuple[str, str]]) -> str:
    """A two-column table of plain text, escaped."""
    return _raw_table([(html.escape(k), html.escape(v)) for k, v in rows])


def _raw_table(rows: list[tuple[str, str]]) -> str:
    """A two-column table whose cells are already HTML."""
    body = "".join(f"<tr><th>{k}</th><td>{v}</td></tr>\n" for k, v in rows)
    return f"<table>\n{body}</table>"


def _fmt(value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, float):
        return f"{value:.6g}"
    return json.dumps(value, default=str)
