"""Backends and arm settings of a task file; arm types are a registry (`ARM_SPECS`)."""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING, Annotated, Any, ClassVar, Literal, Union

from pydantic import Field, TypeAdapter, ValidationError, model_validator

from harness.errors import did_you_mean
from harness.spec.backends import Backend, HFBackend
from harness.spec.base import NAME, Seed, Strict

if TYPE_CHECKING:
    from harness.spec import TaskSpec


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

    backend: Backend = Field(default_factory=HFBackend, description="what answers for this arm (hf, vllm, openai)")

    def answer_problems(self, task: TaskSpec, index: int) -> list[str]:
        where = f"arms[{index}].answer"
        if self.answer == "choice" and task.output.type != "label":
            return [f"{where}: 'choice' picks one of the labels and needs output type 'label' "
                    f"(got {task.output.type!r}); use 'constrained' for JSON"]
        if self.answer == "constrained" and not task.output.constrainable:
            return [f"{where}: 'constrained' needs output type 'json' or 'label', or a text task with output.regex"]
        return self.backend.problems(self.answering_needs(task), f"arms[{index}].backend", f"answer: {self.answer}")

    def answering_needs(self, task: TaskSpec) -> list[str]:
        """The capabilities answering in this mode takes from the backend."""
        if self.answer == "choice":
            return ["loglikelihood"]
        if self.answer == "constrained":
            return [f"constrained:{task.output.constraint_kind}"]
        return ["generate"]


class PromptedArmSpec(ArmSpecBase, AnswerSettings):
    """Zero- or k-shot prompting; shots come from the train split only."""

    type: Literal["prompted"]
    shots: int = Field(0, ge=0, le=64)
    shot_seed: Seed = 0
    shot_selection: Literal["fixed", "similar"] = Field(
        "fixed", description="fixed: the same seeded shots for every item; similar: the k most similar train items"
    )
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

    def cross_check(self, task: TaskSpec, index: int) -> list[str]:
        problems = self.answer_problems(task, index)
        if task.corpus is None:
            problems.append(f"arms[{index}]: a rag arm needs a 'corpus' section")
        if self.adapter_from is None:
            return problems
        problems += self.backend.problems(["adapters"], f"arms[{index}].backend",
                                          f"adapter_from (it answers with {self.adapter_from}'s adapter)")
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


# How often a sweep trial is scored on validation (and may be pruned): at each epoch's end, or every N optimizer steps
EvalEvery = Literal["epoch"] | Annotated[int, Field(ge=1)]


class SweepSpec(Strict):
    """Optuna search over the arm's hyperparameters, scored by generation on the validation split."""

    trials: int = Field(4, ge=1, le=10000)
    seed: Seed = 0
    pruner: Literal["median", "wilcoxon", "none"] = "median"
    startup_trials: int = Field(1, ge=0, description="trials that are never pruned (median pruner)")
    eval_every: EvalEvery = Field("epoch", description="'epoch', or a number of optimizer steps")
    validation_limit: int | None = Field(None, ge=1, description="score trials on a seeded subset of validation")
    space: dict[str, SearchDimension] = Field(default_factory=dict)
    enqueue: list[dict[str, Any]] = Field(default_factory=list, description="points to try first")

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


DEFAULT_CURVE_FRACTIONS = (0.125, 0.25, 0.5, 1.0)


class CurveSpec(Strict):
    """A learning curve of a tuned arm: nested, seeded subsets of the examples it trains on, each trained with the
    best trial's hyperparameters and scored on the test items every arm answers. The full size is always a point
    (the arm's own result)."""

    fractions: list[float] | None = Field(None, description="shares of the arm's training examples, each in (0, 1]; "
                                                            "default 1/8, 1/4, 1/2, 1")
    sizes: list[int] | None = Field(None, description="numbers of training examples instead of fractions")
    seeds: int = Field(1, ge=1, le=10, description="points per size, each on its own seeded subset and training seed")
    steps: Literal["fixed", "proportional"] = Field(
        "fixed", description="fixed: every point takes the full size's optimizer steps (capped at max_epochs passes "
                             "over its subset); proportional: the full size's epochs, so steps shrink with the subset")
    max_epochs: int = Field(16, ge=1, le=1000, description="with steps: fixed, the most passes over a small subset")
    resamples: int = Field(1000, ge=200, le=20000, description="bootstrap resamples of the fit")

    @model_validator(mode="after")
    def _one_way(self) -> CurveSpec:
        if self.fractions is not None and self.sizes is not None:
            raise ValueError("give either fractions or sizes, not both")
        if self.fractions is not None:
            bad = [f for f in self.fractions if not 0 < f <= 1]
            if bad or not self.fractions:
                raise ValueError(f"fractions must be in (0, 1], got {self.fractions}")
        if self.sizes is not None and (not self.sizes or min(self.sizes) < 1):
            raise ValueError(f"sizes must be whole numbers of at least 1, got {self.sizes}")
        return self

    def wanted(self, available: int) -> list[int]:
        """The training sizes of the points, smallest first, the full size included."""
        if self.sizes is not None:
            chosen = set(self.sizes)
        else:
            chosen = {max(1, round(f * available)) for f in (self.fractions or DEFAULT_CURVE_FRACTIONS)}
        return sorted(chosen | {available})


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
    curve: CurveSpec | None = Field(None, description="a learning curve on every run of this arm (a profile's curve: "
                                                      "false turns it off)")

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
        if self.adapter is not None and self.curve is not None:
            raise ValueError("a learning curve trains subsets with the sweep's hyperparameters; an arm with 'adapter' "
                             "has neither: remove 'curve'")
        return self

    def cross_check(self, task: TaskSpec, index: int) -> list[str]:
        where = f"arms[{index}].backend"
        problems = self.answer_problems(task, index)
        problems += self.backend.problems(["adapters"], where, f"a {self.type} arm (it answers with its adapter)")
        if self.merge:
            problems += self.backend.problems(["merged"], where, "merge: true (set merge: false)")
        ranks = [self.r] + [int(r) for r in (self.sweep.space.get("r", []) if self.sweep else [])
                            if isinstance(r, (int, float)) and not isinstance(r, bool)]
        swept_r = self.sweep.space.get("r") if self.sweep is not None else None
        if isinstance(swept_r, FloatRange):
            ranks.append(int(swept_r.high))
        most = getattr(self.backend, "max_lora_rank", None)
        if most is not None and max(ranks) > most:
            problems.append(f"{where}.max_lora_rank: {most} is below this arm's largest adapter rank r={max(ranks)}")
        return problems

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
