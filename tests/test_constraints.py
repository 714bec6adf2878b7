"""Constrained decoding on the tiny random model: JSON that always parses, labels from the set, the prefix cache."""

from __future__ import annotations

import json
import re

import pytest

from harness.errors import HarnessError
from harness.prompting.constraints import Constraint, json_schema_for, openai_constraint_args

jsonschema = pytest.importorskip("jsonschema")
pytest.importorskip("xgrammar")

SYSTEM = "You extract structured data from contract excerpts. Reply with one JSON object and nothing else."
TEXTS = [
    "Acme Corp agrees with Beta LLC for 3 months.",
    "This agreement is made between Acme Corp and Beta LLC on March 3, 2024.",
    "The laws of the State of New York govern this agreement.",
    "Either party may terminate with thirty days written notice.",
    "billing technical account refund password invoice crash login",
    "Gamma GmbH and Delta plc, 12 months, renews automatically.",
    "Epsilon Inc licenses the software to Zeta Ltd.",
    "Eta SA supplies Theta AG with battery cells for one year.",
    "Short.",
]
# The task's own schema, with values bounded so that even a random model finishes inside the budget. A pattern,
# not maxLength: xgrammar 0.2.8 lowers maxLength to a character class that admits raw control characters
# (mlc-ai/xgrammar#800), which strict json.loads rejects.
BOUNDED = {
    "type": "object",
    "properties": {
        "party": {"type": "string", "pattern": "^[A-Za-z .]{1,16}$"},
        "months": {"type": "integer", "minimum": 0, "maximum": 999},
        "renews": {"anyOf": [{"type": "boolean"}, {"type": "null"}]},
    },
    "required": ["party", "months", "renews"],
    "additionalProperties": False,
}


def conversations(texts=TEXTS):
    return [[{"role": "system", "content": SYSTEM}, {"role": "user", "content": t}] for t in texts]


@pytest.fixture(scope="module")
def tiny(tiny_model):
    from harness.models.loading import ResolvedModel, load_causal_lm, weights_hash

    resolved = ResolvedModel(str(tiny_model), tiny_model, "local", weights_hash(tiny_model))
    model, tokenizer, device = load_causal_lm(resolved, "float32", "cpu")
    return model, tokenizer


class SpyModel:
    """The tiny model, recording what HFGenerator passes to each generate call."""

    def __init__(self, model):
        self._model = model
        self.processors, self.with_cache, self.forwards = [], [], []

    def __getattr__(self, name):
        return getattr(self._model, name)

    def __call__(self, *args, **kwargs):  # prefills (the shared head, each prompt) and the slot loop's steps
        self.forwards.append(tuple(kwargs["input_ids"].shape))
        return self._model(*args, **kwargs)

    def generate(self, **kwargs):
        self.processors.append(kwargs.get("logits_processor"))
        self.with_cache.append("past_key_values" in kwargs)
        return self._model.generate(**kwargs)


def generate(tiny, constraint, max_new_tokens, texts=TEXTS, reuse_prefix=True, batch_size=16, continuous=True):
    """Answers through the harness's own HFGenerator: the slot loop (continuous batching), or with
    continuous=False transformers' generate() on left-padded batches with the grammar's logits processor."""
    from harness.backends.hf import HFGenerator

    model, tokenizer = tiny
    target = SpyModel(model)
    generator = HFGenerator(target, tokenizer, "cpu", batch_size, "tiny", reuse_prefix=reuse_prefix, min_prefix=8,
                            continuous=continuous)
    results = generator.generate(conversations(texts), max_new_tokens, lambda n: None, constraint=constraint)
    assert all((p is not None) == (constraint is not None) for p in target.processors)
    assert continuous == (not target.processors and not target.with_cache)
    return results, target


def parses(text):
    try:
        json.loads(text)
    except ValueError:
        return False
    return True


def test_derived_schema_has_the_fields_in_order_all_required_and_nothing_else():
    schema = json_schema_for(["parties", "term_months", "auto_renewal"], None)
    assert list(schema["properties"]) == schema["required"] == ["parties", "term_months", "auto_renewal"]
    assert schema["additionalProperties"] is False
    validator = jsonschema.Draft202012Validator(schema)
    validator.check_schema(schema)
    assert validator.is_valid({"parties": ["A", "B"], "term_months": 12, "auto_renewal": None})
    assert not validator.is_valid({"parties": "A", "term_months": 12})
    assert not validator.is_valid({"parties": "A", "term_months": 12, "auto_renewal": True, "extra": 1})
    assert not validator.is_valid({"parties": {"nested": 1}, "term_months": 1, "auto_renewal": True})
    assert json_schema_for(["x"], BOUNDED) == BOUNDED


def test_unconstrained_is_never_json_and_constrained_always_validates_with_the_prefix_cache(tiny):
    free, _ = generate(tiny, None, 48)
    assert not any(parses(g.text) for g in free), [g.text for g in free]

    constraint = Constraint.json(json_schema_for(["party", "months", "renews"], BOUNDED))
    cached, model = generate(tiny, constraint, 96, batch_size=3)
    # Shared system prompt >= min_prefix: its head was prefilled once, alone, then each prompt's own tail
    assert model.forwards[0][0] == 1 and model.forwards[0][1] >= 8
    assert sum(1 for shape in model.forwards if shape[1] > 1) == 1 + len(TEXTS)
    for g in cached:
        assert g.error is None
        jsonschema.validate(json.loads(g.text), BOUNDED)
    assert len({g.text for g in cached}) > 1, "answers should depend on the prompt"

    # generate() with the logits processor, with and without the prefix cache: the same greedy answers.
    reference, model = generate(tiny, constraint, 96, batch_size=16, continuous=False)
    assert model.with_cache == [True]
    plain, model = generate(tiny, constraint, 96, reuse_prefix=False, batch_size=4, continuous=False)
    assert model.with_cache == [False] * 3
    assert [(g.text, g.output_tokens) for g in plain] == [(g.text, g.output_tokens) for g in reference] \
        == [(g.text, g.output_tokens) for g in cached]


def test_derived_schema_answers_parse_or_are_reported_cut(tiny):
    """A random model may stay inside a string forever; such an answer is an error, never invalid JSON."""
    model, tokenizer = tiny
    schema = json_schema_for(["party", "months"], None)
    compiled = Constraint.json(schema).compile(tokenizer, model.generation_config.eos_token_id)
    results, target = generate(tiny, Constraint.json(schema), 64)
    assert any(g.output_tokens < 64 for g in results)
    for g in results:
        if g.output_tokens < 64 or parses(g.text):
            jsonschema.validate(json.loads(g.text), schema)
    # The check the generator would make on rows that never produced the stop token:
    short, _ = generate(tiny, Constraint.json(schema), 4)
    assert all(not parses(g.text) for g in short)
    ids = tokenizer(short[0].text, add_special_tokens=False)["input_ids"]
    error = compiled.completion_error(ids, 4)
    assert error is not None and "cut at max_new_tokens=4" in error
    full = tokenizer('{"party": "Acme", "months": 3}', add_special_tokens=False)["input_ids"]
    assert compiled.completion_error(full + [tokenizer.eos_token_id], 64) is None
    assert compiled.completion_error(full, 64) is None  # complete, budget ended just before the stop token
    assert "outside the json grammar" in compiled.completion_error(tokenizer("nope")["input_ids"], 64)


def test_choice_yields_exactly_one_label(tiny):
    labels = ["billing", "technical", "account refund", 'say "hi"', "billing urgent"]
    results, _ = generate(tiny, Constraint.choice(labels), 16)
    assert all(g.text in labels and g.error is None for g in results), [g.text for g in results]


def test_regex_constraint(tiny):
    results, _ = generate(tiny, Constraint.regex(r"[0-9]{3}-[A-Z]{2}"), 16, texts=TEXTS[:4])
    assert all(re.fullmatch(r"[0-9]{3}-[A-Z]{2}", g.text) for g in results), [g.text for g in results]


def test_processor_serves_one_call_and_special_tokens_never_appear(tiny):
    import torch

    model, tokenizer = tiny
    compiled = Constraint.json(json_schema_for(["a"], None)).compile(tokenizer)
    processor = compiled.logits_processor()
    prompt = torch.tensor([[5, 6, 7], [0, 8, 9]])  # tokens the grammar would reject: only new ones count
    scores = processor(prompt, torch.zeros(2, model.config.vocab_size))
    allowed = [set(torch.nonzero(row > float("-inf")).flatten().tolist()) for row in scores]
    assert allowed[0] == allowed[1] and tokenizer.convert_tokens_to_ids("{") in allowed[0]
    assert not allowed[0] & set(tokenizer.all_special_ids)
    with pytest.raises(RuntimeError, match="one generate call"):
        processor(prompt, torch.zeros(2, model.config.vocab_size))


def test_describe_identifies_what_determines_outputs():
    a = Constraint.json(json_schema_for(["x", "y"], None))
    b = Constraint.json(json_schema_for(["y", "x"], None))
    info = a.describe()
    assert info["kind"] == "json" and info["library"] == "xgrammar" and info["library_version"][0].isdigit()
    assert info["hash"] == Constraint.json(json_schema_for(["x", "y"], None)).describe()["hash"] != b.describe()["hash"]
    assert Constraint.choice(["a", "b"]).describe()["labels"] == ["a", "b"]
    json.dumps(info)
    with pytest.raises(HarnessError, match="duplicate"):
        Constraint.choice(["a", "a"])
    with pytest.raises(HarnessError, match="does not compile"):
        Constraint.regex("(unclosed").check_text("x")


def test_check_text_catches_servers_that_ignore_the_constraint():
    c = Constraint.json(json_schema_for(["a"], None))
    assert c.check_text('{"a": [1, "x"]}') is None
    assert c.check_text('{\n  "a": null\n}') is None  # servers may format JSON freely
    assert c.check_text('{"a": 1, "b": 2}') is not None
    assert c.check_text("Sure! {") is not None
    assert Constraint.choice(["yes", "no"]).check_text("no") is None
    assert Constraint.choice(["yes", "no"]).check_text("maybe") is not None


def test_openai_constraint_args_shapes():
    schema = json_schema_for(["a"], None)
    assert openai_constraint_args(Constraint.json(schema), "openai") == {
        "response_format": {"type": "json_schema", "json_schema": {"name": "answer", "schema": schema, "strict": True}}
    }
    assert openai_constraint_args(Constraint.json(schema), "vllm") == {"extra_body": {"structured_outputs": {"json": schema}}}
    assert openai_constraint_args(Constraint.choice(["x", "y"]), "vllm") == {
        "extra_body": {"structured_outputs": {"choice": ["x", "y"]}}
    }
    assert openai_constraint_args(Constraint.regex("a+"), "vllm-legacy") == {"extra_body": {"guided_regex": "a+"}}
    assert openai_constraint_args(Constraint.choice(["x"]), "vllm-legacy") == {"extra_body": {"guided_choice": ["x"]}}
    assert openai_constraint_args(Constraint.json(schema), "vllm-legacy") == {"extra_body": {"guided_json": schema}}
    for c in (Constraint.choice(["x", "y"]), Constraint.regex("a+")):
        with pytest.raises(HarnessError, match="unsupported"):
            openai_constraint_args(c, "openai")
    with pytest.raises(HarnessError, match="did you mean 'vllm'"):
        openai_constraint_args(Constraint.regex("a+"), "vlm")


def test_openai_backend_sends_the_constraint_to_the_server():
    from openai_server import serve

    from harness.backends.openai_compat import OpenAIGenerator

    schema = json_schema_for(["party", "months"], None)
    with serve(lambda messages, max_tokens: ('{"party": "Acme", "months": 3}', 7, 9)) as (url, seen):
        answers = OpenAIGenerator(url, "tiny", None).generate(
            conversations(TEXTS[:2]), 32, lambda n: None, constraint=Constraint.json(schema)
        )
        OpenAIGenerator(url, "tiny", None, server_kind="vllm").generate(
            conversations(TEXTS[:1]), 8, lambda n: None, constraint=Constraint.choice(["a", "b"])
        )
        OpenAIGenerator(url, "tiny", None).generate(conversations(TEXTS[:1]), 8, lambda n: None)
    assert [a.text for a in answers] == ['{"party": "Acme", "months": 3}'] * 2
    bodies = [s["body"] for s in seen]
    assert bodies[0]["response_format"] == {"type": "json_schema",
                                            "json_schema": {"name": "answer", "schema": schema, "strict": True}}
    assert bodies[2]["structured_outputs"] == {"choice": ["a", "b"]} and "response_format" not in bodies[2]
    assert "response_format" not in bodies[3] and "structured_outputs" not in bodies[3]
    with pytest.raises(HarnessError, match="unsupported"):
        OpenAIGenerator("http://127.0.0.1:9/v1", "tiny", None).generate(
            conversations(TEXTS[:1]), 8, lambda n: None, constraint=Constraint.regex("a"))
