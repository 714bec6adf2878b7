"""Shared fixtures: a tiny random chat model built from a config (no downloads) and tiny tasks."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

os.environ["HF_HUB_OFFLINE"] = "1"
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

CHAT_TEMPLATE = (
    "{% for m in messages %}<|im_start|>{{ m['role'] }}\n{{ m['content'] }}<|im_end|>\n{% endfor %}"
    "{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}"
)
CORPUS = [
    "This agreement is made between Acme Corp and Beta LLC on March 3, 2024.",
    "The laws of the State of New York govern this agreement.",
    '{"party": "Acme Corp", "law": "NY"}',
    "billing technical account refund password invoice crash login",
    "Either party may terminate with thirty days written notice.",
]


def build_tiny_model(out: Path, seed: int = 0, hidden_size: int = 32, heads: int = 4) -> Path:
    """A 2-layer Llama with a 300-token byte-level BPE tokenizer and a ChatML template. vLLM's CPU attention takes
    head sizes of 32 and more only: `hidden_size=64, heads=2` builds one it accepts."""
    import torch
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import LlamaConfig, LlamaForCausalLM, PreTrainedTokenizerFast

    bpe = Tokenizer(models.BPE(unk_token=None))
    bpe.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    bpe.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=300,
        special_tokens=["<|endoftext|>", "<|im_start|>", "<|im_end|>"],
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
    )
    bpe.train_from_iterator(CORPUS * 5, trainer)
    tokenizer = PreTrainedTokenizerFast(
        tokenizer_object=bpe, eos_token="<|im_end|>", pad_token="<|endoftext|>", bos_token="<|im_start|>"
    )
    tokenizer.chat_template = CHAT_TEMPLATE
    config = LlamaConfig(
        vocab_size=len(tokenizer),
        hidden_size=hidden_size,
        intermediate_size=2 * hidden_size,
        num_hidden_layers=2,
        num_attention_heads=heads,
        num_key_value_heads=max(heads // 2, 1),
        max_position_embeddings=1024,
        bos_token_id=tokenizer.bos_token_id,
        eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id,
        tie_word_embeddings=True,
        initializer_range=0.2,  # larger than the 0.02 default, so a few LoRA steps can make answers confident
    )
    torch.manual_seed(seed)
    model = LlamaForCausalLM(config)
    model.generation_config.eos_token_id = tokenizer.eos_token_id
    model.generation_config.pad_token_id = tokenizer.pad_token_id
    model.save_pretrained(out, safe_serialization=True)
    tokenizer.save_pretrained(out)
    return out


@pytest.fixture(scope="session")
def tiny_model(tmp_path_factory) -> Path:
    return build_tiny_model(tmp_path_factory.mktemp("tiny-model") / "tiny-llama")


# The fast loop (`pytest -m "not slow"`) runs what needs no model weights, embedder, browser or PostgreSQL; a test
# that needs one of these fixtures is slow unless it answers with the scripted generator (`mock_generator`).
HEAVY_FIXTURES = {"tiny_model", "postgres_server", "embedder", "embed"}
BROWSER_MODULES = {"test_report_page"}  # every test there opens Chromium


def pytest_collection_modifyitems(config, items):
    for item in items:
        names = set(getattr(item, "fixturenames", ()))
        heavy = names & HEAVY_FIXTURES and "mock_generator" not in names
        if heavy or item.module.__name__.rsplit(".", 1)[-1] in BROWSER_MODULES:
            item.add_marker(pytest.mark.slow)


@pytest.fixture
def mock_generator(monkeypatch):
    """The run's local base model replaced by a scripted one (harness.backends.mock.MockGenerator), for pipeline,
    report and store tests that need answers, not weights. By default it answers the tiny task's JSON correctly
    for even-numbered items and with prose for odd ones; a test may set `.answers` / `.default` before running."""
    from harness.backends import pool
    from harness.backends.mock import MockGenerator

    generator = MockGenerator(answers=_tiny_task_answer, description="mock")
    monkeypatch.setattr(pool.Generators, "_load", lambda self, adapter: generator)
    return generator


def _tiny_task_answer(conversation) -> str:
    """The tiny task's answer to its last user message ("Contract te3: Delta plc agrees with ... for 5 months."):
    right for even item numbers, prose for odd ones, so arms differ and the verdict has something to weigh."""
    import re

    text = next(m["content"] for m in reversed(conversation) if m["role"] == "user")
    found = re.match(r"Contract [a-z]+(\d+): (.+?) agrees with .+ for (\d+) months", text)
    if found is None or int(found.group(1)) % 2:
        return "I cannot tell."
    return json.dumps({"party": found.group(2), "months": int(found.group(3))})


@pytest.fixture(autouse=True)
def _isolated_cache(tmp_path_factory, monkeypatch):
    monkeypatch.setenv("HARNESS_CACHE", str(tmp_path_factory.getbasetemp() / "harness-cache"))


def write_jsonl(path: Path, rows: list[dict]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


def chat_row(i: int, text: str, answer: str, prefix: str = "ex") -> dict:
    return {
        "id": f"{prefix}{i}",
        "messages": [{"role": "user", "content": text}, {"role": "assistant", "content": answer}],
    }


PARTIES = ["Acme Corp", "Beta LLC", "Gamma GmbH", "Delta plc", "Epsilon Inc", "Zeta Ltd", "Eta SA", "Theta AG"]


def json_rows(n: int, prefix: str) -> list[dict]:
    rows = []
    for i in range(n):
        party = PARTIES[i % len(PARTIES)]
        text = f"Contract {prefix}{i}: {party} agrees with {PARTIES[(i + 3) % len(PARTIES)]} for {i + 2} months."
        rows.append(chat_row(i, text, json.dumps({"party": party, "months": i + 2}), prefix))
    return rows


def tuned_arms(merge: bool = False, sweep: str = "{trials: 1}") -> str:
    """A zero-shot baseline and a LoRA arm (one trial unless `sweep` says more), as the `arms:` block of
    write_tiny_task; `sweep` is the YAML of the arm's sweep section, indented to follow `sweep:`."""
    return f"""
  - name: zero_shot
    type: prompted
  - name: lora
    type: lora
    r: 4
    alpha: 8
    epochs: 1
    batch_size: 4
    merge: {str(merge).lower()}
    sweep: {sweep}
"""


def write_tiny_task(root: Path, model: Path | str, arms_yaml: str | None = None, n_test: int = 6,
                    extra: str = "") -> Path:
    """A JSON-extraction task over the tiny model, with train / validation / test files."""
    write_jsonl(root / "data" / "train.jsonl", json_rows(8, "tr"))
    write_jsonl(root / "data" / "validation.jsonl", json_rows(4, "va"))
    write_jsonl(root / "data" / "test.jsonl", json_rows(n_test, "te"))
    arms_yaml = arms_yaml or """
  - name: zero_shot
    type: prompted
  - name: two_shot
    type: prompted
    shots: 2
    shot_seed: 1
"""
    spec = f"""name: tiny
version: 1
data:
  train: data/train.jsonl
  validation: data/validation.jsonl
  test: data/test.jsonl
output:
  type: json
  fields: [party, months]
prompt:
  system: Extract fields.
  instructions: Answer with JSON.
model:
  base: {model}
generation:
  max_new_tokens: 6
  batch_size: 4
metrics: [json_valid, json_field_f1, json_field_exact_match, exact_match]
checks:
  near_duplicates: false   # templated rows; tests/test_checks.py covers the embedding checks
arms:{arms_yaml}
decision:
  primary_metric: json_field_f1
  min_lift: 0.05
{extra}"""
    path = root / "task.yaml"
    path.write_text(spec, encoding="utf-8")
    return path


def run_cli(tmp_path: Path, task: Path, *extra: str) -> int:
    """`harness run` in-process with its database, reports and work folder under tmp_path."""
    from harness.cli import main

    return main(["run", str(task), "--db", str(tmp_path / "h.duckdb"), "--reports", str(tmp_path / "reports"),
                 "--workdir", str(tmp_path / "exp"), "--quiet", *extra])


def query(tmp_path: Path, sql: str) -> list[tuple]:
    """Rows from the run database under tmp_path, opened read-only."""
    import duckdb

    con = duckdb.connect(str(tmp_path / "h.duckdb"), read_only=True)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()
