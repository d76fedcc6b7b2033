"""Search methods side by side on several tasks, at equal budgets in R, over several seeds.

Each study (a task, a method, a seed) is the real `tune run` in a subprocess, stopped with
SIGINT (as Ctrl-C would: the running trial is recorded as interrupted) once the study's own
clock (tuning/anytime.py: busy time from its first trial's start) has run --budget-r R. The
clock starts at the first trial, not at the command: importing TensorFlow, loading the data
and the `--precision auto` probe are left out. (`tune run --timeout` only stops new trials from
starting; a trial in flight would overrun the budget.) R, measured at the start of a session
as bench/search_speed.py measures it (or given by --skip-r) and kept in OUTPUT_DIR/suite.json,
is one float32 epoch of the reference ConvNet (epoch_speed.py's cnn-bn) over 50,000 images. It is
measured again when the session ends (not after Ctrl-C): a shared machine's speed can change within
a day, and the summary names the studies of a session whose R moved by more than 10% by its end.

The methods search the same space, data, epochs per trial and budget; seed S seeds the
sampler, the validation split and the trials' weights, so every method of seed S scores on
the same split. The methods and tasks are the tables METHODS and TASKS below, listed at the
end of --help.

Studies run in one storage (OUTPUT_DIR/suite.db, not committed), named TASK-METHOD-sSEED, and
each is recorded, as it ends, in two committed tables: studies.csv (one row a study: the
session that ran it, R before it, its span in R, trials, R after it) and curves.csv (every
check: time in R, epochs spent, trial, its validation accuracy, best so far). A suite is thus
run over several sessions, on other machines: each session measures its own R (or takes
--skip-r) and measures it again after every study (about 25 s each), and a study's times are in
the R measured just before it; one whose R before and after differ by more than 10% is flagged
in the summary (the machine changed speed during it; --again flagged runs it anew). A re-run tops up: a
study that ran its budget (or its --trials), in the storage or the tables, is not run again;
one cut short goes on from the storage where the storage holds it (the same machine), and is
run anew where only the tables do; a missing one runs. Studies run seed by seed, so a suite cut
short (--max-hours, Ctrl-C, a killed session) has whole seeds first. --max-hours starts no study after
its time and lets the one running then run its budget: a study cut there and resumed later would run its
interrupted trial again from the start (tune resumes studies, not trials), twice on one clock. Each run writes
curves-TASK.png (mean and range over seeds, against R and against epochs; with .html),
ranks.png and summary.md (conditions, sessions, partial cells, time to target and final best
per method, the average rank over time). Figures are over finished studies only;
bench/hpo_aggregate.py says how they are computed.

    # the whole suite (3 tasks, 32 cells, 3 seeds, 4 R each: 384 R of studies, plus each command's start):
    python bench/hpo_suite.py
    # a later session tops up what is missing, starting studies for 8 hours (the last one runs its 4 R):
    python bench/hpo_suite.py --max-hours 8
    # run anew the studies of a session whose machine changed speed (the summary names them):
    python bench/hpo_suite.py --again flagged --max-hours 1
    # the tables and figures again from the storage, running nothing:
    python bench/hpo_suite.py --summarize-only
    # smoke run (trains a few small models):
    python bench/hpo_suite.py --tasks digits-cnn --methods tune random --seeds 1 --budget-r 0.5 \\
        --skip-r 60 --output-dir /tmp/hs
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import io
import json
import math
import shlex
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from epoch_speed import machine_lines
from hpo_aggregate import MethodResult, Paired, SeedCurve, Spread, SuiteResult, TaskResult, aggregate, paired
from search_speed import drifted, interrupt, launched, make_sqlite_folder, measure_r, r_drift, stream, write_figure

from tuning.anytime import AnytimeCurve, CurvePoint, anytime_curve
from tuning.atomic import write_text_atomically

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests" / "data"))
from real_images import DIGITS_TEST, write_digits_npz  # noqa: E402

DIGITS = 1797  # images in scikit-learn's load_digits

if TYPE_CHECKING:
    import optuna
    import plotly.graph_objects as go
    from optuna.storages import BaseStorage
    from optuna.trial import FrozenTrial


@dataclass(frozen=True)
class Task:
    """What is searched: a model on some data."""

    name: str
    model: str
    data: str  # in words, for --help and the summary
    args: tuple[str, ...] = ()  # more `tune run` arguments
    data_file: str | None = None  # under OUTPUT_DIR/data/, written once (DATA_WRITERS); None: Fashion-MNIST

    @property
    def start_trial(self) -> bool:
        """Whether the shipped space's [start] configuration applies: it was found on Fashion-MNIST."""
        return self.data_file is None


@dataclass(frozen=True)
class Method:
    """Who searches, as `tune run` flags."""

    name: str
    args: tuple[str, ...]
    what: str  # in words, for --help and the summary
    start_trial: bool = False  # runs only on tasks whose data the space's [start] was found on
    candidate: bool = False  # a candidate default: the summary compares it with BASE_METHOD seed by seed


TASKS = (
    Task("fashion-mlp", "mlp", "Fashion-MNIST: 50,000 training images, 10,000 validating"),
    Task(
        "fashion-cnn-subset",
        "cnn",
        "Fashion-MNIST: a stratified 12,000 training images, 2,400 validating (the split shrinks in proportion)",
        ("--max-train-samples", "12000"),
    ),
    Task(
        "digits-cnn",
        "cnn",
        f"scikit-learn's real 8x8 digits as a .npz written once: {DIGITS - DIGITS_TEST:,} training images (a sixth "
        f"of them validating), {DIGITS_TEST} held out as test set",
        data_file="digits.npz",
    ),
)
METHODS = (
    Method(
        "tune",
        ("--no-defaults-first",),
        "tune's defaults (multivariate TPE, successive halving, checks per epoch following the data: 4 on both "
        "Fashion-MNIST tasks, 1 on digits), cold",
    ),
    Method(
        "tune-start",
        ("--defaults-first",),
        "tune's defaults with the space's [start] configuration as first trial; only on Fashion-MNIST, where the "
        "shipped spaces' [start] was found",
        start_trial=True,
    ),
    Method(
        "tune-1check",
        ("--no-defaults-first", "--checks-per-epoch", "1"),
        "a candidate default: tune's, cold, judged once an epoch on every task (on digits a quarter epoch is 2-3 "
        "batches: on 2026-12-04 tune, then checking 4 times an epoch, stopped 53 of seed 0's 71 trials at its "
        "first check, at a median 10.8% validation accuracy, chance being 10%; since 5914b60 tune's default checks "
        "data that small once an epoch, and this row differs from tune's on the Fashion-MNIST tasks only)",
        candidate=True,
    ),
    Method(
        "tune-rf3",
        ("--no-defaults-first", "--reduction-factor", "3"),
        "a candidate default: tune's, cold, with each rung keeping the best third of its trials instead of the "
        "best quarter (rungs at checks 1, 3, 9, ... instead of 1, 4, 16, ...; KerasTuner's and Optuna's Hyperband "
        "default factor)",
        candidate=True,
    ),
    Method(
        "tune-hyperband",
        ("--no-defaults-first", "--pruner", "hyperband"),
        "a candidate default: tune's, cold, with Optuna's Hyperband over the same checks (brackets whose first "
        "rungs are at checks 1, 4, 16, ..., factor 4) instead of successive halving's one bracket",
        candidate=True,
    ),
    Method(
        "tune-startup5",
        ("--no-defaults-first", "--startup-trials", "5"),
        "a candidate default: tune's, cold, with TPE sampling from its model after 5 random trials instead of "
        "Optuna's 10 (in 4 R a Fashion-MNIST study holds 3-15 trials, so with 10 most of it is random search)",
        candidate=True,
    ),
    Method(
        "tune-bootstrap1",
        ("--no-defaults-first", "--bootstrap-count", "1"),
        "a candidate default: tune's, cold, with a rung stopping every trial until more than one has reached it "
        "(Optuna's bootstrap_count 1), so the first random trial, however slow, does not run its whole budget",
        candidate=True,
    ),
    Method(
        "tune-univariate",
        ("--no-defaults-first", "--sampler", "tpe-univariate"),
        "a candidate default: tune's, cold, with one TPE model per parameter (Optuna's default TPE) instead of "
        "one over the parameters that occur together (multivariate, group); both sample their first 10 trials "
        "at random, so the two differ only from the 11th trial on",
        candidate=True,
    ),
    Method(
        "random",
        ("--sampler", "random", "--pruner", "none", "--no-defaults-first"),
        "random search; every trial trains all its epochs",
    ),
    Method(
        "optuna-plain",
        ("--sampler", "tpe", "--pruner", "median", "--checks-per-epoch", "1", "--no-defaults-first"),
        "TPE with the median rule, reported once an epoch as Optuna's Keras example does, both as tune sets them "
        "(search/engines/optuna.py): multivariate TPE (group, constant liar), not Optuna's default univariate "
        "one; Optuna's MedianPruner with n_startup_trials=3 (Optuna's default 5) and n_warmup_steps 1 epoch "
        "(default 0)",
    ),
    Method(
        "kt-hyperband",
        ("--engine", "keras-tuner", "--kt-oracle", "hyperband", "--reduction-factor", "3"),
        "KerasTuner's Hyperband oracle as a KerasTuner user gets it (factor 3, its default; max epochs the "
        "model's) proposes, tune trains; cold (the engine queues no [start] trial)",
    ),
)
DATA_WRITERS: dict[str, Callable[[Path], Path]] = {"digits.npz": write_digits_npz}
BASE_METHOD = "tune"  # the default a candidate is compared with, seed by seed (summary, "Candidate defaults")
TARGET_METHOD = "kt-hyperband"  # a task's target: this method's mean final best (bench/hpo_aggregate.py)
DEFAULT_SEEDS = 3
DEFAULT_BUDGET_R = 4.0
FINISHED_SHARE = 0.98  # a study whose clock ran this share of its budget has finished it (SIGINT lands late)
POLL_SECONDS = 1.0  # how often the budget watcher looks at the clock (and, until it starts, for the first trial)
STARTUP_LIMIT_SECONDS = 600.0  # a `tune run` that starts no trial in this long is stopped
RECORD = "suite.json"  # the sessions of a suite (machine, R, settings, outcome), beside its results
STUDIES_CSV = "studies.csv"  # one row a study: which session ran it, in which R
CURVES_CSV = "curves.csv"  # every check of every study, its time in that session's R


def main() -> None:
    args = _parse_args()
    ends = time.time() + args.max_hours * 3600 if args.max_hours else math.inf
    out = Path(args.output_dir)
    out.mkdir(parents=True, exist_ok=True)
    record = _read_record(out)
    url = args.storage or f"sqlite:///{out / 'suite.db'}"
    # Before R is measured, so a bad URL fails at once. Summarizing reads the tables where no storage is.
    storage = _open_storage(url, must_exist=args.summarize_only and not (out / STUDIES_CSV).is_file())
    planned = _suite(args, record, out, url, r=(math.nan, "not measured yet"))
    again = again_names(args.again, planned, record)  # before R is measured, so a wrong name fails at once
    suite = _suite(args, record, out, url, r=_r(args, record))
    if again:
        forget(suite, storage, again)
    if not args.summarize_only:
        record = _run(suite, storage, record, ends, args.r_samples)
    for path in _write_results(suite, storage, record):
        print(f"wrote {path}")


def _parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, epilog=_tables_help(), formatter_class=argparse.RawDescriptionHelpFormatter
    )
    tasks, methods = [t.name for t in TASKS], [m.name for m in METHODS]
    parser.add_argument("--tasks", nargs="+", choices=tasks, default=tasks, help="run and summarize these")
    parser.add_argument("--methods", nargs="+", choices=methods, default=methods, help="run and summarize these")
    parser.add_argument(
        "--seeds", type=int, default=None, help=f"seeds 0..N-1 [default: the last session's, else {DEFAULT_SEEDS}]"
    )
    parser.add_argument(
        "--budget-r",
        type=float,
        default=None,
        help=f"each study's budget in R, on its own clock [default: the last session's, else {DEFAULT_BUDGET_R:g}]",
    )
    parser.add_argument(
        "--skip-r", type=float, default=None, metavar="SECONDS", help="R measured earlier in this session"
    )
    parser.add_argument("--r-samples", type=int, default=10_000, help="images R is timed on (scaled to 50,000)")
    parser.add_argument(
        "--max-hours", type=float, default=None, help="start no study after this (the running one runs its budget)"
    )
    parser.add_argument("--trials", type=int, default=1000, help="tune run --trials: a cap the budget ends first")
    parser.add_argument("--output-dir", default="bench/results/hpo_suite")
    parser.add_argument("--storage", default=None, help="[default: sqlite:///OUTPUT_DIR/suite.db]")
    parser.add_argument(
        "--summarize-only", action="store_true", help="only write the tables and figures from the storage"
    )
    parser.add_argument(
        "--again",
        nargs="+",
        default=[],
        metavar="STUDY",
        help=f"run these studies anew: first take them out of the storage (tune delete) and the tables; "
        f"{AGAIN_FLAGGED!r}: the studies the summary names under 'Machine speed changed'",
    )
    args = parser.parse_args()
    if args.again and args.summarize_only:
        parser.error("--again runs studies anew; it cannot go with --summarize-only")
    for name in ("seeds", "trials", "r_samples"):
        if getattr(args, name) is not None and getattr(args, name) < 1:
            parser.error(f"--{name.replace('_', '-')} must be at least 1, but got {getattr(args, name)}")
    for name in ("budget_r", "skip_r", "max_hours"):
        if getattr(args, name) is not None and not getattr(args, name) > 0:
            parser.error(f"--{name.replace('_', '-')} must be positive, but got {getattr(args, name)}")
    return args


def _tables_help() -> str:
    """TASKS and METHODS in words."""
    import textwrap

    def entry(name: str, text: str) -> str:
        first, rest = f"  {name:<20}", " " * 22
        wrapper = textwrap.TextWrapper(100, first, rest, break_long_words=False, break_on_hyphens=False)
        return wrapper.fill(text)

    tasks = [entry(t.name, f"{t.model} on {t.data}. Flags: {_flags(t.args, t.data_file) or 'none'}") for t in TASKS]
    methods = [entry(m.name, f"{m.what}. Flags: {shlex.join(m.args)}") for m in METHODS]
    return "\n".join(["tasks:", *tasks, "", "methods:", *methods])


# --- the suite: what runs, and where ---------------------------------------------------------


@dataclass(frozen=True)
class Suite:
    """The tasks, methods and seeds of this invocation, each study's budget, and where results go."""

    tasks: tuple[Task, ...]
    methods: tuple[Method, ...]
    seeds: int
    budget_r: float
    r_seconds: float  # this session's R
    r_note: str
    trials: int
    storage: str
    out: Path
    session: int  # this session's index in the record's sessions (-1: --summarize-only, no session)

    @property
    def budget_seconds(self) -> float:
        return self.budget_r * self.r_seconds

    def cells(self) -> list[tuple[Task, Method]]:
        """Every (task, method) that applies: tune-start only where the space's [start] does."""
        return [(t, m) for t in self.tasks for m in self.methods if t.start_trial or not m.start_trial]

    def plan(self) -> list[tuple[Task, Method, int]]:
        """Every study, seed by seed, so a suite cut short has whole seeds first."""
        return [(task, method, seed) for seed in range(self.seeds) for task, method in self.cells()]


def study_name(task: Task, method: Method, seed: int) -> str:
    return f"{task.name}-{method.name}-s{seed}"


AGAIN_FLAGGED = "flagged"  # --again: every study during which the machine changed speed (speed_changed)


def again_names(asked: list[str], suite: Suite, record: dict[str, Any]) -> list[str]:
    """The studies `--again` names, each once: by name, or `AGAIN_FLAGGED` for those during which, as the tables
    record them, the machine changed speed (`speed_changed`)."""
    planned = [study_name(task, method, seed) for task, method, seed in suite.plan()]
    names: list[str] = []
    for each in asked:
        if each == AGAIN_FLAGGED:
            sessions = drifted_sessions(record)
            found = [name for name, state in read_tables(suite.out).items() if speed_changed(state, sessions)]
            found = [name for name in planned if name in found]
        elif each in planned:
            found = [each]
        else:
            sys.exit(f"--again: {each!r} is not a study of this suite (names like {planned[0]}, or {AGAIN_FLAGGED})")
        names += [name for name in found if name not in names]
    return names


def forget(suite: Suite, storage: BaseStorage, names: list[str]) -> None:
    """Take the studies out of the storage (`tune delete`, with what an engine keeps beside it) and out of the
    tables, so that they run anew."""
    recorded = read_tables(suite.out)
    for name in names:
        if _load_study(storage, name) is not None:
            delete = [sys.executable, "-m", "tuning", "delete", name, "--storage", suite.storage, "--yes"]
            subprocess.run(delete, check=True, stdout=subprocess.DEVNULL)
        recorded.pop(name, None)
        print(f"[hpo_suite] {name}: taken out, to run again", flush=True)
    write_tables(suite, recorded)


def tune_command(suite: Suite, task: Task, method: Method, seed: int) -> list[str]:
    """The `tune run` of one study."""
    command = [sys.executable, "-m", "tuning", "run", task.model, "--trials", str(suite.trials)]
    command += ["--study", study_name(task, method, seed), "--storage", suite.storage, "--seed", str(seed)]
    if task.data_file is not None:
        command += ["--data", str(suite.out / "data" / task.data_file)]
    return [*command, *task.args, *method.args]


def _last_session(record: dict[str, Any]) -> dict[str, Any]:
    sessions = record.get("sessions", [])
    return sessions[-1] if sessions else {}


def _suite(args: argparse.Namespace, record: dict[str, Any], out: Path, storage: str, r: tuple[float, str]) -> Suite:
    sessions, last = record.get("sessions", []), _last_session(record)
    r_seconds, r_note = r
    return Suite(
        tasks=tuple(t for t in TASKS if t.name in args.tasks),
        methods=tuple(m for m in METHODS if m.name in args.methods),
        seeds=args.seeds or last.get("seeds", DEFAULT_SEEDS),
        budget_r=args.budget_r or last.get("budget_r", DEFAULT_BUDGET_R),
        r_seconds=r_seconds,
        r_note=r_note,
        trials=args.trials,
        storage=storage,
        out=out,
        session=-1 if args.summarize_only else len(sessions),
    )


def _r(args: argparse.Namespace, record: dict[str, Any]) -> tuple[float, str]:
    """This session's R: --skip-r, or measured now; summarizing, the last session's (for storage studies no
    table records)."""
    last = _last_session(record)
    if args.summarize_only and args.skip_r is None:
        if "r_seconds" not in last:
            sys.exit(f"no session recorded in {Path(args.output_dir) / RECORD}: give R with --skip-r SECONDS")
        return last["r_seconds"], last["r_note"]
    return measure_r(args.skip_r, args.r_samples)


def _read_record(out: Path) -> dict[str, Any]:
    path = out / RECORD
    return json.loads(path.read_text(encoding="utf-8")) if path.is_file() else {}


def _write_record(suite: Suite, record: dict[str, Any]) -> None:
    write_text_atomically(suite.out / RECORD, json.dumps(record, indent=1) + "\n")


def _write_data(suite: Suite) -> None:
    """The tasks' data files, where missing (renamed into place, so an interrupted write leaves none)."""
    for task in suite.tasks:
        if task.data_file is None or (suite.out / "data" / task.data_file).is_file():
            continue
        path = suite.out / "data" / task.data_file
        path.parent.mkdir(parents=True, exist_ok=True)
        staging = path.with_name(f".{path.name}")  # keeps the suffix np.savez wants
        DATA_WRITERS[task.data_file](staging).replace(path)


# --- running the studies ------------------------------------------------------------------------


def _open_storage(url: str, *, must_exist: bool = False) -> BaseStorage:
    """tune's storage opener: a SQLite file waits for a writer's lock rather than failing."""
    from tuning.errors import TuneError
    from tuning.search.storage import open_storage

    make_sqlite_folder(url)
    try:
        return open_storage(url, must_exist=must_exist)
    except TuneError as exc:
        sys.exit(str(exc))


def _run(suite: Suite, storage: BaseStorage, record: dict[str, Any], ends: float, r_samples: int) -> dict[str, Any]:
    """Run every study that has not finished its budget, starting none after `ends`, then measure R again (on
    `r_samples` images); the record with this session's outcome and R after it."""
    session = {
        "machine": machine_lines(),
        "r_seconds": suite.r_seconds,
        "r_note": suite.r_note,
        "started": datetime.now(UTC).isoformat(timespec="seconds"),
        "budget_r": suite.budget_r,
        "seeds": suite.seeds,
        "trials": suite.trials,
        "tasks": [t.name for t in suite.tasks],
        "methods": [m.name for m in suite.methods],
        "outcome": "running",
    }
    earlier = [_closed(s) for s in record.get("sessions", [])]
    record = {**record, "sessions": [*earlier, session]}
    _write_record(suite, record)
    print(f"R = {suite.r_seconds:.1f} s ({suite.r_note}); budget {suite.budget_r:g} R per study", flush=True)
    last_r = None
    try:
        _write_data(suite)
        session["outcome"], last_r = _run_studies(suite, storage, ends, r_samples)
    except KeyboardInterrupt:
        session["outcome"] = "stopped by Ctrl-C"
    if session["outcome"] != "stopped by Ctrl-C":
        _write_record(suite, record)
        with contextlib.suppress(KeyboardInterrupt):  # Ctrl-C here leaves R after unmeasured
            session["r_after"] = last_r if last_r is not None else measure_r(None, r_samples)[0]
            print(r_drift(suite.r_seconds, session["r_after"], "session"), end="", flush=True)
    session["ended"] = datetime.now(UTC).isoformat(timespec="seconds")
    _write_record(suite, record)
    print(f"session {session['outcome']}", flush=True)
    return record


def _closed(session: dict[str, Any]) -> dict[str, Any]:
    """An earlier session as recorded; one still "running" was killed before it could record its end (a session
    runs one invocation at a time from an output folder)."""
    if session.get("outcome") != "running":
        return session
    return {**session, "outcome": "killed before it recorded its end"}


def _run_studies(suite: Suite, storage: BaseStorage, ends: float, r_samples: int) -> tuple[str, float | None]:
    """Run the plan's unfinished studies, starting none after `ends` (time.time()): the one running then runs its
    budget. Each study runs in the R measured just before it (the session's, then the last study's R after), and R
    is measured again after it (on `r_samples` images); its rows go into the tables as it ends. The outcome, and
    the last R measured after a study (None: none ran)."""
    recorded = read_tables(suite.out)
    r_now: float | None = None
    for task, method, seed in suite.plan():
        if time.time() >= ends:
            return "stopped by --max-hours", r_now
        name = study_name(task, method, seed)
        study = _study(suite, storage, recorded, task, method, seed)
        if study.finished:
            continue
        current = suite if r_now is None else replace(suite, r_seconds=r_now)
        state = study_state(storage, name, current.r_seconds, suite.session)  # a study this storage holds goes on
        left = (suite.budget_r - state.span_r) * current.r_seconds  # on this machine: in R, whichever session began it
        print(f"\n[hpo_suite] {name}: {left / current.r_seconds:.2f} R of {suite.budget_r:g} to run", flush=True)
        log = suite.out / "logs" / f"{name}.log"
        log.parent.mkdir(parents=True, exist_ok=True)
        try:
            run = _run_study(tune_command(suite, task, method, seed), log, storage, name, left)
        finally:  # what it ran is recorded even when the session is cut short here
            _mark(storage, name, current)
            recorded[name] = study_state(storage, name, current.r_seconds, suite.session)
            write_tables(suite, recorded)
        if run.ctrl_c:
            return "stopped by Ctrl-C", r_now
        if run.returncode != 0 and run.stopped_by is None:
            print(f"[hpo_suite] {name}: tune exited with status {run.returncode}, see {log}", flush=True)
        r_now, _ = measure_r(None, r_samples)
        _mark_r_after(storage, name, r_now)
        recorded[name] = replace(recorded[name], r_after=r_now)
        write_tables(suite, recorded)
        print(f"[hpo_suite] {name}: {r_drift(current.r_seconds, r_now, 'study')}", end="", flush=True)
    return "complete", r_now


@dataclass(frozen=True)
class StudyState:
    """What a storage, or the tables, hold of one study, and the R its clock is read in."""

    exists: bool
    curve: AnytimeCurve
    used: int  # trials that count towards --trials
    r_seconds: float  # R measured before it ran (since 2026-12-04; before: its session's R): seconds per R
    session: int  # the index in the record of the session that ran it (-1: not known)
    r_after: float | None = None  # R measured right after it ran; None: not measured (studies before 2026-12-04)

    @property
    def span_seconds(self) -> float:
        return self.curve.span_seconds

    @property
    def span_r(self) -> float:
        return self.curve.span_seconds / self.r_seconds


# Set on a study of the storage by the session that last ran it: the session's index, R in seconds before and after.
SESSION_ATTR, R_ATTR, R_AFTER_ATTR = "hpo_suite_session", "hpo_suite_r_seconds", "hpo_suite_r_after"


def study_state(storage: BaseStorage | None, name: str, r_seconds: float, session: int) -> StudyState:
    """What the storage holds of the study (None storage: nothing), read in the R of the session that last ran
    it, or where that is not marked on it, in `r_seconds` of `session`."""
    from tuning.search.worker import slots_used

    study = None if storage is None else _load_study(storage, name)
    if study is None:
        return StudyState(False, anytime_curve([]), 0, r_seconds, session)
    trials, marks = study.get_trials(deepcopy=False), study.user_attrs
    r_seconds, session = marks.get(R_ATTR, r_seconds), marks.get(SESSION_ATTR, session)
    return StudyState(True, anytime_curve(trials), slots_used(trials), r_seconds, session, marks.get(R_AFTER_ATTR))


def _mark(storage: BaseStorage, name: str, suite: Suite) -> None:
    """Note on the study (if tune made it) that this session ran it last, in its R."""
    study = _load_study(storage, name)
    if study is not None:
        study.set_user_attr(SESSION_ATTR, suite.session)
        study.set_user_attr(R_ATTR, suite.r_seconds)
        study.set_user_attr(R_AFTER_ATTR, None)  # measured once it ended (_mark_r_after)


def _mark_r_after(storage: BaseStorage, name: str, r_after: float) -> None:
    study = _load_study(storage, name)
    if study is not None:
        study.set_user_attr(R_AFTER_ATTR, r_after)


def is_finished(state: StudyState, suite: Suite) -> bool:
    """Whether the study ran its budget on its own clock, or holds all its trials."""
    return state.exists and (state.span_r >= FINISHED_SHARE * suite.budget_r or state.used >= suite.trials)


def _load_study(storage: BaseStorage, name: str) -> optuna.Study | None:
    """The study; None if the storage holds no such study."""
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    try:
        return optuna.load_study(study_name=name, storage=storage)
    except KeyError:
        return None


def _load_trials(storage: BaseStorage, name: str) -> list[FrozenTrial] | None:
    """The study's trials; None if the storage holds no such study."""
    study = _load_study(storage, name)
    return None if study is None else study.get_trials(deepcopy=False)


@dataclass(frozen=True)
class StudyRun:
    """How one `tune run` went."""

    returncode: int
    # "budget", "startup" (no trial began) or "watcher failed"; None: tune ended by itself
    stopped_by: str | None
    ctrl_c: bool  # a Ctrl-C was passed on to it


def _run_study(command: list[str], log_path: Path, storage: BaseStorage, name: str, left: float) -> StudyRun:
    """Run `command` until the study's clock has run `left` seconds more."""
    started, ended = time.time(), threading.Event()
    stopped: list[str] = []  # the watcher's reason, if it stopped tune
    with launched(command, log_path) as (proc, log):
        watch = (proc, storage, name, started, left, ended, stopped)
        watcher = threading.Thread(target=_stop_at_budget, args=watch, daemon=True)
        watcher.start()
        try:
            ctrl_c = stream(proc, log)
        except KeyboardInterrupt:  # a Ctrl-C outside the read `stream` guards (writing a chunk)
            interrupt(proc)
            ctrl_c = True
            stream(proc, log)  # the rest, as tune records its interrupted trial
        returncode = proc.wait()
        ended.set()
        watcher.join()
    return StudyRun(returncode, stopped[0] if stopped else None, ctrl_c)


def _stop_at_budget(
    proc: subprocess.Popen[bytes],
    storage: BaseStorage,
    name: str,
    started: float,
    left: float,
    ended: threading.Event,
    stopped: list[str],
) -> None:
    """SIGINT tune at the first of its `deadlines`; the reason goes in `stopped`."""
    try:
        first: float | None = None
        while not ended.wait(POLL_SECONDS):
            if first is None:
                first = _first_start(storage, name, since=started)
            reason, when = deadline(first, started, left)
            if time.time() >= when:
                stopped.append(reason)
                print(f"\n[hpo_suite] {name}: {reason} reached, SIGINT to tune", flush=True)
                interrupt(proc)
                return
    except BaseException:
        stopped.append("watcher failed")
        interrupt(proc)  # without its watcher, tune would run past its budget (to --trials)
        raise


def deadline(first: float | None, started: float, left: float) -> tuple[str, float]:
    """Why and when (time.time()) a study's run must stop: `left` seconds of its clock after the first trial
    of this run began at `first`; until one has, STARTUP_LIMIT_SECONDS after the command `started`."""
    return ("budget", first + left) if first is not None else ("startup", started + STARTUP_LIMIT_SECONDS)


def _first_start(storage: BaseStorage, name: str, *, since: float) -> float | None:
    """When the study's first trial since `since` began; None while it has none (or the storage stays locked)."""
    from sqlalchemy.exc import OperationalError

    try:
        trials = _load_trials(storage, name) or []
    except OperationalError:  # SQLite still locked by tune's writes after the storage's wait: look again
        return None
    starts = [t.datetime_start.timestamp() for t in trials if t.datetime_start is not None]
    return min((start for start in starts if start >= since), default=None)


# --- the results: CSV, figures, summary ------------------------------------------------------


@dataclass(frozen=True)
class Study:
    """One study of the suite as the storage holds it."""

    task: Task
    method: Method
    seed: int
    state: StudyState
    finished: bool
    curve: SeedCurve  # the state's curve in R


def _study(
    suite: Suite,
    storage: BaseStorage | None,
    recorded: dict[str, StudyState],
    task: Task,
    method: Method,
    seed: int,
) -> Study:
    """The study as the storage holds it (`study_state`), else as the tables hold it."""
    name = study_name(task, method, seed)
    state = study_state(storage, name, suite.r_seconds, suite.session)
    if not state.exists and name in recorded:
        state = recorded[name]
    curve = SeedCurve(task.name, method.name, seed, state.curve, state.r_seconds)
    return Study(task, method, seed, state, is_finished(state, suite), curve)


def _write_results(suite: Suite, storage: BaseStorage | None, record: dict[str, Any]) -> list[Path]:
    recorded = read_tables(suite.out)
    studies = [_study(suite, storage, recorded, task, method, seed) for task, method, seed in suite.plan()]
    recorded.update({study_name(s.task, s.method, s.seed): s.state for s in studies if s.state.exists})
    result = aggregate([s.curve for s in studies if s.finished], suite.budget_r, reference=TARGET_METHOD)
    written = write_tables(suite, recorded)
    for task in suite.tasks:
        if task.name in result.tasks:
            written += write_figure(_task_figure(task.name, result, suite), suite.out, f"curves-{task.name}")
    if result.average_ranks:
        written += write_figure(_ranks_figure(result), suite.out, "ranks")
    summary = suite.out / "summary.md"
    write_text_atomically(summary, summary_text(suite, record, studies, result))
    return [*written, summary]


STUDY_COLUMNS = ["study", "session", "r_seconds", "span_r", "cut_r", "cuts", "trials", "r_after"]
CURVE_COLUMNS = ["study", "time_r", "epochs", "trial", "epoch", "val_accuracy", "best_val_accuracy"]


def write_tables(suite: Suite, states: dict[str, StudyState]) -> list[Path]:
    """studies.csv and curves.csv: every study that ran (finished or not), in the R of the session that ran it."""
    names = sorted(name for name, state in states.items() if state.exists)
    studies, curves = [STUDY_COLUMNS], [CURVE_COLUMNS]
    for name in names:
        state = states[name]
        r, curve = state.r_seconds, state.curve
        after = "" if state.r_after is None else state.r_after
        row = [name, state.session, r, _r5(state.span_r), _r5(curve.cut_seconds / r), curve.cuts, state.used, after]
        studies.append(row)
        for p in curve.points:
            curves.append(
                [name, _r5(p.seconds / r), round(p.epochs_spent, 4), p.trial, p.epoch, p.val_accuracy, p.best]
            )
    paths = [suite.out / STUDIES_CSV, suite.out / CURVES_CSV]
    for path, rows in zip(paths, (studies, curves), strict=True):
        text = io.StringIO()
        csv.writer(text, lineterminator="\n").writerows(rows)
        write_text_atomically(path, text.getvalue())
    return paths


def read_tables(out: Path) -> dict[str, StudyState]:
    """The studies the tables in `out` record, each with its clock in seconds of the session that ran it."""
    if not (out / STUDIES_CSV).is_file():
        return {}
    with (out / STUDIES_CSV).open(encoding="utf-8", newline="") as f:
        rows = {row["study"]: row for row in csv.DictReader(f)}
    points: dict[str, list[CurvePoint]] = {name: [] for name in rows}
    with (out / CURVES_CSV).open(encoding="utf-8", newline="") as f:
        for row in csv.DictReader(f):
            r = float(rows[row["study"]]["r_seconds"])
            time_r, epochs, trial, epoch, value, best = (float(row[key]) for key in CURVE_COLUMNS[1:])
            points[row["study"]].append(CurvePoint(time_r * r, epochs, int(trial), epoch, value, best))
    states = {}
    for name, row in rows.items():
        r = float(row["r_seconds"])
        span, cut = float(row["span_r"]) * r, float(row["cut_r"]) * r
        curve = AnytimeCurve(tuple(points[name]), span, cut, int(row["cuts"]))
        after = float(row["r_after"]) if row.get("r_after") else None  # tables before 2026-12-04 lack the column
        states[name] = StudyState(True, curve, int(row["trials"]), r, int(row["session"]), after)
    return states


def _r5(value: float) -> float:
    return round(value, 5)


def summary_text(suite: Suite, record: dict[str, Any], studies: list[Study], result: SuiteResult) -> str:
    """summary.md: the conditions, what is partial, each task's table, the average rank over time."""
    lines = [
        "# HPO suite: search methods on tasks at equal budgets",
        "",
        f"Written {datetime.now(UTC).isoformat(timespec='seconds')} by bench/hpo_suite.py, from {suite.storage}.",
        "",
        *_conditions(suite, record),
        "",
        *_partial(suite, studies),
        *_drifted(record, studies),
    ]
    for name, task in result.tasks.items():
        lines += ["", *_task_lines(name, task, suite)]
    if result.average_ranks:
        lines += ["", *_rank_lines(result, suite.out)]
    if result.average_ranks and BASE_METHOD in result.average_ranks:
        lines += ["", *_aim_lines(result)]
    candidates = [paired(result, m.name, BASE_METHOD) for m in suite.methods if m.candidate]
    if any(c.differences for c in candidates):
        lines += ["", *_candidate_lines(candidates, [t.name for t in suite.tasks], suite.budget_r)]
    return "\n".join(lines) + "\n"


def _conditions(suite: Suite, record: dict[str, Any]) -> list[str]:
    lines = [
        "## Conditions",
        "",
        "- R: one float32 epoch of the reference ConvNet over 50,000 images, measured by each session on its "
        "machine (bench/search_speed.py `measure_r`; the sessions below). A study's times are in the R of the "
        "session that ran it (studies.csv, column session).",
        f"- Budget: {suite.budget_r:g} R per study, on the study's own clock (tuning/anytime.py: from its first "
        "trial's start, pauses between runs cut); `tune run` stopped by SIGINT there. --trials "
        f"{suite.trials}, a cap the budget ends first.",
        f"- Seeds: {suite.seeds} (0..{suite.seeds - 1}); seed S seeds the sampler, the validation split and the "
        "trials' weights, so every method of a seed scores on the same split.",
        "- Figures are over finished studies only; the time to the target counts the seeds that reached it.",
        "",
        "| task | model | data | flags |",
        "|---|---|---|---|",
        *(f"| {t.name} | {t.model} | {t.data} | {_code(_flags(t.args, t.data_file))} |" for t in suite.tasks),
        "",
        "| method | flags | what |",
        "|---|---|---|",
        *(f"| {m.name} | {_code(shlex.join(m.args))} | {m.what} |" for m in suite.methods),
        "",
        "Sessions:",
        "",
    ]
    if not record.get("sessions"):
        lines.append("- none recorded (no session of this suite ran from this output folder)")
    for index, session in enumerate(record.get("sessions", [])):
        ended = session.get("ended", "not recorded (killed)")
        started = session.get("started", "not recorded")
        r = f"R = {session['r_seconds']:.1f} s ({session['r_note']})" if "r_seconds" in session else "R not recorded"
        lines.append(f"- session {index}: {r}; started {started}, {session['outcome']}, ended {ended}:")
        lines += [f"  - {line}" for line in session["machine"]]
        after = r_drift(session["r_seconds"], session["r_after"], "session") if "r_after" in session else ""
        lines.append(f"  - {after.strip() or 'R after the session: not measured'}")
    return lines


def drifted_sessions(record: dict[str, Any]) -> dict[int, float]:
    """The sessions whose R, measured again at their end, moved past R_DRIFT: index -> relative change."""
    sessions = enumerate(record.get("sessions", []))
    return {
        index: s["r_after"] / s["r_seconds"] - 1
        for index, s in sessions
        if "r_after" in s and drifted(s["r_seconds"], s["r_after"])
    }


def speed_changed(state: StudyState, sessions: dict[int, float]) -> bool:
    """Whether the machine's speed changed while the study ran: R before and after it moved past R_DRIFT, or,
    where R was not measured after it, R at the start and end of its session (`sessions`: drifted_sessions)."""
    if state.r_after is not None:
        return drifted(state.r_seconds, state.r_after)
    return state.exists and state.session in sessions


def _drifted(record: dict[str, Any], studies: list[Study]) -> list[str]:
    """The studies during which the machine changed speed: in the figures, but not comparable in R."""
    sessions = drifted_sessions(record)
    flagged = [s for s in studies if speed_changed(s.state, sessions)]
    lines = []
    for index, change in sessions.items():
        names = [
            study_name(s.task, s.method, s.seed)
            for s in flagged
            if s.state.r_after is None and s.state.session == index
        ]
        if names:
            lines.append(f"- session {index} (R {change:+.0%} by its end): {', '.join(names)}")
    for s in (s for s in flagged if s.state.r_after is not None):
        before, after = s.state.r_seconds, s.state.r_after
        name = study_name(s.task, s.method, s.seed)
        lines.append(f"- {name}: R {before:.1f} s before it, {after:.1f} s after ({after / before - 1:+.0%})")
    if not lines:
        return []
    return [
        "",
        "## Machine speed changed",
        "",
        "The machine's speed changed by more than the bench's tolerance while these studies ran (R measured before "
        "and after each study; before 2026-12-04, at the start and end of its session): their times in R are not "
        "comparable and they should be run again (`python bench/hpo_suite.py --again flagged`).",
        "",
        *lines,
    ]


def _flags(args: tuple[str, ...], data_file: str | None) -> str:
    """A task's own `tune run` flags."""
    data = ("--data", f"OUTPUT_DIR/data/{data_file}") if data_file else ()
    return shlex.join([*data, *args])


def _code(text: str) -> str:
    return f"`{text}`" if text else "none"


def _figure(out: Path, stem: str) -> str:
    """A markdown link to a figure: its PNG, or where none was written (no Chromium), its page."""
    name = f"{stem}.png" if (out / f"{stem}.png").is_file() else f"{stem}.html"
    return f"![{stem}]({name})" if name.endswith(".png") else f"[{stem}]({name})"


def _partial(suite: Suite, studies: list[Study]) -> list[str]:
    """The cells with fewer finished seeds than asked, and what their other seeds hold."""
    lines = []
    for task, method in suite.cells():
        cell = [s for s in studies if s.task == task and s.method == method]
        unfinished = [s for s in cell if not s.finished]
        if not unfinished:
            continue
        said = ", ".join(f"s{s.seed} " + _ran(s, suite) for s in unfinished)
        done = len(cell) - len(unfinished)
        lines.append(f"- {task.name} / {method.name}: {done} of {suite.seeds} seeds finished ({said})")
    if not lines:
        return ["## Partial", "", f"None: every cell holds {suite.seeds} finished seeds."]
    return ["## Partial", "", "Cells with fewer finished seeds than asked (left out of their figures):", "", *lines]


def _ran(study: Study, suite: Suite) -> str:
    if not study.state.exists:
        return "not run"
    used = study.state.used
    return f"{study.state.span_r:.2f} R, {used} trial{'' if used == 1 else 's'}"


def _task_lines(name: str, task: TaskResult, suite: Suite) -> list[str]:
    target = f"{task.target:.2%}" if not math.isnan(task.target) else "none"
    lines = [
        f"## {name}",
        "",
        _figure(suite.out, f"curves-{name}"),
        "",
        f"Target {target}: {task.target_from}.",
        "",
        f"| method | seeds | best at {suite.budget_r:g} R (mean ± sd, range) | R to {target} (mean ± sd, range) "
        "| epochs spent |",
        "|---|---|---|---|---|",
    ]
    return lines + [_method_row(method, result) for method, result in task.methods.items()]


def _method_row(method: str, result: MethodResult) -> str:
    seeds = len(result.seeds)
    reached = f"{result.reached} of {seeds} reached"
    if result.reached:
        reached += ": " + _spread(result.to_target, "{:.2f}")
    cells = [method, str(seeds), _spread(result.final, "{:.2%}"), reached, _spread(result.epochs, "{:.1f}")]
    return "| " + " | ".join(cells) + " |"


def _spread(s: Spread, form: str) -> str:
    """E.g. "91.20% ± 0.18% (90.99%-91.33%)"; one value alone."""
    if math.isnan(s.mean):
        return "none"
    if s.n == 1:
        return form.format(s.mean)
    return f"{form.format(s.mean)} ± {form.format(s.sd)} ({form.format(s.low)}-{form.format(s.high)})"


RANK_AT = (0.25, 0.5, 0.75, 1.0)  # shares of the budget the summary's rank table reads


def _rank_lines(result: SuiteResult, out: Path) -> list[str]:
    """The average rank over time, read at a few shares of the budget; the last column is the end."""
    last = len(result.time_grid) - 1
    at = [round(share * last) for share in RANK_AT]
    heads = " | ".join(f"at {result.time_grid[i]:.2f} R" for i in at)
    lines = [
        "## Average rank over time",
        "",
        _figure(out, "ranks"),
        "",
        "Rank 1 is the best mean best-so-far over seeds at that time; ties share their mean rank; a method without "
        "a check yet ranks last. Averaged over the tasks each method ran on (ranks among that task's methods).",
        "",
        f"| method | tasks | {heads} |",
        "|---|---|" + "---|" * len(at),
    ]
    for method, ranks in result.average_ranks.items():
        lines.append(f"| {method} | {result.rank_tasks[method]} | " + " | ".join(f"{ranks[i]:.2f}" for i in at) + " |")
    return lines


AIM_SPEEDUP = 3.0  # the aim: tune's default reaches TARGET_METHOD's final best this many times sooner


def _aim_lines(result: SuiteResult) -> list[str]:
    """Whether tune's default reaches the target method's mean final best AIM_SPEEDUP times sooner on average over
    the tasks, and ranks first at the end of the budget; each task's ratio from the seeds that reached it."""
    ratios: list[float] = []
    rows = []
    for name, task in result.tasks.items():
        ours, theirs = task.methods.get(BASE_METHOD), task.methods.get(TARGET_METHOD)
        if ours is None or theirs is None:
            continue
        reach = f"{ours.reached} of {len(ours.seeds)} / {theirs.reached} of {len(theirs.seeds)}"
        if ours.reached and theirs.reached:
            ratio = theirs.to_target.mean / ours.to_target.mean
            ratios.append(ratio)
            times = f"{ours.to_target.mean:.2f} / {theirs.to_target.mean:.2f}"
            rows.append(f"| {name} | {task.target:.2%} | {times} | {reach} | {ratio:.2f} |")
        else:
            rows.append(f"| {name} | {task.target:.2%} | - | {reach} | none: a method never reached it |")
    end = {method: ranks[-1] for method, ranks in result.average_ranks.items()}
    first = min(end.values())
    leaders = ", ".join(method for method, rank in end.items() if rank == first)
    mean_ratio = sum(ratios) / len(ratios) if ratios else math.nan
    sooner = not math.isnan(mean_ratio) and mean_ratio >= AIM_SPEEDUP
    ranks_first = end[BASE_METHOD] == first
    verdict = "met" if sooner and ranks_first else "not met"
    return [
        "## The aim",
        "",
        f"{BASE_METHOD} reaches {TARGET_METHOD}'s mean final best (each task's target) at least "
        f"{AIM_SPEEDUP:g}x sooner on average over the tasks, and ranks first at the end of the budget: **{verdict}**.",
        "",
        f"| task | target | R to it, {BASE_METHOD} / {TARGET_METHOD} (mean over the seeds that reached it) "
        f"| seeds that reached it | {TARGET_METHOD}'s time / {BASE_METHOD}'s |",
        "|---|---|---|---|---|",
        *rows,
        "",
        f"- Mean ratio over the tasks: {mean_ratio:.2f} (aim: at least {AIM_SPEEDUP:g}).",
        f"- {BASE_METHOD}'s average rank at the end of the budget: {end[BASE_METHOD]:.2f}; first: {leaders} "
        f"({first:.2f}).",
        '- Why, where not met: docs/measurements.md, "Search quality".',
    ]


def _candidate_lines(candidates: list[Paired], tasks: list[str], budget_r: float) -> list[str]:
    """Each candidate default minus tune's, seed by seed: what "keep a change only where better" reads."""
    heads = " | ".join(tasks)
    lines = [
        f"## Candidate defaults against {BASE_METHOD}'s",
        "",
        f"Best at {budget_r:g} R, candidate minus {BASE_METHOD}, in points of validation accuracy, on the same task "
        "and seed (the same split and seeds); mean ± sd (range) over the pairs both finished. Shown better (the "
        "rule for keeping a candidate): over at least two tasks, the mean above zero by more than its standard "
        "error (sd / √pairs), and no task's mean below zero.",
        "",
        f"| candidate | pairs | all tasks | better / worse / equal | shown better | {heads} |",
        "|---|---|---|---|---|" + "---|" * len(tasks),
    ]
    for c in candidates:
        if not c.differences:
            continue
        per_task = [_points(c.per_task[t]) if t in c.per_task else "-" for t in tasks]
        verdict = "yes" if c.shown_better else "no"
        cells = [c.method, str(len(c.differences)), _points(c.overall), f"{c.better} / {c.worse} / {c.equal}", verdict]
        lines.append("| " + " | ".join(cells + per_task) + " |")
    return lines


def _points(s: Spread) -> str:
    """A spread of accuracy differences in signed points, e.g. "+0.28 ± 0.81 (-0.75 to +2.08)"."""
    if math.isnan(s.mean):
        return "none"
    mean, low, high = (round(v * 100, 2) + 0.0 for v in (s.mean, s.low, s.high))  # + 0.0: no "-0.00"
    if s.n == 1:
        return f"{mean:+.2f}"
    return f"{mean:+.2f} ± {s.sd * 100:.2f} ({low:+.2f} to {high:+.2f})"


def _colors() -> dict[str, str]:
    from plotly.colors import qualitative

    palette = qualitative.Plotly + qualitative.Dark24  # 10 + 24: one colour a method
    return {method.name: palette[i] for i, method in enumerate(METHODS)}


def _task_figure(name: str, result: SuiteResult, suite: Suite) -> go.Figure:
    """Per method, the mean best validation accuracy over seeds (line) and their range (band), against R and
    against epochs spent; the target dotted."""
    from plotly.subplots import make_subplots

    task, colors = result.tasks[name], _colors()
    fig = make_subplots(rows=1, cols=2, shared_yaxes=True)
    for method, outcome in task.methods.items():
        axes = ((result.time_grid, outcome.time_curve), (task.epoch_grid, outcome.epoch_curve))
        for col, (x, spreads) in enumerate(axes, start=1):
            _band(fig, list(x), spreads, f"{method} ({len(outcome.seeds)})", colors[method], col)
    if not math.isnan(task.target):
        fig.add_hline(y=100 * task.target, line_dash="dot", line_color="gray", annotation_text="target")
    fig.update_xaxes(title_text="R (the study's clock)", row=1, col=1)
    fig.update_xaxes(title_text="epochs spent", row=1, col=2)
    fig.update_yaxes(title_text="best validation accuracy (%)", row=1, col=1)
    title = f"{name}: mean and range over seeds, {suite.budget_r:g} R per study"
    fig.update_layout(title_text=title, width=1200, height=500)
    return fig


def _band(fig: go.Figure, x: list[float], spreads: tuple[Spread, ...], label: str, color: str, col: int) -> None:
    """The seeds' range as a band (highest, then lowest filled up to it), the mean as a line over it."""
    high, low, mean = ([100 * getattr(s, key) for s in spreads] for key in ("high", "low", "mean"))
    edge = {"width": 0, "shape": "hv"}
    common = {"x": x, "mode": "lines", "legendgroup": label, "row": 1, "col": col}
    fig.add_scatter(y=high, line=edge, showlegend=False, **common)
    fig.add_scatter(y=low, line=edge, fill="tonexty", fillcolor=_translucent(color), showlegend=False, **common)
    fig.add_scatter(y=mean, line={"color": color, "shape": "hv"}, name=label, showlegend=col == 1, **common)


def _translucent(color: str) -> str:
    """A "#rrggbb" colour at a fifth of its opacity, for a band behind its line."""
    red, green, blue = (int(color[i : i + 2], 16) for i in (1, 3, 5))
    return f"rgba({red}, {green}, {blue}, 0.2)"


def _ranks_figure(result: SuiteResult) -> go.Figure:
    import plotly.graph_objects as go

    colors, fig = _colors(), go.Figure()
    for method, ranks in result.average_ranks.items():
        label = f"{method} ({result.rank_tasks[method]} tasks)"
        fig.add_scatter(x=list(result.time_grid), y=ranks, mode="lines", name=label, line={"color": colors[method]})
    fig.update_xaxes(title_text="R (each study's clock)")
    fig.update_yaxes(title_text="average rank (1 = best)", autorange="reversed")
    fig.update_layout(title_text="Average rank of the methods over time, over tasks", width=900, height=450)
    return fig


if __name__ == "__main__":
    main()
