"""Property-based: whatever bytes or YAML a user hands the spec loader or the data readers, the answer is a task,
or one-line errors (SpecError / HarnessError), never a traceback."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from conftest import write_tiny_task
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from harness.cli import main
from harness.data.loading import load_data
from harness.errors import HarnessError
from harness.retrieval.retrievers import load_corpus
from harness.spec.taskfile import load_spec

FUZZ = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])

scalars = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=True), st.text(max_size=20))
json_values = st.recursive(scalars, lambda inner: st.one_of(st.lists(inner, max_size=4),
                                                            st.dictionaries(st.text(max_size=10), inner, max_size=4)),
                           max_leaves=20)
keys = st.sampled_from(["name", "version", "data", "output", "arms", "metrics", "decision", "model", "prompt",
                        "generation", "checks", "corpus", "judge", "profiles", "regression", "type", "fields",
                        "labels", "train", "test", "validation", "file", "format", "sweep", "space", "enqueue",
                        "base", "primary_metric", "min_lift", "shots", "backend", "path"])
task_like = st.recursive(scalars, lambda inner: st.one_of(st.lists(inner, max_size=4),
                                                          st.dictionaries(keys, inner, max_size=6)), max_leaves=30)


@pytest.fixture(scope="module")
def task_root(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("fuzz")
    write_tiny_task(root, "tiny-model-is-never-loaded")
    return root


def _loads_or_says_why(path: Path) -> None:
    try:
        load_spec(path)
    except HarnessError as exc:  # SpecError is one: each problem a line
        assert str(exc).strip(), "an empty error"
        assert all(line.strip() for line in str(exc).splitlines())


@FUZZ
@given(st.binary(max_size=400))
def test_any_bytes_as_a_task_file(task_root, data):
    path = task_root / "fuzz-bytes.yaml"
    path.write_bytes(data)
    _loads_or_says_why(path)


@FUZZ
@given(task_like)
def test_any_yaml_document_as_a_task_file(task_root, value):
    path = task_root / "fuzz-doc.yaml"
    path.write_text(yaml.safe_dump(value, allow_unicode=True), encoding="utf-8")
    _loads_or_says_why(path)


@FUZZ
@given(st.data())
def test_the_tiny_task_with_random_edits(task_root, data):
    """Small edits to a valid task file: deleted, inserted or replaced characters anywhere."""
    text = (task_root / "task.yaml").read_text()
    for _ in range(data.draw(st.integers(1, 3))):
        at = data.draw(st.integers(0, len(text)))
        cut = data.draw(st.integers(0, 8))
        text = text[:at] + data.draw(st.text(alphabet=":-[]{}#&*!|>'\"%@`, \n\t0123456789yesnoabc", max_size=6)) + text[at + cut:]
    path = task_root / "fuzz-edit.yaml"
    path.write_text(text, encoding="utf-8")
    _loads_or_says_why(path)


def _reads_or_says_why(task_root: Path, split: str, content: bytes) -> None:
    original = (task_root / "data" / f"{split}.jsonl").read_bytes()
    (task_root / "data" / f"{split}.jsonl").write_bytes(content)
    try:
        load_data(load_spec(task_root / "task.yaml"))
    except HarnessError as exc:
        assert str(exc).strip()
    finally:
        (task_root / "data" / f"{split}.jsonl").write_bytes(original)


@FUZZ
@given(st.binary(max_size=400))
def test_any_bytes_as_a_data_file(task_root, content):
    _reads_or_says_why(task_root, "test", content)


@FUZZ
@given(st.lists(json_values, min_size=1, max_size=5))
def test_any_json_lines_as_a_data_file(task_root, records):
    _reads_or_says_why(task_root, "train", "\n".join(json.dumps(r) for r in records).encode())


@FUZZ
@given(st.lists(st.fixed_dictionaries({"id": json_values, "messages": st.lists(
    st.fixed_dictionaries({"role": st.sampled_from(["user", "assistant", "system", "tool", 3]), "content": json_values}),
    max_size=4)}), min_size=1, max_size=4))
def test_chat_records_of_any_shape(task_root, records):
    _reads_or_says_why(task_root, "validation", "\n".join(json.dumps(r) for r in records).encode())


@FUZZ
@given(st.binary(max_size=300))
def test_any_bytes_as_a_corpus(task_root, content):
    path = task_root / "corpus.jsonl"
    path.write_bytes(content)
    try:
        docs = load_corpus(path)
    except HarnessError as exc:
        assert str(exc).strip()
    else:
        assert docs and all(isinstance(d.text, str) for d in docs)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.binary(max_size=200))
def test_validate_on_any_bytes_exits_2_with_one_line(task_root, tmp_path, capsys, data):
    path = task_root / "fuzz-cli.yaml"
    path.write_bytes(data)
    code = main(["validate", str(path), "--quiet", "--db", str(tmp_path / "h.duckdb")])
    err = capsys.readouterr().err
    assert code == 2 and "Traceback" not in err
    assert err.startswith("error: ") and all(line.startswith("error: ") for line in err.strip().splitlines())
