"""Evaluation throughput: the harness's batched generator against the guides' loop, a transformers
`pipeline("text-generation")` called once per example, on the same items, model, precision and greedy
decoding, in one invocation.

    .venv/bin/python bench/eval_throughput.py                 # 32 contract test items, the task's prompt
    .venv/bin/python bench/eval_throughput.py --items 64 --shots 2

Prints examples/s for both, the ratio (issue 14's goal: >= 5x) and how many answers agree. The harness
stops a row as soon as its JSON object is closed (harness.prompting.answer_end), as it does in a run; the loop runs
to the model's end of turn. Answers agree when the loop's answer, cut at the same place, is identical.
Both run in the precision a run would use on this machine (harness.models.precision), or --dtype.
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
import harness  # noqa: E402,F401  # before torch: its process settings (huge pages) apply to both loops alike


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--task", default=str(ROOT / "tasks" / "contracts.yaml"))
    parser.add_argument("--items", type=int, default=32)
    parser.add_argument("--shots", type=int, default=0)
    parser.add_argument("--batch-size", type=int, default=None, help="default: the task's generation.batch_size")
    parser.add_argument("--dtype", default=None, help="default: the task's model.dtype (auto: chosen per machine)")
    args = parser.parse_args()

    import torch
    from transformers import pipeline

    from harness.backends.hf import HFGenerator
    from harness.data.loading import load_data
    from harness.models.loading import load_causal_lm, resolve
    from harness.prompting.answer_end import answer_end_for, cut
    from harness.prompting.conversations import conversation, fixed_shots
    from harness.spec.taskfile import load_spec

    task = load_spec(args.task)
    data = load_data(task)
    items = data.test[: args.items]
    shots = fixed_shots(data.train, args.shots, 0) if args.shots else []
    conversations = [conversation(ex.item(), task.spec.prompt, shots) for ex in items]
    budget = task.spec.generation.max_new_tokens
    model, tokenizer, device = load_causal_lm(resolve(task.spec.model.base), args.dtype or task.spec.model.dtype)
    print(f"{len(items)} items of {task.path.name}, {args.shots} shots, {budget} new tokens at most, "
          f"{next(model.parameters()).dtype} on {device}, {torch.get_num_threads()} threads")

    loop = pipeline("text-generation", model=model, tokenizer=tokenizer, device=device)
    began = time.perf_counter()
    guide = []
    for conv in conversations:
        out = loop(list(conv), max_new_tokens=budget, do_sample=False, return_full_text=False)
        guide.append(out[0]["generated_text"].strip())
    guide_s = time.perf_counter() - began

    generator = HFGenerator(model, tokenizer, device, args.batch_size or task.spec.generation.batch_size, "bench")
    began = time.perf_counter()
    end = answer_end_for(task.spec.output.type)
    ours = [g.text for g in generator.generate(conversations, budget, lambda n: None, answer_end=end)]
    ours_s = time.perf_counter() - began

    same = sum(cut(a, end)[0].strip() == b for a, b in zip(guide, ours))
    cut_short = sum(cut(a, end)[1] for a in guide)
    print(f"pipeline, one call per example  {len(items) / guide_s:6.3f} examples/s  ({guide_s:6.1f} s)")
    print(f"harness, batched               {len(items) / ours_s:6.3f} examples/s  ({ours_s:6.1f} s)")
    print(f"ratio {guide_s / ours_s:.2f}x   agreeing answers {same}/{len(items)} "
          f"({cut_short} of the loop's answers went on after a complete object)")


if __name__ == "__main__":
    main()
