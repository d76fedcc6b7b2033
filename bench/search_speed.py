"""How fast a search finds good models: the anytime curve of one `tune run` under a wall-clock budget.

R, measured first in the same session, is the wall-clock of one float32 epoch of
`bench/epoch_speed.py --arch cnn-bn` (the batch-norm reference ConvNet) over 50,000
images at steps_per_execution 32. Then the real `tune run` command searches, and is
sent SIGINT when --budget-minutes have passed (its running trial is recorded as failed,
"interrupted", with the epochs it finished). From every trial of the study (a re-run
resumes it) come the best validation accuracy against wall-clock seconds, against R and
against epochs spent: STUDY.csv, STUDY.html/.png and a summary in STUDY.txt. With --check-r,
R is measured again after the search and the summary says how far it moved: a shared machine's
speed can change within a day (on 2026-12-03 the same trials of one seed took 31% longer in the
evening than in the morning, and R, 142 s the day before, was 205 s and five minutes later
103 s), and --skip-r cannot see it.

    # the new defaults and the old ones (float32, Hyperband, 10 epochs), one session:
    python bench/search_speed.py --arch cnn --preset defaults --budget-minutes 60
    python bench/search_speed.py --arch cnn --preset old --budget-minutes 60 --skip-r SECONDS_PRINTED_ABOVE
    python bench/search_speed.py --arch cnn --compare bench/results/search_speed/speed-cnn-defaults.csv \\
        bench/results/search_speed/speed-cnn-old.csv
    # smoke test:
    python bench/search_speed.py --arch mlp --trials 3 --max-train-samples 600 --budget-minutes 1 \\
        --r-samples 2000 --output-dir /tmp/ss --storage sqlite:////tmp/ss/s.db
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import os
import platform
import re
import shlex
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from epoch_speed import seconds_per_50k

from tuning import attrs
from tuning.anytime import MAX_IDLE_SECONDS, AnytimeCurve, anytime_curve
from tuning.data.images import REFERENCES

if TYPE_CHECKING:
    from collections.abc import Iterator

    import plotly.graph_objects as go
    from optuna.trial import FrozenTrial

# The flags of the defaults before 2026-11-30; "defaults" passes no tuning flag at all.
PRESETS: dict[str, list[str]] = {
    "defaults": [],
    "old": shlex.split(
        "--epochs 10 --checks-per-epoch 1 --pruner hyperband --reduction-factor 3 --bootstrap-count 0"
        " --no-defaults-first --precision float32"
    ),
}
# (validation accuracy, what it is): the hand-tuned MLP's and ConvNet's test accuracies.
TARGETS = [(value, name) for name, value in REFERENCES if name.startswith("hand-tuned")]
R_MODEL = "cnn-bn"
COLUMNS = ["seconds", "r_units", "epochs_spent", "trial", "epoch", "val_accuracy", "best_val_accuracy"]


def main() -> None:
    args = _parse_args()
    out = Path(args.output_dir)
    out.mkdir(parents=True, exist_ok=True)
    if args.compare:
        _print_written(_write_compare([Path(p) for p in args.compare], out, f"compare-{args.arch}"))
        return
    study = args.study or f"speed-{args.arch}-{args.preset}"
    header = _header(measure_r(args.skip_r, args.r_samples))
    print(header, flush=True)
    command = _tune_command(args, study)
    make_sqlite_folder(args.storage)
    session = _run_tune(command, out / f"{study}.log", args.budget_minutes)
    r_after = measure_r(None, args.r_samples)[0] if args.check_r else None
    trials = _load_trials(args.storage, study)
    curve = anytime_curve(trials)
    rows = _curve_rows(curve, header.r_seconds)
    _write_csv(rows, out / f"{study}.csv")
    summary = _summary(header, command, session, trials, curve, rows) + r_drift(header.r_seconds, r_after)
    print(summary, flush=True)
    (out / f"{study}.txt").write_text(summary, encoding="utf-8")
    written = [out / f"{study}.csv", out / f"{study}.txt"]
    _print_written([*written, *_write_curve(rows, out, study)])


def _parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--arch", choices=["mlp", "cnn"], default="cnn")
    parser.add_argument("--preset", choices=list(PRESETS), default="defaults", help="old: " + " ".join(PRESETS["old"]))
    parser.add_argument("--trials", type=int, default=50)
    parser.add_argument(
        "--budget-minutes", type=float, default=None, help="SIGINT the search after this; default: none"
    )
    parser.add_argument("--storage", default="sqlite:///bench/results/search_speed.db")
    parser.add_argument("--study", default=None, help="default: speed-ARCH-PRESET")
    parser.add_argument("--max-train-samples", type=int, default=None, help="for smoke tests")
    parser.add_argument("--r-samples", type=int, default=10_000, help="images R is timed on (scaled to 50,000)")
    parser.add_argument("--skip-r", type=float, default=None, metavar="SECONDS", help="reuse an R measured earlier")
    parser.add_argument(
        "--check-r", action="store_true", help="measure R again after the search and say how far it moved"
    )
    parser.add_argument("--output-dir", default="bench/results/search_speed")
    parser.add_argument("--extra", default="", help='more `tune run` arguments, one string: --extra="--seed 1"')
    parser.add_argument(
        "--compare", nargs="+", metavar="CSV", help="only draw these saved curves against R, as compare-ARCH.html/.png"
    )
    args = parser.parse_args()
    if args.budget_minutes is not None and args.budget_minutes <= 0:
        parser.error(f"--budget-minutes must be positive, but got {args.budget_minutes}")
    return args


# --- the session: machine, R, the search ------------------------------------------------


@dataclass(frozen=True)
class Header:
    """Where and when the search ran, and R measured there."""

    date: str
    cores: int | None
    cpu: str
    avx512: list[str]
    r_seconds: float
    r_note: str

    def __str__(self) -> str:
        flags = " ".join(self.avx512) or "none"
        return (
            f"search_speed, {self.date}\n"
            f"machine: {self.cores} cores, {self.cpu}\n"
            f"avx512 flags: {flags}\n"
            f"R = {self.r_seconds:.1f} s ({self.r_note})"
        )


def _header(r: tuple[float, str]) -> Header:
    cpu, flags = _cpu()
    date = datetime.now(UTC).isoformat(timespec="seconds")
    return Header(date, os.cpu_count(), cpu, flags, *r)


def _cpu() -> tuple[str, list[str]]:
    """The CPU's model name and its avx512 flags, from /proc/cpuinfo."""
    try:
        text = Path("/proc/cpuinfo").read_text(encoding="utf-8")
    except OSError:
        return platform.processor() or "unknown", []
    model = re.search(r"^model name\s*:\s*(.+)$", text, re.MULTILINE)
    flags = sorted(set(re.findall(r"avx512[a-z_0-9]*", text)))
    return (model.group(1).strip() if model else platform.processor() or "unknown"), flags


def measure_r(skip_r: float | None, r_samples: int) -> tuple[float, str]:
    """R in seconds and how it was found: timed on `r_samples` images in a fresh process, or `skip_r` as given."""
    what = f"one float32 epoch of {R_MODEL} over 50,000 images at steps_per_execution 32"
    if skip_r is not None:
        return skip_r, f"{what}, given by --skip-r"
    print(f"measuring R on {r_samples} images (one warm-up epoch, one timed) ...", flush=True)
    try:
        seconds = seconds_per_50k(R_MODEL, r_samples)
    except subprocess.CalledProcessError as exc:
        sys.exit(f"measuring R failed:\n{exc.stderr}")
    return seconds, f"{what}, timed on {r_samples}"


R_DRIFT = 0.10  # R measured after a run this far from the R the run is read in: its figures in R are off


def drifted(r_seconds: float, r_after: float) -> bool:
    """Whether R measured after a run moved past R_DRIFT from the R the run's times are read in."""
    return abs(r_after / r_seconds - 1) > R_DRIFT


def r_drift(r_seconds: float, r_after: float | None, run: str = "search") -> str:
    """The summary's line on R measured again after the run (--check-r); empty without it."""
    if r_after is None:
        return ""
    verdict = (
        f"the machine's speed changed by more than {R_DRIFT:.0%}: the figures in R of this {run} are not comparable"
        if drifted(r_seconds, r_after)
        else f"within {R_DRIFT:.0%}"
    )
    return f"R after the {run} = {r_after:.1f} s ({r_after / r_seconds - 1:+.0%} from {r_seconds:.1f} s): {verdict}\n"


def _tune_command(args: argparse.Namespace, study: str) -> list[str]:
    command = [sys.executable, "-m", "tuning", "run", args.arch, "--trials", str(args.trials)]
    command += ["--study", study, "--storage", args.storage, *PRESETS[args.preset]]
    if args.max_train_samples is not None:
        command += ["--max-train-samples", str(args.max_train_samples)]
    return command + shlex.split(args.extra)


@dataclass(frozen=True)
class Session:
    """How this session's `tune run` went."""

    seconds: float
    returncode: int
    budget_hit: bool


def _run_tune(command: list[str], log_path: Path, budget_minutes: float | None) -> Session:
    """Run `command` to its end or to the budget; its output to the terminal and to `log_path`, appended."""
    started = time.monotonic()
    budget_hit = threading.Event()
    with launched(command, log_path) as (proc, log):
        timer = _budget_timer(proc, budget_minutes, budget_hit)
        stream(proc, log)
        returncode = proc.wait()
        if timer is not None:
            timer.cancel()
    return Session(time.monotonic() - started, returncode, budget_hit.is_set())


@contextlib.contextmanager
def launched(command: list[str], log_path: Path) -> Iterator[tuple[subprocess.Popen[bytes], IO[bytes]]]:
    """`command` started in a session of its own (a Ctrl-C here reaches it only through `interrupt`), unbuffered,
    its output piped for `stream`, with `log_path` opened for appending and the command written first."""
    print("$ " + shlex.join(command), flush=True)
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    with (
        log_path.open("ab") as log,
        subprocess.Popen(
            command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True, env=env
        ) as proc,
    ):
        log.write(("$ " + shlex.join(command) + "\n").encode())
        yield proc, log


def make_sqlite_folder(storage: str) -> None:
    """SQLite creates the database file, not the folder it goes in."""
    if storage.startswith("sqlite:///"):
        Path(storage.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)


def _budget_timer(proc: subprocess.Popen[bytes], minutes: float | None, hit: threading.Event) -> threading.Timer | None:
    if minutes is None:
        return None

    def stop() -> None:
        hit.set()
        print(f"\n[search_speed] budget of {minutes:g} min reached: SIGINT to tune", flush=True)
        interrupt(proc)

    timer = threading.Timer(minutes * 60, stop)
    timer.daemon = True
    timer.start()
    return timer


def interrupt(proc: subprocess.Popen[bytes]) -> None:
    """SIGINT to tune's whole process group (its workers too), as Ctrl-C in a terminal would."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGINT)


def stream(proc: subprocess.Popen[bytes], log: IO[bytes]) -> bool:
    """Copy the child's output until it closes; a Ctrl-C here is passed on to it (its own session misses it).

    Returns whether a Ctrl-C was passed on.
    """
    assert proc.stdout is not None
    ctrl_c = False
    while True:
        try:
            chunk = os.read(proc.stdout.fileno(), 65536)
        except KeyboardInterrupt:
            interrupt(proc)
            ctrl_c = True
            continue
        if not chunk:
            return ctrl_c
        sys.stdout.buffer.write(chunk)
        sys.stdout.flush()
        log.write(chunk)


# --- the curve ----------------------------------------------------------------------------


def _load_trials(storage: str, study: str) -> list[FrozenTrial]:
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    try:
        loaded = optuna.load_study(study_name=study, storage=storage)
    except KeyError:
        sys.exit(f"no study {study!r} in {storage}: the search stored nothing (see its output above)")
    return [t for t in loaded.get_trials(deepcopy=False) if t.datetime_start is not None]


def _curve_rows(curve: AnytimeCurve, r_seconds: float) -> list[dict[str, Any]]:
    return [
        {
            "seconds": round(point.seconds, 2),
            "r_units": round(point.seconds / r_seconds, 4),
            "epochs_spent": round(point.epochs_spent, 4),
            "trial": point.trial,
            "epoch": round(point.epoch, 4),
            "val_accuracy": point.val_accuracy,
            "best_val_accuracy": point.best,
        }
        for point in curve.points
    ]


def _write_csv(rows: list[dict[str, Any]], path: Path) -> None:
    with path.open("w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fieldnames=COLUMNS)
        writer.writeheader()
        writer.writerows(rows)


# --- the summary ------------------------------------------------------------------------


def _summary(
    header: Header,
    command: list[str],
    session: Session,
    trials: list[FrozenTrial],
    curve: AnytimeCurve,
    rows: list[dict[str, Any]],
) -> str:
    r = header.r_seconds
    budget = ", stopped by the budget" if session.budget_hit else ""
    lines = [
        str(header),
        "command: " + shlex.join(["python", *command[1:]]),
        f"this session: {_minutes(session.seconds)}, exit status {session.returncode}{budget}",
        "trials: " + _states(trials),
        f"epochs spent: {rows[-1]['epochs_spent'] if rows else 0:g} ({len(rows)} checks)",
        f"study wall-clock: {_minutes(curve.span_seconds)} = {curve.span_seconds / r:.1f} R" + _cut_note(curve),
        "best validation accuracy: " + _best(rows),
        *(_first_reached(rows, target, label, r) for target, label in TARGETS),
        *time_split(trials, r),
    ]
    return "\n".join(lines) + "\n"


def time_split(trials: list[FrozenTrial], r_seconds: float) -> list[str]:
    """Where the study's time went: each trial's span (start to end) by how it ended, then the part of those
    spans outside its checks (building, tracing is in check 1, notes, artifacts) and the gaps between trials."""
    ended = sorted((t for t in trials if t.datetime_start and t.datetime_complete), key=lambda t: t.datetime_start)
    if not ended:
        return []
    groups: dict[str, list[float]] = {}
    outside = between = 0.0
    for index, trial in enumerate(ended):
        span = (trial.datetime_complete - trial.datetime_start).total_seconds()  # type: ignore[operator]
        groups.setdefault(_outcome(trial), []).append(span)
        outside += span - sum(trial.user_attrs.get(attrs.CHECK_SECONDS, []))
        if index + 1 < len(ended):
            gap = (ended[index + 1].datetime_start - trial.datetime_complete).total_seconds()  # type: ignore[operator]
            between += gap if gap <= MAX_IDLE_SECONDS else 0.0

    def order(item: tuple[str, list[float]]) -> tuple[int, float]:
        name = item[0]
        rank = 0 if name == "start trial" else 1 if name == "complete" else 3 if name == "failed" else 2
        return rank, -float(name.rsplit(" ", 1)[-1]) if rank == 2 else 0.0

    parts = [
        f"{name}: {len(spans)} trial{'s' * (len(spans) != 1)}, {sum(spans) / r_seconds:.1f} R"
        for name, spans in sorted(groups.items(), key=order)
    ]
    return [
        "trial time by outcome: " + "; ".join(parts),
        f"within trials outside their checks: {outside / r_seconds:.1f} R; between trials: {between / r_seconds:.1f} R",
    ]


def _outcome(trial: FrozenTrial) -> str:
    if trial.user_attrs.get(attrs.START):
        return "start trial"
    if trial.state.name == "COMPLETE":
        return "complete"
    if trial.state.name == "PRUNED":
        return f"stopped at epoch {trial.user_attrs.get(attrs.EPOCHS_RUN, '?'):g}"
    return "failed"


def _states(trials: list[FrozenTrial]) -> str:
    counts = Counter(t.state.name.lower() for t in trials)
    interrupted = sum(t.user_attrs.get(attrs.FAIL_REASON) == "interrupted" for t in trials)
    text = ", ".join(f"{state} {n}" for state, n in sorted(counts.items())) or "none"
    return text + (f" ({interrupted} failed as interrupted)" if interrupted else "")


def _cut_note(curve: AnytimeCurve) -> str:
    if not curve.cuts:
        return " (first trial start to last trial end)"
    return (
        f" (first trial start to last trial end, less {curve.cuts} pause(s) of over "
        f"{MAX_IDLE_SECONDS:.0f} s with no trial running: {_minutes(curve.cut_seconds)})"
    )


def _best(rows: list[dict[str, Any]]) -> str:
    if not rows:
        return "none (no epoch finished)"
    top = max(rows, key=lambda row: row["val_accuracy"])
    return f"{top['val_accuracy']:.2%} (trial {top['trial']}, epoch {top['epoch']})"


def _first_reached(rows: list[dict[str, Any]], target: float, label: str, r_seconds: float) -> str:
    name = f"{target:.2%} ({label})"
    row = next((row for row in rows if row["best_val_accuracy"] >= target), None)
    if row is None:
        return f"{name}: not reached"
    return (
        f"{name}: first reached after {_minutes(row['seconds'])} = {row['seconds'] / r_seconds:.1f} R, "
        f"{row['epochs_spent']:g} epochs (trial {row['trial']}, epoch {row['epoch']:g})"
    )


def _minutes(seconds: float) -> str:
    return f"{seconds / 60:.1f} min"


# --- the figures ---------------------------------------------------------------------------


def _write_curve(rows: list[dict[str, Any]], out: Path, study: str) -> list[Path]:
    return write_figure(_curve_figure(rows, study), out, study) if rows else []


def write_figure(fig: go.Figure, out: Path, stem: str) -> list[Path]:
    """STEM.html, and STEM.png where tune's plots would write one (a Chromium is found).

    Not `tuning.render.write_figures`: its one-call export (plotly's write_images)
    ignores the layout's width, and three panels need more than the default 700 pixels.
    """
    from tuning.render import png_wanted, write_html

    written = [write_html(fig, out / f"{stem}.html")]
    if not png_wanted(None):
        return written
    try:
        fig.write_image(out / f"{stem}.png")
    except Exception as exc:  # kaleido/Chromium fail in many ways; the PNG is a convenience
        print(f"PNG export failed, wrote HTML only: {exc}", file=sys.stderr)
        return written
    return [*written, out / f"{stem}.png"]


def _curve_figure(rows: list[dict[str, Any]], title: str) -> go.Figure:
    """Running best (line) and every epoch's score (dots) against minutes, R and epochs spent."""
    from plotly.subplots import make_subplots

    axes = [("minutes", [row["seconds"] / 60 for row in rows]), ("R", [row["r_units"] for row in rows])]
    axes.append(("epochs spent", [row["epochs_spent"] for row in rows]))
    fig = make_subplots(rows=1, cols=3, shared_yaxes=True)
    best = [100 * row["best_val_accuracy"] for row in rows]
    scores = [100 * row["val_accuracy"] for row in rows]
    for col, (label, x) in enumerate(axes, start=1):
        dots = {"size": 5, "color": "rgba(80, 80, 80, 0.35)"}
        fig.add_scatter(
            x=x, y=scores, mode="markers", marker=dots, name="an epoch", showlegend=col == 1, row=1, col=col
        )
        line = {"color": "royalblue", "shape": "hv"}
        fig.add_scatter(x=x, y=best, mode="lines", line=line, name="best so far", showlegend=col == 1, row=1, col=col)
        fig.update_xaxes(title_text=label, row=1, col=col)
    _finish_accuracy_axis(fig, best, title)
    fig.update_yaxes(title_text="validation accuracy (%)", row=1, col=1)
    fig.update_layout(width=1200)
    return fig


def _finish_accuracy_axis(fig: go.Figure, best: list[float], title: str) -> None:
    """Percent axis zoomed on the running best, with the target accuracies as dotted lines."""
    low = min(best)
    if max(best) >= 85:
        low = max(low, 80.0)
    fig.update_yaxes(range=[low - 0.5, max(max(best), 100 * TARGETS[-1][0]) + 0.5])
    for (target, label), where in zip(TARGETS, ("bottom right", "top left"), strict=True):
        fig.add_hline(
            y=100 * target, line_dash="dot", line_color="gray", annotation_text=label, annotation_position=where
        )
    fig.update_layout(title_text=title, height=450)


def _write_compare(paths: list[Path], out: Path, stem: str) -> list[Path]:
    import plotly.graph_objects as go

    fig = go.Figure()
    best: list[float] = []
    for path in paths:
        rows = _read_csv(path)
        y = [100 * float(row["best_val_accuracy"]) for row in rows]
        x = [float(row["r_units"]) for row in rows]
        fig.add_scatter(x=x, y=y, mode="lines", line={"shape": "hv"}, name=path.stem)
        best += y
    fig.update_xaxes(title_text="R (epochs of the reference ConvNet)")
    fig.update_yaxes(title_text="best validation accuracy (%)")
    if best:
        _finish_accuracy_axis(fig, best, "best validation accuracy against R")
    fig.update_layout(width=900)
    return write_figure(fig, out, stem)


def _read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def _print_written(paths: list[Path]) -> None:
    for path in paths:
        print(f"wrote {path}")


if __name__ == "__main__":
    main()
