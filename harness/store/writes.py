"""Everything a run writes: runs, arms and their predictions, scores and metrics, trials, stages, findings and
suite results. An arm's rows are written in one transaction with its status, so a run that dies part-way never
leaves rows that look complete; a run whose process is gone is marked killed on the next open.
"""

from __future__ import annotations

import json
import os
import socket
from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from typing import Any

from harness.processes import kill_point, process_identity
from harness.records import Prediction, Trial
from harness.redact import public_url, redacted
from harness.store.connection import KILLED, Connection, _abandoned, _connected, _from_unix, _now
from harness.store.migrations import ROLES


def _prediction_row(p: Prediction) -> dict[str, Any]:
    return {
        "example_id": p.example_id,
        "prompt_json": json.dumps(p.prompt, ensure_ascii=False),
        "output": p.output,
        "error": p.error,
        "latency_s": p.latency_s,
        "prompt_tokens": p.prompt_tokens,
        "output_tokens": p.output_tokens,
        "details_json": json.dumps(p.details, ensure_ascii=False) if p.details else None,
    }


class Writes(Connection):
    """The write side of the store."""

    @_connected
    def _close_abandoned_runs(self) -> None:
        """Runs left 'running' by a process on this host that no longer exists were killed: mark them so."""
        for run in self._dicts("SELECT * FROM runs WHERE status = 'running' AND host = ?", [socket.gethostname()]):
            if _abandoned(run):
                self.fail_run(run["run_id"], KILLED, status="killed")

    @_connected
    def start_run(self, record: dict[str, Any]) -> None:
        row = redacted(dict(record))
        row.update(status="running", started_at=_now(), host=socket.gethostname(), pid=os.getpid(),
                   process=process_identity())
        self._insert("runs", [row])

    @_connected
    def finish_run(self, run_id: str, report_path: str | None, decision: dict | None) -> None:
        """Completed, with the report's path and the decision (as its JSON-safe dict)."""
        self.con.execute(
            "UPDATE runs SET status = 'completed', finished_at = ?, report_path = ?, decision_json = ? WHERE run_id = ?",
            [_now(), report_path, json.dumps(decision) if decision is not None else None, run_id],
        )

    @_connected
    def fail_run(self, run_id: str, error: str, status: str = "failed") -> None:
        """Mark the run and every arm still running as failed (or killed), and drop rows of unfinished arms."""
        with self._transaction():
            running = [r[0] for r in self.con.execute(
                "SELECT arm FROM arms WHERE run_id = ? AND status = 'running'", [run_id]
            ).fetchall()]
            for arm in running:
                self._delete_arm_rows(run_id, arm)
            self.con.execute(
                "UPDATE arms SET status = ?, error = ?, finished_at = ? WHERE run_id = ? AND status = 'running'",
                [status, "run stopped: " + public_url(error)[:2000], _now(), run_id],
            )
            self.con.execute(
                "UPDATE runs SET status = ?, error = ?, finished_at = ? WHERE run_id = ?",
                [status, public_url(error)[:4000], _now(), run_id],
            )

    @_connected
    def add_examples(self, run_id: str, rows: Iterable[dict[str, Any]]) -> None:
        self._insert("examples", [dict(r, run_id=run_id) for r in rows])

    @_connected
    def add_findings(self, run_id: str, findings: Iterable[dict[str, Any]], stats: dict) -> None:
        rows = [{"run_id": run_id, "check_name": f["check"], "severity": f["severity"], "message": f["message"],
                 "location": f["where"], "example_id": f["example_id"], "related": f["related"]} for f in findings]
        self._insert("findings", rows)
        self.con.execute("UPDATE runs SET data_stats_json = ? WHERE run_id = ?", [json.dumps(stats), run_id])

    @_connected
    def add_trial(self, run_id: str, trial: Trial) -> None:
        """One sweep trial, written when it ends (complete, pruned or failed): each row is a finished fact."""
        row = dict(trial.to_row(), run_id=run_id)
        for key in ("started_at", "finished_at"):
            if isinstance(row.get(key), (int, float)):
                row[key] = _from_unix(row[key])
        with self._transaction():
            self.con.execute("DELETE FROM trials WHERE run_id = ? AND arm = ? AND trial_number = ?",
                             [run_id, row["arm"], row["trial_number"]])
            self._insert("trials", [row])

    @_connected
    def add_stage(self, run_id: str, stage: str, seconds: float, arm: str | None = None,
                  started_at: datetime | float | None = None, failed: bool = False) -> None:
        """One finished stage of a run (a float `started_at` is a Unix time; none: it began `seconds` ago), after
        the ones already written: a run that dies part-way keeps the stages it finished."""
        if started_at is None:
            started_at = _now() - timedelta(seconds=seconds)
        elif isinstance(started_at, (int, float)):
            started_at = _from_unix(started_at)
        self.con.execute(
            "INSERT INTO stages SELECT ?, coalesce(max(position), 0) + 1, ?, ?, ?, ?, ? FROM stages WHERE run_id = ?",
            [run_id, stage, arm, seconds, started_at, failed, run_id])

    @_connected
    def save_suite(self, key: str, meta: dict[str, Any], rows: Sequence[dict[str, Any]],
                   documents: Sequence[dict[str, Any]]) -> None:
        """One model's suite result, whole or not at all."""
        with self._transaction():
            self._insert("suite_results", [dict(meta, suite_key=key, created_at=_now())])
            self._insert("suite_rows", [dict(r, suite_key=key) for r in rows])
            self._insert("suite_documents", [dict(d, suite_key=key) for d in documents])

    @_connected
    def link_suite(self, run_id: str, arm: str, key: str, reused: bool) -> None:
        self._insert("run_suites", [{"run_id": run_id, "arm": arm, "suite_key": key, "reused": reused}])

    @_connected
    def start_arm(self, run_id: str, arm: str, arm_type: str, role: str, config: dict, config_hash: str) -> None:
        if role not in ROLES:
            raise ValueError(f"arm role must be one of {ROLES}, got {role!r}")
        self._insert("arms", [{
            "run_id": run_id, "arm": arm, "arm_type": arm_type, "role": role,
            "config_json": json.dumps(redacted(config), sort_keys=True), "config_hash": config_hash, "status": "running",
            "started_at": _now(),
        }])

    @_connected
    def finish_arm(
        self,
        run_id: str,
        arm: str,
        split: str,
        predictions: Sequence[Prediction],
        scores: Sequence[dict[str, Any]],
        metrics: Sequence[dict[str, Any]],
        seconds: float,
        details: dict | None = None,
        cache_key: str | None = None,
    ) -> None:
        """Everything an arm produced, and its 'completed' status, in one transaction."""
        n_failed = sum(1 for p in predictions if p.error)
        with self._transaction():
            self.add_split(run_id, arm, split, predictions, scores, metrics)
            kill_point("store write", arm)
            self.con.execute(
                "UPDATE arms SET status = 'completed', finished_at = ?, seconds = ?, n_examples = ?, n_failed = ?, "
                "details_json = ?, cache_key = ? WHERE run_id = ? AND arm = ?",
                [_now(), seconds, len(predictions), n_failed, json.dumps(redacted(details or {})), cache_key, run_id, arm],
            )

    @_connected
    def copy_arm(self, source_run: str, source_arm: str, run_id: str, arm: str, cache_key: str | None) -> dict:
        """An earlier run's results for an arm, as this run's (every split), completed in one transaction;
        returns the arm's details."""
        src = self._dicts("SELECT * FROM arms WHERE run_id = ? AND arm = ?", [source_run, source_arm])[0]
        details = json.loads(src["details_json"] or "{}")
        with self._transaction():
            for table in ("predictions", "scores", "metrics"):
                columns = [c[0] for c in self.con.execute(f"DESCRIBE {table}").fetchall() if c[0] not in ("run_id", "arm")]
                names = ", ".join(columns)
                self.con.execute(f"INSERT INTO {table} (run_id, arm, {names}) SELECT ?, ?, {names} FROM {table} "
                                 f"WHERE run_id = ? AND arm = ?", [run_id, arm, source_run, source_arm])
            self.con.execute(
                "UPDATE arms SET status = 'completed', finished_at = ?, seconds = 0, n_examples = ?, n_failed = ?, "
                "details_json = ?, cache_key = ?, cached_from = ? WHERE run_id = ? AND arm = ?",
                [_now(), src["n_examples"], src["n_failed"], src["details_json"], cache_key, source_run, run_id, arm])
        return details

    @_connected
    def add_split(self, run_id: str, arm: str, split: str, predictions: Sequence[Prediction],
                  scores: Sequence[dict[str, Any]], metrics: Sequence[dict[str, Any]]) -> None:
        """An arm's answers and scores on another split (validation), in one transaction; the arm's status is
        left alone, and a failed arm loses these rows with the rest."""
        with self._transaction():
            self._insert("predictions", [dict(_prediction_row(p), run_id=run_id, arm=arm, split=split)
                                         for p in predictions])
            self._insert("scores", [dict(s, run_id=run_id, arm=arm, split=split) for s in scores])
            self._insert("metrics", [dict(m, run_id=run_id, arm=arm, split=split) for m in metrics])

    @_connected
    def save_curves(self, run_id: str, analyses: Sequence[dict[str, Any]]) -> None:
        """Each tuned arm's fitted learning curve (`harness.verdict.curve.CurveAnalysis.to_dict`)."""
        with self._transaction():
            self.con.execute("DELETE FROM curves WHERE run_id = ?", [run_id])
            self._insert("curves", [{"run_id": run_id, "arm": a["arm"], "analysis_json": json.dumps(a)}
                                    for a in analyses])

    @_connected
    def fail_arm(self, run_id: str, arm: str, error: str, seconds: float) -> None:
        with self._transaction():
            self._delete_arm_rows(run_id, arm)
            self.con.execute(
                "UPDATE arms SET status = 'failed', error = ?, finished_at = ?, seconds = ? WHERE run_id = ? AND arm = ?",
                [public_url(error)[:4000], _now(), seconds, run_id, arm],
            )

    @_connected
    def _delete_arm_rows(self, run_id: str, arm: str) -> None:
        for table in ("predictions", "scores", "metrics"):
            self.con.execute(f"DELETE FROM {table} WHERE run_id = ? AND arm = ?", [run_id, arm])
