"""Training peak memory on a CUDA GPU: QLoRA (4-bit NF4 base) against LoRA in float32 and in bfloat16, the same
examples and steps, in one invocation (scripts/gpu-check.sh runs it; the goal: QLoRA <= 0.5x LoRA).

    .venv/bin/python bench/train_memory.py [--task tasks/contracts.yaml] [--base google/gemma-3-270m] [--steps 8]

Peak memory is torch.cuda.max_memory_allocated over each training run (harness.training). Without CUDA it says
so and exits 0: on a CPU, 4-bit training runs ~20x slower and process RSS measures something else.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from harness.data.loading import load_data  # noqa: E402
from harness.models.loading import resolve  # noqa: E402
from harness.spec.taskfile import load_spec  # noqa: E402
from harness.tuning.training import train_adapter  # noqa: E402

HP = {"learning_rate": 1e-3, "r": 16, "alpha": 32, "dropout": 0.05, "epochs": 1, "target_modules": "all-linear",
      "weight_decay": 0.0, "warmup_ratio": 0.0, "batch_size": 8, "grad_accum": 1, "scheduler": "constant"}


def main() -> int:
    import torch

    parser = argparse.ArgumentParser()
    parser.add_argument("--task", default="tasks/contracts.yaml")
    parser.add_argument("--base", default=None, help="another base model than the task's")
    parser.add_argument("--steps", type=int, default=8)
    parser.add_argument("--out", type=Path, default=None, help="also write the figures here as JSON")
    args = parser.parse_args()
    if not torch.cuda.is_available():
        print("train_memory: no CUDA GPU here; QLoRA's memory is measured on a GPU only")
        return 0
    task = load_spec(args.task)
    base = resolve(args.base or task.spec.model.base)
    train = load_data(task).train
    peaks = {}
    for label, quantize, dtype in (("LoRA float32", False, "float32"), ("LoRA bfloat16", False, "bfloat16"),
                                   ("QLoRA (4-bit base)", True, "bfloat16")):
        torch.cuda.empty_cache()
        torch.cuda.reset_peak_memory_stats()
        with tempfile.TemporaryDirectory() as tmp:
            _, _, result = train_adapter(base, train, task.spec.prompt, HP, Path(tmp) / "adapter", device="cuda",
                                         quantize=quantize, max_steps=args.steps, dtype=dtype, max_length=512)
        peaks[label] = result.peak_memory_mb
        print(f"{label:20s} peak {result.peak_memory_mb:9.0f} MB   {result.tokens_per_s:9.0f} tokens/s")
    ratio = peaks["QLoRA (4-bit base)"] / peaks["LoRA bfloat16"]
    print(f"QLoRA / LoRA bfloat16 peak memory: {ratio:.2f}x (goal <= 0.5x); "
          f"QLoRA / LoRA float32: {peaks['QLoRA (4-bit base)'] / peaks['LoRA float32']:.2f}x; base {base.id}")
    if args.out:
        args.out.write_text(json.dumps({"base": base.id, "peak_mb": peaks, "qlora_over_lora_bf16": ratio}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
