"""The harness's own environment variables, each read in one place with a one-line error for a bad value:
`harness validate` checks them all, as `harness run` would meet them (HARNESS_CACHE is read by harness.hub).

    HARNESS_DB_WAIT_S=30 harness run tasks/contracts.yaml   # give up on a busy database after 30 s
"""

from __future__ import annotations

import math
import os

from harness.errors import HarnessError, shown
from harness.hub import cache_root

DB_WAIT = "HARNESS_DB_WAIT_S"
HEARTBEAT = "HARNESS_SWEEP_HEARTBEAT_S"
DEFAULT_DB_WAIT_S = 600.0  # a writer holds the file for one short transaction; ten minutes means something is stuck
DEFAULT_HEARTBEAT_S = 10


def seconds(name: str, default: float, least: float = 0.0, whole: bool = False) -> float:
    """A number of seconds from variable `name` (default when unset or empty)."""
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    try:
        value = float(raw) if not whole else int(raw)
    except ValueError:
        value = math.nan
    if not math.isfinite(value) or value < least:
        kind = "a whole number of seconds" if whole else "a number of seconds"
        raise HarnessError(f"{name}={shown(raw)}: expected {kind}, at least {least:g} (e.g. {name}={default:g})")
    return value


def db_wait_s() -> float:
    """How long to wait for another process to let go of the run database before giving up."""
    return seconds(DB_WAIT, DEFAULT_DB_WAIT_S)


def heartbeat_s() -> int:
    """Seconds between a running sweep trial's heartbeats; a trial silent for three is taken as dead."""
    return int(seconds(HEARTBEAT, DEFAULT_HEARTBEAT_S, least=1, whole=True))


def check() -> None:
    """Every variable above that is set holds what it should."""
    db_wait_s()
    heartbeat_s()
    cache_root()
