"""Zero- and k-shot prompting of the base model (or of any OpenAI-compatible endpoint).

    arms: [{name: few_shot, type: prompted, shots: 3}]
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from harness.arms import ArmBase, ArmContext, ArmOutput, register
from harness.arms.answering import agreement_details, answer, check_answering, describe_answering
from harness.data.examples import Example, Item
from harness.errors import HarnessError
from harness.prompting.conversations import conversation, fixed_shots
from harness.records import Adapter, Prediction
from harness.spec import PromptedArmSpec


@register
class PromptedArm(ArmBase):
    types = ("prompted",)
    spec_model = PromptedArmSpec
    spec: PromptedArmSpec

    def preflight(self, ctx: ArmContext) -> None:
        if self.spec.shots > len(ctx.train):
            raise HarnessError(f"arm {self.name!r}: {self.spec.shots} shots, but the train split has {len(ctx.train)} examples")
        ctx.generators.preflight(self.spec.backend)  # a missing key or environment fails now, not mid-run
        check_answering(self.spec, ctx.task.spec.output, self.spec.backend)

    def _shots(self, items: Sequence[Item], ctx: ArmContext) -> tuple[list[list[Example]], dict]:
        """(shots per item, details): the same seeded draw for all, or each item's most similar train examples."""
        if self.spec.shot_selection == "fixed":
            shots = fixed_shots(ctx.train, self.spec.shots, self.spec.shot_seed)
            return [shots] * len(items), {"shot_selection": "fixed", "shot_ids": [s.id for s in shots]}
        train_vectors = ctx.embedder.encode([ex.input_text for ex in ctx.train])
        item_vectors = ctx.embedder.encode(["\n".join(m["content"] for m in i.messages if m["role"] == "user") for i in items])
        similarity = item_vectors @ train_vectors.T
        chosen = []
        for row in similarity:
            best = np.argsort(-row, kind="stable")[: self.spec.shots]
            # most similar last, nearest to the question
            chosen.append([ctx.train[j] for j in best[::-1]])
        return chosen, {"shot_selection": "similar", "embedding_model": ctx.embedder.resolved.id}

    def predict(self, items: Sequence[Item], ctx: ArmContext, adapter: Adapter | None = None) -> ArmOutput:
        if not items:
            raise HarnessError(f"arm {self.name!r}: nothing to predict")
        per_item, details = self._shots(items, ctx)
        generator = ctx.generators.get(self.spec.backend, seed=ctx.seed)
        details["generator"] = generator.description
        prompt = ctx.task.spec.prompt
        conversations = [conversation(item, prompt, shots) for item, shots in zip(items, per_item)]
        answers = answer(generator, conversations, self.spec, ctx.task.spec.output, ctx.task.spec.generation.max_new_tokens,
                         ctx.tracker(f"{self.name}: answer", len(items)))
        details.update(describe_answering(self.spec, ctx.task.spec.output))
        details.update(agreement_details(self.spec.backend, generator, lambda: ctx.generators.get(), conversations, answers,
                                         self.spec, ctx.task.spec.output, ctx.task.spec.generation.max_new_tokens,
                                         [item.id for item in items], ctx.seed))
        similar = self.spec.shot_selection == "similar"
        return ArmOutput([
            Prediction(item.id, conv, a.generation.text, a.generation.error, a.generation.latency_s,
                       a.generation.prompt_tokens, a.generation.output_tokens,
                       {**({"shot_ids": [s.id for s in shots]} if similar else {}), **a.details})
            for item, conv, a, shots in zip(items, conversations, answers, per_item)
        ], details)
