"""The default run, cold: `harness run tasks/contracts.yaml` on a fresh database and work folder (models
already cached, nothing else), timed stage by stage, with what it found.

    .venv/bin/python bench/default_run.py            # one cold run (~10 min on 2 cores)
    .venv/bin/python bench/default_run.py --again    # then the same command with --no-cache: every arm
                                                     # recomputed, the suite's base-model scores reused

Prints the wall time (issue 14's goal: <= 12 min), each stage's seconds, every arm's json_valid and
json_field_f1 on the test items, the verdict, and the tuned arm against its own untrained base: the base
model answering the tuned arm's exact prompt (no instructions, no shots) on the same test items.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("HF_HUB_OFFLINE", "1")


def run(task: str, folder: Path, *extra: str) -> float:
    command = [str(Path(sys.executable).parent / "harness"), "run", task, "--db", str(folder / "h.duckdb"),
               "--reports", str(folder / "reports"), "--workdir", str(folder / "exp"), "--quiet", *extra]
    began = time.perf_counter()
    subprocess.run(command, check=False, cwd=ROOT, stdout=subprocess.DEVNULL)
    return time.perf_counter() - began


def show(db: Path, wall: float, label: str) -> tuple[str, list[str]]:
    from harness.store.database import Store

    with Store.open(db, read_only=True) as store, store.session():
        run_id = store.query("SELECT run_id FROM runs ORDER BY started_at DESC LIMIT 1")[0][0]
        run = store.run(run_id)
        stages = store.stages(run_id)
        metrics = store.query("SELECT arm, metric, value FROM metrics WHERE run_id = ? AND split = 'test' "
                              "AND metric IN ('json_valid', 'json_field_f1')", [run_id])
        tests = store.query("SELECT example_id FROM examples WHERE run_id = ? AND split = 'test'", [run_id])
    decision = run.decision or {}
    print(f"\n{label}: {wall / 60:.1f} min wall ({wall:.0f} s), run {run_id}, {run.status}, precision {run.precision}")
    for s in stages:
        print(f"  {s.stage:22} {s.arm or '':30} {s.seconds:7.1f} s")
    table: dict[str, dict[str, float]] = {}
    for arm, metric, value in metrics:
        table.setdefault(arm, {})[metric] = value
    print(f"  {'arm':30} {'json_valid':>10} {'json_field_f1':>14}   ({len(tests)} test items)")
    for arm, values in table.items():
        print(f"  {arm:30} {values.get('json_valid', float('nan')):10.3f} {values.get('json_field_f1', float('nan')):14.3f}")
    print(f"  verdict: {decision.get('verdict')}: {(decision.get('reasons') or [''])[0]}")
    return run_id, [t[0] for t in tests]


def untrained_base(task_path: str, test_ids: list[str]) -> None:
    """The base model on the tuned arm's prompt (no instructions): what tuning started from."""
    from harness.backends.hf import HFGenerator
    from harness.data.loading import load_data
    from harness.metrics.builtin import score_key
    from harness.models.loading import load_causal_lm, resolve
    from harness.prompting.answer_end import answer_end_for
    from harness.prompting.conversations import conversation
    from harness.spec.taskfile import load_spec

    task = load_spec(task_path)
    data = load_data(task)
    wanted = set(test_ids)
    items = [ex for ex in data.test if ex.id in wanted]
    model, tokenizer, device = load_causal_lm(resolve(task.spec.model.base), task.spec.model.dtype)
    generator = HFGenerator(model, tokenizer, device, task.spec.generation.batch_size, "untrained base")
    convs = [conversation(ex.item(), task.spec.prompt, with_instructions=False) for ex in items]
    outs = generator.generate(convs, task.spec.generation.max_new_tokens, lambda n: None,
                              answer_end=answer_end_for(task.spec.output.type))
    shape = task.spec.output_shape()
    valid = sum(score_key("json_valid", "" if o.error else o.text, ex.target, shape) for o, ex in zip(outs, items))
    f1 = sum(score_key("json_field_f1", "" if o.error else o.text, ex.target, shape) for o, ex in zip(outs, items))
    print(f"  untrained base, the tuned arm's prompt: json_valid {valid / len(items):.3f}, "
          f"json_field_f1 {f1 / len(items):.3f} ({len(items)} test items)")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--task", default="tasks/contracts.yaml")
    parser.add_argument("--again", action="store_true", help="a second run with --no-cache on the same database")
    parser.add_argument("--keep", type=Path, help="keep the database, reports and adapters in this folder")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = args.keep or Path(tmp)
        folder.mkdir(parents=True, exist_ok=True)
        wall = run(args.task, folder)
        _, test_ids = show(folder / "h.duckdb", wall, "cold run")
        if args.again:
            wall = run(args.task, folder, "--no-cache")
            show(folder / "h.duckdb", wall, "second run, --no-cache (arms recomputed; the suite's base scores reused)")
        untrained_base(args.task, test_ids)


if __name__ == "__main__":
    main()
