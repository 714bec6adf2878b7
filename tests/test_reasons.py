"""The verdict's sentences (harness.verdict.reasons), written from outcomes whose numbers tests/test_decision.py
and tests/test_slices.py check: here only the words are asserted."""

from __future__ import annotations

import json
from dataclasses import replace

import numpy as np

from harness.metrics.builtin import OutputShape
from harness.records import SuiteScore
from harness.spec import DecisionSpec, RegressionSpec
from harness.verdict.comparison import ArmResult
from harness.verdict.decision import Decision, explain
from harness.verdict.forgetting import compare
from harness.verdict.outcome import Carrier, judge
from harness.verdict.reasons import method, reasons

SHAPE = OutputShape("label", labels=("a", "b"))


def _arm(name, role, correct, tokens=None, **kw):
    values = {f"e{i:03d}": float(c) for i, c in enumerate(correct)}
    outputs = {f"e{i:03d}": ("a" if c else "b") for i, c in enumerate(correct)}
    return ArmResult(name, role, "completed", float(np.mean(correct)), values, outputs, tokens, **kw)


def _judge(arms, n, rule=None, **kw):
    rule = rule or DecisionSpec(primary_metric="accuracy", min_lift=0.05)
    return judge(arms, {f"e{i:03d}": "a" for i in range(n)}, "accuracy", rule, SHAPE, **kw)


def _clear_win(seed=0, n=400):
    rng = np.random.default_rng(seed)
    base = rng.random(n) < 0.5
    return base, base | (rng.random(n) < 0.6)


def test_a_go_on_lift_and_what_the_tuned_arm_saves():
    base, tuned = _clear_win()
    words = reasons(_judge([_arm("few_shot", "baseline", base, 600.0), _arm("lora", "tuned", tuned, 120.0,
                                                                            train_seconds=42.0)], 400))
    assert words[0].startswith("fine-tuning pays: lora vs few_shot on accuracy: +")
    assert "the whole interval is above the required lift of +0.050 (Holm p<0.0001)" in words[0]
    assert "baseline: few_shot, the only completed arm without training" in words
    assert "lora uses 120 prompt tokens per request, 480 fewer than few_shot (80%)" in words
    assert "training lora (all sweep trials) took 42 s" in words
    longer = reasons(_judge([_arm("few_shot", "baseline", base, 400.0), _arm("lora", "tuned", base, 500.0)], 400))
    assert "lora uses 500 prompt tokens per request, 100 more than few_shot (25%)" in longer


def test_items_needed_with_the_observed_or_the_planning_lift():
    out = _judge([_arm("zero", "baseline", [1, 0] * 5), _arm("lora", "tuned", [1, 1, 1, 0, 1, 0, 1, 0, 1, 0])], 10)
    first = reasons(out)[0]
    assert first.startswith("the interval straddles the required lift of +0.050: lora vs zero on accuracy: +0.100")
    assert f"about {out.items_needed:,} test items would give GO with 80% probability" in first
    assert "if the true lift of lora over zero were the observed +0.100" in first and "detect lifts of about" in first
    same = reasons(_judge([_arm("zero", "baseline", [1, 0] * 10), _arm("lora", "tuned", [1, 0] * 10)], 20))[0]
    assert "+0.100 (min_lift + 0.05; the observed +0.000 is not above the required lift)" in same
    stated = DecisionSpec(primary_metric="accuracy", min_lift=0.05, expected_lift=0.2)
    assert "the rule's expected_lift" in reasons(_judge([_arm("zero", "baseline", [1, 0] * 10),
                                                        _arm("lora", "tuned", [1, 0] * 10)], 20, stated))[0]


def test_too_few_items_and_no_comparison():
    first = reasons(_judge([_arm("zero", "baseline", [0, 0, 0]), _arm("lora", "tuned", [1, 1, 1])], 3))[0]
    assert first.startswith("too few test items for a verdict: 3, below the minimum of 5 for this rule")
    assert "even a tuned arm that won every item could not clear the required lift of +0.050" in first
    assert reasons(_judge([_arm("zero", "baseline", [1, 0, 1])], 3)) == ["no completed fine-tuned arm to compare"]
    assert reasons(_judge([_arm("lora", "tuned", [1, 0, 1])], 3))[0] == \
        "no completed arm without training (prompted or RAG) to compare"
    assert reasons(_judge([_arm("zero", "baseline", [1])], 0)) == ["no test items to compare on"]


def test_how_the_baseline_was_chosen_is_said():
    rng = np.random.default_rng(2)
    weak, strong = rng.random(200) < 0.3, rng.random(200) < 0.7
    words = reasons(_judge([_arm("zero", "baseline", strong, validation_value=0.40),
                            _arm("rag", "baseline", weak, validation_value=0.60, answer="constrained"),
                            _arm("lora", "tuned", weak)], 200))
    assert ("baseline: rag (constrained decoding), the best arm without training on the validation split (zero 0.400, "
            "rag 0.600); compared on test, so its pick does not favour it there") in words
    words = reasons(_judge([_arm("zero", "baseline", weak, validation_value=0.3), _arm("rag", "baseline", strong),
                            _arm("lora", "tuned", strong)], 200))
    assert any(w.startswith("baseline: no validation score for rag, so each tuned arm is compared with every arm "
                            "without training (zero, rag)") for w in words)


def test_failed_arms_and_failed_items_come_first():
    base, tuned = _clear_win(5)
    failed = ArmResult("rag", "baseline", "failed", None)
    words = reasons(_judge([_arm("few_shot", "baseline", base), failed, _arm("lora", "tuned", tuned),
                            ArmResult("qlora", "tuned", "failed", None)], 400))
    assert words[0].startswith("no verdict: baseline arm(s) rag (failed) did not complete, and a missing arm without "
                               "training could have been the best one; what the completed arms show: lora vs few_shot")
    assert "arms that failed or are incomplete and are left out: qlora (failed)" in words
    partial = reasons(_judge([_arm("few_shot", "baseline", base), _arm("rag", "baseline", base[:-1]),
                              _arm("lora", "tuned", tuned)], 400))
    assert "rag (no score for 1 of 400 test items)" in partial[0]
    words = reasons(_judge([_arm("few_shot", "baseline", base, n_failed=21), _arm("lora", "tuned", tuned)], 400))
    assert words[0].startswith("no verdict: too many failed items: few_shot failed on 21 of 400 test items (5.25%)")
    assert "more than the allowed 5% (decision.max_failed_share 0.05)" in words[0]
    assert words[1].startswith("what the comparison shows, failed items counted as empty answers: lora vs few_shot")
    alone = reasons(_judge([_arm("zero", "baseline", [1, 0, 1], n_failed=1)], 3))
    assert alone[0] == "no completed fine-tuned arm to compare" and "zero failed on 1 of 3 test items" in alone[1]


def test_a_tuned_arm_that_lost_general_capability():
    base, tuned = _clear_win(1, 300)
    rows = lambda correct: [SuiteScore("general", "facts", f"g{i}", "acc", float(c))  # noqa: E731
                            for i, c in enumerate(correct)]
    broken = compare("lora", rows([1] * 100), rows([1] * 50 + [0] * 50), [], [], RegressionSpec(), 0.95)
    words = reasons(_judge([_arm("few_shot", "baseline", base), _arm("lora", "tuned", tuned)], 300,
                           forgetting={"lora": broken}))
    assert words[0].startswith("no tuned arm is shippable: lora lost general capability beyond the task's tolerance")
    assert broken.reasons[0] in words and "general/facts" in broken.reasons[0]


def test_go_on_cost_and_a_cost_route_not_yet_shown():
    rng = np.random.default_rng(10)
    base = rng.random(400) < 0.7
    tuned = base.copy()
    flip = rng.choice(400, 20, replace=False)
    tuned[flip] = ~tuned[flip]
    cost = {"requests_per_day": 10000, "price_per_1k_input_tokens": 0.5, "training_cost_per_hour": 3.6}
    rule = DecisionSpec(primary_metric="accuracy", min_lift=0.05, non_inferiority_margin=0.05, cost=cost)
    arms = [_arm("few", "baseline", base, 837.0), _arm("lora", "tuned", tuned, 45.0, train_seconds=3600.0)]
    first = reasons(_judge(arms, 400, rule))[0]
    assert first.startswith("fine-tuning pays on cost: lora vs few on accuracy")
    assert "is above the non-inferiority margin of -0.050, and lora costs" in first
    assert "breaks even after 9 requests" in first
    slow = rule.model_copy(update={"cost": rule.cost.model_copy(update={"requests_per_day": 0.01, "horizon_days": 30})})
    assert any("beyond the 30-day horizon" in w for w in reasons(_judge(arms, 400, slow)))
    few = _judge([_arm("few", "baseline", base[:120], 837.0), _arm("lora", "tuned", tuned[:120], 45.0,
                                                                   train_seconds=3600.0)], 120, rule, available=400)
    p = few.cost_plan
    first = reasons(few)[0]
    assert "; non-inferiority (margin 0.05) is not shown either" in first
    assert (f"; for GO on cost, about {p.items_needed:,} test items would show lora non-inferior to few (lower bound "
            f"above -0.050) with 80% probability if the true difference were the observed {p.observed:+.3f}") in first
    assert f"this test set shows it when the true difference is at least {p.detectable:+.3f}" in first
    assert (f"the data holds 400 test items (this run used 120): on all of them it would be shown with probability "
            f"{p.power_available:.0%}") in first


def _contracts_like(mode="warn", carriers=(), corpus=False, n=80, right=25):
    """n contracts; the tuned arm wins the other fields and invents a code for governing_law, which the
    baseline gets right on `right` of them."""
    fields = ("parties", "governing_law")
    ids = [f"c{i:02d}" for i in range(n)]
    gold = {i: {"parties": [f"P{k}"], "governing_law": f"LAW-NY-{k:03d}"} for k, i in enumerate(ids)}
    base = {i: {"parties": None, "governing_law": g["governing_law"] if k < right else None}
            for k, (i, g) in enumerate(gold.items())}
    tuned = {i: {"parties": g["parties"], "governing_law": "LAW-NY-999"} for i, g in gold.items()}

    def arm(name, role, answers, value):
        return ArmResult(name, role, "completed", value, {i: value for i in ids},
                         {i: json.dumps(a) for i, a in answers.items()})

    rule = DecisionSpec(primary_metric="json_field_accuracy", min_lift=0.05, slices=mode)
    # values that give a clear GO on the primary metric: half of the fields more on every item
    b, t = arm("few", "baseline", base, 0.2), arm("lora", "tuned", tuned, 0.5)
    for k, i in enumerate(ids):
        b.values[i], t.values[i] = (0.5 if k < right else 0.0), 0.5
    return judge([b, t], {i: json.dumps(g) for i, g in gold.items()}, "json_field_accuracy", rule,
                 OutputShape("json", fields=fields), carriers=carriers, corpus=corpus)


def test_a_slice_loss_inside_a_go_is_named_with_what_the_answers_suggest():
    out = _contracts_like()
    words = reasons(out)
    assert out.verdict == "GO"
    law = out.slices.flagged[0]
    assert words[1] == (
        f"GO overall; but lora is worse than few on governing_law: 0.312 → 0.000, -0.312 [{law.low:+.3f}, "
        f"{law.high:+.3f}], n=80, Holm p{'<0.0001' if law.p_adjusted < 1e-4 else f'={law.p_adjusted:.3g}'}: worse "
        f"beyond the tolerated 0.1 after Holm's correction over 2 tested slices (one-sided 0.025; 97.5% intervals)")
    assert ("on governing_law, 100% of lora's answers are values that no gold answer has (e.g. \"LAW-NY-999\"): tuning "
            "taught the format, not these facts") in words
    assert words[-1].startswith("facts can reach lora through its prompt: retrieval on its adapter, or shots")
    assert words[-1].endswith("the task has none, and no corpus to retrieve from (add corpus: and such an arm)")
    has = reasons(_contracts_like(carriers=[Carrier("rag_lora", "lora", True, 0, False)], corpus=True))
    assert has[-1].endswith("the task has rag_lora (retrieval, 0 shots, not in this run: its profile leaves it out)")
    none = reasons(_contracts_like(corpus=True))
    assert none[-1].endswith("the task has none: add {name: rag_lora, type: rag, adapter_from: lora} (it has a corpus)")
    assert "Slices: the candidate against its baseline per JSON field" in method(out) and "is named" in method(out)


def test_a_loss_too_uncertain_to_flag_is_still_named():
    out = _contracts_like(n=40, right=6)  # the default run's size: 6 of 40 right against none is not significant
    words = reasons(out)
    law = next(x for x in out.slices.slices if x.name == "governing_law")
    assert out.verdict == "GO" and not out.slices.flagged and law.p_adjusted > out.slices.alpha
    assert words[1].startswith("slices: none of the 2 tested is worse for lora than for few beyond the tolerated 0.1")
    assert words[2] == (
        f"not flagged, but lora is worse than few by more than 0.1 on these items on governing_law: 0.150 → 0.000, "
        f"-0.150 [{law.low:+.3f}, {law.high:+.3f}], n=40, Holm p={law.p_adjusted:.3g}: not significant after Holm's "
        f"correction over 2 tested slices (one-sided 0.025), so it may be chance; more test items would settle it")
    assert any(w.startswith("on governing_law, 100% of lora's answers are values that no gold answer has") for w in words)
    assert not any(w.startswith("not flagged") for w in reasons(_contracts_like()))  # flagged at 80: said as a flag


def test_block_mode_says_what_held_the_go_back():
    out = _contracts_like("block")
    words = reasons(out)
    assert out.verdict == "INCONCLUSIVE" and out.rule == "slice-block"
    assert words[0].startswith("no verdict: GO overall, but lora is worse on governing_law: 0.312 → 0.000")
    assert words[0].endswith("with decision.slices: block, a slice worse than the baseline beyond the tolerated 0.1 "
                             "holds back a GO")
    assert words[1].startswith("what the comparison shows overall: lora vs few on json_field_accuracy: +")
    assert "blocks a GO" in method(out)


def test_slices_too_small_and_none_flagged_are_said():
    labels = tuple("abcdefgh")
    shape = OutputShape("label", labels=labels)
    gold = ["a"] * 60 + ["b"] * 60 + ["c"] * 3 + ["d"] * 2
    ids = [f"e{i:03d}" for i in range(len(gold))]
    base_out = dict(zip(ids, gold))
    tuned_out = {i: (g if g in "ab" else "a") for i, g in zip(ids, gold)}

    def arm(name, role, outs):
        values = {i: float(outs[i] == g) for i, g in zip(ids, gold)}
        return ArmResult(name, role, "completed", float(np.mean(list(values.values()))), values, outs)

    out = judge([arm("few", "baseline", base_out), arm("lora", "tuned", tuned_out)], dict(zip(ids, gold)), "accuracy",
                DecisionSpec(primary_metric="accuracy", min_lift=0.05), shape)
    words = reasons(out)
    assert ("slices: none of the 2 tested is worse for lora than for few beyond the tolerated 0.1 (Holm at one-sided "
            "0.025)") in words
    assert ("2 slice(s) too small to be flagged (fewer than 7 items: losing every item there could not be "
            "significant): c (n=3), d (n=2); lora gets none right on c, d, where few gets some") in words


def test_stored_reasons_are_written_from_the_stored_numbers():
    """What a run stores reads back into the same outcome, and its words come from that outcome alone."""
    out = explain(_contracts_like())
    stored = Decision.from_dict(json.loads(json.dumps(out.to_dict(), allow_nan=False)))
    assert stored == out and explain(stored).reasons == out.reasons
    assert reasons(replace(stored, verdict="GO")) == out.reasons
