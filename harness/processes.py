"""Processes: whether one that claimed a run or a trial is still alive, and how this one stops on a signal."""

from __future__ import annotations

import os
import signal
from pathlib import Path

_stopping: str | None = None


def process_alive(pid: int, identity: str | None = None) -> bool:
    """Same host only. With the `identity` the process had (`process_identity`), a pid the system has since
    given to another process, or one from before a reboot, counts as gone."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # exists, owned by someone else
        pass
    stat = _stat(pid)
    if stat is None:  # no /proc to tell by: trust the pid
        return True
    if stat[0] == "Z":  # ended, not yet reaped by its parent
        return False
    return not identity or process_identity(pid) in (identity, None)


def process_identity(pid: int | None = None) -> str | None:
    """"<boot id>:<start time in clock ticks since boot>" of a process (Linux), which no other process shares:
    a pid alone is reused once its process has ended. None where /proc cannot tell."""
    stat = _stat(os.getpid() if pid is None else pid)
    try:
        boot = Path("/proc/sys/kernel/random/boot_id").read_text().strip()
    except OSError:
        return None
    return f"{boot}:{stat[19]}" if stat else None  # field 22 of stat: its start time


def _stat(pid: int) -> list[str] | None:
    """/proc/<pid>/stat from field 3 (the state) on; the command name before it may hold spaces."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return stat[stat.rindex(")") + 2:].split()


def kill_point(point: str, qualifier: object = None) -> None:
    """Test-only: SIGKILL this process here when HARNESS_KILL_AT names this point (tests/test_interruption.py)."""
    wanted = os.environ.get("HARNESS_KILL_AT")
    if wanted and wanted in (point, f"{point}:{qualifier}"):
        os.kill(os.getpid(), signal.SIGKILL)


def stop_on_signals() -> None:
    """SIGTERM (`kill`) and SIGINT (Ctrl-C) raise KeyboardInterrupt once, and the stop is remembered.

    An exception raised from a signal handler is lost when it lands in a weakref callback or a __del__
    ("Exception ignored in ..."), so long loops also call raise_if_stopping() at safe points. Later
    signals only confirm the stop: they must not interrupt the cleanup that marks the run failed."""

    def stop(signum: int, frame: object) -> None:
        global _stopping
        if _stopping is None:
            _stopping = f"signal {signum}"
            raise KeyboardInterrupt(_stopping)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)


def raise_if_stopping() -> None:
    """A safe point: raise again if a stop was asked for and its first KeyboardInterrupt was swallowed."""
    if _stopping is not None:
        raise KeyboardInterrupt(_stopping)
