"""Several `bench/search_speed.py` studies (seeds, with and without the start trial) summed up: mean and spread.

Reads each study from the storage and its R from the STUDY.txt that search_speed.py wrote
beside its curve (R differs between sessions: each study is measured in its own R); a study
the storage no longer holds (run on another machine) is read from that committed STUDY.txt
alone, where "best sampled" is known only if the best trial is not the start trial. Per
study: trials and their states, the study's wall-clock (tuning/anytime.py's rule) in R,
when the best validation accuracy first reached the hand-tuned references, the best
trial and whether it is the start configuration, and R measured again after the search where
search_speed.py --check-r did (the study's cost is then also given in that R: where the
machine's speed moved, the truth lies between the two). Then the mean, standard deviation and
range of each figure over the studies given; a study that did not finish its trials is
marked partial and its cost left out of the mean (it would understate it).

    python bench/search_seeds.py --trials 50 --output bench/results/search_speed/seeds-cnn.md \\
        top5-cnn-s1 top5-cnn-s2 top5-cnn-s3
"""

from __future__ import annotations

import argparse
import re
import statistics
import sys
from pathlib import Path
from typing import Any

from search_speed import R_DRIFT, drifted

from tuning import attrs
from tuning.anytime import anytime_curve
from tuning.data.images import REFERENCES

TARGETS = [(value, name) for name, value in REFERENCES if name.startswith("hand-tuned")]


def main() -> None:
    args = _parse_args()
    rows = [_row(study, args) for study in args.studies]
    text = _markdown(rows, args)
    print(text, end="")
    if args.output:
        Path(args.output).write_text(text, encoding="utf-8")
        print(f"wrote {args.output}")


def _parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("studies", nargs="+")
    parser.add_argument("--storage", default="sqlite:///bench/results/search_speed.db")
    parser.add_argument("--results", default="bench/results/search_speed", help="where the STUDY.txt files are")
    parser.add_argument("--trials", type=int, default=50, help="trials a finished study holds")
    parser.add_argument("--output", default=None, help="also write the table here (markdown)")
    return parser.parse_args()


def _row(study: str, args: argparse.Namespace) -> dict[str, Any]:
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    summary = Path(args.results) / f"{study}.txt"
    try:
        trials = optuna.load_study(study_name=study, storage=args.storage).get_trials(deepcopy=False)
    except KeyError:
        if summary.is_file():
            return row_from_summary(study, summary.read_text(encoding="utf-8"), args.trials)
        sys.exit(f"no study {study!r} in {args.storage}, and no {summary}")
    text = summary.read_text(encoding="utf-8") if summary.is_file() else ""
    r_seconds, r_after = _r_seconds(text, summary), r_after_search(text)
    curve = anytime_curve(trials)
    states = [t.state.name for t in trials]
    complete = [t for t in trials if t.state.name == "COMPLETE"]
    best = max(complete, key=lambda t: t.value or 0.0, default=None)
    row: dict[str, Any] = {
        "study": study,
        "R": r_seconds,
        "R_after": r_after,
        "trials": len(trials),
        "finished": len(trials) >= args.trials and "RUNNING" not in states,
        "complete": states.count("COMPLETE"),
        "pruned": states.count("PRUNED"),
        "failed": states.count("FAIL"),
        "cost_R": curve.span_seconds / r_seconds,
        "best": best.value if best else None,
        "best_is_start": bool(best and best.user_attrs.get(attrs.START)),
        "best_sampled": max((t.value or 0.0 for t in complete if not t.user_attrs.get(attrs.START)), default=None),
    }
    for value, _ in TARGETS:
        hit = curve.reached(value)
        row[f"to_{value}"] = None if hit is None else hit.seconds / r_seconds
    return row


def row_from_summary(study: str, text: str, trials_wanted: int) -> dict[str, Any]:
    """The row of a study from the STUDY.txt search_speed.py wrote, for one the storage no longer holds."""

    def line(prefix: str) -> str:
        found = re.search(rf"^{re.escape(prefix)}(.*)$", text, re.MULTILINE)
        if found is None:
            sys.exit(f"{study}.txt has no line {prefix!r}: not a bench/search_speed.py summary")
        return found.group(1)

    r_seconds = float(line("R = ").split(" s", 1)[0])
    states = {name: int(n) for name, n in re.findall(r"([a-z]+) (\d+)", line("trials: ").split(" (", 1)[0])}
    best = re.match(r"([0-9.]+)% \(trial (\d+)", line("best validation accuracy: "))
    starts = line("trial time by outcome: ").startswith("start trial: 1 trial,")  # listed first
    best_is_start = bool(best and starts and best.group(2) == "0")  # tune enqueues the start as trial 0
    value = float(best.group(1)) / 100 if best else None
    row: dict[str, Any] = {
        "study": study,
        "R": r_seconds,
        "R_after": r_after_search(text),
        "trials": sum(states.values()),
        "finished": sum(states.values()) >= trials_wanted and "running" not in states,
        "complete": states.get("complete", 0),
        "pruned": states.get("pruned", 0),
        "failed": states.get("fail", 0),
        "cost_R": float(re.search(r"= ([0-9.]+) R", line("study wall-clock: ")).group(1)),  # type: ignore[union-attr]
        "best": value,
        "best_is_start": best_is_start,
        "best_sampled": None if best_is_start else value,
    }
    for target, label in TARGETS:
        hit = re.search(r"= ([0-9.]+) R", line(f"{target:.2%} ({label}): "))
        row[f"to_{target}"] = float(hit.group(1)) if hit else None
    return row


def r_after_search(text: str) -> float | None:
    """R measured again after the search (search_speed.py --check-r), from a STUDY.txt; None where it was not."""
    found = re.search(r"^R after the search = ([0-9.]+) s", text, re.MULTILINE)
    return float(found.group(1)) if found else None


def _r_seconds(text: str, summary: Path) -> float:
    """R as search_speed.py measured (or was given) it for this study: the first "R = ... s" line of its summary."""
    found = re.search(r"^R = ([0-9.]+) s", text, re.MULTILINE)
    if found is None:
        sys.exit(f"no R in {summary}: run bench/search_speed.py for this study first")
    return float(found.group(1))


def _markdown(rows: list[dict[str, Any]], args: argparse.Namespace) -> str:
    targets = [f"R to {value:.2%}" for value, _ in TARGETS]
    headings = [
        "study",
        "R (s)",
        "R after (s)",
        "trials",
        "complete",
        "pruned",
        "failed",
        "cost (R)",
        *targets,
        "best",
        "best sampled",
    ]
    lines = ["| " + " | ".join(headings) + " |", "|" + "---|" * len(headings)]
    for row in rows:
        cost = f"{row['cost_R']:.1f}" + ("" if row["finished"] else f" (partial, {row['trials']}/{args.trials})")
        if row["R_after"] is not None:
            cost += f"; {_cost_after(row):.1f} in R after"
        best = _pct(row["best"]) + (" (start)" if row["best_is_start"] else "")
        cells = [row["study"], f"{row['R']:.1f}", _after(row), str(row["trials"]), str(row["complete"])]
        cells += [
            str(row["pruned"]),
            str(row["failed"]),
            cost,
            *(_num(row[f"to_{v}"]) for v, _ in TARGETS),
            best,
            _pct(row["best_sampled"]),
        ]
        lines.append("| " + " | ".join(cells) + " |")
    finished = [row for row in rows if row["finished"]]
    lines += ["", f"Over {len(rows)} studies ({len(finished)} finished; cost over finished ones only):", ""]
    lines += [
        _spread("complete trials", [row["complete"] for row in rows]),
        _spread("cost (R)", [row["cost_R"] for row in finished]),
        *_spread_after(finished),
        *(_spread(f"R to {v:.2%}", [row[f"to_{v}"] for row in rows]) for v, _ in TARGETS),
        _spread("best validation accuracy", [row["best"] for row in rows], percent=True),
    ]
    return "\n".join(lines) + "\n"


def _spread_after(rows: list[dict[str, Any]]) -> list[str]:
    """The cost's spread read in R measured after each search, where every finished study measured it."""
    if not rows or any(row["R_after"] is None for row in rows):
        return []
    return [_spread("cost (R after)", [_cost_after(row) for row in rows])]


def _cost_after(row: dict[str, Any]) -> float:
    """The study's cost read in the R measured after its search."""
    return float(row["cost_R"] * row["R"] / row["R_after"])


def _after(row: dict[str, Any]) -> str:
    if row["R_after"] is None:
        return "not measured"
    over = f", over {R_DRIFT:.0%}" if drifted(row["R"], row["R_after"]) else ""
    return f"{row['R_after']:.1f} ({row['R_after'] / row['R'] - 1:+.0%}{over})"


def _spread(name: str, values: list[Any], *, percent: bool = False) -> str:
    known = [float(v) for v in values if v is not None]
    missing = len(values) - len(known)
    if not known:
        return f"- {name}: none" + (f" ({missing} not reached)" if missing else "")
    show = _pct if percent else (lambda v: f"{v:.1f}")
    sd = show(statistics.stdev(known)) if len(known) > 1 else "- (one value)"
    text = f"- {name}: mean {show(statistics.fmean(known))}, sd {sd}, range {show(min(known))}-{show(max(known))}"
    return text + f" (n={len(known)}" + (f"; {missing} not reached" if missing else "") + ")"


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{value:.2%}"


def _num(value: float | None) -> str:
    return "not reached" if value is None else f"{value:.1f}"


if __name__ == "__main__":
    main()
