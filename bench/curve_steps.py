"""Why a learning curve's points hold the optimizer steps fixed: a small subset trained for the full size's steps
against the same subset trained for the full size's epochs (steps proportional to its size), scored on the test
items, side by side.

    .venv/bin/python bench/curve_steps.py                                  # support_tickets, 1/8 of the training data
    .venv/bin/python bench/curve_steps.py --task tasks/contracts.yaml --profile curve --fractions 0.125 0.25

Uses the task profile's tuned-arm settings (the LoRA arm's own hyperparameters under the profile's caps, as a
one-trial sweep runs them) and the curve's nested subset with seed 0: exactly the points `harness run --profile
curve` trains, and the same subsets under the other rule. Prints the primary metric, steps and training seconds.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("HF_HUB_OFFLINE", "1")


def main() -> None:
    import numpy as np

    import harness  # noqa: F401  (process settings before torch loads)
    from harness.arms.answering import answer
    from harness.backends.hf import HFGenerator
    from harness.data.examples import seeded_subset
    from harness.data.loading import load_data
    from harness.metrics.builtin import aggregate_key, score_key
    from harness.models.loading import resolve
    from harness.models.precision import choose_precision
    from harness.prompting.conversations import conversation
    from harness.spec import CurveSpec
    from harness.spec.taskfile import load_spec
    from harness.tuning.curve import plan_points
    from harness.tuning.training import train_adapter

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--task", default="tasks/support_tickets.yaml")
    parser.add_argument("--profile", default="curve")
    parser.add_argument("--fractions", type=float, nargs="+", default=[0.125])
    parser.add_argument("--steps", nargs="+", choices=["fixed", "proportional"], default=["fixed", "proportional"],
                        help="the rules to train (one alone: the other's figure from an earlier invocation)")
    args = parser.parse_args()

    task = load_spec(args.task)
    data = load_data(task)
    spec = task.spec
    profile = spec.profile(args.profile)
    arm = next(a for a in spec.arms if a.produces_adapter)
    hp = profile.apply(arm.hyperparameters())
    limit = min((v for v in (arm.train_limit, profile.train_limit) if v is not None), default=None)
    train = seeded_subset(data.train, limit, 0)
    test = data.test if profile.test_limit is None else data.subsample("test", profile.test_limit, 0).test
    labels = list(spec.output.labels) if spec.output.type == "label" else None
    base = resolve(spec.model.base)
    dtype = choose_precision(spec.model.dtype, "cpu")[0]
    primary = spec.decision.primary_metric
    shape = spec.output_shape()
    by_id = {ex.id: ex for ex in train}
    print(f"{args.task} ({args.profile}): {len(train)} training examples, {len(test)} test items, {primary}; "
          f"hyperparameters {hp}")
    with tempfile.TemporaryDirectory() as tmp:
        for fraction in args.fractions:
            rows = []
            for rule in args.steps:
                settings = CurveSpec(fractions=[fraction], steps=rule)
                point = next(p for p in plan_points(arm.name, settings, train, hp, 0, 0, labels) if not p.own)
                began = time.perf_counter()
                model, tokenizer, result = train_adapter(
                    base, [by_id[i] for i in point.train_ids], spec.prompt, hp, Path(tmp) / f"{fraction}-{rule}",
                    device="cpu", max_length=arm.max_length, seed=point.train_seed, max_steps=point.steps,
                    prompt_format=spec.model.prompt_format, dtype=dtype)
                seconds = time.perf_counter() - began
                generator = HFGenerator(model, tokenizer, "cpu", spec.generation.batch_size, f"{rule} {fraction}")
                convs = [conversation(ex.item(), spec.prompt, with_instructions=False) for ex in test]
                outs = [a.generation for a in answer(generator, convs, arm, spec.output, spec.generation.max_new_tokens,
                                                     lambda n: None)]
                texts = ["" if o.error else o.text for o in outs]
                values = np.array([score_key(primary, t, ex.target, shape) for t, ex in zip(texts, test)])
                value = aggregate_key(primary, texts, [ex.target for ex in test], values, shape)
                rows.append((rule, point.size, result.steps, seconds, value))
                print(f"  {fraction:g} of the data ({point.size} examples), steps {rule:12}: {result.steps:4d} steps, "
                      f"{seconds:6.0f} s, {primary} {value:.3f}", flush=True)
            if len(rows) == 2:
                (_, _, _, _, fixed), (_, _, _, _, proportional) = rows
                print(f"  -> fixed minus proportional: {fixed - proportional:+.3f} {primary}")


if __name__ == "__main__":
    main()
