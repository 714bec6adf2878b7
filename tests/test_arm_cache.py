"""Content-addressed arm results: a re-run with nothing changed reuses them and loads no model; a changed input
recomputes exactly the arms it determines; --no-cache recomputes everything."""

from __future__ import annotations

from tests.conftest import query, run_cli, write_tiny_task


def _loads(monkeypatch):
    from harness.backends import pool

    calls = []
    original = pool.load_causal_lm
    monkeypatch.setattr(pool, "load_causal_lm", lambda *a, **k: calls.append(1) or original(*a, **k))
    return calls


def test_a_rerun_reuses_every_arm_and_loads_no_model(tmp_path, tiny_model, monkeypatch):
    task = write_tiny_task(tmp_path, tiny_model)
    assert run_cli(tmp_path, task) == 0
    loads = _loads(monkeypatch)
    assert run_cli(tmp_path, task) == 0
    assert loads == []
    runs = [r[0] for r in query(tmp_path, "SELECT run_id FROM runs ORDER BY started_at")]
    cached = dict(query(tmp_path, f"SELECT arm, cached_from FROM arms WHERE run_id = '{runs[1]}'"))
    assert cached == {"zero_shot": runs[0], "two_shot": runs[0]}
    same = query(tmp_path, "SELECT count(*) FROM (SELECT arm, split, example_id, output FROM predictions "
                           f"WHERE run_id = '{runs[0]}' EXCEPT SELECT arm, split, example_id, output FROM predictions "
                           f"WHERE run_id = '{runs[1]}')")
    assert same == [(0,)] and query(tmp_path, f"SELECT count(*) FROM scores WHERE run_id = '{runs[1]}'")[0][0] > 0
    assert query(tmp_path, "SELECT DISTINCT status FROM runs") == [("completed",)]

    assert run_cli(tmp_path, task, "--no-cache") == 0
    assert loads == [1]
    third = query(tmp_path, "SELECT run_id FROM runs ORDER BY started_at")[2][0]
    assert query(tmp_path, f"SELECT DISTINCT cached_from FROM arms WHERE run_id = '{third}'") == [(None,)]


def test_a_changed_arm_setting_recomputes_exactly_that_arm(tmp_path, tiny_model):
    task = write_tiny_task(tmp_path, tiny_model)
    assert run_cli(tmp_path, task) == 0
    task.write_text(task.read_text().replace("shot_seed: 1", "shot_seed: 2"))
    assert run_cli(tmp_path, task) == 0
    second = query(tmp_path, "SELECT run_id FROM runs ORDER BY started_at")[1][0]
    cached = dict(query(tmp_path, f"SELECT arm, cached_from IS NOT NULL FROM arms WHERE run_id = '{second}'"))
    assert cached == {"zero_shot": True, "two_shot": False}


def test_more_test_items_are_not_served_from_a_smaller_run(tmp_path, tiny_model):
    task = write_tiny_task(tmp_path, tiny_model)
    assert run_cli(tmp_path, task, "--limit", "3") == 0
    assert run_cli(tmp_path, task) == 0
    second = query(tmp_path, "SELECT run_id FROM runs ORDER BY started_at")[1][0]
    assert query(tmp_path, f"SELECT DISTINCT cached_from FROM arms WHERE run_id = '{second}'") == [(None,)]
