"""Each data check on a small fixture where the right answer is known."""

from __future__ import annotations

import json

import pytest
from rich.progress import Progress

from harness.cli import main
from harness.data.loading import load_data
from harness.models.embeddings import Embedder
from harness.run.checks import check_task_data as check_data
from harness.run.checks import run_checks
from harness.spec.taskfile import load_spec
from tests.conftest import chat_row, write_jsonl

TRAIN = [
    "The supplier shall deliver forty pallets of copper wire to the buyer's warehouse in Rotterdam every month.",
    "Employee will work remotely from Lisbon and report to the chief technology officer of the company.",
    "Tenant shall pay rent of 4,000 euros on the first business day of each calendar month to the landlord.",
    "The licensee may use the patented compression algorithm only in consumer audio devices sold in Japan.",
    "Either party may terminate this services agreement with ninety days of written notice to the other.",
    "The supplier shall deliver forty pallets of copper wire to the buyer's warehouse in Rotterdam every month.",  # dup of 0
]
VALIDATION = [
    "The recipient must keep the disclosed source code secret and may not reverse engineer any binaries.",
    "The recipient must keep the disclosed source code secret and may not reverse-engineer any of the binaries.",  # near dup
]
TEST = [
    "Tenant shall pay rent of 4,000 euros on the first business day of each calendar month to the landlord.",  # leak
    "The licensee may use the patented compression algorithm only in consumer audio devices that are sold in Japan.",  # near leak
    "Payment is due within thirty days of the invoice date, and late amounts bear interest at two percent.",
]


def _task(tmp_path, extra="", answers=None):
    def rows(texts, prefix):
        return [chat_row(i, t, (answers or {}).get((prefix, i), json.dumps({"kind": f"k{len(t) % 3}"})), prefix)
                for i, t in enumerate(texts)]
    write_jsonl(tmp_path / "d" / "train.jsonl", rows(TRAIN, "tr"))
    write_jsonl(tmp_path / "d" / "validation.jsonl", rows(VALIDATION, "va"))
    write_jsonl(tmp_path / "d" / "test.jsonl", rows(TEST, "te"))
    path = tmp_path / "t.yaml"
    path.write_text(f"""name: checks
version: 1
data: {{train: d/train.jsonl, validation: d/validation.jsonl, test: d/test.jsonl}}
output: {{type: json, fields: [kind]}}
metrics: [json_field_f1]
arms: [{{name: zero, type: prompted}}]
decision: {{primary_metric: json_field_f1}}
{extra}""")
    return path


@pytest.fixture(scope="module")
def embed():
    embedder = Embedder()
    return lambda texts: embedder.encode(texts)


def _by_check(report):
    out = {}
    for f in report.findings:
        out.setdefault(f.check, []).append(f)
    return out


def test_duplicates_near_duplicates_and_leakage(tmp_path, embed):
    task = load_spec(_task(tmp_path))
    data = load_data(task)
    found = _by_check(run_checks(task, data, embed))
    train_file, val_file, test_file = (str(tmp_path / "d" / f"{s}.jsonl") for s in ("train", "validation", "test"))

    dup = found["duplicate"]
    assert [(f.where, f.related, f.severity) for f in dup] == [(f"{train_file}:6", f"{train_file}:1", "warning")]

    leaks = [f for f in found["leakage"] if f.severity == "error"]
    assert {(f.where, f.related) for f in leaks} == {(f"{test_file}:1", f"{train_file}:3"), (f"{test_file}:2", f"{train_file}:4")}
    assert any("exact copy" in f.message for f in leaks) and any("near duplicate" in f.message for f in leaks)
    # --fix decontaminates train, it never removes held-out items
    drops = [f for f in found["leakage"] if f.drop]
    assert {f.where for f in drops} == {f"{train_file}:3", f"{train_file}:4"}

    near = found["near_duplicate"]
    assert [(f.where, f.related) for f in near] == [(f"{val_file}:2", f"{val_file}:1")]
    assert f"{test_file}:3" not in {f.where for f in leaks}  # the unrelated item is not flagged


def test_leakage_can_be_downgraded(tmp_path, embed):
    task = load_spec(_task(tmp_path, "checks: {leakage: warning}"))
    report = run_checks(task, load_data(task), embed)
    assert not report.errors and any(f.check == "leakage" and f.severity == "warning" for f in report.findings)


def test_threshold_is_configurable(tmp_path, embed):
    task = load_spec(_task(tmp_path, "checks: {near_duplicate_threshold: 0.9999}"))
    found = _by_check(run_checks(task, load_data(task), embed))
    assert "near_duplicate" not in found
    assert {f.where.rsplit(":", 1)[1] for f in found["leakage"] if f.severity == "error"} == {"1"}  # exact only


def test_conflicting_and_short_answers(tmp_path):
    answers = {("tr", 5): json.dumps({"kind": "something else entirely"}), ("te", 2): "{}"}
    task = load_spec(_task(tmp_path, "checks: {near_duplicates: false}", answers))
    found = _by_check(run_checks(task, load_data(task)))
    conflict = found["conflicting_label"]
    assert {f.where.rsplit("/", 1)[1] for f in conflict} == {"train.jsonl:1", "train.jsonl:6"}
    assert [f.where.rsplit("/", 1)[1] for f in found["short_output"]] == ["test.jsonl:3"]


def test_label_balance_and_token_lengths(tmp_path, tiny_model):
    rows = [{"text": f"ticket {i} about an invoice {i * 7}", "label": "billing" if i % 4 else "technical"} for i in range(40)]
    write_jsonl(tmp_path / "tickets.jsonl", rows)
    path = tmp_path / "l.yaml"
    path.write_text(f"""name: l
version: 1
data: {{format: fields, fields: {{input: text, target: label}}, file: tickets.jsonl, split: {{test: 0.25, seed: 1}}}}
output: {{type: label, labels: [billing, technical, other]}}
model: {{base: {tiny_model}}}
generation: {{max_new_tokens: 1}}
metrics: [accuracy]
arms: [{{name: zero, type: prompted}}]
decision: {{primary_metric: accuracy}}
checks: {{near_duplicates: false}}
""")
    task = load_spec(path)
    from harness.models.loading import tokenizer_and_window

    tokenizer, window = tokenizer_and_window(str(tiny_model))
    report = run_checks(task, load_data(task), tokenizer=tokenizer, window=window)
    found = _by_check(report)
    assert any("no examples of ['other']" in f.message for f in found["label_balance"])
    assert report.stats["labels"]["train"]["billing"] + report.stats["labels"]["test"]["billing"] + \
        report.stats["labels"]["validation"]["billing"] == 30
    assert any("longer than generation.max_new_tokens=1" in f.message for f in found["length"])
    assert report.stats["tokens"]["context_window"] == 1024
    assert report.stats["tokens"]["test"]["prompt_tokens"]["max"] > 5


def test_fix_writes_clean_copies_that_validate(tmp_path, embed, capsys):
    path = _task(tmp_path)
    originals = {p: p.read_bytes() for p in (tmp_path / "d").iterdir()}
    assert main(["validate", str(path), "--fix", "--quiet"]) == 2  # leakage is an error
    out = capsys.readouterr().out
    assert "wrote" in out and "leakage" in out
    assert {p: p.read_bytes() for p in originals} == originals  # never overwritten
    clean_train = [json.loads(line)["id"] for line in (tmp_path / "d" / "train.clean.jsonl").read_text().splitlines()]
    assert clean_train == ["tr0", "tr1", "tr4"]  # duplicate tr5 and leaking tr2, tr3 dropped
    assert main(["validate", str(tmp_path / "t.clean.yaml"), "--quiet"]) == 0


def test_run_refuses_leaky_data_before_writing_anything(tmp_path, tiny_model, capsys):
    path = _task(tmp_path, f"model: {{base: {tiny_model}}}")
    rc = main(["run", str(path), "--db", str(tmp_path / "h.duckdb"), "--quiet"])
    assert rc == 2
    assert "data checks found 2 error(s)" in capsys.readouterr().err
    assert not (tmp_path / "h.duckdb").exists()


def test_check_data_uses_configured_models(tmp_path, tiny_model):
    path = _task(tmp_path, f"model: {{base: {tiny_model}}}")
    task = load_spec(path)
    with Progress(disable=True) as progress:
        report = check_data(task, load_data(task), progress)
    assert report.stats["tokens"]["context_window"] == 1024
    assert report.errors
