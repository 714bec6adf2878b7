"""Planted credentials reach neither the database (every cell of every table, and the file's bytes), nor the report
(source and rendered DOM), nor `harness export`'s files, nor the command's output: an API key from the environment,
a password in an endpoint URL (also as the base64 `Authorization: Basic` that a careless server echoes back), and
values under any name in a URL's query or fragment. Every error line that names a URL masks them too.

A task file cannot choose which secret leaves the machine: an API key variable goes only to a host the user
allowed (--allow-key VAR@HOST or HARNESS_ALLOW_KEYS); refused, no request is made. Names of written files stay
inside their output folder whatever the stored values say."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import duckdb
import pytest

from harness.cli import main
from harness.errors import HarnessError
from harness.spec.trust import Trust
from tests.browser import dump_dom
from tests.conftest import query, run_cli, write_tiny_task
from tests.openai_server import Fault, serve

PASSWORD = "hunter2-Pw9xq"  # in the URL
API_KEY = "sk-live-4Rt7Yz0PlantedKey"  # in the environment
IN_QUERY = "qs7Hk2LmPlanted"  # under ?code=, a name no list of secret-looking names has
IN_FRAGMENT = "fr9Jd3QwPlanted"  # under #...id_token=
TOKEN = "ghp_Zq81xVb2N7c4LmP0aTQ9planted"  # a token as a URL's user name
BASIC = base64.b64encode(f"svc-user:{PASSWORD}".encode()).decode()  # what `Authorization: Basic` carries
ANSWER = lambda messages, n: ('{"party": "A", "months": 3}', 3, 3)  # noqa: E731


def _all_cells(db) -> str:
    """Every value of every table, as text: strings may be compressed on disk, so grepping bytes alone proves little."""
    con = duckdb.connect(str(db), read_only=True)
    try:
        tables = [r[0] for r in con.execute("SELECT table_name FROM information_schema.tables").fetchall()]
        return "\n".join(json.dumps(con.execute(f'SELECT * FROM "{t}"').fetchall(), default=str) for t in tables)
    finally:
        con.close()


def _everything_kept_or_shown(tmp_path: Path, printed: str) -> dict[str, str]:
    """Where a secret must never be: the database's cells and bytes, the report's source and DOM, the exported
    files (JSONL and CSV), and what the commands printed."""
    places = {"database cells": _all_cells(tmp_path / "h.duckdb"), "printed": printed}
    places["database bytes"] = "".join(p.read_bytes().decode("latin-1") for p in tmp_path.glob("h.duckdb*"))
    report = next((tmp_path / "reports").glob("*.html"))
    places["report"], places["report DOM"] = report.read_text(), dump_dom(report)
    for fmt in ("jsonl", "csv"):
        out = tmp_path / f"export-{fmt}"
        assert main(["export", "latest", "--db", str(tmp_path / "h.duckdb"), "--format", fmt, "--out", str(out)]) == 0
        places[f"export {fmt}"] = "\n".join(p.read_text() for p in sorted(out.iterdir()))
    return places


def _leaks(places: dict[str, str], *secrets: str) -> list[str]:
    return [f"{secret} in {place}" for place, text in places.items() for secret in secrets if secret in text]


def _served_arm(base_url: str, extra: str = "") -> str:
    return f"""
  - name: served
    type: prompted
    backend: {{type: openai, base_url: "{base_url}", model: tiny, max_retries: 0{extra}}}
"""


def test_an_api_key_is_sent_where_allowed_and_kept_nowhere(tmp_path, tiny_model, monkeypatch, capsys):
    monkeypatch.setenv("HARNESS_PLANTED_KEY", API_KEY)
    echo = Fault("500", "Contract te0:", echo_auth=True)  # one item's error quotes the Bearer header it got
    with serve(ANSWER, faults=[echo]) as (base_url, seen):
        task = write_tiny_task(tmp_path, tiny_model, _served_arm(base_url, ", api_key_env: HARNESS_PLANTED_KEY"))
        host = base_url.split("//")[1].split("/")[0]
        assert run_cli(tmp_path, task, "--allow-key", f"HARNESS_PLANTED_KEY@{host}") == 0
    assert seen and all(request["auth"] == f"Bearer {API_KEY}" for request in seen)  # the key did travel
    errors = [r[0] for r in query(tmp_path, "SELECT error FROM predictions WHERE error IS NOT NULL")]
    assert len(errors) == 1 and "request had Bearer ***" in errors[0]
    places = _everything_kept_or_shown(tmp_path, "".join(capsys.readouterr()))
    assert not _leaks(places, API_KEY)


def test_a_url_password_echoed_as_basic_auth_is_kept_nowhere(tmp_path, tiny_model, capsys):
    echo = Fault("500", "Contract te0:", echo_auth=True)  # one item's error quotes the Basic header it got
    with serve(ANSWER, faults=[echo]) as (base_url, seen):
        secret_url = base_url.replace("http://", f"http://svc-user:{PASSWORD}@")
        assert run_cli(tmp_path, write_tiny_task(tmp_path, tiny_model, _served_arm(secret_url))) == 0
    assert seen and all(request["auth"] == f"Basic {BASIC}" for request in seen)  # the URL's password won
    errors = [r[0] for r in query(tmp_path, "SELECT error FROM predictions WHERE error IS NOT NULL")]
    assert len(errors) == 1 and "request had Basic ***" in errors[0]
    places = _everything_kept_or_shown(tmp_path, "".join(capsys.readouterr()))
    assert "svc-user:***@127.0.0.1" in places["database cells"]  # the URL is kept, its password masked
    assert not _leaks(places, PASSWORD, BASIC)


def test_query_and_fragment_values_are_kept_nowhere(tmp_path, tiny_model, capsys):
    """A URL in the task file (an internal link in its description) is stored with its query and fragment values
    masked, whatever the parameters' names. (Prompt text is different: it is stored as the model was sent it.)"""
    link = f"https://wiki.internal/extraction?code={IN_QUERY}&sslmode=require#state=1&id_token={IN_FRAGMENT}"
    with serve(ANSWER) as (base_url, seen):
        task = write_tiny_task(tmp_path, tiny_model, _served_arm(base_url), extra=f'description: "See {link}"\n')
        assert run_cli(tmp_path, task) == 0
    places = _everything_kept_or_shown(tmp_path, "".join(capsys.readouterr()))
    assert "?code=***&sslmode=require#state=***&id_token=***" in places["database cells"]
    assert not _leaks(places, IN_QUERY, IN_FRAGMENT)


def test_a_failing_endpoint_error_keeps_no_credentials(tmp_path, tiny_model, capsys):
    url = f"http://svc-user:{PASSWORD}@127.0.0.1:9/v1"
    task = write_tiny_task(tmp_path, tiny_model, _served_arm(url, ", timeout_s: 2"))
    run_cli(tmp_path, task)
    printed = capsys.readouterr()
    assert query(tmp_path, "SELECT status, error IS NOT NULL FROM arms") == [("failed", True)]
    assert not _leaks({"cells": _all_cells(tmp_path / "h.duckdb"), "printed": printed.out + printed.err},
                      PASSWORD, BASIC)


SECRET_URL = f"u:{PASSWORD}@h.example/v1?code={IN_QUERY}#t={IN_FRAGMENT}"
PATHS = {  # every way a URL reaches an error line: the task file (each field that takes one) and the flags
    "base_url with a scheme typo": ("arms", f"http:/{SECRET_URL}", ""),
    "base_url upper case with a key too": ("arms", f"HTTPS://{SECRET_URL}", ", api_key_env: K"),
    "base_url with a query": ("arms", f"http://h.example/v1?code={IN_QUERY}", ""),
    "base_url whose key variable is unset": ("arms", f"http://{TOKEN}@h.example/v1", ", api_key_env: UNSET_K"),
    "judge base_url with a scheme typo": ("judge", f"htps://{SECRET_URL}", ""),
    "model.base with a token": ("model", f"https://{SECRET_URL}", ""),
    "dataset path with a token": ("dataset", f"https://{SECRET_URL}", ""),
    "--storage with a password": ("flag", "--storage", f"nosuchdb://{SECRET_URL}"),
    "--base with a token": ("flag", "--base", f"https://{SECRET_URL}"),
}


def _plant(root: Path, where: str, value: str, extra: str) -> list[str]:
    task = root / "task.yaml"
    text = task.read_text()
    if where == "arms":
        text = text.replace("arms:\n", "arms:" + _served_arm(value, extra), 1)
    elif where == "judge":
        text += f'judge: {{base_url: "{value}", model: m}}\n'
    elif where == "model":
        text = text.replace("  base: ", f'  base: "{value}"\n  dtype: auto\n#', 1)
    elif where == "dataset":
        text = text.replace("  train: data/train.jsonl\n  validation: data/validation.jsonl\n  test: data/test.jsonl",
                            f'  dataset: {{path: "{value}", columns: {{input: a, target: b}}}}', 1)
    task.write_text(text)
    return [value, extra] if where == "flag" else []


@pytest.mark.parametrize("name", list(PATHS))
@pytest.mark.parametrize("command", ["validate", "run"])
def test_no_error_line_shows_a_url_credential(name, command, tmp_path, tiny_model, monkeypatch, capsys):
    if name == "--base with a token" and command == "validate":
        pytest.skip("a run-only flag")
    monkeypatch.setenv("K", "x")
    monkeypatch.delenv("UNSET_K", raising=False)
    root = tmp_path / "task"
    write_tiny_task(root, tiny_model)
    flags = _plant(root, *PATHS[name])
    code = main([command, str(root / "task.yaml"), "--db", str(tmp_path / "h.duckdb"), "--reports",
                 str(tmp_path / "r"), "--workdir", str(tmp_path / "e"), "--quiet", "--allow-key", "UNSET_K@h.example",
                 *flags])
    err = capsys.readouterr().err
    assert code == 2 and len(err.strip().splitlines()) == 1 and err.startswith("error: "), err
    assert not _leaks({"error": err}, PASSWORD, IN_QUERY, IN_FRAGMENT, TOKEN)
    assert "***" in err  # the URL is named, masked


# ---------------------------------------------------------------- the api_key_env rule, both ways


def _key_task(tmp_path: Path, tiny_model: Path, base_url: str, variable: str) -> Path:
    return write_tiny_task(tmp_path, tiny_model, _served_arm(base_url, f", api_key_env: {variable}"))


def test_a_task_file_cannot_send_your_secret_to_its_host(tmp_path, tiny_model, monkeypatch, capsys):
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", API_KEY)
    monkeypatch.delenv("HARNESS_ALLOW_KEYS", raising=False)
    with serve(ANSWER) as (base_url, seen):
        task = _key_task(tmp_path, tiny_model, base_url, "AWS_SECRET_ACCESS_KEY")
        for command in ("validate", "run"):
            code = main([command, str(task), "--db", str(tmp_path / "h.duckdb"), "--reports", str(tmp_path / "reports"),
                         "--workdir", str(tmp_path / "exp"), "--quiet"])
            err = capsys.readouterr().err
            assert code == 2 and len(err.strip().splitlines()) == 1, err
            assert "AWS_SECRET_ACCESS_KEY may not be sent to 127.0.0.1:" in err and "--allow-key" in err
            assert API_KEY not in err
        assert seen == []  # refused before any request
        assert not (tmp_path / "h.duckdb").exists() and not (tmp_path / "reports").exists()


@pytest.mark.parametrize("how", ["flag", "environment"])
def test_a_key_the_user_allowed_for_the_host_is_sent(how, tmp_path, tiny_model, monkeypatch, capsys):
    monkeypatch.setenv("SERVED_KEY", API_KEY)
    with serve(ANSWER) as (base_url, seen):
        host = base_url.split("//")[1].split("/")[0]
        task = _key_task(tmp_path, tiny_model, base_url, "SERVED_KEY")
        if how == "environment":
            monkeypatch.setenv("HARNESS_ALLOW_KEYS", f"OTHER@elsewhere, SERVED_KEY@{host}")
            assert run_cli(tmp_path, task) == 0
        else:
            assert run_cli(tmp_path, task, "--allow-key", f"SERVED_KEY@{host}") == 0
    assert seen and {r["auth"] for r in seen} == {f"Bearer {API_KEY}"}
    assert API_KEY not in _all_cells(tmp_path / "h.duckdb") and API_KEY not in "".join(capsys.readouterr())


def test_which_hosts_a_key_may_go_to():
    trust = Trust.of_user(["MY_KEY@10.0.0.5:8000", "ANY_PORT@Gpu.Example"])
    assert trust.key_refusal("MY_KEY", "http://10.0.0.5:8000/v1") is None
    assert trust.key_refusal("MY_KEY", "http://10.0.0.5:8001/v1") is not None  # another port
    assert trust.key_refusal("MY_KEY", "http://10.0.0.6:8000/v1") is not None  # another host
    assert trust.key_refusal("OTHER_KEY", "http://10.0.0.5:8000/v1") is not None  # another variable
    assert trust.key_refusal("ANY_PORT", "https://gpu.example:9443/v1") is None
    # a vendor's own variable goes to its own API, and only there
    assert Trust().key_refusal("OPENAI_API_KEY", "https://api.openai.com/v1") is None
    assert Trust().key_refusal("OPENAI_API_KEY", "https://api.openai.com.evil.example/v1") is not None
    assert Trust().key_refusal("OPENAI_API_KEY", "http://127.0.0.1:8000/v1") is not None
    for bad in ("NOHOST", "VAR@", "@host", "VAR@host:port"):
        with pytest.raises(HarnessError, match="expected VARIABLE@HOST"):
            Trust.of_user([bad])


def test_a_password_in_base_url_and_a_key_variable_are_refused_together(tmp_path, tiny_model, monkeypatch, capsys):
    """Both would go in the one Authorization header (the SDK sends the URL's, as Basic): neither silently wins."""
    monkeypatch.setenv("SERVED_KEY", API_KEY)
    task = _key_task(tmp_path, tiny_model, f"http://svc-user:{PASSWORD}@127.0.0.1:9/v1", "SERVED_KEY")
    assert main(["validate", str(task), "--quiet", "--allow-key", "SERVED_KEY@127.0.0.1"]) == 2
    err = capsys.readouterr().err
    assert "base_url holds a password and api_key_env names a key" in err and PASSWORD not in err


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
