"""What pruning saves: the same Optuna sweep of the contracts LoRA arm with the median pruner and without,
through `harness run`, each on a fresh study, in one invocation.

    .venv/bin/python bench/sweep_pruning.py                      # 6 trials x 3 epochs, ~25 min on 2 cores
    .venv/bin/python bench/sweep_pruning.py --trials 4 --epochs 2

Same sampler seed, so both sweeps draw the same hyperparameters in the same order; a pruned trial stops
at the end of an epoch whose validation score is below the median of earlier trials at that epoch.
Prints each sweep's time in training and validation (the `prepare` stage), its best validation score,
trials pruned, and the time saved. The test split and the regression suite are left out: only the sweep
is measured.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("HF_HUB_OFFLINE", "1")


def task_variant(source: Path, pruner: str, args: argparse.Namespace, out: Path) -> Path:
    spec = yaml.safe_load(source.read_text())
    for split in ("train", "validation", "test"):
        spec["data"][split] = str((source.parent / spec["data"][split]).resolve())
    spec["corpus"]["path"] = str((source.parent / spec["corpus"]["path"]).resolve())
    spec.pop("regression", None)
    lora = next(a for a in spec["arms"] if a["name"] == "lora")
    lora["sweep"].update(trials=args.trials, pruner=pruner, startup_trials=1, validation_limit=args.validation,
                         eval_every="epoch")
    lora["epochs"] = args.epochs
    spec["arms"] = [lora]
    spec["profiles"] = {"bench": {"test_limit": 2, "train_limit": args.train, "merge": False}}
    spec["default_profile"] = "bench"
    path = out / f"contracts-{pruner}.yaml"
    path.write_text(yaml.safe_dump(spec, sort_keys=False))
    return path


def sweep(task: Path, folder: Path) -> dict:
    from harness.store.database import Store

    command = [str(Path(sys.executable).parent / "harness"), "run", str(task), "--db", str(folder / "h.duckdb"),
               "--reports", str(folder / "reports"), "--workdir", str(folder / "exp"), "--quiet", "--no-cache"]
    began = time.perf_counter()
    subprocess.run(command, check=True, cwd=ROOT, stdout=subprocess.DEVNULL)
    wall = time.perf_counter() - began
    with Store.open(folder / "h.duckdb", read_only=True) as store, store.session():
        run_id = store.query("SELECT run_id FROM runs ORDER BY started_at DESC LIMIT 1")[0][0]
        prepare = sum(s.seconds for s in store.stages(run_id) if s.stage == "prepare")
        trials = store.query("SELECT trial_number, state, value, params_json FROM trials WHERE run_id = ? ORDER BY trial_number",
                             [run_id])
    return {"wall": wall, "prepare": prepare, "trials": trials}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--task", type=Path, default=ROOT / "tasks" / "contracts.yaml")
    parser.add_argument("--trials", type=int, default=6)
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--train", type=int, default=32, help="training examples per trial")
    parser.add_argument("--validation", type=int, default=12, help="validation items scored after each epoch")
    args = parser.parse_args()
    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        for pruner in ("none", "median"):
            folder = Path(tmp, pruner)
            folder.mkdir()
            results[pruner] = sweep(task_variant(args.task, pruner, args, folder), folder)
    print(f"LoRA sweep of {args.task.name}: {args.trials} trials x {args.epochs} epochs, {args.train} training "
          f"examples, {args.validation} validation items scored after each epoch")
    print(f"{'pruner':8} {'sweep s':>8} {'trials':>7} {'pruned':>7} {'best':>7}  trial values")
    for pruner, r in results.items():
        values = [v for _, state, v, _ in r["trials"] if state == "complete" and v is not None]
        pruned = sum(state == "pruned" for _, state, _, _ in r["trials"])
        shown = " ".join(f"{n}:{state[0]}:{v:.3f}" if v is not None else f"{n}:{state[0]}" for n, state, v, _ in r["trials"])
        print(f"{pruner:8} {r['prepare']:8.0f} {len(r['trials']):7d} {pruned:7d} {max(values, default=float('nan')):7.3f}  {shown}")
    saved = 1 - results["median"]["prepare"] / results["none"]["prepare"]
    same = max((v for _, s, v, _ in results["median"]["trials"] if s == "complete" and v is not None), default=None) == \
        max((v for _, s, v, _ in results["none"]["trials"] if s == "complete" and v is not None), default=None)
    print(f"pruning saved {saved:.0%} of the sweep's time; best validation score {'the same' if same else 'different'}")


if __name__ == "__main__":
    main()
