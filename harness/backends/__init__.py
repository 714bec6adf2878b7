"""Generators behind one protocol, lm-eval's two doors: greedy `generate` for conversations and
`loglikelihood` of a continuation given a context. A new backend is one module that implements both.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol

from harness.prompting.answer_end import AnswerEnd
from harness.prompting.constraints import Constraint

Conversation = Sequence[dict]
Advance = Callable[[int], None]


@dataclass(frozen=True)
class Generation:
    text: str
    prompt_tokens: int | None
    output_tokens: int | None
    latency_s: float
    error: str | None = None  # no answer came back (endpoint failure, prompt too long): scored as empty, counted
    incomplete: str | None = None  # an answer came back but was cut short (a constrained one at max_new_tokens)


@dataclass(frozen=True)
class LogLik:
    """log P(continuation | context) summed over the continuation's tokens."""

    logprob: float
    n_tokens: int
    is_greedy: bool  # every continuation token is the model's top choice
    error: str | None = None  # no score came back (a server that failed or died): logprob is nan, counted


class Generator(Protocol):
    """Greedy, deterministic answers for a batch of conversations, in the order given."""

    description: str
    answer_lead: str  # text between a rendered prompt and its answer ("" after a chat template, " " after "Output:")

    def generate(self, conversations: Sequence[Conversation], max_new_tokens: int, advance: Advance,
                 constraint: Constraint | None = None, answer_end: AnswerEnd | None = None) -> list[Generation]:
        """With `constraint` (harness.prompting.constraints), answers are forced into a JSON schema, regex or label set;
        with `answer_end` (harness.prompting.answer_end), an answer ends where it is complete."""
        ...

    def render(self, conversation: Conversation) -> str:
        """The prompt text the model reads for a conversation (its chat template applied)."""
        ...

    def count_prompt_tokens(self, conversation: Conversation) -> int | None:
        ...

    def loglikelihood(self, requests: Sequence[tuple[str, str]], advance: Advance) -> list[LogLik]:
        """One result per (context, continuation) pair of raw text, in the order given."""
        ...
