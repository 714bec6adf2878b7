from __future__ import annotations

import json

import numpy as np
import pytest
from sklearn.metrics import f1_score

from harness.metrics.builtin import METRICS, OutputShape, aggregate_key, extract_json_object, parse_label, score_example
from harness.verdict.stats import bootstrap_ci

JSON = OutputShape("json", ("parties", "date", "term", "renews"))
LABELS = OutputShape("label", labels=("billing", "technical", "other"))
GOLD = json.dumps({"parties": ["Acme", "Beta"], "date": "2024-03-01", "term": 24, "renews": None})


def test_exact_match_is_normalised():
    assert score_example(["exact_match"], "  Paris. ", "paris", JSON)["exact_match"] == 1.0
    assert score_example(["exact_match"], "Paris, France", "paris", JSON)["exact_match"] == 0.0


def test_json_valid_is_strict_but_fields_are_found_in_chatter():
    chatty = 'Sure! {"parties": ["beta", "acme"], "date": "2024-03-01", "term": "24", "renews": null} Hope it helps'
    assert score_example(["json_valid"], chatty, GOLD, JSON)["json_valid"] == 0.0
    assert score_example(["json_valid"], "```json\n{\"a\": 1}\n```", GOLD, JSON)["json_valid"] == 1.0
    values = score_example(["json_field_exact_match", "json_record_exact_match", "json_field_f1"], chatty, GOLD, JSON)
    # list order and case do not matter; "24" equals 24; null equals null
    assert values["json_field_exact_match.parties"] == 1.0
    assert values["json_field_exact_match.term"] == 1.0
    assert values["json_record_exact_match"] == 1.0
    assert values["json_field_f1"] == 1.0


def test_json_field_f1_counts_hallucinated_and_missed_values():
    pred = json.dumps({"parties": ["Acme", "Beta"], "date": None, "term": 12, "renews": True})
    # tp: parties; fn: date (missed), term (wrong); fp: term (wrong), renews (hallucinated)
    values = score_example(["json_field_f1", "json_field_accuracy"], pred, GOLD, JSON)
    assert values["json_field_f1"] == pytest.approx(2 * 1 / (2 * 1 + 2 + 2))
    assert values["json_field_accuracy"] == pytest.approx(1 / 4)
    assert score_example(["json_field_f1"], "no json at all", GOLD, JSON)["json_field_f1"] == 0.0
    empty = json.dumps({"parties": [], "date": None, "term": None, "renews": None})
    assert score_example(["json_field_f1"], empty, empty, JSON)["json_field_f1"] == 1.0


def test_extract_json_object_skips_non_objects():
    assert extract_json_object('[1, 2] then {"a": {"b": 1}}') == {"a": {"b": 1}}
    assert extract_json_object("{broken") is None


def test_label_parsing():
    assert parse_label("Billing.", LABELS.labels) == "billing"
    assert parse_label("The category is technical", LABELS.labels) == "technical"
    assert parse_label("billing or technical", LABELS.labels) is None
    assert parse_label("", LABELS.labels) is None


def test_macro_f1_matches_sklearn_on_declared_labels():
    targets = ["billing"] * 5 + ["technical"] * 3 + ["other"] * 2
    preds = ["billing"] * 4 + ["technical"] + ["technical"] * 2 + ["oops"] + ["other", "billing"]
    values = np.array([score_example(["macro_f1"], p, t, LABELS)["macro_f1"] for p, t in zip(preds, targets)])
    got = aggregate_key("macro_f1", preds, targets, values, LABELS)
    parsed = [parse_label(p, LABELS.labels) or "<invalid>" for p in preds]
    expected = f1_score(targets, parsed, labels=list(LABELS.labels), average="macro", zero_division=0)
    assert got == pytest.approx(expected)
    assert values.mean() == pytest.approx(0.7)  # per-example value is correctness (7 of 10)


def test_rouge_l():
    same = score_example(["rouge_l"], "either party may end it", "Either party may end it.", JSON)["rouge_l"]
    other = score_example(["rouge_l"], "the cat sat", "Either party may end it.", JSON)["rouge_l"]
    assert same == pytest.approx(1.0) and other == 0.0


def test_every_metric_declares_outputs_and_keys():
    for metric in METRICS.values():
        assert metric.outputs and metric.description
        assert metric.keys(JSON)


def test_bootstrap_ci_brackets_the_mean_and_shrinks_with_n():
    rng = np.random.default_rng(0)
    small = rng.binomial(1, 0.7, 40).astype(float)
    large = rng.binomial(1, 0.7, 1000).astype(float)
    lo_s, hi_s = bootstrap_ci("accuracy", [""] * 40, [""] * 40, small, LABELS)
    lo_l, hi_l = bootstrap_ci("accuracy", [""] * 1000, [""] * 1000, large, LABELS)
    assert lo_s <= small.mean() <= hi_s and lo_l <= large.mean() <= hi_l
    assert (hi_l - lo_l) < (hi_s - lo_s)
