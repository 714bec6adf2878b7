"""Backends and arm settings of a task file; arm types are a registry (`ARM_SPECS`)."""

from __future__ import annotations

import functools
import re
from typing import TYPE_CHECKING, Annotated, Any, ClassVar, Literal, Union
from urllib.parse import urlsplit

from pydantic import Field, TypeAdapter, ValidationError, field_validator, model_validator

from harness.errors import did_you_mean
from harness.spec.base import NAME, Seed, Strict

if TYPE_CHECKING:
    from harness.spec import TaskSpec


class HFBackend(Strict):
    """The task's base model, run locally with transformers."""

    type: Literal["hf"] = "hf"


class OpenAIBackend(Strict):
    """Any OpenAI-compatible chat endpoint (OpenAI, vLLM, llama.cpp server, ...)."""

    type: Literal["openai"]
    base_url: str
    model: str
    api_key_env: str | None = Field(None, description="name of the environment variable holding the API key; it goes "
                                                      "only to a host the user allowed (--allow-key VAR@HOST)")
    concurrency: int = Field(4, ge=1, le=256)
    timeout_s: float = Field(60.0, gt=0, le=3600, description="seconds one request may take before it is tried again")
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
        if not re.match(r"^https?://[^\s/?#]+", v, re.IGNORECASE):
            raise ValueError("must be an http(s) URL, such as http://127.0.0.1:8000/v1")
        if "?" in v or "#" in v:  # the client would send /v1?x=1/chat/completions: every request a 404
            raise ValueError("must end at the server's path (such as /v1): the client appends /chat/completions, "
                             "so a query or fragment cannot be part of it")
        return v

    @model_validator(mode="after")
    def _one_credential(self) -> Any:
        return one_credential(self)

    @field_validator("api_key_env")
    @classmethod
    def _env_name(cls, v: str | None) -> str | None:
        if v is not None and not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", v):
            raise ValueError("must be the NAME of an environment variable that holds the key, e.g. OPENAI_API_KEY "
                             "(the key itself never goes in a task file)")
        return v


def one_credential(endpoint: Any) -> Any:
    """A password in base_url goes as `Authorization: Basic`, an API key as `Authorization: Bearer`: one header,
    one credential. Both given, one would be dropped without a word (the SDK sends the URL's), so neither wins."""
    if endpoint.api_key_env is not None and urlsplit(endpoint.base_url).password:
        raise ValueError("base_url holds a password and api_key_env names a key: both would go in the one "
                         "Authorization header, so the key would never be sent; keep one of them")
    return endpoint


Backend = Annotated[HFBackend | OpenAIBackend, Field(discriminator="type")]


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
    shot_seed: Seed = 0
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
    shot_seed: Seed = 0
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


SearchDimension = FloatRange | list[float | int | str | bool | list[str]]

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
    seed: Seed = 0
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


@functools.cache
def _field_adapter(model: type[Strict], name: str) -> TypeAdapter:
    field = model.model_fields[name]
    annotation: Any = field.annotation
    return TypeAdapter(Annotated[annotation, *field.metadata] if field.metadata else annotation)


def _field_refusal(model: type[Strict], name: str, value: Any) -> str | None:
    """Why `value` is not a valid setting of field `name` of `model` (None: it is)."""
    try:
        _field_adapter(model, name).validate_python(value)
    except ValidationError as exc:
        return exc.errors()[0]["msg"].lower()
    return None


class TunedArmSpec(ArmSpecBase, AnswerSettings):
    """LoRA (or QLoRA: 4-bit NF4 base) fine-tuning with TRL's SFTTrainer; the sweep picks the hyperparameters."""

    produces_adapter: ClassVar[bool] = True
    type: Literal["lora", "qlora"]
    learning_rate: float = Field(2e-4, gt=0, lt=1)
    r: int = Field(8, ge=1, le=1024)
    alpha: int = Field(16, ge=1)
    dropout: float = Field(0.05, ge=0, lt=1)
    target_modules: Literal["all-linear"] | list[str] = "all-linear"
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
    def _space_within_limits(self) -> TunedArmSpec:
        """Every point a sweep may try is a setting the arm itself accepts (dropout below 1, r at least 1, ...):
        otherwise the trial that draws it fails only after the model loads."""
        problems = []
        for name, dim in (self.sweep.space.items() if self.sweep else ()):
            if name not in TUNABLE:
                continue
            values = [dim.low, dim.high] if isinstance(dim, FloatRange) else list(dim)
            for value in values:
                refusal = _field_refusal(type(self), name, value)
                if refusal:
                    problems.append(f"sweep.space.{name}: {value!r} is not a value of {name}: {refusal}")
                    break
        if problems:
            raise ValueError("; ".join(problems))
        return self

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
    return Annotated[Union[tuple(dict.fromkeys(ARM_SPECS.values()))], Field(discriminator="type")]  # noqa: UP007


if TYPE_CHECKING:  # a union built at run time from the registry: a checker cannot know its members
    ArmSpec = Any
else:
    ArmSpec = _arm_union()


def arm_types() -> tuple[str, ...]:
    return tuple(ARM_SPECS)
