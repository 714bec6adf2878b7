"""Greedy decoding with continuous batching over a KV cache of fixed slots.

Each prompt is prefilled on its own (no padding to the batch's longest prompt) on top of the shared
prompt head, and its keys and values are copied into a free slot: one row of a preallocated buffer per
layer, in which the row's tokens sit at positions 0..n-1 exactly as they would alone. Every step feeds
each live row its last token at its own column; the attention mask hides the columns a row has not
reached. A row that ends frees its slot, and the next prompt takes it, so the batch stays full until the
queue is empty. Nothing is concatenated per step (DynamicCache copied the whole cache each step: 40% of a
decode step of SmolLM2 here).

Decode steps attend in groups of adjacent slots, each up to the columns its own furthest row has reached
(_register_grouped_sdpa). Only models whose every layer attends to all earlier tokens go here (full
attention, or a sliding window no shorter than prompt plus answer; no linear attention): the caller keeps
the batched generate() path for the rest.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

GROUPED_SDPA = "harness_grouped_sdpa"
GROUP_ROWS = 8


def slots_supported(model: Any, capacity: int) -> bool:
    """Whether the slot cache holds `model`'s attention for sequences of up to `capacity` tokens: every layer
    attends to all earlier tokens (full attention, or a sliding window no shorter than the sequence)."""
    from transformers.cache_utils import get_layer_types_and_kwargs

    config = model.config.get_text_config(decoder=True)
    try:
        layer_types, layer_kwargs = get_layer_types_and_kwargs(config)
    except (AttributeError, KeyError, TypeError, ValueError):  # a config transformers cannot lay out: generate()
        return False
    for kind, kwargs in zip(layer_types, layer_kwargs):
        window = kwargs.get("sliding_window")
        if not (kind == "full_attention" or (kind == "sliding_attention" and window and window >= capacity)):
            return False
    return bool(layer_types)


def _slot_cache(model: Any, width: int, capacity: int) -> Any:
    import torch
    from transformers.cache_utils import Cache, DynamicLayer

    class SlotLayer(DynamicLayer):
        """Keys and values of `width` rows, each filled from column 0; `update` writes each row's one new
        token at that row's own column and returns the columns up to the furthest row."""

        def __init__(self, owner: SlotCache):
            super().__init__()
            self.owner = owner

        def lazy_initialization(self, key_states: Any, value_states: Any) -> None:
            self.dtype, self.device = key_states.dtype, key_states.device
            shape = (self.owner.width, key_states.shape[1], self.owner.capacity, key_states.shape[-1])
            self.keys = torch.zeros(shape, dtype=key_states.dtype, device=key_states.device)
            self.values = torch.zeros(shape[:3] + (value_states.shape[-1],), dtype=value_states.dtype,
                                      device=value_states.device)
            self.is_initialized = True

        def update(self, key_states: Any, value_states: Any, *args: Any, **kwargs: Any) -> tuple[Any, Any]:
            if not self.is_initialized:
                self.lazy_initialization(key_states, value_states)
            owner = self.owner
            self.keys[owner.rows, :, owner.columns] = key_states[:, :, 0]
            self.values[owner.rows, :, owner.columns] = value_states[:, :, 0]
            return self.keys[:, :, : owner.length], self.values[:, :, : owner.length]

        def get_seq_length(self) -> int:
            return self.owner.length - 1

        def get_mask_sizes(self, query_length: int) -> tuple[int, int]:
            return self.owner.length, 0

        def get_max_length(self) -> int:
            return self.owner.capacity

        def fill(self, slot: int, source: Any, start: int) -> None:
            """Copy a prefilled row's keys and values (a DynamicLayer of batch 1) from column `start` on."""
            if not self.is_initialized:
                self.lazy_initialization(source.keys, source.values)
            end = source.keys.shape[-2]
            self.keys[slot, :, start:end] = source.keys[0, :, start:end]
            self.values[slot, :, start:end] = source.values[0, :, start:end]

        def keep(self, indices: Any) -> None:
            self.keys = self.keys.index_select(0, indices)
            self.values = self.values.index_select(0, indices)

    class SlotCache(Cache):
        def __init__(self) -> None:
            self.width, self.capacity = width, capacity
            self.rows = torch.arange(width)
            self.columns = torch.zeros(width, dtype=torch.long)  # where each row's next token goes
            self.length = 1  # columns the attention sees this step: the furthest row's, plus one
            n_layers = model.config.get_text_config(decoder=True).num_hidden_layers
            super().__init__(layers=[SlotLayer(self) for _ in range(n_layers)])

        def keep(self, indices: Any) -> None:
            for layer in self.layers:
                layer.keep(indices)
            self.width = len(indices)
            self.rows = torch.arange(self.width)
            self.columns = self.columns.index_select(0, indices)

    return SlotCache()


@functools.cache
def _cache_keyword(forward: Callable[..., Any]) -> str:
    return "cache" if "cache" in inspect.signature(forward).parameters else "past_key_values"


def cache_argument(model: Any, cache: Any) -> dict[str, Any]:
    """The keyword that hands `cache` to `model`'s forward (and generate): transformers 5.24 renamed it from
    `past_key_values` to `cache`; the old name warns on every call there and goes in 5.40. A PEFT model passes it
    through to its base model, whose signature decides."""
    inner = model.get_base_model() if hasattr(model, "get_base_model") else model
    return {_cache_keyword(getattr(inner.forward, "__func__", inner.forward)): cache}


def prefill(model: Any, ids: list[int]) -> Any:
    """A DynamicCache holding the keys and values of one token sequence (a shared prompt head)."""
    import torch
    from transformers import DynamicCache

    cache = DynamicCache(config=model.config)
    with torch.inference_mode():
        model(input_ids=torch.tensor([ids], device=next(model.parameters()).device), use_cache=True,
              **cache_argument(model, cache))
    return cache


@functools.cache
def _register_grouped_sdpa() -> None:
    """An attention function for the slot loop's decode steps: the rows are split into groups of adjacent slots,
    and each group attends only to the columns its furthest row has reached, not the whole batch's furthest.
    The prompts of one call differ in length (here 208 to 629 tokens), so one batch-wide length made half the
    keys and values read per step padding. Any other call (prefill, a model run outside the loop) is plain sdpa."""
    from transformers import AttentionInterface
    from transformers.integrations.sdpa_attention import sdpa_attention_forward
    from transformers.masking_utils import AttentionMaskInterface, sdpa_mask

    def grouped(module: Any, query: Any, key: Any, value: Any, attention_mask: Any,
                slot_groups: list[tuple[int, int, int]] | None = None, **kwargs: Any) -> tuple[Any, None]:
        if slot_groups is None or query.shape[2] != 1 or attention_mask is None:
            return sdpa_attention_forward(module, query, key, value, attention_mask, **kwargs)
        out = query.new_empty(query.shape[0], 1, query.shape[1], query.shape[3])
        for a, b, n in slot_groups:
            out[a:b] = sdpa_attention_forward(module, query[a:b], key[a:b, :, :n], value[a:b, :, :n],
                                              attention_mask[a:b, ..., :n], **kwargs)[0]
        return out, None

    AttentionInterface.register(GROUPED_SDPA, grouped)
    AttentionMaskInterface.register(GROUPED_SDPA, sdpa_mask)


@contextmanager
def _grouped_attention(model: Any) -> Iterator[bool]:
    """The model's attention switched to grouped sdpa for the loop (if it runs sdpa); yields whether it did."""
    config = model.config
    if config._attn_implementation != "sdpa":
        yield False
        return
    _register_grouped_sdpa()
    config._attn_implementation = GROUPED_SDPA
    try:
        yield True
    finally:
        config._attn_implementation = "sdpa"


def _groups(columns: list[int], live: set[int], width: int) -> list[tuple[int, int, int]]:
    """(first row, end row, columns to attend) of each group of GROUP_ROWS adjacent slots; a group without a live
    row attends to column 0 only (its rows' answers are finished and not read)."""
    groups = []
    for a in range(0, width, GROUP_ROWS):
        b = min(a + GROUP_ROWS, width)
        groups.append((a, b, max((columns[r] + 1 for r in range(a, b) if r in live), default=1)))
    return groups


@dataclass
class _Row:
    prompt: int  # index of the prompt in the call
    tokens: list[int]


def decode_in_slots(model: Any, prompts: Sequence[list[int]], shared: int, width: int, max_new_tokens: int,
                    pad_token_id: int, done: Callable[[list[int]], bool], finish: Callable[[int, list[int]], None],
                    grammars: Any = None) -> None:
    """Greedy answers to `prompts` (which all start with the same `shared` tokens), at most `width` at a time.

    `done(tokens)` says after each new token whether the answer is complete; `finish(k, tokens)` receives
    prompt k's new tokens (with the token that ended them) as soon as it is; `grammars` (a
    constraints.RowGrammars over the prompts) masks each row's logits to its grammar. Rows longer than the
    `max_new_tokens` budget are cut there."""
    import torch

    decoder = _SlotDecoder(model, prompts, shared, min(width, len(prompts)), max_new_tokens, pad_token_id, done,
                           finish, grammars)
    with torch.inference_mode(), _grouped_attention(model) as grouped:
        decoder.run(grouped)


class _SlotDecoder:
    """The state of one decode_in_slots call: the slot cache, each slot's row, the columns it attends to, its
    last token, and the prompts still queued."""

    def __init__(self, model: Any, prompts: Sequence[list[int]], shared: int, width: int, max_new_tokens: int,
                 pad_token_id: int, done: Callable[[list[int]], bool], finish: Callable[[int, list[int]], None],
                 grammars: Any) -> None:
        import torch

        self.model, self.prompts, self.shared, self.max_new_tokens = model, prompts, shared, max_new_tokens
        self.done, self.finish, self.grammars = done, finish, grammars
        self.device = next(model.parameters()).device
        self.queue = list(range(len(prompts)))
        capacity = max(len(p) for p in prompts) + max_new_tokens
        self.cache = _slot_cache(model, width, capacity)
        self.valid = torch.zeros(width, capacity, dtype=torch.bool, device=self.device)  # columns each row attends to
        self.last = torch.full((width,), pad_token_id, dtype=torch.long, device=self.device)
        self.rows: list[_Row | None] = [None] * width
        self.fresh = [True] * width  # slots whose shared head columns are not written yet
        self.head: list[tuple[Any, Any]] = []

    def run(self, grouped: bool) -> None:
        model, cache = self.model, self.cache
        if self.shared:
            self.head = [(layer.keys, layer.values) for layer in prefill(model, self.prompts[0][: self.shared]).layers]
        for slot in range(cache.width):
            self.admit(slot)
        while True:
            live = [s for s in range(cache.width) if self.rows[s] is not None]
            if not live:
                return
            if not self.queue and len(live) <= cache.width // 2:  # the tail: stop computing finished rows
                live = self.compact(live)
            columns = cache.columns
            cache.length = int(columns[live].max()) + 1
            self.valid[live, columns[live]] = True
            extra = {"slot_groups": _groups(columns.tolist(), set(live), cache.width)} if grouped else {}
            logits = model(input_ids=self.last[:, None], attention_mask=self.valid[:, : cache.length],
                           position_ids=columns[:, None], use_cache=True, **cache_argument(model, cache),
                           **extra).logits[:, -1]
            tokens = self.choose(logits if len(live) == cache.width else logits[live], live)
            for slot, token in zip(live, tokens):
                if self.ended(slot):
                    self.admit(slot)
                else:
                    columns[slot] += 1
                    self.last[slot] = token

    def compact(self, live: list[int]) -> list[int]:
        """Keep only the live rows' slots; they become slots 0..len(live)-1."""
        import torch

        keep = torch.tensor(live, device=self.device)
        self.cache.keep(keep)
        self.valid, self.last = self.valid.index_select(0, keep), self.last.index_select(0, keep)
        self.rows, self.fresh = [self.rows[s] for s in live], [self.fresh[s] for s in live]
        return list(range(len(live)))

    def choose(self, logits: Any, slots: list[int]) -> list[int]:
        answers = [self.rows[s].prompt for s in slots]  # type: ignore[union-attr]
        if self.grammars is not None:
            self.grammars.mask(logits, answers)
        tokens = logits.argmax(-1).tolist()
        for slot, token in zip(slots, tokens):
            self.rows[slot].tokens.append(token)  # type: ignore[union-attr]
            if self.grammars is not None:
                self.grammars.accept(self.rows[slot].prompt, token)  # type: ignore[union-attr]
        return tokens

    def ended(self, slot: int) -> bool:
        row = self.rows[slot]
        if not (self.done(row.tokens) or len(row.tokens) >= self.max_new_tokens):  # type: ignore[union-attr]
            return False
        self.finish(row.prompt, row.tokens)  # type: ignore[union-attr]
        self.rows[slot] = None
        return True

    def admit(self, slot: int) -> None:
        """Prefill the next prompt on its own into `slot` and choose its first token."""
        import torch
        from transformers import DynamicCache

        model, shared = self.model, self.shared
        while self.queue:
            k = self.queue.pop(0)
            ids = self.prompts[k]
            own = DynamicCache(config=model.config)
            for i, (keys, values) in enumerate(self.head):  # update() copies: the head stays as it is
                own.update(keys, values, i)
            logits = model(input_ids=torch.tensor([ids[shared:]], device=self.device), use_cache=True,
                           logits_to_keep=1, **cache_argument(model, own)).logits[:, -1]
            for layer, filled in zip(self.cache.layers, own.layers):
                layer.fill(slot, filled, 0 if self.fresh[slot] else shared)
            self.fresh[slot] = False
            self.rows[slot] = _Row(k, [])
            token = self.choose(logits, [slot])[0]
            if self.ended(slot):
                continue
            self.valid[slot] = False
            self.valid[slot, : len(ids)] = True
            self.cache.columns[slot] = len(ids)
            self.last[slot] = token
            return
