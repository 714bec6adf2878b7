"""Format probes: short instructions whose replies a plain function can check (JSON with a key, one word, ...).

    from harness.regression.probes import load_probes, run_probes
    results = run_probes(load_probes(), generate_fn, max_new_tokens=64)   # generate_fn(conversations, n) -> texts

Tuning on one output format often breaks others; these catch it. Probes are data
(harness/regression/general/probes.jsonl: id, instruction, check, params); each check is a function in CHECKS taking the
reply and the probe's params. tests/test_regression_probes.py has a passing and a failing reply for each.
"""

from __future__ import annotations

import inspect
import json
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from harness.data.loading import by_line, read_jsonl
from harness.errors import HarnessError, did_you_mean

GenerateFn = Callable[[list[list[dict]], int], list[str]]

_WORD = re.compile(r"[A-Za-z0-9]+(?:['’-][A-Za-z0-9]+)*")
_ITEM = re.compile(r"^\s*(?:[-*•]|\d+[.)])\s+\S")
_FENCE = re.compile(r"^```[a-zA-Z]*\s*\n?(.*?)\n?```$", re.DOTALL)


def words(reply: str) -> list[str]:
    return _WORD.findall(reply)


def _unfenced(reply: str) -> str:
    text = reply.strip()
    match = _FENCE.match(text)
    return match.group(1).strip() if match else text


def json_with_key(reply: str, key: str) -> bool:
    """The reply (a ```json fence allowed) is one JSON object that has the key."""
    try:
        value = json.loads(_unfenced(reply))
    except ValueError:
        return False
    return isinstance(value, dict) and key in value


def json_list(reply: str, n: int) -> bool:
    """The reply (a fence allowed) is a JSON array of exactly n elements."""
    try:
        value = json.loads(_unfenced(reply))
    except ValueError:
        return False
    return isinstance(value, list) and len(value) == n


def one_word(reply: str) -> bool:
    """One word, optionally followed by a full stop or an exclamation mark."""
    return bool(re.fullmatch(r"\s*[A-Za-z][A-Za-z'’-]*[.!]?\s*", reply))


def uppercase(reply: str) -> bool:
    """At least one letter, and no lowercase letter."""
    return any(c.isalpha() for c in reply) and not any(c.islower() for c in reply)


def lowercase(reply: str) -> bool:
    """At least one letter, and no uppercase letter."""
    return any(c.isalpha() for c in reply) and not any(c.isupper() for c in reply)


def exact_items(reply: str, n: int) -> bool:
    """Exactly n list lines ("- x", "* x", "1. x", "1) x"); an introductory line is allowed."""
    return sum(bool(_ITEM.match(line)) for line in reply.splitlines()) == n


def max_words(reply: str, n: int) -> bool:
    """Between 1 and n words."""
    return 1 <= len(words(reply)) <= n


def starts_with(reply: str, prefix: str) -> bool:
    return reply.strip().startswith(prefix)


def ends_with(reply: str, suffix: str) -> bool:
    return reply.strip().endswith(suffix)


def contains_word(reply: str, word: str) -> bool:
    """The word occurs as a whole word, ignoring case."""
    return word.lower() in (w.lower() for w in words(reply))


def number_only(reply: str) -> bool:
    """Nothing but a number: optional sign, digits, optional decimals, optional full stop."""
    return bool(re.fullmatch(r"\s*[-+]?\d+(?:\.\d+)?\.?\s*", reply))


def yes_or_no(reply: str) -> bool:
    """Exactly "yes" or "no", any case, optionally with a full stop."""
    return reply.strip().rstrip(".!").strip().lower() in ("yes", "no")


def no_commas(reply: str) -> bool:
    return bool(reply.strip()) and "," not in reply


def comma_separated(reply: str, n: int) -> bool:
    """One line of exactly n non-empty items separated by commas."""
    text = reply.strip().rstrip(".")
    if not text or "\n" in text:
        return False
    parts = [p.strip() for p in text.split(",")]
    return len(parts) == n and all(parts)


def quoted(reply: str) -> bool:
    """The whole reply is wrapped in double quotes, with something inside."""
    text = reply.strip()
    return len(text) >= 3 and text[0] in "\"“" and text[-1] in "\"”"


CHECKS: dict[str, Callable[..., bool]] = {
    f.__name__: f
    for f in (json_with_key, json_list, one_word, uppercase, lowercase, exact_items, max_words, starts_with,
              ends_with, contains_word, number_only, yes_or_no, no_commas, comma_separated, quoted)
}


@dataclass(frozen=True)
class Probe:
    id: str
    instruction: str
    check: str
    params: dict[str, Any] = field(default_factory=dict)

    def passes(self, reply: str) -> bool:
        return CHECKS[self.check](reply, **self.params)


@dataclass(frozen=True)
class ProbeResult:
    probe_id: str
    check: str
    passed: bool
    reply: str


def default_probes_path() -> Path:
    return Path(__file__).resolve().parent / "general" / "probes.jsonl"


def _params_problem(check: str, params: object) -> str | None:
    if not isinstance(params, dict):
        return f"params should be an object, got {params!r}"
    wanted = [p for p in inspect.signature(CHECKS[check]).parameters if p != "reply"]
    if sorted(params) != sorted(wanted):
        return f"check {check!r} takes params {wanted}, got {sorted(params)}"
    for name in ("n",):
        if name in params and (not isinstance(params[name], int) or isinstance(params[name], bool) or params[name] < 1):
            return f"param n should be a positive integer, got {params[name]!r}"
    return None


def probe_problems(path: Path) -> list[str]:
    """One line per problem, naming file:line: bad JSON, missing fields, unknown check, wrong params, duplicates."""
    if not path.is_file():
        return [f"{path}: probes file not found"]
    problems: list[str] = []
    seen: dict[str, int] = {}
    for line_no, row in read_jsonl(path, problems):
        where = f"{path}:{line_no}"
        missing = [k for k in ("id", "instruction", "check") if not isinstance(row.get(k), str) or not row[k].strip()]
        if missing:
            problems.append(f"{where}: missing or empty {', '.join(missing)}")
            continue
        if row["id"] in seen:
            problems.append(f"{where}: duplicate id {row['id']!r} (first on line {seen[row['id']]})")
        seen.setdefault(row["id"], line_no)
        if row["check"] not in CHECKS:
            problems.append(f"{where}: unknown check {row['check']!r}; {did_you_mean(row['check'], list(CHECKS))}")
            continue
        problem = _params_problem(row["check"], row.get("params", {}))
        if problem:
            problems.append(f"{where}: {problem}")
    return by_line(problems)


def load_probes(path: Path | None = None) -> list[Probe]:
    path = path or default_probes_path()
    problems = probe_problems(path)
    if problems:
        raise HarnessError("\n".join(problems))
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    return [Probe(r["id"], r["instruction"], r["check"], dict(r.get("params", {}))) for r in rows]


def run_probes(probes: Sequence[Probe], generate_fn: GenerateFn, max_new_tokens: int = 64) -> list[ProbeResult]:
    """Each instruction as a one-turn chat, all in one call to generate_fn, each reply checked."""
    replies = generate_fn([[{"role": "user", "content": p.instruction}] for p in probes], max_new_tokens)
    if len(replies) != len(probes):
        raise HarnessError(f"generate_fn returned {len(replies)} replies for {len(probes)} probes")
    return [ProbeResult(p.id, p.check, p.passes(r), r) for p, r in zip(probes, replies)]
