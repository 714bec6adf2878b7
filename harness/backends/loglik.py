"""Batched log-likelihood of continuations under a local transformers model.

Tokenised as lm-evaluation-harness does: context and continuation are encoded together and split at the
context's end, with the context's trailing whitespace moved onto the continuation, so a continuation's
tokens are the ones the model would really produce after that context.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from harness.backends import Advance, LogLik


def encode_pair(tokenizer: Any, context: str, continuation: str) -> tuple[list[int], list[int]]:
    """(context ids, continuation ids); the context starts with BOS when the tokenizer adds one."""
    stripped = context.rstrip()
    continuation = context[len(stripped):] + continuation
    whole = tokenizer(stripped + continuation)["input_ids"]
    head = tokenizer(stripped)["input_ids"]
    if whole[: len(head)] != head:  # a merge across the boundary: fall back to separate encodings
        tail = tokenizer(continuation, add_special_tokens=False)["input_ids"]
        return head, tail
    return head, whole[len(head):]


def loglikelihood(model: Any, tokenizer: Any, device: str, requests: Sequence[tuple[str, str]], batch_size: int,
                  advance: Advance = lambda n: None) -> list[LogLik]:
    """Right-padded batches, longest first; one forward pass per batch scores every continuation in it."""
    import torch

    pairs = [encode_pair(tokenizer, c, x) for c, x in requests]
    order = sorted(range(len(pairs)), key=lambda i: (-(len(pairs[i][0]) + len(pairs[i][1])), i))
    results: list[LogLik | None] = [None] * len(pairs)
    pad = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else 0
    for start in range(0, len(order), batch_size):
        batch = order[start : start + batch_size]
        rows = [(pairs[i][0] + pairs[i][1])[-_window(model):] for i in batch]
        width = max(len(r) for r in rows)
        ids = torch.tensor([r + [pad] * (width - len(r)) for r in rows], device=device)
        mask = torch.tensor([[1] * len(r) + [0] * (width - len(r)) for r in rows], device=device)
        with torch.inference_mode():
            logits = model(input_ids=ids, attention_mask=mask).logits.float()
        logprobs = torch.log_softmax(logits, dim=-1)
        for row, i in enumerate(batch):
            n_cont = len(pairs[i][1])
            end = len(rows[row])
            targets = ids[row, end - n_cont : end]
            scores = logprobs[row, end - n_cont - 1 : end - 1]
            picked = scores.gather(-1, targets.unsqueeze(-1)).squeeze(-1)
            greedy = bool((scores.argmax(-1) == targets).all()) if n_cont else True
            results[i] = LogLik(float(picked.sum()), n_cont, greedy)
        advance(len(batch))
    return [r for r in results if r is not None]


def _window(model: Any) -> int:
    return int(getattr(model.config, "max_position_embeddings", None) or 1 << 30)
