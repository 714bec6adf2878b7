"""The verdict on synthetic results where the right answer is known."""

from __future__ import annotations

import numpy as np
import pytest

from harness.decision import ArmResult, decide
from harness.metrics import OutputShape
from harness.stats import holm, mcnemar_p, paired_difference

SHAPE = OutputShape("label", labels=("a", "b"))


def _arm(name, kind, correct, tokens=None):
    values = {f"e{i}": float(c) for i, c in enumerate(correct)}
    outputs = {f"e{i}": ("a" if c else "b") for i, c in enumerate(correct)}
    return ArmResult(name, kind, "completed", float(np.mean(correct)), values, outputs, tokens)


def _targets(n):
    return {f"e{i}": "a" for i in range(n)}


def _decide(arms, n, min_lift=0.05):
    return decide(arms, _targets(n), "accuracy", min_lift, 0.95, SHAPE)


def test_go_when_the_tuned_arm_is_clearly_better():
    rng = np.random.default_rng(0)
    n = 400
    base = rng.random(n) < 0.5
    tuned = base | (rng.random(n) < 0.6)  # fixes most of the baseline's misses
    out = _decide([_arm("few_shot", "prompted", base, 600.0), _arm("lora", "lora", tuned, 120.0)], n)
    assert out["verdict"] == "GO", out["reasons"]
    assert out["baseline"] == "few_shot" and out["candidate"] == "lora"
    assert any("uses 120 prompt tokens per request, 480 fewer than few_shot (80%)" in r for r in out["reasons"])


def test_a_tuned_arm_with_longer_prompts_is_said_to_use_more_tokens():
    rng = np.random.default_rng(1)
    correct = rng.random(50) < 0.5
    out = _decide([_arm("few_shot", "prompted", correct, 400.0), _arm("lora", "lora", correct, 500.0)], 50)
    assert any("uses 500 prompt tokens per request, 100 more than few_shot (25%)" in r for r in out["reasons"])


def test_no_go_when_tuning_does_not_reach_the_lift():
    rng = np.random.default_rng(1)
    n = 400
    base = rng.random(n) < 0.8
    tuned = base & (rng.random(n) < 0.85)  # worse
    out = _decide([_arm("rag", "rag", base), _arm("lora", "lora", tuned)], n)
    assert out["verdict"] == "NO-GO", out["reasons"]


def test_inconclusive_on_a_small_test_set_says_how_many_items_are_needed():
    base = [1, 0, 1, 0, 1, 0, 1, 0, 1, 0]
    tuned = [1, 1, 1, 0, 1, 0, 1, 0, 1, 0]
    out = _decide([_arm("zero", "prompted", base), _arm("lora", "lora", tuned)], 10)
    assert out["verdict"] == "INCONCLUSIVE"
    assert "test items" in out["reasons"][0] and "detect differences of about" in out["reasons"][0]


def test_without_a_tuned_arm_there_is_no_verdict():
    out = _decide([_arm("zero", "prompted", [1, 0, 1])], 3)
    assert out["verdict"] == "INCONCLUSIVE" and "fine-tuned arm" in out["reasons"][0]


def test_the_baseline_is_the_best_untrained_arm_and_merged_arms_are_not_candidates():
    n = 200
    rng = np.random.default_rng(2)
    weak, strong = rng.random(n) < 0.3, rng.random(n) < 0.7
    out = _decide([_arm("zero", "prompted", weak), _arm("rag", "rag", strong), _arm("lora", "lora", weak),
                   _arm("lora_merged", "merged", strong | True)], n)
    assert out["baseline"] == "rag" and [c["arm"] for c in out["comparisons"]] == ["lora"]


def test_paired_difference_is_paired():
    rng = np.random.default_rng(3)
    hard = rng.random(300) < 0.5  # item difficulty shared by both arms
    a = hard.astype(float)
    b = a.copy()
    b[:15] = 1.0  # b fixes a few items
    d = paired_difference("accuracy", ["x"] * 300, ["x"] * 300, ["x"] * 300, a, b, SHAPE)
    assert d["diff"] == pytest.approx(np.mean(b) - np.mean(a))
    assert d["low"] >= 0.0  # paired: the shared difficulty cancels, so the interval is tight and above zero


def test_mcnemar_and_holm():
    a = np.array([1.0] * 30 + [0.0] * 30)
    b = np.array([1.0] * 30 + [1.0] * 20 + [0.0] * 10)
    assert mcnemar_p(a, b) < 0.001
    assert mcnemar_p(np.array([0.5]), np.array([1.0])) is None
    assert holm([0.01, 0.04]) == pytest.approx([0.02, 0.04])
