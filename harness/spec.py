"""The schema of a task file: `harness validate tasks/contracts.yaml` checks one without loading a model.

Every model rejects unknown keys. Reading a file and reporting its mistakes line by line is
`harness.taskfile`'s job; this module only says what a valid task is. Arm types are a registry:
an arm module registers its settings model (`register_arm_spec`) and the task schema accepts it.
"""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path
from typing import Annotated, Any, ClassVar, Literal, Union

from pydantic import BaseModel, ConfigDict, Discriminator, Field, Tag, ValidationInfo, field_validator, model_validator
from pydantic.fields import FieldInfo

from harness.errors import did_you_mean
from harness import evaluate_metrics
from harness.metrics import BUILT_IN, METRICS, OutputShape, register_metric
from harness.redact import redacted

NAME = r"^[a-z0-9][a-z0-9_\-]*$"
DEFAULT_BASE_MODEL = "HuggingFaceTB/SmolLM2-135M-Instruct"
DEFAULT_EMBEDDING_MODEL = "sentence-transformers/all-MiniLM-L6-v2"


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


# ---------------------------------------------------------------- data


class FieldMap(Strict):
    """Record keys holding the input text, the target and (optionally) the example id."""

    input: str
    target: str
    id: str | None = None


class SplitRule(Strict):
    """One file split into train / validation / test by a seeded rule."""

    validation: float = Field(0.1, ge=0.0, lt=1.0)
    test: float = Field(0.2, gt=0.0, lt=1.0)
    seed: int = 0
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


class DatasetSpec(Strict):
    """Data read with `datasets`: a hub id (owner/name) or a local Parquet/CSV/JSON/Arrow file, glob or folder."""

    path: str = Field(description="hub id, or a file / glob / folder relative to the task file")
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
    seed: int = 0

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
    train: str | None = None
    validation: str | None = None
    test: str | None = None
    file: str | None = None
    split: SplitRule | None = None
    gold_docs_field: str | None = Field(None, description="record key listing the corpus document ids an example needs")
    dataset: DatasetSpec | None = Field(None, description="data read with `datasets` (hub id or local Parquet/CSV/...)")

    @model_validator(mode="after")
    def _one_layout(self) -> DataSpec:
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

    def shape(self) -> OutputShape:
        """What a metric needs to know about the task's outputs."""
        return OutputShape(self.type, tuple(self.fields or ()), tuple(self.labels or ()))

    @property
    def constrainable(self) -> bool:
        """Whether answers can be forced into a shape: a JSON object, a label, or a declared regex."""
        return self.type in ("json", "label") or self.regex is not None


class PromptSpec(Strict):
    system: str = Field("", description="short system prompt, used by every arm")
    instructions: str = Field("", description="task instructions for prompted and RAG arms; tuned arms learn them")


class ModelSpec(Strict):
    base: str = DEFAULT_BASE_MODEL
    dtype: Literal["auto", "float32", "bfloat16", "float16"] = "auto"
    prompt_format: Literal["auto", "chat", "completion"] = Field(
        "auto", description="chat: the tokenizer's chat template; completion: Input:/Output: blocks for base models; "
                            "auto: chat when the model has a template")


class GenerationSpec(Strict):
    max_new_tokens: int = Field(128, ge=1, le=32768)
    batch_size: int = Field(16, ge=1, le=1024)


class ChecksSpec(Strict):
    """Data checks run by `harness validate` and before every run."""

    near_duplicates: bool = Field(True, description="embedding-based near-duplicate and leakage search")
    near_duplicate_threshold: float = Field(0.95, gt=0.0, le=1.0, description="cosine similarity")
    embedding_model: str = DEFAULT_EMBEDDING_MODEL
    leakage: Literal["error", "warning"] = Field("error", description="severity of test/validation items found in train")
    short_output_ratio: float = Field(0.25, ge=0.0, lt=1.0, description="flag targets shorter than this x the median")


# ---------------------------------------------------------------- backends and arms


class HFBackend(Strict):
    """The task's base model, run locally with transformers."""

    type: Literal["hf"] = "hf"


class OpenAIBackend(Strict):
    """Any OpenAI-compatible chat endpoint (OpenAI, vLLM, llama.cpp server, ...)."""

    type: Literal["openai"]
    base_url: str
    model: str
    api_key_env: str | None = Field(None, description="name of the environment variable holding the API key")
    concurrency: int = Field(4, ge=1, le=256)
    timeout_s: float = Field(60.0, gt=0, description="seconds one request may take before it is tried again")
    max_retries: int = Field(
        2, ge=0, le=10, description="retries of a request that timed out, lost its connection, got a 408/409/429/5xx, "
                                    "or a malformed or empty answer; what still fails is a failed item")
    backoff_s: float = Field(0.5, ge=0, le=60, description="wait before the first retry; it doubles each retry, "
                                                           "with jitter, and is at least the server's Retry-After")
    max_backoff_s: float = Field(30.0, gt=0, le=600, description="the longest wait between tries (Retry-After too)")
    server: Literal["openai", "vllm", "vllm-legacy"] = Field(
        "openai", description="how to pass constraints: response_format (openai), structured_outputs (vllm >= 0.12), "
                              "guided_* (vllm-legacy)")

    @field_validator("base_url")
    @classmethod
    def _url(cls, v: str) -> str:
        if not re.match(r"^https?://[^\s/]+", v):
            raise ValueError(f"must be an http(s) URL, got {v!r}")
        return v

    @field_validator("api_key_env")
    @classmethod
    def _env_name(cls, v: str | None) -> str | None:
        if v is not None and not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", v):
            raise ValueError("must be the NAME of an environment variable that holds the key, e.g. OPENAI_API_KEY "
                             "(the key itself never goes in a task file)")
        return v


Backend = Annotated[Union[HFBackend, OpenAIBackend], Field(discriminator="type")]


class ArmSpecBase(Strict):
    """What every arm's settings have: a `type` (a Literal, the YAML name) and a `name`."""

    name: str = Field(pattern=NAME)
    produces_adapter: ClassVar[bool] = False  # a later arm may answer with its adapter (`adapter_from`)

    def cross_check(self, task: TaskSpec, index: int) -> list[str]:
        """Problems that involve the rest of the task file, each as `arms[i].field: message`."""
        return []


class AnswerSettings(Strict):
    """How an arm that runs a model turns it into answers (as a competent engineer's prompting would)."""

    answer: Literal["free", "choice", "constrained"] = Field(
        "free", description="free: greedy text; choice: the label with the highest log-likelihood (label tasks); "
                            "constrained: decoding forced into the JSON schema, the label set or the task's regex")
    normalization: Literal["none", "char", "token"] = Field(
        "char", description="answer: choice ranks labels by log-likelihood summed (none), per character or per token")

    def answer_problems(self, task: TaskSpec, index: int) -> list[str]:
        where = f"arms[{index}].answer"
        if self.answer == "choice" and task.output.type != "label":
            return [f"{where}: 'choice' picks one of the labels and needs output type 'label' "
                    f"(got {task.output.type!r}); use 'constrained' for JSON"]
        if self.answer == "constrained" and not task.output.constrainable:
            return [f"{where}: 'constrained' needs output type 'json' or 'label', or a text task with output.regex"]
        backend = getattr(self, "backend", None)
        if self.answer == "choice" and isinstance(backend, OpenAIBackend):
            return [f"{where}: 'choice' needs log-likelihoods, which a chat endpoint does not return; use 'constrained' "
                    f"(a guided choice where the server supports it)"]
        return []


class PromptedArmSpec(ArmSpecBase, AnswerSettings):
    """Zero- or k-shot prompting; shots come from the train split only."""

    type: Literal["prompted"]
    shots: int = Field(0, ge=0, le=64)
    shot_seed: int = 0
    shot_selection: Literal["fixed", "similar"] = Field(
        "fixed", description="fixed: the same seeded shots for every item; similar: the k most similar train items"
    )
    backend: Backend = Field(default_factory=HFBackend)

    @model_validator(mode="after")
    def _shots_to_select(self) -> PromptedArmSpec:
        if self.shot_selection == "similar" and self.shots == 0:
            raise ValueError("shot_selection 'similar' needs shots > 0")
        return self

    def cross_check(self, task: TaskSpec, index: int) -> list[str]:
        return self.answer_problems(task, index)


class RagArmSpec(ArmSpecBase, AnswerSettings):
    """Retrieved corpus chunks in the prompt; with `adapter_from`, the named tuned arm's best adapter answers."""

    type: Literal["rag"]
    retriever: Literal["dense", "bm25", "hybrid"] = "hybrid"
    top_k: int = Field(4, ge=1, le=100)
    context_tokens: int = Field(512, ge=16, description="token budget for retrieved text in the prompt")
    shots: int = Field(0, ge=0, le=64)
    shot_seed: int = 0
    adapter_from: str | None = Field(None, description="a lora/qlora arm of this task: RAG on top of its tuned model")
    backend: Backend = Field(default_factory=HFBackend)

    def cross_check(self, task: TaskSpec, index: int) -> list[str]:
        problems = self.answer_problems(task, index)
        if task.corpus is None:
            problems.append(f"arms[{index}]: a rag arm needs a 'corpus' section")
        if self.adapter_from is None:
            return problems
        if isinstance(self.backend, OpenAIBackend):
            problems.append(f"arms[{index}].backend: an arm with adapter_from answers with the local tuned model; "
                            f"remove the openai backend")
        names = [a.name for a in task.arms]
        tuned = [a.name for a in task.arms if a.produces_adapter]
        if self.adapter_from not in tuned:
            problems.append(f"arms[{index}].adapter_from: {self.adapter_from!r} is not an arm that trains an adapter; "
                            f"tuned arms: {tuned or 'none'}")
        elif names.index(self.adapter_from) > index:
            problems.append(f"arms[{index}].adapter_from: {self.adapter_from!r} must be listed before this arm")
        return problems


class FloatRange(Strict):
    low: float
    high: float
    log: bool = False
    step: float | None = None

    @model_validator(mode="after")
    def _order(self) -> FloatRange:
        if not self.low < self.high:
            raise ValueError(f"`low < high` must hold, got (low={self.low}, high={self.high})")
        if self.log and self.low <= 0:
            raise ValueError(f"a log range needs low > 0, got {self.low}")
        return self


SearchDimension = Union[FloatRange, list[Union[float, int, str, bool, list[str]]]]

# Hyperparameters a sweep may search, and the type each must have.
TUNABLE = {
    "learning_rate": float, "r": int, "alpha": int, "dropout": float, "epochs": int, "target_modules": object,
    "weight_decay": float, "warmup_ratio": float, "batch_size": int, "grad_accum": int, "scheduler": str,
}


def _outside(dim: SearchDimension, value: Any) -> list[str]:
    """Why an enqueued value is not a point of its dimension (Optuna would fail that trial at run time)."""
    if isinstance(dim, FloatRange):
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            return [f"expected a number in [{dim.low}, {dim.high}], got {value!r}"]
        if not dim.low <= value <= dim.high:
            return [f"{value} is outside the search range [{dim.low}, {dim.high}]"]
        return []
    if value not in dim:
        return [f"{value!r} is not one of the choices {dim}"]
    return []


class SweepSpec(Strict):
    """Optuna search over the arm's hyperparameters, scored by generation on the validation split."""

    trials: int = Field(4, ge=1, le=10000)
    seed: int = 0
    pruner: Literal["median", "wilcoxon", "none"] = "median"
    startup_trials: int = Field(1, ge=0, description="trials that are never pruned (median pruner)")
    eval_every: Literal["epoch"] | int = Field("epoch", description="'epoch', or a number of optimizer steps")
    validation_limit: int | None = Field(None, ge=1, description="score trials on a seeded subset of validation")
    space: dict[str, SearchDimension] = Field(default_factory=dict)
    enqueue: list[dict[str, Any]] = Field(default_factory=list, description="points to try first")

    @field_validator("eval_every")
    @classmethod
    def _positive(cls, v: Any) -> Any:
        if isinstance(v, int) and v < 1:
            raise ValueError(f"eval_every must be 'epoch' or a positive number of steps, got {v}")
        return v

    @model_validator(mode="after")
    def _names(self) -> SweepSpec:
        problems = []
        for name, dim in self.space.items():
            if name not in TUNABLE:
                problems.append(f"unknown hyperparameter {name!r}; {did_you_mean(name, list(TUNABLE))}")
            elif isinstance(dim, list) and not dim:
                problems.append(f"{name}: give at least one choice")
            elif isinstance(dim, FloatRange) and TUNABLE[name] is int and not (
                float(dim.low).is_integer() and float(dim.high).is_integer()
            ):
                problems.append(f"{name}: an integer hyperparameter needs integer low/high, got {dim.low}..{dim.high}")
        for i, point in enumerate(self.enqueue):
            unknown = sorted(set(point) - set(self.space))
            if unknown:
                problems.append(f"enqueue[{i}]: {unknown} are not in the search space {sorted(self.space)}")
            problems += [f"enqueue[{i}].{name}: {problem}" for name, value in point.items() if name in self.space
                         for problem in _outside(self.space[name], value)]
        if problems:
            raise ValueError("; ".join(problems))
        return self


class TunedArmSpec(ArmSpecBase, AnswerSettings):
    """LoRA (or QLoRA: 4-bit NF4 base) fine-tuning with TRL's SFTTrainer; the sweep picks the hyperparameters."""

    produces_adapter: ClassVar[bool] = True
    type: Literal["lora", "qlora"]
    learning_rate: float = Field(2e-4, gt=0, lt=1)
    r: int = Field(8, ge=1, le=1024)
    alpha: int = Field(16, ge=1)
    dropout: float = Field(0.05, ge=0, lt=1)
    target_modules: Union[Literal["all-linear"], list[str]] = "all-linear"
    bias: Literal["none", "all", "lora_only"] = "none"
    epochs: int = Field(2, ge=1, le=100)
    batch_size: int = Field(8, ge=1, le=1024)
    grad_accum: int = Field(1, ge=1, le=1024)
    weight_decay: float = Field(0.0, ge=0)
    warmup_ratio: float = Field(0.05, ge=0, lt=1)
    scheduler: Literal["linear", "cosine", "constant", "constant_with_warmup"] = "cosine"
    max_length: int = Field(1024, ge=16, description="training sequence length in tokens; longer examples are cut")
    train_limit: int | None = Field(None, ge=1, description="train on a seeded subset of the train split")
    gradient_checkpointing: Literal["auto", True, False] = Field(
        "auto", description="auto: on for CUDA when memory needs it, never on CPU (measured ~19x slower there)"
    )
    allow_cpu: bool = Field(False, description="qlora only: run 4-bit on CPU (~20x slower than fp32 LoRA)")
    merge: bool = Field(True, description="also evaluate the best adapter merged into the base weights")
    adapter: str | None = Field(None, description="evaluate this saved adapter instead of training one "
                                "(e.g. one trained on several GPUs with `accelerate launch ... harness train`)")
    sweep: SweepSpec | None = None

    @model_validator(mode="after")
    def _qlora_only(self) -> TunedArmSpec:
        if self.allow_cpu and self.type != "qlora":
            raise ValueError("allow_cpu applies to qlora arms only")
        if self.adapter is not None and self.sweep is not None:
            raise ValueError("give either 'adapter' (evaluate a trained adapter) or 'sweep' (train and pick one), not both")
        return self

    def cross_check(self, task: TaskSpec, index: int) -> list[str]:
        return self.answer_problems(task, index)

    def hyperparameters(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in TUNABLE}


# YAML arm type -> its settings model; arm modules add theirs with register_arm_spec
ARM_SPECS: dict[str, type[ArmSpecBase]] = {"prompted": PromptedArmSpec, "lora": TunedArmSpec, "qlora": TunedArmSpec,
                                           "rag": RagArmSpec}


def _arm_union() -> Any:
    return Annotated[Union[tuple(dict.fromkeys(ARM_SPECS.values()))], Field(discriminator="type")]


ArmSpec = _arm_union()


def arm_types() -> tuple[str, ...]:
    return tuple(ARM_SPECS)


class CorpusSpec(Strict):
    """Documents for retrieval: a folder of .txt/.md files, or a JSONL of {id, text[, title]}."""

    path: str
    chunk_tokens: int = Field(200, ge=16, le=8192, description="chunk size in embedding-model tokens")
    overlap_tokens: int = Field(40, ge=0)
    embedding_model: str = DEFAULT_EMBEDDING_MODEL

    @model_validator(mode="after")
    def _overlap(self) -> CorpusSpec:
        if self.overlap_tokens >= self.chunk_tokens:
            raise ValueError(f"overlap_tokens must be smaller than chunk_tokens, got {self.overlap_tokens} >= {self.chunk_tokens}")
        return self


class JudgeSpec(Strict):
    """An LLM judge behind any OpenAI-compatible endpoint, for ragas faithfulness / answer relevancy."""

    base_url: str
    model: str
    api_key_env: str | None = None
    timeout_s: float = Field(60.0, gt=0)
    retries: int = Field(2, ge=0, le=10, description="retries of a judgment that fails to parse or times out")
    backoff_s: float = Field(0.5, ge=0, le=60, description="wait before the first retry; it doubles each retry, "
                                                           "with jitter, and is at least the server's Retry-After")
    max_backoff_s: float = Field(30.0, gt=0, le=600, description="the longest wait between tries (Retry-After too)")
    concurrency: int = Field(4, ge=1, le=64)

    _url = field_validator("base_url")(OpenAIBackend._url.__func__)
    _env = field_validator("api_key_env")(OpenAIBackend._env_name.__func__)
BACKEND_TYPES = ("hf", "openai")


class SuiteSizes(Strict):
    """How much of the general-capability suite to score (a profile may shrink it)."""

    mmlu_items: int | None = Field(None, ge=0, description="seeded, subject-stratified MMLU test items (0: none)")
    general_items: int | None = Field(None, ge=0, description="items of tasks/general (default: all)")
    perplexity_docs: int | None = Field(None, ge=0, description="State of the Union documents for perplexity")
    probes: bool | None = Field(None, description="format probes that generate")
    trial_items: int | None = Field(None, ge=0, description="general items each sweep trial is scored on (0: none)")


class RegressionSpec(SuiteSizes):
    """General-capability regression checks: the base model and every tuned model on the same real items.

    A tuned arm whose suite accuracy falls significantly more than `max_drop` below the base model's (overall,
    or in any category, corrected for the number of categories) cannot be GO."""

    mmlu_items: int | None = Field(200, ge=0)
    general_items: int | None = Field(None, ge=0)
    perplexity_docs: int | None = Field(32, ge=0)
    probes: bool | None = True
    trial_items: int | None = Field(40, ge=0)
    lm_eval_tasks: list[str] = Field(default_factory=list, description="named lm-evaluation-harness tasks (log-likelihood "
                                     "ones, e.g. arc_easy, piqa, hellaswag: they need the hub) scored like the suite")
    lm_eval_include: str | None = Field(None, description="a folder of local lm-eval task YAMLs (relative to the task file)")
    lm_eval_limit: int | None = Field(None, ge=1, description="the first N documents of each lm-eval task")
    max_drop: float = Field(0.02, ge=0.0, le=1.0, description="tolerated fall of suite accuracy, tuned vs base")
    min_probe_pass_rate: float | None = Field(None, ge=0.0, le=1.0, description="a tuned model below it cannot be GO")
    seed: int = 0

    def sized(self, sizes: SuiteSizes | None) -> RegressionSpec:
        """These settings with a profile's sizes in place of the task's."""
        if sizes is None:
            return self
        return self.model_copy(update={k: v for k, v in sizes.model_dump().items() if v is not None})


class ProfileSpec(Strict):
    """Run-size trade-offs: limits per split and sweep size, chosen with --profile."""

    test_limit: int | None = Field(None, ge=1)
    validation_limit: int | None = Field(None, ge=1)
    train_limit: int | None = Field(None, ge=1)
    trials: int | None = Field(None, ge=1, description="overrides every sweep's trial count")
    epochs: int | None = Field(None, ge=1, description="caps every tuned arm's epochs (searched ones too)")
    batch_size: int | None = Field(None, ge=1, description="overrides every tuned arm's batch size (more steps on little data)")
    merge: bool | None = Field(None, description="overrides every tuned arm's merge setting")
    arms: list[str] | None = Field(None, description="run only these arms")
    regression: SuiteSizes | None = Field(None, description="sizes of the general-capability suite")

    def apply(self, hp: dict[str, Any]) -> dict[str, Any]:
        """A trial's hyperparameters under this profile's caps and overrides."""
        hp = dict(hp)
        if self.epochs is not None:
            hp["epochs"] = min(int(hp["epochs"]), self.epochs)
        if self.batch_size is not None:
            hp["batch_size"] = self.batch_size
        return hp


class CostSpec(Strict):
    """What serving and training cost, for the second way to a GO: non-inferior and cheaper.

    Price requests either by tokens (price per 1k input and output tokens, measured per arm) or by
    serving hardware (dollars per hour times each arm's measured latency per request), not both."""

    requests_per_day: float = Field(gt=0, description="expected production volume")
    price_per_1k_input_tokens: float | None = Field(None, ge=0)
    price_per_1k_output_tokens: float | None = Field(None, ge=0)
    serving_cost_per_hour: float | None = Field(None, ge=0, description="$/hour of the serving hardware (uses measured latency)")
    training_cost_per_hour: float = Field(0.0, ge=0, description="$/hour of the training hardware")
    horizon_days: float = Field(365.0, gt=0, description="training must pay for itself within this many days")

    @model_validator(mode="after")
    def _one_pricing(self) -> CostSpec:
        tokens = self.price_per_1k_input_tokens is not None or self.price_per_1k_output_tokens is not None
        hardware = self.serving_cost_per_hour is not None
        if tokens and hardware:
            raise ValueError("give either token prices (price_per_1k_input_tokens / price_per_1k_output_tokens) "
                             "or serving_cost_per_hour, not both")
        if not tokens and not hardware:
            raise ValueError("give token prices (price_per_1k_input_tokens, price_per_1k_output_tokens) "
                             "or serving_cost_per_hour")
        return self

    @property
    def pricing(self) -> str:
        return "hardware" if self.serving_cost_per_hour is not None else "tokens"


class DecisionSpec(Strict):
    primary_metric: str
    min_lift: float = Field(0.0, ge=0.0, description="smallest gain on the primary metric worth tuning for")
    confidence: float = Field(0.95, gt=0.5, lt=1.0)
    expected_lift: float | None = Field(
        None, gt=0.0, le=1.0, description="true lift assumed for 'items needed' when the observed lift does not exceed "
                                          "min_lift (default min_lift + 0.05)")
    non_inferiority_margin: float | None = Field(
        None, ge=0.0, le=1.0, description="a tuned arm this close to the baseline (or better) and cheaper may also win")
    cost: CostSpec | None = None
    max_failed_share: float = Field(
        0.05, ge=0.0, lt=1.0, description="largest share of test items whose generation may fail (after retries) in an "
                                          "arm the verdict compares; above it the verdict is INCONCLUSIVE")

    @model_validator(mode="after")
    def _cost_route(self) -> DecisionSpec:
        if (self.non_inferiority_margin is None) != (self.cost is None):
            missing = "cost" if self.cost is None else "non_inferiority_margin"
            raise ValueError(f"non_inferiority_margin and cost go together (GO on cost needs both); {missing} is missing")
        if self.expected_lift is not None and self.expected_lift <= self.min_lift:
            raise ValueError(f"expected_lift must exceed min_lift ({self.min_lift}), got {self.expected_lift}")
        return self


class EvaluateMetricSpec(Strict):
    """A metric module of Hugging Face `evaluate`: `evaluate:<name or path>` in `metrics:`, or this mapping."""

    evaluate: str = Field(min_length=1, description="hub name (needs the Hub) or a local path, relative to the task "
                                                    "file: a folder holding <folder>.py, or a .py file")
    name: str | None = Field(None, pattern=NAME, description="the metric's name in the task (decision.primary_metric, "
                                                             "the report); default: the module's name")
    kind: Literal["per_example", "aggregate"] | None = Field(
        None, description="per_example: the module scores each item alone and the arm value is the mean; aggregate: "
                          "the module scores all items at once (corpus BLEU) and the bootstrap recomputes it per "
                          "resample; default: aggregate for known corpus-level metrics, else per_example")
    higher_is_better: bool | None = Field(None, description="the direction; looked up for well-known metrics")
    key: str | None = Field(None, description="the field of compute()'s result that is the score (default: the only "
                                              "numeric field)")
    args: dict[str, Any] = Field(default_factory=dict, description="keyword arguments to compute()")
    config_name: str | None = Field(None, description="evaluate.load's config_name")
    scale: float = Field(1.0, gt=0, description="multiplies the score, e.g. 0.01 puts a 0-100 score on 0-1")
    resamples: int = Field(1000, ge=200, le=4000, description="bootstrap resamples of an aggregate metric (each one "
                                                             "reruns the module on every arm compared)")

    @property
    def metric_name(self) -> str:
        return self.name or evaluate_metrics.base_name(self.evaluate)

    def declared(self, base_dir: Path | None) -> tuple[evaluate_metrics.Declared | None, list[str]]:
        """(the settled declaration, problems) for entry `metrics[i]`; the script is looked for under base_dir."""
        problems = []
        name, source = self.metric_name, self.evaluate
        if self.name is None and not re.fullmatch(NAME, name):
            problems.append(f"the name {name!r} taken from {source!r} is not a metric name (lower case letters, digits, "
                            f"_ and -); give one with name:")
        if name in BUILT_IN:
            problems.append(f"{name!r} is a built-in metric; give this evaluate metric another name with name:")
        up = evaluate_metrics.direction(source, self.higher_is_better)
        if up is None:
            problems.append(f"the direction of {source!r} is not known; declare higher_is_better: true or false")
        script = None
        path = Path(source).expanduser()
        path = path if path.is_absolute() else (base_dir or Path.cwd()) / path
        script = evaluate_metrics.script_of(path)
        if script is None and evaluate_metrics.is_local(source):
            problems.append(f"no metric script at {path} (a .py file, or a folder holding {path.name}/{path.name}.py)")
        if problems:
            return None, problems
        kind = self.kind or evaluate_metrics.default_kind(source)
        return evaluate_metrics.Declared(name, source, script, kind, bool(up), self.key, dict(self.args),
                                         self.config_name, self.scale, self.resamples), []


def _metric_tag(value: Any) -> str:
    return "EvaluateMetricSpec" if isinstance(value, (dict, EvaluateMetricSpec)) else "str"


MetricEntry = Annotated[Union[Annotated[str, Tag("str")], Annotated[EvaluateMetricSpec, Tag("EvaluateMetricSpec")]],
                        Discriminator(_metric_tag)]


def declare_stored(entries: list[Any]) -> None:
    """Make a stored run's evaluate metrics known (name, kind, direction) to the report, history and compare,
    when this process has not validated its task file; an already registered module is kept."""
    for entry in entries:
        if isinstance(entry, str) or not isinstance(entry, dict):
            continue
        try:
            spec = EvaluateMetricSpec.model_validate({k: v for k, v in entry.items() if v is not None})
        except ValueError:
            continue
        declared, problems = spec.declared(None)
        if declared is None:
            up = evaluate_metrics.direction(spec.evaluate, spec.higher_is_better)
            declared = evaluate_metrics.Declared(spec.metric_name, spec.evaluate, None,
                                                 spec.kind or evaluate_metrics.default_kind(spec.evaluate),
                                                 True if up is None else up, spec.key, dict(spec.args),
                                                 spec.config_name, spec.scale, spec.resamples)
        known = METRICS.get(declared.name)
        if known is not None and known.source == "evaluate" and known.description == evaluate_metrics.build(declared).description:
            continue
        if declared.name not in BUILT_IN:
            register_metric(evaluate_metrics.build(declared))


class TaskSpec(Strict):
    name: str = Field(pattern=NAME)
    version: str
    description: str = ""
    data: DataSpec
    output: OutputSpec
    prompt: PromptSpec = Field(default_factory=PromptSpec)
    model: ModelSpec = Field(default_factory=ModelSpec)
    generation: GenerationSpec = Field(default_factory=GenerationSpec)
    checks: ChecksSpec = Field(default_factory=ChecksSpec)
    corpus: CorpusSpec | None = None
    judge: JudgeSpec | None = None
    profiles: dict[str, ProfileSpec] = Field(default_factory=dict)
    default_profile: str = "full"
    metrics: list[MetricEntry] = Field(min_length=1, description="built-in metric names, `evaluate:<name or path>`, "
                                                                  "or {evaluate: ..., name, kind, higher_is_better, key, args}")
    arms: list[ArmSpec] = Field(min_length=1)
    decision: DecisionSpec
    regression: RegressionSpec | None = Field(None, description="general-capability regression checks on tuned models")

    @field_validator("version", mode="before")
    @classmethod
    def _version_text(cls, v: Any) -> Any:
        return str(v) if isinstance(v, (int, float)) else v

    @field_validator("metrics", mode="before")
    @classmethod
    def _evaluate_shorthand(cls, v: Any) -> Any:
        """`evaluate:sacrebleu` is short for {evaluate: sacrebleu}."""
        if not isinstance(v, list):
            return v
        return [{"evaluate": m.removeprefix("evaluate:").strip()} if isinstance(m, str) and m.startswith("evaluate:")
                else m for m in v]

    @property
    def metric_names(self) -> list[str]:
        return [m if isinstance(m, str) else m.metric_name for m in self.metrics]

    @model_validator(mode="after")
    def _cross_checks(self, info: ValidationInfo) -> TaskSpec:
        problems = []
        base_dir = (info.context or {}).get("base_dir") if info is not None else None
        declared = []
        for i, name in enumerate(self.metrics):
            if isinstance(name, EvaluateMetricSpec):
                found, wrong = name.declared(base_dir)
                problems += [f"metrics[{i}]: {w}" for w in wrong]
                declared += [found] if found else []
                continue
            if name not in BUILT_IN:
                problems.append(f"metrics[{i}]: unknown metric {name!r}; {did_you_mean(name, sorted(BUILT_IN))} "
                                f"(or an evaluate metric: evaluate:<name or path>)")
            elif METRICS[name].automatic:
                problems.append(f"metrics[{i}]: {name!r} is computed automatically for arms with retrieval or a judge; "
                                f"do not list it")
            elif self.output.type not in METRICS[name].outputs:
                problems.append(f"metrics[{i}]: {name!r} does not apply to output type {self.output.type!r}")
        names = self.metric_names
        if len(set(names)) != len(names):
            problems.append(f"metrics: duplicates in {names}")
        if self.decision.primary_metric not in names:
            problems.append(f"decision.primary_metric: {self.decision.primary_metric!r} must be one of metrics {names}")
        names = [a.name for a in self.arms]
        dupes = sorted({n for n in names if names.count(n) > 1})
        if dupes:
            problems.append(f"arms: arm names must be unique, repeated: {dupes}")
        for i, arm in enumerate(self.arms):
            problems += arm.cross_check(self, i)
        profiles = {"full"} | set(self.profiles)
        if self.default_profile not in profiles:
            problems.append(f"default_profile: {self.default_profile!r} is not defined; {did_you_mean(self.default_profile, sorted(profiles))}")
        for pname, profile in self.profiles.items():
            for arm_name in profile.arms or []:
                if arm_name not in names:
                    problems.append(f"profiles.{pname}.arms: no arm {arm_name!r}; {did_you_mean(arm_name, names)}")
        if problems:
            raise ValueError("\n".join(problems))
        for d in declared:  # known by name from here on: scoring, statistics, the verdict and the report look it up
            register_metric(evaluate_metrics.build(d))
        return self

    def profile(self, name: str | None) -> ProfileSpec:
        name = name or self.default_profile
        if name == "full" and "full" not in self.profiles:
            return ProfileSpec()
        if name not in self.profiles:
            from harness.errors import HarnessError

            raise HarnessError(f"--profile {name!r}: not defined in the task; {did_you_mean(name, sorted({'full'} | set(self.profiles)))}")
        return self.profiles[name]

    def output_shape(self) -> OutputShape:
        return self.output.shape()

    @property
    def embedding_model(self) -> str:
        """The embedding model of retrieval and similar-shot selection: the corpus's, else the data checks'."""
        return self.corpus.embedding_model if self.corpus else self.checks.embedding_model

    def arm(self, name: str) -> ArmSpec:
        for arm in self.arms:
            if arm.name == name:
                return arm
        raise KeyError(name)


def register_arm_spec(model: type[ArmSpecBase]) -> None:
    """Accept a new arm type in task files: its settings model, discriminated by its `type` Literal."""
    for name in model.model_fields["type"].annotation.__args__:
        ARM_SPECS[name] = model
    TaskSpec.model_fields["arms"] = FieldInfo.from_annotated_attribute(list[_arm_union()], Field(min_length=1))
    TaskSpec.model_rebuild(force=True)


class Task:
    """A validated spec plus where it came from (paths in it are relative to the file)."""

    def __init__(self, spec: TaskSpec, path: Path, raw: dict):
        self.spec = spec
        self.path = path
        self.raw = raw

    @property
    def base_dir(self) -> Path:
        return self.path.parent

    def with_base(self, ref: str) -> Task:
        """The same task on another base model (`harness run --base`): an upgrade is one command."""
        spec = self.spec.model_copy(update={"model": self.spec.model.model_copy(update={"base": ref})})
        return Task(spec, self.path, self.raw)

    def resolve(self, relative: str) -> Path:
        p = Path(relative)
        return p if p.is_absolute() else (self.base_dir / p)

    @property
    def spec_json(self) -> str:
        return json.dumps(redacted(self.spec.model_dump(mode="json")), sort_keys=True)

    @property
    def spec_hash(self) -> str:
        return hashlib.sha256(self.spec_json.encode()).hexdigest()[:16]


