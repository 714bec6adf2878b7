"""Reading users' text files: UTF-8 (a byte-order mark is allowed), and bytes that are not UTF-8 named by file,
line and column instead of a traceback."""

from __future__ import annotations

from pathlib import Path

from harness.errors import HarnessError


def undecodable(path: Path, raw: bytes, exc: UnicodeDecodeError) -> str:
    """`file:line:column: not UTF-8 text ...` for the first byte that does not decode."""
    line = raw.count(b"\n", 0, exc.start) + 1
    column = exc.start - (raw.rfind(b"\n", 0, exc.start) + 1) + 1
    return f"{path}:{line}:{column}: not UTF-8 text (byte 0x{raw[exc.start]:02x}); save the file as UTF-8"


def decode(path: Path, raw: bytes) -> str:
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise HarnessError(undecodable(path, raw, exc)) from None


def read_text(path: Path) -> str:
    """The file's text; HarnessError naming the file (and line) when it cannot be read as UTF-8."""
    try:
        raw = path.read_bytes()
    except IsADirectoryError:
        raise HarnessError(f"{path}: expected a file, found a folder") from None
    except OSError as exc:
        raise HarnessError(f"{path}: cannot read ({exc.strerror})") from None
    return decode(path, raw)
