"""Where a complete answer ends, so generation can stop there instead of at the token budget.

    json_answer_end('{"a": 1} Note: ...')   -> 8     the object is closed: nothing after it can be scored
    json_answer_end('{"a": [1, ')            -> None  not yet

A batch decodes until its last row is done, so one row that chatters on after its object keeps every
row of the batch computing. Stopping at the closed object is what a production parser would take, and
what the harness scores: the answer is cut at the same place whichever backend produced it.
"""

from __future__ import annotations

from collections.abc import Callable

AnswerEnd = Callable[[str], "int | None"]
FENCE = "```"


def _object_end(text: str, start: int) -> int | None:
    """Index just past the JSON object opening at text[start], or None while it is open."""
    depth, in_string, escaped = 0, False, False
    for k in range(start, len(text)):
        ch = text[k]
        if in_string:
            if escaped:
                escaped = False
            elif ch == "\\":
                escaped = True
            elif ch == '"':
                in_string = False
        elif ch == '"':
            in_string = True
        elif ch in "{[":
            depth += 1
        elif ch in "}]":
            depth -= 1
            if depth == 0:
                return k + 1
    return None


def json_answer_end(text: str) -> int | None:
    """The end of an answer that is one JSON object (bare, or in a code fence: then after the closing fence).
    None while it is incomplete, or when the answer does not start with an object (then the model's own end
    of turn decides)."""
    body = len(text) - len(text.lstrip())
    if text.startswith(FENCE, body):
        newline = text.find("\n", body)
        if newline == -1:
            return None
        opening = len(text) - len(text[newline:].lstrip())
        if not text.startswith("{", opening):
            return None
        end = _object_end(text, opening)
        if end is None:
            return None
        closing = text.find(FENCE, end)
        return None if closing == -1 or text[end:closing].strip() else closing + len(FENCE)
    if not text.startswith("{", body):
        return None
    return _object_end(text, body)


def answer_end_for(output_type: str) -> AnswerEnd | None:
    return json_answer_end if output_type == "json" else None


def cut(text: str, end: AnswerEnd | None) -> tuple[str, bool]:
    """(the answer up to its end, whether it was cut)."""
    at = end(text) if end is not None else None
    if at is None or at >= len(text.rstrip()):
        return text, False
    return text[:at], True
