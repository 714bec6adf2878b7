"""history's upgrade flags on a real database: (a) the new base's prompting catches up with the old tuned arm,
(b) the tuned arm does worse than under the previous base."""

from __future__ import annotations

import json

import numpy as np

from harness.readside.compare import TUNED_REGRESSED, UPGRADE_ERASED, upgrade_flags
from harness.records import Prediction
from harness.store.database import Store
from harness.verdict.decision import Decision

SPEC = {"name": "t", "version": "1", "data": {"train": "train.jsonl", "test": "test.jsonl"}, "model": {"base": "m"},
        "output": {"type": "label", "labels": ["a", "b"]}, "metrics": ["accuracy"],
        "arms": [{"name": "prompt", "type": "prompted"}], "decision": {"primary_metric": "accuracy", "confidence": 0.95}}
N = 200


def _run(store: Store, run_id: str, weights: str, baseline: np.ndarray, tuned: np.ndarray) -> None:
    store.start_run({"run_id": run_id, "task": "t", "task_version": "1", "spec_json": json.dumps(SPEC),
                     "spec_hash": "h", "data_fingerprint": "d", "base_model_id": f"model-{weights}",
                     "base_model_hash": weights})
    store.add_examples(run_id, [{"split": "test", "example_id": f"e{i}", "input_json": "[]", "target": "a"}
                                for i in range(N)])
    for arm, role, correct in (("prompt", "baseline", baseline), ("lora", "tuned", tuned)):
        store.start_arm(run_id, arm, "prompted" if role == "baseline" else "lora", role, {}, "c")
        preds = [Prediction(f"e{i}", [], "a" if c else "b", None, 0.0, 1, 1) for i, c in enumerate(correct)]
        scores = [{"example_id": f"e{i}", "metric": "accuracy", "value": float(c)} for i, c in enumerate(correct)]
        store.finish_arm(run_id, arm, "test", preds, scores,
                         [{"metric": "accuracy", "value": float(np.mean(correct)), "n": N, "n_failed": 0}], 1.0)
    decision = Decision(verdict="GO", comparisons=[], primary="accuracy", baseline="prompt", candidate="lora")
    store.finish_run(run_id, None, decision.to_dict())


def test_an_upgrade_that_erases_the_lift_and_a_tuned_arm_that_regressed_are_flagged(tmp_path):
    rng = np.random.default_rng(0)
    old_prompt = rng.random(N) < 0.5
    old_tuned = old_prompt | (rng.random(N) < 0.8)  # tuning helped a lot on the old base
    with Store.open(tmp_path / "h.duckdb") as store:
        _run(store, "r1", "old", old_prompt, old_tuned)
        _run(store, "r2", "new", old_tuned.copy(), old_tuned & (rng.random(N) < 0.6))  # prompting caught up
        _run(store, "r3", "newer", old_prompt & (rng.random(N) < 0.5), old_tuned)  # nothing erased, nothing lost
        erased = upgrade_flags(store, "r1", "r2")
        assert any(f.startswith(UPGRADE_ERASED) for f in erased)
        assert any(f.startswith(TUNED_REGRESSED + " on the task") for f in erased)
        assert upgrade_flags(store, "r1", "r3") == []


def test_upgrade_pairs_are_the_last_run_on_a_base_and_the_first_on_the_next_per_task_and_version():
    from harness.readside.results import HistoryRow, upgrade_pairs

    def row(run_id: str, task: str, weights: str, version: str = "1") -> HistoryRow:
        return HistoryRow(run_id, task, version, "completed", f"model-{weights}", weights, "d", None, None, None,
                          None, None, None)

    # history order: grouped by base model; two tasks interleaved, and a task version that changed
    rows = [row("a1", "t", "A"), row("b1", "u", "A"), row("a2", "t", "A"), row("a3", "t", "B"),
            row("b2", "u", "B"), row("a4", "t", "C", version="2"), row("a5", "t", "D", version="2")]
    assert [(old.run_id, new.run_id) for old, new in upgrade_pairs(rows)] == [("a2", "a3"), ("b1", "b2"),
                                                                             ("a4", "a5")]
