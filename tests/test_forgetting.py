"""General-capability regression checks: base vs every tuned model on the same suite items, paired, cached,
and part of the verdict."""

from __future__ import annotations

import json

import numpy as np
import pytest

from harness.records import DocumentLoss, SuiteScore
from harness.spec import RegressionSpec
from harness.verdict.forgetting import compare
from tests.conftest import query, run_cli, tuned_arms, write_tiny_task


def _rows(correct: dict[str, list[int]], part: str = "general") -> list[SuiteScore]:
    return [SuiteScore(part, cat, f"{cat}{i}", "acc", float(v)) for cat, values in correct.items()
            for i, v in enumerate(values)]


def _docs(losses: list[float]) -> list[DocumentLoss]:
    return [DocumentLoss(f"d{i}", loss, 100) for i, loss in enumerate(losses)]


def test_a_category_that_fell_blocks_and_is_named():
    rng = np.random.default_rng(0)
    base = {"arithmetic": (rng.random(120) < 0.8).astype(int).tolist(), "facts": (rng.random(120) < 0.8).astype(int).tolist()}
    tuned = {"arithmetic": [v if rng.random() < 0.5 else 0 for v in base["arithmetic"]], "facts": list(base["facts"])}
    base_losses = (300 + 40 * rng.random(20)).tolist()
    f = compare("lora", _rows(base), _rows(tuned), _docs(base_losses), _docs([x + 30 for x in base_losses]),
                RegressionSpec(max_drop=0.02), 0.95)
    fell = {(d.part, d.category) for d in f.deltas if d.significant_drop}
    assert ("general", "arithmetic") in fell and ("general", "facts") not in fell
    assert f.blocked and "general/arithmetic" in f.reasons[0] and "facts" not in f.reasons[0]
    assert f.perplexity_ratio == pytest.approx(np.exp(0.3)) and f.perplexity_ratio > f.perplexity_base / f.perplexity_base
    assert f.perplexity_low - 1e-9 <= f.perplexity_ratio <= f.perplexity_high + 1e-9
    assert any("perplexity" in n for n in f.notes)  # lower is better: a rise is worth saying
    assert f.overall is not None and f.overall.n == 240 and f.level > 0.95  # Bonferroni over the family: each interval wider


def test_no_change_is_no_regression_and_tolerance_is_respected():
    base = {"facts": [1] * 60 + [0] * 40}
    same = compare("lora", _rows(base), _rows(base), [], [], RegressionSpec(), 0.95)
    assert not same.blocked and all(d.diff == 0 and d.low < 0 < d.high for d in same.deltas)
    slightly = {"facts": [1] * 59 + [0] * 41}  # one item: far within a 0.05 tolerance
    assert not compare("lora", _rows(base), _rows(slightly), [], [], RegressionSpec(max_drop=0.05), 0.95).blocked


def test_a_tuned_arm_that_regressed_cannot_be_go():
    from harness.metrics.builtin import OutputShape
    from harness.spec import DecisionSpec
    from harness.verdict.comparison import ArmResult
    from harness.verdict.decision import decide

    n = 300
    rng = np.random.default_rng(1)
    base_correct = rng.random(n) < 0.4
    tuned_correct = base_correct | (rng.random(n) < 0.6)

    def arm(name, role, correct):
        values = {f"e{i}": float(c) for i, c in enumerate(correct)}
        return ArmResult(name, role, "completed", float(np.mean(correct)), values, {k: "" for k in values})

    arms = [arm("few_shot", "baseline", base_correct), arm("lora", "tuned", tuned_correct)]
    targets = {f"e{i}": "a" for i in range(n)}
    rule, shape = DecisionSpec(primary_metric="accuracy", min_lift=0.05), OutputShape("label", labels=("a", "b"))
    assert decide(arms, targets, "accuracy", rule, shape).verdict == "GO"
    general = {"facts": [1] * 100}
    broken = compare("lora", _rows(general), _rows({"facts": [1] * 50 + [0] * 50}), [], [], RegressionSpec(), 0.95)
    fine = compare("lora", _rows(general), _rows(general), [], [], RegressionSpec(), 0.95)
    assert decide(arms, targets, "accuracy", rule, shape, forgetting={"lora": fine}).verdict == "GO"
    blocked = decide(arms, targets, "accuracy", rule, shape, forgetting={"lora": broken})
    assert blocked.verdict == "NO-GO" and blocked.regressed == ["lora"] and blocked.rule == "no-lift"
    assert blocked.regression_reasons == broken.reasons


SUITE = "regression: {mmlu_items: 8, general_items: 16, perplexity_docs: 3, probes: true, trial_items: 8}\n"
TUNED = tuned_arms(merge=True)


def test_every_tuned_model_is_checked_and_the_base_is_scored_once(tmp_path, tiny_model, monkeypatch):
    from harness.regression import runs as suite_runs

    scored = []
    original = suite_runs.run_suite
    monkeypatch.setattr(suite_runs, "run_suite", lambda *a, **k: scored.append(1) or original(*a, **k))
    task = write_tiny_task(tmp_path, tiny_model, TUNED, extra=SUITE)
    assert run_cli(tmp_path, task) == 0
    assert len(scored) == 3  # base, adapter, merged
    links = dict(query(tmp_path, "SELECT arm, reused FROM run_suites"))
    assert links == {"base": False, "lora": False, "lora_merged": False}
    parts = {r[0] for r in query(tmp_path, "SELECT DISTINCT part FROM suite_rows")}
    assert parts == {"mmlu", "general", "probes"}
    assert query(tmp_path, "SELECT count(*) FROM suite_documents")[0][0] == 3 * 3
    (forgetting,), = query(tmp_path, "SELECT forgetting FROM trials")
    assert forgetting is not None and -1.0 <= forgetting <= 1.0  # learning vs forgetting, per trial

    # a second run: the sweep and its adapter are reused, and so are every suite result: no forward pass
    assert run_cli(tmp_path, task) == 0
    assert len(scored) == 3
    runs = [r[0] for r in query(tmp_path, "SELECT run_id FROM runs ORDER BY started_at")]
    second = dict(query(tmp_path, f"SELECT arm, reused FROM run_suites WHERE run_id = '{runs[1]}'"))
    assert second == {"base": True, "lora": True, "lora_merged": True}

    from tests.browser import dump_dom

    report = query(tmp_path, f"SELECT report_path FROM runs WHERE run_id = '{runs[1]}'")[0][0]
    dom = dump_dom(tmp_path / "reports" / report.split("/")[-1])
    assert 'id="regression"' in dom and 'data-regression-arm="lora"' in dom and "Perplexity" in dom
    assert 'id="learning-vs-forgetting"' in dom and dom.count('class="trial-point"') == 1
    decision = json.loads(query(tmp_path, f"SELECT decision_json FROM runs WHERE run_id = '{runs[1]}'")[0][0])
    assert decision["verdict"] in ("GO", "NO-GO", "INCONCLUSIVE")


@pytest.mark.slow
def test_damaged_adapter_regresses_and_a_zero_adapter_does_not_on_the_real_model(tmp_path):
    """On SmolLM2-135M-Instruct, which is well above chance on the general items."""
    import torch
    from peft import LoraConfig, get_peft_model

    from harness.backends.pool import Generators
    from harness.models.loading import resolve
    from harness.records import Adapter
    from harness.regression.suite import SuiteConfig, plan_suite, run_suite

    base = resolve("HuggingFaceTB/SmolLM2-135M-Instruct")

    class Quiet:
        def add_task(self, *a, **k):
            return 0

        update = advance = lambda *a, **k: None

    def make_adapter(name: str, scale: float) -> Adapter:
        from transformers import AutoModelForCausalLM

        model = AutoModelForCausalLM.from_pretrained(base.path, dtype=torch.float32)
        peft = get_peft_model(model, LoraConfig(r=8, lora_alpha=16, target_modules="all-linear", task_type="CAUSAL_LM"))
        torch.manual_seed(0)
        with torch.no_grad():
            for pname, param in peft.named_parameters():
                if "lora_" in pname:
                    param.copy_(torch.randn_like(param) * scale if scale else torch.zeros_like(param))
        peft.save_pretrained(tmp_path / name, safe_serialization=True)
        return Adapter(name, str(tmp_path / name), name)

    plan = plan_suite(SuiteConfig(mmlu_items=0, general_items=80, probes=False, perplexity_docs=4))
    models = Generators(base, "auto", 16, Quiet(), "cpu")
    spec = RegressionSpec(max_drop=0.02)
    rows = {}
    for name, adapter in (("base", None), ("damaged", make_adapter("damaged", 0.5)), ("zero", make_adapter("zero", 0.0))):
        result = run_suite(models.get(adapter=adapter), plan)
        rows[name] = (list(result.rows), list(result.documents))
    damaged = compare("damaged", *rows["base"][:1], *rows["damaged"][:1], rows["base"][1], rows["damaged"][1], spec, 0.95)
    zero = compare("zero", *rows["base"][:1], *rows["zero"][:1], rows["base"][1], rows["zero"][1], spec, 0.95)
    assert damaged.blocked and damaged.overall.high < -0.02 and damaged.perplexity_ratio > 1.5
    assert not zero.blocked and zero.overall.diff == 0.0 and zero.perplexity_ratio == pytest.approx(1.0, abs=1e-3)


def _local_lm_eval_task(folder):
    """The fixture task, copied with an absolute data path (datasets reads a relative one from the cwd)."""
    from pathlib import Path

    fixture = Path(__file__).parent / "fixtures" / "lm_eval"
    folder.mkdir(parents=True)
    (folder / "items.jsonl").write_text((fixture / "items.jsonl").read_text())
    config = (fixture / "local_mc.yaml").read_text().replace("tests/fixtures/lm_eval/items.jsonl",
                                                             str(folder / "items.jsonl"))
    (folder / "local_mc.yaml").write_text(config)
    return folder


def test_lm_eval_tasks_are_part_of_the_suite(tmp_path, tiny_model):
    _local_lm_eval_task(tmp_path / "lm_tasks")
    suite = ("regression: {mmlu_items: 0, general_items: 8, perplexity_docs: 0, probes: false, trial_items: 0, "
             "lm_eval_tasks: [harness_local_mc], lm_eval_include: lm_tasks, lm_eval_limit: 10}\n")
    task = write_tiny_task(tmp_path, tiny_model, tuned_arms(merge=False), extra=suite)
    assert run_cli(tmp_path, task) == 0
    rows = query(tmp_path, "SELECT s.model, count(*) FROM suite_rows r JOIN suite_results s USING (suite_key) "
                           "WHERE part = 'lm_eval' AND metric = 'acc' GROUP BY s.model ORDER BY s.model")
    assert rows == [("base", 10), ("lora", 10)]


def test_an_lm_eval_task_that_needs_the_hub_fails_before_any_work(tmp_path, tiny_model, capsys, monkeypatch):
    monkeypatch.setenv("HF_DATASETS_OFFLINE", "1")
    suite = "regression: {lm_eval_tasks: [hellaswag]}\n"
    task = write_tiny_task(tmp_path, tiny_model, TUNED, extra=suite)
    assert run_cli(tmp_path, task) == 2
    err = capsys.readouterr().err.strip()
    assert "hellaswag" in err and "include_path" in err and len(err.splitlines()) == 1
    assert not (tmp_path / "h.duckdb").exists()
