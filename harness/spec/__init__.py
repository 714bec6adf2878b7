"""The schema of a task file: `harness validate tasks/contracts.yaml` checks one without loading a model.

Every model rejects unknown keys. Reading a file and reporting its mistakes line by line is
`harness.spec.taskfile`'s job; this module only says what a valid task is. Arm types are a registry:
an arm module registers its settings model (`register_arm_spec`) and the task schema accepts it.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, ValidationInfo, field_validator, model_validator
from pydantic.fields import FieldInfo

from harness.errors import did_you_mean
from harness.metrics import hf_evaluate
from harness.metrics.builtin import BUILT_IN, METRICS, OutputShape, register_metric
from harness.redact import redacted
from harness.spec.arms import (  # noqa: F401
    ARM_SPECS,
    TUNABLE,
    AnswerSettings,
    ArmSpec,
    ArmSpecBase,
    CurveSpec,
    EvalEvery,
    FloatRange,
    PromptedArmSpec,
    RagArmSpec,
    SearchDimension,
    SweepSpec,
    TunedArmSpec,
    _arm_union,
    arm_types,
)
from harness.spec.backends import (  # noqa: F401
    BACKEND_SPECS,
    VLLM_LORA_RANKS,
    Backend,
    BackendSpecBase,
    Capabilities,
    EndpointSettings,
    HFBackend,
    OpenAIBackend,
    VLLMBackend,
    backend_types,
    backend_union,
    endpoint_url,
    one_credential,
)
from harness.spec.base import (  # noqa: F401
    DEFAULT_BASE_MODEL,
    DEFAULT_EMBEDDING_MODEL,
    NAME,
    NoCredentials,
    Seed,
    Strict,
    no_credentials,
)
from harness.spec.data import (  # noqa: F401  (the schema is read as one: harness.spec)
    FILTER_OPS,
    SPLIT_NAMES,
    DatasetColumns,
    DatasetSpec,
    DataSpec,
    FieldMap,
    OutputSpec,
    RowFilter,
    SplitRule,
)
from harness.spec.decision import CostSpec, DecisionSpec  # noqa: F401  (the schema is read as one: harness.spec)
from harness.spec.metrics import EvaluateMetricSpec, MetricEntry, declare_stored
from harness.spec.regression import RegressionSpec, SuiteSizes  # noqa: F401  (the schema is read as one: harness.spec)
from harness.spec.trust import Trust


class PromptSpec(Strict):
    system: str = Field("", description="short system prompt, used by every arm")
    instructions: str = Field("", description="task instructions for prompted and RAG arms; tuned arms learn them")


class ModelSpec(Strict):
    base: NoCredentials = DEFAULT_BASE_MODEL
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
    embedding_model: NoCredentials = DEFAULT_EMBEDDING_MODEL
    leakage: Literal["error", "warning"] = Field("error", description="severity of test/validation items found in train")
    short_output_ratio: float = Field(0.25, ge=0.0, lt=1.0, description="flag targets shorter than this x the median")


class CorpusSpec(Strict):
    """Documents for retrieval: a folder of .txt/.md files, or a JSONL of {id, text[, title]}."""

    path: str = Field(min_length=1, description="a folder of .txt/.md files or a .jsonl file, relative to the task file")
    chunk_tokens: int = Field(200, ge=16, le=8192, description="chunk size in embedding-model tokens")
    overlap_tokens: int = Field(40, ge=0)
    embedding_model: NoCredentials = DEFAULT_EMBEDDING_MODEL

    @model_validator(mode="after")
    def _overlap(self) -> CorpusSpec:
        if self.overlap_tokens >= self.chunk_tokens:
            raise ValueError(f"overlap_tokens must be smaller than chunk_tokens, got {self.overlap_tokens} >= {self.chunk_tokens}")
        return self


class JudgeSpec(EndpointSettings):
    """An LLM judge behind any OpenAI-compatible endpoint, for ragas faithfulness / answer relevancy."""

    base_url: str
    model: str
    retries: int = Field(2, ge=0, le=10, description="retries of a judgment that fails to parse or times out")
    concurrency: int = Field(4, ge=1, le=64)

    @field_validator("base_url")
    @classmethod
    def _url(cls, v: str) -> str:
        return endpoint_url(v)

    def secret_env(self) -> tuple[str, str] | None:
        return (self.api_key_env, self.base_url) if self.api_key_env else None


class ProfileSpec(Strict):
    """Run-size trade-offs: limits per split and sweep size, chosen with --profile."""

    test_limit: int | None = Field(None, ge=1)
    validation_limit: int | None = Field(None, ge=1)
    train_limit: int | None = Field(None, ge=1)
    trials: int | None = Field(None, ge=1, description="overrides every sweep's trial count")
    eval_every: EvalEvery | None = Field(
        None, description="overrides every sweep's eval_every: how often a trial is scored on validation, "
        "'epoch' or every N optimizer steps; a trial can be pruned at each score")
    epochs: int | None = Field(None, ge=1, description="caps every tuned arm's epochs (searched ones too)")
    batch_size: int | None = Field(None, ge=1, description="overrides every tuned arm's batch size (more steps on little data)")
    merge: bool | None = Field(None, description="overrides every tuned arm's merge setting")
    arms: list[str] | None = Field(None, description="run only these arms")
    regression: SuiteSizes | None = Field(None, description="sizes of the general-capability suite")
    curve: CurveSpec | bool | None = Field(
        None, description="learning curves of the tuned arms: true (each arm's own settings, or the defaults), "
                          "settings for every tuned arm, or false (none, even where an arm asks)")

    def apply(self, hp: dict[str, Any]) -> dict[str, Any]:
        """A trial's hyperparameters under this profile's caps and overrides."""
        hp = dict(hp)
        if self.epochs is not None:
            hp["epochs"] = min(int(hp["epochs"]), self.epochs)
        if self.batch_size is not None:
            hp["batch_size"] = self.batch_size
        return hp


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
        stored = bool((info.context or {}).get("stored")) if info is not None else False
        declared = []
        for i, name in enumerate(self.metrics):
            if isinstance(name, EvaluateMetricSpec) and stored:
                continue  # a stored run's module may be gone: declare_stored made the metric known by name
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
        if self.regression is not None:
            merged = any(getattr(a, "merge", False) for a in self.arms if a.produces_adapter)
            problems += self.regression.backend.problems(self.regression.needs(merged), "regression.backend",
                                                         "the regression suite")
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
            register_metric(hf_evaluate.build(d))
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

    def read_paths(self, base_dir: Path) -> list[tuple[tuple, Path]]:
        """(field path, file or folder) of everything local whose content becomes prompts, which an endpoint is sent
        and the report shows: data files, a local dataset, the corpus. Models and adapters are weights (safetensors
        only), evaluate scripts and lm-eval task folders are code and configuration the run executes locally: none
        is sent anywhere, and they are not listed."""
        def at(relative: str) -> Path:
            path = Path(relative).expanduser()
            return path if path.is_absolute() else base_dir / path

        found = [(("data", key), at(getattr(self.data, key))) for key in ("train", "validation", "test", "file")
                 if getattr(self.data, key)]
        if self.data.dataset is not None and (local := self.data.dataset.local_path(base_dir)) is not None:
            found.append((("data", "dataset", "path"), local))
        if self.corpus is not None:
            found.append((("corpus", "path"), at(self.corpus.path)))
        return found

    def arm(self, name: str) -> ArmSpec:
        for arm in self.arms:
            if arm.name == name:
                return arm
        raise KeyError(name)


def stored_spec(spec_json: str) -> TaskSpec:
    """The task spec a run stored (its JSON), validated again: its evaluate metrics are made known by name
    (declare_stored) instead of loaded from a module that may have moved since."""
    raw = json.loads(spec_json)
    declare_stored(raw.get("metrics", []))
    return TaskSpec.model_validate(raw, context={"stored": True})


def register_arm_spec(model: type[ArmSpecBase]) -> None:
    """Accept a new arm type in task files: its settings model, discriminated by its `type` Literal."""
    for name in model.model_fields["type"].annotation.__args__:
        ARM_SPECS[name] = model
    TaskSpec.model_fields["arms"] = FieldInfo.from_annotated_attribute(list[_arm_union()], Field(min_length=1))
    TaskSpec.model_rebuild(force=True)


def register_backend_spec(model: type[BackendSpecBase]) -> None:
    """Accept a new backend type in task files (a plugin's settings model, discriminated by its `type` Literal):
    every settings model with a `backend` field takes it, and so the task schema."""
    for name in model.model_fields["type"].annotation.__args__:
        BACKEND_SPECS[name] = model
    union = backend_union()
    for owner in dict.fromkeys([*ARM_SPECS.values(), RegressionSpec]):
        if "backend" in owner.model_fields:
            info = owner.model_fields["backend"]
            owner.model_fields["backend"] = FieldInfo.from_annotated_attribute(
                union, Field(default_factory=HFBackend, description=info.description))
            owner.model_rebuild(force=True)
    TaskSpec.model_fields["arms"] = FieldInfo.from_annotated_attribute(list[_arm_union()], Field(min_length=1))
    TaskSpec.model_rebuild(force=True)


class Task:
    """A validated spec plus where it came from (paths in it are relative to the file) and what its user allowed it
    to reach outside its folder (`harness.spec.trust`)."""

    def __init__(self, spec: TaskSpec, path: Path, raw: dict, trust: Trust | None = None):
        self.spec = spec
        self.path = path
        self.raw = raw
        self.trust = trust or Trust()

    @property
    def base_dir(self) -> Path:
        return self.path.parent

    def with_base(self, ref: str) -> Task:
        """The same task on another base model (`harness run --base`): an upgrade is one command."""
        spec = self.spec.model_copy(update={"model": self.spec.model.model_copy(update={"base": ref})})
        return Task(spec, self.path, self.raw, self.trust)

    def outside(self, path: Path) -> str | None:
        """Why the task may not read `path` (None: it may): it lies outside the task's folder and every folder its
        user allowed (harness.spec.trust)."""
        return self.trust.path_refusal(self.base_dir, path)

    def with_backend(self, type_name: str) -> Task:
        """The same task with every model-running arm and the suite on this backend, with its default settings
        (`harness run --backend vllm`); arms that name another backend keep it. Checked again as a whole, so a
        request the backend cannot serve fails here, naming the capability."""
        from pydantic import ValidationError

        from harness.errors import HarnessError

        if type_name not in BACKEND_SPECS:
            raise HarnessError(f"--backend {type_name!r}: {did_you_mean(type_name, list(BACKEND_SPECS))}")
        default = HFBackend().model_dump(mode="json")
        chosen = {"type": type_name}
        data = self.spec.model_dump(mode="json", exclude_none=False)
        for section in data["arms"] + ([data["regression"]] if data.get("regression") else []):
            if section.get("backend") == default:
                section["backend"] = chosen
        try:
            spec = TaskSpec.model_validate(data, context={"base_dir": self.base_dir})
        except ValidationError as exc:
            first = exc.errors()[0]
            raise HarnessError(f"--backend {type_name}: {first['msg'].removeprefix('Value error, ')}") from None
        return Task(spec, self.path, self.raw, self.trust)

    def resolve(self, relative: str) -> Path:
        p = Path(relative)
        return p if p.is_absolute() else (self.base_dir / p)

    @property
    def spec_json(self) -> str:
        return json.dumps(redacted(self.spec.model_dump(mode="json")), sort_keys=True)

    @property
    def spec_hash(self) -> str:
        return hashlib.sha256(self.spec_json.encode()).hexdigest()[:16]


