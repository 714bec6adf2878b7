"""Records that cross modules: a prediction, a sweep trial, a retrieved chunk, suite scores, as types rather than dicts.

Arms produce them, the store writes them, and `harness.readside.results` reads them back for the decision,
the report, `history` and `compare`.
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass, field, fields
from datetime import UTC, datetime
from typing import Any


@dataclass
class Prediction:
    """One answer an arm gave to one item: the prompt it saw, its output or error, time and tokens."""

    example_id: str
    prompt: list[dict]
    output: str
    error: str | None
    latency_s: float
    prompt_tokens: int | None
    output_tokens: int | None
    details: dict = field(default_factory=dict)


@dataclass(frozen=True)
class ChunkRef:
    """A corpus chunk an answer was given: its id, its document and its retrieval score."""

    id: str
    doc_id: str
    score: float

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "doc_id": self.doc_id, "score": round(self.score, 6)}

    @classmethod
    def from_dict(cls, row: dict[str, Any]) -> ChunkRef:
        return cls(str(row["id"]), str(row["doc_id"]), float(row.get("score", 0.0)))


def chunk_refs(details: dict[str, Any] | None) -> list[ChunkRef] | None:
    """The chunks recorded in a prediction's details, or None when the answer had no retrieval."""
    if not details or "chunks" not in details:
        return None
    return [ChunkRef.from_dict(c) for c in details["chunks"]]


@dataclass
class Trial:
    """One sweep trial of a tuned arm, written when it ends; `reused` when an earlier run trained it."""

    arm: str
    study: str | None
    trial_number: int
    state: str = "failed"
    params: dict[str, Any] = field(default_factory=dict)
    value: float | None = None
    intermediate: list[dict[str, Any]] = field(default_factory=list)  # [{step, epoch?, value}] per evaluation
    validation_values: list[float] = field(default_factory=list)  # per validation example, last evaluation
    error: str | None = None
    train_seconds: float | None = None
    tokens_per_s: float | None = None
    train_tokens: int | None = None
    peak_memory_mb: float | None = None
    trainable_params: int | None = None
    total_params: int | None = None
    adapter_path: str | None = None
    adapter_hash: str | None = None
    final_loss: float | None = None
    reused: bool = False
    forgetting: float | None = None  # general items: the trial's model minus the base model (accuracy)
    started_at: float | None = None  # unix seconds
    finished_at: float | None = None

    # the training measurements a trial keeps as Optuna user attributes, so a later run can list it
    MEASURED = ("train_seconds", "tokens_per_s", "train_tokens", "peak_memory_mb", "trainable_params",
                "total_params", "adapter_path", "adapter_hash", "final_loss")

    def to_row(self) -> dict[str, Any]:
        row = asdict(self)
        row["params_json"] = json.dumps(row.pop("params"))
        row["intermediate_json"] = json.dumps(row.pop("intermediate"))
        row["validation_values_json"] = json.dumps(row.pop("validation_values"))
        return row

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> Trial:
        names = {f.name for f in fields(cls)}
        values = {k: v for k, v in row.items() if k in names}
        values["params"] = json.loads(row.get("params_json") or "{}")
        values["intermediate"] = json.loads(row.get("intermediate_json") or "[]")
        values["validation_values"] = json.loads(row.get("validation_values_json") or "[]")
        for key in ("started_at", "finished_at"):
            stamp = values.get(key)
            if isinstance(stamp, datetime):  # stored as naive UTC
                values[key] = stamp.replace(tzinfo=UTC).timestamp()
        return cls(**values)

    @property
    def curve(self) -> list[float | None]:
        """The validation metric at each evaluation (what the report plots)."""
        return [e.get("value") for e in self.intermediate]


@dataclass(frozen=True)
class SuiteScore:
    """One general-suite item's score for one model: `acc`/`acc_norm` of a choice item, `pass` of a probe."""

    part: str
    category: str
    item_id: str
    metric: str
    value: float


@dataclass(frozen=True)
class DocumentLoss:
    """One perplexity document's summed loss for one model."""

    doc_id: str
    loss: float
    n_tokens: int


@dataclass(frozen=True)
class Adapter:
    """A trained adapter an arm produced: what a later arm (RAG on the tuned model) answers with."""

    arm: str
    path: str
    hash: str | None
    quantized: bool = False  # trained on a 4-bit base (QLoRA): load the base the same way


def json_safe(v: Any) -> Any:
    """Plain JSON types (numpy scalars too, without importing numpy); NaN and infinities become null."""
    if isinstance(v, dict):
        return {k: json_safe(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [json_safe(x) for x in v]
    if isinstance(v, bool) or type(v).__name__ == "bool_":
        return bool(v)
    if isinstance(v, int) or type(v).__name__.startswith(("int", "uint")):
        return int(v)
    if isinstance(v, float) or type(v).__name__.startswith("float"):
        return float(v) if math.isfinite(v) else None
    return v


