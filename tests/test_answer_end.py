"""Generation stops where an answer is complete: a closed JSON object (bare or fenced), and not before."""

from __future__ import annotations

import pytest
import torch
from transformers import AutoTokenizer

from harness.answer_end import answer_end_for, cut, json_answer_end
from harness.backends.hf import answer_complete


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


def test_the_stopping_criterion_marks_rows_done_as_their_objects_close(tiny_model):
    tokenizer = AutoTokenizer.from_pretrained(tiny_model)
    prompt = tokenizer("Q:", add_special_tokens=False)["input_ids"]
    rows = ['{"a": 1} and more', '{"a": [1, 2], "b": 3', 'no json here }']
    encoded = [prompt + tokenizer(r, add_special_tokens=False)["input_ids"] for r in rows]
    width = max(map(len, encoded))
    pad = tokenizer.pad_token_id
    closers = frozenset(i for t, i in tokenizer.get_vocab().items() if any(c in t for c in "}]`"))
    criterion = answer_complete(tokenizer, len(prompt), json_answer_end, closers)
    done_at = [None] * len(rows)
    for step in range(len(prompt) + 1, width + 1):  # feed the rows token by token, as generate() would
        ids = torch.tensor([(e + [pad] * width)[:step] for e in encoded])
        for row, done in enumerate(criterion(ids, None).tolist()):
            if done and done_at[row] is None:
                done_at[row] = step
    first = tokenizer.decode(encoded[0][len(prompt): done_at[0]])
    assert first == '{"a": 1}'
    assert done_at[1] is None and done_at[2] is None
