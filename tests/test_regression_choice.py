"""Cloze multiple-choice scoring on hand-computed log-likelihoods: acc and acc_norm pick as lm-eval does."""

from __future__ import annotations

import pytest

from harness.backends import LogLik
from harness.errors import HarnessError
from harness.regression.choice import ChoiceItem, score_choices

# context -> {continuation: logprob}, chosen by hand so acc and acc_norm disagree on item q2.
TABLE = {
    "Question: What is the capital of France?\nAnswer:": {" Paris": -1.0, " Rome": -2.5, " Tokyo": -3.0},
    # raw sums favour the short wrong " ox" (-2.0); per character the long right answer wins:
    # -6.0 / len("hippopotamus") = -0.5  vs  -2.0 / len("ox") = -1.0
    "Question: Which animal is heavier?\nAnswer:": {" ox": -2.0, " hippopotamus": -6.0},
    "To cut paper, you use": {" scissors": -3.2, " a spoon": -3.0, " glue": -9.0},
}
ITEMS = [
    ChoiceItem("q1", "facts", "Question: What is the capital of France?\nAnswer:", ("Paris", "Rome", "Tokyo"), 0),
    ChoiceItem("q2", "facts", "Question: Which animal is heavier?\nAnswer:", ("ox", "hippopotamus"), 1),
    ChoiceItem("q3", "commonsense", "To cut paper, you use", ("scissors", "a spoon", "glue"), 0),
]


def fake_loglik(requests):
    return [LogLik(TABLE[ctx][cont], 1, False) for ctx, cont in requests]


def test_scorer_picks_by_loglik_and_by_loglik_per_character():
    scores = {s.item_id: s for s in score_choices(ITEMS, fake_loglik)}
    assert (scores["q1"].pred, scores["q1"].acc, scores["q1"].acc_norm) == (0, 1.0, 1.0)
    assert (scores["q2"].pred, scores["q2"].pred_norm) == (0, 1)
    assert (scores["q2"].acc, scores["q2"].acc_norm) == (0.0, 1.0)
    # " a spoon" -3.0 beats " scissors" -3.2 raw; per character -3.2/8 = -0.4 beats -3.0/7 = -0.43
    assert (scores["q3"].acc, scores["q3"].acc_norm) == (0.0, 1.0)
    assert scores["q3"].logprobs == (-3.2, -3.0, -9.0) and scores["q3"].category == "commonsense"


def test_all_items_go_to_the_loglik_function_in_one_call():
    calls = []
    score_choices(ITEMS, lambda reqs: calls.append(list(reqs)) or fake_loglik(reqs))
    assert len(calls) == 1 and len(calls[0]) == 8
    assert calls[0][0] == ("Question: What is the capital of France?\nAnswer:", " Paris")


def test_ties_go_to_the_first_choice_and_a_short_answer_list_is_an_error():
    tie = ChoiceItem("t", "x", "c", ("a", "b"), 1)
    [s] = score_choices([tie], lambda reqs: [LogLik(-1.0, 1, False)] * len(reqs))
    assert s.pred == 0 and s.acc == 0.0
    with pytest.raises(HarnessError, match="returned 1 results for 2"):
        score_choices([tie], lambda reqs: [LogLik(-1.0, 1, False)])
