"""Kill -9 at each stage of a run, then run the same command again: it completes with the numbers of an
uninterrupted run, leaves no duplicate or orphaned rows, reuses what the killed run finished, and the killed
run reads as killed without anything having written that down.

The kill lands exactly where asked: HARNESS_KILL_AT=<point>[:<arm or number>] (harness.processes.kill_point).
"""

from __future__ import annotations

import json
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pytest

from harness.cli import main
from harness.processes import process_identity
from harness.readside.results import history
from harness.store.database import Store
from tests.conftest import tuned_arms, write_tiny_task

ROOT = Path(__file__).parent.parent

ARMS = tuned_arms(merge=True, sweep="""
      trials: 2
      pruner: none
      space: {learning_rate: {low: 1.0e-3, high: 5.0e-2, log: true}}
      enqueue: [{learning_rate: 5.0e-2}, {learning_rate: 1.0e-2}]""")


def _harness_run(task: Path, out: Path, cache: Path, kill_at: str | None = None) -> subprocess.CompletedProcess:
    env = dict(os.environ, HF_HUB_OFFLINE="1", HARNESS_CACHE=str(cache), PYTHONPATH=str(ROOT))
    env.pop("HARNESS_KILL_AT", None)
    if kill_at:
        env["HARNESS_KILL_AT"] = kill_at
    return subprocess.run(
        [sys.executable, "-m", "harness.cli", "run", str(task), "--db", str(out / "h.duckdb"),
         "--reports", str(out / "reports"), "--workdir", str(out / "exp"), "--quiet"],
        check=False, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, timeout=600,
    )


def _sql(db: Path, sql: str, params: list | None = None) -> list[tuple]:
    con = duckdb.connect(str(db), read_only=True)
    try:
        return con.execute(sql, params or []).fetchall()
    finally:
        con.close()


def _results(db: Path, run_id: str) -> dict:
    """What a run concluded: every metric and every answer, per arm."""
    return {
        "metrics": sorted(_sql(db, "SELECT arm, split, metric, value, n FROM metrics WHERE run_id = ?", [run_id])),
        "answers": sorted(_sql(db, "SELECT arm, split, example_id, output FROM predictions WHERE run_id = ?", [run_id])),
        # a reused trial's row holds the searched parameters only, a trained one's all of them
        "trials": sorted((json.loads(params)["learning_rate"], value) for params, value in _sql(
            db, "SELECT params_json, value FROM trials WHERE run_id = ? AND state = 'complete'", [run_id])),
        "decision": json.loads(_sql(db, "SELECT decision_json FROM runs WHERE run_id = ?", [run_id])[0][0])["verdict"],
    }


@pytest.fixture(scope="module")
def reference(tmp_path_factory, tiny_model) -> dict:
    """The task, and what an uninterrupted run of it concludes (computed once)."""
    root = tmp_path_factory.mktemp("interruption")
    task = write_tiny_task(root / "task", tiny_model, ARMS, n_test=4)
    cache = root / "cache"
    done = _harness_run(task, root / "reference", cache)
    assert done.returncode == 0, done.stderr[-3000:]
    db = root / "reference" / "h.duckdb"
    (run_id,) = _sql(db, "SELECT run_id FROM runs")[0]
    results = _results(db, run_id)
    assert {a for a, *_ in results["metrics"]} == {"zero_shot", "lora", "lora_merged"}
    assert len(results["trials"]) == 2
    return {"task": task, "cache": cache, "results": results}


# (kill point, the arms the killed run completed, the trials it finished)
STAGES = {
    "loading": ("loading", set(), 0),  # the first model load: the prompted arm's base weights
    "generating": ("test answers:lora", {"zero_shot"}, 2),
    "training": ("training step:1", {"zero_shot"}, 0),  # inside the first trial
    "between trials": ("trial:1", {"zero_shot"}, 1),
    "writing": ("store write:lora", {"zero_shot"}, 2),  # inside the transaction of the tuned arm's results
    "rendering": ("rendering", {"zero_shot", "lora", "lora_merged"}, 2),  # the report page, half written
}


@pytest.mark.slow
@pytest.mark.parametrize("stage", list(STAGES))
def test_a_run_killed_at_each_stage_completes_when_run_again(stage, reference, tmp_path):
    kill_at, completed_before, trials_before = STAGES[stage]
    db = tmp_path / "h.duckdb"
    killed = _harness_run(reference["task"], tmp_path, reference["cache"], kill_at)
    assert killed.returncode == -signal.SIGKILL, killed.stderr[-3000:]

    (killed_run,) = _sql(db, "SELECT run_id FROM runs")[0]
    assert _sql(db, "SELECT status FROM runs")[0][0] == ("completed" if stage == "rendering" else "running")
    with Store.open(db, read_only=True) as store:  # readers see the kill before anything writes it down
        shown = {row.run_id: row.status for row in history(store)}
        arms = {a.arm: a.status for a in store.arms(killed_run)}
    if stage == "rendering":  # every result was stored before the page: the run is complete, its page is not
        assert shown[killed_run] == "completed"
        assert not list((tmp_path / "reports").glob("*.html"))
        assert main(["report", "--db", str(db), "--run", killed_run, "--reports", str(tmp_path / "rendered")]) == 0
        assert (tmp_path / "rendered" / f"tiny-{killed_run}.html").is_file()
    else:
        assert shown[killed_run] == "killed"
        assert "running" not in arms.values()
    assert {a for a, s in arms.items() if s == "completed"} == completed_before
    finished = _sql(db, "SELECT count(*) FROM trials WHERE run_id = ? AND state = 'complete'", [killed_run])[0][0]
    assert finished == trials_before

    again = _harness_run(reference["task"], tmp_path, reference["cache"])
    assert again.returncode == 0, again.stderr[-3000:]
    runs = dict(_sql(db, "SELECT run_id, status FROM runs"))
    rerun = next(r for r in runs if r != killed_run)
    assert runs == {killed_run: "completed" if stage == "rendering" else "killed", rerun: "completed"}
    assert _results(db, rerun) == reference["results"]
    assert (tmp_path / "reports" / f"tiny-{rerun}.html").is_file()

    # what the killed run finished is reused: its arms through the result cache, its trials from the study
    cached_from = dict(_sql(db, "SELECT arm, cached_from FROM arms WHERE run_id = ? AND cached_from IS NOT NULL",
                            [rerun]))
    assert {a for a, source in cached_from.items() if source == killed_run} == completed_before
    reused = _sql(db, "SELECT count(*) FROM trials WHERE run_id = ? AND state = 'complete' AND reused", [rerun])[0][0]
    assert reused == trials_before
    study = tmp_path / "exp" / "tiny" / "optuna.db"
    with sqlite3.connect(study) as con:
        assert con.execute("SELECT count(*) FROM trials WHERE state = 'COMPLETE'").fetchone()[0] == 2  # none twice

    # no duplicate or orphaned rows
    for table in ("predictions", "scores", "metrics"):
        orphans = _sql(db, f"SELECT count(*) FROM {table} t LEFT JOIN arms a USING (run_id, arm) "
                           f"WHERE a.arm IS NULL OR a.status <> 'completed'")[0][0]
        assert orphans == 0, table
    assert _sql(db, "SELECT count(*) FROM (SELECT run_id, arm, split, example_id FROM predictions "
                    "GROUP BY ALL HAVING count(*) > 1)")[0][0] == 0
    assert _sql(db, "SELECT count(*) FROM (SELECT run_id, params_json FROM trials WHERE state = 'complete' "
                    "GROUP BY ALL HAVING count(*) > 1)")[0][0] == 0
    assert _sql(db, "SELECT count(*) FROM arms WHERE status = 'running'")[0][0] == 0
    if stage == "rendering":  # the half-written page stayed under its temporary name
        assert [p.name.split(".tmp-")[0] for p in (tmp_path / "reports").glob("*.tmp-*")] == [f"tiny-{killed_run}.html"]


def test_a_recycled_pid_does_not_keep_a_killed_run_alive(tmp_path):
    db = tmp_path / "h.duckdb"
    with Store.open(db) as store:
        store.start_run({"run_id": "r", "task": "t", "task_version": "1", "spec_json": "{}", "spec_hash": "h",
                         "data_fingerprint": "d"})
    other = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        time.sleep(0.2)
        real = process_identity(other.pid)
        boot = real.split(":")[0]

        def status(pid: int, process: str | None, host: str = socket.gethostname()) -> str:
            con = duckdb.connect(str(db))
            con.execute("UPDATE runs SET pid = ?, process = ?, host = ?", [pid, process, host])
            con.close()
            with Store.open(db, read_only=True) as store:
                return store.run("r").status

        assert status(other.pid, real) == "running"
        assert status(other.pid, f"{boot}:1") == "killed"  # the pid now belongs to a process that started later
        assert status(other.pid, None) == "running"  # a row from before the identity was recorded: the pid decides
        assert status(other.pid, f"{boot}:1", host="elsewhere") == "running"  # another host's: nothing to tell by
    finally:
        other.kill()
        other.wait()
    assert status(other.pid, real) == "killed"
