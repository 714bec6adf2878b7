"""Task data through `datasets`: local Parquet, CSV and saved datasets the tests write, mapped onto our splits and
columns; the errors a wrong mapping gets; a hub id offline; a run end to end on the tiny model."""

from __future__ import annotations

import json
import random
import shutil
import time

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from harness.cli import main
from harness.data.loading import load_data
from harness.spec.taskfile import load_spec
from tests.conftest import json_rows, query, run_cli, write_jsonl, write_tiny_task

JSONL_DATA = """data:
  train: data/train.jsonl
  validation: data/validation.jsonl
  test: data/test.jsonl
"""


def columns_of(rows: list[dict], label: str = "ok") -> dict[str, list]:
    """The conftest chat rows as dataset columns: qid, question, answer (JSON text), label."""
    return {"qid": [r["id"] for r in rows], "question": [r["messages"][0]["content"] for r in rows],
            "answer": [r["messages"][1]["content"] for r in rows], "label": [label] * len(rows)}


def write_parquet_folder(folder, spam: int = 2):
    """train.parquet (8 good rows, then `spam` rows a filter should drop) and validation.parquet (6 rows)."""
    folder.mkdir(parents=True, exist_ok=True)
    train = columns_of(json_rows(8, "tr"))
    junk = columns_of(json_rows(spam, "sp"), label="spam")
    pq.write_table(pa.table({k: train[k] + junk[k] for k in train}), folder / "train.parquet")
    pq.write_table(pa.table(columns_of(json_rows(6, "va"))), folder / "validation.parquet")
    return folder


def hf_task(tmp_path, model, dataset_yaml: str, arms: str | None = None, extra: str = ""):
    """The tiny task with its data section replaced by `data:` + the given lines."""
    path = write_tiny_task(tmp_path, model, arms, extra=extra)
    text = path.read_text()
    assert JSONL_DATA in text
    path.write_text(text.replace(JSONL_DATA, "data:\n" + dataset_yaml))
    return path


PARQUET = """  dataset:
    path: pq
    splits: {train: train, test: validation}
    columns: {input: question, target: answer, id: qid}
    filter: "label != 'spam'"
"""


def validate(path, tmp_path) -> int:
    return main(["validate", str(path), "--quiet", "--db", str(tmp_path / "h.duckdb"), "--reports",
                 str(tmp_path / "reports"), "--workdir", str(tmp_path / "exp")])


def test_parquet_folder_with_split_and_column_mapping_and_a_filter(tmp_path):
    write_parquet_folder(tmp_path / "pq")
    data = load_data(load_spec(hf_task(tmp_path, "x/y", PARQUET)))
    assert (len(data.train), len(data.validation), len(data.test)) == (8, 0, 6)
    assert [ex.id for ex in data.train] == [f"tr{i}" for i in range(8)]  # the two spam rows are filtered out
    first = data.test[0]
    assert first.id == "va0" and first.split == "test" and first.source == "pq[validation]:0"
    assert first.messages == ({"role": "user", "content": json_rows(1, "va")[0]["messages"][0]["content"]},)
    assert json.loads(first.target) == {"party": "Acme Corp", "months": 2}
    assert load_data(load_spec(tmp_path / "task.yaml")).fingerprint == data.fingerprint


def test_limit_is_a_seeded_sample_in_dataset_order(tmp_path):
    write_parquet_folder(tmp_path / "pq", spam=0)
    spec = PARQUET.replace('    filter: "label != \'spam\'"\n', "    limit: {train: 3}\n    seed: 5\n")
    data = load_data(load_spec(hf_task(tmp_path, "x/y", spec)))
    expected = sorted(random.Random(5).sample(range(8), 3))
    assert [ex.source for ex in data.train] == [f"pq[train]:{i}" for i in expected]
    assert len(data.test) == 6


def test_the_fingerprint_covers_the_files(tmp_path):
    write_parquet_folder(tmp_path / "pq")
    path = hf_task(tmp_path, "x/y", PARQUET)
    before = load_data(load_spec(path)).fingerprint
    moved = tmp_path / "elsewhere"
    shutil.copytree(tmp_path / "pq", moved / "pq")
    shutil.copy(path, moved / "task.yaml")
    assert load_data(load_spec(moved / "task.yaml")).fingerprint == before  # where the files are does not count
    write_parquet_folder(tmp_path / "pq", spam=3)  # one more row, which the filter drops: same examples
    after = load_data(load_spec(path))
    assert len(after.train) == 8 and after.fingerprint != before


def test_csv_file_divided_by_the_split_rule(tmp_path):
    rows = json_rows(20, "c")
    csv_text = "qid,question,answer\n" + "".join(
        f'{r["id"]},"{r["messages"][0]["content"]}","{r["messages"][1]["content"].replace(chr(34), chr(34) * 2)}"\n'
        for r in rows)
    (tmp_path / "all.csv").write_text(csv_text)
    spec = """  dataset:
    path: all.csv
    columns: {input: question, target: answer, id: qid}
  split: {validation: 0.2, test: 0.3, seed: 1}
"""
    path = hf_task(tmp_path, "x/y", spec)
    data = load_data(load_spec(path))
    assert len(data.test) == 6 and {ex.id for ex in data.all()} == {f"c{i}" for i in range(20)}
    write_jsonl(tmp_path / "jsonl" / "all.jsonl", rows)  # the same rows as one JSONL file: the rule splits them alike
    jsonl = load_data(load_spec(hf_task(tmp_path / "jsonl", "x/y", "  file: all.jsonl\n  split: {validation: 0.2, "
                                                                  "test: 0.3, seed: 1}\n")))
    for name in ("train", "validation", "test"):
        assert [ex.id for ex in data.split(name)] == [ex.id for ex in jsonl.split(name)]
    assert all(ex.source.startswith("all.csv[train]:") for ex in data.all())
    before = data.fingerprint
    (tmp_path / "all.csv").write_text(csv_text.replace("months", "Months", 1))  # one input changes
    assert load_data(load_spec(path)).fingerprint != before


def test_csv_mapped_columns_stay_text_and_others_are_typed(tmp_path):
    answer = '"{""party"": ""Acme Corp"", ""months"": 2}"'
    (tmp_path / "csv").mkdir()
    (tmp_path / "csv" / "train.csv").write_text(f"qid,question,answer,n\n007,first,{answer},1\n010,second,{answer},2\n")
    (tmp_path / "csv" / "test.csv").write_text(f"qid,question,answer,n\n011,third,{answer},3\n")
    spec = "  dataset: {path: csv, columns: {input: question, target: answer, id: qid}, filter: 'n > 1'}\n"
    data = load_data(load_spec(hf_task(tmp_path, "x/y", spec)))
    assert [ex.id for ex in data.all()] == ["010", "011"]  # not 10 and 11; n compares as a number
    assert data.train[0].source == "csv[train]:1"


def test_saved_dataset_with_chat_messages_and_class_labels(tmp_path):
    import datasets

    labels = ["billing", "technical"]
    features = datasets.Features({
        "conversation": [{"role": datasets.Value("string"), "content": datasets.Value("string")}],
        "label": datasets.ClassLabel(names=labels),
    })

    def split(n, offset):
        convs = [[{"role": "user", "content": f"ticket {offset + i}: my invoice is wrong" if i % 2 == 0
                   else f"ticket {offset + i}: the app crashes"},
                  {"role": "assistant", "content": labels[i % 2]}] for i in range(n)]
        return datasets.Dataset.from_dict({"conversation": convs, "label": [i % 2 for i in range(n)]}, features=features)

    datasets.DatasetDict({"train": split(12, 0), "test": split(4, 100)}).save_to_disk(str(tmp_path / "saved"))
    spec = """  dataset:
    path: saved
    columns: {messages: conversation}
    filter: {column: label, op: in, value: [billing, technical]}
  split: {validation: 0.25}
"""
    extra_output = "output:\n  type: label\n  labels: [billing, technical]\n"
    path = hf_task(tmp_path, "x/y", spec)
    text = path.read_text()
    text = text[:text.index("output:")] + extra_output + text[text.index("prompt:"):]
    path.write_text(text.replace("metrics: [json_valid, json_field_f1, json_field_exact_match, exact_match]",
                                 "metrics: [exact_match]").replace("primary_metric: json_field_f1",
                                                                   "primary_metric: exact_match"))
    data = load_data(load_spec(path))
    assert (len(data.train), len(data.validation), len(data.test)) == (9, 3, 4)  # validation carved off train
    assert data.test[1].target == "technical" and data.test[1].source == "saved[test]:1"
    assert data.test[1].record["label"] == "technical"  # the class label by name, as the filter saw it
    assert {ex.target for ex in data.validation} == {"billing", "technical"}  # stratified


def _error(tmp_path, capsys, spec: str) -> str:
    """The one error line `harness validate` prints (exit 2) for a task with this data section. The model is a hub id
    that does not resolve offline: the data error comes first, before any model is looked for."""
    path = hf_task(tmp_path, "nobody/no-such-model", spec)
    assert validate(path, tmp_path) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: ") and "\n" not in err, err
    assert "no-such-model" not in err
    return err


@pytest.mark.parametrize("change, expect", [
    (("path: pq", "path: ./nowhere"), ["data.dataset.path", "'./nowhere' not found"]),
    (("path: pq", "path: 'pq/*.csv'"), ["data.dataset.path", "no files match"]),
    (("test: validation}", "test: dev}"), ["data.dataset.splits.test", "no split 'dev'", "train, validation"]),
    (("target: answer", "target: answr"), ["data.dataset.columns.target", "no column 'answr'",
                                           "did you mean 'answer'?"]),
    (("label != 'spam'", "lable != 'spam'"), ["data.dataset.filter[0].column", "no column 'lable'",
                                              "did you mean 'label'?"]),
    (("label != 'spam'", "label == 'nothing'"), ["data.dataset.filter", "keeps none of the 10 rows"]),
    (("label != 'spam'", "label > 3"), ["pq[train]:0: data.dataset.filter[0]", "cannot compare 'ok' (str) with 3"]),
    (("splits: {train: train, test: validation}", "splits: {train: train}"),
     ["data.dataset.splits.test", "no test split", "data.split rule"]),
])
def test_a_wrong_dataset_section_is_one_line_naming_the_field(tmp_path, capsys, change, expect):
    write_parquet_folder(tmp_path / "pq")
    err = _error(tmp_path, capsys, PARQUET.replace(*change))
    assert str(tmp_path / "task.yaml") in err or "pq[train]" in err
    for part in expect:
        assert part in err, f"{part!r} not in {err!r}"


def test_a_bad_row_is_named_by_dataset_split_and_row(tmp_path, capsys):
    write_parquet_folder(tmp_path / "pq", spam=0)
    table = pq.read_table(tmp_path / "pq" / "validation.parquet").to_pydict()
    table["answer"][4] = "not json"
    pq.write_table(pa.table(table), tmp_path / "pq" / "validation.parquet")
    err = _error(tmp_path, capsys, PARQUET.replace('    filter: "label != \'spam\'"\n', ""))
    assert "pq[validation]:4: target is not valid JSON" in err


@pytest.mark.parametrize("offline", ["HF_HUB_OFFLINE=1", "hub unreachable"])
def test_a_hub_id_offline_fails_fast_and_says_how_to_use_local_files(tmp_path, capsys, monkeypatch, offline):
    if offline == "hub unreachable":
        monkeypatch.delenv("HF_HUB_OFFLINE")
        monkeypatch.setenv("HF_ENDPOINT", "https://127.0.0.1:9")  # the discard port: refused at once
    start = time.monotonic()
    err = _error(tmp_path, capsys, PARQUET.replace("path: pq", "path: acme/contracts"))
    assert time.monotonic() - start < 20
    assert "data.dataset.path" in err and "'acme/contracts'" in err
    assert "data.dataset.path: ./my-data/*.parquet" in err
    assert ("no cached copy" if offline.startswith("HF_") else "the hub cannot be reached") in err


def test_validate_reports_the_dataset_and_its_fingerprint(tmp_path, tiny_model, capsys):
    write_parquet_folder(tmp_path / "pq")
    path = hf_task(tmp_path, tiny_model, PARQUET)
    assert validate(path, tmp_path) == 0, capsys.readouterr().err
    out = capsys.readouterr().out
    assert f"data {load_data(load_spec(path)).fingerprint}" in out and "train 8, validation 0, test 6" in out
    assert main(["validate", str(path), "--fix", "--quiet"]) == 2
    assert "--fix" in capsys.readouterr().err


def test_a_parquet_task_runs_end_to_end(tmp_path, tiny_model):
    write_parquet_folder(tmp_path / "pq")
    arms = """
  - name: zero_shot
    type: prompted
"""
    path = hf_task(tmp_path, tiny_model, PARQUET, arms)
    assert run_cli(tmp_path, path) == 0
    ((status, fingerprint),) = query(tmp_path, "SELECT status, data_fingerprint FROM runs")
    assert status == "completed" and fingerprint == load_data(load_spec(path)).fingerprint
    sources = dict(query(tmp_path, "SELECT example_id, source FROM examples WHERE split = 'test'"))
    assert sources == {f"va{i}": f"pq[validation]:{i}" for i in range(6)}
    assert query(tmp_path, "SELECT count(*) FROM predictions WHERE arm = 'zero_shot' AND split = 'test'") == [(6,)]


def test_a_filter_is_never_run_as_code(tmp_path, capsys):
    write_parquet_folder(tmp_path / "pq")
    marker = tmp_path / "pwned"
    err = _error(tmp_path, capsys, PARQUET.replace(
        "label != 'spam'", f"label == __import__('os').system('touch {marker}')"))
    assert "data.dataset.filter[0]" in err and "is not a literal value" in err and not marker.exists()


def test_format_beside_a_dataset_is_refused_but_a_stored_spec_reads_back(tmp_path):
    from harness.errors import SpecError
    from harness.spec import stored_spec

    write_parquet_folder(tmp_path / "pq")
    task = load_spec(hf_task(tmp_path, "x/y", PARQUET))
    # a stored spec is a full dump, 'format' included: it validates again as it did when the run was made
    assert stored_spec(task.spec.model_dump_json()).data == task.spec.data
    path = hf_task(tmp_path / "again", "x/y", PARQUET + "  format: chat\n")
    with pytest.raises(SpecError, match="name the columns in dataset.columns"):
        load_spec(path)
