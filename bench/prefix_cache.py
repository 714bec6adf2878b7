"""Batched few-shot generation with and without the shared-prefix KV cache, same items, one invocation.

    .venv/bin/python bench/prefix_cache.py [--items 16] [--shots 2]

Prints seconds for each and the speed-up ratio, and checks that the greedy answers are identical.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from harness.backends.hf import HFGenerator  # noqa: E402
from harness.data.loading import load_data  # noqa: E402
from harness.models.loading import load_causal_lm, resolve  # noqa: E402
from harness.prompting.conversations import conversation, fixed_shots  # noqa: E402
from harness.spec.taskfile import load_spec  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--task", default="tasks/contracts.yaml")
    parser.add_argument("--items", type=int, default=16)
    parser.add_argument("--shots", type=int, default=2)
    parser.add_argument("--max-new-tokens", type=int, default=32)
    args = parser.parse_args()
    task = load_spec(args.task)
    data = load_data(task)
    model, tokenizer, device = load_causal_lm(resolve(task.spec.model.base))
    shots = fixed_shots(data.train, args.shots, 7)
    convs = [conversation(ex.item(), task.spec.prompt, shots) for ex in data.test[: args.items]]
    timings, answers = {}, {}
    for reuse in (False, True):
        gen = HFGenerator(model, tokenizer, device, task.spec.generation.batch_size, "bench", reuse_prefix=reuse)
        began = time.perf_counter()
        answers[reuse] = [g.text for g in gen.generate(convs, args.max_new_tokens, lambda n: None)]
        timings[reuse] = time.perf_counter() - began
    prompt_tokens = sum(len(tokenizer.apply_chat_template(c, tokenize=True, add_generation_prompt=True,
                                                          return_dict=True)["input_ids"]) for c in convs) / len(convs)
    print(f"{args.items} items, {args.shots} shots, {prompt_tokens:.0f} prompt tokens/item, "
          f"{args.max_new_tokens} new tokens, device {device}")
    print(f"without shared-prefix cache: {timings[False]:7.1f} s")
    print(f"with shared-prefix cache:    {timings[True]:7.1f} s   ({timings[False] / timings[True]:.2f}x faster)")
    print(f"identical answers: {answers[False] == answers[True]}")


if __name__ == "__main__":
    main()
