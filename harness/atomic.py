"""Files and folders that appear whole or not at all: written under a temporary name in the same folder, then
renamed (`os.replace`, atomic on one filesystem). A process killed part-way leaves a `<name>.tmp-<pid>-*` leftover,
never a half-written file at the name a later step or run reads; the next write of that name removes it.

    harness run tasks/contracts.yaml   # reports, adapters, merged models, caches: all written this way
"""

from __future__ import annotations

import contextlib
import os
import secrets
import shutil
from collections.abc import Iterator
from pathlib import Path

from harness.errors import HarnessError, shown
from harness.processes import process_alive
from harness.textfiles import kind_of


def writable_folder(folder: Path, what: str) -> None:
    """The folder exists and is writable, or can be created: its nearest existing ancestor is a writable folder.
    A symbolic link to a missing target on the way is refused: writing through it would create whatever it names."""
    existing = folder
    while not os.path.lexists(existing) and existing != existing.parent:
        existing = existing.parent
    if existing.is_symlink() and not existing.exists():
        raise HarnessError(f"{what} {shown(folder)}: {shown(existing)} is a symbolic link to a missing target")
    if not existing.is_dir():
        found = kind_of(existing.stat().st_mode) if existing.exists() else "missing"
        found = "a file" if found == "not a regular file" or existing.is_file() else found
        where = f"is {found}" if existing == folder else f"cannot be created: {shown(existing)} is {found}"
        raise HarnessError(f"{what} {shown(folder)}: expected a folder, but it {where}")
    if not os.access(existing, os.W_OK | os.X_OK):
        raise HarnessError(f"{what} {shown(folder)}: {shown(existing)} is not writable")


def writable_file(path: Path, what: str) -> None:
    """A file can be written (replaced) at `path`: nothing but a regular file is there, and its folder is writable."""
    if path.is_symlink() and not path.exists():
        raise HarnessError(f"{what} {shown(path)}: a symbolic link to a missing target")
    if path.exists() and not path.is_file():
        raise HarnessError(f"{what} {shown(path)}: expected a file, but {kind_of(path.stat().st_mode)} is there")
    writable_folder(path.parent, f"{what} {shown(path)}: its folder")


def write_text_atomic(path: str | Path, text: str, encoding: str = "utf-8") -> Path:
    """`path.write_text(text)`, atomically."""
    with atomic_file(path) as tmp:
        tmp.write_text(text, encoding=encoding)
    return Path(path)


@contextlib.contextmanager
def atomic_file(path: str | Path) -> Iterator[Path]:
    """A temporary path next to `path` to write to; renamed to `path` when the block ends without an error."""
    path = Path(path)
    if path.is_dir():  # os.replace cannot put a file there: say so before anything is written
        raise HarnessError(f"{shown(path)}: expected to write a file there, but a folder is there")
    path.parent.mkdir(parents=True, exist_ok=True)
    _remove_leftovers(path)
    tmp = _sibling(path, "tmp")
    try:
        yield tmp
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


@contextlib.contextmanager
def atomic_dir(path: str | Path) -> Iterator[Path]:
    """A temporary folder next to `path` to fill; it becomes `path` when the block ends without an error.

    An existing folder at `path` is replaced. A folder cannot be renamed over a non-empty one, so the old one is
    moved aside first: for that moment `path` is absent, which a reader takes as "not written", never as a
    partial folder."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    _remove_leftovers(path)
    tmp = _sibling(path, "tmp")
    tmp.mkdir()
    try:
        yield tmp
        if path.exists():
            old = _sibling(path, "old")
            os.replace(path, old)
            os.replace(tmp, path)
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.replace(tmp, path)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _sibling(path: Path, kind: str) -> Path:
    """A name next to `path` no other writer uses (pid and random suffix); created by the caller with the usual
    permissions (tempfile's would be private to the user)."""
    return path.with_name(f"{path.name}.{kind}-{os.getpid()}-{secrets.token_hex(4)}")


def _remove_leftovers(path: Path) -> None:
    """What writers of this name that have since died left beside it (a merged model's is a whole model)."""
    for kind in ("tmp", "old"):
        for leftover in path.parent.glob(f"{path.name}.{kind}-*-*"):
            pid = leftover.name[len(path.name) + len(kind) + 2:].split("-")[0]
            if pid.isdigit() and int(pid) != os.getpid() and not process_alive(int(pid)):
                if leftover.is_dir():
                    shutil.rmtree(leftover, ignore_errors=True)
                else:
                    leftover.unlink(missing_ok=True)
