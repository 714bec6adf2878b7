"""The floating-point precision a run computes in, chosen once per run from the hardware's capability.

    model: {dtype: auto}        # the default: measured per machine (below)
    model: {dtype: float32}     # forced by the task file

CUDA: bf16 where the GPU supports it, else fp16. CPU: it depends on the chip, and by a lot. On an
AVX2-only machine bf16 training ran ~19x slower than fp32 (no native bf16 arithmetic); on an AVX-512-BF16
one bf16 trained faster than fp32 and generated 2.3x faster. So "CPU means fp32" is wrong, and so is
"CPU means bf16": a short probe times the matrix products a small model is made of in both precisions
and keeps bf16 only where it is clearly faster. The answer is cached per CPU model, flags and torch
version (~/.cache/harness/precision.json), so the probe runs once per machine kind.

Every arm of a run uses the run's precision (a comparison between arms stays fair), and the precision
is part of each arm's identity: a cached result computed in another precision is not reused.
"""

from __future__ import annotations

import hashlib
import json
import platform
import time
from pathlib import Path
from typing import Any

from harness.atomic import write_text_atomic
from harness.digest import content_hash
from harness.hub import cache_root

# bf16 must beat fp32 by this margin in the probe: a near tie is not worth outputs that differ from fp32
BF16_MIN_SPEEDUP = 1.25
# (rows, in, out): a batch of positions through SmolLM2-135M-sized projections (hidden 576, MLP 1536)
PROBE_SHAPES = ((512, 576, 1536), (512, 1536, 576), (512, 576, 576))


def _cpu_identity() -> dict[str, Any]:
    import torch

    model, flags = platform.processor() or platform.machine(), ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name") and model in ("", platform.machine(), platform.processor()):
                model = line.split(":", 1)[1].strip()
            elif line.startswith("flags") and not flags:
                flags = line.split(":", 1)[1].strip()
    except OSError:
        pass
    return {
        "cpu": model,
        "flags": hashlib.sha256(flags.encode()).hexdigest()[:12],
        "torch": torch.__version__,
        "capability": torch.backends.cpu.get_cpu_capability(),
        "threads": torch.get_num_threads(),
    }


def _bf16_supported() -> bool:
    """oneDNN's own answer: does this CPU have native bf16 instructions (AVX512-BF16, AMX)?"""
    import torch

    try:
        return bool(torch.backends.mkldnn.is_available() and torch.ops.mkldnn._is_mkldnn_bf16_supported())
    except (AttributeError, RuntimeError):
        return False


def probe_cpu(repeats: int = 20) -> dict[str, float]:
    """Seconds per round of the probe's matrix products, fp32 and bf16 (best of three timings each)."""
    import torch

    timings = {}
    for dtype in (torch.float32, torch.bfloat16):
        gen = torch.Generator().manual_seed(0)
        pairs = [(torch.randn(m, k, generator=gen).to(dtype), torch.randn(k, n, generator=gen).to(dtype))
                 for m, k, n in PROBE_SHAPES]
        for a, b in pairs:  # warm-up: oneDNN picks and caches its kernels on first use
            a @ b
        best = float("inf")
        for _ in range(3):
            began = time.perf_counter()
            for _ in range(repeats):
                for a, b in pairs:
                    a @ b
            best = min(best, (time.perf_counter() - began) / repeats)
        timings[str(dtype).removeprefix("torch.")] = best
    return timings


def _cache_file() -> Path:
    return cache_root() / "precision.json"


def cpu_choice() -> dict[str, Any]:
    """{'dtype': 'float32' | 'bfloat16', 'reason': ...}, probed once per machine kind and cached."""
    identity = _cpu_identity()
    key = content_hash(identity)
    path = _cache_file()
    try:
        cached = json.loads(path.read_text())
    except (OSError, ValueError):
        cached = {}
    if key in cached:
        return cached[key]
    if not _bf16_supported():
        choice = {"dtype": "float32", "reason": f"no native bf16 on this CPU ({identity['capability']})"}
    else:
        timings = probe_cpu()
        speedup = timings["float32"] / timings["bfloat16"]
        dtype = "bfloat16" if speedup >= BF16_MIN_SPEEDUP else "float32"
        choice = {"dtype": dtype, "bf16_speedup": round(speedup, 2),
                  "reason": f"bf16 matrix products {speedup:.2f}x fp32 on this CPU ({identity['capability']}); "
                            f"bf16 needs >= {BF16_MIN_SPEEDUP}x"}
    choice["cpu"] = identity["cpu"]
    cached[key] = choice
    try:
        write_text_atomic(path, json.dumps(cached, indent=2))
    except OSError:
        pass  # a read-only cache costs a probe per run, not a failure
    return choice


def choose_precision(requested: str, device: str) -> tuple[str, str]:
    """(dtype name, why): the task's `model.dtype` when it names one, else the device's best."""
    if requested != "auto":
        return requested, "set by the task file (model.dtype)"
    if device == "cuda":
        import torch

        if torch.cuda.is_bf16_supported():
            return "bfloat16", "CUDA with bf16 support"
        return "float16", "CUDA without bf16 support"
    if device == "cpu":
        choice = cpu_choice()
        return choice["dtype"], choice["reason"]
    return "float32", f"{device}: full precision"
