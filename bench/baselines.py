"""Which untrained arms can the default profile afford? Each candidate on the validation items where the verdict
picks its baseline: its primary metric, its seconds per item, and the prompt tokens it prefills per item.

    .venv/bin/python bench/baselines.py                                  # every untrained arm of the task
    .venv/bin/python bench/baselines.py --arms zero_shot,few_shot_constrained --items 24

Fixed shots are one prompt head shared by every item, prefilled once (harness.backends.hf); similar-example shots
and retrieved context differ per item and are prefilled for each. So the lever is prompt tokens per item, and this
prints them beside the time: `own` is what each item prefills beyond the head every prompt shares. Seconds are wall
and CPU time of this process for the arm's answers on these items (model loading is done before the first arm).
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



def mean(xs: list[int]) -> float:
    return sum(xs) / len(xs)

def main() -> None:
    from dataclasses import replace

    from harness.backends.hf import shared_prefix_length
    from harness.cli.output import progress as quiet_progress
    from harness.data.examples import seeded_subset
    from harness.models.loading import resolve
    from harness.retrieval.index import build_retriever
    from harness.run.pipeline import RunOptions, _context, _load
    from harness.scoring.scores import score_arm
    from harness.store.database import Store

    parser = argparse.ArgumentParser()
    parser.add_argument("--task", default="tasks/contracts.yaml")
    parser.add_argument("--arms", help="comma-separated arm names (default: every arm without training)")
    parser.add_argument("--items", type=int, help="validation items (default: the default profile's validation_limit)")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    task, data, arms, profile = _load(args.task, RunOptions(profile="full"))
    wanted = args.arms.split(",") if args.arms else [a.name for a in arms if not a.trains]
    by_name = {a.name: a for a in arms}
    arms = [by_name[name] for name in wanted]  # in the order asked
    n = args.items or task.spec.profile(None).validation_limit
    items = seeded_subset(data.validation, n, args.seed)  # the subset a run's baselines answer
    progress = quiet_progress(True)  # a Progress that prints nothing
    with tempfile.TemporaryDirectory() as tmp:
        ctx = _context(task, data, arms, profile, resolve(task.spec.model.base), progress, Path(tmp), RunOptions())
        store = Store.open(Path(tmp) / "h.duckdb")
        ctx = replace(ctx, retriever=build_retriever(task, store, progress))
        ctx.generators.get(None)  # load the base model before the clocks start
        primary = task.spec.decision.primary_metric
        print(f"{len(items)} validation items, {task.spec.model.base}, precision {ctx.generators.precision}, "
              f"{os.cpu_count()} cores, torch threads {_threads()}")
        print(f"{'arm':32} {'json_valid':>10} {primary:>14} {'s/item':>8} {'CPU s/item':>10} {'prompt':>7} "
              f"{'shared':>7} {'own':>6} {'answer':>7}")
        for arm in arms:
            began, cpu = time.perf_counter(), time.process_time()
            output = arm.predict([ex.item() for ex in items], ctx, None)
            wall, cpu = time.perf_counter() - began, time.process_time() - cpu
            scored = score_arm(task.spec, items, output.predictions, lambda *a: (lambda k: None), args.seed,
                               ctx.retriever)
            metrics = {m["metric"]: m["value"] for m in scored.metrics}
            generator = ctx.generators.get(None)
            encoded = [generator._encode(p.prompt) for p in output.predictions]
            shared = shared_prefix_length(encoded)
            print(f"{arm.name:32} {metrics.get('json_valid', float('nan')):10.3f} "
                  f"{metrics.get(primary, float('nan')):14.3f} {wall / len(items):8.2f} {cpu / len(items):10.2f} "
                  f"{mean([len(e) for e in encoded]):7.0f} {shared:7d} {mean([len(e) - shared for e in encoded]):6.0f} "
                  f"{mean([p.output_tokens for p in output.predictions]):7.1f}", flush=True)
        store.close()


def _threads() -> int:
    import torch

    return torch.get_num_threads()


if __name__ == "__main__":
    main()
