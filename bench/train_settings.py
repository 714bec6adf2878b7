"""LoRA training tokens/s on this machine: the harness's settings vs TRL's SFTConfig defaults vs TRL with
fp32 and no gradient checkpointing, on the same model, data and number of steps, in one invocation.

    .venv/bin/python bench/train_settings.py [--steps 2] [--batch-size 4]   # TRL defaults need ~10 min of that on 2 cores

Prints each setting's tokens/s and its ratio to TRL's defaults (the baseline). Machines are noisy:
compare the ratios, not the absolute numbers, and only within one invocation.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from harness.data import load_data  # noqa: E402
from harness.models import load_tokenizer, pick_device, quiet_hf, resolve  # noqa: E402
from harness.taskfile import load_spec  # noqa: E402
from harness.training import train_adapter, training_rows  # noqa: E402

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


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--task", default="tasks/contracts.yaml")
    parser.add_argument("--steps", type=int, default=2)
    parser.add_argument("--batch-size", type=int, default=4)
    args = parser.parse_args()
    quiet_hf()
    task = load_spec(args.task)
    data = load_data(task)
    base = resolve(task.spec.model.base)
    examples = data.train[: args.steps * args.batch_size]
    rows = training_rows(examples, task.spec.prompt)
    device = pick_device()
    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        # warm-up, not measured: the first training in a process pays for lazy imports and allocator growth
        train_adapter(base, examples[: args.batch_size], task.spec.prompt, dict(HP, batch_size=args.batch_size),
                      Path(tmp, "warmup"), device=device, max_length=512, max_steps=1)
        _, _, harness = train_adapter(base, examples, task.spec.prompt, dict(HP, batch_size=args.batch_size),
                                      Path(tmp, "harness"), device=device, max_length=512, max_steps=args.steps)
        results["harness settings"] = (harness.tokens_per_s, harness.train_tokens, harness.train_seconds)
        results["TRL defaults (bf16, gradient checkpointing)"] = trl_run(base, rows, args.steps, args.batch_size,
                                                                          Path(tmp, "trl"))
        results["TRL, fp32, no checkpointing"] = trl_run(base, rows, args.steps, args.batch_size, Path(tmp, "fp32"),
                                                          bf16=False, gradient_checkpointing=False)
    baseline = results["TRL defaults (bf16, gradient checkpointing)"][0]
    print(f"LoRA training on {base.id} ({base.source}), device {device}, {args.steps} steps x batch {args.batch_size}")
    print(f"{'setting':48} {'tokens/s':>10} {'tokens':>8} {'seconds':>8} {'vs TRL defaults':>16}")
    for name, (tps, tokens, seconds) in results.items():
        print(f"{name:48} {tps:10.1f} {tokens:8d} {seconds:8.1f} {tps / baseline:15.2f}x")


if __name__ == "__main__":
    main()
