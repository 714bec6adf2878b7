"""The `data` and `output` sections of a task file: files or a dataset, splits, columns, the answer's shape."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import Field, ValidationInfo, field_validator, model_validator

from harness.metrics.builtin import OutputShape, normalize_text
from harness.spec.base import NoCredentials, Seed, Strict


class FieldMap(Strict):
    """Record keys holding the input text, the target and (optionally) the example id."""

    input: str
    target: str
    id: str | None = None


class SplitRule(Strict):
    """One file split into train / validation / test by a seeded rule."""

    validation: float = Field(0.1, ge=0.0, lt=1.0)
    test: float = Field(0.2, gt=0.0, lt=1.0)
    seed: Seed = 0
    stratify: bool = Field(True, description="stratify by label (label tasks only)")

    @model_validator(mode="after")
    def _leaves_train(self) -> SplitRule:
        if self.validation + self.test >= 0.9:
            raise ValueError(f"validation + test must leave at least 10% for train, got {self.validation + self.test:.2f}")
        return self


SPLIT_NAMES = ("train", "validation", "test")
FILTER_OPS = ("==", "!=", "<", "<=", ">", ">=", "in", "not in")
_FILTER_TEXT = re.compile(r"^\s*([A-Za-z_][\w.\-]*)\s*(==|!=|<=|>=|<|>|not\s+in\b|in\b)\s*(.+?)\s*$")


class RowFilter(Strict):
    """Keep the rows whose `column` compares true with `value`; the text form is `label != 'spam'`."""

    column: str
    op: Literal["==", "!=", "<", "<=", ">", ">=", "in", "not in"] = "=="
    value: Any = None

    @model_validator(mode="before")
    @classmethod
    def _from_text(cls, v: Any) -> Any:
        if not isinstance(v, str):
            return v
        import ast

        match = _FILTER_TEXT.match(v)
        if match is None:
            raise ValueError(f"expected `column op value` with op one of {', '.join(FILTER_OPS)}, e.g. \"label != 'spam'\"")
        column, op, literal = match.groups()
        words = {"true": True, "false": False, "null": None, "none": None}
        try:
            # literals only: a filter never runs code
            value = words[literal.lower()] if literal.lower() in words else ast.literal_eval(literal)
        except (ValueError, SyntaxError):
            raise ValueError(f"{literal!r} is not a literal value (quote text: 'spam'; numbers; true, false, null; "
                             f"lists ['a', 'b'])") from None
        return {"column": column, "op": " ".join(op.split()), "value": value}

    @model_validator(mode="after")
    def _list_for_in(self) -> RowFilter:
        if self.op in ("in", "not in") and not isinstance(self.value, (list, tuple)):
            raise ValueError(f"op {self.op!r} needs a list value, got {self.value!r}")
        return self


class DatasetColumns(Strict):
    """Dataset columns holding the input text and target, or one chat `messages` column (ending with the answer)."""

    input: str | None = None
    target: str | None = None
    id: str | None = None
    messages: str | None = Field(None, description="a column of [{role, content}, ...] ending with the assistant's answer")

    @model_validator(mode="after")
    def _one_shape(self) -> DatasetColumns:
        if self.messages is not None and (self.input is not None or self.target is not None):
            raise ValueError("give either 'messages' (chat data) or 'input' and 'target', not both")
        if self.messages is None and (self.input is None or self.target is None):
            raise ValueError("name the 'input' and 'target' columns (or a chat 'messages' column)")
        return self

    @property
    def format(self) -> Literal["chat", "fields"]:
        return "chat" if self.messages is not None else "fields"


SUFFIX_BUILDERS = {".parquet": "parquet", ".csv": "csv", ".json": "json", ".jsonl": "json", ".arrow": "arrow"}
GLOB = "*?["


class DatasetSpec(Strict):
    """Data read with `datasets`: a hub id (owner/name) or a local Parquet/CSV/JSON/Arrow file, glob or folder."""

    path: NoCredentials = Field(min_length=1, description="hub id, or a file / glob / folder relative to the task file")
    builder: Literal["parquet", "csv", "json", "arrow"] | None = Field(
        None, description="the file format (default: from the suffix; a folder: what datasets infers)")
    name: str | None = Field(None, description="the dataset's configuration (hub)")
    revision: str | None = Field(None, description="a hub branch, tag or commit; the resolved files enter the fingerprint")
    splits: dict[Literal["train", "validation", "test"], str] | None = Field(
        None, description="our split -> the dataset's split (default: train, validation and test by name)")
    columns: DatasetColumns
    filter: list[RowFilter] = Field(default_factory=list, description="keep rows for which every condition holds")
    limit: dict[Literal["train", "validation", "test"], Annotated[int, Field(ge=1)]] = Field(
        default_factory=dict, description="at most this many rows of a split: a seeded sample (`seed`) in dataset order")
    seed: Seed = 0

    def local_path(self, base_dir: Path) -> Path | None:
        """The local file, glob or folder `path` names (relative to base_dir); None when it is a hub id."""
        path = Path(self.path).expanduser()
        path = path if path.is_absolute() else base_dir / path
        looks_local = self.path.startswith((".", "/", "~")) or Path(self.path).suffix in SUFFIX_BUILDERS
        return path if path.exists() or looks_local or any(c in self.path for c in GLOB) else None

    @field_validator("filter", mode="before")
    @classmethod
    def _one_or_many(cls, v: Any) -> Any:
        return [v] if isinstance(v, (str, dict)) else v

    @model_validator(mode="after")
    def _distinct_splits(self) -> DatasetSpec:
        theirs = list((self.splits or {}).values())
        repeated = sorted({s for s in theirs if theirs.count(s) > 1})
        if repeated:
            raise ValueError(f"splits: two of our splits read the same dataset split {repeated[0]!r} (its rows would "
                             f"be in both)")
        if self.splits is not None and "train" not in self.splits:
            raise ValueError("splits: map 'train' (our split -> the dataset's, e.g. {train: train, test: validation})")
        return self


class DataSpec(Strict):
    format: Literal["chat", "fields"] = "chat"
    fields: FieldMap | None = None
    train: str | None = Field(None, min_length=1)
    validation: str | None = Field(None, min_length=1)
    test: str | None = Field(None, min_length=1)
    file: str | None = Field(None, min_length=1)
    split: SplitRule | None = None
    gold_docs_field: str | None = Field(None, description="record key listing the corpus document ids an example needs")
    dataset: DatasetSpec | None = Field(None, description="data read with `datasets` (hub id or local Parquet/CSV/...)")
    slices: list[str] = Field(default_factory=list, description="record keys (dataset columns) whose values split the "
                                                               "test items into slices the verdict checks one by one")

    @field_validator("slices")
    @classmethod
    def _distinct_slices(cls, v: list[str]) -> list[str]:
        if len(set(v)) != len(v):
            raise ValueError(f"slices has duplicates: {v}")
        if any(not name.strip() for name in v):
            raise ValueError("slices: a name is empty")
        return v

    @model_validator(mode="after")
    def _one_layout(self, info: ValidationInfo) -> DataSpec:
        if (info.context or {}).get("stored"):  # checked when the run was made; a stored spec is a full dump, so
            return self                         # every key would read as given ('format' beside 'dataset')
        if self.dataset is not None:
            return self._dataset_layout()
        if self.format == "fields" and self.fields is None:
            raise ValueError("format 'fields' needs a 'fields' mapping (input, target)")
        if self.format == "chat" and self.fields is not None:
            raise ValueError("'fields' is only used with format 'fields'")
        explicit = self.train is not None or self.test is not None or self.validation is not None
        if self.file is not None and explicit:
            raise ValueError("give either 'file' with 'split', or 'train'/'validation'/'test' files, not both")
        if self.file is not None and self.split is None:
            raise ValueError("'file' needs a 'split' rule (validation, test, seed)")
        if self.file is None and (self.train is None or self.test is None):
            raise ValueError("name 'train' and 'test' files (and optionally 'validation'), one 'file' with a 'split' "
                             "rule, or a 'dataset'")
        return self

    def _dataset_layout(self) -> DataSpec:
        given = [k for k in ("train", "validation", "test", "file") if getattr(self, k) is not None]
        if given:
            raise ValueError(f"give either 'dataset' or data files, not both (remove {', '.join(given)})")
        if "format" in self.model_fields_set or self.fields is not None:
            raise ValueError("with 'dataset', name the columns in dataset.columns (input, target, id, or messages) "
                             "instead of 'format' / 'fields'")
        splits = self.dataset.splits
        if self.split is not None and splits is not None:
            if "validation" in splits:
                raise ValueError("dataset.splits maps 'validation' and a 'split' rule would make one: keep one of them")
            if "test" in splits and "test" in self.split.model_fields_set:
                raise ValueError("dataset.splits maps 'test', so the 'split' rule only carves validation off train: "
                                 "remove split.test")
            if "test" in splits and self.split.validation == 0:
                raise ValueError("the 'split' rule carves validation off train: give split.validation > 0")
        return self


class OutputSpec(Strict):
    type: Literal["json", "label", "text"]
    fields: list[str] | None = None
    labels: list[str] | None = None
    json_schema: dict[str, Any] | None = Field(None, description="JSON Schema of an answer, for answer: constrained "
                                               "(default: an object with exactly `fields`)")
    regex: str | None = Field(None, description="a regular expression every text answer matches, for answer: constrained")

    @model_validator(mode="after")
    def _shape(self) -> OutputSpec:
        if self.type == "json" and not self.fields:
            raise ValueError("output type 'json' needs the list of 'fields'")
        if self.type == "label" and (not self.labels or len(self.labels) < 2):
            raise ValueError("output type 'label' needs at least two 'labels'")
        for name, values in (("fields", self.fields), ("labels", self.labels)):
            if values and len(set(values)) != len(values):
                raise ValueError(f"'{name}' has duplicates: {values}")
        self._labels_tell_apart()
        if self.json_schema is not None and self.type != "json":
            raise ValueError("'json_schema' applies to output type 'json' only")
        if self.regex is not None:
            if self.type != "text":
                raise ValueError("'regex' applies to output type 'text' only")
            try:
                re.compile(self.regex)
            except re.error as exc:
                raise ValueError(f"'regex' is not a valid regular expression ({exc})") from None
        return self

    def _labels_tell_apart(self) -> None:
        """Answers are matched to labels after normalisation (case, Unicode compatibility forms, spaces and edge
        punctuation): two labels equal after it could not be told apart, and a label that normalises to nothing
        would match an empty or failed answer."""
        normal: dict[str, str] = {}
        for label in self.labels or ():
            norm = normalize_text(label)
            if not norm:
                raise ValueError(f"label {label!r} is only spaces and punctuation: answers are matched to labels with "
                                 f"those trimmed, so an empty answer would match it; use a word")
            if norm in normal:
                raise ValueError(f"labels {normal[norm]!r} and {label!r} are the same answer after normalisation "
                                 f"({norm!r}: case, spacing, edge punctuation and Unicode forms are ignored)")
            normal[norm] = label

    def shape(self) -> OutputShape:
        """What a metric needs to know about the task's outputs."""
        return OutputShape(self.type, tuple(self.fields or ()), tuple(self.labels or ()))

    @property
    def constrainable(self) -> bool:
        """Whether answers can be forced into a shape: a JSON object, a label, or a declared regex."""
        return self.type in ("json", "label") or self.regex is not None

    @property
    def constraint_kind(self) -> str:
        """The kind of constraint a constrained answer uses: json, choice (a label) or regex."""
        return {"json": "json", "label": "choice"}.get(self.type, "regex")
