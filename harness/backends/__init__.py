"""Text generators behind one protocol: a local transformers model, or any OpenAI-compatible server."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol

Conversation = Sequence[dict]
Advance = Callable[[int], None]


@dataclass(frozen=True)
class Generation:
    text: str
    prompt_tokens: int | None
    output_tokens: int | None
    latency_s: float
    error: str | None = None


class Generator(Protocol):
    """Greedy, deterministic answers for a batch of conversations, in the order given."""

    description: str

    def generate(self, conversations: Sequence[Conversation], max_new_tokens: int, advance: Advance) -> list[Generation]:
        ...

    def count_prompt_tokens(self, conversation: Conversation) -> int | None:
        ...
