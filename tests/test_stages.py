"""Stage times: written in order as each stage ends, kept when the run fails or is killed, and shown as shares
of the run's wall time."""

from __future__ import annotations

import subprocess
import sys
from datetime import datetime, timedelta

import pytest

from harness.report.timing import duration, stage_times
from harness.run.timing import StageClock
from harness.store.database import Store
from harness.store.records import StageRecord

RUN = {
    "run_id": "r1", "task": "t", "task_version": "1", "spec_json": "{}", "spec_hash": "h", "data_fingerprint": "d",
}


def test_stages_are_stored_in_order_and_read_back(tmp_path):
    with Store.open(tmp_path / "h.duckdb") as store:
        store.start_run(dict(RUN))
        store.start_run(dict(RUN, run_id="r2"))
        store.add_stage("r1", "resolve", 1.5, started_at=1_700_000_000.0)
        store.add_stage("r2", "resolve", 9.0)
        store.add_stage("r1", "test answers", 12.25, arm="zero_shot")
        store.add_stage("r1", "prepare", 3.0, arm="lora", started_at=datetime(2026, 1, 2, 3, 4, 5), failed=True)
        rows = store.stages("r1")
        assert [(r.position, r.stage, r.arm, r.seconds, r.failed) for r in rows] == [
            (1, "resolve", None, 1.5, False), (2, "test answers", "zero_shot", 12.25, False),
            (3, "prepare", "lora", 3.0, True)]
        assert rows[0].started_at == datetime(2023, 11, 14, 22, 13, 20)  # a Unix time, stored as UTC
        assert rows[2].started_at == datetime(2026, 1, 2, 3, 4, 5)
        assert [r.position for r in store.stages("r2")] == [1]  # each run numbers its own


def test_the_clock_holds_stages_until_the_run_exists_and_keeps_them_through_a_failure(tmp_path):
    clock = StageClock()
    with clock("resolve"):
        pass
    with clock("data checks"):
        pass
    with Store.open(tmp_path / "h.duckdb") as store:
        store.start_run(dict(RUN))
        assert store.stages("r1") == []
        clock.attach(store, "r1")
        with clock("test answers", "zero_shot"):
            pass
        with clock("cached", "two_shot") as lap:
            lap.discard()  # a cache miss: no row
        with pytest.raises(RuntimeError), clock("prepare", "lora"):
            raise RuntimeError("out of memory")
        store.fail_run("r1", "RuntimeError: out of memory")
        rows = store.stages("r1")
    assert [(r.stage, r.arm, r.failed) for r in rows] == [
        ("resolve", None, False), ("data checks", None, False), ("test answers", "zero_shot", False),
        ("prepare", "lora", True)]
    assert all(r.seconds >= 0 for r in rows)
    assert rows[0].started_at <= rows[1].started_at <= rows[2].started_at


def test_a_stage_written_before_the_process_is_killed_remains(tmp_path):
    db = tmp_path / "h.duckdb"
    code = (
        f"import os; from harness.store.database import Store; s = Store.open({str(db)!r}); s.start_run({RUN!r});"
        "s.add_stage('r1', 'resolve', 2.0); s.add_stage('r1', 'test answers', 5.0, arm='a'); os._exit(9)"
    )
    assert subprocess.run([sys.executable, "-c", code], check=False).returncode == 9
    with Store.open(db, read_only=True) as store:
        assert store.run("r1").status == "killed"
        assert [(r.stage, r.arm) for r in store.stages("r1")] == [("resolve", None), ("test answers", "a")]


def test_stage_times_are_shares_of_the_wall_time():
    t0 = datetime(2026, 1, 1, 12, 0, 0)
    rows = [
        StageRecord(1, "resolve", 10.0, t0, False),
        StageRecord(2, "prepare", 60.0, t0 + timedelta(seconds=12), True, "lora"),
        StageRecord(3, "test answers", 28.0, t0 + timedelta(seconds=72), False, "lora"),
    ]
    view = stage_times(rows)
    assert view.wall_seconds == 100.0 and view.untimed_seconds == pytest.approx(2.0)
    assert [r.share for r in view.rows] == pytest.approx([0.10, 0.60, 0.28])
    assert view.untimed_share == pytest.approx(0.02) and view.rows[1].failed
    assert view.wall == "1 min 40 s"
    assert stage_times([]) is None


def test_durations_read_at_their_scale():
    assert [duration(s) for s in (0.04, 59.94, 61, 3599.4, 3725)] == ["0.0 s", "59.9 s", "1 min 01 s", "59 min 59 s",
                                                                      "1 h 02 min"]
