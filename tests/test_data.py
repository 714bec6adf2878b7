from __future__ import annotations

import json

import pytest

from harness.data.loading import load_data
from harness.errors import SpecError
from harness.spec.taskfile import load_spec
from tests.conftest import write_jsonl, write_tiny_task


def test_chat_examples_hide_their_targets(tmp_path):
    data = load_data(load_spec(write_tiny_task(tmp_path, "x/y")))
    assert (len(data.train), len(data.validation), len(data.test)) == (8, 4, 6)
    ex = data.test[0]
    assert ex.messages[-1]["role"] == "user"
    assert json.loads(ex.target)["party"] == "Acme Corp"
    item = ex.item()
    assert not hasattr(item, "target") and item.messages == ex.messages
    assert ex.source.endswith("test.jsonl:1")


def test_fingerprint_changes_with_any_target(tmp_path):
    path = write_tiny_task(tmp_path, "x/y")
    before = load_data(load_spec(path)).fingerprint
    test_file = tmp_path / "data" / "test.jsonl"
    test_file.write_text(test_file.read_text().replace('"months\\": 2', '"months\\": 3', 1))
    assert load_data(load_spec(path)).fingerprint != before


def test_every_bad_line_is_reported(tmp_path):
    path = write_tiny_task(tmp_path, "x/y")
    bad = tmp_path / "data" / "test.jsonl"
    rows = [
        '{"id": "a", "messages": [{"role": "user", "content": "hi"}]}',  # no assistant
        '{"id": "b", "messages": [{"role": "assistant", "content": "x"}, {"role": "user", "content": "y"}]}',
        '{"id": "c", "messages": [{"role": "user", "content": " "}, {"role": "assistant", "content": "{}"}]}',
        "not json",
        '{"id": "e", "messages": [{"role": "user", "content": "q"}, {"role": "assistant", "content": "not json"}]}',
        '{"id": "f", "messages": [{"role": "user", "content": "q"}, {"role": "assistant", "content": "{\\"zzz\\": 1}"}]}',
        '{"id": "tr0", "messages": [{"role": "user", "content": "q"}, {"role": "assistant", "content": "{}"}]}',
    ]
    bad.write_text("\n".join(rows) + "\n")
    with pytest.raises(SpecError) as info:
        load_data(load_spec(path))
    problems = info.value.problems
    assert any(p.startswith(f"{bad}:1:") and "ending with assistant" in p for p in problems)
    assert any(p.startswith(f"{bad}:2:") for p in problems)
    assert any(p.startswith(f"{bad}:3:") and "empty content" in p for p in problems)
    assert any(p.startswith(f"{bad}:4:") and "not valid JSON" in p for p in problems)
    assert any(p.startswith(f"{bad}:5:") and "target is not valid JSON" in p for p in problems)
    assert any(p.startswith(f"{bad}:6:") and "not declared in output.fields" in p for p in problems)
    assert any(p.startswith(f"{bad}:7:") and "already used" in p for p in problems)


def _label_task(tmp_path, rows, split="file: data/all.jsonl\n  split: {validation: 0.2, test: 0.2, seed: 3}"):
    write_jsonl(tmp_path / "data" / "all.jsonl", rows)
    spec = f"""name: labels
version: 1
data:
  format: fields
  fields: {{input: text, target: label, id: ticket}}
  {split}
output:
  type: label
  labels: [billing, technical, other]
metrics: [accuracy, macro_f1]
arms: [{{name: zero, type: prompted}}]
decision: {{primary_metric: macro_f1}}
"""
    path = tmp_path / "labels.yaml"
    path.write_text(spec)
    return path


def _tickets(n):
    labels = ["billing"] * 6 + ["technical"] * 3 + ["other"]
    return [{"ticket": f"t{i}", "text": f"ticket number {i} about {labels[i % 10]}", "label": labels[i % 10]} for i in range(n)]


def test_one_file_split_is_seeded_and_stratified(tmp_path):
    path = _label_task(tmp_path, _tickets(100))
    first = load_data(load_spec(path))
    again = load_data(load_spec(path))
    assert [e.id for e in first.test] == [e.id for e in again.test]
    assert (len(first.train), len(first.validation), len(first.test)) == (60, 20, 20)
    for split in (first.train, first.validation, first.test):
        share = sum(e.target == "billing" for e in split) / len(split)
        assert share == pytest.approx(0.6, abs=0.051)
    ids = [e.id for e in first.all()]
    assert len(ids) == len(set(ids)) == 100
    assert {e.split for e in first.test} == {"test"}


def test_label_outside_the_declared_set(tmp_path):
    rows = _tickets(20)
    rows[4]["label"] = "Billing"
    with pytest.raises(SpecError, match=r"all.jsonl:5: label 'Billing' is not one of output.labels"):
        load_data(load_spec(_label_task(tmp_path, rows)))


def test_missing_mapped_field(tmp_path):
    rows = _tickets(20)
    del rows[2]["text"]
    with pytest.raises(SpecError, match=r"all.jsonl:3: missing field\(s\) \['text'\]"):
        load_data(load_spec(_label_task(tmp_path, rows)))


def test_missing_data_file(tmp_path):
    path = write_tiny_task(tmp_path, "x/y")
    (tmp_path / "data" / "test.jsonl").unlink()
    with pytest.raises(SpecError, match="test.jsonl: data file not found"):
        load_data(load_spec(path))
