"""A fresh install from the lock, cold: `make install` (uv) against pip installing the same files, side by side.

    python3 bench/install.py                      # two new venvs in a temporary folder
    python3 bench/install.py --dir /work/venvs/b  # ... in this folder (kept)

Cold means: a new venv, and a new, empty package cache for each tool (UV_CACHE_DIR, PIP_CACHE_DIR), so every
wheel is fetched from its source (PyPI, or this machine's local wheel folder and indexes for torch) and unpacked.
`harness prepare` (part of `make install`: the embedded SmolLM2's one-time conversion into safetensors and the
near-duplicate check's embeddings of the shipped data) is timed on its own, with an empty ~/.cache/harness
(HARNESS_CACHE). Prints each tool's seconds, the ratio, whether both
venvs hold the same versions, and that torch is the CPU build in both.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PIP_STEPS = (
    ["-r", "requirements/lock.txt"],
    ["--no-deps", "-r", "requirements/no-deps.txt"],
    ["--no-deps", "--no-build-isolation", "-e", "."],
)


def timed(command: list[str], env: dict[str, str]) -> float:
    began = time.perf_counter()
    subprocess.run(command, cwd=ROOT, env=env, check=True)
    return time.perf_counter() - began


def freeze(venv: Path) -> dict[str, str]:
    listing = subprocess.run([str(venv / "bin" / "python"), "-m", "pip", "list", "--format", "freeze",
                              "--exclude-editable"], capture_output=True, text=True, check=True).stdout
    pairs = (line.split("==") for line in listing.splitlines() if "==" in line)
    return {name.lower().replace("_", "-"): version for name, version in pairs if name.lower() not in ("pip", "uv")}


def torch_build(venv: Path) -> str:
    return subprocess.run([str(venv / "bin" / "python"), "-c", "import torch; print(torch.__version__, "
                           "'cuda' if torch.version.cuda else 'cpu')"], capture_output=True, text=True,
                          check=True).stdout.strip()


def install_pip(venv: Path, cache: Path) -> float:
    env = {**os.environ, "PIP_CACHE_DIR": str(cache)}
    began = time.perf_counter()
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    for step in PIP_STEPS:
        timed([str(venv / "bin" / "python"), "-m", "pip", "install", "-qq", *step], env)
    return time.perf_counter() - began


def install_uv(venv: Path, cache: Path, models: Path) -> float:
    """`make install` itself, with its model conversion pointed at an empty cache."""
    env = {**os.environ, "UV_CACHE_DIR": str(cache), "PIP_CACHE_DIR": str(cache / "pip"), "HARNESS_CACHE": str(models)}
    return timed(["make", "--no-print-directory", "install", f"VENV={venv}"], env)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--dir", type=Path, help="where the venvs and caches go (kept); default: a temporary folder")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = args.dir or Path(tmp)
        for name in ("pip", "uv", "pip-cache", "uv-cache", "models", "models-again"):
            shutil.rmtree(folder / name, ignore_errors=True)
        folder.mkdir(parents=True, exist_ok=True)
        pip_s = install_pip(folder / "pip", folder / "pip-cache")
        uv_s = install_uv(folder / "uv", folder / "uv-cache", folder / "models")
        env = {**os.environ, "HARNESS_CACHE": str(folder / "models-again"), "HF_HUB_OFFLINE": "1"}
        convert_s = timed([str(folder / "uv" / "bin" / "harness"), "prepare", "tasks/contracts.yaml"], env)
        a, b = freeze(folder / "pip"), freeze(folder / "uv")
        differ = sorted(k for k in a.keys() | b.keys() if a.get(k) != b.get(k))
        print(f"\nfresh install from requirements/lock.txt + no-deps.txt, empty package caches (CPU: {cpu()})")
        print(f"  pip install (same files)       {pip_s:7.1f} s   torch {torch_build(folder / 'pip')}")
        print(f"  make install (uv)              {uv_s:7.1f} s   torch {torch_build(folder / 'uv')}   "
              f"{pip_s / uv_s:.2f}x faster")
        print(f"    of which `harness prepare` (the model conversion and the data's embeddings, timed again alone) "
              f"{convert_s:.1f} s")
        print(f"  packages: {len(b)} in the uv venv; versions that differ from pip's: {', '.join(differ) or 'none'}")


def cpu() -> str:
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            return f"{line.split(':', 1)[1].strip()}, {os.cpu_count()} cores"
    return f"{os.cpu_count()} cores"


if __name__ == "__main__":
    main()
