"""Log-likelihood of a continuation given a context, batched, with each distinct context run once.

    from harness.backends.loglik import loglikelihood
    loglikelihood(model, tokenizer, "cpu", [("Question: 2+2?\\nAnswer:", " 4"), ("Question: 2+2?\\nAnswer:", " 5")])

Requests are raw text pairs (no chat template). Tokenization follows lm-evaluation-harness: context and
continuation are encoded together and split at the context boundary, with the context's trailing
whitespace moved onto the continuation. The choices of one question share their context, so a batch
first runs its distinct contexts (left-padded, so they all end in the same column) into a KV cache,
copies each context's cache to the rows of its continuations, and then runs only the continuations.
`loglikelihood_naive` is the one-request-per-forward reference the batched path is tested against
(tests/test_regression_loglik.py) and timed against (bench/loglik_batching.py).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from harness.backends import Advance, LogLik
from harness.errors import HarnessError

Request = tuple[str, str]

# Continuation positions per forward pass: each one holds a vocabulary-wide row of logits
# (49k floats for SmolLM2), so this bounds the logits tensor at about 200 MB in float32.
LOGIT_POSITIONS = 1024


def _no_advance(n: int) -> None:
    pass


def prefix_token_id(tokenizer: Any) -> int:
    """What an empty context is scored from: BOS where the model has one, else end-of-text (as lm-eval)."""
    token = tokenizer.bos_token_id if tokenizer.bos_token_id is not None else tokenizer.eos_token_id
    if token is None:
        raise HarnessError("tokenizer has neither a BOS nor an EOS token to score a text with no context from")
    return token


def encode_request(tokenizer: Any, context: str, continuation: str) -> tuple[list[int], list[int]]:
    """(context ids, continuation ids), lm-eval style; special tokens as the tokenizer adds them (BOS if any)."""
    n_spaces = len(context) - len(context.rstrip())
    if n_spaces:
        continuation = context[-n_spaces:] + continuation
        context = context[:-n_spaces]
    whole = tokenizer(context + continuation)["input_ids"]
    ctx = tokenizer(context)["input_ids"] if context else []
    cont = whole[len(ctx):]
    if not ctx:
        ctx = [prefix_token_id(tokenizer)]
        cont = whole[1:] if whole and whole[0] == ctx[0] else whole
    if not cont:
        raise HarnessError(f"continuation {continuation!r} adds no tokens after context {context[-40:]!r}")
    return list(ctx), list(cont)


def fit_window(ctx: list[int], cont: list[int], window: int | None) -> list[int]:
    """Left-truncate the context so context + continuation fits the window (as lm-eval does)."""
    if window is None or len(ctx) + len(cont) <= window:
        return ctx
    if len(cont) >= window:
        raise HarnessError(f"continuation of {len(cont)} tokens does not fit the context window of {window}")
    return ctx[-(window - len(cont)):]


def _encode_all(model: Any, tokenizer: Any, requests: Sequence[Request]) -> list[tuple[list[int], list[int]]]:
    window = getattr(model.config, "max_position_embeddings", None)
    encoded = []
    for context, continuation in requests:
        ctx, cont = encode_request(tokenizer, context, continuation)
        encoded.append((fit_window(ctx, cont, window), cont))
    return encoded


def _pad_id(tokenizer: Any) -> int:
    return tokenizer.pad_token_id if tokenizer.pad_token_id is not None else prefix_token_id(tokenizer)


def loglikelihood_naive(
    model: Any, tokenizer: Any, device: str, requests: Sequence[Request], advance: Advance | None = None
) -> list[LogLik]:
    """One forward pass per request, no padding, no cache: the reference for the batched path."""
    import torch

    advance = advance or _no_advance
    results = []
    for ctx, cont in _encode_all(model, tokenizer, requests):
        ids = torch.tensor([ctx + cont], device=device)
        with torch.inference_mode():
            logits = model(input_ids=ids).logits[0, len(ctx) - 1 : -1].float()
        logp = logits.log_softmax(-1)
        target = torch.tensor(cont, device=logp.device)
        total = logp.gather(1, target[:, None]).sum().item()
        greedy = bool((logp.argmax(-1) == target).all().item())
        results.append(LogLik(total, len(cont), greedy))
        advance(1)
    return results


@dataclass
class _Group:
    ctx: list[int]
    members: list[int]  # request indices whose context is ctx


def _groups(encoded: list[tuple[list[int], list[int]]], batch_size: int) -> list[_Group]:
    """Requests with identical context tokens, longest contexts first; no group wider than one batch."""
    by_ctx: dict[tuple[int, ...], list[int]] = {}
    for i, (ctx, _) in enumerate(encoded):
        by_ctx.setdefault(tuple(ctx), []).append(i)
    groups = []
    for ctx, members in sorted(by_ctx.items(), key=lambda kv: (-len(kv[0]), kv[1][0])):
        members.sort(key=lambda i: -len(encoded[i][1]))
        chunk: list[int] = []
        for i in members:
            width = max([len(encoded[j][1]) for j in chunk] + [len(encoded[i][1])])
            if chunk and (len(chunk) >= batch_size or (len(chunk) + 1) * width > LOGIT_POSITIONS):
                groups.append(_Group(list(ctx), chunk))
                chunk = []
            chunk.append(i)
        groups.append(_Group(list(ctx), chunk))
    return groups


def _batches(groups: list[_Group], encoded: list[tuple[list[int], list[int]]], batch_size: int) -> list[list[_Group]]:
    """Whole groups packed into batches of at most batch_size continuations and LOGIT_POSITIONS positions."""
    batches: list[list[_Group]] = []
    current: list[_Group] = []
    rows = width = 0
    for group in groups:
        g_rows, g_width = len(group.members), max(len(encoded[i][1]) for i in group.members)
        if current and (rows + g_rows > batch_size or (rows + g_rows) * max(width, g_width) > LOGIT_POSITIONS):
            batches.append(current)
            current, rows, width = [], 0, 0
        current.append(group)
        rows, width = rows + g_rows, max(width, g_width)
    if current:
        batches.append(current)
    return batches


def _score_batch(
    model: Any, device: str, pad: int, batch: list[_Group], encoded: list[tuple[list[int], list[int]]]
) -> dict[int, LogLik]:
    import torch
    from transformers import DynamicCache

    ctx_width = max(len(g.ctx) for g in batch)
    ctx_ids = torch.tensor([[pad] * (ctx_width - len(g.ctx)) + g.ctx for g in batch], device=device)
    ctx_mask = torch.tensor([[0] * (ctx_width - len(g.ctx)) + [1] * len(g.ctx) for g in batch], device=device)
    cache = DynamicCache(config=model.config)
    with torch.inference_mode():
        out = model(
            input_ids=ctx_ids, attention_mask=ctx_mask, position_ids=(ctx_mask.cumsum(-1) - 1).clamp(min=0),
            past_key_values=cache, use_cache=True, logits_to_keep=1,
        )
    first = out.logits[:, -1].float()  # predicts each continuation's first token
    first_lse = first.logsumexp(-1)
    first_arg = first.argmax(-1)

    rows = [(g_idx, i) for g_idx, g in enumerate(batch) for i in g.members]
    conts = [encoded[i][1] for _, i in rows]
    width = max(len(c) for c in conts)
    row_group = torch.tensor([g_idx for g_idx, _ in rows], device=device)
    later = None
    if width > 1:
        cache.reorder_cache(row_group)  # each row gets a copy of its own context's keys and values
        tail_ids = torch.tensor([c[:-1] + [pad] * (width - len(c)) for c in conts], device=device)
        tail_mask = torch.tensor([[1] * (len(c) - 1) + [0] * (width - len(c)) for c in conts], device=device)
        ctx_len = ctx_mask.sum(-1)[row_group]
        positions = ctx_len[:, None] + torch.arange(width - 1, device=device)[None, :]
        with torch.inference_mode():
            out = model(
                input_ids=tail_ids, attention_mask=torch.cat([ctx_mask[row_group], tail_mask], dim=1),
                position_ids=positions, past_key_values=cache, use_cache=True,
            )
        later = out.logits.float()
    results = {}
    for r, ((g_idx, i), cont) in enumerate(zip(rows, conts)):
        total = first[g_idx, cont[0]].item() - first_lse[g_idx].item()
        greedy = first_arg[g_idx].item() == cont[0]
        if len(cont) > 1:
            assert later is not None
            logits = later[r, : len(cont) - 1]
            target = torch.tensor(cont[1:], device=logits.device)
            total += (logits.gather(1, target[:, None])[:, 0] - logits.logsumexp(-1)).sum().item()
            greedy = greedy and bool((logits.argmax(-1) == target).all().item())
        results[i] = LogLik(total, len(cont), greedy)
    return results


def loglikelihood(
    model: Any,
    tokenizer: Any,
    device: str,
    requests: Sequence[Request],
    batch_size: int = 16,
    advance: Advance | None = None,
) -> list[LogLik]:
    """log p(continuation | context) for every request, in the order given; batch_size continuations per pass."""
    if batch_size < 1:
        raise HarnessError(f"batch_size should be at least 1, got {batch_size}")
    advance = advance or _no_advance
    encoded = _encode_all(model, tokenizer, requests)
    pad = _pad_id(tokenizer)
    results: dict[int, LogLik] = {}
    for batch in _batches(_groups(encoded, batch_size), encoded, batch_size):
        results.update(_score_batch(model, device, pad, batch, encoded))
        advance(sum(len(g.members) for g in batch))
    return [results[i] for i in range(len(encoded))]
