"""Read a task's examples into train / validation / test, with a fingerprint of exactly what was read.

    harness validate tasks/contracts.yaml     # loads the data through here, no model needed

JSONL and CSV files are read here, `datasets` sources in hf_dataset.py; every problem found is reported at
once, as `file:line: what is wrong`.
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

from harness.data.examples import SPLITS, Example, TaskData, chat_messages, check_target, field_messages, split_by_rule
from harness.errors import HarnessError, SpecError
from harness.spec import Task
from harness.textfiles import read_text

MAX_LISTED = 40


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


def _examples_from(path: Path, split: str, task: Task, problems: list[str]) -> list[Example]:
    spec = task.spec.data
    examples = []
    for lineno, record in _read_records(path, problems):
        where = f"{path}:{lineno}"
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


def load_data(task: Task) -> TaskData:
    """Read every split of a task; raise SpecError listing every problem found in the data."""
    problems: list[str] = []
    spec = task.spec.data
    origin = ""
    if spec.dataset is not None:
        from harness.data.hf_dataset import dataset_parts

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
    if problems:
        shown = problems[:MAX_LISTED]
        if len(problems) > MAX_LISTED:
            shown.append(f"... and {len(problems) - MAX_LISTED} more problems")
        raise SpecError(shown)
    return TaskData(**parts, origin=origin)
