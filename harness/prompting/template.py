"""How a conversation becomes the text a model reads: its chat template, or, for a base model that has
none, plain completion blocks.

    chat        the tokenizer's chat template (instruct and chat models)
    completion  system text, then each shot and the item as "Input: ... / Output: ..." blocks; the model
                continues after the last "Output:" and is stopped at the next "Input:"

`model.prompt_format: auto` (the default) takes chat when the tokenizer has a template, else completion.
Prompted and RAG arms, training rows and data checks all render through the chosen format, and each arm
records it in its identity, so a result says which format produced it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from harness.errors import HarnessError

REQUESTS = ("auto", "chat", "completion")
INPUT, OUTPUT = "Input:", "Output:"


class ChatFormat:
    name = "chat"
    stop_strings: tuple[str, ...] = ()
    answer_lead = ""  # the template's generation prompt ends where the answer begins

    def render(self, tokenizer: Any, conversation: Sequence[dict]) -> str:
        return tokenizer.apply_chat_template(list(conversation), tokenize=False, add_generation_prompt=True)

    def encode(self, tokenizer: Any, text: str) -> list[int]:
        return tokenizer(text, add_special_tokens=False)["input_ids"]  # the template wrote its special tokens

    def training_row(self, tokenizer: Any, prompt: Sequence[dict], target: str) -> dict[str, Any]:
        """TRL's conversational prompt-completion row: loss on the assistant's answer only."""
        return {"prompt": list(prompt), "completion": [{"role": "assistant", "content": target}]}


class CompletionFormat:
    name = "completion"
    stop_strings = ("\n" + INPUT,)
    answer_lead = " "  # "Output:" is followed by a space and the answer, as the shots show

    def render(self, tokenizer: Any, conversation: Sequence[dict]) -> str:
        parts: list[str] = []
        for message in conversation:
            content = message["content"].strip()
            if message["role"] == "system":
                parts.append(content + "\n\n")
            elif message["role"] == "assistant":
                parts.append(f"{OUTPUT} {content}\n\n")
            else:
                parts.append(f"{INPUT} {content}\n")
        return "".join(parts) + OUTPUT

    def encode(self, tokenizer: Any, text: str) -> list[int]:
        return tokenizer(text)["input_ids"]  # BOS as the tokenizer adds it, the same as in training

    def training_row(self, tokenizer: Any, prompt: Sequence[dict], target: str) -> dict[str, Any]:
        """TRL's plain-text prompt-completion row; TRL adds BOS to the prompt and EOS after the completion, so
        a tuned model stops by itself."""
        return {"prompt": self.render(tokenizer, prompt), "completion": self.answer_lead + target.strip()}


PromptFormat = ChatFormat | CompletionFormat


def choose_format(requested: str, tokenizer: Any, model_id: str) -> PromptFormat:
    """The format for a model: as the task asks, or (auto) by whether its tokenizer has a chat template."""
    if requested not in REQUESTS:
        raise ValueError(f"prompt format must be one of {REQUESTS}, got {requested!r}")
    has_template = getattr(tokenizer, "chat_template", None) is not None
    if requested == "chat" and not has_template:
        raise HarnessError(f"model {model_id!r}: its tokenizer has no chat template, so model.prompt_format: chat "
                           "cannot be used; use auto or completion (Input:/Output: blocks)")
    if requested == "completion" or not has_template:
        return CompletionFormat()
    return ChatFormat()


def truncate_at_stop(text: str, stop_strings: Sequence[str]) -> tuple[str, bool]:
    """The text up to the first stop string, and whether one was found."""
    cut = min((i for i in (text.find(s) for s in stop_strings) if i >= 0), default=-1)
    return (text[:cut], True) if cut >= 0 else (text, False)
