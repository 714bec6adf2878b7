"""Property-based: whatever bytes or YAML a user hands the spec loader or the data readers, the answer is a task,
or one-line errors (SpecError / HarnessError), never a traceback, a hang or a runaway allocation. The YAML
strategies cover what a hostile file can hold: keys that are lists or mappings, integers past 4,300 digits, lone
surrogates, anchors and aliases (cycles and bombs included) and YAML 1.1 tags; the JSON ones lone surrogates and
huge integers."""

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

# text with lone surrogates too (hypothesis leaves category Cs out unless asked): JSON escapes them as \udXXX
any_text = st.text(st.characters(categories=["L", "N", "P", "S", "Z", "Cs"]), max_size=20)
scalars = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=True), st.text(max_size=20), any_text)
json_values = st.recursive(scalars, lambda inner: st.one_of(st.lists(inner, max_size=4),
                                                            st.dictionaries(st.text(max_size=10), inner, max_size=4)),
                           max_leaves=20)
keys = st.sampled_from(["name", "version", "data", "output", "arms", "metrics", "decision", "model", "prompt",
                        "generation", "checks", "corpus", "judge", "profiles", "regression", "type", "fields",
                        "labels", "train", "test", "validation", "file", "format", "sweep", "space", "enqueue",
                        "base", "primary_metric", "min_lift", "shots", "backend", "path"])
task_like = st.recursive(scalars, lambda inner: st.one_of(st.lists(inner, max_size=4),
                                                          st.dictionaries(keys, inner, max_size=6)), max_leaves=30)


YAML_SCALARS = st.one_of(
    st.sampled_from(["tiny", "1", "1.10", "yes", "off", "~", "=", ".inf", "-.nan", "0o17", "0x1F", "1e999", "2024-06-01",
                     "2001-12-14t21:59:43.10-05:00", "'quoted'", '""']),
    st.integers(-(2**70), 2**70).map(str),  # past 64 bits
    st.integers(4290, 4400).map(lambda n: "9" * n),  # around Python's 4,300-digit limit
    st.integers(0xD800, 0xDFFF).map(lambda c: f'"\\u{c:04x}"'),  # a lone surrogate, as YAML spells one
    st.sampled_from(["!!binary aGk=", "!!set {a, b}", "!!omap [{a: 1}]", "!!pairs [{a: 1}]", "!!timestamp 2024-06-01",
                     "!!python/name:os.system", "!!python/object/apply:os.system [echo]", "!local x", "!!str 1",
                     "!!int 3", "!!float 1", "!!bool true", "!!null ''", "!!map {a: 1}", "!!seq [1]"]),
)


@st.composite
def yaml_texts(draw, depth: int = 0, anchors: list | None = None) -> str:
    """One flow-style YAML node as text: scalars, sequences and mappings whose keys may be lists or mappings, each
    node maybe anchored (before its children, so they can refer back to it: a cycle) and aliases to any anchor so
    far (nested, they multiply: a bomb)."""
    anchors = [] if anchors is None else anchors
    kinds = ["scalar", "alias", "list", "map", "map"] if depth < 4 else ["scalar", "alias"]
    kind = draw(st.sampled_from(kinds))
    if kind == "alias" and anchors:
        return "*" + draw(st.sampled_from(anchors))
    anchor = ""
    if kind in ("list", "map") and draw(st.integers(0, 2)) == 0:
        anchors.append(f"a{len(anchors)}")
        anchor = f"&{anchors[-1]} "
    if kind in ("scalar", "alias"):
        return draw(YAML_SCALARS)
    items = range(draw(st.integers(0, 4)))
    if kind == "list":
        return anchor + "[" + ", ".join(draw(yaml_texts(depth + 1, anchors)) for _ in items) + "]"
    def key() -> str:
        return draw(st.one_of(keys, YAML_SCALARS, yaml_texts(depth + 2, anchors)))
    return anchor + "{" + ", ".join(f"{key()}: {draw(yaml_texts(depth + 1, anchors))}" for _ in items) + "}"


def alias_bomb(width: int, depth: int) -> str:
    """width ** depth values from a file of width * depth aliases (the billion laughs, in YAML)."""
    levels = [f"b0: &b0 [{', '.join(['1'] * width)}]"]
    levels += [f"b{i}: &b{i} [{', '.join([f'*b{i - 1}'] * width)}]" for i in range(1, depth)]
    return "{" + ", ".join(levels) + "}"


alias_bombs = st.tuples(st.integers(2, 12), st.integers(2, 9)).map(lambda wd: alias_bomb(*wd))


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
@given(st.one_of(yaml_texts(), alias_bombs))
def test_hostile_yaml_as_a_task_file(task_root, text):
    path = task_root / "fuzz-hostile.yaml"
    path.write_text(text, encoding="utf-8", errors="surrogatepass")
    _loads_or_says_why(path)


@FUZZ
@given(st.lists(st.tuples(keys, yaml_texts()), max_size=6))
def test_the_tiny_task_with_hostile_values(task_root, pairs):
    """The valid task with top-level settings replaced or added: hostile values where real ones go."""
    text = (task_root / "task.yaml").read_text()
    for key, value in pairs:
        text += f"{key}: {value}\n"  # a key given twice is one of the answers this must survive
    path = task_root / "fuzz-values.yaml"
    path.write_text(text, encoding="utf-8", errors="surrogatepass")
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
@given(st.lists(st.one_of(json_values.map(json.dumps), st.integers(4290, 4400).map(lambda n: '{"id": ' + "9" * n + "}"),
                          st.integers(0xD800, 0xDFFF).map(lambda c: f'{{"id": "x\\u{c:04x}"}}')), min_size=1, max_size=5))
def test_huge_numbers_and_surrogates_in_json_lines(task_root, lines):
    _reads_or_says_why(task_root, "test", "\n".join(lines).encode())


@FUZZ
@given(st.lists(st.fixed_dictionaries({"id": json_values, "messages": st.lists(
    st.fixed_dictionaries({"role": st.sampled_from(["user", "assistant", "system", "tool", 3]), "content": json_values}),
    max_size=4)}), min_size=1, max_size=4))
def test_chat_records_of_any_shape(task_root, records):
    _reads_or_says_why(task_root, "validation", "\n".join(json.dumps(r) for r in records).encode())


@FUZZ
@given(st.one_of(st.binary(max_size=300), st.lists(st.fixed_dictionaries({"id": any_text, "text": any_text}), min_size=1,
                                                   max_size=4).map(lambda rs: "\n".join(map(json.dumps, rs)).encode())))
def test_any_bytes_as_a_corpus(task_root, content):
    path = task_root / "corpus.jsonl"
    path.write_bytes(content)
    try:
        docs = load_corpus(path)
    except HarnessError as exc:
        assert str(exc).strip()
    else:
        assert docs and all(isinstance(d.text, str) for d in docs)
        for d in docs:
            (d.id + d.text).encode()  # UTF-8 writable: no lone surrogate got through


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.binary(max_size=200))
def test_validate_on_any_bytes_exits_2_with_one_line(task_root, tmp_path, capsys, data):
    path = task_root / "fuzz-cli.yaml"
    path.write_bytes(data)
    code = main(["validate", str(path), "--quiet", "--db", str(tmp_path / "h.duckdb")])
    err = capsys.readouterr().err
    assert code == 2 and "Traceback" not in err
    assert err.startswith("error: ") and all(line.startswith("error: ") for line in err.strip().splitlines())
