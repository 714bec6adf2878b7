"""The verdict on synthetic results where the right answer is known."""

from __future__ import annotations

import json

import numpy as np
import pytest
from pydantic import ValidationError

from harness.metrics.builtin import OutputShape, aggregate_key
from harness.spec import DecisionSpec
from harness.verdict.comparison import ArmResult, Comparison
from harness.verdict.decision import Decision, decide
from harness.verdict.outcome import ArmGap
from harness.verdict.stats import (
    bootstrap_distribution,
    holm,
    mcnemar_p,
    paired_binary,
    paired_bootstrap,
    stratified_resample_indices,
)

SHAPE = OutputShape("label", labels=("a", "b"))


def _arm(name, role, correct, tokens=None, **kw):
    values = {f"e{i}": float(c) for i, c in enumerate(correct)}
    outputs = {f"e{i}": ("a" if c else "b") for i, c in enumerate(correct)}
    return ArmResult(name, role, "completed", float(np.mean(correct)), values, outputs, tokens, **kw)


def _targets(n):
    return {f"e{i}": "a" for i in range(n)}


def _rule(min_lift=0.05, **kw):
    return DecisionSpec(primary_metric="accuracy", min_lift=min_lift, confidence=0.95, **kw)


def _decide(arms, n, min_lift=0.05, primary="accuracy", **kw):
    return decide(arms, _targets(n), primary, _rule(min_lift).model_copy(update={"primary_metric": primary}), SHAPE, **kw)


def test_go_when_the_tuned_arm_is_clearly_better():
    rng = np.random.default_rng(0)
    n = 400
    base = rng.random(n) < 0.5
    tuned = base | (rng.random(n) < 0.6)  # fixes most of the baseline's misses
    out = _decide([_arm("few_shot", "baseline", base, 600.0), _arm("lora", "tuned", tuned, 120.0)], n)
    assert isinstance(out, Decision)
    assert out.verdict == "GO" and out.route == "lift", out.reasons
    assert out.baseline == "few_shot" and out.candidate == "lora" and out.baseline_selection == "single"
    assert out.rule == out.finding == "lift" and out.prompt_tokens == {"lora": 120.0, "few_shot": 600.0}
    c = out.comparisons[0]
    assert c.method == "tango-score" and c.level == pytest.approx(0.95) and c.low > 0.05
    assert c.mcnemar_p is not None and c.mcnemar_p < 0.001
    assert c.wins + c.losses == c.differing and c.diff == pytest.approx((c.wins - c.losses) / n)


def test_no_go_when_tuning_does_not_reach_the_lift():
    rng = np.random.default_rng(1)
    n = 400
    base = rng.random(n) < 0.8
    tuned = base & (rng.random(n) < 0.85)  # worse
    out = _decide([_arm("rag", "baseline", base), _arm("lora", "tuned", tuned)], n)
    assert out.verdict == "NO-GO" and out.rule == "no-lift", out.reasons


def test_inconclusive_on_a_small_test_set_says_how_many_items_are_needed():
    base = [1, 0, 1, 0, 1, 0, 1, 0, 1, 0]
    tuned = [1, 1, 1, 0, 1, 0, 1, 0, 1, 0]
    out = _decide([_arm("zero", "baseline", base), _arm("lora", "tuned", tuned)], 10)
    assert out.verdict == "INCONCLUSIVE" and out.rule == "straddles"
    assert out.items_needed and out.items_needed > 10 and out.planned == "lora"
    c = out.comparisons[0]
    assert c.assumed_lift == c.diff == pytest.approx(0.1) and c.detectable is not None and out.n >= out.min_n


def test_identical_arms_are_not_a_no_go_on_a_small_test_set():
    correct = [1, 0] * 10
    out = _decide([_arm("zero", "baseline", correct), _arm("lora", "tuned", correct)], 20)
    assert out.verdict == "INCONCLUSIVE"
    c = out.comparisons[0]
    assert c.low < 0 and c.high > 0.05  # a score interval, not the degenerate [0, 0]
    assert c.assumed_lift == pytest.approx(0.10) and not out.expected_lift_stated  # min_lift + 0.05: the observed is 0


def test_below_the_minimum_n_there_is_no_verdict():
    out = _decide([_arm("zero", "baseline", [0, 0, 0]), _arm("lora", "tuned", [1, 1, 1])], 3)
    assert out.verdict == "INCONCLUSIVE" and out.rule == "too-few-items" and out.min_n == out.min_n_winning == 5


def test_without_a_tuned_arm_there_is_no_verdict():
    out = _decide([_arm("zero", "baseline", [1, 0, 1])], 3)
    assert out.verdict == "INCONCLUSIVE" and out.rule == "no-comparison" and out.missing_role == "tuned"


def test_the_baseline_is_chosen_on_validation_and_companions_are_not_candidates():
    n = 200
    rng = np.random.default_rng(2)
    weak, strong = rng.random(n) < 0.3, rng.random(n) < 0.7
    # on test "zero" looks best, but validation picks "rag": the pick is not made on the test items
    out = _decide([_arm("zero", "baseline", strong, validation_value=0.40), _arm("rag", "baseline", weak, validation_value=0.60),
                   _arm("lora", "tuned", weak), _arm("lora_merged", "companion", strong | True)], n)
    assert out.baseline == "rag" and out.baseline_selection == "validation"
    assert [c.arm for c in out.comparisons] == ["lora"] and [c.baseline for c in out.comparisons] == ["rag"]
    assert out.validation == {"zero": 0.40, "rag": 0.60}


def test_without_validation_scores_every_baseline_is_compared():
    n = 300
    rng = np.random.default_rng(3)
    weak, fair = rng.random(n) < 0.3, rng.random(n) < 0.5
    tuned = fair | (rng.random(n) < 0.5)
    out = _decide([_arm("zero", "baseline", weak, validation_value=0.3), _arm("rag", "baseline", fair),
                   _arm("lora", "tuned", tuned)], n)
    assert out.baseline_selection == "all-baselines" and sorted(out.baselines) == ["rag", "zero"]
    assert {c.baseline for c in out.comparisons} == {"rag", "zero"}
    assert all(c.alpha_high == pytest.approx(0.0125) and c.alpha_low == pytest.approx(0.025) for c in out.comparisons)
    assert out.verdict == "GO" and out.baseline == "rag"  # the binding baseline is the stronger one
    assert out.validation == {"zero": 0.3, "rag": None}


def test_several_tuned_arms_are_corrected_for_go():
    n = 300
    rng = np.random.default_rng(4)
    base = rng.random(n) < 0.5
    arms = [_arm("few", "baseline", base)] + [_arm(f"t{j}", "tuned", base | (rng.random(n) < 0.3)) for j in range(3)]
    out = _decide(arms, n)
    assert all(c.alpha_low == pytest.approx(0.025 / 3) and c.alpha_high == pytest.approx(0.025) for c in out.comparisons)
    assert all(c.level == pytest.approx(1 - 0.025 / 3 - 0.025) for c in out.comparisons)
    ps = [c.p for c in out.comparisons]
    assert [c.p_adjusted for c in out.comparisons] == pytest.approx(holm(ps))
    assert "Bonferroni over 3 tuned arms" in out.method


def test_a_failed_baseline_makes_the_verdict_inconclusive():
    rng = np.random.default_rng(5)
    n = 400
    base = rng.random(n) < 0.5
    tuned = base | (rng.random(n) < 0.6)
    failed = ArmResult("rag", "baseline", "failed", None)
    out = _decide([_arm("few_shot", "baseline", base), failed, _arm("lora", "tuned", tuned)], n)
    assert out.verdict == "INCONCLUSIVE" and out.route is None and out.rule == "baseline-failed"
    assert out.finding == "lift" and out.incomplete_baselines == [ArmGap("rag", "failed", 0)]
    incomplete = _arm("rag", "baseline", base[:-1])  # no score for one test item
    out = _decide([_arm("few_shot", "baseline", base), incomplete, _arm("lora", "tuned", tuned)], n)
    assert out.verdict == "INCONCLUSIVE" and out.incomplete_baselines == [ArmGap("rag", "completed", 1)]


def test_a_failed_tuned_arm_is_left_out_with_a_reason():
    rng = np.random.default_rng(6)
    n = 400
    base = rng.random(n) < 0.5
    out = _decide([_arm("few", "baseline", base), _arm("lora", "tuned", base | (rng.random(n) < 0.6)),
                   ArmResult("qlora", "tuned", "failed", None)], n)
    assert out.verdict == "GO" and out.left_out == [ArmGap("qlora", "failed", 0)]


def test_too_many_failed_items_in_a_compared_arm_make_the_verdict_inconclusive():
    rng = np.random.default_rng(5)
    n = 400
    base = rng.random(n) < 0.5
    tuned = base | (rng.random(n) < 0.6)
    assert _decide([_arm("few_shot", "baseline", base, n_failed=20), _arm("lora", "tuned", tuned)], n).verdict == "GO"
    out = _decide([_arm("few_shot", "baseline", base, n_failed=21), _arm("lora", "tuned", tuned)], n)
    assert out.verdict == "INCONCLUSIVE" and out.route is None and out.rule == "too-many-failed"
    assert out.failed_items == {"few_shot": 21} and out.max_failed_share == 0.05 and out.finding == "lift"
    assert out.comparisons and out.candidate == "lora"  # the comparison is still shown

    worse = base & (rng.random(n) < 0.85)
    assert _decide([_arm("rag", "baseline", base), _arm("lora", "tuned", worse)], n).verdict == "NO-GO"
    out = _decide([_arm("rag", "baseline", base), _arm("lora", "tuned", worse, n_failed=60)], n)
    assert out.verdict == "INCONCLUSIVE" and out.failed_items == {"lora": 60}

    looser = decide([_arm("rag", "baseline", base), _arm("lora", "tuned", worse, n_failed=60)], _targets(n), "accuracy",
                    _rule(max_failed_share=0.2), SHAPE)
    assert looser.verdict == "NO-GO"
    # an arm the verdict does not compare (a merged copy) may fail without holding the verdict back
    out = _decide([_arm("few_shot", "baseline", base), _arm("lora", "tuned", tuned),
                   _arm("lora_merged", "companion", tuned, n_failed=200)], n)
    assert out.verdict == "GO"
    # without a tuned arm there is no verdict anyway, but the failures are still named
    out = _decide([_arm("zero", "baseline", [1, 0, 1], n_failed=1)], 3)
    assert out.rule == "no-comparison" and out.failed_items == {"zero": 1}


def test_max_failed_share_is_a_share():
    assert _rule().max_failed_share == 0.05
    assert _rule(max_failed_share=0.0).max_failed_share == 0.0
    for bad in (-0.1, 1.0):
        with pytest.raises(ValidationError, match="max_failed_share"):
            _rule(max_failed_share=bad)


def test_mcnemar_only_for_binary_mean_metrics():
    rng = np.random.default_rng(7)
    n = 300
    base = rng.random(n) < 0.5
    tuned = base | (rng.random(n) < 0.4)
    arms = [_arm("few", "baseline", base), _arm("lora", "tuned", tuned)]
    out = _decide(arms, n, primary="macro_f1")
    c = out.comparisons[0]
    assert c.mcnemar_p is None and c.method == "paired-bootstrap-stratified" and c.wins is None
    assert out.to_dict()["comparisons"][0]["mcnemar_p"] is None


def test_stratified_macro_f1_bootstrap_keeps_every_label():
    labels = ("a", "b", "c", "d")
    shape = OutputShape("label", labels=labels)
    rng = np.random.default_rng(8)
    gold = list(rng.choice(labels, size=60, p=[0.6, 0.3, 0.07, 0.03]))
    gold[-1] = "d"
    idx = stratified_resample_indices(gold, seed=0, n_resamples=500)
    g = np.array(gold, dtype=object)
    for label in labels:
        assert ((g[idx] == label).sum(axis=1) == gold.count(label)).all()
    preds = [t if rng.random() < 0.7 else str(rng.choice(labels)) for t in gold]
    values = np.array([float(p == t) for p, t in zip(preds, gold)])
    # the vectorised macro-F1 of the bootstrap equals the metric's own on any resample
    rows = bootstrap_distribution("macro_f1", preds, gold, values, shape, idx[:20])
    direct = [aggregate_key("macro_f1", [preds[i] for i in row], [gold[i] for i in row], values[row], shape) for row in idx[:20]]
    assert rows == pytest.approx(direct)
    plain = np.random.default_rng(0).integers(0, 60, size=(20, 60))  # unstratified rows may lack a label
    assert bootstrap_distribution("macro_f1", preds, gold, values, shape, plain) == pytest.approx(
        [aggregate_key("macro_f1", [preds[i] for i in row], [gold[i] for i in row], values[row], shape) for row in plain])


def test_lower_is_better_metrics_count_a_drop_as_lift():
    rng = np.random.default_rng(9)
    n = 400
    base_err = rng.random(n) < 0.5
    tuned_err = base_err & (rng.random(n) < 0.4)  # fewer errors
    arms = [_arm("few", "baseline", base_err), _arm("lora", "tuned", tuned_err)]
    out = _decide(arms, n, higher_is_better=False)
    c = out.comparisons[0]
    assert c.diff == pytest.approx(base_err.mean() - tuned_err.mean()) and c.diff > 0
    assert out.verdict == "GO" and out.higher_is_better is False
    assert _decide(arms, n).verdict == "NO-GO"  # the same numbers read the other way
    # bootstrap path too
    cont_b = rng.random(n)
    cont_t = np.clip(cont_b - 0.2 + rng.normal(0, 0.05, n), 0, 1)
    rule = DecisionSpec(primary_metric="json_field_f1", min_lift=0.05)
    mk = lambda name, role, v: ArmResult(  # noqa: E731
        name, role, "completed", float(v.mean()), {f"e{i}": x for i, x in enumerate(v)})
    out = decide([mk("few", "baseline", cont_b), mk("lora", "tuned", cont_t)], {f"e{i}": "{}" for i in range(n)},
                 "json_field_f1", rule, OutputShape("json", fields=("a",)), higher_is_better=False)
    assert out.comparisons[0].diff > 0.15 and out.verdict == "GO"


def test_go_on_cost_when_non_inferior_and_cheap_enough():
    rng = np.random.default_rng(10)
    n = 400
    base = rng.random(n) < 0.7
    tuned = base.copy()
    flip = rng.choice(n, 20, replace=False)
    tuned[flip] = ~tuned[flip]
    cost = {"requests_per_day": 10000, "price_per_1k_input_tokens": 0.5, "training_cost_per_hour": 3.6}
    rule = _rule(non_inferiority_margin=0.05, cost=cost)
    arms = [_arm("few", "baseline", base, 837.0), _arm("lora", "tuned", tuned, 45.0, train_seconds=3600.0)]
    out = decide(arms, _targets(n), "accuracy", rule, SHAPE)
    assert out.verdict == "GO" and out.route == out.rule == "cost", out.reasons
    be = out.break_even[0]
    assert be.saving_per_request == pytest.approx((837 - 45) / 1000 * 0.5) and be.repays
    assert be.break_even_requests == pytest.approx(3.6 / be.saving_per_request) and out.cost_plan is None
    # too little volume to repay training within the horizon: no GO on cost
    slow = rule.model_copy(update={"cost": rule.cost.model_copy(update={"requests_per_day": 0.01, "horizon_days": 30})})
    out = decide(arms, _targets(n), "accuracy", slow, SHAPE)
    assert out.verdict != "GO" and not out.break_even[0].repays and out.break_even[0].horizon_days == 30
    # priced by hardware: latency per request
    hw = _rule(non_inferiority_margin=0.05, cost={"requests_per_day": 10000, "serving_cost_per_hour": 3.6})
    slow_arms = [_arm("few", "baseline", base, 837.0, latency_s=2.0), _arm("lora", "tuned", tuned, 45.0, latency_s=0.5)]
    out = decide(slow_arms, _targets(n), "accuracy", hw, SHAPE)
    assert out.route == "cost" and out.break_even[0].cost_per_request == pytest.approx(0.0005)


def test_decision_spec_cost_fields_are_validated():
    with pytest.raises(ValidationError, match="go together"):
        _rule(non_inferiority_margin=0.02)
    with pytest.raises(ValidationError, match="not both"):
        _rule(non_inferiority_margin=0.02, cost={"requests_per_day": 10, "serving_cost_per_hour": 1,
                                                 "price_per_1k_input_tokens": 0.1})
    with pytest.raises(ValidationError, match="token prices"):
        _rule(non_inferiority_margin=0.02, cost={"requests_per_day": 10})
    with pytest.raises(ValidationError, match="extra"):
        _rule(non_inferiority_margin=0.02, cost={"requests_per_day": 10, "serving_cost_per_hour": 1, "oops": 1})
    with pytest.raises(ValidationError):
        _rule(non_inferiority_margin=-0.01, cost={"requests_per_day": 10, "serving_cost_per_hour": 1})
    with pytest.raises(ValidationError, match="exceed min_lift"):
        _rule(min_lift=0.1, expected_lift=0.05)
    assert _rule(non_inferiority_margin=0.0, cost={"requests_per_day": 1, "price_per_1k_output_tokens": 1}).cost.horizon_days == 365


def test_arm_roles_are_checked():
    with pytest.raises(ValueError, match="role"):
        ArmResult("x", "lora", "completed", 1.0)


def test_decisions_round_trip_through_json_and_old_dicts_still_read():
    rng = np.random.default_rng(11)
    base = rng.random(50) < 0.5
    out = _decide([_arm("few", "baseline", base), _arm("lora", "tuned", base | (rng.random(50) < 0.2))], 50)
    stored = json.loads(json.dumps(out.to_dict(), allow_nan=False))
    assert Decision.from_dict(stored) == out
    # format 2, as stored before the outcome's facts were: those read at their defaults
    two = {k: v for k, v in stored.items() if k in FORMAT_2_KEYS} | {"format": 2}
    read = Decision.from_dict(two)
    assert read.verdict == out.verdict and read.reasons == out.reasons and read.comparisons == out.comparisons
    assert read.rule == "" and read.slices is None and read.cost_plan is None and not read.legacy
    old = {"verdict": "INCONCLUSIVE", "reasons": ["the interval straddles ..."], "primary": "accuracy",
           "comparisons": [{"arm": "lora", "baseline": "few", "diff": 0.02, "low": -0.01, "high": 0.05, "p": 0.2,
                            "p_holm": 0.2, "se": 0.015, "n": 200, "mcnemar_p": None, "detectable": 0.04}],
           "baseline": "few", "candidate": "lora", "min_lift": 0.05, "confidence": 0.95}
    d = Decision.from_dict(old)
    assert d.legacy and d.verdict == "INCONCLUSIVE" and d.baseline_selection == "test"
    c = d.comparisons[0]
    assert isinstance(c, Comparison) and c.p_adjusted == 0.2 and c.level == 0.95 and c.n == 200
    assert Decision.from_dict({"verdict": "INCONCLUSIVE", "reasons": ["no completed fine-tuned arm to compare"],
                               "comparisons": [], "primary": "accuracy"}).comparisons == []


FORMAT_2_KEYS = {"verdict", "reasons", "comparisons", "primary", "baseline", "baselines", "baseline_selection", "candidate",
                 "min_lift", "confidence", "method", "route", "items_needed", "min_n", "n", "higher_is_better",
                 "non_inferiority_margin", "break_even", "regressed", "legacy"}


def test_paired_binary_is_not_degenerate_without_discordant_items():
    same = np.array([1.0, 0.0] * 25)
    r = paired_binary(same, same, 0.05, 0.025, 0.025)
    assert r.diff == 0 and r.low < 0 < r.high
    assert r.high == pytest.approx(1.96**2 / (50 + 1.96**2), rel=1e-3)  # z^2 / (n + z^2)


def test_paired_difference_is_paired():
    rng = np.random.default_rng(3)
    hard = rng.random(300) < 0.5  # item difficulty shared by both arms
    a = hard.astype(float)
    b = a.copy()
    b[:15] = 1.0  # b fixes a few items
    d = paired_bootstrap("accuracy", ["x"] * 300, ["x"] * 300, ["x"] * 300, a, b, SHAPE, 0.0, 0.025, 0.025, 0)
    assert d.diff == pytest.approx(np.mean(b) - np.mean(a))
    assert d.low >= 0.0  # paired: the shared difficulty cancels, so the interval is tight and above zero


def test_mcnemar_and_holm():
    a = np.array([1.0] * 30 + [0.0] * 30)
    b = np.array([1.0] * 30 + [1.0] * 20 + [0.0] * 10)
    assert mcnemar_p(a, b) < 0.001
    assert mcnemar_p(np.array([0.5]), np.array([1.0])) is None
    assert holm([0.01, 0.04]) == pytest.approx([0.02, 0.04])
    from statsmodels.stats.multitest import multipletests

    ps = [0.03, 0.001, 0.2, 0.04]
    assert holm(ps) == pytest.approx(list(multipletests(ps, method="holm")[1]))
