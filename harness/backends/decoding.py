"""From a row's generated token ids to its answer text: where the answer ends (an end-of-turn token, a stop string,
a complete answer) and how many tokens it took. One routine for every backend that returns token ids (the local
transformers loop and vLLM), so the same tokens give the same answer on both.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from harness.backends import Conversation
from harness.prompting.answer_end import AnswerEnd, cut
from harness.prompting.template import PromptFormat, truncate_at_stop


class HarnessPrompts:
    """Prompts rendered and tokenized by the harness (its prompt format over the base model's tokenizer), so every
    backend that takes token ids reads the same tokens. Needs `tokenizer` and `prompt_format` attributes."""

    tokenizer: Any
    prompt_format: PromptFormat

    def render(self, conversation: Conversation) -> str:
        return self.prompt_format.render(self.tokenizer, conversation)

    def _encode(self, conversation: Conversation) -> list[int]:
        return self.prompt_format.encode(self.tokenizer, self.render(conversation))

    def count_prompt_tokens(self, conversation: Conversation) -> int:
        return len(self._encode(conversation))


class Ends:
    """Where a row's answer ends: an end-of-turn token, a stop string, or (with answer_end) a complete answer."""

    def __init__(self, tokenizer: Any, eos: Any, stop_strings: Sequence[str], answer_end: AnswerEnd | None):
        self.tokenizer = tokenizer
        self.eos_ids = set(eos if isinstance(eos, list) else [eos])
        self.stop_strings = tuple(stop_strings)
        self.answer_end = answer_end

    def done(self, tokens: list[int]) -> bool:
        if tokens[-1] in self.eos_ids:
            return True
        if not self.stop_strings and self.answer_end is None:
            return False
        text = self.tokenizer.decode(tokens, skip_special_tokens=True)
        return any(s in text for s in self.stop_strings) or (
            self.answer_end is not None and self.answer_end(text) is not None)


@dataclass(frozen=True)
class Answer:
    text: str  # stripped
    n_tokens: int  # the tokens the answer took, its end included
    ended: bool  # it ended by itself (end of turn, stop string, complete answer), not at the token budget
    kept: list[int]  # the tokens before an end-of-turn token


def answer_from_tokens(tokenizer: Any, new: list[int], ends: Ends) -> Answer:
    """The answer of one row from its new tokens (up to and including an end-of-turn token, if any)."""
    stop = next((k for k, tok in enumerate(new) if tok in ends.eos_ids), None)
    kept = new if stop is None else new[:stop]
    text = tokenizer.decode(kept, skip_special_tokens=True)
    text, at_stop_string = truncate_at_stop(text, ends.stop_strings)
    text, complete = cut(text, ends.answer_end)
    if complete:  # the tokens up to the end of the answer
        n_out = min(len(kept), len(tokenizer(text, add_special_tokens=False)["input_ids"]))
    elif stop is not None:
        n_out = stop + 1
    elif at_stop_string:  # ended by a stop string: count the tokens up to and including it
        upto = text + ends.stop_strings[0]
        n_out = min(len(new), len(tokenizer(upto, add_special_tokens=False)["input_ids"]))
    else:
        n_out = len(new)
    return Answer(text.strip(), n_out, stop is not None or at_stop_string or complete, kept)
