"""How long each stage of a run took, written to the store as each one ends, so a run that is killed still
shows the stages it finished (the report's "Where the time went").

    harness run tasks/contracts.yaml
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from harness.processes import kill_point
from harness.store.database import Store


@dataclass
class Lap:
    """A stage being timed."""

    kept: bool = True

    def discard(self) -> None:
        """It turned out to be nothing worth a row (a cache miss, an arm with nothing to prepare)."""
        self.kept = False


class StageClock:
    """Times the stages of one run. Stages that end before the run has a row (resolving the base model, the data
    checks) are held and written by `attach`."""

    def __init__(self) -> None:
        self._store: Store | None = None
        self._run_id: str | None = None
        self._held: list[dict[str, Any]] = []

    def attach(self, store: Store, run_id: str) -> None:
        self._store, self._run_id = store, run_id
        held, self._held = self._held, []
        with store.session():
            for row in held:
                store.add_stage(run_id, **row)

    @contextlib.contextmanager
    def __call__(self, stage: str, arm: str | None = None) -> Iterator[Lap]:
        kill_point(stage, arm)
        lap = Lap()
        started_at, began = time.time(), time.perf_counter()
        try:
            yield lap
        except Exception:  # a stage that fails (an arm's training) took its time too; Ctrl-C stops the run: no row
            self._record(stage, arm, started_at, time.perf_counter() - began, failed=True)
            raise
        if lap.kept:
            self._record(stage, arm, started_at, time.perf_counter() - began)

    def _record(self, stage: str, arm: str | None, started_at: float, seconds: float, failed: bool = False) -> None:
        row = {"stage": stage, "arm": arm, "seconds": seconds, "started_at": started_at, "failed": failed}
        if self._store is None or self._run_id is None:
            self._held.append(row)
        else:
            self._store.add_stage(self._run_id, **row)
