"""A throwaway PostgreSQL server for the scale-out tests: initdb into a temporary folder, started on a free
local port with password authentication, stopped at the end of the session. Debian's `postgresql` package
provides the binaries (`make test-deps`); without them the tests fail rather than skip, so CI really runs them.

    pytest tests/test_sweep_postgres.py
"""

from __future__ import annotations

import glob
import os
import pwd
import secrets
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

ROLE = "harness"


def _bin_dir() -> Path | None:
    on_path = shutil.which("initdb")
    if on_path:
        return Path(on_path).parent
    # Debian keeps the server binaries out of PATH, one folder per major version.
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(Path(p).parts[-3]))
    return Path(found[-1]).parent if found else None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class PostgresServer:
    bin_dir: Path
    data_dir: Path
    port: int
    password: str
    as_user: list[str]  # runuser prefix when root: the server refuses to run as root

    def run(self, *args: str) -> subprocess.CompletedProcess:
        cmd = [*self.as_user, str(self.bin_dir / args[0]), *args[1:]]
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
        if done.returncode:
            log = self.data_dir / "server.log"
            tail = log.read_text()[-2000:] if log.exists() else ""
            raise RuntimeError(f"{' '.join(cmd)} failed ({done.returncode}): {done.stderr.strip()}\n{tail}")
        return done

    def admin(self, sql: str) -> None:
        import psycopg

        with psycopg.connect(host=str(self.data_dir), port=self.port, user="postgres", dbname="postgres",
                             autocommit=True) as con:
            con.execute(sql)

    def new_database(self) -> str:
        """A fresh database owned by the password-protected role; its URL carries the password."""
        name = f"optuna_{secrets.token_hex(4)}"
        self.admin(f"CREATE DATABASE {name} OWNER {ROLE}")
        return f"postgresql://{ROLE}:{self.password}@127.0.0.1:{self.port}/{name}"


def _start() -> PostgresServer:
    bin_dir = _bin_dir()
    if bin_dir is None or not (bin_dir / "pg_ctl").is_file():
        pytest.fail("the PostgreSQL server (initdb, pg_ctl) is not installed: run `make test-deps`, "
                    "which installs Debian's postgresql package", pytrace=False)
    # Under /tmp itself, not pytest's 0700 folders, so that the postgres user can reach it when we are root.
    data_dir = Path(tempfile.mkdtemp(prefix="harness-pg-"))
    as_user: list[str] = []
    if os.geteuid() == 0:
        owner = pwd.getpwnam("postgres")
        os.chown(data_dir, owner.pw_uid, owner.pw_gid)
        as_user = ["runuser", "-u", "postgres", "--"]
    server = PostgresServer(bin_dir, data_dir, _free_port(), secrets.token_urlsafe(12), as_user)
    pgdata = str(data_dir / "data")
    server.run("initdb", "-D", pgdata, "-U", "postgres", "-E", "UTF8", "--no-sync",
               "--auth-local=trust", "--auth-host=scram-sha-256")
    with open(Path(pgdata) / "postgresql.conf", "a") as conf:
        conf.write(f"port = {server.port}\nlisten_addresses = '127.0.0.1'\n"
                   f"unix_socket_directories = '{data_dir}'\nfsync = off\nmax_connections = 200\n")
    server.run("pg_ctl", "start", "-w", "-t", "60", "-D", pgdata, "-l", str(data_dir / "server.log"))
    server.admin(f"CREATE ROLE {ROLE} LOGIN PASSWORD '{server.password}'")
    return server


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    server = _start()
    try:
        yield server
    finally:
        try:
            server.run("pg_ctl", "stop", "-m", "immediate", "-w", "-D", str(server.data_dir / "data"))
        finally:
            shutil.rmtree(server.data_dir, ignore_errors=True)


@pytest.fixture
def postgres_url(postgres_server: PostgresServer) -> str:
    """`postgresql://harness:<password>@127.0.0.1:<port>/<fresh database>` on the session's server."""
    return postgres_server.new_database()
