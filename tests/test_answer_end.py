"""Generation stops where an answer is complete: a closed JSON object (bare or fenced), and not before."""

from __future__ import annotations

import pytest

from harness.prompting.answer_end import answer_end_for, cut, json_answer_end


@pytest.mark.parametrize("text, end", [
    ('{"a": 1}', 8),
    ('{"a": 1} Note: the date is a guess.', 8),
    ('  {"a": {"b": [1, 2]}, "c": "x"}\nmore', 32),
    ('{"a": "a } inside a string"}, then', 28),
    ('{"a": "an escaped \\" quote }"} x', 30),
    ("```json\n{\"a\": 1}\n```\nExplanation", 20),
])
def test_a_complete_object_ends_the_answer(text, end):
    assert json_answer_end(text) == end
    assert text[:end].rstrip().endswith(("}", "```"))


@pytest.mark.parametrize("text", [
    '{"a": [1, 2',  # still open
    '{"a": "}',  # the brace is inside a string
    "```json\n{\"a\": 1}\n",  # fenced: the fence must close too
    'Sure! {"a": 1}',  # chatter first: the model's own end of turn decides
    "",
])
def test_no_end_before_the_answer_is_complete(text):
    assert json_answer_end(text) is None


def test_cut_keeps_whole_answers_and_reports_a_cut():
    assert cut('{"a": 1} trailing', json_answer_end) == ('{"a": 1}', True)
    assert cut('{"a": 1}', json_answer_end) == ('{"a": 1}', False)
    assert cut('{"a": 1} trailing', None) == ('{"a": 1} trailing', False)
    assert answer_end_for("json") is json_answer_end and answer_end_for("label") is None
