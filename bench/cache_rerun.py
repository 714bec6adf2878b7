"""A warm re-run against the cold run it repeats: `harness run` twice on one database and work folder, the
second with nothing changed (every arm's results, the sweep's trials and the suite come from the store).

    .venv/bin/python bench/cache_rerun.py                      # tasks/contracts.yaml, its default profile
    .venv/bin/python bench/cache_rerun.py tasks/support_tickets.yaml --arm zero_shot --arm zero_shot_choice

Prints both wall times and the ratio (the goal: warm <= 5% of cold). The embedded model's one-time
conversion is done first, so the cold run measures the task, not the install.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
HARNESS = [sys.executable, "-m", "harness.cli"]


def timed_run(task: str, work: Path, extra: list[str]) -> float:
    began = time.perf_counter()
    subprocess.run(HARNESS + ["run", task, "--db", str(work / "h.duckdb"), "--reports", str(work / "reports"),
                              "--workdir", str(work / "exp"), "--quiet", *extra], cwd=ROOT, check=True,
                   stdout=subprocess.DEVNULL)
    return time.perf_counter() - began


def main() -> None:
    task, extra = (sys.argv[1], sys.argv[2:]) if len(sys.argv) > 1 else ("tasks/contracts.yaml", [])
    subprocess.run(HARNESS + ["validate", task, "--quiet"], cwd=ROOT, check=True, stdout=subprocess.DEVNULL)
    with tempfile.TemporaryDirectory(prefix="cache-bench-") as tmp:
        work = Path(tmp)
        cold = timed_run(task, work, extra)
        warm = timed_run(task, work, extra)
    print(f"{task} {' '.join(extra)}")
    print(f"cold run  {cold:8.1f} s")
    print(f"warm run  {warm:8.1f} s")
    print(f"warm/cold {warm / cold:8.3f}  ({'within' if warm <= 0.05 * cold else 'above'} the 5% goal)")


if __name__ == "__main__":
    main()
