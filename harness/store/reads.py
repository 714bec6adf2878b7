"""Reading stored runs back: runs, arms, examples, predictions, scores, metrics, trials, stages, findings,
suite results and learning curves, and a run's tables copied out by DuckDB's COPY. A run left 'running' by a
process that is gone reads as killed, even to a read-only reader.
"""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path
from typing import Any

from harness.errors import HarnessError
from harness.records import DocumentLoss, SuiteScore, Trial
from harness.store.connection import KILLED, Connection, _as_seen, _connected
from harness.store.records import (
    ArmRecord,
    ExampleRecord,
    FindingRecord,
    MetricRecord,
    PredictionRecord,
    RunRecord,
    StageRecord,
    SuiteRecord,
)

NOT_CURVE = "arm NOT IN (SELECT arm FROM arms WHERE run_id = ? AND role = 'curve')"  # the curves' points read apart


class Reads(Connection):
    """The read side of the store."""

    @_connected
    def trials(self, run_id: str) -> list[Trial]:
        return [Trial.from_row(r) for r in
                self._dicts("SELECT * FROM trials WHERE run_id = ? ORDER BY arm, trial_number", [run_id])]

    @_connected
    def stages(self, run_id: str) -> list[StageRecord]:
        return [StageRecord.from_row(r) for r in
                self._dicts("SELECT * FROM stages WHERE run_id = ? ORDER BY position", [run_id])]

    @_connected
    def copy_run(self, run_id: str, folder: Path, fmt: str) -> dict[str, int]:
        """Every stored row of one run, one file per table (FOLDER/<table>.<fmt>), written by DuckDB's own COPY;
        returns the rows written per table. One connection holds the file, so no writer changes the run between
        tables. The run id is a bound parameter; the path is an escaped SQL literal, since not every DuckDB version
        binds a parameter as COPY's target."""
        import duckdb

        options = {"parquet": "FORMAT parquet", "csv": "FORMAT csv, HEADER true", "jsonl": "FORMAT json"}[fmt]
        tables = {  # file name -> (table, order of its rows)
            "run": ("runs", "run_id"), "arms": ("arms", "started_at, arm"),
            "examples": ("examples", "split, example_id"), "predictions": ("predictions", "arm, split, example_id"),
            "scores": ("scores", "arm, split, example_id, metric"), "metrics": ("metrics", "arm, split, metric"),
            "trials": ("trials", "arm, trial_number"), "curves": ("curves", "arm"),
        }
        counts = {}
        for name, (table, order) in tables.items():
            target = str(Path(folder, f"{name}.{fmt}").absolute())  # absolute: DuckDB would expand a leading ~
            literal = "'" + target.replace("'", "''") + "'"
            try:
                counts[name] = self.con.execute(f"COPY (SELECT * FROM {table} WHERE run_id = ? ORDER BY {order}) "
                                                f"TO {literal} ({options})", [run_id]).fetchone()[0]
            except duckdb.IOException as exc:  # a full disk, a folder where the file goes
                raise HarnessError(f"{target}: cannot write ({str(exc).splitlines()[0]})") from None
        return counts

    @_connected
    def has_suite(self, key: str) -> bool:
        return self.con.execute("SELECT count(*) FROM suite_results WHERE suite_key = ?", [key]).fetchone()[0] > 0

    @_connected
    def run_suites(self, run_id: str) -> dict[str, SuiteRecord]:
        """{arm ('base' for the base model): the suite result it uses}."""
        rows = self._dicts("SELECT l.arm, l.reused, r.* FROM run_suites l JOIN suite_results r USING (suite_key) "
                           "WHERE l.run_id = ? ORDER BY l.arm", [run_id])
        return {r["arm"]: SuiteRecord.from_row(r) for r in rows}

    @_connected
    def suite_rows(self, key: str) -> list[SuiteScore]:
        return [SuiteScore(*row) for row in self.con.execute(
            "SELECT part, category, item_id, metric, value FROM suite_rows WHERE suite_key = ? "
            "ORDER BY part, item_id, metric", [key]).fetchall()]

    @_connected
    def suite_documents(self, key: str) -> list[DocumentLoss]:
        return [DocumentLoss(*row) for row in self.con.execute(
            "SELECT doc_id, loss, n_tokens FROM suite_documents WHERE suite_key = ? ORDER BY doc_id", [key]).fetchall()]

    @_connected
    def findings(self, run_id: str) -> list[FindingRecord]:
        return [FindingRecord.from_row(r) for r in self._dicts(
            "SELECT * FROM findings WHERE run_id = ? ORDER BY CASE severity WHEN 'error' THEN 0 WHEN 'warning' THEN 1 "
            "ELSE 2 END, location", [run_id])]

    @_connected
    def cached_arm(self, cache_key: str) -> tuple[str, str] | None:
        """(run id, arm) of the latest completed arm with these results, if any run has one."""
        row = self.con.execute(
            "SELECT run_id, arm FROM arms WHERE cache_key = ? AND status = 'completed' ORDER BY finished_at DESC LIMIT 1",
            [cache_key]).fetchone()
        return (row[0], row[1]) if row else None

    @_connected
    def run(self, run_id: str) -> RunRecord:
        rows = self._dicts("SELECT * FROM runs WHERE run_id = ?", [run_id])
        if not rows:
            raise HarnessError(f"{self.path}: no run {run_id!r}")
        return RunRecord.from_row(_as_seen(rows[0]))

    @_connected
    def latest_run(self, task: str | None = None) -> str:
        sql = "SELECT run_id FROM runs" + (" WHERE task = ?" if task else "") + " ORDER BY started_at DESC LIMIT 1"
        row = self.con.execute(sql, [task] if task else []).fetchone()
        if row is None:
            raise HarnessError(f"{self.path}: no runs" + (f" of task {task!r}" if task else ""))
        return row[0]

    @_connected
    def arms(self, run_id: str, curve_points: bool = False) -> list[ArmRecord]:
        """The run's arms (and with `curve_points`, the learning curves' points too); those left 'running' by a
        killed run show as killed, as the run does."""
        which = "" if curve_points else " AND role IS DISTINCT FROM 'curve'"
        arms = [ArmRecord.from_row(r) for r in
                self._dicts(f"SELECT * FROM arms WHERE run_id = ?{which} ORDER BY started_at, arm", [run_id])]
        if any(a.status == "running" for a in arms) and self.run(run_id).status == "killed":
            arms = [replace(a, status="killed", error="run stopped: " + KILLED) if a.status == "running" else a
                    for a in arms]
        return arms

    @_connected
    def curve_points(self, run_id: str) -> list[ArmRecord]:
        """The learning curves' points of the run (arms with role 'curve'), as `arms` lists them."""
        return [a for a in self.arms(run_id, curve_points=True) if a.role == "curve"]

    @_connected
    def curves(self, run_id: str) -> list[dict[str, Any]]:
        """Each tuned arm's fitted learning curve, as `Writes.save_curves` stored it."""
        return [json.loads(r[0]) for r in self.con.execute(
            "SELECT analysis_json FROM curves WHERE run_id = ? ORDER BY arm", [run_id]).fetchall()]

    @_connected
    def metrics(self, run_id: str, split: str = "test") -> list[MetricRecord]:
        """The arms' aggregate metrics (not the learning curves' points: `curve_points` lists those)."""
        return [MetricRecord.from_row(r) for r in self._dicts(
            f"SELECT * FROM metrics WHERE run_id = ? AND split = ? AND {NOT_CURVE} ORDER BY arm, metric",
            [run_id, split, run_id])]

    @_connected
    def examples(self, run_id: str, split: str = "test") -> list[ExampleRecord]:
        return [ExampleRecord.from_row(r) for r in self._dicts(
            "SELECT * FROM examples WHERE run_id = ? AND split = ? ORDER BY example_id", [run_id, split])]

    @_connected
    def predictions(self, run_id: str, arm: str | None = None, split: str = "test") -> list[PredictionRecord]:
        """One arm's answers, or every arm's (not the learning curves' points unless one is named)."""
        sql = "SELECT * FROM predictions WHERE run_id = ? AND split = ?"
        params: list[Any] = [run_id, split]
        if arm is not None:
            sql += " AND arm = ?"
            params.append(arm)
        else:
            sql += f" AND {NOT_CURVE}"
            params.append(run_id)
        return [PredictionRecord.from_row(r) for r in self._dicts(sql + " ORDER BY arm, example_id", params)]

    @_connected
    def scores(self, run_id: str, metric: str, split: str = "test") -> dict[str, dict[str, float]]:
        """{arm: {example_id: value}} for one metric key."""
        out: dict[str, dict[str, float]] = {}
        for arm, example_id, value in self.con.execute(
            "SELECT arm, example_id, value FROM scores WHERE run_id = ? AND split = ? AND metric = ?",
            [run_id, split, metric],
        ).fetchall():
            out.setdefault(arm, {})[example_id] = value
        return out

    @_connected
    def runs(self, task: str | None = None) -> list[RunRecord]:
        sql = "SELECT * FROM runs" + (" WHERE task = ?" if task else "") + " ORDER BY started_at"
        return [RunRecord.from_row(_as_seen(row)) for row in self._dicts(sql, [task] if task else [])]
