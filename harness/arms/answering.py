"""How an arm that runs a model turns it into answers, the way a competent engineer's prompting would:

- free: greedy text;
- choice (label tasks): every label scored as the continuation of the prompt by log-likelihood, the best
  one picked, normalised as lm-eval and lighteval do (none, per character, per token);
- constrained: decoding forced into the task's JSON schema, its label set or its regex (xgrammar locally,
  structured outputs on a server).

    arms: [{name: zero_shot_choice, type: prompted, answer: choice, normalization: char}]
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from harness.backends import Conversation, Generation, Generator
from harness.prompting.answer_end import answer_end_for
from harness.prompting.constraints import Constraint, json_schema_for
from harness.spec import AnswerSettings, BackendSpecBase, OutputSpec


@dataclass(frozen=True)
class Answer:
    generation: Generation
    details: dict[str, Any] = field(default_factory=dict)  # per item: the label scores of a choice


def constraint_for(output: OutputSpec) -> Constraint:
    """The shape every answer of the task must have: its JSON schema, its label set or its regex."""
    if output.type == "json":
        return Constraint.json(json_schema_for(list(output.fields or ()), output.json_schema))
    if output.type == "label":
        return Constraint.choice(list(output.labels or ()))
    if output.regex is None:
        raise ValueError("a free-text task without output.regex has no shape to constrain")
    return Constraint.regex(output.regex)


def check_answering(settings: AnswerSettings, output: OutputSpec, backend: BackendSpecBase) -> None:
    """Raise HarnessError now, before any model loads, if this backend cannot answer in this mode here (what it
    can do at all was checked with the task file, against its capabilities)."""
    from harness.errors import HarnessError
    from harness.prompting.constraints import library_version

    if settings.answer == "constrained" and backend.grammar_in_process and library_version() == "not installed":
        raise HarnessError("answer: constrained decodes with xgrammar, which is not installed: "
                           "pip install --no-deps xgrammar==0.2.8 apache-tvm-ffi==0.1.15.post2")


def describe_answering(settings: AnswerSettings, output: OutputSpec) -> dict[str, Any]:
    """What the report and the arm's details say about how answers were made."""
    if settings.answer == "choice":
        return {"answer": "choice", "normalization": settings.normalization}
    if settings.answer == "constrained":
        return {"answer": "constrained", "constraint": constraint_for(output).describe()}
    return {"answer": "free"}


def normalised(logprob: float, n_tokens: int, text: str, how: str) -> float:
    if how == "token":
        return logprob / max(n_tokens, 1)
    if how == "char":
        return logprob / max(len(text), 1)
    return logprob


def choose(generator: Generator, conversations: Sequence[Conversation], labels: Sequence[str], how: str,
           advance: Callable[[int], None]) -> list[Answer]:
    """The label with the highest (normalised) log-likelihood after each prompt; all labels in one batched call."""
    began = time.perf_counter()
    prompts = [generator.render(c) for c in conversations]
    lead = generator.answer_lead  # what separates the prompt from an answer in the model's prompt format
    requests = [(prompt, lead + label) for prompt in prompts for label in labels]
    done = {"requests": 0}

    def per_item(n: int) -> None:  # progress in items, not (item, label) requests
        before = done["requests"] // len(labels)
        done["requests"] += n
        advance(done["requests"] // len(labels) - before)

    scores = generator.loglikelihood(requests, per_item)
    latency = (time.perf_counter() - began) / max(len(prompts), 1)
    answers = []
    for i in range(len(prompts)):
        row = scores[i * len(labels) : (i + 1) * len(labels)]
        ranked = [normalised(s.logprob, s.n_tokens, label, how) for s, label in zip(row, labels)]
        best = max(range(len(labels)), key=lambda k: (ranked[k], -k))
        answers.append(Answer(
            Generation(labels[best], generator.count_prompt_tokens(conversations[i]), row[best].n_tokens, latency),
            {"choice": {"normalization": how, "scores": {label: round(v, 6) for label, v in zip(labels, ranked)}}},
        ))
    return answers


def answer(generator: Generator, conversations: Sequence[Conversation], settings: AnswerSettings, output: OutputSpec,
           max_new_tokens: int, advance: Callable[[int], None]) -> list[Answer]:
    """Answers in the arm's mode, one per conversation, in order."""
    if settings.answer == "choice":
        return choose(generator, conversations, list(output.labels or ()), settings.normalization, advance)
    constraint = constraint_for(output) if settings.answer == "constrained" else None
    return [Answer(g, {"incomplete": g.incomplete} if g.incomplete else {})
            for g in generator.generate(conversations, max_new_tokens, advance, constraint=constraint,
                                answer_end=answer_end_for(output.type))]


def agreement_details(backend: BackendSpecBase, generator: Generator, reference: Callable[[], Generator],
                      conversations: Sequence[Conversation], answers: Sequence[Answer], settings: AnswerSettings,
                      output: OutputSpec, max_new_tokens: int, ids: Sequence[str], seed: int) -> dict[str, Any]:
    """{"backend_agreement": ...} for an arm whose backend asks for an agreement sample (`agreement_items`): a
    seeded sample of its items answered again by the reference backend (hf), in the same mode; {} otherwise."""
    from harness.backends.agreement import compare, sample

    n = getattr(backend, "agreement_items", 0)
    if not n or not conversations:
        return {}
    picked = sample(len(conversations), n, seed)
    convs = [conversations[i] for i in picked]
    other = reference()
    theirs = answer(other, convs, settings, output, max_new_tokens, lambda k: None)
    found = compare(generator, other, convs, [answers[i].generation.text for i in picked],
                    [a.generation.text for a in theirs], [ids[i] for i in picked])
    return {"backend_agreement": found.as_details()}
