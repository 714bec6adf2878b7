"""Task data read with `datasets`: a hub id, or local Parquet/CSV/JSON/Arrow files, mapped onto our splits and
columns, then validated exactly like JSONL rows.

    harness validate tasks/contracts.yaml     # data: {dataset: {path: ./contracts-parquet, columns: {...}}}

An example's source is `<path>[<their split>]:<row>` (row as in `ds[split][row]`, before any filter), so data
checks and errors point at a row. The fingerprint also covers the resolved files (their bytes) or, for a hub
dataset, the resolved file URLs, which carry the commit.
"""

from __future__ import annotations

import contextlib
import glob
import json
import operator
import random
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from harness.data.examples import SPLITS, Example, chat_messages, check_target, field_messages, split_by_rule
from harness.errors import SpecError, did_you_mean
from harness.hub import cache_root, file_digest, hub_offline, offline_by_env
from harness.spec import DatasetSpec, FieldMap, RowFilter, SplitRule, Task
from harness.spec.data import GLOB, SUFFIX_BUILDERS
from harness.spec.limits import EXAMPLE_LIMIT
from harness.textfiles import oversized

HUB_ID = re.compile(r"^[A-Za-z0-9][\w.\-]*(/[A-Za-z0-9][\w.\-]*)?$")
SAVED_MARKERS = ("dataset_dict.json", "state.json")  # a folder written by Dataset(Dict).save_to_disk
COMPARE: dict[str, Callable[[Any, Any], bool]] = {
    "==": operator.eq, "!=": operator.ne, "<": operator.lt, "<=": operator.le, ">": operator.gt, ">=": operator.ge,
    "in": lambda a, b: a in b, "not in": lambda a, b: a not in b,
}


@dataclass
class Opened:
    """A dataset whose splits can be read by name, and a description of exactly which files it came from."""

    split_names: list[str]
    read: Callable[[str], Any]  # their split name -> datasets.Dataset
    origin: str


def dataset_parts(task: Task, problems: list[str]) -> tuple[dict[str, list[Example]], str]:
    """Our train / validation / test examples from `data.dataset`, and the origin the fingerprint covers.
    Mistakes in the task's dataset section raise at once; problems in rows are added to `problems`."""
    spec = task.spec.data.dataset
    rule = task.spec.data.split
    with _quiet():
        opened = _open(task, spec)
        mapping = _mapping(task, spec, rule, opened.split_names)
        tables = {ours: opened.read(theirs) for ours, theirs in mapping.items()}
    _check_columns(task, spec, mapping, tables)
    parts: dict[str, list[Example]] = {name: [] for name in SPLITS}
    for ours, theirs in mapping.items():
        ds = tables[ours]
        rows = _kept_rows(task, spec, theirs, ds)
        if rule is None:
            rows = _sample(rows, spec.limit.get(ours), spec.seed)
        parts[ours] = _examples(task, spec, ours, theirs, ds, rows, problems)
    if rule is not None and not problems:
        parts = _divide(task, rule, parts, "test" in mapping, problems)
        parts = {name: _sample(rows, spec.limit.get(name), spec.seed) for name, rows in parts.items()}
    return parts, opened.origin


# ---------------------------------------------------------------- opening


def _fail(task: Task, field: str, message: str) -> SpecError:
    return SpecError([f"{task.path}: data.dataset.{field}: {message}"])


def _first_line(exc: Exception) -> str:
    text = " ".join(str(exc).split())
    return (text[:300] + "...") if len(text) > 300 else text or type(exc).__name__


def _open(task: Task, spec: DatasetSpec) -> Opened:
    local = task.resolve(str(Path(spec.path).expanduser()))
    pattern = any(c in spec.path for c in GLOB)
    looks_local = spec.path.startswith((".", "/", "~")) or Path(spec.path).suffix in SUFFIX_BUILDERS
    if local.exists() or pattern:
        return _open_local(task, spec, local, pattern)
    if looks_local or not HUB_ID.match(spec.path):
        raise _fail(task, "path", f"{spec.path!r} not found (looked for {local}); give a local file, glob or folder "
                                  f"relative to the task file, or a hub id owner/name")
    return _open_hub(task, spec)


def _open_local(task: Task, spec: DatasetSpec, local: Path, pattern: bool) -> Opened:
    import datasets

    if spec.revision is not None:
        raise _fail(task, "revision", f"applies to hub datasets; {spec.path!r} is local")
    if pattern and not glob.glob(str(local), recursive=True):
        raise _fail(task, "path", f"no files match {str(local)!r}")
    if local.is_dir() and any((local / m).is_file() for m in SAVED_MARKERS):
        files = {"saved": sorted(p for p in local.rglob("*") if p.is_file())}
        _admitted(task, files)
        try:
            saved = datasets.load_from_disk(str(local))
        except Exception as exc:  # noqa: BLE001 — any reading failure is the user's data, named in one line
            raise _fail(task, "path", f"cannot read the saved dataset {local}: {_first_line(exc)}") from None
        splits = dict(saved) if isinstance(saved, datasets.DatasetDict) else {"train": saved}
        return Opened(list(splits), splits.__getitem__, _files_origin(files, local))
    builder_name = spec.builder
    if builder_name is None and not local.is_dir():
        builder_name = SUFFIX_BUILDERS.get(local.suffix)
        if builder_name is None:
            raise _fail(task, "builder", f"cannot tell the format of {spec.path!r} from its suffix; give builder: "
                                         f"parquet, csv, json or arrow")
    kwargs: dict[str, Any] = {"cache_dir": str(cache_root() / "datasets")}
    if spec.name is not None:
        kwargs["name"] = spec.name
    # CSV cells of the mapped columns stay text as written (pandas would read the id 007 as the number 7)
    as_text = {c: str for c in (spec.columns.input, spec.columns.target, spec.columns.id) if c is not None}
    try:
        if builder_name is None:
            builder = datasets.load_dataset_builder(str(local), **kwargs)
            if type(builder.config).__name__ == "CsvConfig":
                builder = datasets.load_dataset_builder(str(local), converters=as_text, **kwargs)
        elif local.is_dir():
            extra = {"converters": as_text} if builder_name == "csv" else {}
            builder = datasets.load_dataset_builder(builder_name, data_dir=str(local), **extra, **kwargs)
        else:
            extra = {"converters": as_text} if builder_name == "csv" else {}
            builder = datasets.load_dataset_builder(builder_name, data_files=str(local), **extra, **kwargs)
    except Exception as exc:  # noqa: BLE001
        raise _fail(task, "path", f"datasets cannot read {local}: {_first_line(exc)}") from None
    files = {str(split): sorted(Path(f) for f in found) for split, found in (builder.config.data_files or {}).items()}
    _admitted(task, files)
    return Opened(list(files), _reader(task, builder, str(local)), _files_origin(files))


def _admitted(task: Task, files: dict[str, list[Path]]) -> None:
    """Every file a local dataset reads lies where the task may read (a link inside its folder may point out)."""
    for paths in files.values():
        for path in paths:
            refusal = task.outside(path)
            if refusal is not None:
                raise _fail(task, "path", refusal)


def _open_hub(task: Task, spec: DatasetSpec) -> Opened:
    import datasets

    local_hint = (f"point data.dataset.path at local files instead: the repository's Parquet files "
                  f"(data.dataset.path: ./my-data/*.parquet) or a copy saved where the hub is reachable by "
                  f"datasets.load_dataset({spec.path!r}).save_to_disk('my-data') (data.dataset.path: ./my-data)")
    if spec.builder is not None:
        raise _fail(task, "builder", f"applies to local files; {spec.path!r} is read as a hub dataset")
    if not offline_by_env() and hub_offline():
        raise _fail(task, "path", f"{spec.path!r} is a hub dataset and the hub cannot be reached; {local_hint}, or "
                                  f"set HF_HUB_OFFLINE=1 to use a copy in the Hugging Face cache")
    try:
        builder = datasets.load_dataset_builder(spec.path, name=spec.name, revision=spec.revision)
    except Exception as exc:  # noqa: BLE001
        offline = " (offline: HF_HUB_OFFLINE is set and no cached copy was found)" if offline_by_env() else ""
        raise _fail(task, "path", f"hub dataset {spec.path!r} could not be loaded{offline}: {_first_line(exc)}; "
                                  f"{local_hint}") from None
    files = {str(split): sorted(str(f) for f in found) for split, found in (builder.config.data_files or {}).items()}
    origin = json.dumps({"hub": spec.path, "name": spec.name, "revision": spec.revision, "files": files,
                         "builder_hash": getattr(builder, "hash", None)},
                        sort_keys=True)
    return Opened(list(files), _reader(task, builder, spec.path), origin)


def _reader(task: Task, builder: Any, what: str) -> Callable[[str], Any]:
    prepared: list[bool] = []

    def read(split: str) -> Any:
        try:
            if not prepared:
                builder.download_and_prepare()
                prepared.append(True)
            return builder.as_dataset(split=split)
        except Exception as exc:  # noqa: BLE001
            raise _fail(task, "path", f"datasets cannot read {what}: {_first_line(exc)}") from None

    return read


def _files_origin(files: dict[str, list[Path]], root: Path | None = None) -> str:
    """Each split's files by name (under `root`) and content hash: moving the folder keeps the fingerprint, editing a
    file changes it."""
    name = (lambda p: p.relative_to(root).as_posix()) if root else (lambda p: p.name)
    return json.dumps({split: [[name(p), file_digest([p])] for p in paths] for split, paths in files.items()},
                      sort_keys=True)


@contextlib.contextmanager
def _quiet() -> Iterator[None]:
    import datasets

    was = datasets.is_progress_bar_enabled()
    datasets.disable_progress_bars()
    try:
        yield
    finally:
        if was:
            datasets.enable_progress_bars()


# ---------------------------------------------------------------- splits and columns


def _mapping(task: Task, spec: DatasetSpec, rule: SplitRule | None, available: list[str]) -> dict[str, str]:
    """Our split -> theirs: as given, else train / test / validation by name (validation only without a rule)."""
    if spec.splits is not None:
        mapping, field = dict(spec.splits), "splits"
    else:
        mapping = {name: name for name in SPLITS if name in available and not (name == "validation" and rule)}
        field = "splits"
    for ours, theirs in mapping.items():
        if theirs not in available:
            raise _fail(task, f"{field}.{ours}", f"the dataset has no split {theirs!r}; {did_you_mean(theirs, available)}")
    if "train" not in mapping:
        raise _fail(task, "splits.train", f"the dataset has no 'train' split; map one of its splits "
                                          f"({', '.join(available)}), e.g. splits: {{train: {available[0]}}}")
    if "test" not in mapping and rule is None:
        raise _fail(task, "splits.test", f"no test split: map one of the dataset's splits ({', '.join(available)}), "
                                         f"e.g. splits: {{test: validation}}, or divide train with a data.split rule")
    if "test" in mapping and rule is not None and "test" in rule.model_fields_set:
        message = (f"{task.path}: data.split.test: the dataset's {mapping['test']!r} split is the test split; the "
                   f"rule only carves validation off train, remove split.test")
        raise SpecError([message])
    return mapping


def _check_columns(task: Task, spec: DatasetSpec, mapping: dict[str, str], tables: dict[str, Any]) -> None:
    """Each mapped column exists in every mapped split; one line per missing column, naming the splits."""
    wanted = [(f"data.dataset.columns.{key}", col) for key, col in spec.columns.model_dump().items() if col is not None]
    wanted += [(f"data.dataset.filter[{i}].column", f.column) for i, f in enumerate(spec.filter)]
    if task.spec.data.gold_docs_field is not None:
        wanted.append(("data.gold_docs_field", task.spec.data.gold_docs_field))
    problems = []
    for field, col in wanted:
        lacking = [ours for ours in mapping if col not in tables[ours].column_names]
        if lacking:
            names = tables[lacking[0]].column_names
            splits = ", ".join(repr(mapping[ours]) for ours in lacking)
            where = f"split{'s' if len(lacking) > 1 else ''} {splits}"
            problems.append(f"{task.path}: {field}: no column {col!r} in {where}; {did_you_mean(col, names)}")
    if problems:
        raise SpecError(problems)


# ---------------------------------------------------------------- rows


def _label_names(ds: Any, columns: list[str]) -> dict[str, list[str]]:
    """Class-label columns (stored as integers) and their names: rows show and filter on the names."""
    import datasets

    return {c: list(ds.features[c].names) for c in columns if isinstance(ds.features.get(c), datasets.ClassLabel)}


def _named(row: dict, labels: dict[str, list[str]]) -> dict:
    for col, names in labels.items():
        v = row.get(col)
        row[col] = names[v] if isinstance(v, int) and 0 <= v < len(names) else None if isinstance(v, int) else v
    return row


def _kept_rows(task: Task, spec: DatasetSpec, theirs: str, ds: Any) -> list[int]:
    """Indices of the rows every filter condition keeps."""
    if not spec.filter:
        return list(range(len(ds)))
    columns = sorted({f.column for f in spec.filter})
    labels = _label_names(ds, columns)
    values = [_named(row, labels) for row in ds.select_columns(columns).to_list()]
    kept = []
    for i, row in enumerate(values):
        if all(_holds(task, spec, theirs, i, j, f, row[f.column]) for j, f in enumerate(spec.filter)):
            kept.append(i)
    if not kept:
        raise _fail(task, "filter", f"keeps none of the {len(ds)} rows of split {theirs!r}")
    return kept


def _holds(task: Task, spec: DatasetSpec, theirs: str, row: int, j: int, f: RowFilter, value: Any) -> bool:
    if value is None and f.op in ("<", "<=", ">", ">="):
        return False
    try:
        return bool(COMPARE[f.op](value, f.value))
    except TypeError:
        message = (f"{spec.path}[{theirs}]:{row}: data.dataset.filter[{j}]: cannot compare {value!r} "
                   f"({type(value).__name__}) with {f.value!r} ({type(f.value).__name__})")
        raise SpecError([message]) from None


def _sample(rows: list, n: int | None, seed: int) -> list:
    """n of the rows drawn with the seed, kept in order (as data.seeded_subset)."""
    if n is None or n >= len(rows):
        return rows
    keep = set(random.Random(seed).sample(range(len(rows)), n))
    return [r for i, r in enumerate(rows) if i in keep]


def _examples(task: Task, spec: DatasetSpec, ours: str, theirs: str, ds: Any, rows: list[int],
              problems: list[str]) -> list[Example]:
    cols = spec.columns
    fields = FieldMap(input=cols.input, target=cols.target, id=cols.id) if cols.format == "fields" else None
    gold_field = task.spec.data.gold_docs_field
    labels = _label_names(ds, ds.column_names)
    chosen = ds if len(rows) == len(ds) else ds.select(rows)
    examples = []
    for index, record in zip(rows, chosen.to_list()):
        record = _named(record, labels)
        where = f"{spec.path}[{theirs}]:{index}"
        if fields is None:
            parsed = chat_messages({"messages": record[cols.messages]}, where, problems)
        else:
            parsed = field_messages(record, fields, where, problems)
        if parsed is None:
            continue
        messages, target = parsed
        too_big = oversized(where, sum(len(m["content"].encode()) for m in messages) + len(target.encode()),
                            EXAMPLE_LIMIT)
        if too_big:
            problems.append(too_big)
            continue
        check_target(target, task, where, problems)
        gold = record.get(gold_field) if gold_field else []
        gold = [] if gold is None else gold
        if not isinstance(gold, list) or not all(isinstance(g, str) for g in gold):
            problems.append(f"{where}: {gold_field!r} must be a list of document ids")
            gold = []
        raw_id = record.get(cols.id) if cols.id else None
        example_id = str(raw_id) if raw_id not in (None, "") else f"{theirs}-{index}"
        examples.append(Example(example_id, ours, messages, target, where, tuple(gold), record))
    return examples


def _divide(task: Task, rule: SplitRule, parts: dict[str, list[Example]], has_test: bool,
            problems: list[str]) -> dict[str, list[Example]]:
    """The `data.split` rule on the dataset's train rows: all three splits, or (with a mapped test) validation only."""
    try:
        divided = split_by_rule(parts["train"], task, carve_test=not has_test)
    except ValueError as exc:
        problems.append(f"{task.path}: data.split: cannot split the dataset's train rows with {rule.model_dump()}: {exc}")
        return parts
    return divided | ({"test": parts["test"]} if has_test else {})
