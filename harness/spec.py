"""The schema of a task file: `harness validate tasks/contracts.yaml` checks one without loading a model.

Every model rejects unknown keys; `load_spec` reports every problem at once, each on one line as
`file:line: field.path: what was expected (got value)`.
"""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path
from typing import Annotated, Any, Literal, Union

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from harness.errors import SpecError, did_you_mean
from harness.metrics import METRICS, OutputShape

NAME = r"^[a-z0-9][a-z0-9_\-]*$"
DEFAULT_BASE_MODEL = "HuggingFaceTB/SmolLM2-135M-Instruct"


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


class DataSpec(Strict):
    format: Literal["chat", "fields"] = "chat"
    fields: FieldMap | None = None
    train: str | None = None
    validation: str | None = None
    test: str | None = None
    file: str | None = None
    split: SplitRule | None = None
    gold_docs_field: str | None = Field(None, description="record key listing the corpus document ids an example needs")

    @model_validator(mode="after")
    def _one_layout(self) -> DataSpec:
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
            raise ValueError("name 'train' and 'test' files (and optionally 'validation'), or one 'file' with a 'split' rule")
        return self


class OutputSpec(Strict):
    type: Literal["json", "label", "text"]
    fields: list[str] | None = None
    labels: list[str] | None = None

    @model_validator(mode="after")
    def _shape(self) -> OutputSpec:
        if self.type == "json" and not self.fields:
            raise ValueError("output type 'json' needs the list of 'fields'")
        if self.type == "label" and (not self.labels or len(self.labels) < 2):
            raise ValueError("output type 'label' needs at least two 'labels'")
        for name, values in (("fields", self.fields), ("labels", self.labels)):
            if values and len(set(values)) != len(values):
                raise ValueError(f"'{name}' has duplicates: {values}")
        return self


class PromptSpec(Strict):
    system: str = Field("", description="short system prompt, used by every arm")
    instructions: str = Field("", description="task instructions for prompted and RAG arms; tuned arms learn them")


class ModelSpec(Strict):
    base: str = DEFAULT_BASE_MODEL
    dtype: Literal["auto", "float32", "bfloat16", "float16"] = "auto"


class GenerationSpec(Strict):
    max_new_tokens: int = Field(128, ge=1, le=32768)
    batch_size: int = Field(16, ge=1, le=1024)


class ChecksSpec(Strict):
    """Data checks run by `harness validate` and before every run."""

    near_duplicates: bool = Field(True, description="embedding-based near-duplicate and leakage search")
    near_duplicate_threshold: float = Field(0.95, gt=0.0, le=1.0, description="cosine similarity")
    embedding_model: str = "sentence-transformers/all-MiniLM-L6-v2"
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
    timeout_s: float = Field(60.0, gt=0)
    max_retries: int = Field(2, ge=0, le=10)

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
            raise ValueError(f"must be the NAME of an environment variable (the key itself never goes in a task file), got {v!r}")
        return v


Backend = Annotated[Union[HFBackend, OpenAIBackend], Field(discriminator="type")]


class PromptedArmSpec(Strict):
    """Zero- or k-shot prompting; shots come from the train split only."""

    type: Literal["prompted"]
    name: str = Field(pattern=NAME)
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


class RagArmSpec(Strict):
    """Retrieved corpus chunks in the prompt; with `adapter_from`, the named tuned arm's best adapter answers."""

    type: Literal["rag"]
    name: str = Field(pattern=NAME)
    retriever: Literal["dense", "bm25", "hybrid"] = "hybrid"
    top_k: int = Field(4, ge=1, le=100)
    context_tokens: int = Field(512, ge=16, description="token budget for retrieved text in the prompt")
    shots: int = Field(0, ge=0, le=64)
    shot_seed: int = 0
    adapter_from: str | None = Field(None, description="a lora/qlora arm of this task: RAG on top of its tuned model")
    backend: Backend = Field(default_factory=HFBackend)


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
        if problems:
            raise ValueError("; ".join(problems))
        return self


class TunedArmSpec(Strict):
    """LoRA (or QLoRA: 4-bit NF4 base) fine-tuning with TRL's SFTTrainer; the sweep picks the hyperparameters."""

    type: Literal["lora", "qlora"]
    name: str = Field(pattern=NAME)
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

    def hyperparameters(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in TUNABLE}


ArmSpec = Annotated[Union[PromptedArmSpec, TunedArmSpec, RagArmSpec], Field(discriminator="type")]
ARM_TYPES = ("prompted", "lora", "qlora", "rag")


class CorpusSpec(Strict):
    """Documents for retrieval: a folder of .txt/.md files, or a JSONL of {id, text[, title]}."""

    path: str
    chunk_tokens: int = Field(200, ge=16, le=8192, description="chunk size in embedding-model tokens")
    overlap_tokens: int = Field(40, ge=0)
    embedding_model: str = "sentence-transformers/all-MiniLM-L6-v2"

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
    concurrency: int = Field(4, ge=1, le=64)

    _url = field_validator("base_url")(OpenAIBackend._url.__func__)
    _env = field_validator("api_key_env")(OpenAIBackend._env_name.__func__)
BACKEND_TYPES = ("hf", "openai")


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

    @model_validator(mode="after")
    def _cost_route(self) -> DecisionSpec:
        if (self.non_inferiority_margin is None) != (self.cost is None):
            missing = "cost" if self.cost is None else "non_inferiority_margin"
            raise ValueError(f"non_inferiority_margin and cost go together (GO on cost needs both); {missing} is missing")
        if self.expected_lift is not None and self.expected_lift <= self.min_lift:
            raise ValueError(f"expected_lift must exceed min_lift ({self.min_lift}), got {self.expected_lift}")
        return self


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
    metrics: list[str] = Field(min_length=1)
    arms: list[ArmSpec] = Field(min_length=1)
    decision: DecisionSpec

    @field_validator("version", mode="before")
    @classmethod
    def _version_text(cls, v: Any) -> Any:
        return str(v) if isinstance(v, (int, float)) else v

    @model_validator(mode="after")
    def _cross_checks(self) -> TaskSpec:
        problems = []
        for i, name in enumerate(self.metrics):
            if name not in METRICS:
                problems.append(f"metrics[{i}]: unknown metric {name!r}; {did_you_mean(name, list(METRICS))}")
            elif METRICS[name].automatic:
                problems.append(f"metrics[{i}]: {name!r} is computed automatically for arms with retrieval or a judge; "
                                f"do not list it")
            elif self.output.type not in METRICS[name].outputs:
                problems.append(f"metrics[{i}]: {name!r} does not apply to output type {self.output.type!r}")
        if len(set(self.metrics)) != len(self.metrics):
            problems.append(f"metrics: duplicates in {self.metrics}")
        if self.decision.primary_metric not in self.metrics:
            problems.append(f"decision.primary_metric: {self.decision.primary_metric!r} must be one of metrics {self.metrics}")
        names = [a.name for a in self.arms]
        dupes = sorted({n for n in names if names.count(n) > 1})
        if dupes:
            problems.append(f"arms: arm names must be unique, repeated: {dupes}")
        tuned = [a.name for a in self.arms if a.type in ("lora", "qlora")]
        for i, arm in enumerate(self.arms):
            if arm.type == "rag":
                if self.corpus is None:
                    problems.append(f"arms[{i}]: a rag arm needs a 'corpus' section")
                if arm.adapter_from is not None and arm.adapter_from not in tuned:
                    problems.append(f"arms[{i}].adapter_from: {arm.adapter_from!r} is not a lora/qlora arm of this task; "
                                    f"tuned arms: {tuned or 'none'}")
                elif arm.adapter_from is not None and names.index(arm.adapter_from) > i:
                    problems.append(f"arms[{i}].adapter_from: {arm.adapter_from!r} must be listed before this arm")
        profiles = {"full"} | set(self.profiles)
        if self.default_profile not in profiles:
            problems.append(f"default_profile: {self.default_profile!r} is not defined; {did_you_mean(self.default_profile, sorted(profiles))}")
        for pname, profile in self.profiles.items():
            for arm_name in profile.arms or []:
                if arm_name not in names:
                    problems.append(f"profiles.{pname}.arms: no arm {arm_name!r}; {did_you_mean(arm_name, names)}")
        if problems:
            raise ValueError("\n".join(problems))
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
        out = self.output
        return OutputShape(out.type, tuple(out.fields or ()), tuple(out.labels or ()))

    def arm(self, name: str) -> ArmSpec:
        for arm in self.arms:
            if arm.name == name:
                return arm
        raise KeyError(name)


# ---------------------------------------------------------------- loading


class _UniqueKeyLoader(yaml.SafeLoader):
    """safe_load that refuses a key given twice (plain YAML keeps the last one silently)."""


def _construct_mapping(loader: _UniqueKeyLoader, node: yaml.MappingNode, deep: bool = False) -> dict:
    seen: set = set()
    for key_node, _ in node.value:
        key = loader.construct_object(key_node, deep=deep)
        if key in seen:
            raise yaml.constructor.ConstructorError(None, None, f"key {key!r} is given twice", key_node.start_mark)
        seen.add(key)
    return loader.construct_mapping(node, deep=deep)


_UniqueKeyLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


class Task:
    """A validated spec plus where it came from (paths in it are relative to the file)."""

    def __init__(self, spec: TaskSpec, path: Path, raw: dict):
        self.spec = spec
        self.path = path
        self.raw = raw

    @property
    def base_dir(self) -> Path:
        return self.path.parent

    def resolve(self, relative: str) -> Path:
        p = Path(relative)
        return p if p.is_absolute() else (self.base_dir / p)

    @property
    def spec_json(self) -> str:
        return json.dumps(self.spec.model_dump(mode="json"), sort_keys=True)

    @property
    def spec_hash(self) -> str:
        return hashlib.sha256(self.spec_json.encode()).hexdigest()[:16]


def _line_of(root: yaml.Node | None, loc: tuple) -> int | None:
    """1-based line of the deepest YAML node on a pydantic error path."""
    node, line = root, (root.start_mark.line + 1 if root is not None else None)
    for part in loc:
        if isinstance(node, yaml.MappingNode):
            match = next((v for k, v in node.value if k.value == part), None)
            key = next((k for k, v in node.value if k.value == part), None)
            if match is None:
                break
            node, line = match, key.start_mark.line + 1
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int) and part < len(node.value):
            node = node.value[part]
            line = node.start_mark.line + 1
        # discriminator tags ('prompted') are not YAML keys: skip them
    return line


def _format_loc(loc: tuple, tags: set[str]) -> tuple[tuple, str]:
    parts: list = []
    for part in loc:
        if isinstance(part, str) and part in tags and parts and isinstance(parts[-1], int):
            continue
        if isinstance(part, str) and part.startswith("function-"):
            continue
        parts.append(part)
    text = ""
    for part in parts:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return tuple(parts), text or "(top level)"


def _allowed_keys(loc: tuple) -> list[str]:
    """Field names of the model at a path, for 'did you mean' on unknown keys."""
    model: Any = TaskSpec
    for part in loc:
        if isinstance(part, int):
            continue
        if isinstance(model, type) and issubclass(model, BaseModel) and part in model.model_fields:
            annotation = model.model_fields[part].annotation
            model = _first_model(annotation, None)
        else:
            model = _first_model(model, part)
    return list(model.model_fields) if isinstance(model, type) and issubclass(model, BaseModel) else []


def _first_model(annotation: Any, tag: str | None) -> Any:
    """Dig a BaseModel class out of Optional / list / Annotated / discriminated-union annotations."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    candidates = []
    for arg in getattr(annotation, "__args__", ()) + tuple(getattr(annotation, "__metadata__", ())):
        found = _first_model(arg, tag)
        if found is not None:
            candidates.append(found)
    if getattr(annotation, "__origin__", None) is Annotated:
        candidates.insert(0, _first_model(annotation.__origin__, tag))
    candidates = [c for c in candidates if c is not None]
    for c in candidates:
        type_field = c.model_fields.get("type") if isinstance(c, type) and issubclass(c, BaseModel) else None
        if tag is not None and type_field is not None and tag in getattr(type_field.annotation, "__args__", ()):
            return c
    return candidates[0] if candidates else None


def _describe(err: dict) -> str:
    msg = err["msg"]
    if err["type"] == "value_error":
        msg = msg.removeprefix("Value error, ")
    if err["type"] == "union_tag_invalid":
        tag = str(err.get("ctx", {}).get("tag"))
        kind, choices = ("backend", BACKEND_TYPES) if err["loc"][-1] == "backend" else ("arm", ARM_TYPES)
        return f"unknown {kind} type {tag!r}; {did_you_mean(tag, list(choices))}"
    if err["type"] in ("missing", "extra_forbidden", "union_tag_not_found") or "input" not in err:
        return msg
    value = err["input"]
    shown = repr(value) if not isinstance(value, (dict, list)) else type(value).__name__
    return f"{msg} (got {shown[:80]})"


def problems_from(err: ValidationError, file: str, root: yaml.Node | None) -> list[str]:
    tags = set(ARM_TYPES) | set(BACKEND_TYPES) | {"list[...]", "FloatRange", "literal['epoch']", "int"}
    lines = []
    for e in err.errors():
        loc, where = _format_loc(e["loc"], tags)
        if e["type"] in ("union_tag_invalid", "union_tag_not_found"):
            loc, where = loc + ("type",), where + ".type"
        line = _line_of(root, loc)
        prefix = f"{file}:{line}" if line else file
        if e["type"] == "extra_forbidden":
            key = str(loc[-1])
            parent = loc[:-1]
            _, parent_text = _format_loc(parent, tags)
            allowed = _allowed_keys(tuple(p for p in e["loc"][:-1]))
            hint = did_you_mean(key, allowed) if allowed else ""
            lines.append(f"{prefix}: {parent_text}: unknown key {key!r}" + (f"; {hint}" if hint else ""))
            continue
        if e["type"] == "value_error" and where == "(top level)":
            # cross-field checks name their own field path: point each at its line
            for part in e["msg"].removeprefix("Value error, ").split("\n"):
                path = tuple(int(x) if x.isdigit() else x for x in re.split(r"[.\[\]]+", part.split(":", 1)[0]) if x)
                lines.append(f"{file}:{_line_of(root, path) or line}: {part}")
            continue
        lines.append(f"{prefix}: {where}: {_describe(e)}")
    return lines


def load_spec(path: str | Path) -> Task:
    """Read and validate a task file; raise SpecError listing every problem."""
    path = Path(path)
    if not path.is_file():
        raise SpecError([f"{path}: task file not found"])
    text = path.read_text(encoding="utf-8")
    try:
        root = yaml.compose(text, Loader=_UniqueKeyLoader)
        raw = yaml.load(text, Loader=_UniqueKeyLoader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f"{path}:{mark.line + 1}:{mark.column + 1}" if mark else str(path)
        raise SpecError([f"{where}: invalid YAML: {exc.problem or exc.context}"]) from None
    if not isinstance(raw, dict):
        raise SpecError([f"{path}: expected a mapping of task settings at the top level, got {type(raw).__name__}"])
    try:
        spec = TaskSpec.model_validate(raw)
    except ValidationError as err:
        raise SpecError(problems_from(err, str(path), root)) from None
    return Task(spec, path, raw)
