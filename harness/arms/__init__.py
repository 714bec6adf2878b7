"""Arms: ways of answering the held-out items, each a small class behind one contract.

An arm class declares what it is (`types`: the YAML type names it handles, `spec_model`: its settings,
`trains`: whether its answers come from a tuned model) and `predict` returns an `ArmOutput`: the
predictions, details, companion arms and the adapter it produced. A later arm that answers with an
earlier arm's adapter names it in `adapter_source` and is handed it; nothing passes through shared state.
An arm that trains does it in `prepare`, before the test items exist for it.

`predict` gets `Item`s (no targets) for the split being scored, and an `ArmContext` that holds only the
train and validation splits, so the test answers cannot reach it. A new arm type is one module:

    @register
    class MyArm(ArmBase): types = ("mine",); spec_model = MySpec; ...
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

from harness.data.examples import Example, Item
from harness.processes import raise_if_stopping
from harness.records import Adapter, Prediction, Trial
from harness.spec import ArmSpecBase, ProfileSpec, Task, register_arm_spec


@dataclass
class Companion:
    """An extra set of test predictions an arm produces on the way (e.g. its adapter merged into the base)."""

    name: str
    kind: str
    config: dict
    predictions: list[Prediction]
    details: dict = field(default_factory=dict)
    adapter: Adapter | None = None  # the model it answered with: this adapter ...
    merged_dir: str | None = None  # ... merged into the base weights saved here


@dataclass
class ArmOutput:
    """What an arm made: its test predictions, details for the report, companion arms, its adapter."""

    predictions: list[Prediction]
    details: dict = field(default_factory=dict)
    companions: list[Companion] = field(default_factory=list)
    adapter: Adapter | None = None


def _ignore_trial(trial: Trial) -> None:
    return None


@dataclass(frozen=True)
class ArmContext:
    task: Task
    train: list[Example]
    validation: list[Example]
    generators: Any  # harness.backends.pool.Generators: the pool that loads each model once and hands out generators
    progress: Any  # a rich Progress (disabled in quiet mode)
    workdir: Path  # this run's folder: experiments/<task>/<run_id>
    seed: int = 0
    profile: ProfileSpec = field(default_factory=ProfileSpec)
    storage: str | None = None  # Optuna storage URL; default a SQLite file beside the runs
    log_trial: Callable[[Trial], None] = _ignore_trial
    retriever: Any = None  # harness.retrieval.retrievers.Retriever over the task's corpus, if it has one
    arm_names: tuple[str, ...] = ()  # the arms of this run
    embedder: Any = None  # harness.models.embeddings.Embedder, loaded on first use (similar shots)
    # a trial's model (a generator over it) -> its general accuracy minus the base model's, on the arm's backend
    forgetting_probe: Callable[[Any, Any], float] | None = None

    def tracker(self, description: str, total: int) -> Callable[[int], None]:
        task_id = self.progress.add_task(description, total=total)

        def advance(n: int) -> None:
            raise_if_stopping()  # every batch and trial passes here: a safe point to stop at
            self.progress.advance(task_id, n)

        return advance


class ArmBase:
    """The contract. Subclasses set `types` and `spec_model` and implement `predict`."""

    types: ClassVar[tuple[str, ...]] = ()
    spec_model: ClassVar[type[ArmSpecBase]]

    def __init__(self, spec: Any):
        self.spec = spec
        self.name: str = spec.name

    @property
    def kind(self) -> str:
        """The type recorded for this arm (its YAML type unless the arm says more)."""
        return self.spec.type

    @property
    def trains(self) -> bool:
        """Whether this arm's answers come from a model tuned on the task: a candidate, not a baseline."""
        return self.spec_model.produces_adapter

    @property
    def backend(self) -> Any:
        """The backend settings that answer for this arm (harness.spec.backends), None for the default (hf)."""
        return getattr(self.spec, "backend", None)

    @property
    def adapter_source(self) -> str | None:
        """The earlier arm whose adapter this arm answers with, if any."""
        return None

    def describe(self) -> dict:
        """Settings that, with the base model and data, determine this arm's outputs."""
        return self.spec.model_dump(mode="json")

    def preflight(self, ctx: ArmContext) -> None:
        """Raise HarnessError for anything that would make the arm fail (missing key, bad setting)."""

    def prepare(self, ctx: ArmContext) -> Adapter | None:
        """Work before the test split is read (a sweep on train and validation); the adapter it produced."""
        return None

    def predict(self, items: Sequence[Item], ctx: ArmContext, adapter: Adapter | None = None) -> ArmOutput:
        """Answer the items, with `adapter`: this arm's own from `prepare`, or its `adapter_source`'s."""
        raise NotImplementedError

    def curve(self, ctx: ArmContext) -> Any:
        """This run's learning curve of the arm (a `harness.tuning.curve.LearningCurve`, after `prepare`), or None:
        only an arm that trains has one, and only when the arm or the profile asks."""
        return None


ARMS: dict[str, type[ArmBase]] = {}


def register(cls: type[ArmBase]) -> type[ArmBase]:
    """Make an arm class answer to its YAML type names, in task files and in runs."""
    register_arm_spec(cls.spec_model)
    for name in cls.types:
        ARMS[name] = cls
    return cls
