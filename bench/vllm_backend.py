"""The vllm backend against the harness's own transformers loop (HF slots: continuous batching over a slot KV
cache), on the same items, side by side in one invocation:

  base      examples/s of each, identical answers x/n, mean and max |Δ log p| of the same answers
  adapter   the same with a LoRA adapter (r=16, all-linear): PEFT on a base copy vs vLLM's runtime LoRA
  trials    K sweep trials' adapters scored on validation items: one loaded base (adapters loaded at runtime)
            vs a server started per trial (what scoring each trial on a fresh load costs)

    .venv/bin/python bench/vllm_backend.py [--items 32] [--trials 2] [--trial-items 8]     # needs `make vllm`

The adapters are made here from the base with small random weights (answers near the base's, through the
LoRA code path), so the bench needs no training run. On a CPU, vLLM is a correctness test bed: its LoRA kernels
are PyTorch fallbacks, and the lines below say where it is slower. Machines are noisy: compare the ratios within
one invocation, never absolute numbers across machines.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from harness.backends.agreement import compare  # noqa: E402
from harness.backends.pool import Generators  # noqa: E402
from harness.data.loading import load_data  # noqa: E402
from harness.models.loading import resolve, weights_hash  # noqa: E402
from harness.prompting.conversations import conversation  # noqa: E402
from harness.records import Adapter  # noqa: E402
from harness.spec import VLLMBackend  # noqa: E402
from harness.spec.taskfile import load_spec  # noqa: E402


class Quiet:
    def add_task(self, *a: object, **k: object) -> int:
        return 0

    def update(self, *a: object, **k: object) -> None:
        return None

    advance = update


def cpu_name() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return f"{line.split(':', 1)[1].strip()} ({os.cpu_count()} cores)"
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def make_adapter(base: Path, out: Path, seed: int) -> Adapter:
    import torch
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM

    model = AutoModelForCausalLM.from_pretrained(base, dtype=torch.float32)
    peft = get_peft_model(model, LoraConfig(r=16, lora_alpha=32, target_modules="all-linear", task_type="CAUSAL_LM"))
    torch.manual_seed(seed)
    with torch.no_grad():
        for name, param in peft.named_parameters():
            if "lora_B" in name:
                param.copy_(torch.randn_like(param) * 0.002)
    peft.save_pretrained(out, safe_serialization=True)
    return Adapter(f"bench-{seed}", str(out), weights_hash(out))


def timed(generator, conversations, max_new_tokens):  # noqa: ANN001, ANN201
    began = time.perf_counter()
    out = generator.generate(conversations, max_new_tokens, lambda n: None)
    return out, time.perf_counter() - began


def side_by_side(label: str, hf, vllm, conversations, max_new_tokens, ids) -> dict:  # noqa: ANN001
    hf.generate(conversations[:2], 4, lambda n: None)  # warm-up: first-call costs are not throughput
    vllm.generate(conversations[:2], 4, lambda n: None)
    ours, t_hf = timed(hf, conversations, max_new_tokens)
    theirs, t_vllm = timed(vllm, conversations, max_new_tokens)
    found = compare(vllm, hf, conversations, [g.text for g in theirs], [g.text for g in ours], ids)
    n = len(conversations)
    ratio = t_hf / t_vllm
    verdict = "vLLM faster" if ratio > 1.05 else "vLLM SLOWER" if ratio < 0.95 else "about even"
    print(f"{label:8s} HF slots {n / t_hf:6.2f} ex/s   vLLM {n / t_vllm:6.2f} ex/s   vLLM/HF {ratio:5.2f}x ({verdict})   "
          f"identical {found.identical}/{found.n}   |Δ log p| mean {found.mean_abs_dlogprob or 0:.4f} "
          f"max {found.max_abs_dlogprob or 0:.4f}")
    return {"hf_s": t_hf, "vllm_s": t_vllm, "ratio": ratio, **found.as_details()}


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--task", default="tasks/contracts.yaml")
    parser.add_argument("--items", type=int, default=32, help="test items answered by each backend")
    parser.add_argument("--trials", type=int, default=2, help="trial adapters scored each way")
    parser.add_argument("--trial-items", type=int, default=8, help="validation items each trial is scored on")
    parser.add_argument("--device", default=None)
    parser.add_argument("--out", type=Path, default=None, help="also write the figures here as JSON")
    args = parser.parse_args()

    task = load_spec(args.task)
    data = load_data(task)
    spec = task.spec
    base = resolve(spec.model.base)
    items = data.test[: args.items]
    conversations = [conversation(ex.item(), spec.prompt) for ex in items]
    short = [conversation(ex.item(), spec.prompt, with_instructions=False) for ex in data.validation[: args.trial_items]]
    max_new = spec.generation.max_new_tokens
    print(f"{cpu_name()}; {base.id}; {len(items)} test items, max_new_tokens {max_new}")
    figures: dict = {"cpu": cpu_name(), "model": base.id}
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        hf_pool = Generators(base, spec.model.dtype, spec.generation.batch_size, Quiet(), args.device)
        pool = Generators(base, spec.model.dtype, spec.generation.batch_size, Quiet(), args.device)
        pool.workdir = work
        backend = VLLMBackend(type="vllm", max_lora_rank=16, agreement_items=0)
        try:
            began = time.perf_counter()
            vllm_base = pool.get(backend)
            figures["server_start_s"] = time.perf_counter() - began
            print(f"vLLM server start: {figures['server_start_s']:.0f} s (once per run; not in the rates below)")
            ids = [ex.id for ex in items]
            figures["base"] = side_by_side("base", hf_pool.get(), vllm_base, conversations, max_new, ids)
            adapter = make_adapter(base.path, work / "adapter", seed=1)
            figures["adapter"] = side_by_side("adapter", hf_pool.get(adapter=adapter), pool.get(backend, adapter),
                                              conversations, max_new, ids)
            trial_adapters = [make_adapter(base.path, work / f"trial-{k}", seed=10 + k) for k in range(args.trials)]
            began = time.perf_counter()
            for adapter in trial_adapters:  # one loaded base: each trial's adapter loaded at runtime
                pool.get(backend, adapter).generate(short, max_new, lambda n: None)
            one_base = time.perf_counter() - began
        finally:
            pool.close()
        began = time.perf_counter()
        for k, adapter in enumerate(trial_adapters):  # a fresh server per trial, as loading the base per trial does
            fresh = Generators(base, spec.model.dtype, spec.generation.batch_size, Quiet(), args.device)
            fresh.workdir = work / f"fresh-{k}"
            try:
                fresh.get(backend, adapter).generate(short, max_new, lambda n: None)
            finally:
                fresh.close()
        per_trial = time.perf_counter() - began
    figures["trials"] = {"one_loaded_base_s": one_base, "load_per_trial_s": per_trial, "ratio": per_trial / one_base,
                         "trials": args.trials, "items": len(short)}
    print(f"trials   {args.trials} trials x {len(short)} items: one loaded base {one_base:.0f} s, a server per trial "
          f"{per_trial:.0f} s: {per_trial / one_base:.1f}x saved by loading adapters at runtime")
    slower = [k for k in ("base", "adapter") if figures[k]["ratio"] < 0.95]
    if slower:
        print(f"On this machine vLLM is slower than the harness's own loop for: {', '.join(slower)}"
              + (" (LoRA on a CPU runs through vLLM's PyTorch fallbacks)" if "adapter" in slower else ""))
    if args.out:
        args.out.write_text(json.dumps(figures, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
