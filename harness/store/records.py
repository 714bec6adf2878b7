"""What the read side hands out: frozen records of stored rows, with their JSON columns parsed and a run's task
spec as a `TaskSpec`. Nothing outside the store indexes a row by column name.

    run = store.run(run_id); run.spec.decision.primary_metric; [a.answer for a in store.arms(run_id)]
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field, fields
from datetime import datetime
from functools import cached_property
from typing import Any, TypeVar

from harness.errors import HarnessError
from harness.spec import TaskSpec, stored_spec

R = TypeVar("R")


def from_row(cls: type[R], row: dict[str, Any]) -> R:
    """A record from a row: the columns it names, a `<name>_json` column parsed into field `<name>`. Columns a
    record does not name (added by a later schema) are left out."""
    names = {f.name for f in fields(cls)}  # type: ignore[arg-type]
    values = {k: v for k, v in row.items() if k in names}
    for name in names:
        if f"{name}_json" in row and name not in row:
            text = row[f"{name}_json"]
            values[name] = json.loads(text) if text else None
    return cls(**values)


class Row:
    """A record read from one table row (`from_row`)."""

    @classmethod
    def from_row(cls: type[R], row: dict[str, Any]) -> R:
        return from_row(cls, row)


@dataclass(frozen=True)
class RunRecord(Row):
    run_id: str
    task: str
    task_version: str
    status: str
    spec_hash: str
    data_fingerprint: str
    started_at: datetime
    task_path: str | None = None
    error: str | None = None
    finished_at: datetime | None = None
    profile: str | None = None
    git_commit: str | None = None
    git_dirty: bool | None = None
    harness_version: str | None = None
    packages: dict[str, str] | None = None
    base_model_id: str | None = None
    base_model_source: str | None = None
    base_model_hash: str | None = None
    device: str | None = None
    precision: str | None = None
    host: str | None = None
    pid: int | None = None
    report_path: str | None = None
    decision: dict[str, Any] | None = None  # the verdict as stored (harness.readside.results.run_decision reads it)
    data_stats: dict[str, Any] | None = None
    spec_text: str = field(default="{}", repr=False)  # the task spec as stored; `spec` parses it

    @cached_property
    def spec(self) -> TaskSpec:
        """The run's task spec, as validated when it ran."""
        try:
            return stored_spec(self.spec_text)
        except ValueError as exc:  # pydantic's ValidationError is one
            first = str(exc).splitlines()[0]
            raise HarnessError(f"run {self.run_id}: its stored task spec does not validate ({first})") from None

    @property
    def profile_settings(self) -> dict[str, Any]:
        """The profile the run used, when it was stored as its settings (else {})."""
        return json.loads(self.profile) if self.profile and self.profile.startswith("{") else {}

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> RunRecord:
        record = from_row(cls, row)
        return record if "spec_json" not in row else _replace(record, spec_text=row["spec_json"])


@dataclass(frozen=True)
class ArmRecord(Row):
    run_id: str
    arm: str
    arm_type: str
    role: str
    status: str
    config_hash: str
    started_at: datetime
    config: dict[str, Any] = field(default_factory=dict)
    error: str | None = None
    finished_at: datetime | None = None
    seconds: float | None = None
    n_examples: int | None = None
    n_failed: int | None = None
    details: dict[str, Any] = field(default_factory=dict)
    cache_key: str | None = None
    cached_from: str | None = None

    @property
    def answer(self) -> str:
        """How the arm answers: free, constrained, choice (its `answer` setting)."""
        return str((self.config.get("arm") or {}).get("answer", "free"))

    @property
    def prompt_format(self) -> str:
        return str(self.config.get("prompt_format", "chat"))

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> ArmRecord:
        record = from_row(cls, row)
        return _replace(record, config=record.config or {}, details=record.details or {})


@dataclass(frozen=True)
class ExampleRecord(Row):
    split: str
    example_id: str
    target: str
    messages: tuple[dict[str, str], ...] = ()  # the input conversation, without the answer
    source: str | None = None

    @property
    def input_text(self) -> str:
        """What a reader sees as the input: every turn but the system prompt."""
        return "\n\n".join(m["content"] for m in self.messages if m["role"] != "system")

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> ExampleRecord:
        return cls(row["split"], row["example_id"], row["target"], tuple(json.loads(row["input_json"])),
                   row.get("source"))


@dataclass(frozen=True)
class PredictionRecord(Row):
    arm: str
    split: str
    example_id: str
    output: str
    prompt: list[dict[str, str]] = field(default_factory=list)
    error: str | None = None
    latency_s: float | None = None
    prompt_tokens: int | None = None
    output_tokens: int | None = None
    details: dict[str, Any] = field(default_factory=dict)

    @property
    def answer(self) -> str:
        """What is scored: the output, or nothing when generation failed."""
        return "" if self.error else self.output

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> PredictionRecord:
        record = from_row(cls, row)
        return _replace(record, prompt=record.prompt or [], details=record.details or {})


@dataclass(frozen=True)
class MetricRecord(Row):
    arm: str
    split: str
    metric: str
    n: int
    n_failed: int
    value: float | None = None
    ci_low: float | None = None
    ci_high: float | None = None


@dataclass(frozen=True)
class SuiteRecord(Row):
    """The general-capability suite result an arm of a run uses (`base` for the base model)."""

    arm: str
    suite_key: str
    reused: bool
    model: str
    base_hash: str
    merged: bool
    suite_version: int
    fingerprint: str
    adapter_hash: str | None = None
    seconds: float | None = None
    created_at: datetime | None = None


@dataclass(frozen=True)
class StageRecord(Row):
    position: int
    stage: str
    seconds: float
    started_at: datetime
    failed: bool
    arm: str | None = None


@dataclass(frozen=True)
class FindingRecord(Row):
    check_name: str
    severity: str
    message: str
    location: str | None = None
    example_id: str | None = None
    related: str | None = None


@dataclass(frozen=True)
class IndexRecord(Row):
    """A stored retrieval index: what it was built from and its size."""

    index_key: str
    corpus_fingerprint: str
    embedding_model: str
    embedding_hash: str
    chunk_tokens: int
    overlap_tokens: int
    dimension: int
    n_documents: int
    n_chunks: int
    corpus_path: str | None = None
    created_at: datetime | None = None


def _replace(record: R, **changes: Any) -> R:
    from dataclasses import replace

    return replace(record, **changes)  # type: ignore[type-var]
