"""Arms: ways of answering the held-out items. Each is a small class behind the `Arm` protocol.

An arm's `predict` gets `Item`s (no targets) for the split being scored, and an `ArmContext` that
holds only the train and validation splits, so the test answers cannot reach it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from harness.data import Example, Item
from harness.errors import HarnessError, did_you_mean
from harness.processes import raise_if_stopping
from harness.spec import ProfileSpec, Task


@dataclass
class Prediction:
    example_id: str
    prompt: list[dict]
    output: str
    error: str | None
    latency_s: float
    prompt_tokens: int | None
    output_tokens: int | None
    details: dict = field(default_factory=dict)


@dataclass
class Companion:
    """An extra set of test predictions an arm produces on the way (e.g. its adapter merged into the base)."""

    name: str
    type: str
    config: dict
    predictions: list[Prediction]
    details: dict = field(default_factory=dict)


def _ignore_trial(row: dict) -> None:
    return None


@dataclass
class ArmContext:
    task: Task
    train: list[Example]
    validation: list[Example]
    models: Any  # harness.arms.pool.ModelPool
    progress: Any  # a rich Progress (disabled in quiet mode)
    workdir: Path  # this run's folder: experiments/<task>/<run_id>
    seed: int = 0
    profile: ProfileSpec = field(default_factory=ProfileSpec)
    storage: str | None = None  # Optuna storage URL; default a SQLite file beside the runs
    log_trial: Callable[[dict], None] = _ignore_trial
    adapters: dict[str, str] = field(default_factory=dict)  # tuned arm name -> its best adapter folder
    retriever: Any = None  # harness.retrieval.Retriever over the task's corpus, if it has one
    arm_names: list[str] = field(default_factory=list)  # the arms of this run
    embedder: Any = None  # harness.embeddings.Embedder, loaded on first use (similar shots)

    def tracker(self, description: str, total: int) -> Callable[[int], None]:
        task_id = self.progress.add_task(description, total=total)

        def advance(n: int) -> None:
            raise_if_stopping()  # every batch and trial passes here: a safe point to stop at
            self.progress.advance(task_id, n)

        return advance


class Arm(Protocol):
    name: str

    def preflight(self, ctx: ArmContext) -> None:
        """Raise HarnessError for anything that would make the arm fail (missing key, bad setting)."""

    def predict(self, items: Sequence[Item], ctx: ArmContext) -> list[Prediction]:
        ...

    def describe(self) -> dict:
        """Settings that, with the base model and data, determine this arm's outputs."""


def build_arm(spec: Any) -> Arm:
    from harness.arms.finetune import TunedArm
    from harness.arms.prompted import PromptedArm
    from harness.arms.rag import RagArm

    classes: dict[str, type] = {"prompted": PromptedArm, "lora": TunedArm, "qlora": TunedArm, "rag": RagArm}
    if spec.type not in classes:
        raise HarnessError(f"arm {spec.name!r}: unknown arm type {spec.type!r}; {did_you_mean(spec.type, list(classes))}")
    return classes[spec.type](spec)
