"""Fair baselines: labels chosen by log-likelihood, JSON answers constrained to the schema, and a verdict that
compares tuning with the best of them."""

from __future__ import annotations

import json

import numpy as np
import pytest

from harness.arms.answering import choose, normalised
from harness.backends import LogLik
from harness.errors import SpecError
from tests.conftest import query, run_cli, write_jsonl, write_tiny_task


class ScriptedModel:
    """A generator whose log-likelihoods are given: a hand-computed fixture for the choice."""

    description = "scripted"

    answer_lead = ""

    def __init__(self, table):
        self.table = table  # (prompt, label) -> (logprob, n_tokens)
        self.requests = []

    def render(self, conversation):
        return conversation[-1]["content"]

    def count_prompt_tokens(self, conversation):
        return 3

    def loglikelihood(self, requests, advance):
        self.requests += list(requests)
        advance(len(requests))
        return [LogLik(*self.table[r], False) for r in requests]


def test_the_choice_is_the_label_with_the_highest_normalised_loglikelihood():
    labels = ["no", "billing"]
    # "no": -2.0 over 1 token, 2 chars; "billing": -3.5 over 2 tokens, 7 chars
    model = ScriptedModel({("q1", "no"): (-2.0, 1), ("q1", "billing"): (-3.5, 2)})
    conv = [[{"role": "user", "content": "q1"}]]
    ticks = []
    picks = {how: choose(model, conv, labels, how, ticks.append)[0] for how in ("none", "token", "char")}
    assert picks["none"].generation.text == "no"  # -2.0 > -3.5
    assert picks["token"].generation.text == "billing"  # -1.75 > -2.0
    assert picks["char"].generation.text == "billing"  # -0.5 > -1.0
    assert picks["char"].details["choice"]["scores"] == {"no": -1.0, "billing": -0.5}
    assert model.requests[:2] == [("q1", "no"), ("q1", "billing")]  # one batched call: every label of every item
    assert sum(ticks) == 3  # progress counts items, once per normalisation run
    assert normalised(-6.0, 3, "abcd", "token") == -2.0 and normalised(-6.0, 3, "abcd", "char") == -1.5


def test_choice_on_the_tiny_model_matches_its_loglikelihoods(tiny_model):
    from harness.backends.pool import Generators
    from harness.models.loading import ResolvedModel, weights_hash
    from harness.prompting.conversations import conversation
    from harness.spec import PromptSpec

    class Quiet:
        def add_task(self, *a, **k):
            return 0

        update = advance = lambda *a, **k: None

    gen = Generators(ResolvedModel("tiny", tiny_model, "local", weights_hash(tiny_model)), "auto", 4, Quiet(),
                     "cpu").get()
    labels = ["billing", "technical", "account"]
    from harness.data.examples import Item

    convs = [conversation(Item(f"i{k}", ({"role": "user", "content": t},)), PromptSpec(system="Route it."))
             for k, t in enumerate(["refund my invoice", "the app crashes at login"])]
    answers = choose(gen, convs, labels, "char", lambda n: None)
    for conv, a in zip(convs, answers):
        lls = gen.loglikelihood([(gen.render(conv), label) for label in labels], lambda n: None)
        by_label = {label: ll.logprob / len(label) for label, ll in zip(labels, lls)}
        assert a.generation.text == max(by_label, key=by_label.get)
        assert a.details["choice"]["scores"] == pytest.approx(by_label, abs=1e-5)


LABEL_ROWS = [("refund my invoice", "billing"), ("app crashes", "technical"), ("reset my password", "account")]


def _label_task(tmp_path, model, arms):
    rows = lambda n, p: [{"id": f"{p}{i}", "messages": [{"role": "user", "content": f"{LABEL_ROWS[i % 3][0]} #{p}{i}"},  # noqa: E731
                                                        {"role": "assistant", "content": LABEL_ROWS[i % 3][1]}]}
                         for i in range(n)]
    write_jsonl(tmp_path / "data" / "train.jsonl", rows(9, "tr"))
    write_jsonl(tmp_path / "data" / "validation.jsonl", rows(6, "va"))
    write_jsonl(tmp_path / "data" / "test.jsonl", rows(6, "te"))
    path = tmp_path / "labels.yaml"
    path.write_text(f"""name: tickets
version: 1
data: {{train: data/train.jsonl, validation: data/validation.jsonl, test: data/test.jsonl}}
output: {{type: label, labels: [billing, technical, account]}}
prompt: {{system: Route the ticket., instructions: "Answer with one of: billing, technical, account."}}
model: {{base: {model}}}
generation: {{max_new_tokens: 24, batch_size: 4}}
metrics: [accuracy, macro_f1]
checks: {{near_duplicates: false}}
arms:{arms}
decision: {{primary_metric: accuracy, min_lift: 0.05}}
""")
    return path


def test_label_arms_answer_free_by_choice_and_constrained(tmp_path, tiny_model):
    arms = """
  - {name: free, type: prompted}
  - {name: choice, type: prompted, answer: choice, normalization: token}
  - {name: constrained, type: prompted, answer: constrained}
"""
    assert run_cli(tmp_path, _label_task(tmp_path, tiny_model, arms)) == 0
    outputs = {}
    for arm, split, output in query(tmp_path, "SELECT arm, split, output FROM predictions WHERE error IS NULL"):
        outputs.setdefault((arm, split), []).append(output)
    labels = {"billing", "technical", "account"}
    for arm in ("choice", "constrained"):
        assert set(outputs[(arm, "test")]) <= labels and set(outputs[(arm, "validation")]) <= labels
    assert len(outputs[("choice", "test")]) == 6  # a choice never fails
    assert not set(outputs[("free", "test")]) <= labels  # the random model's free text names no label
    details = dict(query(tmp_path, "SELECT arm, details_json FROM arms"))
    assert json.loads(details["choice"])["normalization"] == "token"
    assert json.loads(details["constrained"])["constraint"]["kind"] == "choice"
    assert json.loads(details["free"])["answer"] == "free"


def test_constrained_json_answers_parse_where_free_ones_never_do(tmp_path, tiny_model):
    schema = ('{type: object, additionalProperties: false, required: [party, months], properties: '
              '{party: {type: string, pattern: "^[A-Za-z .]{1,12}$"}, months: {type: integer, minimum: 0, maximum: 99}}}')
    task = write_tiny_task(tmp_path, tiny_model, """
  - {name: free, type: prompted}
  - {name: constrained, type: prompted, answer: constrained}
""")
    text = task.read_text().replace("  fields: [party, months]", f"  fields: [party, months]\n  json_schema: {schema}")
    task.write_text(text.replace("max_new_tokens: 6", "max_new_tokens: 40"))
    assert run_cli(tmp_path, task) == 0
    rows = query(tmp_path, "SELECT arm, output, error FROM predictions WHERE split = 'test'")
    free = [o for a, o, e in rows if a == "free"]
    constrained = [(o, e) for a, o, e in rows if a == "constrained"]
    assert not any(_parses(o) for o in free)
    assert all(e is None and set(json.loads(o)) == {"party", "months"} for o, e in constrained), constrained
    valid = dict(query(tmp_path, "SELECT arm, value FROM metrics WHERE metric = 'json_valid' AND split = 'test'"))
    assert valid == {"free": 0.0, "constrained": 1.0}


def _parses(text):
    try:
        return isinstance(json.loads(text), dict)
    except ValueError:
        return False


@pytest.mark.parametrize("arm, message", [
    ("{name: c, type: prompted, answer: choice}", "'choice' picks one of the labels and needs output type 'label'"),
    ("{name: c, type: prompted, answer: constrained, backend: {type: openai, base_url: 'http://127.0.0.1:9/v1', "
     "model: m}}", None),
    ("{name: c, type: prompted, answer: sometimes}", "answer"),
])
def test_answer_modes_are_checked_against_the_task(tmp_path, arm, message):
    from harness.spec.taskfile import load_spec

    path = write_tiny_task(tmp_path, "x/y", f"\n  - {arm}\n")
    if message is None:
        assert load_spec(path).spec.arms[0].answer == "constrained"
        return
    with pytest.raises(SpecError) as err:
        load_spec(path)
    assert message in "\n".join(err.value.problems)


def _arm(name, role, correct, validation=None, answer="free"):
    from harness.verdict.comparison import ArmResult

    values = {f"e{i}": float(c) for i, c in enumerate(correct)}
    return ArmResult(name, role, "completed", float(np.mean(correct)), values, {k: "" for k in values},
                     validation_value=validation, answer=answer)


def test_tuning_that_only_fixes_the_format_beats_free_prompting_but_not_constrained_prompting():
    from harness.metrics.builtin import OutputShape
    from harness.spec import DecisionSpec
    from harness.verdict.decision import decide

    rng = np.random.default_rng(0)
    n = 200
    knows = rng.random(n) < 0.7  # the model knows the label of 70% of the items
    free = knows & (rng.random(n) < 0.1)  # free text rarely comes out as a label
    tuned = knows  # tuning teaches the format, not the task
    constrained = knows  # constrained prompting gets the format for free
    targets = {f"e{i}": "a" for i in range(n)}
    rule, shape = DecisionSpec(primary_metric="accuracy", min_lift=0.05), OutputShape("label", labels=("a", "b"))
    strawman = decide([_arm("free", "baseline", free), _arm("lora", "tuned", tuned)], targets, "accuracy", rule, shape)
    assert strawman.verdict == "GO"
    fair = decide([_arm("free", "baseline", free, 0.07), _arm("constrained", "baseline", constrained, 0.69, "constrained"),
                   _arm("lora", "tuned", tuned)], targets, "accuracy", rule, shape)
    assert fair.verdict != "GO" and fair.baseline == "constrained" and fair.baseline_selection == "validation"
    assert fair.answers == {"constrained": "constrained"}


def test_a_constraint_the_server_cannot_enforce_fails_before_any_work(tmp_path, tiny_model, capsys):
    arms = """
  - {name: served, type: prompted, answer: constrained,
     backend: {type: openai, base_url: "http://127.0.0.1:9/v1", model: m, server: openai}}
"""
    assert run_cli(tmp_path, _label_task(tmp_path, tiny_model, arms)) == 2
    err = capsys.readouterr().err
    assert "unsupported" in err and len(err.strip().splitlines()) == 1
    assert not (tmp_path / "h.duckdb").exists()
