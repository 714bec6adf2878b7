"""Many processes, one database: runs write in short transactions and wait for each other; readers read
while runs go on."""

from __future__ import annotations

import subprocess
import sys
import time

import pytest
from conftest import write_tiny_task

from harness.cli import main
from harness.errors import HarnessError
from harness.store.database import Store

HOLD = """
import sys, time, duckdb
con = duckdb.connect(sys.argv[1])
print("holding", flush=True)
time.sleep(float(sys.argv[2]))
con.close()
"""


def _hold(db, seconds: float) -> subprocess.Popen:
    """Another process with the database open for writing, as a run is while it writes."""
    proc = subprocess.Popen([sys.executable, "-c", HOLD, str(db), str(seconds)], stdout=subprocess.PIPE, text=True)
    assert proc.stdout.readline().strip() == "holding"
    return proc


def test_a_reader_waits_while_another_process_writes_then_reads(tmp_path):
    db = tmp_path / "h.duckdb"
    Store.open(db)  # creates the schema
    holder = _hold(db, 1.5)
    began = time.monotonic()
    store = Store.open(db, read_only=True)
    assert store.runs() == []
    assert time.monotonic() - began >= 1.0 and store.waited_s > 0
    holder.wait()


def test_waiting_ends_with_a_clear_error(tmp_path):
    db = tmp_path / "h.duckdb"
    Store.open(db)
    holder = _hold(db, 3)
    try:
        with pytest.raises(HarnessError, match=r"another process held the database for \d+ s \(HARNESS_DB_WAIT_S=0.3\)"):
            Store.open(db, wait_s=0.3)
    finally:
        holder.wait()


def test_two_runs_on_one_database_both_complete_and_history_reads_during_them(tmp_path, tiny_model, capsys):
    task = write_tiny_task(tmp_path, tiny_model, n_test=12)
    db = tmp_path / "h.duckdb"
    runs = [
        subprocess.Popen([sys.executable, "-m", "harness.cli", "run", str(task), "--db", str(db), "--quiet",
                          "--reports", str(tmp_path / f"reports{i}"), "--workdir", str(tmp_path / f"exp{i}"),
                          "--seed", str(i)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for i in range(2)
    ]
    seen_running = 0
    while any(p.poll() is None for p in runs):
        if db.is_file() and main(["history", "--db", str(db), "--task", "tiny"]) == 0:
            if "running" in capsys.readouterr().out and any(p.poll() is None for p in runs):
                seen_running += 1
        time.sleep(0.2)
    outputs = [p.communicate() for p in runs]
    assert [p.returncode for p in runs] == [0, 0], outputs
    assert seen_running > 0  # history answered while a run was still going
    store = Store.open(db, read_only=True)
    rows = store.runs("tiny")
    assert [r.status for r in rows] == ["completed", "completed"]
    for row in rows:
        assert {a.arm: a.status for a in store.arms(row.run_id)} == \
            {"zero_shot": "completed", "two_shot": "completed"}
        assert len(store.predictions(row.run_id)) == 24
