"""One DuckDB file opened per operation: connecting (waiting while another process holds the file), sessions,
all-or-nothing transactions, the schema check, and the two primitives every part uses (bulk insert, rows as dicts).

DuckDB lets one process at a time hold a file open for writing, and no other process may read it meanwhile. So
a store holds no connection between operations: each one connects, does its work in a short transaction and
closes. The writes, reads and vector index (writes.py, reads.py, vectors.py) are built on this class.
"""

from __future__ import annotations

import contextlib
import functools
import os
import random
import socket
import time
from collections.abc import Callable, Iterator, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

from harness import environment
from harness.errors import HarnessError
from harness.processes import process_alive
from harness.store.migrations import MIGRATIONS, SCHEMA_VERSION

T = TypeVar("T")
C = TypeVar("C", bound="Connection")

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
    return datetime.now(UTC).replace(tzinfo=None)


def _from_unix(seconds: float) -> datetime:
    """A Unix time as the store keeps times: naive UTC, like `_now`."""
    return datetime.fromtimestamp(seconds, UTC).replace(tzinfo=None)


def _connected(method: Callable[..., T]) -> Callable[..., T]:
    """Run the method inside a connection of its own, or inside the caller's when one is open."""

    @functools.wraps(method)
    def wrapper(self: Connection, *args: Any, **kwargs: Any) -> T:
        with self.session():
            return method(self, *args, **kwargs)

    return wrapper


class Connection:
    """The connection discipline of one database file; see the module docstring."""

    def __init__(self, path: Path, read_only: bool = False, wait_s: float | None = None):
        self.path = path
        self.read_only = read_only
        self.wait_s = environment.db_wait_s() if wait_s is None else wait_s
        self._con: Any = None
        self._depth = 0  # nesting of _transaction
        self.opens = 0
        self.waited_s = 0.0  # time spent waiting for other processes to let go of the file

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

    def __enter__(self: C) -> C:
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

    @_connected
    def _dicts(self, sql: str, params: Sequence[Any] = ()) -> list[dict[str, Any]]:
        cur = self.con.execute(sql, list(params))
        names = [d[0] for d in cur.description]
        return [dict(zip(names, row)) for row in cur.fetchall()]
