"""Continuous batching over slots (the harness's decode loop) against transformers' generate() on left-padded
batches of the same size, with the same shared-prefix cache, items, precision and greedy decoding: free
answers and answers constrained to the task's JSON schema, in one invocation.

    .venv/bin/python bench/continuous_batching.py                # 32 contract test items, 2 fixed shots
    .venv/bin/python bench/continuous_batching.py --items 64 --shots 0

Prints seconds for each, the ratio, and how many answers are identical.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("HF_HUB_OFFLINE", "1")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--task", default=str(ROOT / "tasks" / "contracts.yaml"))
    parser.add_argument("--items", type=int, default=32)
    parser.add_argument("--shots", type=int, default=2)
    args = parser.parse_args()

    from harness.arms.answering import constraint_for
    from harness.backends.hf import HFGenerator
    from harness.data.loading import load_data
    from harness.models.loading import load_causal_lm, resolve
    from harness.prompting.answer_end import answer_end_for
    from harness.prompting.conversations import conversation, fixed_shots
    from harness.spec.taskfile import load_spec

    task = load_spec(args.task)
    data = load_data(task)
    shots = fixed_shots(data.train, args.shots, 0) if args.shots else []
    conversations = [conversation(ex.item(), task.spec.prompt, shots) for ex in data.test[: args.items]]
    budget, width = task.spec.generation.max_new_tokens, task.spec.generation.batch_size
    model, tokenizer, device = load_causal_lm(resolve(task.spec.model.base), task.spec.model.dtype)
    end = answer_end_for(task.spec.output.type)
    print(f"{len(conversations)} items of {task.path.name}, {args.shots} shots, {budget} new tokens at most, "
          f"{width} rows at a time, {next(model.parameters()).dtype} on {device}")
    for label, constraint in (("free", None), ("constrained", constraint_for(task.spec.output))):
        seconds, answers = {}, {}
        for continuous in (False, True):
            generator = HFGenerator(model, tokenizer, device, width, "bench", continuous=continuous)
            began = time.perf_counter()
            out = generator.generate(conversations, budget, lambda n: None, constraint=constraint, answer_end=end)
            seconds[continuous] = time.perf_counter() - began
            answers[continuous] = [g.text for g in out]
        same = sum(a == b for a, b in zip(answers[False], answers[True]))
        print(f"{label:12s} generate() {seconds[False]:6.1f} s   slots {seconds[True]:6.1f} s   "
              f"ratio {seconds[False] / seconds[True]:.2f}x   identical answers {same}/{len(conversations)}")


if __name__ == "__main__":
    main()
