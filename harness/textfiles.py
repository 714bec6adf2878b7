"""Reading users' text files: regular files only (a FIFO would block the read for ever), within the caller's size
limit (harness.spec.limits) checked before a byte is read, UTF-8 (a byte-order mark is allowed), and bytes that are
not UTF-8 named by file, line and column instead of a traceback. File names in messages are quoted when they hold
characters that could break or forge a line of output.

    harness validate tasks/contracts.yaml   # the task file, its data and its corpus are read through here
"""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path
from typing import Any

from harness.errors import HarnessError, shown


def size_text(n: int) -> str:
    """A byte count for a message: 16 MiB, 1.2 GiB, 300 B."""
    for unit, size in (("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)):
        if n >= size:
            return f"{n / size:.1f}".removesuffix(".0") + f" {unit}"
    return f"{n} B"


def kind_of(mode: int) -> str:
    """What a file that is not a regular file is, for `expected a file, found ...`."""
    for test, name in ((stat.S_ISDIR, "a folder"), (stat.S_ISFIFO, "a FIFO (named pipe)"), (stat.S_ISSOCK, "a socket"),
                       (stat.S_ISCHR, "a character device"), (stat.S_ISBLK, "a block device")):
        if test(mode):
            return name
    return "not a regular file"


def regular_file(path: Path, what: str = "file") -> os.stat_result:
    """The file's stat; HarnessError unless it is a regular file (following links): opening a FIFO blocks until a
    writer comes, a device never ends."""
    try:
        info = path.stat()
    except FileNotFoundError:
        dangling = " (a symbolic link to a missing target)" if path.is_symlink() else ""
        raise HarnessError(f"{shown(path)}: {what} not found{dangling}") from None
    except OSError as exc:
        raise HarnessError(f"{shown(path)}: cannot read ({exc.strerror})") from None
    if not stat.S_ISREG(info.st_mode):
        raise HarnessError(f"{shown(path)}: expected a {what}, found {kind_of(info.st_mode)}")
    return info


def undecodable(path: Path, raw: bytes, exc: UnicodeDecodeError) -> str:
    """`file:line:column: not UTF-8 text ...` for the first byte that does not decode."""
    line = raw.count(b"\n", 0, exc.start) + 1
    column = exc.start - (raw.rfind(b"\n", 0, exc.start) + 1) + 1
    return f"{shown(path)}:{line}:{column}: not UTF-8 text (byte 0x{raw[exc.start]:02x}); save the file as UTF-8"


def decode(path: Path, raw: bytes) -> str:
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise HarnessError(undecodable(path, raw, exc)) from None


def read_text(path: Path, limit: int | None = None, what: str = "file", hint: str = "") -> str:
    """The file's text; HarnessError naming the file (and line) when it is not a regular file, is larger than
    `limit` bytes (None: the harness's own files, no limit), or cannot be read as UTF-8. `hint`: what to do instead
    of a file past the limit."""
    info = regular_file(path, what)
    limit = info.st_size if limit is None else limit
    if info.st_size > limit:
        hint = f" ({hint})" if hint else ""
        raise HarnessError(f"{shown(path)}: {info.st_size:,} bytes, over the {size_text(limit)} limit for a {what}{hint}")
    try:
        with path.open("rb") as fh:
            raw = fh.read(limit + 1)  # the file may have grown since stat
    except OSError as exc:
        raise HarnessError(f"{shown(path)}: cannot read ({exc.strerror})") from None
    if len(raw) > limit:
        raise HarnessError(f"{shown(path)}: over the {size_text(limit)} limit for a {what}")
    return decode(path, raw)


def oversized(where: str, n_bytes: int, limit: int) -> str | None:
    """The problem with one example of n_bytes (None when it is within the limit)."""
    if n_bytes <= limit:
        return None
    return f"{where}: one example of {n_bytes:,} bytes, over the {size_text(limit)} limit per example"


def lone_surrogate(value: Any) -> str | None:
    """The first lone UTF-16 surrogate (`\\ud800`) in a JSON-like value, as its escape; None when there is none.
    JSON's `\\uXXXX` escapes can spell one, and it is not a character: no UTF-8 writer (the database, a hash, the
    report) accepts it."""
    if isinstance(value, str):
        if value.isascii():
            return None
        found = next((c for c in value if 0xD800 <= ord(c) <= 0xDFFF), None)
        return f"\\u{ord(found):04x}" if found is not None else None
    if isinstance(value, dict):
        items: Any = [*value.keys(), *value.values()]
    elif isinstance(value, (list, tuple)):
        items = value
    else:
        return None
    for item in items:
        found = lone_surrogate(item)
        if found is not None:
            return found
    return None


SURROGATE_HINT = "is half of a UTF-16 surrogate pair, not a character"


def json_record(line: str, where: str) -> tuple[Any, str | None]:
    """(value, problem) for one JSON line: not JSON, nested too deeply, or holding a lone surrogate."""
    try:
        value = json.loads(line)
    except json.JSONDecodeError as exc:
        return None, f"{where}: not valid JSON ({exc.msg} at column {exc.colno})"
    except RecursionError:
        return None, f"{where}: JSON nested too deeply"
    except ValueError:  # Python reads no integer of more than 4,300 digits
        return None, f"{where}: a number too long to read (over 4,300 digits)"
    if "\\u" in line:  # only an escape can spell a surrogate: decoded UTF-8 never holds one
        found = lone_surrogate(value)
        if found is not None:
            return None, f"{where}: {found} {SURROGATE_HINT}"
    return value, None
