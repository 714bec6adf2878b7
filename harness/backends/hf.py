"""Batched greedy generation with a local transformers model (left padding, batches sorted by length).

Prompts of one call usually share a long head (system prompt, instructions, few-shot examples). That
head is run through the model once and its KV cache reused by every batch: the rows are laid out as
[shared head][padding][own tail], and the attention mask hides the padding. On a 2-core CPU this cut
few-shot prefill about 3.5x with identical greedy answers (bench/prefix_cache.py).

Unconstrained answers are decoded by a loop of our own instead of generate(): a row leaves the batch,
and its KV cache, the moment it is done, so no step computes rows that have finished. Constrained
answers go through generate() with the grammar's logits processor.
"""

from __future__ import annotations

import copy
import time
from collections.abc import Sequence
from typing import Any

from harness.answer_end import AnswerEnd, cut
from harness.backends import Advance, Conversation, Generation, LogLik
from harness.constraints import Constraint
from harness.prompt_format import PromptFormat, choose_format, truncate_at_stop

MIN_SHARED_PREFIX = 48


def shared_prefix_length(sequences: Sequence[list[int]]) -> int:
    """Tokens every sequence starts with, leaving each at least one token of its own."""
    if len(sequences) < 2:
        return 0
    first, n = sequences[0], min(len(s) for s in sequences) - 1
    for k in range(n):
        token = first[k]
        if any(s[k] != token for s in sequences):
            return k
    return max(n, 0)


class HFGenerator:
    def __init__(
        self,
        model: Any,
        tokenizer: Any,
        device: str,
        batch_size: int,
        description: str,
        reuse_prefix: bool = True,
        min_prefix: int = MIN_SHARED_PREFIX,
        prompt_format: PromptFormat | None = None,
    ):
        self.model = model
        self.reuse_prefix = reuse_prefix
        self.min_prefix = min_prefix
        self.tokenizer = tokenizer
        self.device = device
        self.batch_size = batch_size
        self.description = description
        self.context_window = getattr(model.config, "max_position_embeddings", None)
        self.prompt_format = prompt_format or choose_format("auto", tokenizer, description)
        self.answer_lead = self.prompt_format.answer_lead

    def render(self, conversation: Conversation) -> str:
        return self.prompt_format.render(self.tokenizer, conversation)

    def _encode(self, conversation: Conversation) -> list[int]:
        return self.prompt_format.encode(self.tokenizer, self.render(conversation))

    def count_prompt_tokens(self, conversation: Conversation) -> int:
        return len(self._encode(conversation))

    def loglikelihood(self, requests: Sequence[tuple[str, str]], advance: Advance) -> list[LogLik]:
        from harness.backends.loglik import loglikelihood

        return loglikelihood(self.model, self.tokenizer, self.device, requests, self.batch_size, advance)

    def _prefill(self, ids: list[list[int]]) -> Any:
        import torch
        from transformers import DynamicCache

        cache = DynamicCache(config=self.model.config)
        with torch.inference_mode():
            self.model(input_ids=torch.tensor(ids, device=self.device), past_key_values=cache, use_cache=True)
        return cache

    def generate(self, conversations: Sequence[Conversation], max_new_tokens: int, advance: Advance,
                 constraint: Constraint | None = None, answer_end: AnswerEnd | None = None) -> list[Generation]:
        """Greedy answers; with `constraint`, every token is masked to the grammar (JSON schema, regex, label set),
        and an answer the budget cut before the grammar was complete is kept, marked `incomplete`: the model's own
        (wrong) answer, as unconstrained text that is not JSON is, not a failure to get one. With `answer_end`, a
        row stops as soon as its answer is complete (harness.answer_end)."""
        import torch
        from transformers import GenerationConfig, LogitsProcessorList

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
            stop_strings=list(self.prompt_format.stop_strings) or None,
        )
        # generate() needs the tokenizer to find stop strings across token boundaries
        kwargs_stop = {"tokenizer": self.tokenizer} if self.prompt_format.stop_strings else {}
        compiled = constraint.compile(self.tokenizer, eos, vocab_size=self.model.config.vocab_size) if constraint else None
        shared = shared_prefix_length([encoded[i] for i in runnable]) if self.reuse_prefix else 0
        if shared < self.min_prefix:
            shared = 0
        began = time.perf_counter()
        prefix_cache = self._prefill([encoded[runnable[0]][:shared]]) if shared else None
        prefill_share = (time.perf_counter() - began) / max(len(runnable), 1)
        pad = self.tokenizer.pad_token_id
        for start in range(0, len(runnable), self.batch_size):
            batch = runnable[start : start + self.batch_size]
            tails = [encoded[i][shared:] for i in batch]
            width = max(len(t) for t in tails)
            head = encoded[batch[0]][:shared]
            input_ids = torch.tensor([head + [pad] * (width - len(t)) + t for t in tails])
            mask = torch.tensor([[1] * shared + [0] * (width - len(t)) + [1] * len(t) for t in tails])
            cache = None
            if prefix_cache is not None:
                cache = copy.deepcopy(prefix_cache)
                cache.batch_repeat_interleave(len(batch))
            began = time.perf_counter()
            with torch.inference_mode():
                if compiled is None:
                    generated = self._decode(input_ids, mask, cache, shared, max_new_tokens, eos_ids, answer_end)
                else:  # a fresh processor per call: it tracks each row's grammar state
                    out = self.model.generate(
                        input_ids=input_ids.to(self.device), attention_mask=mask.to(self.device),
                        generation_config=config, logits_processor=LogitsProcessorList([compiled.logits_processor()]),
                        **({"past_key_values": cache} if cache is not None else {}), **kwargs_stop,
                    )
                    generated = out[:, shared + width :].tolist()
            per_item = (time.perf_counter() - began) / len(batch) + prefill_share
            for row, i in enumerate(batch):
                new = generated[row]
                stop = next((k for k, tok in enumerate(new) if tok in eos_ids), None)
                kept = new if stop is None else new[:stop]
                text = self.tokenizer.decode(kept, skip_special_tokens=True)
                text, at_stop_string = truncate_at_stop(text, self.prompt_format.stop_strings)
                text, complete = cut(text, answer_end)
                if complete:  # the tokens up to the end of the answer
                    n_out = min(len(kept), len(self.tokenizer(text, add_special_tokens=False)["input_ids"]))
                elif stop is not None:
                    n_out = stop + 1
                elif at_stop_string:  # ended by a stop string: count the tokens up to and including it
                    upto = text + self.prompt_format.stop_strings[0]
                    n_out = min(len(new), len(self.tokenizer(upto, add_special_tokens=False)["input_ids"]))
                else:
                    n_out = len(new)
                ended = stop is not None or at_stop_string or complete
                short = compiled.completion_error(kept, max_new_tokens) if compiled is not None and not ended else None
                results[i] = Generation(text.strip(), len(encoded[i]), n_out, per_item, incomplete=short)
            advance(len(batch))
        return [r for r in results if r is not None]

    def _decode(self, input_ids: Any, mask: Any, cache: Any, cached: int, max_new_tokens: int, eos_ids: set[int],
                answer_end: AnswerEnd | None) -> list[list[int]]:
        """Greedy decoding of a left-padded batch whose first `cached` positions are already in `cache`.

        Unlike generate(), a row leaves the batch, and its KV cache, the moment it is done (end of turn, a stop
        string, a complete answer), so the rows still running are all that each step computes: a batch no
        longer decodes at full width until its longest answer ends. Positions and the attention mask are
        built as generate() builds them, so the greedy tokens are the same (tests/test_backends.py)."""
        import torch
        from transformers import DynamicCache

        stops = self.prompt_format.stop_strings
        if cache is None:
            cache = DynamicCache(config=self.model.config)
        mask = mask.to(self.device)
        positions = (mask.long().cumsum(-1) - 1).clamp(min=0)
        logits = self.model(input_ids=input_ids[:, cached:].to(self.device), attention_mask=mask,
                            position_ids=positions[:, cached:], past_key_values=cache, use_cache=True,
                            logits_to_keep=1).logits
        rows = list(range(input_ids.shape[0]))  # batch row of each sequence still decoding
        generated: list[list[int]] = [[] for _ in rows]
        last = positions[:, -1]
        for step in range(max_new_tokens):
            tokens = logits[:, -1].argmax(-1)
            running = []
            for k, (row, token) in enumerate(zip(rows, tokens.tolist())):
                generated[row].append(token)
                if token in eos_ids or step == max_new_tokens - 1:
                    continue
                if stops or answer_end is not None:
                    text = self.tokenizer.decode(generated[row], skip_special_tokens=True)
                    if any(s in text for s in stops) or (answer_end is not None and answer_end(text) is not None):
                        continue
                running.append(k)
            if not running:
                break
            if len(running) < len(rows):
                keep = torch.tensor(running, device=self.device)
                cache.batch_select_indices(keep)
                mask, last, tokens = mask[keep], last[keep], tokens[keep]
                rows = [rows[k] for k in running]
            mask = torch.cat([mask, mask.new_ones((len(rows), 1))], dim=1)
            last = last + 1
            logits = self.model(input_ids=tokens[:, None], attention_mask=mask, position_ids=last[:, None],
                                past_key_values=cache, use_cache=True).logits
        return generated
