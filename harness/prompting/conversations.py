"""Chat conversations for an item: system prompt, task instructions, shots, the item's own turns."""

from __future__ import annotations

import random
from collections.abc import Sequence

from harness.data.examples import Example, Item
from harness.spec import PromptSpec


def system_text(prompt: PromptSpec, item: Item, with_instructions: bool, context: str = "") -> str:
    """The item's own system message wins over the task's; instructions and context are appended."""
    own = next((m["content"] for m in item.messages if m["role"] == "system"), None)
    parts = [own if own is not None else prompt.system]
    if with_instructions and prompt.instructions:
        parts.append(prompt.instructions)
    if context:
        parts.append(context)
    return "\n\n".join(p.strip() for p in parts if p and p.strip())


def conversation(
    item: Item,
    prompt: PromptSpec,
    shots: Sequence[Example] = (),
    with_instructions: bool = True,
    context: str = "",
) -> list[dict]:
    system = system_text(prompt, item, with_instructions, context)
    messages = [{"role": "system", "content": system}] if system else []
    for shot in shots:
        messages += [m for m in shot.messages if m["role"] != "system"]
        messages.append({"role": "assistant", "content": shot.target})
    messages += [m for m in item.messages if m["role"] != "system"]
    return messages


def fixed_shots(train: Sequence[Example], k: int, seed: int) -> list[Example]:
    """k training examples drawn once with a seed: every item sees the same shots."""
    if k > len(train):
        from harness.errors import HarnessError

        raise HarnessError(f"{k} shots asked for, but the train split has only {len(train)} examples")
    return random.Random(seed).sample(list(train), k)
