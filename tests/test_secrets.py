"""Credentials planted in a task's endpoint URL and in the API key variable reach neither the database (every
cell of every table, and the file's bytes), nor the report, nor the command's output; the URL is kept without
them. Names of written files stay inside their output folder whatever the stored values say."""

from __future__ import annotations

import json

import duckdb

from harness.cli import main
from tests.browser import dump_dom
from tests.conftest import query, run_cli, write_tiny_task
from tests.openai_server import serve

PASSWORD = "hunter2-Pw9xq"  # in the URL
API_KEY = "sk-live-4Rt7Yz0PlantedKey"  # in the environment


def _all_cells(db) -> str:
    """Every value of every table, as text: strings may be compressed on disk, so grepping bytes alone proves little."""
    con = duckdb.connect(str(db), read_only=True)
    try:
        tables = [r[0] for r in con.execute("SELECT table_name FROM information_schema.tables").fetchall()]
        return "\n".join(json.dumps(con.execute(f'SELECT * FROM "{t}"').fetchall(), default=str) for t in tables)
    finally:
        con.close()


def test_planted_credentials_are_stored_and_shown_nowhere(tmp_path, tiny_model, monkeypatch, capsys):
    monkeypatch.setenv("HARNESS_PLANTED_KEY", API_KEY)
    with serve(lambda messages, n: ('{"party": "A", "months": 3}', 3, 3)) as (base_url, seen):
        secret_url = base_url.replace("http://", f"http://svc-user:{PASSWORD}@")
        arms = f"""
  - name: served
    type: prompted
    backend: {{type: openai, base_url: "{secret_url}", model: tiny, api_key_env: HARNESS_PLANTED_KEY, max_retries: 0}}
"""
        task = write_tiny_task(tmp_path, tiny_model, arms)
        assert run_cli(tmp_path, task) == 0
    assert seen and all(request["auth"] for request in seen)  # the key did travel, in a header
    printed = capsys.readouterr()
    cells = _all_cells(tmp_path / "h.duckdb")
    assert "svc-user:***@127.0.0.1" in cells  # the URL is kept, its password masked
    for secret in (PASSWORD, API_KEY):
        assert secret not in cells
        for path in [tmp_path / "h.duckdb", *tmp_path.glob("h.duckdb*")]:
            assert secret.encode() not in path.read_bytes()
        report = next((tmp_path / "reports").glob("*.html"))
        assert secret not in report.read_text() and secret not in dump_dom(report)
        assert secret not in printed.out + printed.err
    assert query(tmp_path, "SELECT count(*) FROM predictions WHERE error IS NULL")[0][0] == 6


def test_a_failing_endpoint_error_keeps_no_credentials(tmp_path, tiny_model, capsys):
    arms = f"""
  - name: served
    type: prompted
    backend: {{type: openai, base_url: "http://svc-user:{PASSWORD}@127.0.0.1:9/v1", model: m, max_retries: 0, timeout_s: 2}}
"""
    task = write_tiny_task(tmp_path, tiny_model, arms)
    run_cli(tmp_path, task)
    printed = capsys.readouterr()
    assert PASSWORD not in _all_cells(tmp_path / "h.duckdb")
    assert PASSWORD not in printed.out + printed.err


def test_report_file_names_stay_inside_the_reports_folder(tmp_path, tiny_model, capsys):
    task = write_tiny_task(tmp_path, tiny_model, "\n  - name: zero_shot\n    type: prompted\n")
    assert run_cli(tmp_path, task) == 0
    con = duckdb.connect(str(tmp_path / "h.duckdb"))
    con.execute("UPDATE runs SET task = '../../escaped/x'")
    con.close()
    capsys.readouterr()
    out = tmp_path / "nested" / "reports"
    assert main(["report", "--db", str(tmp_path / "h.duckdb"), "--reports", str(out)]) == 0
    written = [p for p in tmp_path.rglob("*.html") if "reports" in p.parts]
    assert not (tmp_path / "escaped").exists() and not (tmp_path / "nested" / "escaped").exists()
    assert all(p.parent == out for p in written if p.is_relative_to(out)) and any(p.parent == out for p in written)
