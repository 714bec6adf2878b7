"""RAG arms: the top-k corpus chunks (dense, BM25 or hybrid) in the prompt, under a token budget.

    arms: [{name: rag, type: rag, retriever: hybrid, top_k: 4},
           {name: rag_lora, type: rag, adapter_from: lora}]    # RAG on top of the tuned model

Every prediction records the chunks it was given, so retrieval can be scored and read per example.
"""

from __future__ import annotations

from collections.abc import Sequence

from harness.arms import ArmBase, ArmContext, ArmOutput, register
from harness.arms.answering import agreement_details, answer, check_answering, describe_answering
from harness.data.examples import Item
from harness.errors import HarnessError
from harness.prompting.conversations import conversation, fixed_shots
from harness.records import Adapter, ChunkRef, Prediction
from harness.retrieval.retrievers import fit_context
from harness.spec import RagArmSpec


def query_text(item: Item) -> str:
    return "\n".join(m["content"] for m in item.messages if m["role"] == "user")


@register
class RagArm(ArmBase):
    types = ("rag",)
    spec_model = RagArmSpec
    spec: RagArmSpec

    @property
    def kind(self) -> str:
        return "rag-tuned" if self.spec.adapter_from else "rag"

    @property
    def trains(self) -> bool:
        return self.spec.adapter_from is not None

    @property
    def adapter_source(self) -> str | None:
        return self.spec.adapter_from

    def preflight(self, ctx: ArmContext) -> None:
        # the task's corpus is checked by the spec; the index is built after preflight, with the store open
        if self.spec.adapter_from and self.spec.adapter_from not in ctx.arm_names:
            raise HarnessError(f"arm {self.name!r} answers with the adapter of arm {self.spec.adapter_from!r}, "
                               f"which is not part of this run; add --arm {self.spec.adapter_from}")
        if self.spec.shots > len(ctx.train):
            raise HarnessError(f"arm {self.name!r}: {self.spec.shots} shots, but the train split has {len(ctx.train)} examples")
        ctx.generators.preflight(self.spec.backend)
        check_answering(self.spec, ctx.task.spec.output, self.spec.backend)

    def predict(self, items: Sequence[Item], ctx: ArmContext, adapter: Adapter | None = None) -> ArmOutput:
        spec = ctx.task.spec
        if self.spec.adapter_from and adapter is None:
            raise HarnessError(f"arm {self.name!r}: arm {self.spec.adapter_from!r} produced no adapter (it failed)")
        tokenizer = ctx.generators.tokenizer
        count = lambda text: len(tokenizer(text, add_special_tokens=False)["input_ids"])  # noqa: E731
        hits = ctx.retriever.search([query_text(i) for i in items], self.spec.retriever, self.spec.top_k)
        shots = fixed_shots(ctx.train, self.spec.shots, self.spec.shot_seed) if self.spec.shots else []
        tuned = self.spec.adapter_from is not None
        conversations, used_hits = [], []
        for item, item_hits in zip(items, hits):
            context, used, n_tokens = fit_context(item_hits, self.spec.context_tokens, count)
            conversations.append(conversation(item, spec.prompt, shots, with_instructions=not tuned, context=context))
            used_hits.append((used, n_tokens))
        generator = ctx.generators.get(self.spec.backend, adapter=adapter, seed=ctx.seed)
        details = {"retriever": self.spec.retriever, "top_k": self.spec.top_k, "index": ctx.retriever.description,
                   "generator": generator.description, "shot_ids": [s.id for s in shots]}
        answers = answer(generator, conversations, self.spec, spec.output, spec.generation.max_new_tokens,
                         ctx.tracker(f"{self.name}: answer", len(items)))
        details.update(describe_answering(self.spec, spec.output))
        details.update(agreement_details(self.spec.backend, generator, lambda: ctx.generators.get(adapter=adapter),
                                         conversations, answers, self.spec, spec.output, spec.generation.max_new_tokens,
                                         [item.id for item in items], ctx.seed))
        return ArmOutput([
            Prediction(item.id, conv, a.generation.text, a.generation.error, a.generation.latency_s,
                       a.generation.prompt_tokens, a.generation.output_tokens, {
                           "chunks": [ChunkRef(h.chunk.id, h.chunk.doc_id, h.score).to_dict() for h in used],
                           "context_tokens": n_tokens, **a.details,
                       })
            for item, conv, a, (used, n_tokens) in zip(items, conversations, answers, used_hits)
        ], details)
