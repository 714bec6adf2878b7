"""The bad-input catalogue: each careless or hostile input gets one line naming the file and line (or the field or
flag) and what was expected, exit code 2, no traceback, and nothing written: no database, report, work folder or
cleaned copy. `validate` and `run` reject the same inputs, before a model loads."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from conftest import json_rows, run_cli, tuned_arms, write_jsonl, write_tiny_task

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
    env: tuple[tuple[str, str], ...] = ()  # environment variables set for the command ({root}: the task folder)


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


def fifo(relative: str) -> Callable[[Path], None]:
    """A named pipe at `relative`: opening it for reading would wait for a writer for ever."""
    def apply(root: Path) -> None:
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.unlink(missing_ok=True)
        os.mkfifo(path)
    return apply


def link(relative: str, target: str) -> Callable[[Path], None]:
    def apply(root: Path) -> None:
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.unlink(missing_ok=True)
        path.symlink_to(target.replace("{root}", str(root)))
    return apply


def sparse(relative: str, size: int) -> Callable[[Path], None]:
    """A file of `size` bytes that takes no disk space (its size is all a limit checked before reading sees)."""
    def apply(root: Path) -> None:
        with (root / relative).open("r+b") as fh:
            fh.truncate(size)
    return apply


def prepend(text: str) -> Callable[[Path], None]:
    def apply(root: Path) -> None:
        task = root / "task.yaml"
        task.write_text(text + task.read_text())
    return apply


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


LABEL_TASK = both(edit("  type: json\n  fields: [party, months]", "  type: label\n  labels: [A, B]"),
                  edit("metrics: [json_valid, json_field_f1, json_field_exact_match, exact_match]", "metrics: [accuracy]"),
                  edit("primary_metric: json_field_f1", "primary_metric: accuracy"))
TEXT_TASK = both(edit("  type: json\n  fields: [party, months]", "  type: text"),
                 edit("metrics: [json_valid, json_field_f1, json_field_exact_match, exact_match]", "metrics: [exact_match]"),
                 edit("primary_metric: json_field_f1", "primary_metric: exact_match"))
BOMB = "".join(f"b{i}: &b{i} [{', '.join([f'*b{i - 1}' if i else '1'] * 10)}]\n" for i in range(6))  # 10^6 values
COST = "  non_inferiority_margin: 0.02\n  cost: {requests_per_day: %s, serving_cost_per_hour: 2.0}\n"


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
    Case("API key variable not set", both(edit("arms:\n", OPENAI_ARM % "HARNESS_TEST_UNSET_KEY"),
                                          args("--allow-key", "HARNESS_TEST_UNSET_KEY@127.0.0.1:9")),
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
    Case("learning curve larger than the train split", edit(SWEEP, "    curve: {sizes: [4, 50]}\n" + SWEEP),
         ("arm 'lora'", "curve.sizes [50] exceed the 8 training examples")),
    Case("learning curve fraction above 1", edit(SWEEP, "    curve: {fractions: [0.5, 2]}\n" + SWEEP),
         ("task.yaml", "arms[1].curve", "fractions must be in (0, 1]")),
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
    # ---------------------------------------------------------------- YAML a loader must not trust
    Case("mapping key that is a list", prepend("? [a, b]\n: 1\n"), ("task.yaml:1:3", "a key must be text, got a list")),
    Case("mapping key that is a mapping", prepend("? {a: 1}\n: 1\n"), ("task.yaml:1:3", "a key must be text, got a mapping")),
    Case("integer of 5,000 digits", edit("version: 1", "version: " + "9" * 5000),
         ("task.yaml:2:10", "integer of 5000 digits is out of range")),
    Case("integer past 64 bits", edit("  batch_size: 4", "  batch_size: 99999999999999999999"),
         ("task.yaml:", "is out of range (a 64-bit integer at most)")),
    Case("YAML 1.1 !!binary", edit("version: 1", "version: !!binary aGVsbG8="), ("task.yaml:2:10", "tag !!binary is not read")),
    Case("YAML 1.1 !!set", edit("fields: [party, months]", "fields: !!set {party, months}"), ("task.yaml:9", "tag !!set is not read")),
    Case("YAML 1.1 !!timestamp", edit("version: 1", "version: !!timestamp 2024-06-01"), ("task.yaml:2", "tag !!timestamp")),
    Case("a lone surrogate in the task file", edit("  system: Extract fields.", '  system: "Extract \\ud800 fields."'),
         ("task.yaml:11:11", "\\ud800 is half of a UTF-16 surrogate pair")),
    Case("an alias bomb", prepend(BOMB), ("task.yaml:", "expands to more than 100,000 values")),
    Case("an alias inside itself", prepend("loop: &a [1, *a]\n"), ("task.yaml:1", "an alias refers to a node that contains it")),
    Case("task file over 1 MiB", append("#" + "x" * (1 << 20) + "\n"), ("task.yaml: 1,04", "bytes, over the 1 MiB limit for a task file")),
    Case("task file is a FIFO", fifo("task.yaml"), ("task.yaml: expected a task file, found a FIFO",)),
    Case("task file is a dangling link", link("task.yaml", "{root}/gone.yaml"),
         ("task.yaml: task file not found (a symbolic link to a missing target)",)),
    # ---------------------------------------------------------------- numbers nobody means, settings a run refuses late
    Case("min_lift of 5", edit("min_lift: 0.05", "min_lift: 5"), ("task.yaml:", "decision.min_lift", "less than 1")),
    Case("an infinite cost", append(COST % ".inf"), ("task.yaml:", "decision.cost.requests_per_day", "finite number")),
    Case("an infinite timeout", edit("arms:\n", OPENAI_ARM.replace("api_key_env: %s", "timeout_s: .inf")),
         ("task.yaml:", "arms[0].backend.timeout_s", "finite number")),
    Case("a timeout of a day", edit("arms:\n", OPENAI_ARM.replace("api_key_env: %s", "timeout_s: 86400")),
         ("task.yaml:", "arms[0].backend.timeout_s", "less than or equal to 3600")),
    Case("a seed past 2^32", edit("trials: 2", "trials: 2\n      seed: 4294967296"),
         ("task.yaml:", "sweep.seed", "less than or equal to 4294967295")),
    Case("sweep dropout up to 3", edit("r: [4, 8]}", "r: [4, 8], dropout: {low: 0.0, high: 3.0}}"),
         ("task.yaml:", "arms[1]", "sweep.space.dropout: 3.0 is not a value of dropout", "less than 1")),
    Case("sweep r below 1", both(edit("r: [4, 8]}", "r: [0, -4]}"), edit("r: 4}]", "r: 0}]")),
         ("task.yaml:", "sweep.space.r: 0 is not a value of r")),
    Case("sweep bound infinite", edit("high: 0.001", "high: .inf"),
         ("task.yaml:", "sweep.space.learning_rate.high", "finite number")),
    Case("json_schema xgrammar cannot compile", edit("  fields: [party, months]", "  fields: [party, months]\n  json_schema: {type: 42}"),
         ("task.yaml: output.json_schema: json constraint does not compile",)),
    Case("regex with a back-reference", both(TEXT_TASK, edit("  type: text", "  type: text\n  regex: '(a)\\1'")),
         ("task.yaml: output.regex: regex constraint does not compile", "Backreference")),
    Case("regex with a lookahead", both(TEXT_TASK, edit("  type: text", "  type: text\n  regex: 'a(?=b)'")),
         ("task.yaml: output.regex", "Lookahead")),
    Case("labels equal after normalisation", both(LABEL_TASK, edit("labels: [A, B]", "labels: [Yes, 'yes ', No]")),
         ("task.yaml:", "labels 'Yes' and 'yes ' are the same answer after normalisation",)),
    Case("a ligature and its letters", both(LABEL_TASK, edit("labels: [A, B]", "labels: [\ufb01ne, fine]")),
         ("task.yaml:", "are the same answer after normalisation",)),
    Case("labels of punctuation only", both(LABEL_TASK, edit("labels: [A, B]", "labels: ['?', '!']")),
         ("task.yaml:", "label '?' is only spaces and punctuation")),
    # ---------------------------------------------------------------- paths: where a task may read
    Case("corpus path empty", both(RAG_ARM, corpus("''")), ("task.yaml:", "corpus.path", "at least 1 character")),
    Case("data path escaping the task folder", edit("test: data/test.jsonl", "test: ../../../../etc/passwd"),
         ("task.yaml:6: data.test", "is outside the task file's folder", "--allow-path")),
    Case("data through a link out of the task folder", both(write_bytes("../outside/test.jsonl", b"{}\n"),
                                                            link("data/test.jsonl", "{root}/../outside/test.jsonl")),
         ("task.yaml:6: data.test", "is outside the task file's folder")),
    Case("corpus file linking out of the task folder", both(RAG_ARM, corpus("docs"), write_bytes("../outside/a.txt", b"x"),
                                                            link("docs/a.txt", "{root}/../outside/a.txt")),
         ("corpus file", "a.txt is outside the task file's folder")),
    Case("a file name with a newline", edit("test: data/test.jsonl", 'test: "data/te\\nerror: forged.jsonl"'),
         ("'", "te\\nerror: forged.jsonl': data file not found")),
    Case("data file is a FIFO", fifo("data/test.jsonl"), ("test.jsonl: expected a data file, found a FIFO",)),
    Case("data file over 1 GiB", sparse("data/train.jsonl", (1 << 30) + 1),
         ("train.jsonl: 1,073,741,825 bytes, over the 1 GiB limit for a data file", "data.dataset")),
    Case("one example over 4 MiB", data_line("train", 1, json.dumps({"id": "big", "messages": [
        {"role": "user", "content": "x" * (4 << 20)}, {"role": "assistant", "content": "{}"}]})),
         ("train.jsonl:1: one example of 4,194,", "bytes, over the 4 MiB limit per example")),
    Case("a lone surrogate in a data line", data_line("test", 1, '{"id": "te0", "messages": [{"role": "user", "content": '
                                                                 '"hi \\ud800"}, {"role": "assistant", "content": "{}"}]}'),
         ("test.jsonl:1: \\ud800 is half of a UTF-16 surrogate pair",)),
    Case("a lone surrogate in the corpus", both(RAG_ARM, corpus(), write_bytes("corpus.jsonl", b'{"id": "d1", "text": "\\udfff"}\n')),
         ("corpus.jsonl:1: \\udfff is half of a UTF-16 surrogate pair",)),
    # ---------------------------------------------------------------- the environment and where outputs go
    Case("HARNESS_DB_WAIT_S not a number", lambda root: None, ("HARNESS_DB_WAIT_S=ten: expected a number of seconds",),
         env=(("HARNESS_DB_WAIT_S", "ten"),)),
    Case("HARNESS_DB_WAIT_S infinite", lambda root: None, ("HARNESS_DB_WAIT_S=inf: expected a number of seconds",),
         env=(("HARNESS_DB_WAIT_S", "inf"),)),
    Case("HARNESS_CACHE is a file", write_bytes("cache-file", b"x"), ("HARNESS_CACHE", "cache-file: expected a folder, but it is a file"),
         env=(("HARNESS_CACHE", "{root}/cache-file"),)),
    Case("--db is a FIFO", both(fifo("pipe.duckdb"), args("--db", "{root}/pipe.duckdb")),
         ("--db", "pipe.duckdb: expected a DuckDB file, found a FIFO")),
    Case("--db is a dangling link", both(link("db.duckdb", "{root}/gone/db.duckdb"), args("--db", "{root}/db.duckdb")),
         ("--db", "db.duckdb: a symbolic link to a missing target")),
    Case("--reports is a dangling link", both(link("reports", "{root}/gone"), args("--reports", "{root}/reports")),
         ("--reports", "reports is a symbolic link to a missing target")),
    Case("--fix onto a folder", both(lambda root: (root / "task.clean.yaml").mkdir(), args("--fix")),
         ("--fix", "task.clean.yaml: expected a file, but a folder is there"), commands=("validate",)),
    Case("--fix onto a FIFO", both(fifo("data/test.clean.jsonl"), args("--fix")),
         ("--fix", "test.clean.jsonl: expected a file, but a FIFO (named pipe) is there"), commands=("validate",)),
    Case("--allow-key that is not VAR@HOST", args("--allow-key", "JUST_A_NAME"), ("--allow-key JUST_A_NAME: expected VARIABLE@HOST",)),
    Case("--allow-path that is not a folder", args("--allow-path", "{root}/nowhere"), ("--allow-path", "nowhere: not a folder")),
    # ---------------------------------------------------------------- secrets
    Case("a secret variable for the task's host", edit("arms:\n", OPENAI_ARM % "AWS_SECRET_ACCESS_KEY"),
         ("task.yaml: arms[0].backend.api_key_env: AWS_SECRET_ACCESS_KEY may not be sent to 127.0.0.1:9",), hidden=(SECRET,),
         env=(("AWS_SECRET_ACCESS_KEY", SECRET),)),
    Case("a URL password and a key variable", edit("arms:\n", OPENAI_ARM.replace("127.0.0.1", f"u:{SECRET}@127.0.0.1") % "K"),
         ("task.yaml:22", "base_url holds a password and api_key_env names a key"), hidden=(SECRET,)),
    Case("a base_url scheme typo", edit("arms:\n", OPENAI_ARM.replace("http://127.0.0.1", f"htp://u:{SECRET}@127.0.0.1") % "K"),
         ("task.yaml:22", "must be an http(s) URL", "htp://***@127.0.0.1"), hidden=(SECRET,)),
    Case("a base_url with a query", edit("arms:\n", OPENAI_ARM.replace("/v1", f"/v1?code={SECRET}") % "K"),
         ("task.yaml:22", "a query or fragment cannot be part of it", "code=***"), hidden=(SECRET,)),
    Case("a model with a token", edit("  base: ", f"  base: https://u:{SECRET}@hf.co/x\n#"), ("task.yaml:14", "model.base: holds a credential"),
         hidden=(SECRET,)),
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
    for name, value in case.env:
        monkeypatch.setenv(name, value.replace("{root}", str(tiny_task)))
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

    from harness.spec.taskfile import TaskLoader, load_spec

    edit("version: 1", "version: 1.10")(tiny_task)
    edit("  type: json\n  fields: [party, months]", "  type: label\n  labels: [yes, no, on, off]")(tiny_task)
    edit("metrics: [json_valid, json_field_f1, json_field_exact_match, exact_match]", "metrics: [accuracy, macro_f1]")(tiny_task)
    edit("primary_metric: json_field_f1", "primary_metric: macro_f1")(tiny_task)
    task = load_spec(tiny_task / "task.yaml")
    assert task.spec.version == "1.10"
    assert task.spec.output.labels == ["yes", "no", "on", "off"]
    read = yaml.load("a: 017\nb: 1:30\nc: 1e-4\nd: 0x1f\ne: true\nf: .inf\ng: 2024-06-01\nh: 2001-12-14t21:59:43.10-05:00\n"
                     "i: =\n1: one\ntrue: yes\n~: null key\n", Loader=TaskLoader)
    assert read == {"a": 17, "b": "1:30", "c": 1e-4, "d": 31, "e": True, "f": float("inf"), "g": "2024-06-01",
                    "h": "2001-12-14t21:59:43.10-05:00", "i": "=", "1": "one", "true": "yes", "~": "null key"}
    # YAML 1.1 read 15, 90, "1e-4", dates and timestamps as datetimes, `=` as a value tag it cannot build; keys are text
    merged = yaml.load("base: &b {r: 4, alpha: 8}\narm: {<<: *b, r: 8}\n", Loader=TaskLoader)
    assert merged["arm"] == {"r": 8, "alpha": 8}  # the merge key is kept; the mapping's own key wins


def test_dates_are_text_where_a_task_holds_them(tiny_task, tmp_path, capsys):
    """`version: 2024-06-01` and an unquoted date inside a JSON schema are YAML 1.2 text, as the README says."""
    edit("version: 1", "version: 2024-06-01")(tiny_task)
    edit("  fields: [party, months]", "  fields: [party, months]\n  json_schema: {type: object, properties: "
         "{party: {type: string, default: 2024-06-01}, months: {type: integer}}, required: [party, months]}")(tiny_task)
    code = main(["validate", str(tiny_task / "task.yaml"), "--quiet", "--db", str(tmp_path / "h.duckdb"),
                 "--reports", str(tmp_path / "r"), "--workdir", str(tmp_path / "e")])
    out = capsys.readouterr()
    assert code == 0, out.err
    assert "(tiny v2024-06-01;" in out.out


def test_split_folders_without_ids_just_work(tiny_task, tmp_path, capsys):
    """train/data.jsonl, validation/data.jsonl and test/data.jsonl without ids: the split names the fallback ids."""
    from harness.data.loading import load_data
    from harness.spec.taskfile import load_spec

    for split in ("train", "validation", "test"):
        rows = [json.loads(line) for line in (tiny_task / "data" / f"{split}.jsonl").read_text().splitlines()]
        (tiny_task / "data" / split).mkdir()
        write_jsonl(tiny_task / "data" / split / "data.jsonl", [{"messages": r["messages"]} for r in rows])
        edit(f"{split}: data/{split}.jsonl", f"{split}: data/{split}/data.jsonl")(tiny_task)
    code = main(["validate", str(tiny_task / "task.yaml"), "--quiet", "--db", str(tmp_path / "h.duckdb"),
                 "--reports", str(tmp_path / "r"), "--workdir", str(tmp_path / "e")])
    assert code == 0, capsys.readouterr().err
    data = load_data(load_spec(tiny_task / "task.yaml"))
    assert [ex.id for ex in data.test][:2] == ["test-1", "test-2"] and data.train[0].id == "train-1"
    # files with distinct names keep their names in fallback ids, as before
    edit("test: data/test/data.jsonl", "test: data/test.jsonl")(tiny_task)
    (tiny_task / "data" / "test.jsonl").write_text((tiny_task / "data" / "test" / "data.jsonl").read_text())
    assert load_data(load_spec(tiny_task / "task.yaml")).test[0].id == "test-1"


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


@pytest.fixture(scope="module")
def stored_runs(tmp_path_factory, tiny_model) -> tuple[Path, list[str]]:
    """A database holding two runs of a one-arm task."""
    import duckdb

    root = tmp_path_factory.mktemp("stored")
    task = write_tiny_task(root, tiny_model, "\n  - name: zero_shot\n    type: prompted\n")
    for _ in range(2):
        assert run_cli(root, task) == 0
    con = duckdb.connect(str(root / "h.duckdb"), read_only=True)
    runs = [r[0] for r in con.execute("SELECT run_id FROM runs ORDER BY started_at").fetchall()]
    con.close()
    return root / "h.duckdb", runs


@pytest.mark.parametrize("command", ["report", "compare"])
@pytest.mark.parametrize("reports", ["a file", "a dangling link", "a folder at the page's name"])
def test_report_and_compare_check_reports_before_writing(command, reports, stored_runs, tmp_path, capsys):
    db, (run_a, run_b) = stored_runs
    folder = tmp_path / "reports"
    if reports == "a file":
        folder.write_text("x")
        expect = "--reports " + str(folder) + ": expected a folder, but it is a file"
    elif reports == "a dangling link":
        folder.symlink_to(tmp_path / "gone")
        expect = "reports is a symbolic link to a missing target"
    else:
        name = f"tiny-{run_b}.html" if command == "report" else f"compare-{run_a}-{run_b}.html"
        (folder / name).mkdir(parents=True)
        expect = f"{name}: expected to write a file there, but a folder is there"
    before = {str(p) for p in tmp_path.rglob("*")}
    argv = (["report", "--run", run_b] if command == "report" else ["compare", run_a, run_b])
    capsys.readouterr()
    code = main([*argv, "--db", str(db), "--reports", str(folder)])
    err = capsys.readouterr().err
    assert code == 2 and len(err.strip().splitlines()) == 1 and err.startswith("error: "), err
    assert expect in err and "Traceback" not in err
    assert {str(p) for p in tmp_path.rglob("*")} == before, "something was written"
