"""Any OpenAI-compatible chat endpoint as a generator (hosted APIs, vLLM, llama.cpp server).

The API key is read from the environment variable the task names, at call time; it is never stored, and
never appears in a recorded error, nor does a password in the URL, as it was sent (Authorization: Basic) or
echoed back. Each request is retried on transient failures (harness.backends.retry)
up to `max_retries` times; what still fails is one item's error, never the whole arm's.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace

from harness.backends import Advance, Conversation, Generation, LogLik
from harness.backends.retry import (
    MalformedResponse,
    backoff_s,
    is_transient,
    retry_after_s,
)
from harness.errors import HarnessError
from harness.prompting.answer_end import AnswerEnd, cut
from harness.prompting.constraints import Constraint, openai_constraint_args
from harness.redact import Scrubber, public_url


class OpenAIGenerator:
    answer_lead = ""  # the server's chat template; choices are scored only locally

    def __init__(
        self,
        base_url: str,
        model: str,
        api_key_env: str | None,
        concurrency: int = 4,
        timeout_s: float = 60.0,
        max_retries: int = 2,
        seed: int = 0,
        server_kind: str = "openai",
        backoff_s: float = 0.5,
        max_backoff_s: float = 30.0,
    ):
        from openai import OpenAI

        if api_key_env is not None:
            api_key = os.environ.get(api_key_env)
            if not api_key:
                raise HarnessError(f"environment variable {api_key_env} is not set (it holds the API key for {public_url(base_url)})")
        else:
            api_key = "not-needed"  # local servers (vLLM, llama.cpp) accept any key
        # our loop retries instead of the SDK's: it also covers malformed and empty answers, under one cap
        self.client = OpenAI(base_url=base_url, api_key=api_key, timeout=timeout_s, max_retries=0)
        self._scrub = Scrubber(base_url, api_key if api_key_env is not None else None)
        self.max_retries, self.backoff_s, self.max_backoff_s = max_retries, backoff_s, max_backoff_s
        self.model = model
        self.concurrency = concurrency
        self.seed = seed
        self.server_kind = server_kind
        self.description = f"{model} at {public_url(base_url)}"

    def render(self, conversation: Conversation) -> str:
        raise HarnessError(f"{self.description}: the server applies its own chat template; its prompt text is unknown")

    def count_prompt_tokens(self, conversation: Conversation) -> int | None:
        return None  # only the server knows its tokenizer; usage comes back with each answer

    def loglikelihood(self, requests: Sequence[tuple[str, str]], advance: Advance) -> list[LogLik]:
        raise HarnessError(f"{self.description}: log-likelihood scoring is unsupported on a chat endpoint "
                           "(it returns no prompt log-probabilities); use answer: constrained, which sends the "
                           "label set as a guided choice where the server supports it")

    def _attempt(self, conversation: Conversation, max_new_tokens: int, constraint_args: dict) -> Generation:
        began = time.perf_counter()
        try:
            resp = self.client.chat.completions.create(
                model=self.model,
                messages=list(conversation),
                temperature=0.0,
                max_tokens=max_new_tokens,
                seed=self.seed,
                **constraint_args,
            )
        except json.JSONDecodeError as exc:  # the SDK parses a 200's body without catching this
            raise MalformedResponse(f"the response is not valid JSON ({exc})") from None
        latency = time.perf_counter() - began
        try:
            content = resp.choices[0].message.content
        except (AttributeError, IndexError, KeyError, TypeError):
            raise MalformedResponse("the response has no choices" if not getattr(resp, "choices", None)
                                    else "the response's first choice has no message") from None
        usage = resp.usage
        return Generation(
            (content or "").strip(),
            usage.prompt_tokens if usage else None,
            usage.completion_tokens if usage else None,
            latency,  # of the answered attempt: retries and waits are the endpoint's trouble, not serving cost
        )

    def _one(self, conversation: Conversation, max_new_tokens: int, constraint_args: dict) -> Generation:
        """One item: retried on transient failures; after the last try, a Generation that carries the error."""
        began = time.perf_counter()
        for attempt in range(self.max_retries + 1):
            try:
                return self._attempt(conversation, max_new_tokens, constraint_args)
            except Exception as exc:  # noqa: BLE001 - whatever an endpoint does fails one item, not the arm
                error = f"{type(exc).__name__}: {exc}"
                if not is_transient(exc) or attempt == self.max_retries:
                    break
                time.sleep(backoff_s(attempt, self.backoff_s, self.max_backoff_s, retry_after_s(exc)))
        tries = f" (after {attempt + 1} attempts)" if attempt else ""
        return Generation("", None, None, time.perf_counter() - began, error=self._scrub(error)[:480] + tries)

    def generate(self, conversations: Sequence[Conversation], max_new_tokens: int, advance: Advance,
                 constraint: Constraint | None = None, answer_end: AnswerEnd | None = None) -> list[Generation]:
        # "unsupported" is raised here, before any request, when this kind of server cannot enforce the constraint
        args = openai_constraint_args(constraint, self.server_kind) if constraint is not None else {}

        def run(conv: Conversation) -> Generation:
            result = self._one(conv, max_new_tokens, args)
            advance(1)
            # the server cannot be told where an answer ends; cut where a local model would have stopped
            return replace(result, text=cut(result.text, answer_end)[0].strip()) if answer_end else result

        with ThreadPoolExecutor(max_workers=self.concurrency) as pool:
            return list(pool.map(run, conversations))
