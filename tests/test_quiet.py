"""A run prints no warning the user did not cause: the CLI as a user starts it, in its own process, with Python's
default warning filters (pytest's own filters do not apply there), over every kind of arm the default profile runs."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

from tests.conftest import write_jsonl, write_tiny_task

ROOT = Path(__file__).resolve().parent.parent
DOCS = [
    {"id": "d1", "text": "Acme Corp contracts are governed by the law of New York (code NY)."},
    {"id": "d2", "text": "Beta LLC contracts are governed by the law of Texas (code TX)."},
]
EVERY_KIND = """
  - name: zero_shot
    type: prompted
  - name: two_shot_constrained
    type: prompted
    shots: 2
    answer: constrained
  - name: similar_constrained
    type: prompted
    shots: 1
    shot_selection: similar
    answer: constrained
  - name: rag
    type: rag
    retriever: hybrid
    top_k: 1
  - name: lora
    type: lora
    r: 4
    alpha: 8
    epochs: 2
    batch_size: 2
    sweep: {trials: 2, pruner: median, eval_every: 2, space: {learning_rate: {low: 1.0e-4, high: 1.0e-2, log: true}}}
"""


def test_a_run_prints_no_warning(tmp_path, tiny_model):
    write_jsonl(tmp_path / "corpus.jsonl", DOCS)
    extra = ("corpus: {path: corpus.jsonl, chunk_tokens: 32, overlap_tokens: 4}\n"
             "regression: {mmlu_items: 8, general_items: 8, perplexity_docs: 2, probes: true, trial_items: 4}\n")
    task = write_tiny_task(tmp_path, tiny_model, EVERY_KIND, extra=extra)
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONWARNINGS", "PYTEST_CURRENT_TEST")}
    env["PYTHONPATH"] = str(ROOT)
    done = subprocess.run(
        [sys.executable, "-m", "harness.cli", "run", str(task), "--db", str(tmp_path / "h.duckdb"),
         "--reports", str(tmp_path / "reports"), "--workdir", str(tmp_path / "exp")],
        cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=600,
    )
    assert done.returncode == 0, done.stdout[-3000:]
    assert "verdict:" in done.stdout
    # what the user is told besides the table: the baseline picked on validation, and where the time went
    assert re.search(r"^baseline: \w+, the best arm without training on the validation split \(", done.stdout, re.M)
    assert re.search(r"^time: [\d.]+ min \(\d+ s\); longest stages: ", done.stdout, re.M)
    noisy = [line for line in done.stdout.splitlines() if "Warning" in line or "warn(" in line]
    assert not noisy, "\n".join(noisy)
