"""The project's own multiple-choice items (harness/regression/general/items.jsonl, shipped as package data): read and validated like any task's data.

    python -c "from harness.regression.items import item_problems, default_items_path as p; print(item_problems(p()))"

One JSON object a line: {"id", "category", "question", "choices", "answer"}. `question` is the context as
scored (a "Question: ...\\nAnswer:" prompt, or the start of a sentence for cloze items); `choices` are the
continuations without their leading space; `answer` indexes choices. Every problem is one line naming
file:line, and all of them are reported at once.
"""

from __future__ import annotations

import json
import random
from collections import defaultdict
from pathlib import Path

from harness.data.loading import by_line, read_jsonl
from harness.errors import HarnessError
from harness.regression.choice import ChoiceItem

FIELDS = ("id", "category", "question", "choices", "answer")


def default_items_path() -> Path:
    return Path(__file__).resolve().parent / "general" / "items.jsonl"


def _row_problems(row: dict) -> list[str]:
    problems = []
    missing = [f for f in FIELDS if f not in row]
    if missing:
        return [f"missing field{'s' if len(missing) > 1 else ''} {', '.join(missing)}"]
    extra = sorted(set(row) - set(FIELDS))
    if extra:
        problems.append(f"unknown field{'s' if len(extra) > 1 else ''} {', '.join(extra)}")
    for f in ("id", "category", "question"):
        if not isinstance(row[f], str) or not row[f].strip():
            problems.append(f"{f} should be a non-empty string, got {row[f]!r}")
    choices = row["choices"]
    if not isinstance(choices, list) or any(not isinstance(c, str) or not c.strip() for c in choices):
        problems.append(f"choices should be a list of non-empty strings, got {choices!r}")
    elif len(choices) < 2:
        problems.append(f"choices should have at least 2 entries, got {len(choices)}")
    elif len(set(choices)) != len(choices):
        problems.append(f"choices repeat: {choices!r}")
    answer = row["answer"]
    if not isinstance(answer, int) or isinstance(answer, bool):
        problems.append(f"answer should be an integer index into choices, got {answer!r}")
    elif isinstance(choices, list) and not 0 <= answer < len(choices):
        problems.append(f"answer {answer} is out of range for {len(choices)} choices")
    return problems


def item_problems(path: Path) -> list[str]:
    """Every problem in the items file, one line each: schema, duplicate ids, duplicate questions, answer range."""
    if not path.is_file():
        return [f"{path}: items file not found"]
    problems: list[str] = []
    ids: dict[str, int] = {}
    questions: dict[str, int] = {}
    n_rows = 0
    for line_no, row in read_jsonl(path, problems):
        where = f"{path}:{line_no}"
        n_rows += 1
        problems.extend(f"{where}: {p}" for p in _row_problems(row))
        if isinstance(row.get("id"), str):
            if row["id"] in ids:
                problems.append(f"{where}: duplicate id {row['id']!r} (first on line {ids[row['id']]})")
            ids.setdefault(row["id"], line_no)
        if isinstance(row.get("question"), str):
            if row["question"] in questions:
                problems.append(f"{where}: same question as line {questions[row['question']]}")
            questions.setdefault(row["question"], line_no)
    if not n_rows and not problems:
        problems.append(f"{path}: no items")
    return by_line(problems)


def load_items(path: Path | None = None) -> list[ChoiceItem]:
    path = path or default_items_path()
    problems = item_problems(path)
    if problems:
        raise HarnessError("\n".join(problems))
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    return [ChoiceItem(r["id"], r["category"], r["question"], tuple(r["choices"]), r["answer"]) for r in rows]


def category_subset(items: list[ChoiceItem], n: int | None, seed: int) -> list[ChoiceItem]:
    """n items, the same number from each category as far as it goes, seeded; file order kept."""
    if n is None or n >= len(items):
        return list(items)
    by: dict[str, list[ChoiceItem]] = defaultdict(list)
    for item in items:
        by[item.category].append(item)
    for cat, rows in by.items():
        random.Random(f"{seed}:{cat}").shuffle(rows)
    chosen: set[str] = set()
    depth = 0
    while len(chosen) < n:
        for cat in sorted(by):
            if depth < len(by[cat]) and len(chosen) < n:
                chosen.add(by[cat][depth].id)
        depth += 1
    return [item for item in items if item.id in chosen]
