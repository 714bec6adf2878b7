"""Greedy generation with a local transformers model.

Prompts of one call usually share a long head (system prompt, instructions, few-shot examples). That
head is run through the model once and its KV cache reused by every prompt. On a 2-core CPU this cut
few-shot prefill about 3.5x with identical greedy answers (bench/prefix_cache.py).

Answers are decoded with continuous batching over a slot KV cache (harness.backends.slots): each prompt
is prefilled alone, without padding, a row leaves the batch the moment it is done (end of turn, a stop
string, a complete answer) and the next prompt takes its slot. Constrained answers are masked per row by
their grammar in the same loop. transformers' generate() on left-padded batches stays as the reference
(tests compare the two token for token) and serves models the slot cache cannot hold.
"""

from __future__ import annotations

import copy
import time
from collections.abc import Callable, Sequence
from typing import Any

from harness.backends import Advance, Conversation, Generation, LogLik
from harness.backends.decoding import Ends, HarnessPrompts, answer_from_tokens
from harness.backends.slots import decode_in_slots, prefill, slots_supported
from harness.prompting.answer_end import AnswerEnd
from harness.prompting.constraints import Constraint
from harness.prompting.template import PromptFormat, choose_format

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


class HFGenerator(HarnessPrompts):
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
        continuous: bool = True,
    ):
        self.model = model
        self.reuse_prefix = reuse_prefix
        self.continuous = continuous  # False: transformers' generate() on padded batches (the reference)
        self.min_prefix = min_prefix
        self.tokenizer = tokenizer
        self.device = device
        self.batch_size = batch_size
        self.description = description
        self.context_window = getattr(model.config, "max_position_embeddings", None)
        self.prompt_format = prompt_format or choose_format("auto", tokenizer, description)
        self.answer_lead = self.prompt_format.answer_lead

    def loglikelihood(self, requests: Sequence[tuple[str, str]], advance: Advance) -> list[LogLik]:
        from harness.backends.loglik import loglikelihood

        return loglikelihood(self.model, self.tokenizer, self.device, requests, self.batch_size, advance)

    def generate(self, conversations: Sequence[Conversation], max_new_tokens: int, advance: Advance,
                 constraint: Constraint | None = None, answer_end: AnswerEnd | None = None) -> list[Generation]:
        """Greedy answers; with `constraint`, every token is masked to the grammar (JSON schema, regex, label set),
        and an answer the budget cut before the grammar was complete is kept, marked `incomplete`: the model's own
        (wrong) answer, as unconstrained text that is not JSON is, not a failure to get one. With `answer_end`, a
        row stops as soon as its answer is complete (harness.prompting.answer_end)."""
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
        # Longest first: slots are sized by the longest prompt, and generate()'s batches hold similar lengths
        runnable.sort(key=lambda i: (-len(encoded[i]), i))
        if not runnable:
            return [r for r in results if r is not None]
        eos = self.model.generation_config.eos_token_id
        if eos is None:
            eos = self.tokenizer.eos_token_id
        compiled = constraint.compile(self.tokenizer, eos, vocab_size=self.model.config.vocab_size) if constraint else None
        prompts = [encoded[i] for i in runnable]
        shared = shared_prefix_length(prompts) if self.reuse_prefix else 0
        if shared < self.min_prefix:
            shared = 0
        ends = Ends(self.tokenizer, eos, self.prompt_format.stop_strings, answer_end)
        capacity = len(prompts[0]) + max_new_tokens
        if self.continuous and slots_supported(self.model, capacity):
            finish = self._finisher(results, runnable, encoded, ends, compiled, max_new_tokens, advance)
            decode_in_slots(self.model, prompts, shared, self.batch_size, max_new_tokens,
                            self.tokenizer.pad_token_id, ends.done, finish,
                            grammars=compiled.rows(len(prompts)) if compiled is not None else None)
        else:
            self._generate_batches(results, runnable, encoded, shared, eos, ends, compiled, max_new_tokens, advance)
        return [r for r in results if r is not None]

    def _finisher(self, results: list[Generation | None], runnable: list[int], encoded: list[list[int]], ends: Ends,
                  compiled: Any, max_new_tokens: int, advance: Advance) -> Callable[[int, list[int]], None]:
        """Records each answer as the decode loop finishes it. Its seconds are the time since the previous
        answer finished: with continuous batching, the time the loop spent per answer."""
        clock = [time.perf_counter()]

        def finish(k: int, new: list[int]) -> None:
            now = time.perf_counter()
            i = runnable[k]
            results[i] = self._generation(new, len(encoded[i]), now - clock[0], ends, compiled, max_new_tokens)
            clock[0] = now
            advance(1)

        return finish

    def _generate_batches(self, results: list[Generation | None], runnable: list[int], encoded: list[list[int]],
                          shared: int, eos: Any, ends: Ends, compiled: Any, max_new_tokens: int,
                          advance: Advance) -> None:
        """transformers' generate() on left-padded batches: the reference path, and the path for models whose
        attention the slot cache does not hold (a sliding window shorter than prompt plus answer)."""
        import torch
        from transformers import GenerationConfig, LogitsProcessorList

        config = GenerationConfig(
            max_new_tokens=max_new_tokens, do_sample=False, num_beams=1, pad_token_id=self.tokenizer.pad_token_id,
            eos_token_id=eos, stop_strings=list(self.prompt_format.stop_strings) or None,
        )
        # generate() needs the tokenizer to find stop strings across token boundaries
        kwargs_stop = {"tokenizer": self.tokenizer} if self.prompt_format.stop_strings else {}
        began = time.perf_counter()
        prefix_cache = prefill(self.model, encoded[runnable[0]][:shared]) if shared else None
        prefill_share = (time.perf_counter() - began) / len(runnable)
        pad = self.tokenizer.pad_token_id
        for start in range(0, len(runnable), self.batch_size):
            batch = runnable[start : start + self.batch_size]
            tails = [encoded[i][shared:] for i in batch]
            width = max(len(t) for t in tails)
            head = encoded[batch[0]][:shared]
            input_ids = torch.tensor([head + [pad] * (width - len(t)) + t for t in tails])
            mask = torch.tensor([[1] * shared + [0] * (width - len(t)) + [1] * len(t) for t in tails])
            extra: dict[str, Any] = dict(kwargs_stop)
            if prefix_cache is not None:
                cache = copy.deepcopy(prefix_cache)
                cache.batch_repeat_interleave(len(batch))
                extra["past_key_values"] = cache
            if compiled is not None:  # a fresh processor per call: it tracks each row's grammar state
                extra["logits_processor"] = LogitsProcessorList([compiled.logits_processor()])
            began = time.perf_counter()
            with torch.inference_mode():
                out = self.model.generate(input_ids=input_ids.to(self.device), attention_mask=mask.to(self.device),
                                          generation_config=config, **extra)
            per_item = (time.perf_counter() - began) / len(batch) + prefill_share
            for row, i in enumerate(batch):
                new = out[row, shared + width :].tolist()
                results[i] = self._generation(new, len(encoded[i]), per_item, ends, compiled, max_new_tokens)
            advance(len(batch))

    def _generation(self, new: list[int], prompt_tokens: int, seconds: float, ends: Ends, compiled: Any,
                    max_new_tokens: int) -> Generation:
        """The answer of one row from its new tokens (up to and including an end-of-turn token, if any)."""
        answer = answer_from_tokens(self.tokenizer, new, ends)
        short = compiled.completion_error(answer.kept, max_new_tokens) if compiled is not None and not answer.ended \
            else None
        return Generation(answer.text, prompt_tokens, answer.n_tokens, seconds, incomplete=short)
