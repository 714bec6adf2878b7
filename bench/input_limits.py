"""What the input limits protect against and what they cost: `harness validate` on the tiny task (tiny random model,
near-duplicate checks off) with inputs at and past each limit, each in its own process, peak memory and wall time
beside the unmodified task's.

    .venv/bin/python bench/input_limits.py            # about 2 minutes on 2 cores; --quick skips the 64 MiB file

Side by side, in one invocation:
  baseline          the tiny task as written
  one example       a single JSONL line of 1/4, 1 and 4 MiB (the limit), and one byte past it (refused)
  data file         16 and 64 MiB of ordinary examples: peak memory per byte read, extrapolated to the 1 GiB limit
  past 1 GiB        a (sparse) data file one byte over the limit: refused from its size, nothing read
  task file         1 MiB of YAML (the limit) holding 100,000 values (the expansion bound), and an alias bomb of
                    10^9 values (refused before anything is built)
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

RUNNER = """
import resource, sys, time
sys.path.insert(0, {root!r})
from harness.cli import main
began = time.perf_counter()
code = main(sys.argv[1:])
print("BENCH", code, time.perf_counter() - began, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, file=sys.stderr)
"""
MiB = 1 << 20


def validate(task: Path, work: Path) -> tuple[int, float, float, str]:
    """(exit code, seconds, peak MiB, first error line) of `harness validate` in a fresh process."""
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "HARNESS_CACHE": str(work / "cache"), "TOKENIZERS_PARALLELISM": "false"}
    out = subprocess.run([sys.executable, "-c", RUNNER.format(root=str(ROOT)), "validate", str(task), "--quiet",
                          "--db", str(work / "h.duckdb"), "--reports", str(work / "r"), "--workdir", str(work / "e")],
                         capture_output=True, text=True, env=env)
    line = next(x for x in out.stderr.splitlines() if x.startswith("BENCH"))
    _, code, seconds, kib = line.split()
    error = next((x for x in out.stderr.splitlines() if x.startswith("error:")), "")
    return int(code), float(seconds), int(kib) / 1024, error


def copy_task(base: Path, work: Path, name: str) -> Path:
    folder = work / name
    shutil.copytree(base, folder)
    return folder


def examples_of(size: int, prefix: str) -> list[str]:
    """JSONL lines of ordinary examples (about 300 bytes each) adding up to `size` bytes."""
    lines, total, i = [], 0, 0
    while total < size:
        row = {"id": f"{prefix}{i}", "messages": [
            {"role": "user", "content": f"Contract {prefix}{i}: Acme Corp agrees with Beta LLC for {i % 40 + 2} months, "
                                        f"renewable annually unless either party gives sixty days written notice."},
            {"role": "assistant", "content": json.dumps({"party": "Acme Corp", "months": i % 40 + 2})}]}
        lines.append(json.dumps(row))
        total += len(lines[-1]) + 1
        i += 1
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="skip the 64 MiB data file")
    args = parser.parse_args()
    from conftest import build_tiny_model, write_tiny_task

    from harness.spec.limits import EXAMPLE_LIMIT

    work = Path(tempfile.mkdtemp(prefix="input-limits-"))
    try:
        model = build_tiny_model(work / "model")
        base = work / "base"
        write_tiny_task(base, model)
        rows = []

        def case(name: str, folder: Path, note: str = "") -> None:
            code, seconds, peak, error = validate(folder / "task.yaml", folder)
            rows.append((name, code, seconds, peak, note or error[:70]))
            print(f"{name:<34} exit {code}  {seconds:6.2f} s  {peak:8.0f} MiB  {note or error[:70]}", flush=True)

        case("baseline", copy_task(base, work, "baseline"))
        for size in (EXAMPLE_LIMIT // 16, EXAMPLE_LIMIT // 4, EXAMPLE_LIMIT - 200, EXAMPLE_LIMIT + 1):
            folder = copy_task(base, work, f"example-{size}")
            train = folder / "data" / "train.jsonl"
            lines = train.read_text().splitlines()
            row = json.loads(lines[0])
            row["messages"][0]["content"] = "x"
            overhead = len(json.dumps(row))
            row["messages"][0]["content"] = ("word " * size)[: size - overhead + 1]
            lines[0] = json.dumps(row)
            train.write_text("\n".join(lines) + "\n")
            case(f"one example of {len(lines[0]) / MiB:.2f} MiB", folder)
        peaks = {}
        for mib in (16,) if args.quick else (16, 64):
            folder = copy_task(base, work, f"file-{mib}")
            (folder / "data" / "train.jsonl").write_text("\n".join(examples_of(mib * MiB, "tr")) + "\n")
            case(f"data file of {mib} MiB", folder)
            peaks[mib] = rows[-1][3]
        baseline_peak = rows[0][3]
        per_mib = max((peaks[m] - baseline_peak) / m for m in peaks)
        print(f"{'':<34} peak memory per MiB of data: {per_mib:.1f} MiB; at the 1 GiB limit about "
              f"{baseline_peak + per_mib * 1024:,.0f} MiB (extrapolated)")
        folder = copy_task(base, work, "file-over")
        with (folder / "data" / "train.jsonl").open("r+b") as fh:
            fh.truncate((1 << 30) + 1)
        case("data file of 1 GiB + 1 byte", folder)
        folder = copy_task(base, work, "task-1mib")
        task = folder / "task.yaml"
        text = task.read_text()
        task.write_text(text + f"description: \"{'x' * (MiB - len(text) - 20)}\"\n")
        case("task file of 1 MiB", folder)
        folder = copy_task(base, work, "task-100k")
        task = folder / "task.yaml"
        task.write_text(task.read_text().replace("  fields: [party, months]", "  fields: [party, months]\n  json_schema: "
                        "{type: object, properties: {party: {type: string}, months: {type: integer, enum: ["
                        + ", ".join(str(i) for i in range(99_000)) + "]}}}"))
        case("task file of 99,000 values", folder)
        folder = copy_task(base, work, "task-bomb")
        task = folder / "task.yaml"
        bomb = "".join(f"b{i}: &b{i} [{', '.join([f'*b{i - 1}' if i else '1'] * 10)}]\n" for i in range(9))
        task.write_text(bomb + task.read_text())
        case("task file of an alias bomb (10^9)", folder)
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
