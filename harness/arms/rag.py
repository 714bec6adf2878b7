"""RAG arms: the top-k corpus chunks (dense, BM25 or hybrid) in the prompt, under a token budget.

    arms: [{name: rag, type: rag, retriever: hybrid, top_k: 4},
           {name: rag_lora, type: rag, adapter_from: lora}]    # RAG on top of the tuned model

Every prediction records the chunks it was given, so retrieval can be scored and read per example.
"""

from __future__ import annotations

from collections.abc import Sequence

from harness.arms import ArmContext, Prediction
from harness.data import Item
from harness.errors import HarnessError
from harness.models import load_tokenizer, pick_device
from harness.prompts import conversation, fixed_shots
from harness.retrieval import fit_context
from harness.spec import RagArmSpec


def query_text(item: Item) -> str:
    return "\n".join(m["content"] for m in item.messages if m["role"] == "user")


class RagArm:
    def __init__(self, spec: RagArmSpec):
        self.spec = spec
        self.name = spec.name
        self.kind = "rag-tuned" if spec.adapter_from else "rag"
        self.details: dict = {}

    def describe(self) -> dict:
        return self.spec.model_dump(mode="json")

    def preflight(self, ctx: ArmContext) -> None:
        # the task's corpus is checked by the spec; the index is built after preflight, with the store open
        if self.spec.adapter_from and self.spec.adapter_from not in ctx.arm_names:
            raise HarnessError(f"arm {self.name!r} answers with the adapter of arm {self.spec.adapter_from!r}, "
                               f"which is not part of this run; add --arm {self.spec.adapter_from}")
        if self.spec.shots > len(ctx.train):
            raise HarnessError(f"arm {self.name!r}: {self.spec.shots} shots, but the train split has {len(ctx.train)} examples")

    def _generator(self, ctx: ArmContext):
        if not self.spec.adapter_from:
            return ctx.models.generator(self.spec.backend, seed=ctx.seed)
        from harness.backends.hf import HFGenerator
        from harness.training import load_adapter, load_base_for_training

        adapter = ctx.adapters.get(self.spec.adapter_from)
        if adapter is None:
            raise HarnessError(f"arm {self.name!r}: arm {self.spec.adapter_from!r} produced no adapter (it failed)")
        device = ctx.models.device or pick_device()
        tuned = ctx.task.spec.arm(self.spec.adapter_from)
        base = load_base_for_training(ctx.models.base, device, tuned.type == "qlora", checkpointing=False)
        model = load_adapter(base, adapter)
        tokenizer = load_tokenizer(ctx.models.base)
        return HFGenerator(model, tokenizer, device, ctx.task.spec.generation.batch_size,
                           f"{self.spec.adapter_from} adapter with retrieval")

    def predict(self, items: Sequence[Item], ctx: ArmContext) -> list[Prediction]:
        spec = ctx.task.spec
        tokenizer = load_tokenizer(ctx.models.base)
        count = lambda text: len(tokenizer(text, add_special_tokens=False)["input_ids"])  # noqa: E731
        hits = ctx.retriever.search([query_text(i) for i in items], self.spec.retriever, self.spec.top_k)
        shots = fixed_shots(ctx.train, self.spec.shots, self.spec.shot_seed) if self.spec.shots else []
        tuned = self.spec.adapter_from is not None
        conversations, used_hits = [], []
        for item, item_hits in zip(items, hits):
            context, used, n_tokens = fit_context(item_hits, self.spec.context_tokens, count)
            conversations.append(conversation(item, spec.prompt, shots, with_instructions=not tuned, context=context))
            used_hits.append((used, n_tokens))
        generator = self._generator(ctx)
        self.details = {"retriever": self.spec.retriever, "top_k": self.spec.top_k, "index": ctx.retriever.description,
                        "generator": generator.description, "shot_ids": [s.id for s in shots]}
        outputs = generator.generate(conversations, spec.generation.max_new_tokens,
                                     ctx.tracker(f"{self.name}: generate", len(items)))
        return [
            Prediction(item.id, conv, g.text, g.error, g.latency_s, g.prompt_tokens, g.output_tokens, {
                "chunks": [{"id": h.chunk.id, "doc_id": h.chunk.doc_id, "score": round(h.score, 6)} for h in used],
                "context_tokens": n_tokens,
            })
            for item, conv, g, (used, n_tokens) in zip(items, conversations, outputs, used_hits)
        ]
