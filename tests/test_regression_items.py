"""The general items file validates like any task's data, and the shipped one is complete and reproducible."""

from __future__ import annotations

import collections
import hashlib
import json
import subprocess
import sys
from pathlib import Path

import pytest

from harness.errors import HarnessError
from harness.regression.items import category_subset, default_items_path, item_problems, load_items

ROOT = Path(__file__).resolve().parent.parent
PROBES_SHA = "9352652c56d83074"


def good(i: int, **over) -> dict:
    row = {"id": f"x{i}", "category": "facts", "question": f"Question: {i}?\nAnswer:", "choices": ["a", "b"],
           "answer": 0}
    return row | over


def test_validator_catches_every_kind_of_bad_row(tmp_path):
    rows = [
        good(1),
        good(1, question="Question: other?\nAnswer:"),  # duplicate id
        good(3, question="Question: 1?\nAnswer:"),  # exact duplicate question
        good(4, answer=2),  # out of range
        good(5, choices=["only"]),  # one choice
        good(6, answer=True),  # a bool is not an index
        good(7, choices=["a", ""]),  # empty choice
        good(8, choices=["a", "a"]),
        {"id": "x9", "question": "q", "choices": ["a", "b"]},  # missing fields
        good(10, extra=1),
        good(11, category=""),
    ]
    path = tmp_path / "items.jsonl"
    path.write_text("\n".join(json.dumps(r) for r in rows) + "\n[1, 2]\n{oops\n")
    assert item_problems(path) == [
        f"{path}:2: duplicate id 'x1' (first on line 1)",
        f"{path}:3: same question as line 1",
        f"{path}:4: answer 2 is out of range for 2 choices",
        f"{path}:5: choices should have at least 2 entries, got 1",
        f"{path}:6: answer should be an integer index into choices, got True",
        f"{path}:7: choices should be a list of non-empty strings, got ['a', '']",
        f"{path}:8: choices repeat: ['a', 'a']",
        f"{path}:9: missing fields category, answer",
        f"{path}:10: unknown field extra",
        f"{path}:11: category should be a non-empty string, got ''",
        f"{path}:12: expected a JSON object, got list",
        f"{path}:13: not valid JSON (Expecting property name enclosed in double quotes at column 2)",
    ]
    with pytest.raises(HarnessError, match="duplicate id"):
        load_items(path)
    assert item_problems(tmp_path / "none.jsonl") == [f"{tmp_path / 'none.jsonl'}: items file not found"]


def test_shipped_items_are_valid_and_balanced():
    items = load_items()
    assert len(items) >= 400
    counts = collections.Counter(i.category for i in items)
    assert set(counts) == {"arithmetic", "facts", "commonsense", "reading"} and min(counts.values()) >= 100
    assert all(len(i.choices) == 4 for i in items)


def test_generator_reproduces_the_shipped_items(tmp_path):
    script = ROOT / "harness" / "regression" / "general" / "generate.py"
    copy = tmp_path / "generate.py"
    copy.write_text(script.read_text())
    subprocess.run([sys.executable, str(copy)], check=True, capture_output=True)
    shipped = (default_items_path().parent / "items.jsonl").read_bytes()
    assert hashlib.sha256((tmp_path / "items.jsonl").read_bytes()).digest() == hashlib.sha256(shipped).digest()
    assert not (tmp_path / "probes.jsonl").exists()  # written by hand, not generated


def test_hand_written_probes_are_numbered_in_order_and_unchanged():
    lines = (default_items_path().parent / "probes.jsonl").read_text().splitlines()
    rows = [json.loads(line) for line in lines]
    assert [r["id"] for r in rows] == [f"probe-{k:03d}" for k in range(1, 49)]
    assert all(set(r) == {"id", "instruction", "check", "params"} for r in rows)
    # the probes the suite's stored results were scored on (a change is a new suite: say so in the data card)
    assert hashlib.sha256("\n".join(lines).encode()).hexdigest()[:16] == PROBES_SHA


def test_category_subset_takes_evenly_and_is_seeded():
    items = load_items()
    sub = category_subset(items, 40, seed=3)
    assert len(sub) == 40 and set(collections.Counter(i.category for i in sub).values()) == {10}
    assert sub == category_subset(items, 40, seed=3) != category_subset(items, 40, seed=4)
    assert category_subset(items, None, 0) == items
