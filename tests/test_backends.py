from __future__ import annotations

from pathlib import Path

import pytest

from harness.backends.hf import HFGenerator
from harness.backends.openai_compat import OpenAIGenerator
from harness.errors import HarnessError
from harness.models.loading import ResolvedModel, load_causal_lm, weights_hash
from tests.openai_server import serve, tiny_model_answer

CONVERSATIONS = [
    [{"role": "system", "content": "Extract fields."}, {"role": "user", "content": text}]
    for text in [
        "Acme Corp and Beta LLC",
        "The laws of the State of New York govern this agreement between Gamma GmbH and Delta plc.",
        "hi",
        "Either party may terminate with thirty days written notice to Acme Corp.",
        "billing refund",
    ]
]


@pytest.fixture(scope="module")
def tiny_generator(tiny_model):
    model = ResolvedModel("tiny", Path(tiny_model), "local", weights_hash(Path(tiny_model)))
    lm, tokenizer, device = load_causal_lm(model, "float32", "cpu")
    return lambda batch_size: HFGenerator(lm, tokenizer, device, batch_size, "tiny")


def test_batched_generation_equals_one_at_a_time(tiny_generator):
    """Left padding plus the attention mask must not change greedy answers."""
    one = tiny_generator(1).generate(CONVERSATIONS, 12, lambda n: None)
    many = tiny_generator(4).generate(CONVERSATIONS, 12, lambda n: None)
    assert [g.text for g in one] == [g.text for g in many]
    assert [g.prompt_tokens for g in one] == [g.prompt_tokens for g in many]
    assert all(0 < g.output_tokens <= 12 for g in many)
    assert len({g.prompt_tokens for g in many}) > 1  # the prompts really differ in length


def test_shared_prefix_cache_gives_the_same_answers(tiny_model):
    model = ResolvedModel("tiny", Path(tiny_model), "local", weights_hash(Path(tiny_model)))
    lm, tokenizer, device = load_causal_lm(model, "float32", "cpu")
    shots = [{"role": "user", "content": "Acme Corp and Beta LLC agree."}, {"role": "assistant", "content": '{"party": "Acme"}'}]
    convs = [[CONVERSATIONS[0][0], *shots, c[1]] for c in CONVERSATIONS]
    plain = HFGenerator(lm, tokenizer, device, 2, "tiny", reuse_prefix=False).generate(convs, 10, lambda n: None)
    cached_gen = HFGenerator(lm, tokenizer, device, 2, "tiny", reuse_prefix=True, min_prefix=8)
    cached = cached_gen.generate(convs, 10, lambda n: None)
    assert [g.text for g in plain] == [g.text for g in cached]
    assert [g.output_tokens for g in plain] == [g.output_tokens for g in cached]


@pytest.mark.parametrize("width,reuse_prefix,copies", [(1, False, 1), (2, True, 1), (2, False, 1), (5, True, 1),
                                                         (12, True, 4)])
def test_continuous_batching_gives_generates_greedy_answers(tiny_model, width, reuse_prefix, copies):
    """The slot loop (each prompt prefilled alone; a finished row's slot taken by the next prompt; over 8 rows,
    groups of rows attending to different lengths) against transformers' generate() on left-padded batches,
    token for token, with rows that end at different steps."""
    model = ResolvedModel("tiny", Path(tiny_model), "local", weights_hash(Path(tiny_model)))
    lm, tokenizer, device = load_causal_lm(model, "float32", "cpu")
    assert lm.config._attn_implementation == "sdpa"
    shots = [{"role": "user", "content": "Acme Corp and Beta LLC agree."}, {"role": "assistant", "content": "Acme"}]
    convs = [[CONVERSATIONS[0][0], *shots, {"role": "user", "content": c[1]["content"] + " x" * k}]
             for k in range(copies) for c in CONVERSATIONS]
    reference = HFGenerator(lm, tokenizer, device, 4, "tiny", continuous=False, min_prefix=8)
    free = reference.generate(convs, 16, lambda n: None)
    # End-of-turn ids the rows reach at different steps: a token from inside each free answer
    ids = [tokenizer(g.text, add_special_tokens=False)["input_ids"] for g in free]
    lm.generation_config.eos_token_id = [tokenizer.eos_token_id, *{t[min(2 + 3 * k, len(t) - 1)] for k, t in enumerate(ids)}]
    try:
        expected = reference.generate(convs, 16, lambda n: None)
        ours = HFGenerator(lm, tokenizer, device, width, "tiny", reuse_prefix=reuse_prefix, min_prefix=8)
        got = ours.generate(convs, 16, lambda n: None)
    finally:
        lm.generation_config.eos_token_id = tokenizer.eos_token_id
    assert [(g.text, g.output_tokens) for g in got] == [(g.text, g.output_tokens) for g in expected]
    assert len({g.output_tokens for g in expected}) > 2  # the rows really end at different steps


def test_slot_cache_is_used_only_where_it_holds_the_attention(tiny_model):
    from transformers import AutoConfig, AutoModelForCausalLM

    from harness.backends.slots import slots_supported

    lm = AutoModelForCausalLM.from_pretrained(tiny_model)
    assert slots_supported(lm, 10_000)
    sliding = AutoConfig.for_model("mistral", vocab_size=64, hidden_size=16, intermediate_size=32, num_hidden_layers=2,
                                   num_attention_heads=2, num_key_value_heads=1, sliding_window=32)
    model = AutoModelForCausalLM.from_config(sliding)
    assert slots_supported(model, 32) and not slots_supported(model, 33)


def test_a_row_stops_where_its_answer_is_complete(tiny_generator):
    """answer_end decides, per row: the answer is cut there and the row stops decoding."""
    def three_characters(text: str) -> int | None:
        return 3 if len(text) >= 3 else None

    free = tiny_generator(4).generate(CONVERSATIONS, 20, lambda n: None)
    ended = tiny_generator(4).generate(CONVERSATIONS, 20, lambda n: None, answer_end=three_characters)
    for f, e in zip(free, ended):
        assert f.text.startswith(e.text) and len(e.text) <= 3 and e.output_tokens <= f.output_tokens
    assert sum(e.output_tokens for e in ended) < sum(f.output_tokens for f in free)


def test_shared_prefix_length():
    from harness.backends.hf import shared_prefix_length

    assert shared_prefix_length([[1, 2, 3, 4], [1, 2, 3, 5], [1, 2, 9]]) == 2
    assert shared_prefix_length([[1, 2, 3], [1, 2, 3]]) == 2  # each keeps one token of its own
    assert shared_prefix_length([[1, 2, 3]]) == 0


def test_generation_keeps_input_order_and_counts_progress(tiny_generator):
    seen = []
    gen = tiny_generator(2)
    out = gen.generate(CONVERSATIONS, 5, seen.append)
    assert sum(seen) == len(CONVERSATIONS)
    assert [g.prompt_tokens for g in out] == [gen.count_prompt_tokens(c) for c in CONVERSATIONS]


def test_prompt_longer_than_context_is_a_counted_failure(tiny_generator):
    gen = tiny_generator(2)
    long = [{"role": "user", "content": "word " * 2000}]
    out = gen.generate([long, CONVERSATIONS[0]], 5, lambda n: None)
    assert out[0].error and "context window" in out[0].error and out[0].text == ""
    assert out[1].error is None


def test_openai_backend_against_a_real_local_server(tiny_model, monkeypatch):
    answer = tiny_model_answer(tiny_model)
    monkeypatch.setenv("TEST_SERVER_KEY", "secret-123")
    with serve(answer, api_key="secret-123") as (base_url, seen):
        gen = OpenAIGenerator(base_url, "tiny", "TEST_SERVER_KEY", concurrency=3)
        convs = CONVERSATIONS + [[{"role": "user", "content": "please FAIL"}]]
        out = gen.generate(convs, 8, lambda n: None)
    direct = [answer(c, 8)[0] for c in CONVERSATIONS]
    assert [g.text for g in out[:-1]] == direct
    assert all(g.error is None and g.prompt_tokens > 0 for g in out[:-1])
    assert out[-1].error and "induced failure" in out[-1].error
    assert {r["auth"] for r in seen} == {"Bearer secret-123"}
    assert all(r["body"]["temperature"] == 0 and r["body"]["max_tokens"] == 8 for r in seen)


def test_openai_backend_needs_its_key_variable(monkeypatch):
    monkeypatch.delenv("MISSING_KEY_VAR", raising=False)
    with pytest.raises(HarnessError, match="environment variable MISSING_KEY_VAR is not set"):
        OpenAIGenerator("http://127.0.0.1:9/v1", "m", "MISSING_KEY_VAR")
