"""Batched greedy generation with a local transformers model (left padding, batches sorted by length)."""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

from harness.backends import Advance, Conversation, Generation


class HFGenerator:
    def __init__(self, model: Any, tokenizer: Any, device: str, batch_size: int, description: str):
        self.model = model
        self.tokenizer = tokenizer
        self.device = device
        self.batch_size = batch_size
        self.description = description
        self.context_window = getattr(model.config, "max_position_embeddings", None)

    def render(self, conversation: Conversation) -> str:
        return self.tokenizer.apply_chat_template(list(conversation), tokenize=False, add_generation_prompt=True)

    def _encode(self, conversation: Conversation) -> list[int]:
        return self.tokenizer(self.render(conversation), add_special_tokens=False)["input_ids"]

    def count_prompt_tokens(self, conversation: Conversation) -> int:
        return len(self._encode(conversation))

    def generate(self, conversations: Sequence[Conversation], max_new_tokens: int, advance: Advance) -> list[Generation]:
        import torch
        from transformers import GenerationConfig

        encoded = [self._encode(c) for c in conversations]
        results: list[Generation | None] = [None] * len(encoded)
        limit = self.context_window - max_new_tokens if self.context_window else None
        runnable = []
        for i, ids in enumerate(encoded):
            if limit is not None and len(ids) > limit:
                msg = f"prompt has {len(ids)} tokens; the context window {self.context_window} leaves room for {limit}"
                results[i] = Generation("", len(ids), 0, 0.0, error=msg)
                advance(1)
            else:
                runnable.append(i)
        # Longest first, so each batch holds prompts of similar length and padding stays small.
        runnable.sort(key=lambda i: (-len(encoded[i]), i))
        eos = self.model.generation_config.eos_token_id
        if eos is None:
            eos = self.tokenizer.eos_token_id
        eos_ids = set(eos if isinstance(eos, list) else [eos])
        config = GenerationConfig(
            max_new_tokens=max_new_tokens,
            do_sample=False,
            num_beams=1,
            pad_token_id=self.tokenizer.pad_token_id,
            eos_token_id=eos,
        )
        for start in range(0, len(runnable), self.batch_size):
            batch = runnable[start : start + self.batch_size]
            width = max(len(encoded[i]) for i in batch)
            pad = self.tokenizer.pad_token_id
            input_ids = torch.tensor([[pad] * (width - len(encoded[i])) + encoded[i] for i in batch])
            mask = torch.tensor([[0] * (width - len(encoded[i])) + [1] * len(encoded[i]) for i in batch])
            began = time.perf_counter()
            with torch.inference_mode():
                out = self.model.generate(
                    input_ids=input_ids.to(self.device), attention_mask=mask.to(self.device), generation_config=config
                )
            per_item = (time.perf_counter() - began) / len(batch)
            for row, i in enumerate(batch):
                new = out[row, width:].tolist()
                stop = next((k for k, tok in enumerate(new) if tok in eos_ids), None)
                kept = new if stop is None else new[:stop]
                text = self.tokenizer.decode(kept, skip_special_tokens=True)
                n_out = len(new) if stop is None else stop + 1
                results[i] = Generation(text.strip(), len(encoded[i]), n_out, per_item)
            advance(len(batch))
        return [r for r in results if r is not None]
