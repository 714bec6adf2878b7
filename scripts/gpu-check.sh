#!/usr/bin/env bash
# The GPU figures of the speed issue, in one command, on a machine with a CUDA GPU (about 10 minutes on an H100-class
# GPU with the packages at hand):
#   1. installs what CUDA needs: torch's CUDA wheel and bitsandbytes in .venv, vllm in .venv-vllm
#      (skipped with GPU_CHECK_NO_INSTALL=1, for a machine that got both environments another way);
#   2. runs the contracts task's full profile with every arm and the suite on vLLM, timed (goal: <= 5 min);
#   3. measures training peak memory: QLoRA against LoRA, and bf16 (goal: QLoRA <= 0.5x LoRA);
#   4. measures vLLM against the harness's transformers loop on the same items (goal: >= 5x, answers agreeing).
# On a machine without a CUDA GPU it says so in one line and exits 0 (CI runs it that way).
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v nvidia-smi >/dev/null 2>&1 || ! nvidia-smi -L >/dev/null 2>&1; then
    echo "gpu-check: no CUDA GPU on this machine (nvidia-smi finds none); nothing to check"
    exit 0
fi

OUT=${GPU_CHECK_OUT:-gpu-check}
mkdir -p "$OUT"
nvidia-smi -L | tee "$OUT/gpu.txt"
if [ "${GPU_CHECK_NO_INSTALL:-0}" != "1" ]; then
    make install TORCH="${GPU_TORCH:-torch}"
    .venv/bin/python -m pip install --quiet bitsandbytes
    make vllm VLLM="${GPU_VLLM:-vllm}" VLLM_TORCH="${GPU_VLLM_TORCH:-torch}"
fi
.venv/bin/python -c "import torch; assert torch.cuda.is_available(), 'torch in .venv has no CUDA'"

started=$(date +%s)
.venv/bin/harness run tasks/contracts.yaml --profile full --backend vllm --no-cache --quiet \
    --db "$OUT/harness.duckdb" --reports "$OUT/reports" --workdir "$OUT/experiments" | tee "$OUT/run.txt"
seconds=$(( $(date +%s) - started ))
echo "full profile on vLLM: ${seconds} s (goal <= 300 s)" | tee "$OUT/figures.txt"

.venv/bin/python bench/train_memory.py --out "$OUT/train_memory.json" | tee -a "$OUT/figures.txt"
.venv/bin/python bench/vllm_backend.py --items 64 --out "$OUT/vllm_backend.json" | tee -a "$OUT/figures.txt"
echo "gpu-check: figures in $OUT/figures.txt"
