"""The bad-input catalogue: each careless or hostile input gets one line naming the file and line (or the field or
flag) and what was expected, exit code 2, no traceback, and nothing written: no database, report, work folder or
cleaned copy. `validate` and `run` reject the same inputs, before a model loads."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from conftest import json_rows, tuned_arms, write_jsonl, write_tiny_task

from harness.cli import main

SECRET = "sk-proj-Zq81xVb2N7c4LmP0aTQ9"  # a planted key: no error may echo it

ARMS = tuned_arms(sweep="""
      trials: 2
      space: {learning_rate: {low: 0.0001, high: 0.001, log: true}, r: [4, 8]}
      enqueue: [{learning_rate: 0.0005, r: 4}]""")


SWEEP = ARMS[ARMS.index("    sweep:"):]


@dataclass(frozen=True)
class Case:
    id: str
    mutate: Callable[[Path], list[str] | None]  # edits the task folder; returns extra command-line arguments
    expect: tuple[str, ...]  # what the one error line must contain (file and line, or field, or flag; and the rule)
    commands: tuple[str, ...] = ("validate", "run")
    hidden: tuple[str, ...] = ()  # what it must not contain


def edit(old: str, new: str) -> Callable[[Path], None]:
    def apply(root: Path) -> None:
        task = root / "task.yaml"
        text = task.read_text()
        assert old in text, f"{old!r} is not in the tiny task"
        task.write_text(text.replace(old, new, 1))
    return apply


def append(text: str) -> Callable[[Path], None]:
    def apply(root: Path) -> None:
        with (root / "task.yaml").open("a") as fh:
            fh.write(text)
    return apply


def write_bytes(relative: str, data: bytes) -> Callable[[Path], None]:
    def apply(root: Path) -> None:
        (root / relative).parent.mkdir(parents=True, exist_ok=True)
        (root / relative).write_bytes(data)
    return apply


def data_line(split: str, lineno: int, line: str) -> Callable[[Path], None]:
    """Replace one line of a split's JSONL file."""
    def apply(root: Path) -> None:
        path = root / "data" / f"{split}.jsonl"
        lines = path.read_text().split("\n")
        lines[lineno - 1] = line
        path.write_text("\n".join(lines))
    return apply


def both(*steps: Callable[[Path], list[str] | None]) -> Callable[[Path], list[str]]:
    def apply(root: Path) -> list[str]:
        extra: list[str] = []
        for step in steps:
            more = step(root)
            extra += more if isinstance(more, list) else []
        return extra
    return apply


def args(*extra: str) -> Callable[[Path], list[str]]:
    return lambda root: [a.replace("{root}", str(root)) for a in extra]


def corpus(path: str = "corpus.jsonl") -> Callable[[Path], None]:
    return edit("checks:\n", f"corpus:\n  path: {path}\nchecks:\n")


def task_bytes(old: bytes, new: bytes) -> Callable[[Path], None]:
    def apply(root: Path) -> None:
        task = root / "task.yaml"
        task.write_bytes(task.read_bytes().replace(old, new, 1))
    return apply


RAG_ARM = edit("arms:\n", "arms:\n  - {name: rag, type: rag, top_k: 1}\n")
OPENAI_ARM = "arms:\n  - {name: api, type: prompted, backend: {type: openai, base_url: 'http://127.0.0.1:9/v1', model: m, api_key_env: %s}}\n"
GOOD_CORPUS = write_bytes("corpus.jsonl", b'{"id": "d1", "text": "Acme pays in 30 days."}\n')
CSV_TASK = edit("data:\n  train: data/train.jsonl\n  validation: data/validation.jsonl\n  test: data/test.jsonl\n",
                "data:\n  format: fields\n  fields: {input: text, target: answer}\n  train: data/train.csv\n"
                "  validation: data/validation.jsonl\n  test: data/test.jsonl\n")


def csv_rows(root: Path, last: str) -> None:
    rows = ["text,answer"] + [f'"Party P{i} for {i} months","{{""party"": ""P{i}"", ""months"": {i}}}"' for i in range(6)]
    (root / "data" / "train.csv").write_text("\n".join(rows + [last]) + "\n")


def fields_task(root: Path) -> None:
    CSV_TASK(root)
    csv_rows(root, '"Party Q for 9 months","{""party"": ""Q"", ""months"": 9}"')
    for split in ("validation", "test"):
        rows = [{"text": f"Party {split}{i} for {i} months", "answer": {"party": f"{split}{i}", "months": i}}
                for i in range(4)]
        write_jsonl(root / "data" / f"{split}.jsonl", rows)


CASES = [
    # ---------------------------------------------------------------- the task file
    Case("task file missing", lambda root: (root / "task.yaml").unlink(), ("task.yaml: task file not found",)),
    Case("task file is a folder", lambda root: ((root / "task.yaml").unlink(), (root / "task.yaml").mkdir()) and None,
         ("task.yaml: expected a task file, found a folder",)),
    Case("task file with a non-UTF-8 byte", task_bytes(b"  system: Extract fields.", b"  system: Extract fi\xffelds."),
         ("task.yaml:11:21: not UTF-8 text (byte 0xff)",)),
    Case("task file in UTF-16", lambda root: (root / "task.yaml").write_bytes((root / "task.yaml").read_text().encode("utf-16")),
         ("task.yaml:1:1: not UTF-8 text",)),
    Case("YAML syntax error", edit("  fields: [party, months]", "  fields: [party, months"), ("task.yaml:", "invalid YAML")),
    Case("tab indentation", edit("  max_new_tokens: 6", "\tmax_new_tokens: 6"), ("task.yaml:16", "invalid YAML")),
    Case("key given twice", edit("  batch_size: 4\nmetrics", "  batch_size: 4\n  batch_size: 8\nmetrics"),
         ("task.yaml:18", "'batch_size' is given twice")),
    Case("top level is a list", lambda root: (root / "task.yaml").write_text("- name: tiny\n"),
         ("task.yaml: expected a mapping of task settings",)),
    Case("empty task file", lambda root: (root / "task.yaml").write_text(""), ("task.yaml: expected a mapping",)),
    Case("misspelt top-level key", edit("checks:", "check:"), ("task.yaml:19", "unknown key 'check'", "did you mean 'checks'")),
    Case("unknown metric", edit("exact_match]", "exact_macth]"), ("task.yaml", "metrics[3]", "did you mean 'exact_match'")),
    Case("primary metric not among metrics", edit("primary_metric: json_field_f1", "primary_metric: rouge_l"),
         ("task.yaml:", "decision.primary_metric", "must be one of metrics")),
    Case("unknown arm type", edit("    type: prompted", "    type: promted"), ("task.yaml:23", "unknown arm type 'promted'")),
    Case("two arms with one name", edit("  - name: lora", "  - name: zero_shot"), ("task.yaml", "arm names must be unique")),
    Case("negative learning rate", edit("    r: 4\n", "    r: 4\n    learning_rate: -0.1\n"),
         ("task.yaml:27", "arms[1].learning_rate", "greater than 0")),
    Case("sweep point outside its range", edit("enqueue: [{learning_rate: 0.0005", "enqueue: [{learning_rate: 0.5"),
         ("task.yaml", "enqueue[0].learning_rate", "outside the search range")),
    Case("sweep point not among the choices", edit("r: 4}]", "r: 16}]"), ("task.yaml", "enqueue[0].r", "not one of the choices")),
    Case("sweep over an unknown hyperparameter", edit("r: [4, 8]}", "rank: [4, 8]}"),
         ("task.yaml", "unknown hyperparameter 'rank'")),
    Case("API key pasted as its variable name", edit("arms:\n", OPENAI_ARM % f"'{SECRET}'"),
         ("task.yaml:22", "api_key_env", "NAME of an environment variable"), hidden=(SECRET,)),
    Case("API key variable not set", edit("arms:\n", OPENAI_ARM % "HARNESS_TEST_UNSET_KEY"),
         ("task.yaml", "arms[0].backend.api_key_env", "HARNESS_TEST_UNSET_KEY is not set")),
    Case("endpoint that is not a URL", edit("arms:\n", OPENAI_ARM.replace("http://127.0.0.1:9/v1", "localhost:9") % "K"),
         ("task.yaml:22", "base_url", "must be an http(s) URL")),
    Case("rag arm without a corpus", RAG_ARM, ("task.yaml", "arms[0]", "needs a 'corpus' section")),
    Case("corpus missing", both(RAG_ARM, corpus("missing.jsonl")), ("missing.jsonl: corpus not found",)),
    Case("corpus with a non-UTF-8 byte", both(RAG_ARM, corpus(), write_bytes("corpus.jsonl", b'{"id": "d1", "text": "caf\xe9"}\n')),
         ("corpus.jsonl:1:26: not UTF-8 text (byte 0xe9)",)),
    Case("corpus line not JSON", both(RAG_ARM, corpus(), write_bytes("corpus.jsonl", b'{"id": "d1", "text": "x"}\n{"id": \n')),
         ("corpus.jsonl:2: not valid JSON",)),
    Case("corpus record without text", both(RAG_ARM, corpus(), write_bytes("corpus.jsonl", b'{"id": "d1", "body": "x"}\n')),
         ("corpus.jsonl:1: a corpus record needs string 'id' and 'text'",)),
    Case("profile naming a missing arm", append("profiles:\n  quick: {arms: [lora, rag]}\n"),
         ("task.yaml", "profiles.quick.arms", "no arm 'rag'")),
    Case("more shots than train examples", edit("    type: prompted\n", "    type: prompted\n    shots: 50\n"),
         ("arm 'zero_shot'", "50 shots, but the train split has 8 examples")),
    Case("adapter that is not a saved adapter", edit(SWEEP, "    adapter: no-such-adapter\n"),
         ("arm 'lora'", "no-such-adapter is not a saved adapter (no adapter_config.json)")),
    Case("adapter with pickled weights only", both(edit(SWEEP, "    adapter: saved/adapter\n"),
                                                   write_bytes("saved/adapter/adapter_config.json", b"{}"),
                                                   write_bytes("saved/adapter/adapter_model.bin", b"x")),
         ("arm 'lora'", "no adapter_model.safetensors", "never from pickles")),
    Case("version given as a list", edit("version: 1", "version: [1, 2]"), ("task.yaml:2", "version")),
    # ---------------------------------------------------------------- data files
    Case("data file missing", lambda root: (root / "data" / "validation.jsonl").unlink(),
         ("validation.jsonl: data file not found",)),
    Case("data path is a folder", lambda root: ((root / "data" / "test.jsonl").unlink(), (root / "data" / "test.jsonl").mkdir()) and None,
         ("test.jsonl: expected a data file, found a folder",)),
    Case("data file with a non-UTF-8 byte", write_bytes("data/train.jsonl", b"".join(
        (json.dumps(r) + "\n").encode() for r in json_rows(2, "tr")) + b'{"id": "x\x80"}\n'),
        ("train.jsonl:3:10: not UTF-8 text (byte 0x80)",)),
    Case("data line not JSON", data_line("train", 2, '{"id": "tr1", "messages": ['), ("train.jsonl:2: not valid JSON",)),
    Case("data line not an object", data_line("test", 1, "[1, 2]"), ("test.jsonl:1: expected a JSON object, got list",)),
    Case("data nested too deeply", data_line("test", 1, "[" * 100_000), ("test.jsonl:1:",)),
    Case("conversation not ending with the answer", data_line("train", 1, json.dumps(
        {"id": "tr0", "messages": [{"role": "user", "content": "hi"}]})), ("train.jsonl:1: messages must be",)),
    Case("message with an unknown role", data_line("train", 1, json.dumps(
        {"id": "tr0", "messages": [{"role": "human", "content": "hi"}, {"role": "assistant", "content": "{}"}]})),
        ("train.jsonl:1: messages[0] must be {role: system|user|assistant",)),
    Case("target not JSON for a json task", data_line("test", 2, json.dumps(
        {"id": "te1", "messages": [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "party: A"}]})),
        ("test.jsonl:2: target is not valid JSON",)),
    Case("target with undeclared keys", data_line("test", 2, json.dumps(
        {"id": "te1", "messages": [{"role": "user", "content": "hi"}, {"role": "assistant", "content": '{"fee": 1}'}]})),
        ("test.jsonl:2: target has keys not declared in output.fields: ['fee']",)),
    Case("one id in two splits", data_line("test", 1, json.dumps(
        {"id": "tr0", "messages": [{"role": "user", "content": "hi"}, {"role": "assistant", "content": '{"party": "A"}'}]})),
        ("test.jsonl:1: example id 'tr0' already used at", "train.jsonl:1")),
    Case("empty test file", write_bytes("data/test.jsonl", b"\n\n"), ("test.jsonl: no examples in file",)),
    Case("CSV row with an extra value", both(fields_task, lambda root: csv_rows(root, '"Party Q for 9 months","{}","extra"')),
         ("train.csv:8: 1 more value(s) than the header has columns",)),
    Case("CSV with a non-UTF-8 byte", both(fields_task, write_bytes("data/train.csv", b'text,answer\n"caf\xe9","x"\n')),
         ("train.csv:2:5: not UTF-8 text (byte 0xe9)",)),
    Case("record without the input field", both(fields_task, data_line("test", 1, json.dumps({"answer": {"party": "A"}}))),
         ("test.jsonl:1: missing field(s) ['text']",)),
    Case("null target", both(fields_task, data_line("test", 1, json.dumps({"text": "Party A", "answer": None}))),
         ("test.jsonl:1: field 'answer' is empty (null)",)),
    # ---------------------------------------------------------------- where the outputs go
    Case("--reports is a file", both(write_bytes("reports.html", b"x"), args("--reports", "{root}/reports.html")),
         ("--reports", "reports.html: expected a folder, but it is a file")),
    Case("--workdir inside a file", both(write_bytes("plain", b"x"), args("--workdir", "{root}/plain/exp")),
         ("--workdir", "cannot be created", "plain is a file")),
    Case("--db is a folder", lambda root: (root / "db").mkdir() or ["--db", str(root / "db")],
         ("--db", "expected a DuckDB file, found a folder")),
    Case("--db is not a database", both(write_bytes("notes.duckdb", b"just some notes\n" * 10), args("--db", "{root}/notes.duckdb")),
         ("--db", "not a DuckDB database")),
    Case("--storage that is not a database URL", args("--storage", "postgres-at-host-7"),
         ("--storage postgres-at-host-7: not a database URL",)),
    Case("--storage password never echoed", args("--storage", f"nosuchdb://admin:{SECRET}@db.example/optuna"),
         ("--storage nosuchdb://admin:***@db.example/optuna: not a database URL",), hidden=(SECRET,)),
    Case("--profile unknown", args("--profile", "quik"), ("profile", "quik")),
    # ---------------------------------------------------------------- run's own arguments
    Case("--arm unknown", args("--arm", "lorra"), ("--arm 'lorra': no such arm",), commands=("run",)),
    Case("--limit 0", args("--limit", "0"), ("--limit", "0 is not in the range"), commands=("run",)),
    Case("--device unknown", args("--device", "tpu"), ("--device", "'tpu' is not one of"), commands=("run",)),
    Case("--base folder that does not exist", args("--base", "{root}/no-model"), ("no-model", "no such directory"),
         commands=("run",)),
    Case("--base folder without a config", lambda root: (root / "empty-model").mkdir() or ["--base", str(root / "empty-model")],
         ("empty-model", "no config.json"), commands=("run",)),
]


def _files(folder: Path) -> set[str]:
    return {str(p.relative_to(folder)) for p in folder.rglob("*")} if folder.exists() else set()


@pytest.fixture
def tiny_task(tmp_path, tiny_model) -> Path:
    root = tmp_path / "task"
    write_tiny_task(root, tiny_model, ARMS)
    return root


@pytest.mark.parametrize("case, command", [(c, command) for c in CASES for command in c.commands],
                         ids=[f"{c.id}-{command}" for c in CASES for command in c.commands])
def test_bad_input_is_one_line_exit_2_and_nothing_written(case, command, tiny_task, tmp_path, capsys, monkeypatch):
    monkeypatch.delenv("HARNESS_TEST_UNSET_KEY", raising=False)
    monkeypatch.setenv("K", "x")
    extra = case.mutate(tiny_task)
    extra = extra if isinstance(extra, list) else []
    before = _files(tiny_task)
    out = tmp_path / "out"
    code = main([command, str(tiny_task / "task.yaml"), "--db", str(out / "h.duckdb"), "--reports", str(out / "reports"),
                 "--workdir", str(out / "exp"), "--quiet", *extra])
    err = capsys.readouterr().err
    lines = [line for line in err.splitlines() if line.strip()]
    assert code == 2, err
    assert "Traceback" not in err
    assert len(lines) == 1 and lines[0].startswith("error: "), err
    for part in case.expect:
        assert part in lines[0], f"{part!r} not in {lines[0]!r}"
    for part in case.hidden:
        assert part not in err
    assert not out.exists(), f"written: {_files(out)}"
    assert _files(tiny_task) == before, "the task folder changed"


def test_the_catalogue_is_large_and_each_case_can_fail(tiny_task, tmp_path, capsys):
    assert len(CASES) >= 40
    code = main(["validate", str(tiny_task / "task.yaml"), "--quiet", "--db", str(tmp_path / "h.duckdb"),
                 "--reports", str(tmp_path / "r"), "--workdir", str(tmp_path / "e")])
    assert code == 0, capsys.readouterr().err  # the unmutated task passes: every failure above is the mutation's


def test_yaml_1_1_surprises_read_as_written(tiny_task):
    import yaml

    from harness.spec.taskfile import _UniqueKeyLoader, load_spec

    edit("version: 1", "version: 1.10")(tiny_task)
    edit("  type: json\n  fields: [party, months]", "  type: label\n  labels: [yes, no, on, off]")(tiny_task)
    edit("metrics: [json_valid, json_field_f1, json_field_exact_match, exact_match]", "metrics: [accuracy, macro_f1]")(tiny_task)
    edit("primary_metric: json_field_f1", "primary_metric: macro_f1")(tiny_task)
    task = load_spec(tiny_task / "task.yaml")
    assert task.spec.version == "1.10"
    assert task.spec.output.labels == ["yes", "no", "on", "off"]
    read = yaml.load("a: 017\nb: 1:30\nc: 1e-4\nd: 0x1f\ne: true\nf: .inf", Loader=_UniqueKeyLoader)
    assert read == {"a": 17, "b": "1:30", "c": 1e-4, "d": 31, "e": True, "f": float("inf")}  # YAML 1.1: 15, 90, "1e-4"


def test_a_byte_order_mark_is_accepted(tiny_task):
    from harness.data.loading import load_data
    from harness.spec.taskfile import load_spec

    path = tiny_task / "data" / "train.jsonl"
    path.write_bytes(b"\xef\xbb\xbf" + path.read_bytes())
    task_file = tiny_task / "task.yaml"
    task_file.write_bytes(b"\xef\xbb\xbf" + task_file.read_bytes())
    assert len(load_data(load_spec(task_file)).train) == 8


def test_report_history_and_compare_refuse_a_missing_or_foreign_database(tmp_path, capsys):
    notes = tmp_path / "notes.duckdb"
    notes.write_text("not a database\n" * 10)
    for argv in (["report", "--db", str(tmp_path / "none.duckdb")], ["history", "--db", str(notes)],
                 ["compare", "a", "b", "--db", str(notes)], ["report", "--db", str(notes), "--run", "x"]):
        code = main(argv)
        err = capsys.readouterr().err
        assert code == 2 and "Traceback" not in err, (argv, err)
        assert len(err.strip().splitlines()) == 1 and err.startswith("error: "), (argv, err)
    assert not (tmp_path / "reports").exists()
