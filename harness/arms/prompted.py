"""Zero- and k-shot prompting of the base model (or of any OpenAI-compatible endpoint).

    arms: [{name: few_shot, type: prompted, shots: 3}]
"""

from __future__ import annotations

from collections.abc import Sequence

from harness.arms import ArmContext, Prediction
from harness.data import Item
from harness.errors import HarnessError
from harness.prompts import conversation, fixed_shots
from harness.spec import OpenAIBackend, PromptedArmSpec


class PromptedArm:
    def __init__(self, spec: PromptedArmSpec):
        self.spec = spec
        self.name = spec.name
        self.details: dict = {}

    def describe(self) -> dict:
        return self.spec.model_dump(mode="json")

    def preflight(self, ctx: ArmContext) -> None:
        if self.spec.shots > len(ctx.train):
            raise HarnessError(f"arm {self.name!r}: {self.spec.shots} shots, but the train split has {len(ctx.train)} examples")
        if isinstance(self.spec.backend, OpenAIBackend):
            ctx.models.generator(self.spec.backend)  # fails now, not mid-run, if the key variable is unset

    def predict(self, items: Sequence[Item], ctx: ArmContext) -> list[Prediction]:
        shots = fixed_shots(ctx.train, self.spec.shots, self.spec.shot_seed)
        self.details = {"shot_ids": [s.id for s in shots]}
        generator = ctx.models.generator(self.spec.backend, seed=ctx.seed)
        self.details["generator"] = generator.description
        prompt = ctx.task.spec.prompt
        conversations = [conversation(item, prompt, shots) for item in items]
        if not conversations:
            raise HarnessError(f"arm {self.name!r}: nothing to predict")
        outputs = generator.generate(
            conversations, ctx.task.spec.generation.max_new_tokens, ctx.tracker(f"{self.name}: generate", len(items))
        )
        return [
            Prediction(item.id, conv, g.text, g.error, g.latency_s, g.prompt_tokens, g.output_tokens)
            for item, conv, g in zip(items, conversations, outputs)
        ]
