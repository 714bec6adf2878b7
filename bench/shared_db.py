"""What one database for many processes costs: the store connects per operation (so other processes can
write and read between operations) instead of holding the file for a whole run.

    .venv/bin/python bench/shared_db.py            # 12 arms of 200 predictions each, as a run writes them

Side by side, in one invocation:
  held      the run's writes through one connection held throughout (what a single writer could do)
  per-op    the same writes, each operation on its own connection (what the store does)
  2 runs    two processes doing per-op writes to one file at once, against twice one alone
  reader    how long `history`-style reads take while the two writers go on
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

WRITER = """
import sys, time
sys.path.insert(0, {root!r})
from bench.shared_db import write_run
from harness.store.database import Store
store = Store.open(sys.argv[1])
began = time.perf_counter()
write_run(store, sys.argv[2], held=False)
print(time.perf_counter() - began, store.waited_s, store.opens)
"""


def write_run(store, run_id: str, held: bool, arms: int = 12, items: int = 200) -> None:
    from harness.records import Prediction

    def body() -> None:
        store.start_run({"run_id": run_id, "task": "bench", "task_version": "1", "spec_json": "{}",
                         "spec_hash": "h", "data_fingerprint": "d"})
        store.add_examples(run_id, [{"split": "test", "example_id": f"e{i}", "input_json": "[]", "target": "t"}
                                    for i in range(items)])
        for a in range(arms):
            arm = f"arm{a}"
            store.start_arm(run_id, arm, "prompted", "baseline", {}, "c")
            predictions = [Prediction(f"e{i}", [{"role": "user", "content": "x" * 200}], "answer " * 10, None, 0.1,
                                      80, 12) for i in range(items)]
            scores = [{"example_id": f"e{i}", "metric": m, "value": 1.0} for i in range(items) for m in ("a", "b")]
            metrics = [{"metric": m, "value": 1.0, "n": items, "n_failed": 0} for m in ("a", "b")]
            store.finish_arm(run_id, arm, "test", predictions, scores, metrics, 1.0)
        for _ in range(20):
            store.runs("bench")  # the progress reads a run makes between writes
        store.finish_run(run_id, None, None)

    if held:
        with store.session():
            body()
    else:
        body()


def main() -> None:
    from harness.store.database import Store

    with tempfile.TemporaryDirectory(prefix="shared-db-") as tmp:
        db = Path(tmp) / "h.duckdb"
        store = Store.open(db)
        began = time.perf_counter()
        write_run(store, "held", held=True)
        held = time.perf_counter() - began
        store = Store.open(db)
        began = time.perf_counter()
        write_run(store, "perop", held=False)
        per_op, opens = time.perf_counter() - began, store.opens

        code = WRITER.format(root=str(ROOT))
        began = time.perf_counter()
        writers = [subprocess.Popen([sys.executable, "-c", code, str(db), f"w{i}"], stdout=subprocess.PIPE, text=True)
                   for i in range(2)]
        reads = []
        while any(w.poll() is None for w in writers):
            t = time.perf_counter()
            with Store.open(db, read_only=True) as reader, reader.session():
                reader.runs("bench")
                for row in reader.runs("bench")[-3:]:
                    reader.arms(row["run_id"])
            reads.append(time.perf_counter() - t)
            time.sleep(0.05)
        both = time.perf_counter() - began
        results = [w.communicate()[0].split() for w in writers]
        assert all(w.returncode == 0 for w in writers)
        assert [r["status"] for r in Store.open(db, read_only=True).runs("bench")] == ["completed"] * 4
    waited = [float(r[1]) for r in results]
    print(f"held     {held:6.2f} s  one connection for the whole run")
    print(f"per-op   {per_op:6.2f} s  {opens} connections    ratio per-op/held {per_op / held:5.2f}"
          f"  ({(per_op - held) / opens * 1000:.0f} ms a connection)")
    print(f"2 runs   {both:6.2f} s  at once on one file    ratio vs 2 x per-op {both / (2 * per_op):5.2f}"
          f"  (lock waits {waited[0]:.2f} s, {waited[1]:.2f} s)")
    print(f"reader   median {statistics.median(reads) * 1000:5.0f} ms, max {max(reads) * 1000:5.0f} ms over "
          f"{len(reads)} reads during the two runs")


if __name__ == "__main__":
    main()
