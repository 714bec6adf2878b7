from __future__ import annotations

import subprocess
import sys

import duckdb
import pytest

from harness.errors import HarnessError
from harness.store.database import Store
from harness.store.migrations import SCHEMA_VERSION

RUN = {
    "run_id": "r1", "task": "t", "task_version": "1", "spec_json": "{}", "spec_hash": "h", "data_fingerprint": "d",
}


def test_schema_version_is_recorded_and_checked(tmp_path):
    db = tmp_path / "h.duckdb"
    with Store.open(db) as store:
        assert store.schema_version() == SCHEMA_VERSION
    con = duckdb.connect(str(db))
    con.execute("UPDATE meta SET value = ? WHERE key = 'schema_version'", [str(SCHEMA_VERSION + 1)])
    con.close()
    with pytest.raises(HarnessError, match="written by a newer harness"):
        Store.open(db)


def test_foreign_database_is_refused(tmp_path):
    db = tmp_path / "other.duckdb"
    con = duckdb.connect(str(db))
    con.execute("CREATE TABLE stuff (x INT)")
    con.close()
    with pytest.raises(HarnessError, match="not a harness database"):
        Store.open(db)


def _prediction(example_id, output, error=None):
    from harness.records import Prediction

    return Prediction(example_id, [], output, error, 0.0, None, None)


def test_arm_rows_land_together_or_not_at_all(tmp_path):
    with Store.open(tmp_path / "h.duckdb") as store:
        store.start_run(dict(RUN))
        store.start_arm("r1", "a", "prompted", "baseline", {}, "c")
        with pytest.raises(ValueError):
            store.finish_arm("r1", "a", "test", [_prediction("e1", "x")],
                             [{"example_id": "e1", "metric": "m", "value": 1.0, "bogus": 1}], [], 1.0)
        assert store.predictions("r1") == []  # rolled back with the bad score row
        assert store.arms("r1")[0].status == "running"
        store.finish_arm("r1", "a", "test", [_prediction("e1", "x", "boom")],
                         [{"example_id": "e1", "metric": "m", "value": 0.0}],
                         [{"metric": "m", "value": 0.0, "n": 1, "n_failed": 1}], 2.0)
        arm = store.arms("r1")[0]
        assert (arm.status, arm.n_examples, arm.n_failed) == ("completed", 1, 1)


def test_failed_run_keeps_no_rows_of_unfinished_arms(tmp_path):
    with Store.open(tmp_path / "h.duckdb") as store:
        store.start_run(dict(RUN))
        store.start_arm("r1", "done", "prompted", "baseline", {}, "c")
        store.finish_arm("r1", "done", "test", [_prediction("e1", "x")],
                         [{"example_id": "e1", "metric": "m", "value": 1.0}],
                         [{"metric": "m", "value": 1.0, "n": 1, "n_failed": 0}], 1.0)
        store.start_arm("r1", "half", "prompted", "baseline", {}, "c")
        store.fail_run("r1", "KeyboardInterrupt: ")
        assert store.run("r1").status == "failed"
        statuses = {a.arm: a.status for a in store.arms("r1")}
        assert statuses == {"done": "completed", "half": "failed"}
        assert {p.arm for p in store.predictions("r1")} == {"done"}


def test_a_killed_run_is_marked_killed_on_next_open(tmp_path):
    db = tmp_path / "h.duckdb"
    code = (
        f"import os; from harness.store.database import Store; s = Store.open({str(db)!r});"
        "s.start_run({'run_id': 'k', 'task': 't', 'task_version': '1', 'spec_json': '{}', 'spec_hash': 'h',"
        " 'data_fingerprint': 'd'}); s.start_arm('k', 'a', 'prompted', 'baseline', {}, 'c'); s.close(); os._exit(9)"
    )
    proc = subprocess.run([sys.executable, "-c", code])
    assert proc.returncode == 9
    with Store.open(db, read_only=True) as store:  # a reader that cannot write still sees it as killed
        assert store.run("k").status == "killed" and store.runs()[0].status == "killed"
        assert store.arms("k")[0].status == "killed"
        assert store.query("SELECT status FROM runs")[0][0] == "running"  # nothing was written
    with Store.open(db) as store:
        run = store.run("k")
        assert run.status == "killed" and "ended without finishing" in (run.error or "")
        assert store.arms("k")[0].status == "killed"
        assert store.query("SELECT status FROM runs")[0][0] == "killed"


def test_read_only_open_of_missing_db(tmp_path):
    with pytest.raises(HarnessError, match="no such database"):
        Store.open(tmp_path / "none.duckdb", read_only=True)


def test_an_older_database_is_upgraded_in_place(tmp_path):
    from harness.store.migrations import MIGRATIONS

    db = tmp_path / "old.duckdb"
    con = duckdb.connect(str(db))
    con.execute("CREATE TABLE meta (key VARCHAR PRIMARY KEY, value VARCHAR)")
    con.execute(MIGRATIONS[0])
    con.execute("INSERT INTO meta VALUES ('schema_version', '1')")
    con.execute("INSERT INTO runs (run_id, task, task_version, spec_json, spec_hash, data_fingerprint, status, started_at)"
                " VALUES ('old', 't', '1', '{}', 'h', 'd', 'completed', now())")
    con.close()
    with Store.open(db) as store:
        assert store.schema_version() == SCHEMA_VERSION
        assert store.run("old").status == "completed"
        assert store.findings("old") == []
