"""Cloze multiple-choice scoring: the choice with the highest log-likelihood given the context wins.

    from harness.regression.choice import ChoiceItem, score_choices
    item = ChoiceItem("q1", "facts", "Question: What color is grass?\\nAnswer:", ("green", "purple"), 0)
    score_choices([item], lambda reqs: loglikelihood(model, tokenizer, device, reqs))

acc uses the raw sum of log-probabilities; acc_norm divides it by the choice's length in characters
(without the delimiter), as lm-evaluation-harness's acc_norm does, so long answers are not penalised
for having more tokens. Exercised by tests/test_regression_choice.py with a hand-computed fixture.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from harness.backends import LogLik
from harness.backends.loglik import Request
from harness.errors import HarnessError

LoglikFn = Callable[[Sequence[Request]], list[LogLik]]


@dataclass(frozen=True)
class ChoiceItem:
    id: str
    category: str
    context: str  # scored as written: "Question: ...\nAnswer:" or the start of a sentence
    choices: tuple[str, ...]  # without the leading delimiter
    answer: int  # index into choices


@dataclass(frozen=True)
class ChoiceScore:
    item_id: str
    category: str
    logprobs: tuple[float, ...]
    pred: int  # argmax of logprobs
    pred_norm: int  # argmax of logprobs / len(choice)
    acc: float
    acc_norm: float


def requests_for(item: ChoiceItem, delimiter: str = " ") -> list[Request]:
    return [(item.context, delimiter + choice) for choice in item.choices]


def _argmax(values: Sequence[float]) -> int:
    return max(range(len(values)), key=lambda k: (values[k], -k))  # first of equals, like numpy


def pick(item: ChoiceItem, logprobs: Sequence[float]) -> ChoiceScore:
    """Score one item from its choices' log-likelihoods."""
    if len(logprobs) != len(item.choices):
        raise HarnessError(f"item {item.id!r}: {len(item.choices)} choices but {len(logprobs)} log-likelihoods")
    pred = _argmax(logprobs)
    pred_norm = _argmax([lp / max(len(c), 1) for lp, c in zip(logprobs, item.choices)])
    return ChoiceScore(
        item.id, item.category, tuple(logprobs), pred, pred_norm,
        float(pred == item.answer), float(pred_norm == item.answer),
    )


def score_choices(items: Sequence[ChoiceItem], loglik_fn: LoglikFn, delimiter: str = " ") -> list[ChoiceScore]:
    """All items' choices go to loglik_fn in one call, so it can batch across items."""
    requests = [r for item in items for r in requests_for(item, delimiter)]
    results = loglik_fn(requests)
    if len(results) != len(requests):
        raise HarnessError(f"log-likelihood function returned {len(results)} results for {len(requests)} requests")
    scores, at = [], 0
    for item in items:
        n = len(item.choices)
        scores.append(pick(item, [r.logprob for r in results[at : at + n]]))
        at += n
    return scores
