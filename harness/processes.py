"""Processes: whether one that claimed a run or a trial is still alive, and how this one stops on a signal."""

from __future__ import annotations

import os
import signal

_stopping: str | None = None


def process_alive(pid: int) -> bool:
    """Same host only."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # exists, owned by someone else
        return True
    return True


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
