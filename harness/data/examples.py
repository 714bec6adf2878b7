"""What a task's data is once read: examples (with targets) and items (without), split three ways.

    harness validate tasks/contracts.yaml     # reads the data into these records, no model needed

Arms never see an `Example`: they get an `Item`, which has no target, so held-out answers cannot leak
into a prompt by construction. The row checks here (chat turns, mapped fields, the target's shape) and the
seeded split rule are shared by every reader: JSONL/CSV files (loading.py) and `datasets` (hf_dataset.py).
"""

from __future__ import annotations

import hashlib
import json
import random
from collections.abc import Iterator
from dataclasses import dataclass, field, replace

from harness.metrics.builtin import parse_json_strict
from harness.spec import FieldMap, Task

SPLITS = ("train", "validation", "test")
ROLES = ("system", "user", "assistant")


@dataclass(frozen=True)
class Item:
    """What an arm sees of an example: the conversation so far, never the answer."""

    id: str
    messages: tuple[dict, ...]


@dataclass(frozen=True)
class Example:
    id: str
    split: str
    messages: tuple[dict, ...]
    target: str
    source: str
    gold_doc_ids: tuple[str, ...] = ()
    record: dict = field(default_factory=dict, compare=False, repr=False)

    def item(self) -> Item:
        return Item(self.id, self.messages)

    @property
    def input_text(self) -> str:
        """The user-visible input, for duplicate and leakage checks."""
        return "\n".join(m["content"] for m in self.messages if m["role"] == "user")


@dataclass(frozen=True)
class TaskData:
    train: list[Example]
    validation: list[Example]
    test: list[Example]
    origin: str = ""  # what the examples were read from, beyond their content (a dataset's files or hub commit)
    held: dict[str, int] = field(default_factory=dict)  # split -> rows it held before `subsample` cut it

    def split(self, name: str) -> list[Example]:
        return getattr(self, name)

    def all(self) -> Iterator[Example]:
        for name in SPLITS:
            yield from self.split(name)

    @property
    def fingerprint(self) -> str:
        """Hash of every example's split, id, input and target: two runs on equal fingerprints saw equal data."""
        h = hashlib.sha256()
        for ex in self.all():
            h.update(json.dumps([ex.split, ex.id, ex.messages, ex.target], sort_keys=True).encode())
        if self.origin:
            h.update(self.origin.encode())
        return h.hexdigest()[:16]

    def subsample(self, split: str, n: int | None, seed: int) -> TaskData:
        """A seeded subset of one split (quick profiles); the others stay whole."""
        rows = self.split(split)
        if n is None or n >= len(rows):
            return self
        return replace(self, **{split: seeded_subset(rows, n, seed)}, held={**self.held, split: len(rows)})


def seeded_subset(rows: list[Example], n: int | None, seed: int) -> list[Example]:
    """n rows drawn with the seed, kept in file order; all of them when n is None or not smaller."""
    if n is None or n >= len(rows):
        return list(rows)
    keep = set(random.Random(seed).sample(range(len(rows)), n))
    return [ex for i, ex in enumerate(rows) if i in keep]


def chat_messages(record: dict, where: str, problems: list[str]) -> tuple[tuple[dict, ...], str] | None:
    messages = record.get("messages")
    if not isinstance(messages, list) or not messages:
        problems.append(f"{where}: 'messages' must be a non-empty list of {{role, content}}")
        return None
    ok = True
    for i, m in enumerate(messages):
        if not isinstance(m, dict) or m.get("role") not in ROLES or not isinstance(m.get("content"), str):
            problems.append(f"{where}: messages[{i}] must be {{role: system|user|assistant, content: text}}, got {json.dumps(m)[:80]}")
            ok = False
        elif not m["content"].strip():
            problems.append(f"{where}: messages[{i}] ({m['role']}) has empty content")
            ok = False
    if not ok:
        return None
    roles = [m["role"] for m in messages]
    turns = roles[1:] if roles[0] == "system" else roles
    expected = ["user" if i % 2 == 0 else "assistant" for i in range(len(turns))]
    if "system" in turns or turns != expected or not turns or turns[-1] != "assistant":
        problems.append(
            f"{where}: messages must be [system], user, assistant, user, ..., ending with assistant; got {', '.join(roles)}"
        )
        return None
    clean = tuple({"role": m["role"], "content": m["content"]} for m in messages)
    return clean[:-1], clean[-1]["content"]


def field_messages(record: dict, fields: FieldMap, where: str, problems: list[str]) -> tuple[tuple[dict, ...], str] | None:
    missing = [name for name in (fields.input, fields.target) if name not in record]
    if missing:
        problems.append(f"{where}: missing field(s) {missing}; record has {sorted(record)[:10]}")
        return None
    text, target = record[fields.input], record[fields.target]
    if not isinstance(text, str) or not text.strip():
        problems.append(f"{where}: field {fields.input!r} must be non-empty text")
        return None
    if target is None:
        problems.append(f"{where}: field {fields.target!r} is empty (null)")
        return None
    if isinstance(target, (dict, list)):
        target = json.dumps(target, ensure_ascii=False)
    if not isinstance(target, str):
        target = str(target)
    return ({"role": "user", "content": text},), target


def check_target(target: str, task: Task, where: str, problems: list[str]) -> None:
    out = task.spec.output
    if not target.strip():
        problems.append(f"{where}: empty target")
    elif out.type == "json":
        try:
            value = parse_json_strict(target)
        except ValueError as exc:
            problems.append(f"{where}: target is not valid JSON ({exc})")
            return
        if not isinstance(value, dict):
            problems.append(f"{where}: target must be a JSON object, got {type(value).__name__}")
            return
        unknown = sorted(set(value) - set(out.fields or []))
        if unknown:
            problems.append(f"{where}: target has keys not declared in output.fields: {unknown}")
    elif out.type == "label" and target not in (out.labels or []):
        problems.append(f"{where}: label {target!r} is not one of output.labels {out.labels}")


def split_by_rule(rows: list[Example], task: Task, carve_test: bool = True) -> dict[str, list[Example]]:
    """The task's seeded `data.split` rule (stratified by label where it says so) on rows: train, validation and
    test, or with `carve_test` False train and validation only. ValueError when the rows cannot be split so."""
    from sklearn.model_selection import train_test_split

    rule = task.spec.data.split
    stratify = rule.stratify and task.spec.output.type == "label"
    labels = (lambda ids: [rows[i].target for i in ids] if stratify else None)  # noqa: E731
    rest, test = list(range(len(rows))), []
    if carve_test:
        rest, test = train_test_split(rest, test_size=rule.test, random_state=rule.seed, stratify=labels(rest))
    val: list[int] = []
    if rule.validation > 0:
        share = rule.validation / (1 - rule.test) if carve_test else rule.validation
        rest, val = train_test_split(rest, test_size=share, random_state=rule.seed, stratify=labels(rest))
    pick = lambda ids, name: [_with_split(rows[i], name) for i in sorted(ids)]  # noqa: E731
    return {"train": pick(rest, "train"), "validation": pick(val, "validation"), "test": pick(test, "test")}


def _with_split(ex: Example, split: str) -> Example:
    return Example(ex.id, split, ex.messages, ex.target, ex.source, ex.gold_doc_ids, ex.record)


def slice_values(task: Task, examples: list[Example]) -> dict[str, dict[str, object]]:
    """data field -> example id -> its value, for each field in data.slices (what the verdict slices by)."""
    return {name: {ex.id: ex.record.get(name) for ex in examples} for name in task.spec.data.slices}
