"""Prompt formats: the chat template, or Input:/Output: completion blocks for a model without one."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from conftest import query, run_cli, tuned_arms, write_tiny_task

from harness.cli import main
from harness.errors import HarnessError
from harness.prompting.template import ChatFormat, CompletionFormat, choose_format, truncate_at_stop

CONVERSATION = [
    {"role": "system", "content": "Extract fields."},
    {"role": "user", "content": "Contract A"},
    {"role": "assistant", "content": '{"party": "A"}'},
    {"role": "user", "content": "Contract B"},
]


class NoTemplate:
    chat_template = None


def test_completion_blocks_end_where_the_answer_begins():
    text = CompletionFormat().render(None, CONVERSATION)
    assert text == 'Extract fields.\n\nInput: Contract A\nOutput: {"party": "A"}\n\nInput: Contract B\nOutput:'
    assert CompletionFormat.answer_lead == " " and CompletionFormat.stop_strings == ("\nInput:",)


def test_auto_takes_the_template_when_there_is_one(tiny_model):
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(tiny_model)
    assert isinstance(choose_format("auto", tokenizer, "tiny"), ChatFormat)
    assert isinstance(choose_format("completion", tokenizer, "tiny"), CompletionFormat)
    assert isinstance(choose_format("auto", NoTemplate(), "base"), CompletionFormat)
    with pytest.raises(HarnessError, match="'base': its tokenizer has no chat template"):
        choose_format("chat", NoTemplate(), "base")


def test_a_stop_string_cuts_the_answer():
    assert truncate_at_stop('{"a": 1}\n\nInput: next', ("\nInput:",)) == ('{"a": 1}\n', True)
    assert truncate_at_stop("plain", ("\nInput:",)) == ("plain", False)


def test_training_rows_in_completion_format_are_plain_text():
    from harness.data.examples import Example
    from harness.spec import PromptSpec
    from harness.tuning.training import training_rows

    example = Example("e1", "train", ({"role": "user", "content": "Contract B"},), '{"party": "B"}', "train.jsonl:1")
    [row] = training_rows([example], PromptSpec(system="Extract fields.", instructions="Answer with JSON."),
                          CompletionFormat())
    assert row == {"prompt": "Extract fields.\n\nInput: Contract B\nOutput:", "completion": ' {"party": "B"}'}
    [chat] = training_rows([example], PromptSpec(system="Extract fields."))
    assert chat["completion"] == [{"role": "assistant", "content": '{"party": "B"}'}]


@pytest.fixture(scope="module")
def base_model(tiny_model, tmp_path_factory) -> Path:
    """The tiny model with its chat template removed: a base model."""
    out = tmp_path_factory.mktemp("base") / "tiny-base"
    shutil.copytree(tiny_model, out)
    (out / "chat_template.jinja").unlink(missing_ok=True)
    config = json.loads((out / "tokenizer_config.json").read_text())
    config.pop("chat_template", None)
    (out / "tokenizer_config.json").write_text(json.dumps(config))
    return out


def test_a_base_model_runs_prompted_and_tuned_arms_in_completion_format(tmp_path, base_model):
    arms = tuned_arms() + "\n  - name: two_shot\n    type: prompted\n    shots: 2\n"
    task = write_tiny_task(tmp_path, base_model, arms)
    assert run_cli(tmp_path, task) == 0
    rows = query(tmp_path, "SELECT arm, status, json_extract_string(config_json, '$.prompt_format') FROM arms")
    assert sorted(rows) == [("lora", "completed", "completion"), ("two_shot", "completed", "completion"),
                            ("zero_shot", "completed", "completion")]
    report = next((tmp_path / "reports").glob("*.html")).read_text()
    assert report.count("zero-shot on a base model: not a finding") == 1  # zero_shot only: two_shot has shots


def test_chat_format_on_a_model_without_a_template_is_refused_before_any_work(tmp_path, base_model, capsys):
    task = write_tiny_task(tmp_path, base_model)
    task.write_text(task.read_text().replace(f"  base: {base_model}\n", f"  base: {base_model}\n  prompt_format: chat\n"))
    assert main(["validate", str(task)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "prompt_format: chat" in err[0] and "no chat template" in err[0]
    assert run_cli(tmp_path, task) == 2
    assert not (tmp_path / "h.duckdb").exists()
