"""The experiment database: the only package that imports duckdb.

    harness run tasks/contracts.yaml --db experiments/harness.duckdb

One file holds every run, arm, prediction and score. The schema carries a version that is checked on open (and
upgraded by the migrations in migrations.py); the writes, reads and vector index are in writes.py, reads.py and
vectors.py, over the connection discipline in connection.py.
"""

from __future__ import annotations

from pathlib import Path

from harness.errors import HarnessError, shown
from harness.store.reads import Reads
from harness.store.vectors import VectorIndex
from harness.store.writes import Writes
from harness.textfiles import kind_of

DEFAULT_DB = Path("experiments") / "harness.duckdb"


class Store(Writes, Reads, VectorIndex):
    """Typed reads and writes over one DuckDB file.

    DuckDB lets one process at a time hold a file open for writing, and no other process may read it
    meanwhile. So a Store holds no connection between operations: each one connects, does its work in a
    short transaction and closes, waiting (with backoff) while another process holds the file. Two runs
    can then write to one database, and `history`, `report` and `compare` read it while runs go on.
    Opening costs about 20 ms, a few seconds over a run (bench/shared_db.py)."""

    @classmethod
    def open(cls, path: str | Path = DEFAULT_DB, read_only: bool = False, wait_s: float | None = None) -> Store:
        path = Path(path)
        if path.exists() and not path.is_file():  # a FIFO would block the open for ever
            raise HarnessError(f"{shown(path)}: expected a DuckDB file, found {kind_of(path.stat().st_mode)}")
        if read_only and not path.is_file():
            raise HarnessError(f"{shown(path)}: no such database (run `harness run` first, or pass --db)")
        path.parent.mkdir(parents=True, exist_ok=True)
        store = cls(path, read_only, wait_s)
        with store.session():
            store._check_schema(read_only)
            if not read_only:
                store._close_abandoned_runs()
        return store
