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
