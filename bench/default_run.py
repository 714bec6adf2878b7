"""The default run, cold: `harness run tasks/contracts.yaml` as `make run` starts it, timed stage by stage, with
everything it found.

    .venv/bin/python bench/default_run.py            # one cold run (issue 23's goal: <= 12 min on 2 cores)
    .venv/bin/python bench/default_run.py --again    # then the same command with --no-cache: every arm
                                                     # recomputed, the suite's base-model scores reused

Cold means: a fresh database and work folder, and a fresh harness cache (HARNESS_CACHE) holding only what
`make install` leaves: the converted SmolLM2 (linked in) and the near-duplicate check's embeddings of the shipped
data, which `harness prepare` (the install's last step) computes again here, timed and printed on its own line. The
precision probe, the embeddings of similar-shot selection and retrieval, and the file hashes are all computed again. Run it alone: it
prints the CPU time the run got beside its wall time, and on 2 cores a share well under 2 cores/s means another
process took some (a number measured then is not the machine's).

Prints the wall time, each stage's seconds, every arm's json_valid and json_field_f1 on the test items and its
primary metric on validation (where the verdict's baseline is chosen), every sweep trial, the verdict, and the tuned
arm against its own untrained base: the base model answering the tuned arm's exact prompt (no instructions, no
shots) on the same test items.
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("HF_HUB_OFFLINE", "1")


def cold_cache(folder: Path) -> Path:
    """A harness cache with the installed models only (linked, not copied)."""
    from harness.hub import cache_root

    cache = folder / "harness-cache"
    cache.mkdir(parents=True, exist_ok=True)
    installed = cache_root() / "models"
    if installed.is_dir() and not (cache / "models").exists():
        (cache / "models").symlink_to(installed, target_is_directory=True)
    return cache


def install_prepare(task: str, env: dict[str, str]) -> float:
    """`harness prepare` as `make install` runs it (wall seconds): install-time work, not the run's."""
    began = time.perf_counter()
    subprocess.run([str(Path(sys.executable).parent / "harness"), "prepare", task], check=True, cwd=ROOT, env=env,
                   stdout=subprocess.DEVNULL)
    return time.perf_counter() - began


def run(task: str, folder: Path, env: dict[str, str], *extra: str) -> tuple[float, float]:
    """(wall seconds, CPU seconds of the run's process)."""
    command = [str(Path(sys.executable).parent / "harness"), "run", task, "--db", str(folder / "h.duckdb"),
               "--reports", str(folder / "reports"), "--workdir", str(folder / "exp"), "--quiet", *extra]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    began = time.perf_counter()
    subprocess.run(command, check=False, cwd=ROOT, env=env, stdout=subprocess.DEVNULL)
    wall = time.perf_counter() - began
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def show(db: Path, wall: float, cpu: float, label: str) -> tuple[str, list[str]]:
    from harness.store.database import Store

    with Store.open(db, read_only=True) as store, store.session():
        run_id = store.query("SELECT run_id FROM runs ORDER BY started_at DESC LIMIT 1")[0][0]
        run = store.run(run_id)
        stages = store.stages(run_id)
        metrics = store.query("SELECT arm, split, metric, value FROM metrics WHERE run_id = ? "
                              "AND metric IN ('json_valid', 'json_field_f1')", [run_id])
        counts = dict(store.query("SELECT split, count(*) FROM examples WHERE run_id = ? GROUP BY split", [run_id]))
        tests = store.query("SELECT example_id FROM examples WHERE run_id = ? AND split = 'test'", [run_id])
        trials = store.trials(run_id)
    decision = run.decision or {}
    print(f"\n{label}: {wall / 60:.1f} min wall ({wall:.0f} s), run {run_id}, {run.status}, precision "
          f"{run.precision}; the run's process got {cpu:.0f} CPU s, {cpu / wall:.2f} cores on average "
          f"({os.cpu_count()} cores here)")
    for s in stages:
        print(f"  {s.stage:22} {s.arm or '':30} {s.seconds:7.1f} s")
    table: dict[str, dict[tuple[str, str], float]] = {}
    for arm, split, metric, value in metrics:
        table.setdefault(arm, {})[(split, metric)] = value
    nan = float("nan")
    print(f"  {'arm':30} {'json_valid':>10} {'json_field_f1':>14}   ({counts.get('test', 0)} test items)   "
          f"json_field_f1 on validation ({counts.get('validation', 0)} items)")
    for arm, values in table.items():
        print(f"  {arm:30} {values.get(('test', 'json_valid'), nan):10.3f} {values.get(('test', 'json_field_f1'), nan):14.3f}"
              f"   {values.get(('validation', 'json_field_f1'), nan):14.3f}")
    for t in trials:
        steps = [e.get("step") for e in t.intermediate]
        print(f"  trial {t.arm}/{t.trial_number}: {t.state}, validation {t.value if t.value is not None else nan:.3f}, "
              f"scored at steps {steps}, trained {t.train_seconds or 0:.0f} s, {t.params}")
    print(f"  baseline: {decision.get('baseline')} (chosen by {decision.get('baseline_selection')} from "
          f"{', '.join(decision.get('baselines') or []) or '-'})")
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
    parser.add_argument("--warm-cache", action="store_true",
                        help="use ~/.cache/harness as it is (embeddings and the precision probe from earlier runs)")
    parser.add_argument("--no-base", action="store_true", help="skip the untrained base on the tuned arm's prompt")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = args.keep or Path(tmp)
        folder.mkdir(parents=True, exist_ok=True)
        env = dict(os.environ)
        if not args.warm_cache:
            env["HARNESS_CACHE"] = str(cold_cache(folder))
            print(f"install step `harness prepare {args.task}` (models converted at install are linked in): "
                  f"{install_prepare(args.task, env):.0f} s, not part of the run's time", flush=True)
        wall, cpu = run(args.task, folder, env)
        _, test_ids = show(folder / "h.duckdb", wall, cpu, "cold run" if not args.warm_cache else "run (warm cache)")
        if args.again:
            wall, cpu = run(args.task, folder, env, "--no-cache")
            show(folder / "h.duckdb", wall, cpu, "second run, --no-cache (arms recomputed; the suite's base scores reused)")
        if not args.no_base:
            untrained_base(args.task, test_ids)


if __name__ == "__main__":
    main()
