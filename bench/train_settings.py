"""LoRA training tokens/s on this machine: the harness against TRL as its documentation shows it, on the
same model, examples and number of steps, in one invocation.

    .venv/bin/python bench/train_settings.py [--steps 6] [--batch-size 8]

Three settings, each after the same warm-up:
  harness        the run's precision (harness.models.precision: measured per CPU, or --dtype), frozen base stored in
                 that precision, no gradient checkpointing, the LM head on answer positions only
  TRL defaults   SFTConfig's defaults: bf16 autocast over fp32 weights, gradient checkpointing, TRL's loss
  TRL fp32       fp32, no gradient checkpointing
The baseline is the faster TRL setting (issue 14's goal: harness >= 2x it). Tokens are non-padding input
tokens. Each line also shows the share of the CPU's peak in the precision used: model FLOPs (4 x matmul
parameters per token: forward 2N, backward to the activations 2N; the frozen base needs no weight
gradients) over the best rate of large matrix products measured here in that dtype.
Machines are noisy: compare ratios within one invocation, never absolute numbers across machines.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from harness.data.loading import load_data  # noqa: E402
from harness.models.loading import load_tokenizer, pick_device, quiet_hf, resolve  # noqa: E402
from harness.models.precision import choose_precision  # noqa: E402
from harness.spec.taskfile import load_spec  # noqa: E402
from harness.tuning.training import train_adapter, training_rows  # noqa: E402

HP = {"learning_rate": 1e-3, "r": 16, "alpha": 32, "dropout": 0.05, "epochs": 1, "target_modules": "all-linear",
      "weight_decay": 0.0, "warmup_ratio": 0.0, "batch_size": 8, "grad_accum": 1, "scheduler": "constant"}


def trl_run(base, rows, steps: int, batch: int, out: Path, **overrides) -> tuple[float, int, float]:
    """Plain TRL as its documentation shows it, plus only what is needed to run (and `overrides`)."""
    from datasets import Dataset
    from peft import LoraConfig
    from transformers import AutoModelForCausalLM
    from transformers.trainer_callback import PrinterCallback
    from trl import SFTConfig, SFTTrainer

    device = pick_device()
    tokenizer = load_tokenizer(base)
    model = AutoModelForCausalLM.from_pretrained(base.path)
    config = SFTConfig(output_dir=str(out), max_steps=steps, per_device_train_batch_size=batch, learning_rate=1e-3,
                       max_length=512, report_to="none", save_strategy="no", logging_steps=1000, disable_tqdm=True,
                       use_cpu=device == "cpu", include_num_input_tokens_seen="non_padding", **overrides)
    peft = LoraConfig(r=16, lora_alpha=32, lora_dropout=0.05, target_modules="all-linear", task_type="CAUSAL_LM")
    trainer = SFTTrainer(model=model, args=config, train_dataset=Dataset.from_list(rows), processing_class=tokenizer,
                         peft_config=peft)
    trainer.remove_callback(PrinterCallback)
    began = time.perf_counter()
    trainer.train()
    seconds = time.perf_counter() - began
    tokens = int(trainer.state.num_input_tokens_seen)
    return tokens / seconds, tokens, seconds


def matmul_peak(dtype_name: str, size: int = 2048, repeats: int = 6) -> float:
    """FLOP/s of the best of several large square matrix products in `dtype_name` on all threads."""
    import torch

    dtype = getattr(torch, dtype_name)
    a, b = torch.randn(size, size).to(dtype), torch.randn(size, size).to(dtype)
    a @ b
    best = float("inf")
    for _ in range(repeats):
        began = time.perf_counter()
        a @ b
        best = min(best, time.perf_counter() - began)
    return 2 * size**3 / best


def matmul_params(base) -> int:
    """Parameters that take part in a matrix product per token: every linear layer and the LM head (the
    input embedding is a lookup)."""
    import torch
    from transformers import AutoModelForCausalLM

    model = AutoModelForCausalLM.from_pretrained(base.path)
    return sum(m.weight.numel() for m in model.modules() if isinstance(m, torch.nn.Linear))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--task", default="tasks/contracts.yaml")
    parser.add_argument("--steps", type=int, default=6)
    parser.add_argument("--batch-size", type=int, default=8)
    parser.add_argument("--dtype", default="auto", help="the harness's precision (default: the run's choice)")
    parser.add_argument("--skip-trl-defaults", action="store_true", help="gradient checkpointing makes it the slowest")
    args = parser.parse_args()
    quiet_hf()
    task = load_spec(args.task)
    data = load_data(task)
    base = resolve(task.spec.model.base)
    examples = data.train[: args.steps * args.batch_size]
    rows = training_rows(examples, task.spec.prompt)
    device = pick_device()
    dtype, why = choose_precision(args.dtype, device)
    hp = dict(HP, batch_size=args.batch_size)
    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        # warm-up, not measured: the first training in a process pays for lazy imports and allocator growth
        train_adapter(base, examples[: args.batch_size], task.spec.prompt, hp, Path(tmp, "warmup"), device=device,
                      max_length=512, max_steps=1, dtype=dtype)
        _, _, harness = train_adapter(base, examples, task.spec.prompt, hp, Path(tmp, "harness"), device=device,
                                      max_length=512, max_steps=args.steps, dtype=dtype)
        results[f"harness ({dtype})"] = (harness.tokens_per_s, harness.train_tokens, harness.train_seconds, dtype)
        if not args.skip_trl_defaults:
            results["TRL defaults (bf16 autocast, checkpointing)"] = (
                *trl_run(base, rows, args.steps, args.batch_size, Path(tmp, "trl")), "bfloat16")
        results["TRL fp32, no checkpointing"] = (
            *trl_run(base, rows, args.steps, args.batch_size, Path(tmp, "fp32"), bf16=False,
                     gradient_checkpointing=False), "float32")
    n = matmul_params(base)
    peaks = {d: matmul_peak(d) for d in {r[3] for r in results.values()}}
    trl = {k: v for k, v in results.items() if k.startswith("TRL")}
    baseline_name = max(trl, key=lambda k: trl[k][0])
    baseline = trl[baseline_name][0]
    print(f"LoRA training on {base.id} ({base.source}), device {device}, {args.steps} steps x batch {args.batch_size}; "
          f"harness precision {dtype}: {why}")
    print("CPU matmul peak: " + ", ".join(f"{d} {p / 1e9:.0f} GFLOP/s" for d, p in sorted(peaks.items())))
    print(f"{'setting':46} {'tokens/s':>9} {'tokens':>7} {'seconds':>8} {'of peak':>8} {'vs ' + baseline_name[:14]:>20}")
    for name, (tps, tokens, seconds, d) in results.items():
        share = 4 * n * tps / peaks[d]
        print(f"{name:46} {tps:9.1f} {tokens:7d} {seconds:8.1f} {share:7.1%} {tps / baseline:19.2f}x")


if __name__ == "__main__":
    main()
