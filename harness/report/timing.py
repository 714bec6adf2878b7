"""The report's "Where the time went": every recorded stage of a run in order, its seconds and its share of the
run's wall time, and what no stage accounts for (the gaps between them).

    harness report --run <run_id>
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from harness.store.records import StageRecord


@dataclass(frozen=True)
class StageTime:
    position: int
    stage: str
    arm: str | None
    seconds: float
    share: float | None  # of the wall time; None when the wall time is 0
    failed: bool


@dataclass(frozen=True)
class StageTimes:
    rows: list[StageTime]
    wall_seconds: float  # from the first stage's start to the last one's end
    untimed_seconds: float  # wall time inside no stage: writes to the store, setting up between stages
    untimed_share: float | None
    wall: str  # the wall time for a reader: "1 h 02 min", "3 min 20 s", "4.2 s"


def duration(seconds: float) -> str:
    if seconds < 60:
        return f"{seconds:.1f} s"
    minutes, secs = divmod(round(seconds), 60)
    if minutes < 60:
        return f"{minutes} min {secs:02d} s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min"


def stage_times(rows: list[StageRecord]) -> StageTimes | None:
    """From the store's stage rows (in order); None for a run that recorded none (one from before they were)."""
    if not rows:
        return None
    start = min(r.started_at for r in rows)
    end = max(r.started_at + timedelta(seconds=r.seconds) for r in rows)
    timed = sum(r.seconds for r in rows)
    wall = max((end - start).total_seconds(), timed)  # wall clock and stopwatch may disagree by microseconds

    def share(seconds: float) -> float | None:
        return seconds / wall if wall > 0 else None

    times = [StageTime(r.position, r.stage, r.arm, r.seconds, share(r.seconds), r.failed)
             for r in rows]
    return StageTimes(times, wall, wall - timed, share(wall - timed), duration(wall))
