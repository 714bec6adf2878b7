"""A stored run as files a notebook reads: one per table, written by DuckDB's own COPY, plus the decision.

    harness export latest --format parquet --out exports/contracts

Files are written into a hidden folder inside --out and renamed into place when all are there, the manifest
(export.json) last: a file under its final name is always whole, and a manifest means the export finished.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from harness import __version__
from harness.errors import HarnessError
from harness.store.database import Store

FORMATS = ("parquet", "csv", "jsonl")
MANIFEST = "export.json"
DECISION = "decision.json"
RECENT = 5  # runs named when a run id is not found


@dataclass(frozen=True)
class Export:
    run_id: str
    status: str
    folder: Path
    rows: dict[str, int]  # table file name (without extension) -> rows written
    files: list[Path]  # every file written, the manifest last


def _folder(out: Path) -> Path:
    """The --out folder, checked before anything is read or written."""
    if "\0" in str(out):
        raise HarnessError(f"{out!r}: --out holds a NUL character; expected a folder path")
    if out.exists() and not out.is_dir():
        raise HarnessError(f"{out}: --out is a file; expected a folder (new or existing) for the exported files")
    return out.absolute()


def _run_id(store: Store, ref: str) -> str:
    if ref == "latest":
        return store.latest_run()
    runs = store.runs()
    if any(r.run_id == ref for r in runs):
        return ref
    recent = ", ".join(f"{r.run_id} ({r.task}, {r.status}, {r.started_at:%Y-%m-%d %H:%M})"
                       for r in reversed(runs[-RECENT:]))
    raise HarnessError(f"{store.path}: no run {ref!r}; " + (f"recent runs: {recent}" if recent else "it holds no runs"))


def export_run(db: Path, ref: str, fmt: str, out: Path) -> Export:
    """Run REF (an id or 'latest') of database DB as FMT files in folder OUT, replacing files of the same names."""
    if fmt not in FORMATS:
        raise HarnessError(f"--format {fmt!r}: expected one of {', '.join(FORMATS)}")
    folder = _folder(out)
    with Store.open(db, read_only=True) as store, store.session():
        run_id = _run_id(store, ref)
        run = store.run(run_id)
        try:
            folder.mkdir(parents=True, exist_ok=True)
            staging = Path(tempfile.mkdtemp(prefix=".export-", dir=folder))
        except OSError as exc:
            raise HarnessError(f"{out}: cannot create the export folder: {exc.strerror or exc}") from None
        try:
            rows = store.copy_run(run_id, staging, fmt)
            decision = run.decision
            (staging / DECISION).write_text(json.dumps(decision, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
            names = [f"{name}.{fmt}" for name in rows] + [DECISION]
            manifest = {
                "run_id": run_id, "task": run.task, "task_version": run.task_version, "status": run.status,
                "format": fmt, "database": str(db), "harness_version": __version__,
                "exported_at": datetime.now(UTC).isoformat(timespec="seconds"),
                "tables": {name: {"file": f"{name}.{fmt}", "rows": n} for name, n in rows.items()},
                "decision": DECISION if decision is not None else None,
            }
            (staging / MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
            (folder / MANIFEST).unlink(missing_ok=True)  # an older export's manifest must not vouch for a mix
            files = []
            for name in [*names, MANIFEST]:
                os.replace(staging / name, folder / name)
                files.append(folder / name)
        except OSError as exc:
            raise HarnessError(f"{out}: cannot write the export: {exc.strerror or exc}") from None
        finally:
            shutil.rmtree(staging, ignore_errors=True)
    return Export(run_id, run.status, folder, rows, files)
