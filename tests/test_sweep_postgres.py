"""Scale-out: several `harness run` workers on one sweep stored in a real PostgreSQL server.

No trial runs twice, the budget counts every worker's trials, a worker killed mid-trial has its trial
re-queued by the heartbeat, every worker's trials reach DuckDB, and the password never does.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pytest

from tests.conftest import query, run_cli, write_jsonl
from tests.postgres import postgres_server, postgres_url  # noqa: F401  (fixtures)

ROOT = Path(__file__).parent.parent
HEARTBEAT_S = 2  # a trial silent for 3 heartbeats (6 s) is taken as dead
WORDS = ["alpha", "bravo", "charlie", "delta", "echo", "foxtrot", "golf", "hotel"]


def _task(root: Path, model: Path, trials: int) -> Path:
    def rows(n: int, prefix: str) -> list[dict]:
        return [{"id": f"{prefix}{i}", "messages": [
            {"role": "user", "content": f"{prefix} {WORDS[i % 8]} {WORDS[(i * 3 + 1) % 8]} number {i}"},
            {"role": "assistant", "content": "ok"}]} for i in range(n)]

    write_jsonl(root / "d" / "train.jsonl", rows(24, "train"))
    write_jsonl(root / "d" / "validation.jsonl", rows(4, "val"))
    write_jsonl(root / "d" / "test.jsonl", rows(3, "test"))
    path = root / "scale.yaml"
    path.write_text(f"""name: scale
version: 1
data: {{train: d/train.jsonl, validation: d/validation.jsonl, test: d/test.jsonl}}
output: {{type: text}}
prompt: {{system: Answer ok., instructions: Always answer with the word ok.}}
model: {{base: {model}, dtype: float32}}  # the precision probe may answer differently in two busy workers
generation: {{max_new_tokens: 4, batch_size: 4}}
checks: {{near_duplicates: false}}
metrics: [exact_match]
arms:
  - name: lora
    type: lora
    alpha: 8
    dropout: 0.0
    epochs: 1
    batch_size: 4
    merge: false
    sweep:
      trials: {trials}
      seed: 3
      pruner: none
      space:
        learning_rate: {{low: 1.0e-5, high: 5.0e-2, log: true}}
        r: [2, 4, 8]
      enqueue:
        - {{learning_rate: 5.0e-2, r: 4}}
decision: {{primary_metric: exact_match}}
""")
    return path


@pytest.mark.parametrize("url, shown", [
    ("postgresql://harness:s3cret@db.internal:5432/optuna", "postgresql://harness:***@db.internal:5432/optuna"),
    ("postgresql://harness:p@ss:w@rd@db/optuna", "postgresql://harness:***@db/optuna"),  # unescaped @ and :
    ("postgresql://harness@db/optuna?sslmode=require&password=s3cret", "postgresql://harness@db/optuna?sslmode=require&password=***"),
    ("postgresql://db/optuna", "postgresql://db/optuna"),
    ("sqlite:////abs/experiments/optuna.db", "sqlite:////abs/experiments/optuna.db"),
    ("sqlite:///optuna.db", "sqlite:///optuna.db"),
])
def test_public_url_hides_the_password_and_keeps_the_rest(url, shown):
    from harness.redact import public_url

    assert public_url(url) == shown


def _worker(tmp_path: Path, task: Path, url: str, name: str) -> subprocess.Popen:
    env = dict(os.environ, HF_HUB_OFFLINE="1", HARNESS_SWEEP_HEARTBEAT_S=str(HEARTBEAT_S))
    return subprocess.Popen(
        [sys.executable, "-m", "harness.cli", "run", str(task), "--arm", "lora", "--storage", url,
         "--db", str(tmp_path / "h.duckdb"), "--reports", str(tmp_path / "reports"),
         "--workdir", str(tmp_path / "exp"), "--quiet"],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=(tmp_path / f"{name}.stderr").open("w"),
    )


def _finish(proc: subprocess.Popen, tmp_path: Path, name: str, timeout: float = 300) -> None:
    try:
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        pytest.fail(f"worker {name} did not finish in {timeout:.0f} s: "
                    f"{(tmp_path / f'{name}.stderr').read_text()[-2000:]}")
    assert proc.returncode == 0, f"worker {name} exited {proc.returncode}: {(tmp_path / f'{name}.stderr').read_text()[-2000:]}"


def _study(url: str):
    import optuna

    storage = url.replace("postgresql://", "postgresql+psycopg://")
    names = optuna.get_all_study_names(storage)
    assert len(names) == 1, names
    return optuna.load_study(study_name=names[0], storage=storage)


def _trained(tmp_path: Path) -> list[str]:
    """Every adapter any worker trained, as experiments/scale/<run>/lora/trial-NNN folders."""
    return sorted(p.name for p in (tmp_path / "exp" / "scale").glob("*/lora/trial-*"))


def test_two_workers_share_one_study_without_running_a_trial_twice(tmp_path, tiny_model, postgres_server, postgres_url):
    task = _task(tmp_path, tiny_model, trials=4)
    began = time.monotonic()
    workers = {name: _worker(tmp_path, task, postgres_url, name) for name in ("a", "b")}
    for name, proc in workers.items():
        _finish(proc, tmp_path, name)
    wall = time.monotonic() - began

    trials = _study(postgres_url).trials
    assert [t.state.name for t in trials] == ["COMPLETE"] * 4, [t.state.name for t in trials]  # no overshoot
    points = [json.dumps(t.params, sort_keys=True) for t in trials]
    assert len(set(points)) == 4, points  # each worker draws its own points; the enqueued one is run once
    assert sum(t.params == {"learning_rate": 5e-2, "r": 4} for t in trials) == 1
    owners = {t.user_attrs["owner"] for t in trials}
    assert len(owners) == 2, f"one worker ran every trial ({owners}) in {wall:.0f} s"
    assert _trained(tmp_path) == ["trial-000", "trial-001", "trial-002", "trial-003"]  # trained once each

    runs = query(tmp_path, "SELECT run_id, status FROM runs ORDER BY started_at")
    assert [r[1] for r in runs] == ["completed", "completed"]
    own = query(tmp_path, "SELECT run_id, trial_number FROM trials WHERE NOT reused ORDER BY trial_number")
    assert [n for _, n in own] == [0, 1, 2, 3]  # the union of both workers' own trials: the study, once
    assert {run for run, _ in own} == {r[0] for r in runs}  # both workers' trials are in DuckDB
    for run_id, _ in runs:  # and each run lists the whole study, the other worker's trials as reused
        assert [n for (n,) in query(tmp_path, f"SELECT trial_number FROM trials WHERE run_id = '{run_id}' "
                                             "ORDER BY 1")] == [0, 1, 2, 3]
    best = {json.loads(d)["best_trial"] for (d,) in query(tmp_path, "SELECT details_json FROM arms WHERE arm = 'lora'")}
    assert len(best) == 1  # every worker ended on the complete study and picked the same trial

    # the password reached the server (it demands one) and nothing else: not DuckDB, the reports, logs, files
    password = postgres_server.password
    details = json.loads(query(tmp_path, "SELECT details_json FROM arms LIMIT 1")[0][0])
    assert details["storage"].startswith("postgresql://harness:***@127.0.0.1:")
    con = duckdb.connect(str(tmp_path / "h.duckdb"), read_only=True)
    try:
        tables = [t for (t,) in con.execute("SELECT table_name FROM information_schema.tables").fetchall()]
        assert "trials" in tables
        for table in tables:
            assert password not in repr(con.execute(f'SELECT * FROM "{table}"').fetchall()), table
    finally:
        con.close()
    assert list((tmp_path / "reports").glob("*.html"))
    for path in tmp_path.rglob("*"):
        if path.is_file():
            assert password.encode() not in path.read_bytes(), path


def test_a_worker_killed_mid_trial_has_its_trial_requeued_and_run_by_the_other(tmp_path, tiny_model, postgres_url):
    import optuna

    task = _task(tmp_path, tiny_model, trials=3)
    victim = _worker(tmp_path, task, postgres_url, "victim")
    survivor = _worker(tmp_path, task, postgres_url, "survivor")
    # One storage for the whole poll: a URL string opens a new engine (and its pooled connections) per call,
    # which ran the server out of connection slots in CI.
    storage = optuna.storages.RDBStorage(postgres_url.replace("postgresql://", "postgresql+psycopg://"))
    deadline, killed = time.monotonic() + 180, None
    try:
        while time.monotonic() < deadline and killed is None:
            assert victim.poll() is None, f"the victim ended before it ran a trial: {(tmp_path / 'victim.stderr').read_text()[-2000:]}"
            for name in optuna.get_all_study_names(storage):
                for trial in optuna.load_study(study_name=name, storage=storage).trials:
                    # owned (pid) and fully sampled: a trial under way, not one just claimed or caught
                    # between its two suggest calls (the races CI met)
                    if (trial.state.name == "RUNNING" and trial.user_attrs.get("pid") == victim.pid
                            and set(trial.params) == {"learning_rate", "r"}):
                        killed = trial
            time.sleep(0.2)
    finally:
        storage.engine.dispose()
    assert killed is not None, "no trial of the victim was RUNNING within 180 s"
    victim.send_signal(signal.SIGKILL)
    victim.wait()
    _finish(survivor, tmp_path, "survivor")

    trials = _study(postgres_url).trials
    failed = trials[killed.number]
    assert failed.state.name == "FAIL" and "error" not in failed.user_attrs  # failed by the heartbeat, not by itself
    retries = [t for t in trials if t.user_attrs.get("retry_of") == killed.number]
    assert len(retries) == 1, [(t.number, t.state.name, t.user_attrs) for t in trials]
    retry = retries[0]
    assert retry.params == failed.params == killed.params and retry.state.name == "COMPLETE"
    assert retry.user_attrs["pid"] == survivor.pid
    assert sum(t.state.name == "COMPLETE" for t in trials) == 3  # the killed trial does not use up the budget
    assert [t.state.name for t in trials].count("FAIL") == 1

    runs = dict(query(tmp_path, "SELECT status, run_id FROM runs WHERE status = 'completed'"))
    own = query(tmp_path, f"SELECT trial_number, state FROM trials WHERE run_id = '{runs['completed']}' AND NOT reused")
    assert (retry.number, "complete") in own  # the survivor's DuckDB rows hold the retried trial
    listed = query(tmp_path, f"SELECT trial_number FROM trials WHERE run_id = '{runs['completed']}'")
    assert (killed.number,) not in listed  # the killed attempt is no result


def test_a_wrong_password_is_one_line_without_the_password(tmp_path, tiny_model, postgres_url, capsys):
    wrong = "not-the-Password-42"
    url = postgres_url.replace(postgres_url.split("//")[1].split("@")[0], f"harness:{wrong}")
    assert run_cli(tmp_path, _task(tmp_path, tiny_model, trials=1), "--arm", "lora", "--storage", url) == 2
    out = capsys.readouterr()
    assert "1 arm(s) failed: lora" in out.err
    errors = [e for (e,) in query(tmp_path, "SELECT error FROM arms WHERE arm = 'lora'")]
    assert errors and "cannot open the Optuna storage" in errors[0] and "harness:***@127.0.0.1" in errors[0]
    assert "password authentication failed" in errors[0]
    assert wrong not in errors[0] + out.out + out.err
    assert wrong.encode() not in (tmp_path / "h.duckdb").read_bytes()
