"""Data checks: duplicates, near-duplicates, leakage, conflicting labels, short answers, label balance
and token lengths. Every finding names the file and line of the example it is about.

    harness validate tasks/contracts.yaml          # findings; exit 2 on errors (leakage by default)
    harness validate tasks/contracts.yaml --fix    # cleaned copies beside the originals
"""

from __future__ import annotations

import contextlib
import json
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from harness.atomic import atomic_file, writable_file
from harness.data.examples import SPLITS, Example, TaskData
from harness.metrics.builtin import normalize_text
from harness.models.embeddings import Embedder
from harness.models.loading import tokenizer_and_window
from harness.prompting.conversations import conversation
from harness.prompting.template import choose_format
from harness.spec import Task

BLOCK = 2048  # rows per similarity block: memory stays O(BLOCK x n)


@dataclass(frozen=True)
class Finding:
    check: str
    severity: str  # "error" | "warning" | "info"
    message: str
    where: str = ""  # file:line
    example_id: str | None = None
    related: str | None = None  # file:line of the other example, for duplicates
    drop: bool = False  # --fix removes this example

    def line(self) -> str:
        where = f"{self.where}: " if self.where else ""
        return f"{self.severity}: {where}{self.check}: {self.message}"


@dataclass
class CheckReport:
    findings: list[Finding] = field(default_factory=list)
    stats: dict[str, Any] = field(default_factory=dict)

    @property
    def errors(self) -> list[Finding]:
        return [f for f in self.findings if f.severity == "error"]

    def counts(self) -> dict[str, int]:
        return dict(Counter(f.severity for f in self.findings))

    def as_rows(self) -> list[dict[str, Any]]:
        return [asdict(f) for f in self.findings]


# ---------------------------------------------------------------- duplicates and leakage


def _exact(data: TaskData, leakage: str) -> tuple[list[Finding], set[tuple[str, str]]]:
    findings, pairs = [], set()
    first: dict[str, Example] = {}
    for ex in data.all():  # train first: a later split's copy of a train item is the leak
        key = normalize_text(ex.input_text)
        seen = first.get(key)
        if seen is None:
            first[key] = ex
            continue
        pairs.add((seen.id, ex.id))
        if seen.split == ex.split:
            findings.append(Finding("duplicate", "warning", f"same input as {seen.source} ({seen.id})", ex.source,
                                    ex.id, seen.source, drop=True))
        else:
            findings.append(_leak(seen, ex, leakage, "exact copy"))
    return findings, pairs


def _leak(earlier: Example, later: Example, severity: str, how: str, score: float | None = None) -> Finding:
    """A validation/test item found in an earlier split. --fix drops the train copy: the held-out set stays."""
    sim = f" (cosine {score:.3f})" if score is not None else ""
    if earlier.split == "train":
        return Finding("leakage", severity, f"{later.split} item {later.id} is a {how} of train item {earlier.id} at "
                       f"{earlier.source}{sim}", later.source, later.id, earlier.source)
    return Finding("overlap", "warning", f"{later.split} item {later.id} is a {how} of {earlier.split} item "
                   f"{earlier.id} at {earlier.source}{sim}", later.source, later.id, earlier.source)


def _train_copies_to_drop(findings: list[Finding], data: TaskData) -> list[Finding]:
    by_source = {ex.source: ex for ex in data.train}
    drops = []
    for f in findings:
        if f.check == "leakage" and f.related in by_source:
            ex = by_source[f.related]
            drops.append(Finding("leakage", "info", f"--fix drops train item {ex.id}: it leaks {f.example_id}",
                                 ex.source, ex.id, f.where, drop=True))
    return drops


def _similar_pairs(a: np.ndarray, b: np.ndarray, threshold: float, same: bool) -> list[tuple[int, int, float]]:
    """(i, j, cosine) with cosine >= threshold; rows are unit vectors. With same=True only i < j."""
    found = []
    for start in range(0, len(a), BLOCK):
        sims = a[start : start + BLOCK] @ b.T
        rows, cols = np.nonzero(sims >= threshold)
        for r, c in zip(rows.tolist(), cols.tolist()):
            i = start + r
            if not same or i < c:
                found.append((i, c, float(sims[r, c])))
    return found


def _near(data: TaskData, task: Task, skip: set[tuple[str, str]], embed: Callable[[list[str]], np.ndarray]) -> list[Finding]:
    spec = task.spec.checks
    threshold = spec.near_duplicate_threshold
    splits = {name: data.split(name) for name in SPLITS if data.split(name)}
    vectors = {name: embed([ex.input_text for ex in rows]) for name, rows in splits.items()}
    findings = []
    order = [s for s in SPLITS if s in splits]
    for i, first in enumerate(order):
        for second in order[i:]:
            same = first == second
            for a, b, score in _similar_pairs(vectors[second], vectors[first], threshold, same=False):
                earlier, later = splits[first][b], splits[second][a]
                if same and b >= a:
                    continue
                if (earlier.id, later.id) in skip or (later.id, earlier.id) in skip:
                    continue
                if same:
                    findings.append(Finding("near_duplicate", "warning", f"input is {score:.3f} similar to "
                                            f"{earlier.source} ({earlier.id})", later.source, later.id,
                                            earlier.source, drop=True))
                else:
                    findings.append(_leak(earlier, later, spec.leakage, "near duplicate", score))
    return findings


# ---------------------------------------------------------------- labels and answers


def _conflicts(data: TaskData) -> list[Finding]:
    groups: dict[str, list[Example]] = defaultdict(list)
    for ex in data.all():
        groups[normalize_text(ex.input_text)].append(ex)
    findings = []
    for rows in groups.values():
        targets = {normalize_text(ex.target) for ex in rows}
        if len(targets) > 1:
            places = ", ".join(f"{ex.source} ({ex.target[:40]!r})" for ex in rows)
            for ex in rows:
                findings.append(Finding("conflicting_label", "warning", f"the same input has different answers: {places}",
                                        ex.source, ex.id, drop=True))
    return findings


def _short(data: TaskData, task: Task) -> list[Finding]:
    if task.spec.output.type == "label":
        return []
    lengths = [len(ex.target) for ex in data.all()]
    median = float(np.median(lengths)) if lengths else 0.0
    limit = task.spec.checks.short_output_ratio * median
    return [
        Finding("short_output", "warning", f"answer has {len(ex.target)} characters; the median is {median:.0f}",
                ex.source, ex.id)
        for ex in data.all() if len(ex.target.strip()) < limit
    ]


def _balance(data: TaskData, task: Task) -> tuple[list[Finding], dict]:
    labels = task.spec.output.labels or []
    if task.spec.output.type != "label":
        return [], {}
    table = {name: Counter(ex.target for ex in data.split(name)) for name in SPLITS}
    findings = []
    for name in ("train", "test"):
        if not data.split(name):
            continue
        missing = [label for label in labels if table[name][label] == 0]
        if missing:
            findings.append(Finding("label_balance", "warning", f"{name} split has no examples of {missing}"))
    if data.train and data.test:
        from scipy.stats import chi2_contingency

        present = [label for label in labels if table["train"][label] + table["test"][label] > 0]
        counts = np.array([[table["train"][label] for label in present], [table["test"][label] for label in present]])
        if len(present) > 1:
            p = float(chi2_contingency(counts).pvalue)
            if p < 0.01:
                findings.append(Finding("label_balance", "warning",
                                        f"label mix differs between train and test (chi-square p={p:.2g})"))
    shares = {
        name: {label: table[name][label] for label in labels} for name in SPLITS if data.split(name)
    }
    return findings, {"labels": shares}


def _lengths(data: TaskData, task: Task, tokenizer: Any, window: int | None) -> tuple[list[Finding], dict]:
    spec = task.spec
    budget = spec.generation.max_new_tokens
    fmt = choose_format(spec.model.prompt_format, tokenizer, spec.model.base)
    stats, findings = {}, []
    for name in SPLITS:
        rows = data.split(name)
        if not rows:
            continue
        prompt = [len(fmt.encode(tokenizer, fmt.render(tokenizer, conversation(ex.item(), spec.prompt)))) for ex in rows]
        target = [len(tokenizer(ex.target, add_special_tokens=False)["input_ids"]) + 1 for ex in rows]
        stats[name] = {
            "prompt_tokens": _summary(prompt),
            "target_tokens": _summary(target),
        }
        cut = [ex for ex, n in zip(rows, target) if n > budget]
        if cut:
            findings.append(Finding("length", "warning", f"{len(cut)} {name} answers are longer than "
                                    f"generation.max_new_tokens={budget} and would be cut off", cut[0].source, cut[0].id))
        if window:
            over = [ex for ex, n in zip(rows, prompt) if n + budget > window]
            if over:
                findings.append(Finding("length", "warning", f"{len(over)} {name} prompts plus {budget} new tokens "
                                        f"exceed the context window of {window}", over[0].source, over[0].id))
    stats["context_window"] = window
    return findings, stats


def _summary(values: list[int]) -> dict[str, float]:
    arr = np.asarray(values)
    return {"p50": float(np.percentile(arr, 50)), "p95": float(np.percentile(arr, 95)), "max": float(arr.max())}


# ---------------------------------------------------------------- entry points


def run_checks(
    task: Task,
    data: TaskData,
    embed: Callable[[list[str]], np.ndarray] | None = None,
    tokenizer: Any = None,
    window: int | None = None,
) -> CheckReport:
    """All checks. `embed` (texts -> unit vectors) enables near-duplicates; `tokenizer` enables lengths."""
    report = CheckReport()
    exact, pairs = _exact(data, task.spec.checks.leakage)
    report.findings += exact
    if embed is not None and task.spec.checks.near_duplicates:
        report.findings += _near(data, task, pairs, embed)
    elif task.spec.checks.near_duplicates:
        report.findings.append(Finding("near_duplicate", "info", "near-duplicate search skipped (no embedding model)"))
    report.findings += _train_copies_to_drop(report.findings, data)
    report.findings += _conflicts(data)
    report.findings += _short(data, task)
    balance, label_stats = _balance(data, task)
    report.findings += balance
    report.stats.update(label_stats)
    report.stats["sizes"] = {name: len(data.split(name)) for name in SPLITS}
    if tokenizer is not None:
        length_findings, length_stats = _lengths(data, task, tokenizer, window)
        report.findings += length_findings
        report.stats["tokens"] = length_stats
    return report


def check_task_data(task: Task, data: TaskData, progress: Any, model_source: str | None = None) -> CheckReport:
    """All checks, with the embedding model for near-duplicates and the base tokenizer for lengths (no weights)."""
    embed = None
    if task.spec.checks.near_duplicates:
        embedder = Embedder(task.spec.checks.embedding_model)
        total = sum(1 for _ in data.all())
        step = progress.add_task("embed inputs for near-duplicate checks", total=total)
        embed = lambda texts: embedder.encode(texts, lambda n: progress.advance(step, n))  # noqa: E731
    tokenizer, window = tokenizer_and_window(model_source or task.spec.model.base)
    return run_checks(task, data, embed, tokenizer, window)


def fixed_files(task: Task, data: TaskData) -> list[Path]:
    """Where `validate --fix` writes: `<name>.clean.jsonl` beside each data file, `<task>.clean.yaml` beside the
    task file."""
    sources = sorted({Path(ex.source.rsplit(":", 1)[0]) for ex in data.all()})
    return [src.with_name(src.stem + ".clean.jsonl") for src in sources] + [
        task.path.with_name(task.path.stem + ".clean.yaml")]


def check_fixed_files(task: Task, data: TaskData) -> None:
    """Every cleaned copy can be written (a folder or a FIFO at its name, or a folder that cannot be written, is
    found before the data checks run and before any copy is written)."""
    for path in fixed_files(task, data):
        writable_file(path, "--fix")


def write_fixed(task: Task, data: TaskData, report: CheckReport) -> list[Path]:
    """Cleaned copies of the data files (`<name>.clean.jsonl`) and of the task file (`<task>.clean.yaml`),
    without the examples the findings mark for dropping. The originals are never touched. All are written under
    temporary names first and renamed together: a failure leaves none of them half-written."""
    import yaml

    dropped = {f.where for f in report.findings if f.drop}
    by_file: dict[str, list[Example]] = defaultdict(list)
    for ex in sorted(data.all(), key=lambda e: (e.source.rsplit(":", 1)[0], int(e.source.rsplit(":", 1)[1]))):
        by_file[ex.source.rsplit(":", 1)[0]].append(ex)
    texts, renamed = {}, {}
    for file, rows in by_file.items():
        src = Path(file)
        out = src.with_name(src.stem + ".clean.jsonl")
        kept = [ex for ex in rows if ex.source not in dropped]
        texts[out] = "".join(json.dumps(ex.record, ensure_ascii=False) + "\n" for ex in kept)
        renamed[src.resolve()] = out
    raw = json.loads(json.dumps(task.raw))
    for key in ("train", "validation", "test", "file"):
        value = raw.get("data", {}).get(key)
        if value and task.resolve(value).resolve() in renamed:
            new = renamed[task.resolve(value).resolve()]
            raw["data"][key] = str(Path(value).with_name(new.name))
    spec_out = task.path.with_name(task.path.stem + ".clean.yaml")
    texts[spec_out] = ("# written by `harness validate --fix`; the original is " + task.path.name + "\n"
                       + yaml.safe_dump(raw, sort_keys=False, allow_unicode=True))
    with contextlib.ExitStack() as stack:
        for path, text in texts.items():
            stack.enter_context(atomic_file(path)).write_text(text, encoding="utf-8")
    return list(texts)
