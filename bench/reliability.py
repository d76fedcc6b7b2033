"""Reliability figures from one run: parallel workers, kills, interrupts and bad input.

Everything is real: `tune` commands in subprocesses, SQLite files and a throwaway
PostgreSQL server on a free loopback port (Debian's `postgresql`), tiny Fashion-MNIST
subsets so that the whole run takes a few minutes on 2 cores.

    python bench/reliability.py [--kills 3] [--trials 12]
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "tests"))
from procs import tune_process, wait_for_running_trial  # noqa: E402

TINY = ["--epochs", "1", "--max-train-samples", "300"]


def tune(args: list[str], cwd: Path) -> subprocess.Popen[str]:
    return tune_process(args, cwd)


def finish(proc: subprocess.Popen) -> tuple[int, str]:
    out, err = proc.communicate(timeout=900)
    return proc.returncode, out + err


def study_health(storage: str, study: str, total: int) -> tuple[bool, dict[str, int]]:
    """(total held exactly with nothing left running, trials by state)."""
    import optuna

    from tuning.search.study import state_counts
    from tuning.search.worker import slots_used

    trials = optuna.load_study(study_name=study, storage=storage).get_trials()
    counts = state_counts(trials)
    settled = counts["RUNNING"] == 0 and counts["WAITING"] == 0
    return settled and slots_used(trials) == total, counts


def parallel(storage: str, work: Path, study: str, total: int, commands: int, jobs: int) -> str:
    args = ["run", "mlp", "--study", study, "--storage", storage, "--trials", str(total), "--jobs", str(jobs), *TINY]
    finish(tune([*args[:6], "--trials", "1", *TINY], work))  # create the study before the crowd arrives
    started = time.monotonic()
    procs = [tune(args, work) for _ in range(commands)]
    results = [finish(proc) for proc in procs]
    seconds = time.monotonic() - started
    locked = sum("locked" in text for _, text in results)
    exact, counts = study_health(storage, study, total)
    ok = all(code == 0 for code, _ in results) and exact and locked == 0
    return (
        f"{commands} command(s) x {jobs} worker(s), {total} trials: {'held' if ok else 'FAILED'} "
        f"(complete {counts['COMPLETE']}, pruned {counts['PRUNED']}, failed {counts['FAIL']}, "
        f"running {counts['RUNNING']}, lock errors {locked}, {seconds:.0f} s)"
    )


def kills(work: Path, rounds: int) -> str:
    import optuna

    storage = f"sqlite:///{work / 'kills.db'}"
    args = (
        f"run mlp --study kills --storage {storage} --trials {rounds + 1} --epochs 4 --max-train-samples 2000 "
        "--pruner none --heartbeat 1"
    ).split()
    killed = []
    for _ in range(rounds):
        victim = tune(args, work)
        killed.append(wait_for_running_trial(storage, victim, "kills"))
        os.killpg(victim.pid, signal.SIGKILL)
        victim.wait()
    code, _ = finish(tune(args, work))
    from tuning.search.worker import retried_numbers

    trials = optuna.load_study(study_name="kills", storage=storage).get_trials()
    retried = retried_numbers(trials)
    lost = [n for n in killed if n not in retried]
    exact, _ = study_health(storage, "kills", rounds + 1)
    return (
        f"{rounds} SIGKILLs mid-trial: trials lost {len(lost)}, total held {exact and code == 0}, "
        f"every killed trial retried with its parameters: {not lost}"
    )


def interrupts(work: Path) -> str:
    survived = 0
    for number, (sig, jobs) in enumerate(
        [(signal.SIGINT, 1), (signal.SIGTERM, 1), (signal.SIGINT, 2), (signal.SIGTERM, 2)]
    ):
        storage, study = f"sqlite:///{work / f'int{number}.db'}", "int"
        args = (
            f"run mlp --study {study} --storage {storage} --trials 3 --jobs {jobs} --epochs 4 "
            "--max-train-samples 2000 --pruner none"
        ).split()
        proc = tune(args, work)
        wait_for_running_trial(storage, proc, study)
        os.killpg(proc.pid, sig) if sig == signal.SIGINT else proc.send_signal(sig)
        code, text = finish(proc)
        clean = code == 128 + sig and "Traceback" not in text
        resumed, _ = finish(tune(args, work))
        exact, _ = study_health(storage, study, 3)
        survived += clean and resumed == 0 and exact
    return f"interrupts (SIGINT/SIGTERM, 1 and 2 workers): {survived} of 4 left a consistent study that resumed"


def bad_inputs(work: Path, postgres_url: str) -> str:
    (work / "bad.toml").write_text('arch = "mlp"\n[params.l2]\ntype = "float"\nlow = 1\nhigh = 0.1\n')
    (work / "corrupt.db").write_bytes(b"\x00not sqlite" * 100)
    (work / "empty").mkdir(exist_ok=True)
    cases = [
        ["run", "rnn"],
        ["run", "mlp", "--trials", "0"],
        ["run", "mlp", "--trials", "-1"],
        ["run", "mlp", "--space", "bad.toml"],
        ["run", "mlp", "--space", "missing.toml"],
        ["run", "mlp", "--data-dir", "empty"],
        ["run", "mlp", "--storage", "nonsense://x"],  # a bare name is a SQLite file's path, not bad input
        ["run", "mlp", "--storage", postgres_url.replace("tune-test-pw", "wrong-pw")],
        ["run", "mlp", "--storage", "postgresql://u:pw@127.0.0.1:9/x"],
        ["studies", "--storage", "sqlite:///corrupt.db"],
        ["studies", "--storage", "sqlite:///none/x.db"],
        ["export", "nope", "--storage", "sqlite:///kills.db"],
        ["plots", "nope", "--storage", "sqlite:///kills.db"],
    ]
    clean = 0
    for args in cases:
        code, text = finish(tune(args, work))
        lines = [line for line in text.splitlines() if line.strip()]
        one_line = len(lines) == 1 and lines[0].startswith("tune: error:")
        if code == 2 and one_line and "pw" not in lines[0].replace("***", ""):
            clean += 1
        else:
            print(f"  not clean: tune {' '.join(args)} -> exit {code}, {len(lines)} lines", flush=True)
    return f"bad inputs: {clean} of {len(cases)} rejected with one clean line, exit 2, no password shown"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--kills", type=int, default=3)
    parser.add_argument("--trials", type=int, default=12)
    args = parser.parse_args()
    from pgserver import postgres_server

    started = time.monotonic()
    with tempfile.TemporaryDirectory() as tmp, postgres_server() as postgres_url:
        work = Path(tmp)
        print(f"reliability, {time.strftime('%Y-%m-%d')}, {os.cpu_count()} cores")
        print("SQLite      ", parallel(f"sqlite:///{work / 'par.db'}", work, "par", args.trials, 1, 4), flush=True)
        print("PostgreSQL  ", parallel(postgres_url, work, "pg", args.trials, 3, 1), flush=True)
        print("kills       ", kills(work, args.kills), flush=True)
        print("interrupts  ", interrupts(work), flush=True)
        print("bad input   ", bad_inputs(work, postgres_url), flush=True)
    print(f"took {time.monotonic() - started:.0f} s")


if __name__ == "__main__":
    main()
