"""How many optimizer steps does the contracts LoRA arm need, at which learning rate? The quick profile's sweep can
prune a trial at its first validation score only if that score already tells a good trial from a bad one.

    .venv/bin/python bench/lora_steps.py                                 # 2e-3 and 4e-3, scored at steps 8, 12, 16, 24
    .venv/bin/python bench/lora_steps.py --rates 3e-3 --at 6,12 --train 48

One adapter per learning rate, trained on the quick profile's training subset with the arm's other settings
(r, alpha, batch, cosine schedule over the whole run), and scored by generation on the quick profile's validation
subset at the given steps, as a sweep trial is. Prints json_valid, the primary metric and the seconds spent
training so far (wall and CPU) at each step.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("HF_HUB_OFFLINE", "1")


def main() -> None:
    from harness.cli.output import progress
    from harness.data.examples import seeded_subset
    from harness.models.loading import resolve
    from harness.run.pipeline import RunOptions, _context, _load
    from harness.tuning.training import train_adapter

    parser = argparse.ArgumentParser()
    parser.add_argument("--task", default="tasks/contracts.yaml")
    parser.add_argument("--rates", default="2e-3,4e-3")
    parser.add_argument("--at", default="8,12,16,24", help="steps at which to score (the last one is the run's end)")
    parser.add_argument("--train", type=int, help="training examples (default: the default profile's train_limit)")
    parser.add_argument("--items", type=int, help="validation items (default: the default profile's validation_limit)")
    parser.add_argument("--batch", type=int, help="batch size (default: the arm's)")
    args = parser.parse_args()

    task, data, arms, _ = _load(args.task, RunOptions(profile="full"))
    quick = task.spec.profile(None)
    arm = next(a for a in arms if a.trains and a.spec.type == "lora")
    train = seeded_subset(data.train, args.train or quick.train_limit, 0)
    items = seeded_subset(data.validation, args.items or quick.validation_limit, 0)
    at = [int(s) for s in args.at.split(",")]

    base = resolve(task.spec.model.base)
    with tempfile.TemporaryDirectory() as tmp:
        ctx = _context(task, data, arms, quick, base, progress(True), Path(tmp), RunOptions())
        primary = task.spec.decision.primary_metric
        print(f"{arm.name}: {len(train)} training examples, {len(items)} validation items, precision {ctx.generators.precision}")
        print(f"{'lr':>8} {'step':>5} {'json_valid':>10} {primary:>14} {'train s':>8} {'train CPU s':>11} {'eval s':>7}")
        for rate in [float(r) for r in args.rates.split(",")]:
            hp = dict(arm.spec.hyperparameters(), learning_rate=rate, epochs=1)
            if args.batch:
                hp["batch_size"] = args.batch
            clock = {"wall": time.perf_counter(), "cpu": time.process_time(), "eval_wall": 0.0, "eval_cpu": 0.0}

            def evaluate(model: object, step: int, epoch: float) -> bool:
                if step not in at:
                    return False
                trained = time.perf_counter() - clock["wall"] - clock["eval_wall"]
                trained_cpu = time.process_time() - clock["cpu"] - clock["eval_cpu"]
                began, began_cpu = time.perf_counter(), time.process_time()
                valid, score = _scores(model, ctx, items)
                clock["eval_wall"] += time.perf_counter() - began
                clock["eval_cpu"] += time.process_time() - began_cpu
                print(f"{rate:8.0e} {step:5d} {valid:10.3f} {score:14.3f} {trained:8.0f} {trained_cpu:11.0f} "
                      f"{time.perf_counter() - began:7.0f}", flush=True)
                return False

            train_adapter(base, train, task.spec.prompt, hp, Path(tmp) / f"lr-{rate}", device=ctx.generators.device,
                          max_length=arm.spec.max_length, evaluate=evaluate, eval_every=1, max_steps=max(at),
                          prompt_format=ctx.generators.prompt_format.name, dtype=ctx.generators.precision)


def _scores(model: Any, ctx: Any, items: list[Any]) -> tuple[float, float]:
    """(json_valid, primary metric) of the model's greedy answers, generated as a sweep trial's are
    (harness.arms.trials.validate: the tuned arm's short prompt, answers cut at the closed object)."""
    import numpy as np

    from harness.metrics.builtin import aggregate_key, score_key
    from harness.prompting.answer_end import answer_end_for
    from harness.prompting.conversations import conversation

    spec = ctx.task.spec
    shape = spec.output_shape()
    generator = ctx.generators.wrap(model, "trial")
    convs = [conversation(ex.item(), spec.prompt, with_instructions=False) for ex in items]
    outs = generator.generate(convs, spec.generation.max_new_tokens, lambda n: None,
                              answer_end=answer_end_for(spec.output.type))
    texts = ["" if o.error else o.text for o in outs]
    targets = [ex.target for ex in items]
    primary = spec.decision.primary_metric
    values = {key: np.asarray([score_key(key, t, g, shape) for t, g in zip(texts, targets)])
              for key in ("json_valid", primary)}
    return (float(values["json_valid"].mean()),
            float(aggregate_key(primary, texts, targets, values[primary], shape)))


if __name__ == "__main__":
    main()
