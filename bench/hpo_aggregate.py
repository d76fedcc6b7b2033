"""The HPO suite's figures from its studies' anytime curves: means and spreads over seeds, time to a target, ranks.

Pure arithmetic on curves, for bench/hpo_suite.py; imports no Optuna, TensorFlow or plotly, so
tests/test_hpo_suite.py checks every figure on hand-made curves with known answers.

A seed's curve is a step function: its best validation accuracy so far, from each check's end
until the next (tuning/anytime.py draws it from the study's trials), and no value (NaN) before
its first check. Curves are read on a common grid of times (in R) from 0 to the budget, and
on the epochs axis from 0 to the most epochs any seed spent, where a seed has no value past
its own last check (it ran out of time). A method's value at a grid point is the mean over
its seeds, and only where every seed has one: a mean over the seeds that happened to check
early would flatter it. Methods are ranked at every grid time by that mean (1 = best; ties
share the mean of their ranks; a method with no value yet ranks below every method with
one), and each method's ranks are averaged over the tasks it ran on.

A candidate default is compared with the default seed by seed (`paired`): its final best minus the
default's on the same task and seed (the same split and weights' seeds), over every pair both finished.

The time to a target is when the best first reached it (tuning/anytime.py `AnytimeCurve.reached`).
A task's target is the mean final best of a reference method (bench/hpo_suite.py: KerasTuner's
Hyperband), or where that did not run, of the method whose mean final best is lowest: how soon
each method does as well as that baseline does at the end of its budget.
"""

from __future__ import annotations

import math
import statistics
from bisect import bisect_right
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from itertools import groupby
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from tuning.anytime import AnytimeCurve

__all__ = [
    "MethodResult",
    "Paired",
    "SeedCurve",
    "Spread",
    "SuiteResult",
    "TaskResult",
    "aggregate",
    "average_ranks",
    "grid",
    "mean_curve",
    "paired",
    "rank_curves",
    "ranks",
    "resample",
    "spread",
    "step_value",
    "task_target",
]

NAN = float("nan")
GRID_STEPS = 200  # grid intervals from 0 to the budget (or the most epochs spent)
_TIE_DECIMALS = 12  # means equal to this many decimals are a tie (sums in another order differ in the last bit)


@dataclass(frozen=True)
class SeedCurve:
    """One study (a task, a method, a seed) and its anytime curve (tuning/anytime.py), read in units of R."""

    task: str
    method: str
    seed: int
    curve: AnytimeCurve
    r_seconds: float  # R: the seconds of the curve's clock per unit

    @property
    def times(self) -> list[float]:
        """Each check's end on the study's clock, in R."""
        return [point.seconds / self.r_seconds for point in self.curve.points]

    @property
    def epochs(self) -> list[float]:
        """The epochs all the study's trials had trained by each check."""
        return [point.epochs_spent for point in self.curve.points]

    @property
    def best(self) -> list[float]:
        """The best validation accuracy so far at each check."""
        return [point.best for point in self.curve.points]

    def within(self, budget: float) -> SeedCurve:
        """The checks that ended within `budget` R (a study may have run past a budget later lowered)."""
        kept = tuple(point for point in self.curve.points if point.seconds / self.r_seconds <= budget)
        span = min(self.curve.span_seconds, budget * self.r_seconds)
        return replace(self, curve=replace(self.curve, points=kept, span_seconds=span))

    def time_to(self, target: float) -> float | None:
        """When (R) the best first reached `target` (AnytimeCurve.reached); None if it never did."""
        hit = self.curve.reached(target)
        return None if hit is None else hit.seconds / self.r_seconds


def step_value(xs: Sequence[float], ys: Sequence[float], x: float, end: float = math.inf) -> float:
    """The step function through (xs, ys) at `x`: the y of the last xs at or before `x`; NaN before the first
    and past `end`."""
    if x > end:
        return NAN
    at = bisect_right(xs, x)
    return ys[at - 1] if at else NAN


def resample(xs: Sequence[float], ys: Sequence[float], points: Sequence[float], end: float = math.inf) -> list[float]:
    """The step function through (xs, ys) at each of `points`."""
    return [step_value(xs, ys, x, end) for x in points]


def grid(last: float, steps: int = GRID_STEPS) -> list[float]:
    """`steps` equal intervals from 0 to `last`: steps + 1 points."""
    return [last * i / steps for i in range(steps + 1)]


@dataclass(frozen=True)
class Spread:
    """Mean, sample standard deviation, lowest and highest of some seeds' values; n: how many had one."""

    mean: float
    sd: float  # NaN for fewer than 2 values
    low: float
    high: float
    n: int


def spread(values: Sequence[float]) -> Spread:
    """The spread of `values`; all NaN (n: the values there are) where one is missing (NaN) or none is given."""
    present = [v for v in values if not math.isnan(v)]
    if not values or len(present) < len(values):
        return Spread(NAN, NAN, NAN, NAN, len(present))
    sd = statistics.stdev(present) if len(present) > 1 else NAN
    return Spread(statistics.fmean(present), sd, min(present), max(present), len(present))


def mean_curve(curves: Sequence[SeedCurve], points: Sequence[float], axis: str) -> list[Spread]:
    """The seeds' spread at each point: on the "time" axis up to the end of the grid, on "epochs" each seed only
    up to the epochs it spent."""
    if axis == "time":
        columns = [resample(c.times, c.best, points) for c in curves]
    elif axis == "epochs":
        columns = [resample(c.epochs, c.best, points, end=max(c.epochs, default=-math.inf)) for c in curves]
    else:
        raise ValueError(f"axis must be 'time' or 'epochs', but got {axis=}")
    return [spread([column[i] for column in columns]) for i in range(len(points))]


def ranks(scores: Mapping[str, float]) -> dict[str, float]:
    """Rank 1 for the highest score; tied scores share the mean of their ranks; NaN (no value yet) ranks last."""

    def key(name: str) -> float:
        score = scores[name]
        return -math.inf if math.isnan(score) else round(score, _TIE_DECIMALS)

    ranked: dict[str, float] = {}
    place = 0
    for _, tied in groupby(sorted(scores, key=key, reverse=True), key=key):
        names = list(tied)
        shared = place + (len(names) + 1) / 2
        ranked.update(dict.fromkeys(names, shared))
        place += len(names)
    return ranked


def rank_curves(means: Mapping[str, Sequence[float]]) -> dict[str, list[float]]:
    """Each method's rank among `means`' methods at every grid point (the sequences share one grid)."""
    lengths = {len(values) for values in means.values()}
    if len(lengths) > 1:
        raise ValueError(f"the methods' means must share one grid, but got lengths {sorted(lengths)}")
    per_point = [ranks({m: values[i] for m, values in means.items()}) for i in range(lengths.pop() if lengths else 0)]
    return {method: [point[method] for point in per_point] for method in means}


def average_ranks(per_task: Mapping[str, Mapping[str, Sequence[float]]]) -> dict[str, list[float]]:
    """Per method, its rank at each grid point averaged over the tasks it ran on (`per_task`: task -> ranks)."""
    runs: dict[str, list[Sequence[float]]] = {}
    for task_ranks in per_task.values():
        for method, values in task_ranks.items():
            runs.setdefault(method, []).append(values)
    return {method: [statistics.fmean(point) for point in zip(*lists, strict=True)] for method, lists in runs.items()}


def task_target(finals: Mapping[str, Sequence[float]], reference: str) -> tuple[float, str]:
    """The task's target and where it came from: `reference`'s mean final best, else the lowest method mean."""
    means = {method: statistics.fmean(values) for method, values in finals.items() if values}
    if reference in means:
        return means[reference], f"{reference}'s mean final best"
    if not means:
        return NAN, "no finished study"
    lowest = min(means, key=lambda method: means[method])
    return means[lowest], f"{lowest}'s mean final best, the lowest ({reference} did not run)"


@dataclass(frozen=True)
class MethodResult:
    """One method on one task, over its finished seeds."""

    seeds: tuple[int, ...]
    finals: tuple[float, ...]  # each seed's best at the end of the budget, in the order of `seeds`
    time_curve: tuple[Spread, ...]  # on the suite's time grid
    epoch_curve: tuple[Spread, ...]  # on the task's epochs grid
    final: Spread  # best validation accuracy at the end of the budget
    epochs: Spread  # epochs spent within the budget
    to_target: Spread  # R to the task's target, over the seeds that reached it
    reached: int  # seeds that reached the target


@dataclass(frozen=True)
class TaskResult:
    target: float
    target_from: str  # how the target was chosen
    epoch_grid: tuple[float, ...]
    methods: dict[str, MethodResult]
    ranks: dict[str, list[float]]  # per method, its rank on the time grid


@dataclass(frozen=True)
class SuiteResult:
    time_grid: tuple[float, ...]
    tasks: dict[str, TaskResult]
    average_ranks: dict[str, list[float]]  # per method, on the time grid, over the tasks it ran on
    rank_tasks: dict[str, int]  # per method, the tasks its average rank is over


@dataclass(frozen=True)
class Paired:
    """A method against a base method on the (task, seed) pairs both finished: method's final best minus base's."""

    method: str
    base: str
    differences: dict[tuple[str, int], float]  # (task, seed) -> difference, in accuracy (0.01 = 1 point)
    overall: Spread  # over every pair
    per_task: dict[str, Spread]
    better: int  # pairs where the method's final best is higher
    worse: int

    @property
    def equal(self) -> int:
        return len(self.differences) - self.better - self.worse

    @property
    def shown_better(self) -> bool:
        """The suite's rule for keeping a candidate default: over at least 2 tasks, its mean difference is
        above zero by more than its standard error (sd / sqrt(pairs)), and on no task is it below zero."""
        o = self.overall
        if len(self.per_task) < 2 or o.n < 2 or math.isnan(o.sd):
            return False
        return o.mean > o.sd / math.sqrt(o.n) and all(s.mean >= 0 for s in self.per_task.values())


def paired(result: SuiteResult, method: str, base: str) -> Paired:
    """`method` against `base` seed by seed on every task both ran (same split and seeds: a paired comparison)."""
    differences: dict[tuple[str, int], float] = {}
    for task, task_result in result.tasks.items():
        ours, theirs = task_result.methods.get(method), task_result.methods.get(base)
        if ours is None or theirs is None:
            continue
        base_finals = dict(zip(theirs.seeds, theirs.finals, strict=True))
        for seed, final in zip(ours.seeds, ours.finals, strict=True):
            if seed in base_finals:
                differences[(task, seed)] = round(final - base_finals[seed], _TIE_DECIMALS)
    per_task: dict[str, list[float]] = {}
    for (task, _), difference in differences.items():
        per_task.setdefault(task, []).append(difference)
    values = list(differences.values())
    return Paired(
        method=method,
        base=base,
        differences=differences,
        overall=spread(values),
        per_task={task: spread(task_values) for task, task_values in per_task.items()},
        better=sum(v > 0 for v in values),
        worse=sum(v < 0 for v in values),
    )


def aggregate(curves: Sequence[SeedCurve], budget: float, *, reference: str, steps: int = GRID_STEPS) -> SuiteResult:
    """Every figure of the suite from the curves of its finished studies, each read within `budget` R."""
    times = grid(budget, steps)
    cells: dict[str, dict[str, list[SeedCurve]]] = {}
    for curve in curves:
        cells.setdefault(curve.task, {}).setdefault(curve.method, []).append(curve.within(budget))
    tasks = {task: _task(methods, times, reference, steps) for task, methods in cells.items()}
    per_task = {task: result.ranks for task, result in tasks.items()}
    averaged = average_ranks(per_task)
    counts = {method: sum(method in task_ranks for task_ranks in per_task.values()) for method in averaged}
    return SuiteResult(tuple(times), tasks, averaged, counts)


def _task(methods: dict[str, list[SeedCurve]], times: list[float], reference: str, steps: int) -> TaskResult:
    finals = {method: [step_value(c.times, c.best, times[-1]) for c in seeds] for method, seeds in methods.items()}
    target, target_from = task_target({m: [v for v in vs if not math.isnan(v)] for m, vs in finals.items()}, reference)
    most_epochs = max((e for seeds in methods.values() for c in seeds for e in c.epochs), default=0.0)
    epoch_grid = grid(most_epochs, steps)
    results = {method: _method(seeds, finals[method], times, epoch_grid, target) for method, seeds in methods.items()}
    means = {method: [point.mean for point in result.time_curve] for method, result in results.items()}
    return TaskResult(target, target_from, tuple(epoch_grid), results, rank_curves(means))


def _method(
    seeds: list[SeedCurve], finals: list[float], times: list[float], epoch_grid: list[float], target: float
) -> MethodResult:
    reached = [t for t in (c.time_to(target) for c in seeds) if t is not None]
    return MethodResult(
        seeds=tuple(c.seed for c in seeds),
        finals=tuple(finals),
        time_curve=tuple(mean_curve(seeds, times, "time")),
        epoch_curve=tuple(mean_curve(seeds, epoch_grid, "epochs")),
        final=spread(finals),
        epochs=spread([max(c.epochs, default=0.0) for c in seeds]),
        to_target=spread(reached),
        reached=len(reached),
    )
