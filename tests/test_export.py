"""`harness export`: a run's tables read back from Parquet, CSV and JSON lines equal the database's, row for row."""

from __future__ import annotations

import json
import re
from pathlib import Path

import duckdb
import pytest

from harness.cli import main
from tests.conftest import json_rows, run_cli, tuned_arms, write_tiny_task
from tests.openai_server import serve

GOLD = {row["id"]: row["messages"][-1]["content"] for row in json_rows(6, "te")}
AWKWARD = 'He said "no", then\nleft; \'quoted\' — ünïcode, tab\there'  # what a CSV writer must quote
TABLES = {  # exported file -> (table, order of its rows)
    "run": ("runs", "run_id"), "arms": ("arms", "started_at, arm"), "examples": ("examples", "split, example_id"),
    "predictions": ("predictions", "arm, split, example_id"), "scores": ("scores", "arm, split, example_id, metric"),
    "metrics": ("metrics", "arm, split, metric"), "trials": ("trials", "arm, trial_number"),
}

# The README's query, verbatim but for the folder: items the tuned arm got wrong that few-shot got right.
WRONG_FOR_TUNED = """
WITH s AS (
  SELECT arm, example_id, value FROM 'exports/contracts/scores.parquet'
  WHERE split = 'test' AND metric = 'exact_match'
)
SELECT e.example_id, e.target, fp.output AS few_shot_answer, tp.output AS tuned_answer
FROM s AS f
JOIN s AS t ON t.example_id = f.example_id AND t.arm = 'lora'
JOIN 'exports/contracts/examples.parquet' AS e ON e.split = 'test' AND e.example_id = f.example_id
JOIN 'exports/contracts/predictions.parquet' AS fp
  ON fp.split = 'test' AND fp.arm = f.arm AND fp.example_id = f.example_id
JOIN 'exports/contracts/predictions.parquet' AS tp
  ON tp.split = 'test' AND tp.arm = t.arm AND tp.example_id = f.example_id
WHERE f.arm = 'few_shot' AND f.value = 1 AND t.value = 0
ORDER BY e.example_id
"""

# The same question asked of the harness database itself, for the latest run.
WRONG_FOR_TUNED_IN_DB = """
WITH latest AS (SELECT run_id FROM runs ORDER BY started_at DESC LIMIT 1),
s AS (
  SELECT arm, example_id, value FROM scores
  WHERE run_id = (FROM latest) AND split = 'test' AND metric = 'exact_match'
)
SELECT e.example_id, e.target, fp.output AS few_shot_answer, tp.output AS tuned_answer
FROM s AS f
JOIN s AS t ON t.example_id = f.example_id AND t.arm = 'lora'
JOIN examples AS e ON e.run_id = (FROM latest) AND e.split = 'test' AND e.example_id = f.example_id
JOIN predictions AS fp ON fp.run_id = (FROM latest) AND fp.split = 'test' AND fp.arm = f.arm
  AND fp.example_id = f.example_id
JOIN predictions AS tp ON tp.run_id = (FROM latest) AND tp.split = 'test' AND tp.arm = t.arm
  AND tp.example_id = f.example_id
WHERE f.arm = 'few_shot' AND f.value = 1 AND t.value = 0
ORDER BY e.example_id
"""


def _answer(messages: list[dict], max_tokens: int) -> tuple[str, int, int]:
    """A served few-shot model: right on te0-te2, an answer full of quotes and newlines on te3, an empty answer on te5
    (CSV tells it from NULL only by its quotes), wrong elsewhere."""
    found = re.search(r"Contract (te\d+):", messages[-1]["content"])
    item = found.group(1) if found else None
    if item in ("te0", "te1", "te2"):
        return GOLD[item], 5, 5
    return {"te3": AWKWARD, "te5": ""}.get(item, '{"party": "nobody"}'), 5, 5


@pytest.fixture(scope="module")
def ran(tmp_path_factory, tiny_model) -> Path:
    """One run of the tiny task: a served few-shot prompted arm, then zero-shot and a one-trial LoRA arm on the tiny
    model."""
    root = tmp_path_factory.mktemp("export-run")
    with pytest.MonkeyPatch.context() as mp, serve(_answer) as (base_url, _):
        mp.setenv("HARNESS_CACHE", str(tmp_path_factory.getbasetemp() / "harness-cache"))
        arms = f"""
  - name: few_shot
    type: prompted
    shots: 2
    backend: {{type: openai, base_url: "{base_url}", model: tiny, max_retries: 0}}""" + tuned_arms()
        task = write_tiny_task(root, tiny_model, arms)
        assert run_cli(root, task) == 0
    return root


def _export(root: Path, out: Path, fmt: str, run: str = "latest") -> int:
    return main(["export", run, "--db", str(root / "h.duckdb"), "--format", fmt, "--out", str(out)])


def _db_rows(con, table: str, order: str, run_id: str) -> list[tuple]:
    return con.execute(f"SELECT * FROM {table} WHERE run_id = ? ORDER BY {order}", [run_id]).fetchall()


def _read_back(con, path: Path, fmt: str, types: dict[str, str]) -> list[tuple]:
    """A file's rows as DuckDB reads them; CSV and JSON carry no types, so the database's schema declares them, and
    a quoted empty CSV field is an empty string, not NULL."""
    columns = "{" + ", ".join(f"'{name}': '{kind}'" for name, kind in types.items()) + "}"
    reader = {"parquet": "read_parquet(?)",
              "csv": f"read_csv(?, header = true, allow_quoted_nulls = false, columns = {columns})",
              "jsonl": f"read_json(?, format = 'newline_delimited', columns = {columns})"}[fmt]
    return con.execute(f"SELECT * FROM {reader}", [str(path)]).fetchall()


@pytest.mark.parametrize("fmt", ["parquet", "csv", "jsonl"])
def test_export_round_trips_every_table(ran, fmt, capsys):
    out = ran / f"out {fmt} it's here"  # a quote in the path: COPY's target is a SQL literal
    assert _export(ran, out, fmt) == 0
    assert f"to {out}" in capsys.readouterr().out.replace("\n", "")
    con = duckdb.connect(str(ran / "h.duckdb"), read_only=True)
    try:
        run_id, decision_json = con.execute("SELECT run_id, decision_json FROM runs").fetchone()
        manifest = json.loads((out / "export.json").read_text())
        assert manifest["run_id"] == run_id and manifest["format"] == fmt
        for name, (table, order) in TABLES.items():
            stored = _db_rows(con, table, order, run_id)
            types = dict(con.execute("SELECT column_name, data_type FROM information_schema.columns "
                                     "WHERE table_name = ? ORDER BY ordinal_position", [table]).fetchall())
            read = _read_back(con, out / f"{name}.{fmt}", fmt, types)
            assert stored, f"{table}: the run stored no rows, so the round trip proves nothing"
            assert len(read) == len(stored) == manifest["tables"][name]["rows"], name
            assert read == stored, name
        assert json.loads((out / "decision.json").read_text()) == json.loads(decision_json) is not None
        # curves.* too: this run drew no learning curve (tests/test_curve.py exports one)
        assert {p.name for p in out.iterdir()} == {f"{n}.{fmt}" for n in [*TABLES, "curves"]} | {"decision.json",
                                                                                                  "export.json"}
        # among the rows that came back equal: the quoted, multi-line answer and the empty one
        assert con.execute("SELECT count(*) FROM predictions WHERE output = ?", [AWKWARD]).fetchone() == (1,)
        assert con.execute("SELECT count(*) FROM predictions WHERE output = '' AND arm = 'few_shot'").fetchone() == (1,)
    finally:
        con.close()


def test_five_line_pandas_example_and_the_wrong_for_tuned_query(ran):
    out = ran / "exports" / "contracts"
    assert _export(ran, out, "parquet") == 0
    import pandas as pd

    scores = pd.read_parquet(out / "scores.parquet")
    test = scores[(scores.split == "test") & (scores.metric == "exact_match")]
    wide = test.pivot(index="example_id", columns="arm", values="value")
    assert list(wide.columns) == ["few_shot", "lora", "zero_shot"] and len(wide) == 6
    assert list(wide[(wide.few_shot == 1) & (wide.lora == 0)].index) == ["te0", "te1", "te2"]
    print(wide.mean(), wide[(wide.few_shot == 1) & (wide.lora == 0)], sep="\n\n")  # the README's fifth line

    sql = WRONG_FOR_TUNED.replace("exports/contracts", str(out).replace("'", "''"))
    con = duckdb.connect(str(ran / "h.duckdb"), read_only=True)
    try:
        found = con.execute(sql).fetchall()
        assert con.execute(WRONG_FOR_TUNED_IN_DB).fetchall() == found
        outputs = dict(con.execute("SELECT example_id, output FROM predictions WHERE arm = 'lora' AND split = 'test'")
                       .fetchall())
    finally:
        con.close()
    assert [row[0] for row in found] == ["te0", "te1", "te2"]
    assert all(target == answer == GOLD[item] for item, target, answer, _ in found)
    assert all(tuned == outputs[item] != GOLD[item] for item, _, _, tuned in found)


def test_unknown_run_is_one_line_naming_recent_runs(ran, capsys):
    with duckdb.connect(str(ran / "h.duckdb"), read_only=True) as con:
        (run_id,) = con.execute("SELECT run_id FROM runs").fetchone()
    out = ran / "never"
    assert _export(ran, out, "csv", run="no-such-run") == 2
    err = capsys.readouterr().err.strip()
    assert "\n" not in err and "no run 'no-such-run'" in err and f"recent runs: {run_id} (tiny, completed" in err
    assert not out.exists()


def test_out_that_is_a_file_is_refused_before_writing(ran, tmp_path, capsys):
    target = tmp_path / "results.parquet"
    target.write_text("mine")
    assert _export(ran, target, "parquet") == 2
    err = capsys.readouterr().err.strip()
    assert "\n" not in err and str(target) in err and "--out is a file" in err
    assert target.read_text() == "mine" and [p.name for p in tmp_path.iterdir()] == ["results.parquet"]


def test_an_export_that_fails_part_way_leaves_no_manifest(ran, tmp_path, capsys):
    out = tmp_path / "exports"
    assert _export(ran, out, "parquet") == 0
    (out / "trials.parquet").unlink()
    (out / "trials.parquet").mkdir()  # the rename onto it fails after some files are in place
    assert _export(ran, out, "parquet") == 2
    err = capsys.readouterr().err.strip()
    assert "\n" not in err and "cannot write the export" in err
    assert not (out / "export.json").exists()  # the earlier export's manifest no longer vouches for the folder
    assert not [p for p in out.iterdir() if p.name.startswith(".export-")]  # nothing staged is left behind
