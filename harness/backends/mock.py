"""A scripted generator, after inspect's `mockllm`: answers and log-likelihoods come from a script, not weights.

    MockGenerator(answers=[("Acme", '{"party": "Acme Corp"}')], default="{}")   # first needle in the last user turn
    MockGenerator(answers=lambda conversation: ...)                              # or any function of the conversation

For tests where a real model adds nothing: the pipeline, the verdict, the report and the store see an ordinary
`Generator`, deterministic and instant. Tokens are whitespace-separated words.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

from harness.backends import Advance, Conversation, Generation, LogLik
from harness.prompting.answer_end import AnswerEnd, cut
from harness.prompting.constraints import Constraint

DEFAULT_OUTPUT = "Default output from the mock model"
Script = Callable[[Conversation], str] | Sequence[tuple[str, str]]


class MockGenerator:
    """Answers from `answers` (a function of the conversation, or (needle, answer) pairs matched against the last
    user message, first match wins; else `default`); log-likelihoods from `logprobs` (continuation -> log P, or a
    function of (context, continuation); else minus the continuation's length in words)."""

    answer_lead = ""

    def __init__(self, answers: Script = (), default: str = DEFAULT_OUTPUT,
                 logprobs: Mapping[str, float] | Callable[[str, str], float] | None = None,
                 description: str = "mock"):
        self.answers = answers
        self.default = default
        self.logprobs = logprobs
        self.description = description
        self.conversations: list[Conversation] = []  # every conversation asked, in order: tests read them

    def answer(self, conversation: Conversation) -> str:
        if callable(self.answers):
            return self.answers(conversation)
        last = next((m["content"] for m in reversed(conversation) if m["role"] == "user"), "")
        return next((answer for needle, answer in self.answers if needle in last), self.default)

    def generate(self, conversations: Sequence[Conversation], max_new_tokens: int, advance: Advance,
                 constraint: Constraint | None = None, answer_end: AnswerEnd | None = None) -> list[Generation]:
        out = []
        for conversation in conversations:
            self.conversations.append(conversation)
            words = self.answer(conversation).split(" ")
            text, _ = cut(" ".join(words[:max_new_tokens]), answer_end)
            out.append(Generation(text, self.count_prompt_tokens(conversation), len(text.split()), 0.0))
        advance(len(conversations))
        return out

    def render(self, conversation: Conversation) -> str:
        return "".join(f"{m['role']}: {m['content']}\n" for m in conversation)

    def count_prompt_tokens(self, conversation: Conversation) -> int | None:
        return len(self.render(conversation).split())

    def loglikelihood(self, requests: Sequence[tuple[str, str]], advance: Advance) -> list[LogLik]:
        out = []
        for context, continuation in requests:
            if callable(self.logprobs):
                logprob = self.logprobs(context, continuation)
            elif self.logprobs is not None and continuation in self.logprobs:
                logprob = self.logprobs[continuation]
            else:
                logprob = -float(len(continuation.split()))
            out.append(LogLik(float(logprob), max(len(continuation.split()), 1), False))
        advance(len(requests))
        return out
