"""Read a task's examples into train / validation / test, with a fingerprint of exactly what was read.

    harness validate tasks/contracts.yaml     # loads the data through here, no model needed

Arms never see an `Example`: they get an `Item`, which has no target, so held-out answers cannot leak
into a prompt by construction.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import random
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path

from harness.errors import HarnessError, SpecError, did_you_mean
from harness.metrics import parse_json_strict
from harness.spec import Task
from harness.textfiles import read_text

SPLITS = ("train", "validation", "test")
ROLES = ("system", "user", "assistant")
MAX_LISTED = 40


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


# ---------------------------------------------------------------- reading records


def read_jsonl(path: Path, problems: list[str]) -> list[tuple[int, dict]]:
    """(line number, object) for each non-blank line; a line that is not a JSON object is a problem, named by
    file and line, and is left out of the rows (the caller decides whether any problem is fatal)."""
    text = _text(path, problems)
    rows = []
    # split on newlines only: str.splitlines also breaks at U+2028 and friends, which JSON strings may hold
    for lineno, line in enumerate((text or "").split("\n"), start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as exc:
            problems.append(f"{path}:{lineno}: not valid JSON ({exc.msg} at column {exc.colno})")
            continue
        except RecursionError:
            problems.append(f"{path}:{lineno}: JSON nested too deeply")
            continue
        if not isinstance(record, dict):
            problems.append(f"{path}:{lineno}: expected a JSON object, got {type(record).__name__}")
            continue
        rows.append((lineno, record))
    return rows


def _text(path: Path, problems: list[str]) -> str | None:
    try:
        return read_text(path)
    except HarnessError as exc:
        problems.append(str(exc))
        return None


def read_csv(path: Path, problems: list[str]) -> list[tuple[int, dict]]:
    """(line number, row) for each CSV record; a row with more values than the header has columns is a problem."""
    text = _text(path, problems)
    if text is None:
        return []
    reader = csv.DictReader(io.StringIO(text, newline=""))
    rows = []
    try:
        for row in reader:
            if None in row:
                problems.append(f"{path}:{reader.line_num}: {len(row[None])} more value(s) than the header has "
                                f"columns ({', '.join(reader.fieldnames or [])})")
                continue
            rows.append((reader.line_num, dict(row)))
    except csv.Error as exc:
        problems.append(f"{path}:{reader.line_num}: not valid CSV ({exc})")
    return rows


def by_line(problems: list[str]) -> list[str]:
    """Problems of `file:line: ...` form in line order (a stable sort: one line's problems keep their order)."""
    def line(problem: str) -> int:
        head = problem.split(": ", 1)[0].rsplit(":", 1)
        return int(head[1]) if len(head) == 2 and head[1].isdigit() else 0

    return sorted(problems, key=line)


def _read_records(path: Path, problems: list[str]) -> list[tuple[int, dict]]:
    if not path.is_file():
        problems.append(f"{path}: expected a data file, found a folder" if path.is_dir() else f"{path}: data file not found")
        return []
    rows = read_csv(path, problems) if path.suffix == ".csv" else read_jsonl(path, problems)
    if not rows and not any(p.startswith(str(path)) for p in problems):
        problems.append(f"{path}: no examples in file")
    return rows


def _chat_messages(record: dict, where: str, problems: list[str]) -> tuple[tuple[dict, ...], str] | None:
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


def _field_messages(record: dict, fields, where: str, problems: list[str]) -> tuple[tuple[dict, ...], str] | None:
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


def _check_target(target: str, task: Task, where: str, problems: list[str]) -> None:
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


def _examples_from(path: Path, split: str, task: Task, problems: list[str]) -> list[Example]:
    spec = task.spec.data
    examples = []
    for lineno, record in _read_records(path, problems):
        where = f"{path}:{lineno}"
        if spec.format == "chat":
            parsed = _chat_messages(record, where, problems)
            raw_id = record.get("id")
        else:
            parsed = _field_messages(record, spec.fields, where, problems)
            raw_id = record.get(spec.fields.id) if spec.fields.id else None
        if parsed is None:
            continue
        messages, target = parsed
        _check_target(target, task, where, problems)
        gold = record.get(spec.gold_docs_field, []) if spec.gold_docs_field else []
        if not isinstance(gold, list) or not all(isinstance(g, str) for g in gold):
            problems.append(f"{where}: {spec.gold_docs_field!r} must be a list of document ids")
            gold = []
        example_id = str(raw_id) if raw_id not in (None, "") else f"{path.stem}-{lineno}"
        examples.append(Example(example_id, split, messages, target, where, tuple(gold), record))
    return examples


def _split_one_file(examples: list[Example], task: Task, problems: list[str]) -> dict[str, list[Example]]:
    try:
        return split_by_rule(examples, task)
    except ValueError as exc:
        rule = task.spec.data.split
        problems.append(f"{task.resolve(task.spec.data.file)}: cannot split with data.split {rule.model_dump()}: {exc}")
        return {name: [] for name in SPLITS}


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


def _slice_problems(task: Task, parts: dict[str, list[Example]]) -> list[str]:
    """Each field in data.slices must be a key of some record and hold one value (not a list or object) in test."""
    problems = []
    everything = [ex for name in SPLITS for ex in parts[name]]
    keys = sorted({k for ex in everything for k in ex.record})
    for name in task.spec.data.slices:
        if everything and not any(name in ex.record for ex in everything):
            problems.append(f"{task.path}: data.slices: no record has a field {name!r}; {did_you_mean(name, keys)}")
            continue
        for ex in parts["test"]:
            value = ex.record.get(name)
            if isinstance(value, (list, dict)):
                problems.append(f"{ex.source}: data.slices: {name!r} holds a {type(value).__name__}; a slice field "
                                f"holds one value per record (text, a number, true/false or null)")
                break
    return problems


def slice_values(task: Task, examples: list[Example]) -> dict[str, dict[str, object]]:
    """data field -> example id -> its value, for each field in data.slices (what the verdict slices by)."""
    return {name: {ex.id: ex.record.get(name) for ex in examples} for name in task.spec.data.slices}


def load_data(task: Task) -> TaskData:
    """Read every split of a task; raise SpecError listing every problem found in the data."""
    problems: list[str] = []
    spec = task.spec.data
    origin = ""
    if spec.dataset is not None:
        from harness.hf_data import dataset_parts

        parts, origin = dataset_parts(task, problems)
    elif spec.file is not None:
        everything = _examples_from(task.resolve(spec.file), "train", task, problems)
        parts = _split_one_file(everything, task, problems) if not problems else {s: [] for s in SPLITS}
    else:
        parts = {
            name: _examples_from(task.resolve(getattr(spec, name)), name, task, problems) if getattr(spec, name) else []
            for name in SPLITS
        }
    seen: dict[str, str] = {}
    for name in SPLITS:
        for ex in parts[name]:
            if ex.id in seen:
                problems.append(f"{ex.source}: example id {ex.id!r} already used at {seen[ex.id]}")
            seen.setdefault(ex.id, ex.source)
    problems += _slice_problems(task, parts)
    if problems:
        shown = problems[:MAX_LISTED]
        if len(problems) > MAX_LISTED:
            shown.append(f"... and {len(problems) - MAX_LISTED} more problems")
        raise SpecError(shown)
    return TaskData(**parts, origin=origin)
