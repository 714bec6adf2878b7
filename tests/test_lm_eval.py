"""lm-eval tasks on the harness's own model and adapter, offline: a local JSON task (tests/fixtures/lm_eval) run
through lm-eval's evaluator on the tiny model, and a hub task name failing in one line."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

pytest.importorskip("lm_eval", reason="lm-eval is optional (pyproject.toml's lm-eval extra; `make install` puts it in)")

from harness.errors import HarnessError
from harness.regression.lm_eval_tasks import run_lm_eval

REPO = Path(__file__).resolve().parent.parent
FIXTURE = REPO / "tests" / "fixtures" / "lm_eval"
TASK = "harness_local_mc"


class _Quiet:
    def add_task(self, *a, **k):
        return 0

    update = advance = lambda *a, **k: None


@pytest.fixture(autouse=True)
def _from_repo_root(monkeypatch):
    monkeypatch.chdir(REPO)  # the fixture task's data_files path is relative to the repository root


@pytest.fixture(scope="module")
def generators(tiny_model):
    from harness.backends.pool import Generators
    from harness.models.loading import ResolvedModel, weights_hash

    return Generators(ResolvedModel("tiny", tiny_model, "local", weights_hash(tiny_model)), "auto", 8, _Quiet(), "cpu")


def _adapter(tiny_model: Path, out: Path, scale: float | None):
    """A LoRA adapter on q/v: PEFT's default init (B = 0) when scale is None, else random weights times scale."""
    import torch
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM

    from harness.records import Adapter

    peft = get_peft_model(AutoModelForCausalLM.from_pretrained(tiny_model),
                          LoraConfig(r=4, target_modules=["q_proj", "v_proj"], task_type="CAUSAL_LM"))
    if scale is not None:
        torch.manual_seed(0)
        with torch.no_grad():
            for name, param in peft.named_parameters():
                if "lora_" in name:
                    param.copy_(torch.randn_like(param) * scale)
    peft.save_pretrained(out, safe_serialization=True)
    return Adapter(out.name, str(out), out.name)


def _items() -> list[dict]:
    return [json.loads(line) for line in (FIXTURE / "items.jsonl").read_text().splitlines()]


def test_the_local_task_gives_a_row_per_item_and_metric_with_the_harness_scorers_answers(generators):
    from harness.regression.choice import ChoiceItem, score_choices

    generator = generators.get()
    rows = run_lm_eval(generator, [TASK], include_path=str(FIXTURE))
    items = _items()
    assert len(items) == 20
    assert {(r["part"], r["category"]) for r in rows} == {("lm_eval", TASK)}
    assert sorted((r["item_id"], r["metric"]) for r in rows) == sorted(
        (str(i), m) for i in range(len(items)) for m in ("acc", "acc_norm"))
    assert {r["value"] for r in rows} <= {0.0, 1.0}
    # lm-eval's prompts and metrics over the harness's log-likelihoods: the suite's own cloze scorer agrees
    choice_items = [ChoiceItem(str(i), TASK, f"Question: {it['question']}\nAnswer:", tuple(it["choices"]), it["answer"])
                    for i, it in enumerate(items)]
    scored = score_choices(choice_items, lambda reqs: generator.loglikelihood(reqs, lambda n: None))
    ours = {(s.item_id, "acc"): s.acc for s in scored} | {(s.item_id, "acc_norm"): s.acc_norm for s in scored}
    assert {(r["item_id"], r["metric"]): r["value"] for r in rows} == ours


def test_the_same_model_twice_gives_identical_rows_and_limit_takes_the_first_items(generators):
    generator = generators.get()
    first = run_lm_eval(generator, [TASK], include_path=str(FIXTURE))
    assert run_lm_eval(generator, [TASK], include_path=str(FIXTURE)) == first
    limited = run_lm_eval(generator, [TASK], include_path=str(FIXTURE), limit=5)
    assert limited == [r for r in first if int(r["item_id"]) < 5]


def test_a_zero_lora_adapter_gives_the_base_rows_and_a_damaged_one_does_not(generators, tiny_model, tmp_path):
    base = run_lm_eval(generators.get(), [TASK], include_path=str(FIXTURE))
    zero = generators.get(adapter=_adapter(tiny_model, tmp_path / "zero", None))
    assert type(zero.model).__name__.startswith("Peft")
    assert run_lm_eval(zero, [TASK], include_path=str(FIXTURE)) == base
    damaged = generators.get(adapter=_adapter(tiny_model, tmp_path / "damaged", 2.0))
    assert run_lm_eval(damaged, [TASK], include_path=str(FIXTURE)) != base


def test_a_hub_task_offline_fails_in_one_line_naming_the_task_and_the_way_out(generators):
    import datasets.config

    assert datasets.config.HF_HUB_OFFLINE  # tests/conftest.py sets HF_HUB_OFFLINE=1
    with pytest.raises(HarnessError) as info:
        run_lm_eval(generators.get(), ["hellaswag"])
    message = str(info.value)
    assert "\n" not in message and info.value.__cause__ is None and info.value.__suppress_context__
    assert "'hellaswag'" in message and "include_path" in message and "Hub" in message


def test_unknown_names_and_generation_tasks_fail_in_one_line(generators, tmp_path):
    with pytest.raises(HarnessError, match=r"no task 'hellaswagg' among its own tasks; did you mean 'hellaswag'"):
        run_lm_eval(generators.get(), ["hellaswagg"])
    generation = (FIXTURE / "local_mc.yaml").read_text().replace(f"task: {TASK}", "task: local_gen").replace(
        "output_type: multiple_choice", "output_type: generate_until")
    (tmp_path / "gen.yaml").write_text(generation)
    with pytest.raises(HarnessError, match=r"'local_gen' is a generate_until task: only log-likelihood"):
        run_lm_eval(generators.get(), ["local_gen"], include_path=str(tmp_path))
