"""The CLI end to end on a tiny task: DuckDB rows, the report in real headless Chromium, failures."""

from __future__ import annotations

import json
import re

from harness.cli import main
from tests.browser import dump_dom
from tests.conftest import query as _rows
from tests.conftest import run_cli as _run
from tests.conftest import write_tiny_task
from tests.openai_server import serve, tiny_model_answer


def test_run_end_to_end(tmp_path, tiny_model, capsys):
    answer = tiny_model_answer(tiny_model)
    with serve(answer) as (base_url, seen):
        arms = f"""
  - name: zero_shot
    type: prompted
  - name: two_shot
    type: prompted
    shots: 2
  - name: served
    type: prompted
    backend: {{type: openai, base_url: "{base_url}", model: tiny, max_retries: 0}}
"""
        task = write_tiny_task(tmp_path, tiny_model, arms)
        assert _run(tmp_path, task) == 0
    out = capsys.readouterr().out
    report = re.search(r"report: (\S+\.html)", out).group(1)
    assert "zero_shot" in out and "json_field_f1" in out

    (run_id, status, source, weights, fingerprint) = _rows(
        tmp_path, "SELECT run_id, status, base_model_source, base_model_hash, data_fingerprint FROM runs")[0]
    assert status == "completed" and source == "local" and len(weights) == 16 and fingerprint
    arms_rows = _rows(tmp_path, "SELECT arm, status, n_examples, n_failed FROM arms ORDER BY arm")
    assert arms_rows == [("served", "completed", 6, 0), ("two_shot", "completed", 6, 0), ("zero_shot", "completed", 6, 0)]
    assert _rows(tmp_path, "SELECT count(*) FROM predictions WHERE split = 'test'")[0][0] == 18
    # 4 metrics: json_valid, json_field_f1, exact_match, and one exact match per field (2)
    assert _rows(tmp_path, "SELECT count(*) FROM scores WHERE split = 'test'")[0][0] == 18 * 5
    assert _rows(tmp_path, "SELECT count(DISTINCT metric) FROM metrics")[0][0] == 5
    # arms without training answer validation too: the verdict picks its baseline there, not on test
    assert _rows(tmp_path, "SELECT count(*) FROM predictions WHERE split = 'validation'")[0][0] == 3 * 4
    assert _rows(tmp_path, "SELECT count(*) FROM metrics WHERE split = 'validation' AND metric = 'json_field_f1'")[0][0] == 3
    prompts = _rows(tmp_path, "SELECT arm, prompt_json FROM predictions WHERE example_id = 'te0'")
    by_arm = {arm: json.loads(p) for arm, p in prompts}
    assert len(by_arm["two_shot"]) == len(by_arm["zero_shot"]) + 4  # two shots = two user/assistant pairs
    assert by_arm["served"] == by_arm["zero_shot"]
    assert len(seen) == 6 + 4  # the test items, and validation (where the baseline is chosen)
    # the same answers whether the tiny model runs in-process or behind the HTTP server
    outputs = dict(_rows(tmp_path, "SELECT arm || '/' || example_id, output FROM predictions WHERE split = 'test'"))
    assert all(outputs[f"served/te{i}"] == outputs[f"zero_shot/te{i}"] for i in range(6))

    dom = dump_dom(tmp_path / "reports" / report.split("/")[-1])
    assert run_id in dom and "tiny" in dom
    for arm in ("zero_shot", "two_shot", "served"):
        assert f'data-arm="{arm}"' in dom
    assert dom.count('class="example"') == 6
    assert "Acme Corp" in dom  # a test input shown in the sample


def test_same_command_twice_gives_the_same_predictions(tmp_path, tiny_model):
    task = write_tiny_task(tmp_path, tiny_model)
    assert _run(tmp_path, task) == 0
    assert _run(tmp_path, task) == 0
    rows = _rows(tmp_path, "SELECT run_id, arm, example_id, output FROM predictions WHERE split = 'test' ORDER BY arm, example_id, run_id")
    runs = [r[0] for r in _rows(tmp_path, "SELECT run_id FROM runs ORDER BY started_at")]  # ids can tie on the second
    first = [(a, e, o) for r, a, e, o in rows if r == runs[0]]
    second = [(a, e, o) for r, a, e, o in rows if r == runs[1]]
    assert first == second and len(first) == 12
    # the second run reused both arms: its stages say so, and nothing was answered again
    stages = _rows(tmp_path, f"SELECT stage, arm FROM stages WHERE run_id = '{runs[1]}' ORDER BY position")
    assert ("cached", "zero_shot") in stages and ("cached", "two_shot") in stages
    assert not [s for s in stages if s[0].endswith("answers")]


def test_a_failing_arm_is_recorded_and_the_others_go_on(tmp_path, tiny_model, capsys):
    arms = """
  - name: zero_shot
    type: prompted
  - name: unreachable
    type: prompted
    backend: {type: openai, base_url: "http://127.0.0.1:9/v1", model: m, max_retries: 0, timeout_s: 2}
"""
    task = write_tiny_task(tmp_path, tiny_model, arms)
    assert _run(tmp_path, task) == 2
    err = capsys.readouterr().err
    assert "1 arm(s) failed: unreachable" in err
    statuses = dict(_rows(tmp_path, "SELECT arm, status FROM arms"))
    assert statuses == {"zero_shot": "completed", "unreachable": "failed"}
    assert _rows(tmp_path, "SELECT count(*) FROM predictions WHERE arm = 'unreachable'")[0][0] == 0
    assert _rows(tmp_path, "SELECT status FROM runs")[0][0] == "completed"
    report = next((tmp_path / "reports").glob("*.html"))
    assert "every generation failed" in dump_dom(report)


def test_failed_items_are_counted_not_dropped(tmp_path, tiny_model):
    answer = tiny_model_answer(tiny_model)
    with serve(answer) as (base_url, _):
        arms = f"""
  - name: served
    type: prompted
    backend: {{type: openai, base_url: "{base_url}", model: tiny, max_retries: 0}}
"""
        task = write_tiny_task(tmp_path, tiny_model, arms)
        test_file = tmp_path / "data" / "test.jsonl"
        test_file.write_text(test_file.read_text().replace("Contract te1:", "Contract te1 FAIL:"))
        assert _run(tmp_path, task) == 0
    assert _rows(tmp_path, "SELECT n_examples, n_failed FROM arms")[0] == (6, 1)
    assert _rows(tmp_path, "SELECT DISTINCT n, n_failed FROM metrics WHERE split = 'test'") == [(6, 1)]
    assert _rows(tmp_path, "SELECT value FROM scores WHERE example_id = 'te1' AND metric = 'json_field_f1'") == [(0.0,)]
    error = _rows(tmp_path, "SELECT error FROM predictions WHERE example_id = 'te1'")[0][0]
    assert "induced failure" in error


def test_model_output_is_escaped_in_the_report(tmp_path, tiny_model):
    evil = "<script>document.title='pwned'</script><img src=x onerror=\"document.title='pwned'\">"
    with serve(lambda messages, n: (evil, 3, 3)) as (base_url, _):
        arms = f"""
  - name: served
    type: prompted
    backend: {{type: openai, base_url: "{base_url}", model: tiny}}
"""
        task = write_tiny_task(tmp_path, tiny_model, arms)
        assert _run(tmp_path, task) == 0
    report = next((tmp_path / "reports").glob("*.html"))
    html = report.read_text()
    assert "&lt;script&gt;" in html and "<script>" not in html
    dom = dump_dom(report)
    assert "pwned" not in re.search(r"<title>(.*?)</title>", dom).group(1)
    assert "<img" not in dom


def test_interrupted_run_is_marked_failed(tmp_path, tiny_model, monkeypatch):
    from harness.arms import prompted

    calls = {"n": 0}
    original = prompted.PromptedArm.predict

    def flaky(self, items, ctx, adapter=None):
        calls["n"] += 1
        if calls["n"] == 3:  # zero_shot answered validation and test; two_shot is stopped on validation
            raise KeyboardInterrupt
        return original(self, items, ctx, adapter)

    monkeypatch.setattr(prompted.PromptedArm, "predict", flaky)
    task = write_tiny_task(tmp_path, tiny_model)
    assert _run(tmp_path, task) == 130
    assert _rows(tmp_path, "SELECT status FROM runs")[0][0] == "failed"
    assert dict(_rows(tmp_path, "SELECT arm, status FROM arms")) == {"zero_shot": "completed", "two_shot": "failed"}
    # the stages that finished before Ctrl-C are kept; the interrupted one is not
    stages = _rows(tmp_path, "SELECT stage, arm FROM stages ORDER BY position")
    assert stages[-4:] == [("validation answers", "zero_shot"), ("validation scoring", "zero_shot"),
                           ("test answers", "zero_shot"), ("test scoring", "zero_shot")]
    assert not (tmp_path / "reports").exists()


def test_report_is_self_contained(tmp_path, tiny_model):
    task = write_tiny_task(tmp_path, tiny_model)
    assert _run(tmp_path, task, "--arm", "zero_shot") == 0
    html = next((tmp_path / "reports").glob("*.html")).read_text()
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", html)
    assert "default-src 'none'" in html
    # where the time went, in the database and on the page
    stages = _rows(tmp_path, "SELECT position, stage, arm, seconds FROM stages ORDER BY position")
    assert [p for p, *_ in stages] == list(range(1, len(stages) + 1)) and all(s >= 0 for *_, s in stages)
    names = [(stage, arm) for _, stage, arm, _ in stages]
    assert names[:4] == [("task and data", None), ("resolve", None), ("preflight", None), ("data checks", None)]
    assert ("test answers", "zero_shot") in names and ("test scoring", "zero_shot") in names
    assert names[-2:] == [("decision", None), ("report", None)]  # the report's own row lands after it is written
    assert "Where the time went" in html and 'id="wall-time"' in html
    for stage in ("resolve", "data checks", "test answers", "test scoring", "decision"):
        assert f'data-stage="{stage}"' in html
    assert 'data-stage="report"' not in html and "<script" not in html


def test_unknown_model_is_one_line(tmp_path, capsys):
    task = write_tiny_task(tmp_path, "nobody/no-such-model")
    assert _run(tmp_path, task) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: model 'nobody/no-such-model': the hub is unreachable") and "\n" not in err
    assert not (tmp_path / "h.duckdb").exists()  # nothing half-written


def test_history_lists_runs_with_their_verdicts(tmp_path, tiny_model, capsys):
    task = write_tiny_task(tmp_path, tiny_model)
    assert _run(tmp_path, task, "--arm", "zero_shot") == 0
    assert _run(tmp_path, task, "--arm", "zero_shot") == 0
    capsys.readouterr()
    assert main(["history", "--db", str(tmp_path / "h.duckdb"), "--task", "tiny"]) == 0
    out = capsys.readouterr().out
    run_ids = [r[0] for r in _rows(tmp_path, "SELECT run_id FROM runs")]
    assert all(r in out for r in run_ids) and out.count("INCONCLUSIVE") == 2
    assert main(["history", "--db", str(tmp_path / "missing.duckdb")]) == 2


def test_history_groups_runs_by_base_model_in_time_order(tmp_path, tiny_model):
    from harness.readside.results import history
    from harness.store.database import Store
    from tests.conftest import build_tiny_model

    other = build_tiny_model(tmp_path / "other-model", seed=1)
    first = write_tiny_task(tmp_path / "a", tiny_model)
    second = write_tiny_task(tmp_path / "b", other)
    for task in (first, second, first):
        assert _run(tmp_path, task, "--arm", "zero_shot", "--arm", "two_shot") == 0
    with Store.open(tmp_path / "h.duckdb", read_only=True) as store:
        rows = history(store, "tiny")
    started = [r[0] for r in _rows(tmp_path, "SELECT run_id FROM runs ORDER BY started_at")]
    assert [r.run_id for r in rows] == [started[0], started[2], started[1]]
    assert rows[0].base_weights == rows[1].base_weights != rows[2].base_weights
    assert set(rows[0].arms) == {"zero_shot", "two_shot"} and rows[0].primary == "json_field_f1"
    # each run's report shows the task's history up to it; the first run's has none
    reports = dict(_rows(tmp_path, "SELECT run_id, report_path FROM runs"))
    first_page = dump_dom(tmp_path / "reports" / reports[started[0]].split("/")[-1])
    last_page = dump_dom(tmp_path / "reports" / reports[started[2]].split("/")[-1])
    assert 'id="history"' not in first_page
    assert 'id="history"' in last_page and all(run_id in last_page for run_id in started)


def test_base_flag_runs_the_task_on_another_model_and_records_it(tmp_path, tiny_model):
    from tests.conftest import build_tiny_model

    other = build_tiny_model(tmp_path / "other-model", seed=1)
    task = write_tiny_task(tmp_path, tiny_model)
    assert _run(tmp_path, task, "--arm", "zero_shot") == 0
    assert _run(tmp_path, task, "--arm", "zero_shot", "--base", str(other)) == 0
    rows = _rows(tmp_path, "SELECT base_model_id, base_model_hash, profile, spec_json FROM runs ORDER BY started_at")
    assert rows[0][0] == str(tiny_model) and rows[1][0] == str(other) and rows[0][1] != rows[1][1]
    assert json.loads(rows[1][2])["base"] == str(other) and json.loads(rows[1][3])["model"]["base"] == str(other)
    assert _run(tmp_path, task, "--arm", "zero_shot", "--base", str(tmp_path / "nowhere")) == 2


def test_a_run_on_the_scripted_model_stores_every_answer_score_and_the_report(tmp_path, tiny_model, mock_generator,
                                                                               capsys):
    """The whole pipeline in the fast loop: the base model is the scripted generator, everything else is real."""
    task = write_tiny_task(tmp_path, tiny_model)
    assert _run(tmp_path, task) == 0
    assert "report:" in capsys.readouterr().out
    outputs = dict(_rows(tmp_path, "SELECT arm || '/' || example_id, output FROM predictions WHERE split = 'test'"))
    assert outputs["zero_shot/te0"] == '{"party": "Acme Corp", "months": 2}' and outputs["two_shot/te1"] == "I cannot tell."
    assert len(outputs) == 12
    valid = dict(_rows(tmp_path, "SELECT example_id, value FROM scores WHERE arm = 'zero_shot' AND split = 'test' "
                                 "AND metric = 'json_valid'"))
    assert valid == {f"te{i}": float(i % 2 == 0) for i in range(6)}
    (value, n, n_failed), = _rows(tmp_path, "SELECT value, n, n_failed FROM metrics WHERE arm = 'two_shot' AND "
                                            "split = 'test' AND metric = 'json_field_f1'")
    assert (value, n, n_failed) == (0.5, 6, 0)
    shots = [len(json.loads(p)) for (p,) in _rows(tmp_path, "SELECT prompt_json FROM predictions WHERE arm = 'two_shot'")]
    assert set(shots) == {6}  # system + two user/assistant pairs + the item
    (status, decision), = _rows(tmp_path, "SELECT status, decision_json FROM runs")
    assert status == "completed" and json.loads(decision)["verdict"]  # no tuned arm: a verdict that says so
    assert len(mock_generator.conversations) == 2 * (6 + 4)  # test and validation items of both arms
    assert list((tmp_path / "reports").glob("*.html"))
