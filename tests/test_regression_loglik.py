"""The batched log-likelihood path (shared-context KV cache) gives the per-request loop's numbers."""

from __future__ import annotations

import pytest

from harness.backends import LogLik
from harness.backends.loglik import encode_request, loglikelihood, loglikelihood_naive
from harness.errors import HarnessError

QUESTIONS = [
    "Question: Which party signs the contract?\nAnswer:",
    "Either party may terminate with",
    "The laws of the State of New York govern this agreement. Question: Which law?\nAnswer: ",  # trailing space
]
CHOICES = [" Acme Corp", " Beta LLC", " thirty days written notice", "NY", " billing technical account refund"]


@pytest.fixture(scope="module")
def lm(tiny_model):
    from transformers import AutoModelForCausalLM, AutoTokenizer

    model = AutoModelForCausalLM.from_pretrained(tiny_model)
    model.eval()
    return model, AutoTokenizer.from_pretrained(tiny_model)


def requests() -> list[tuple[str, str]]:
    reqs = [(q, c) for q in QUESTIONS for c in CHOICES]
    reqs += [("", "This agreement is made between Acme Corp and Beta LLC."), ("", "invoice")]  # no context
    reqs += [(QUESTIONS[0], CHOICES[0])]  # the same request twice
    return reqs


@pytest.mark.parametrize("batch_size", [1, 3, 16])
def test_batched_equals_per_request_loop(lm, batch_size):
    model, tok = lm
    reqs = requests()
    done = []
    batched = loglikelihood(model, tok, "cpu", reqs, batch_size=batch_size, advance=done.append)
    naive = loglikelihood_naive(model, tok, "cpu", reqs)
    assert sum(done) == len(reqs)
    for b, n in zip(batched, naive, strict=True):
        assert b.logprob == pytest.approx(n.logprob, abs=1e-4)
        assert (b.n_tokens, b.is_greedy) == (n.n_tokens, n.is_greedy)
    assert batched[0].logprob == pytest.approx(batched[-1].logprob, abs=1e-5)


def test_the_argmax_continuation_is_marked_greedy(lm):
    import torch

    model, tok = lm
    checked = 0
    for ctx in QUESTIONS[:2] + ["Acme Corp", "The laws of", "billing"]:
        ids = tok(ctx)["input_ids"]
        with torch.inference_mode():
            best = model(input_ids=torch.tensor([ids])).logits[0, -1].argmax().item()
        text = tok.decode([best])
        if encode_request(tok, ctx, text) != (ids, [best]):
            continue  # the token does not survive re-tokenization after this context
        second = next(t for t in range(len(tok)) if t != best and encode_request(tok, ctx, tok.decode([t]))[1] == [t])
        greedy, other = loglikelihood(model, tok, "cpu", [(ctx, text), (ctx, tok.decode([second]))])
        assert greedy.is_greedy and not other.is_greedy and greedy.logprob > other.logprob
        checked += 1
    assert checked


def test_context_trailing_space_moves_to_the_continuation(lm):
    _, tok = lm
    assert encode_request(tok, "Answer: ", "Acme") == encode_request(tok, "Answer:", " Acme")
    ctx, cont = encode_request(tok, "Answer:", " Acme")
    assert ctx == tok("Answer:")["input_ids"] and ctx + cont == tok("Answer: Acme")["input_ids"]


def test_empty_context_is_scored_from_the_prefix_token(lm):
    _, tok = lm
    ctx, cont = encode_request(tok, "", "invoice")
    assert ctx == [tok.bos_token_id] and cont == tok("invoice")["input_ids"]


def test_long_context_is_left_truncated_to_the_window(lm):
    model, tok = lm
    window = model.config.max_position_embeddings
    long_ctx = "Either party may terminate. " * 400
    assert len(tok(long_ctx)["input_ids"]) > window
    [b] = loglikelihood(model, tok, "cpu", [(long_ctx, " Acme Corp")])
    [n] = loglikelihood_naive(model, tok, "cpu", [(long_ctx, " Acme Corp")])
    assert b.logprob == pytest.approx(n.logprob, abs=1e-4)


def test_bad_inputs_say_what_is_wrong(lm):
    model, tok = lm
    with pytest.raises(HarnessError, match="adds no tokens"):
        loglikelihood(model, tok, "cpu", [("Answer:", "")])
    with pytest.raises(HarnessError, match="batch_size"):
        loglikelihood(model, tok, "cpu", [("a", "b")], batch_size=0)
    assert loglikelihood(model, tok, "cpu", []) == []
    assert isinstance(LogLik(-1.0, 1, True), LogLik)


@pytest.mark.filterwarnings("ignore:`is_gradient_checkpointing` is deprecated:FutureWarning")  # PEFT's to fix
def test_a_lora_wrapped_model_scores_the_same_both_ways(tiny_model):
    """Tuned arms hand over a PeftModel; the cache and logits_to_keep must pass through it."""
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM, AutoTokenizer

    base = AutoModelForCausalLM.from_pretrained(tiny_model)
    tok = AutoTokenizer.from_pretrained(tiny_model)
    plain = loglikelihood(base, tok, "cpu", requests()[:6])
    config = LoraConfig(r=4, target_modules=["q_proj", "v_proj"], init_lora_weights=False)
    model = get_peft_model(base, config)
    model.eval()
    reqs = requests()[:6]
    batched = loglikelihood(model, tok, "cpu", reqs, batch_size=4)
    naive = loglikelihood_naive(model, tok, "cpu", reqs)
    assert [b.logprob for b in batched] == pytest.approx([n.logprob for n in naive], abs=1e-4)
    assert [b.logprob for b in batched] != pytest.approx([p.logprob for p in plain], abs=1e-3)  # the adapter acts
