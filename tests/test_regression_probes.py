"""Every probe checker has a reply that passes and one that fails; the shipped probes file is valid."""

from __future__ import annotations

import json

import pytest

from harness.errors import HarnessError
from harness.regression.probes import CHECKS, Probe, load_probes, probe_problems, run_probes

CASES = [  # (check, params, passing reply, failing reply)
    ("json_with_key", {"key": "name"}, '{"name": "Marie Curie"}', '{"person": "Marie Curie"}'),
    ("json_with_key", {"key": "name"}, '```json\n{"name": "Curie"}\n```', "name: Curie"),
    ("json_list", {"n": 3}, '["apple", "pear", "plum"]', '["apple", "pear"]'),
    ("json_list", {"n": 2}, "```\n[1, 2]\n```", '{"a": 1, "b": 2}'),
    ("one_word", {}, "Cold.", "It is cold."),
    ("uppercase", {}, "HELLO THERE!", "Hello there"),
    ("uppercase", {}, "RED, BLUE", "123"),
    ("lowercase", {}, "hi there, friend", "Hi there"),
    ("exact_items", {"n": 3}, "Here you go:\n- carrot\n- leek\n- pea", "- carrot\n- leek"),
    ("exact_items", {"n": 2}, "1. fork\n2) spoon", "1. fork\n2. spoon\n3. knife"),
    ("max_words", {"n": 5}, "The sea is big.", "The sea is big and deep and blue."),
    ("max_words", {"n": 5}, "Wet.", ""),
    ("starts_with", {"prefix": "Yes"}, "Yes, the sun is hot.", "The sun is hot. Yes."),
    ("ends_with", {"suffix": "delicious."}, "Apples are delicious.  ", "Delicious apples."),
    ("contains_word", {"word": "blue"}, "The ocean is Blue today.", "The ocean is bluish."),
    ("number_only", {}, " 12 ", "12 apples"),
    ("number_only", {}, "-3.5", "three"),
    ("yes_or_no", {}, "Yes.", "Yes, it is."),
    ("yes_or_no", {}, "no", "maybe"),
    ("no_commas", {}, "A warm sunny day", "A warm, sunny day"),
    ("comma_separated", {"n": 3}, "red, green, blue", "red, green"),
    ("comma_separated", {"n": 2}, "cat, dog.", "cat,\ndog"),
    ("quoted", {}, '"Learning never ends."', "Learning never ends."),
]


@pytest.mark.parametrize(("check", "params", "good", "bad"), CASES)
def test_checker_passes_and_fails(check, params, good, bad):
    probe = Probe("p", "instruction", check, params)
    assert probe.passes(good)
    assert not probe.passes(bad)


def test_every_checker_is_tested():
    assert {c[0] for c in CASES} == set(CHECKS)


def test_shipped_probes_are_valid_and_cover_the_checks():
    probes = load_probes()
    assert len(probes) >= 40
    assert {p.check for p in probes} == set(CHECKS)


def test_probe_file_problems_name_file_and_line(tmp_path):
    rows = [
        {"id": "a", "instruction": "Say hi.", "check": "one_word", "params": {}},
        {"id": "a", "instruction": "Say hi.", "check": "one_word"},
        {"id": "b", "instruction": "List.", "check": "exact_itemz", "params": {"n": 2}},
        {"id": "c", "instruction": "List.", "check": "exact_items", "params": {}},
        {"id": "d", "instruction": "List.", "check": "exact_items", "params": {"n": 0}},
        {"id": "e", "check": "quoted"},
    ]
    path = tmp_path / "probes.jsonl"
    path.write_text("\n".join(json.dumps(r) for r in rows) + "\n{not json\n")
    problems = probe_problems(path)
    assert problems == [
        f"{path}:2: duplicate id 'a' (first on line 1)",
        f"{path}:3: unknown check 'exact_itemz'; did you mean 'exact_items'? available: " + ", ".join(sorted(CHECKS)),
        f"{path}:4: check 'exact_items' takes params ['n'], got []",
        f"{path}:5: param n should be a positive integer, got 0",
        f"{path}:6: missing or empty instruction",
        f"{path}:7: not valid JSON (Expecting property name enclosed in double quotes at column 2)",
    ]
    with pytest.raises(HarnessError):
        load_probes(path)


def test_run_probes_sends_one_turn_chats_and_checks_replies():
    probes = [Probe("p1", "One word?", "one_word"), Probe("p2", "JSON?", "json_with_key", {"key": "k"})]
    seen = []

    def generate(conversations, max_new_tokens):
        seen.append((conversations, max_new_tokens))
        return ["Yes", "no json"]

    results = run_probes(probes, generate, max_new_tokens=20)
    assert seen == [([[{"role": "user", "content": "One word?"}], [{"role": "user", "content": "JSON?"}]], 20)]
    assert [(r.probe_id, r.passed) for r in results] == [("p1", True), ("p2", False)]
