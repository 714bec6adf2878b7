"""The seams between modules: one owner of models, batched log-likelihood, typed records, metric direction."""

from __future__ import annotations

import math

import pytest

from harness.records import ChunkRef, Trial, chunk_refs


class _Progress:
    def add_task(self, *a, **k):
        return 0

    def update(self, *a, **k):
        pass

    def advance(self, *a, **k):
        pass


def _resolved(path):
    from harness.models.loading import ResolvedModel, weights_hash

    return ResolvedModel("tiny", path, "local", weights_hash(path))


def test_loglikelihood_matches_a_forward_pass_per_request(tiny_model):
    import torch

    from harness.backends.pool import Generators

    generators = Generators(_resolved(tiny_model), "auto", 3, _Progress(), "cpu")
    gen = generators.get()
    requests = [("The laws of the State", " of New York"), ("Acme Corp and", " Beta LLC"),
                ("Either party may ", "terminate"), ("The laws of the State", " of Texas")]
    got = gen.loglikelihood(requests, lambda n: None)
    model, tok = gen.model, gen.tokenizer
    for (context, continuation), result in zip(requests, got):
        stripped = context.rstrip()
        whole = tok(stripped + context[len(stripped):] + continuation)["input_ids"]
        n_ctx = len(tok(stripped)["input_ids"])
        with torch.inference_mode():
            logits = model(input_ids=torch.tensor([whole])).logits[0].float()
        logprobs = torch.log_softmax(logits, -1)
        expected = sum(float(logprobs[i - 1, whole[i]]) for i in range(n_ctx, len(whole)))
        assert result.n_tokens == len(whole) - n_ctx > 0
        assert result.logprob == pytest.approx(expected, abs=1e-4)


def test_the_pool_loads_each_model_once(tiny_model, monkeypatch):
    from harness.backends import pool
    from harness.records import Adapter

    loads = []
    original = pool.load_causal_lm

    def counting(*args, **kwargs):
        loads.append(kwargs.get("quantize", False))
        return original(*args, **kwargs)

    monkeypatch.setattr(pool, "load_causal_lm", counting)
    generators = pool.Generators(_resolved(tiny_model), "auto", 2, _Progress(), "cpu")
    assert generators.get() is generators.get()
    assert len(loads) == 1
    with pytest.raises(Exception):  # noqa: B017  not an adapter folder: the load is attempted with weights of its own
        generators.get(adapter=Adapter("lora", str(tiny_model / "missing"), None))
    assert len(loads) == 2


def test_trial_records_round_trip_through_the_store(tmp_path):
    from harness.store.database import Store

    trial = Trial("lora", "study-1", 3, state="complete", params={"r": 8}, value=0.5,
                  intermediate=[{"step": 2, "epoch": 1.0, "value": 0.4}, {"step": 4, "epoch": 2.0, "value": 0.5}],
                  validation_values=[1.0, 0.0], train_seconds=1.5, adapter_path="/a", adapter_hash="h",
                  started_at=1_700_000_000.0, finished_at=1_700_000_010.0)
    with Store.open(tmp_path / "h.duckdb") as store:
        store.start_run({"run_id": "r", "task": "t", "task_version": "1", "spec_json": "{}", "spec_hash": "h",
                         "data_fingerprint": "d"})
        store.add_trial("r", trial)
        store.add_trial("r", trial)  # written again when it is listed again: replaced, not duplicated
        rows = store.trials("r")
    assert len(rows) == 1
    back = rows[0]
    assert back == trial and back.curve == [0.4, 0.5]


def test_chunk_refs_are_read_in_one_place():
    details = {"chunks": [ChunkRef("d#0", "d", 0.1234567).to_dict()], "context_tokens": 5}
    assert chunk_refs(details) == [ChunkRef("d#0", "d", 0.123457)]
    assert chunk_refs({}) is None and chunk_refs({"shot_ids": []}) is None


def test_a_failed_write_leaves_nothing_half_written(tmp_path):
    from harness.store.database import Store

    with Store.open(tmp_path / "h.duckdb") as store:
        store.start_run({"run_id": "r", "task": "t", "task_version": "1", "spec_json": "{}", "spec_hash": "h",
                         "data_fingerprint": "d"})
        with pytest.raises(RuntimeError):
            with store._transaction():
                store.add_examples("r", [{"split": "test", "example_id": "e", "input_json": "[]", "target": "x"}])
                raise RuntimeError("disk full")
        assert store.examples("r") == []
        store.add_examples("r", [{"split": "test", "example_id": "e", "input_json": "[]", "target": "x"}])
        assert len(store.examples("r")) == 1  # the connection is usable after the rollback


def test_metric_direction_sets_the_sweep_direction(tmp_path, monkeypatch):
    from harness.metrics import builtin
    from harness.metrics.builtin import METRICS, Metric, higher_is_better
    from harness.spec import SweepSpec
    from harness.tuning.sweep import open_study

    monkeypatch.setitem(METRICS, "latency_ms", Metric("latency_ms", ("text",), "test only",
                                                      lambda p, t, s: {"latency_ms": 1.0}, higher_is_better=False))
    assert higher_is_better("json_field_f1") and not higher_is_better("latency_ms")
    assert builtin.METRICS["json_field_exact_match"].higher_is_better
    storage = f"sqlite:///{tmp_path / 'o.db'}"
    study = open_study("s", storage, SweepSpec(), maximize=higher_is_better("latency_ms"))
    assert study.direction.name == "MINIMIZE"
    from harness.arms.finetune import TunedArm
    from harness.spec import TunedArmSpec

    arm = TunedArm(TunedArmSpec(type="lora", name="lora"))
    for value in (0.3, 0.1, 0.2):
        study.add_trial(__import__("optuna").trial.create_trial(value=value, params={}, distributions={}))
    assert arm._best(study, maximize=False).value == 0.1
    assert arm._best(study, maximize=True).value == 0.3
    assert not math.isnan(study.best_value)
