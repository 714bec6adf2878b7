"""Read a task's examples into train / validation / test, with a fingerprint of exactly what was read.

    harness validate tasks/contracts.yaml     # loads the data through here, no model needed

JSONL and CSV files are read here, `datasets` sources in hf_dataset.py; every problem found is reported at
once, as `file:line: what is wrong`.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

from harness.data.examples import SPLITS, Example, TaskData, chat_messages, check_target, field_messages, split_by_rule
from harness.errors import HarnessError, SpecError, did_you_mean, shown
from harness.spec import Task
from harness.spec.limits import DATA_FILE_LIMIT, EXAMPLE_LIMIT, LARGER_DATA
from harness.textfiles import json_record, oversized, read_text

MAX_LISTED = 40


def read_jsonl(path: Path, problems: list[str]) -> list[tuple[int, dict]]:
    """(line number, object) for each non-blank line; a line that is not a JSON object (or is over the size limit
    per example, or spells a lone surrogate) is a problem, named by file and line, and is left out of the rows (the
    caller decides whether any problem is fatal)."""
    text = _text(path, problems)
    rows = []
    # split on newlines only: str.splitlines also breaks at U+2028 and friends, which JSON strings may hold
    for lineno, line in enumerate((text or "").split("\n"), start=1):
        if not line.strip():
            continue
        where = f"{shown(path)}:{lineno}"
        too_big = oversized(where, len(line.encode()), EXAMPLE_LIMIT)
        if too_big:
            problems.append(too_big)
            continue
        record, problem = json_record(line, where)
        if problem:
            problems.append(problem)
            continue
        if not isinstance(record, dict):
            problems.append(f"{where}: expected a JSON object, got {type(record).__name__}")
            continue
        rows.append((lineno, record))
    return rows


def _text(path: Path, problems: list[str]) -> str | None:
    try:
        return read_text(path, DATA_FILE_LIMIT, "data file", LARGER_DATA)
    except HarnessError as exc:
        problems.append(str(exc))
        return None


def read_csv(path: Path, problems: list[str]) -> list[tuple[int, dict]]:
    """(line number, row) for each CSV record; a row with more values than the header has columns, or over the size
    limit per example, is a problem."""
    text = _text(path, problems)
    if text is None:
        return []
    reader = csv.DictReader(io.StringIO(text, newline=""))
    rows = []
    try:
        for row in reader:
            where = f"{shown(path)}:{reader.line_num}"
            if None in row:
                problems.append(f"{where}: {len(row[None])} more value(s) than the header has "
                                f"columns ({', '.join(reader.fieldnames or [])})")
                continue
            too_big = oversized(where, sum(len(v.encode()) for v in row.values() if isinstance(v, str)), EXAMPLE_LIMIT)
            if too_big:
                problems.append(too_big)
                continue
            rows.append((reader.line_num, dict(row)))
    except csv.Error as exc:
        problems.append(f"{shown(path)}:{reader.line_num}: not valid CSV ({exc})")
    return rows


def by_line(problems: list[str]) -> list[str]:
    """Problems of `file:line: ...` form in line order (a stable sort: one line's problems keep their order)."""
    def line(problem: str) -> int:
        head = problem.split(": ", 1)[0].rsplit(":", 1)
        return int(head[1]) if len(head) == 2 and head[1].isdigit() else 0

    return sorted(problems, key=line)


def _read_records(path: Path, problems: list[str]) -> list[tuple[int, dict]]:
    before = len(problems)
    rows = read_csv(path, problems) if path.suffix == ".csv" else read_jsonl(path, problems)
    if not rows and len(problems) == before:
        problems.append(f"{shown(path)}: no examples in file")
    return rows


def _examples_from(path: Path, split: str, task: Task, problems: list[str], fallback_id: str) -> list[Example]:
    """The file's examples; one without an id is `<fallback_id>-<line>`."""
    spec = task.spec.data
    examples = []
    for lineno, record in _read_records(path, problems):
        where = f"{shown(path)}:{lineno}"
        if spec.format == "chat":
            parsed = chat_messages(record, where, problems)
            raw_id = record.get("id")
        else:
            parsed = field_messages(record, spec.fields, where, problems)
            raw_id = record.get(spec.fields.id) if spec.fields.id else None
        if parsed is None:
            continue
        messages, target = parsed
        check_target(target, task, where, problems)
        gold = record.get(spec.gold_docs_field, []) if spec.gold_docs_field else []
        if not isinstance(gold, list) or not all(isinstance(g, str) for g in gold):
            problems.append(f"{where}: {spec.gold_docs_field!r} must be a list of document ids")
            gold = []
        example_id = str(raw_id) if raw_id not in (None, "") else f"{fallback_id}-{lineno}"
        examples.append(Example(example_id, split, messages, target, where, tuple(gold), record))
    return examples


def _fallback_ids(files: dict[str, Path]) -> dict[str, str]:
    """What ids without an `id` start with: the file's name (train.jsonl: train-3), or the split's when two files
    share a name (train/data.jsonl, test/data.jsonl: train-3, test-3), so ids never collide across files."""
    stems = [path.stem for path in files.values()]
    unique = len(set(stems)) == len(stems)
    return {name: path.stem if unique else name for name, path in files.items()}


def _split_one_file(examples: list[Example], task: Task, problems: list[str]) -> dict[str, list[Example]]:
    try:
        return split_by_rule(examples, task)
    except ValueError as exc:
        rule = task.spec.data.split
        problems.append(f"{shown(task.resolve(task.spec.data.file))}: cannot split with data.split {rule.model_dump()}: {exc}")
        return {name: [] for name in SPLITS}


def _slice_problems(task: Task, parts: dict[str, list[Example]]) -> list[str]:
    """Each field in data.slices must be a key of some record and hold one value (not a list or object) in test."""
    problems = []
    everything = [ex for name in SPLITS for ex in parts[name]]
    keys = sorted({k for ex in everything for k in ex.record})
    for name in task.spec.data.slices:
        if everything and not any(name in ex.record for ex in everything):
            problems.append(f"{shown(task.path)}: data.slices: no record has a field {name!r}; {did_you_mean(name, keys)}")
            continue
        for ex in parts["test"]:
            value = ex.record.get(name)
            if isinstance(value, (list, dict)):
                problems.append(f"{ex.source}: data.slices: {name!r} holds a {type(value).__name__}; a slice field "
                                f"holds one value per record (text, a number, true/false or null)")
                break
    return problems


def load_data(task: Task) -> TaskData:
    """Read every split of a task; raise SpecError listing every problem found in the data."""
    problems: list[str] = []
    spec = task.spec.data
    origin = ""
    if spec.dataset is not None:
        from harness.data.hf_dataset import dataset_parts

        parts, origin = dataset_parts(task, problems)
    elif spec.file is not None:
        path = task.resolve(spec.file)
        everything = _examples_from(path, "train", task, problems, path.stem)
        parts = _split_one_file(everything, task, problems) if not problems else {s: [] for s in SPLITS}
    else:
        files = {name: task.resolve(getattr(spec, name)) for name in SPLITS if getattr(spec, name)}
        fallback = _fallback_ids(files)
        parts = {name: _examples_from(files[name], name, task, problems, fallback[name]) if name in files else []
                 for name in SPLITS}
    seen: dict[str, str] = {}
    for name in SPLITS:
        for ex in parts[name]:
            if ex.id in seen:
                problems.append(f"{ex.source}: example id {ex.id!r} already used at {seen[ex.id]}")
            seen.setdefault(ex.id, ex.source)
    problems += _slice_problems(task, parts)
    if problems:
        listed = problems[:MAX_LISTED]
        if len(problems) > MAX_LISTED:
            listed.append(f"... and {len(problems) - MAX_LISTED} more problems")
        raise SpecError(listed)
    return TaskData(**parts, origin=origin)
