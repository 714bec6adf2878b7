"""User-facing errors: one line each, printed by the CLI without a traceback."""

from __future__ import annotations


class HarnessError(Exception):
    """A mistake the user can fix (bad input, missing file, unknown name)."""


class SpecError(HarnessError):
    """A task file with one or more problems; each problem is one line."""

    def __init__(self, problems: list[str]):
        self.problems = problems
        super().__init__("\n".join(problems))


def did_you_mean(name: str, choices: list[str] | tuple[str, ...]) -> str:
    """'Did you mean x? Available: a, b, c' for an unknown name."""
    import difflib

    close = difflib.get_close_matches(name, list(choices), n=1)
    hint = f"did you mean {close[0]!r}? " if close else ""
    return f"{hint}available: {', '.join(sorted(choices))}"


def shown(name: object) -> str:
    """A file name (or any name from outside) for a one-line message: as it is, or quoted with Python's escapes
    when it holds a character that is not printable, so a newline in a name cannot end the line and forge the
    next one."""
    text = str(name)
    return text if text.isprintable() else repr(text)


def one_line(text: str) -> str:
    """A message made safe to print as one line: characters that are not printable (newlines, carriage returns,
    terminal escapes, U+2028) written as escapes."""
    if text.isprintable():
        return text
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)
