"""Does a change leave what `harness run` stores unchanged? One reduced but real run (the embedded SmolLM2 on
tasks/contracts.yaml: zero-shot, fixed shots, similar shots constrained to the schema, hybrid RAG, a one-trial
LoRA sweep and RAG on its adapter, with the general-capability suite) on two checkouts, same seed, each into a
fresh database and work folder; then every stored row compared, table by table.

    .venv/bin/python bench/rows_unchanged.py --before 2a13df3                 # this tree against commit 2a13df3
    .venv/bin/python bench/rows_unchanged.py --before 2a13df3 --after i24     # two commits
    .venv/bin/python bench/rows_unchanged.py --before 2a13df3 --only-before --keep /tmp/rows   # run one side now
    .venv/bin/python bench/rows_unchanged.py --before-db /tmp/rows/before-run/h.duckdb --after HEAD

Times, run ids (in paths too), hosts, the run's own folders, throughput and peak memory are left out of the
comparison (they differ by nature), and so are seconds quoted in the reasons; a latency-derived figure in a decision
(the cost view) is left out the same way. Prints, per table, the rows
compared and how many differ, and the first differences; exits 1 when any row differs.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import duckdb
import yaml

ROOT = Path(__file__).resolve().parent.parent
TASK = ROOT / "tasks" / "contracts.yaml"
PROFILE = {  # every arm kind, few items: minutes, not the default run's quarter hour
    "test_limit": 6, "validation_limit": 6, "train_limit": 16, "trials": 1, "epochs": 1, "merge": False,
    "arms": ["zero_shot", "few_shot", "dynamic_few_shot_constrained", "rag", "lora", "rag_lora"],
    "regression": {"mmlu_items": 8, "general_items": 8, "perplexity_docs": 2, "trial_items": 4},
}
VOLATILE = {"run_id", "started_at", "finished_at", "created_at", "seconds", "latency_s", "host", "pid", "process",
            "report_path", "task_path", "train_seconds", "eval_seconds", "heartbeat_at", "duration_s", "cached_from",
            "tokens_per_s", "peak_memory_mb"}  # rates and the process's peak memory are measured, not computed
RUN_ID = re.compile(r"\d{8}-\d{6}-[0-9a-f]{6}")  # in an adapter's path under the run's work folder
SECONDS = re.compile(r"\b\d+(\.\d+)? s\b")  # "training lora (all sweep trials) took 463 s" in the reasons
TABLES = ["runs", "arms", "examples", "predictions", "scores", "metrics", "trials", "findings", "stages",
          "run_suites", "suite_results", "suite_rows", "suite_documents", "indexes"]


def task_file(folder: Path) -> Path:
    """tasks/contracts.yaml with absolute data paths and the `rows` profile, written into folder."""
    spec = yaml.safe_load(TASK.read_text())
    for split in ("train", "validation", "test"):
        spec["data"][split] = str(TASK.parent / spec["data"][split])
    spec["corpus"]["path"] = str(TASK.parent / spec["corpus"]["path"])
    spec["profiles"]["rows"] = PROFILE
    out = folder / "contracts.yaml"
    out.write_text(yaml.safe_dump(spec, sort_keys=False))
    return out


def run(checkout: Path, task: Path, work: Path) -> Path:
    work.mkdir(parents=True)
    db = work / "h.duckdb"
    # the task file is written elsewhere and names the checkout's data: allowed through the variable, which
    # checkouts from before the rule ignore
    env = dict(os.environ, PYTHONPATH=str(checkout), HARNESS_ALLOW_PATHS=str(TASK.parent))
    subprocess.run([sys.executable, "-m", "harness.cli", "run", str(task), "--profile", "rows", "--seed", "0",
                    "--db", str(db), "--reports", str(work / "reports"), "--workdir", str(work / "exp"), "--quiet"],
                   cwd=checkout, env=env, check=True)
    return db


def _clean(value: Any, folder: str) -> Any:
    """A stored value without what differs by nature: its run's folder in paths, latency figures in JSON."""
    if isinstance(value, str):
        value = SECONDS.sub("<n> s", RUN_ID.sub("<run>", value.replace(folder, "<work>")))
        if value[:1] in "{[":
            try:
                return json.dumps(_clean(json.loads(value), folder), sort_keys=True)
            except ValueError:
                return value
        return value
    if isinstance(value, dict):
        return {k: _clean(v, folder) for k, v in value.items() if k not in VOLATILE and "latency" not in k
                and not k.endswith("_seconds") and k not in ("cost", "costs", "break_even")}
    if isinstance(value, list):
        return [_clean(v, folder) for v in value]
    return value


def rows(db: Path, table: str) -> list[tuple]:
    con = duckdb.connect(str(db), read_only=True)
    try:
        columns = [c[0] for c in con.execute(f"DESCRIBE {table}").fetchall() if c[0] not in VOLATILE]
        if table.startswith("chunks_"):
            columns = [c for c in columns if c != "embedding"]
        found = con.execute(f"SELECT {', '.join(columns)} FROM {table}").fetchall()
    finally:
        con.close()
    folder = str(db.parent)
    return sorted((tuple(_clean(v, folder) for v in row) for row in found), key=repr)


def compare(before: Path, after: Path) -> int:
    differing = 0
    for table in TABLES:
        a, b = rows(before, table), rows(after, table)
        only_a = [r for r in a if r not in b]
        only_b = [r for r in b if r not in a]
        differing += len(only_a) + len(only_b)
        print(f"{table:16s} {len(a):6d} rows before, {len(b):6d} after, {len(only_a) + len(only_b):4d} differ")
        for r in (only_a[:2] + only_b[:2]):
            print(f"    {'before' if r in only_a else 'after '}: {repr(r)[:400]}")
    print("identical" if not differing else f"{differing} rows differ")
    return 1 if differing else 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--before", help="the commit to compare against")
    parser.add_argument("--after", help="the commit to compare (default: this working tree)")
    parser.add_argument("--before-db", type=Path, help="a kept run of --before instead of running it again")
    parser.add_argument("--after-db", type=Path, help="a kept run of --after instead of running it again")
    parser.add_argument("--keep", type=Path, help="keep the databases in this folder (before-run/, after-run/)")
    parser.add_argument("--only-before", action="store_true", help="run --before only (with --keep)")
    args = parser.parse_args()
    if not (args.before or args.before_db):
        parser.error("--before REV or --before-db FILE")
    with tempfile.TemporaryDirectory(prefix="rows-unchanged-") as tmp:
        folder = args.keep or Path(tmp)
        task = task_file(Path(tmp))
        checkouts: list[Path] = []
        try:
            def tree(rev: str | None) -> Path:
                if rev is None:
                    return ROOT
                checkout = Path(tmp) / f"checkout-{len(checkouts)}"
                subprocess.run(["git", "worktree", "add", "--detach", str(checkout), rev], cwd=ROOT, check=True)
                checkouts.append(checkout)
                return checkout

            before = args.before_db or run(tree(args.before), task, folder / "before-run")
            if args.only_before:
                print(f"kept {before}")
                return 0
            after = args.after_db or run(tree(args.after), task, folder / "after-run")
            return compare(before, after)
        finally:
            for checkout in checkouts:
                subprocess.run(["git", "worktree", "remove", "--force", str(checkout)], cwd=ROOT, check=False)


if __name__ == "__main__":
    sys.exit(main())
