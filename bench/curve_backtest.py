"""The learning curve's backtest on the shipped tasks, and what the curve costs: `harness run --profile curve` on
contracts and support_tickets, then, from the store, each curve fitted on its smaller points predicting the largest.

    .venv/bin/python bench/curve_backtest.py                         # both tasks, cold (estimate: 45-60 min, 2 cores)
    .venv/bin/python bench/curve_backtest.py tasks/support_tickets.yaml --work /tmp/curve  # keep db and reports
    .venv/bin/python bench/curve_backtest.py --read /tmp/curve/h.duckdb                    # only read a database

Prints per task: the run's wall time and the seconds its stage table gives the curve (training, answering and
scoring the points, the fit), then per tuned arm: the sizes, the backtest (predicted metric at the largest size
with its interval, the measured one, the error, whether the interval held it) and the verdict's curve sentence.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
TASKS = ["tasks/contracts.yaml", "tasks/support_tickets.yaml"]
CURVE_STAGES = ("curve training", "curve answers", "curve scoring", "curve fit")


def timed_run(task: str, work: Path, profile: str) -> float:
    began = time.perf_counter()
    subprocess.run([sys.executable, "-m", "harness.cli", "run", task, "--profile", profile, "--db",
                    str(work / "h.duckdb"), "--reports", str(work / "reports"), "--workdir", str(work / "exp"),
                    "--quiet"], cwd=ROOT, check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - began


def show(db: Path, tasks: list[str], walls: dict[str, float]) -> None:
    from harness.readside.results import curves
    from harness.spec.taskfile import load_spec
    from harness.store.database import Store
    from harness.verdict.curve import sentence

    store = Store.open(db, read_only=True)
    print("| task | arm | sizes | backtest: fitted on | predicted at the largest [interval] | measured | error | "
          "held |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- |")
    notes = []
    for task in tasks:
        name = load_spec(task).spec.name
        run_id = store.latest_run(name)
        seconds: dict[str, float] = {}
        for row in store.stages(run_id):
            seconds[row.stage] = seconds.get(row.stage, 0.0) + row.seconds
        total = sum(seconds.values())
        curve = sum(seconds.get(s, 0.0) for s in CURVE_STAGES)
        wall = f"{walls[task]:.0f} s wall, " if task in walls else ""
        notes.append(f"{name} ({run_id}): {wall}{total:.0f} s in the stage table, of which the curve "
                     f"{curve:.0f} s ({', '.join(f'{s} {seconds.get(s, 0.0):.0f} s' for s in CURVE_STAGES)})")
        for a in curves(store, run_id):
            sizes = ", ".join(str(s.size) for s in a.sizes)
            b = a.backtest
            if b is None:
                print(f"| {name} | {a.arm} | {sizes} | (fewer than four sizes: no backtest) | | | | |")
            else:
                print(f"| {name} | {a.arm} | {sizes} | {', '.join(map(str, b.fitted_sizes))} | {a.metric} "
                      f"{b.predicted:.3f} [{b.low:.3f}, {b.high:.3f}] at {b.size} | {b.observed:.3f} | "
                      f"{b.error:+.3f} | {'yes' if b.covered else 'no'} |")
            notes.append(f"  {sentence(a)}")
    print()
    print("\n".join(notes))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("tasks", nargs="*", default=TASKS)
    parser.add_argument("--profile", default="curve")
    parser.add_argument("--work", type=Path, help="keep the database, reports and adapters here (default: a temp dir)")
    parser.add_argument("--read", type=Path, help="only read this database's latest run of each task")
    args = parser.parse_args()
    if args.read:
        show(args.read, args.tasks, {})
        return
    with tempfile.TemporaryDirectory(prefix="curve-backtest-") as tmp:
        work = args.work or Path(tmp)
        walls = {task: timed_run(task, work, args.profile) for task in args.tasks}
        show(work / "h.duckdb", args.tasks, walls)


if __name__ == "__main__":
    main()
