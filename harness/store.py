"""The experiment database: the only module that imports duckdb.

    harness run tasks/contracts.yaml --db experiments/harness.duckdb

One file holds every run, arm, prediction and score. The schema carries a version that is checked on
open (and upgraded by the migrations below); an arm's predictions, scores and metrics are written in
one transaction with its status, so a run that dies part-way never leaves rows that look complete.
"""

from __future__ import annotations

import contextlib
import functools
import json
import os
import random
import socket
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from harness.errors import HarnessError
from harness.processes import kill_point, process_alive, process_identity
from harness.records import Trial
from harness.redact import public_url, redacted

if TYPE_CHECKING:
    from harness.arms import Prediction

DEFAULT_DB = Path("experiments") / "harness.duckdb"
DEFAULT_WAIT_S = 600.0  # a writer holds the file for one short transaction; ten minutes means something is stuck
T = TypeVar("T")

MIGRATIONS: list[str] = [
    # 1: runs, arms, examples, predictions, scores, metrics
    """
    CREATE TABLE runs (
        run_id VARCHAR PRIMARY KEY,
        task VARCHAR NOT NULL,
        task_version VARCHAR NOT NULL,
        task_path VARCHAR,
        spec_json VARCHAR NOT NULL,
        spec_hash VARCHAR NOT NULL,
        data_fingerprint VARCHAR NOT NULL,
        profile VARCHAR,
        git_commit VARCHAR,
        git_dirty BOOLEAN,
        harness_version VARCHAR,
        packages_json VARCHAR,
        base_model_id VARCHAR,
        base_model_source VARCHAR,
        base_model_hash VARCHAR,
        device VARCHAR,
        host VARCHAR,
        pid INTEGER,
        status VARCHAR NOT NULL,
        error VARCHAR,
        started_at TIMESTAMP NOT NULL,
        finished_at TIMESTAMP,
        report_path VARCHAR,
        decision_json VARCHAR
    );
    CREATE TABLE arms (
        run_id VARCHAR NOT NULL,
        arm VARCHAR NOT NULL,
        arm_type VARCHAR NOT NULL,
        config_json VARCHAR NOT NULL,
        config_hash VARCHAR NOT NULL,
        status VARCHAR NOT NULL,
        error VARCHAR,
        started_at TIMESTAMP NOT NULL,
        finished_at TIMESTAMP,
        seconds DOUBLE,
        n_examples INTEGER,
        n_failed INTEGER,
        details_json VARCHAR,
        PRIMARY KEY (run_id, arm)
    );
    CREATE TABLE examples (
        run_id VARCHAR NOT NULL,
        split VARCHAR NOT NULL,
        example_id VARCHAR NOT NULL,
        source VARCHAR,
        input_json VARCHAR NOT NULL,
        target VARCHAR NOT NULL,
        PRIMARY KEY (run_id, split, example_id)
    );
    CREATE TABLE predictions (
        run_id VARCHAR NOT NULL,
        arm VARCHAR NOT NULL,
        split VARCHAR NOT NULL,
        example_id VARCHAR NOT NULL,
        prompt_json VARCHAR NOT NULL,
        output VARCHAR NOT NULL,
        error VARCHAR,
        latency_s DOUBLE,
        prompt_tokens INTEGER,
        output_tokens INTEGER,
        details_json VARCHAR,
        PRIMARY KEY (run_id, arm, split, example_id)
    );
    CREATE TABLE scores (
        run_id VARCHAR NOT NULL,
        arm VARCHAR NOT NULL,
        split VARCHAR NOT NULL,
        example_id VARCHAR NOT NULL,
        metric VARCHAR NOT NULL,
        value DOUBLE NOT NULL,
        PRIMARY KEY (run_id, arm, split, example_id, metric)
    );
    CREATE TABLE metrics (
        run_id VARCHAR NOT NULL,
        arm VARCHAR NOT NULL,
        split VARCHAR NOT NULL,
        metric VARCHAR NOT NULL,
        value DOUBLE,
        ci_low DOUBLE,
        ci_high DOUBLE,
        n INTEGER NOT NULL,
        n_failed INTEGER NOT NULL,
        PRIMARY KEY (run_id, arm, split, metric)
    );
    """,
    # 2: data-check findings and statistics per run
    """
    CREATE TABLE findings (
        run_id VARCHAR NOT NULL,
        check_name VARCHAR NOT NULL,
        severity VARCHAR NOT NULL,
        message VARCHAR NOT NULL,
        location VARCHAR,
        example_id VARCHAR,
        related VARCHAR
    );
    ALTER TABLE runs ADD COLUMN data_stats_json VARCHAR;
    """,
    # 3: sweep trials of tuned arms
    """
    CREATE TABLE trials (
        run_id VARCHAR NOT NULL,
        arm VARCHAR NOT NULL,
        study VARCHAR,
        trial_number INTEGER NOT NULL,
        state VARCHAR NOT NULL,
        params_json VARCHAR,
        value DOUBLE,
        intermediate_json VARCHAR,
        validation_values_json VARCHAR,
        error VARCHAR,
        train_seconds DOUBLE,
        tokens_per_s DOUBLE,
        train_tokens BIGINT,
        peak_memory_mb DOUBLE,
        trainable_params BIGINT,
        total_params BIGINT,
        adapter_path VARCHAR,
        adapter_hash VARCHAR,
        final_loss DOUBLE,
        reused BOOLEAN NOT NULL,
        started_at TIMESTAMP,
        finished_at TIMESTAMP,
        PRIMARY KEY (run_id, arm, trial_number)
    );
    """,
    # 4: retrieval indexes (one chunks_<key> table per index, embeddings as fixed-size FLOAT arrays)
    """
    CREATE TABLE indexes (
        index_key VARCHAR PRIMARY KEY,
        corpus_path VARCHAR,
        corpus_fingerprint VARCHAR NOT NULL,
        embedding_model VARCHAR NOT NULL,
        embedding_hash VARCHAR NOT NULL,
        chunk_tokens INTEGER NOT NULL,
        overlap_tokens INTEGER NOT NULL,
        dimension INTEGER NOT NULL,
        n_documents INTEGER NOT NULL,
        n_chunks INTEGER NOT NULL,
        created_at TIMESTAMP NOT NULL
    );
    """,
    # 5: an arm's role in the verdict, said by the arm itself (older rows: from the types of that time)
    """
    ALTER TABLE arms ADD COLUMN role VARCHAR;
    UPDATE arms SET role = CASE WHEN arm_type IN ('lora', 'qlora', 'rag-tuned') THEN 'tuned'
                                WHEN arm_type = 'merged' THEN 'companion' ELSE 'baseline' END;
    """,
    # 6: the general-capability suite: results per model, content-addressed (weights, adapter, items), so a
    # model scored once is never scored again; which result each arm of a run uses; forgetting per trial
    """
    CREATE TABLE suite_results (
        suite_key VARCHAR PRIMARY KEY,
        model VARCHAR NOT NULL,
        base_hash VARCHAR NOT NULL,
        adapter_hash VARCHAR,
        merged BOOLEAN NOT NULL,
        suite_version INTEGER NOT NULL,
        fingerprint VARCHAR NOT NULL,
        seconds DOUBLE,
        created_at TIMESTAMP NOT NULL
    );
    CREATE TABLE suite_rows (
        suite_key VARCHAR NOT NULL,
        part VARCHAR NOT NULL,
        category VARCHAR NOT NULL,
        item_id VARCHAR NOT NULL,
        metric VARCHAR NOT NULL,
        value DOUBLE NOT NULL,
        PRIMARY KEY (suite_key, part, item_id, metric)
    );
    CREATE TABLE suite_documents (
        suite_key VARCHAR NOT NULL,
        doc_id VARCHAR NOT NULL,
        loss DOUBLE NOT NULL,
        n_tokens INTEGER NOT NULL,
        PRIMARY KEY (suite_key, doc_id)
    );
    CREATE TABLE run_suites (
        run_id VARCHAR NOT NULL,
        arm VARCHAR NOT NULL,
        suite_key VARCHAR NOT NULL,
        reused BOOLEAN NOT NULL,
        PRIMARY KEY (run_id, arm)
    );
    ALTER TABLE trials ADD COLUMN forgetting DOUBLE;
    """,
    # 7: an arm's results keyed by everything that determines them, so a later run can reuse them
    """
    ALTER TABLE arms ADD COLUMN cache_key VARCHAR;
    ALTER TABLE arms ADD COLUMN cached_from VARCHAR;
    """,
    # 8: how long each stage of a run took, in the order they ran (one row per stage, written as it ends), and the
    # precision the run computed in (chosen per machine: harness.precision)
    """
    ALTER TABLE runs ADD COLUMN precision VARCHAR;
    CREATE TABLE stages (
        run_id VARCHAR NOT NULL,
        position INTEGER NOT NULL,
        stage VARCHAR NOT NULL,
        arm VARCHAR,
        seconds DOUBLE NOT NULL,
        started_at TIMESTAMP NOT NULL,
        failed BOOLEAN NOT NULL,
        PRIMARY KEY (run_id, position)
    );
    """,
    # 9: which process runs a run, beyond its pid (boot id and start time: harness.processes.process_identity), so
    # a pid the system gave to another process does not keep a killed run looking alive
    """
    ALTER TABLE runs ADD COLUMN process VARCHAR;
    """,
    # 10: each tuned arm's learning curve as fitted (its points are arms with role 'curve')
    """
    CREATE TABLE curves (
        run_id VARCHAR NOT NULL,
        arm VARCHAR NOT NULL,
        analysis_json VARCHAR NOT NULL,
        PRIMARY KEY (run_id, arm)
    );
    """,
]
# compared against; candidates; extra views of a candidate; a tuned arm's learning-curve points (read apart)
ROLES = ("baseline", "tuned", "companion", "curve")
NOT_CURVE = "arm NOT IN (SELECT arm FROM arms WHERE run_id = ? AND role = 'curve')"
SCHEMA_VERSION = len(MIGRATIONS)


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


KILLED = "the process running it ended without finishing (killed or crashed)"


def _abandoned(run: dict[str, Any]) -> bool:
    """Left 'running' by a process that is gone. Only a process on this host can be checked: a run of another
    machine's process stays 'running' here, whether it still runs or not (nothing here can tell)."""
    return run["status"] == "running" and run.get("host") == socket.gethostname() and bool(run.get("pid")) \
        and run["pid"] != os.getpid() and not process_alive(run["pid"], run.get("process"))


def _as_seen(run: dict[str, Any]) -> dict[str, Any]:
    """A run whose process is gone shows as killed, even to a read-only reader that may not write the fact down."""
    return dict(run, status="killed", error=KILLED) if _abandoned(run) else run


def _now() -> datetime:
    return datetime.now(timezone.utc).replace(tzinfo=None)


def _from_unix(seconds: float) -> datetime:
    """A Unix time as the store keeps times: naive UTC, like `_now`."""
    return datetime.fromtimestamp(seconds, timezone.utc).replace(tzinfo=None)


def _connected(method: Callable[..., T]) -> Callable[..., T]:
    """Run the method inside a connection of its own, or inside the caller's when one is open."""

    @functools.wraps(method)
    def wrapper(self: Store, *args: Any, **kwargs: Any) -> T:
        with self.session():
            return method(self, *args, **kwargs)

    return wrapper


class Store:
    """Typed reads and writes over one DuckDB file.

    DuckDB lets one process at a time hold a file open for writing, and no other process may read it
    meanwhile. So a Store holds no connection between operations: each one connects, does its work in a
    short transaction and closes, waiting (with backoff) while another process holds the file. Two runs
    can then write to one database, and `history`, `report` and `compare` read it while runs go on.
    Opening costs about 20 ms, a few seconds over a run (bench/shared_db.py)."""

    def __init__(self, path: Path, read_only: bool = False, wait_s: float | None = None):
        self.path = path
        self.read_only = read_only
        self.wait_s = float(os.environ.get("HARNESS_DB_WAIT_S", DEFAULT_WAIT_S)) if wait_s is None else wait_s
        self._con: Any = None
        self._depth = 0  # nesting of _transaction
        self.opens = 0
        self.waited_s = 0.0  # time spent waiting for other processes to let go of the file

    # ------------------------------------------------------------ opening

    @classmethod
    def open(cls, path: str | Path = DEFAULT_DB, read_only: bool = False, wait_s: float | None = None) -> Store:
        path = Path(path)
        if read_only and not path.is_file():
            raise HarnessError(f"{path}: no such database (run `harness run` first, or pass --db)")
        path.parent.mkdir(parents=True, exist_ok=True)
        store = cls(path, read_only, wait_s)
        with store.session():
            store._check_schema(read_only)
            if not read_only:
                store._close_abandoned_runs()
        return store

    def close(self) -> None:
        """Nothing is held between operations; kept so a Store reads like any other resource."""

    @property
    def con(self) -> Any:
        if self._con is None:
            raise RuntimeError("Store.con used outside a session")
        return self._con

    def _connect(self) -> Any:
        import duckdb

        began = time.monotonic()
        delay = 0.01
        while True:
            try:
                con = duckdb.connect(str(self.path), read_only=self.read_only)
                self.opens += 1
                return con
            except duckdb.IOException as exc:
                message = str(exc).splitlines()[0]
                if "lock" not in message.lower():
                    raise HarnessError(f"{self.path}: cannot open database: {message}") from None
                waited = time.monotonic() - began
                if waited >= self.wait_s:
                    raise HarnessError(f"{self.path}: another process held the database for {waited:.0f} s "
                                       f"(HARNESS_DB_WAIT_S={self.wait_s:g}): {message}") from None
                pause = delay * (0.5 + random.random())  # jitter: two waiting runs do not retry in step
                time.sleep(pause)
                self.waited_s += pause
                delay = min(delay * 2, 0.25)
            except duckdb.Error as exc:
                raise HarnessError(f"{self.path}: cannot open database: {str(exc).splitlines()[0]}") from None

    @contextlib.contextmanager
    def session(self) -> Iterator[Any]:
        """One connection for everything inside; a reader making many queries holds it for their length only."""
        if self._con is not None:
            yield self._con
            return
        self._con = self._connect()
        try:
            yield self._con
        finally:
            con, self._con = self._con, None
            con.close()

    @contextlib.contextmanager
    def _transaction(self) -> Iterator[None]:
        """All or nothing: a failure part-way rolls back, so no half-written rows are left. Nested uses join
        the outer transaction."""
        with self.session():
            if self._depth:
                self._depth += 1
                try:
                    yield
                finally:
                    self._depth -= 1
                return
            self.con.execute("BEGIN")
            self._depth = 1
            try:
                yield
            except BaseException:
                self.con.execute("ROLLBACK")
                raise
            else:
                self.con.execute("COMMIT")
            finally:
                self._depth = 0

    @_connected
    def query(self, sql: str, params: Sequence[Any] = ()) -> list[tuple]:
        """Rows of a read-only SQL query, for tests and ad-hoc inspection."""
        return self.con.execute(sql, list(params)).fetchall()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @_connected
    def schema_version(self) -> int:
        has_meta = self.con.execute(
            "SELECT count(*) FROM information_schema.tables WHERE table_name = 'meta'"
        ).fetchone()[0]
        if not has_meta:
            tables = self.con.execute("SELECT count(*) FROM information_schema.tables").fetchone()[0]
            if tables:
                raise HarnessError(f"{self.path}: not a harness database (it has tables but no schema version)")
            return 0
        row = self.con.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
        return int(row[0]) if row else 0

    @_connected
    def _check_schema(self, read_only: bool) -> None:
        version = self.schema_version()
        if version > SCHEMA_VERSION:
            raise HarnessError(
                f"{self.path}: schema version {version} was written by a newer harness (this one knows {SCHEMA_VERSION})"
            )
        if version == SCHEMA_VERSION:
            return
        if read_only:
            raise HarnessError(f"{self.path}: schema version {version} is older than {SCHEMA_VERSION}; open it once with `harness run` to upgrade")
        with self._transaction():
            self.con.execute("CREATE TABLE IF NOT EXISTS meta (key VARCHAR PRIMARY KEY, value VARCHAR)")
            for sql in MIGRATIONS[version:]:
                self.con.execute(sql)
            self.con.execute(
                "INSERT OR REPLACE INTO meta VALUES ('schema_version', ?)", [str(SCHEMA_VERSION)]
            )

    @_connected
    def _close_abandoned_runs(self) -> None:
        """Runs left 'running' by a process on this host that no longer exists were killed: mark them so."""
        for run in self._dicts("SELECT * FROM runs WHERE status = 'running' AND host = ?", [socket.gethostname()]):
            if _abandoned(run):
                self.fail_run(run["run_id"], KILLED, status="killed")

    # ------------------------------------------------------------ writes

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
    def trials(self, run_id: str) -> list[dict[str, Any]]:
        return self._dicts("SELECT * FROM trials WHERE run_id = ? ORDER BY arm, trial_number", [run_id])

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
    def stages(self, run_id: str) -> list[dict[str, Any]]:
        return self._dicts("SELECT * FROM stages WHERE run_id = ? ORDER BY position", [run_id])

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
            "trials": ("trials", "arm, trial_number"),
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

    # ------------------------------------------------------------ general-capability suite

    @_connected
    def has_suite(self, key: str) -> bool:
        return self.con.execute("SELECT count(*) FROM suite_results WHERE suite_key = ?", [key]).fetchone()[0] > 0

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
    def run_suites(self, run_id: str) -> dict[str, dict[str, Any]]:
        """{arm ('base' for the base model): suite result row, with `reused`}."""
        rows = self._dicts("SELECT l.arm, l.reused, r.* FROM run_suites l JOIN suite_results r USING (suite_key) "
                           "WHERE l.run_id = ? ORDER BY l.arm", [run_id])
        return {r["arm"]: r for r in rows}

    @_connected
    def suite_rows(self, key: str) -> list[dict[str, Any]]:
        return self._dicts("SELECT part, category, item_id, metric, value FROM suite_rows WHERE suite_key = ? "
                           "ORDER BY part, item_id, metric", [key])

    @_connected
    def suite_documents(self, key: str) -> list[dict[str, Any]]:
        return self._dicts("SELECT doc_id, loss, n_tokens FROM suite_documents WHERE suite_key = ? ORDER BY doc_id",
                           [key])

    # ------------------------------------------------------------ retrieval index

    @staticmethod
    def _chunk_table(key: str) -> str:
        if not key.isalnum():
            raise ValueError(f"index key must be alphanumeric, got {key!r}")
        return f"chunks_{key}"

    @_connected
    def index_info(self, key: str) -> dict[str, Any] | None:
        rows = self._dicts("SELECT * FROM indexes WHERE index_key = ?", [key])
        return rows[0] if rows else None

    @_connected
    def create_index(self, key: str, meta: dict[str, Any], chunks: Sequence[dict[str, Any]], vectors: Any) -> None:
        """Chunks and their embeddings in one transaction: an index is there whole or not at all."""
        import pyarrow as pa

        dim = int(vectors.shape[1])
        table = self._chunk_table(key)
        flat = pa.array(vectors.astype("float32").reshape(-1))
        batch = pa.table({
            "chunk_id": [c["chunk_id"] for c in chunks],
            "doc_id": [c["doc_id"] for c in chunks],
            "position": [c["position"] for c in chunks],
            "text": [c["text"] for c in chunks],
            "n_tokens": [c["n_tokens"] for c in chunks],
            "embedding": pa.FixedSizeListArray.from_arrays(flat, dim),
        })
        with self._transaction():
            self.con.execute(f"DROP TABLE IF EXISTS {table}")
            self.con.execute(
                f"CREATE TABLE {table} (chunk_id VARCHAR PRIMARY KEY, doc_id VARCHAR NOT NULL, position INTEGER, "
                f"text VARCHAR NOT NULL, n_tokens INTEGER, embedding FLOAT[{dim}] NOT NULL)"
            )
            self.con.register("_chunks", batch)
            self.con.execute(f"INSERT INTO {table} SELECT chunk_id, doc_id, position, text, n_tokens, "
                             f"embedding::FLOAT[{dim}] FROM _chunks")
            self.con.unregister("_chunks")
            self._insert("indexes", [dict(meta, index_key=key, dimension=dim, n_chunks=len(chunks), created_at=_now())])

    @_connected
    def index_chunks(self, key: str) -> list[dict[str, Any]]:
        return self._dicts(f"SELECT chunk_id, doc_id, position, text, n_tokens FROM {self._chunk_table(key)} "
                           "ORDER BY doc_id, position")

    @_connected
    def dense_search(self, key: str, vectors: Sequence[Sequence[float]], k: int) -> list[list[tuple[str, float]]]:
        """For each query vector, the top-k chunks by cosine similarity, computed by DuckDB over the stored
        FLOAT arrays."""
        info = self.index_info(key)
        if info is None:
            raise HarnessError(f"{self.path}: no retrieval index {key}")
        dim = info["dimension"]
        sql = (f"SELECT chunk_id, array_cosine_similarity(embedding, ?::FLOAT[{dim}]) AS score "
               f"FROM {self._chunk_table(key)} ORDER BY score DESC, chunk_id LIMIT ?")
        return [[(r[0], float(r[1])) for r in self.con.execute(sql, [list(v), k]).fetchall()] for v in vectors]

    @_connected
    def findings(self, run_id: str) -> list[dict[str, Any]]:
        return self._dicts(
            "SELECT * FROM findings WHERE run_id = ? ORDER BY CASE severity WHEN 'error' THEN 0 WHEN 'warning' THEN 1 "
            "ELSE 2 END, location", [run_id])

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
    def cached_arm(self, cache_key: str) -> tuple[str, str] | None:
        """(run id, arm) of the latest completed arm with these results, if any run has one."""
        row = self.con.execute(
            "SELECT run_id, arm FROM arms WHERE cache_key = ? AND status = 'completed' ORDER BY finished_at DESC LIMIT 1",
            [cache_key]).fetchone()
        return (row[0], row[1]) if row else None

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

    @_connected
    def _insert(self, table: str, rows: Sequence[dict[str, Any]]) -> None:
        """Bulk insert through Arrow (executemany is row-at-a-time in DuckDB)."""
        if not rows:
            return
        import pyarrow as pa

        columns = [c[0] for c in self.con.execute(f"DESCRIBE {table}").fetchall()]
        unknown = set().union(*rows) - set(columns)
        if unknown:
            raise ValueError(f"{table}: unknown columns {sorted(unknown)}")
        data = {c: [r.get(c) for r in rows] for c in columns if any(c in r for r in rows)}
        batch = pa.table(data)
        self.con.register("_incoming", batch)
        try:
            names = ", ".join(data)
            self.con.execute(f"INSERT INTO {table} ({names}) SELECT {names} FROM _incoming")
        finally:
            self.con.unregister("_incoming")

    # ------------------------------------------------------------ reads

    @_connected
    def _dicts(self, sql: str, params: Sequence[Any] = ()) -> list[dict[str, Any]]:
        cur = self.con.execute(sql, list(params))
        names = [d[0] for d in cur.description]
        return [dict(zip(names, row)) for row in cur.fetchall()]

    @_connected
    def run(self, run_id: str) -> dict[str, Any]:
        rows = self._dicts("SELECT * FROM runs WHERE run_id = ?", [run_id])
        if not rows:
            raise HarnessError(f"{self.path}: no run {run_id!r}")
        return _as_seen(rows[0])

    @_connected
    def latest_run(self, task: str | None = None) -> str:
        sql = "SELECT run_id FROM runs" + (" WHERE task = ?" if task else "") + " ORDER BY started_at DESC LIMIT 1"
        row = self.con.execute(sql, [task] if task else []).fetchone()
        if row is None:
            raise HarnessError(f"{self.path}: no runs" + (f" of task {task!r}" if task else ""))
        return row[0]

    @_connected
    def arms(self, run_id: str, curve_points: bool = False) -> list[dict[str, Any]]:
        """The run's arms (and with `curve_points`, the learning curves' points too); those left 'running' by a
        killed run show as killed, as the run does."""
        which = "" if curve_points else " AND role IS DISTINCT FROM 'curve'"
        arms = self._dicts(f"SELECT * FROM arms WHERE run_id = ?{which} ORDER BY started_at, arm", [run_id])
        if any(a["status"] == "running" for a in arms) and self.run(run_id)["status"] == "killed":
            arms = [dict(a, status="killed", error="run stopped: " + KILLED) if a["status"] == "running" else a
                    for a in arms]
        return arms

    @_connected
    def curve_points(self, run_id: str) -> list[dict[str, Any]]:
        """The learning curves' points of the run (arms with role 'curve'), as `arms` lists them."""
        return [a for a in self.arms(run_id, curve_points=True) if a["role"] == "curve"]

    @_connected
    def save_curves(self, run_id: str, analyses: Sequence[dict[str, Any]]) -> None:
        """Each tuned arm's fitted learning curve (`harness.verdict.curve.CurveAnalysis.to_dict`)."""
        with self._transaction():
            self.con.execute("DELETE FROM curves WHERE run_id = ?", [run_id])
            self._insert("curves", [{"run_id": run_id, "arm": a["arm"], "analysis_json": json.dumps(a)}
                                    for a in analyses])

    @_connected
    def curves(self, run_id: str) -> list[dict[str, Any]]:
        return [json.loads(r[0]) for r in self.con.execute(
            "SELECT analysis_json FROM curves WHERE run_id = ? ORDER BY arm", [run_id]).fetchall()]

    @_connected
    def metrics(self, run_id: str, split: str = "test") -> list[dict[str, Any]]:
        """The arms' aggregate metrics (not the learning curves' points: `curve_points` lists those)."""
        return self._dicts(f"SELECT * FROM metrics WHERE run_id = ? AND split = ? AND {NOT_CURVE} ORDER BY arm, metric",
                           [run_id, split, run_id])

    @_connected
    def examples(self, run_id: str, split: str = "test") -> list[dict[str, Any]]:
        return self._dicts("SELECT * FROM examples WHERE run_id = ? AND split = ? ORDER BY example_id", [run_id, split])

    @_connected
    def predictions(self, run_id: str, arm: str | None = None, split: str = "test") -> list[dict[str, Any]]:
        """One arm's answers, or every arm's (not the learning curves' points unless one is named)."""
        sql = "SELECT * FROM predictions WHERE run_id = ? AND split = ?"
        params: list[Any] = [run_id, split]
        if arm is not None:
            sql += " AND arm = ?"
            params.append(arm)
        else:
            sql += f" AND {NOT_CURVE}"
            params.append(run_id)
        return self._dicts(sql + " ORDER BY arm, example_id", params)

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
    def runs(self, task: str | None = None) -> list[dict[str, Any]]:
        sql = "SELECT * FROM runs" + (" WHERE task = ?" if task else "") + " ORDER BY started_at"
        return [_as_seen(row) for row in self._dicts(sql, [task] if task else [])]
