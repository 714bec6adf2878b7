"""LoRA / QLoRA training on a tiny random model: what changes, what must not."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from harness.data.loading import load_data
from harness.models.loading import ResolvedModel, load_adapter, weights_hash
from harness.spec.taskfile import load_spec
from harness.tuning.training import load_base_for_training, train_adapter, training_rows
from tests.conftest import write_tiny_task

HP = {"learning_rate": 1e-2, "r": 4, "alpha": 8, "dropout": 0.0, "epochs": 1, "target_modules": "all-linear",
      "weight_decay": 0.0, "warmup_ratio": 0.0, "batch_size": 4, "grad_accum": 1, "scheduler": "constant"}


@pytest.fixture()
def setup(tmp_path, tiny_model):
    task = load_spec(write_tiny_task(tmp_path, tiny_model))
    data = load_data(task)
    base = ResolvedModel("tiny", Path(tiny_model), "local", weights_hash(Path(tiny_model)))
    return task, data, base


def _state(model):
    return {k: v.detach().clone() for k, v in model.state_dict().items()}


def test_two_steps_change_the_adapter_and_not_the_base(tmp_path, setup):
    task, data, base = setup
    reference = load_base_for_training(base, "cpu", quantize=False, checkpointing=False)
    before = _state(reference)
    model, tokenizer, result = train_adapter(base, data.train, task.spec.prompt, HP, tmp_path / "run",
                                             device="cpu", max_steps=2)
    assert result.steps == 2 and result.train_tokens > 0 and result.tokens_per_s > 0
    assert 0 < result.trainable_params < result.total_params
    lora_b = {k: v for k, v in model.state_dict().items() if "lora_B" in k}
    assert lora_b and any(v.abs().sum() > 0 for v in lora_b.values())  # B starts at zero: it moved
    for key, value in model.get_base_model().state_dict().items():
        if "lora_" in key:
            continue
        name = key.replace(".base_layer", "")
        assert torch.equal(value, before[name]), f"base weight {name} changed"
    adapter = Path(result.adapter_dir)
    assert (adapter / "adapter_model.safetensors").is_file() and not list(adapter.glob("*.bin"))
    meta = (tmp_path / "run" / "metadata.json").read_text()
    assert base.weights_hash in meta and '"learning_rate": 0.01' in meta


def test_saved_adapter_reloads_to_the_same_answers(tmp_path, setup):
    task, data, base = setup
    model, tokenizer, result = train_adapter(base, data.train, task.spec.prompt, HP, tmp_path / "run",
                                             device="cpu", max_steps=2)
    x = torch.tensor([[5, 6, 7, 8, 9]])
    with torch.no_grad():
        trained = model(input_ids=x).logits
        fresh = load_base_for_training(base, "cpu", quantize=False, checkpointing=False)
        reloaded = load_adapter(fresh, result.adapter_dir)(input_ids=x).logits
    assert torch.allclose(trained, reloaded, atol=1e-5)


def test_loss_is_on_the_answer_only(setup):
    task, data, _ = setup
    rows = training_rows(data.train[:1], task.spec.prompt)
    assert rows[0]["completion"] == [{"role": "assistant", "content": data.train[0].target}]
    assert [m["role"] for m in rows[0]["prompt"]] == ["system", "user"]
    # the tuned arm's prompt carries no instructions: it learned them
    assert task.spec.prompt.instructions not in rows[0]["prompt"][0]["content"]


def test_qlora_code_path_on_cpu(tmp_path, setup):
    task, data, base = setup
    model, tokenizer, result = train_adapter(base, data.train, task.spec.prompt, HP, tmp_path / "q",
                                             device="cpu", quantize=True, max_steps=2)
    import bitsandbytes as bnb

    assert any(isinstance(m, bnb.nn.Linear4bit) for m in model.modules())
    assert result.steps == 2 and Path(result.adapter_dir, "adapter_model.safetensors").is_file()


def test_answer_positions_loss_equals_the_full_logits_loss(setup):
    """The LM head on answer positions only: the same loss and the same gradients as transformers' own."""
    from harness.tuning.training import answer_positions_loss

    _, _, base = setup
    model = load_base_for_training(base, "cpu", quantize=False, checkpointing=False)
    torch.manual_seed(0)
    ids = torch.randint(3, 200, (3, 12))
    mask = torch.ones_like(ids)
    mask[1, 9:] = 0  # a padded row
    labels = ids.clone()
    labels[:, :7] = -100  # the prompt
    labels[mask == 0] = -100
    inputs = {"input_ids": ids, "attention_mask": mask, "labels": labels}
    for items in (None, torch.tensor(20)):
        model.zero_grad()
        ours = answer_positions_loss(model, inputs, items)
        ours.backward()
        ours_grad = model.model.layers[0].mlp.up_proj.weight.grad.clone()
        model.zero_grad()
        theirs = model(**inputs, num_items_in_batch=items).loss
        theirs.backward()
        assert torch.allclose(ours, theirs, atol=1e-6), (ours, theirs)
        assert torch.allclose(ours_grad, model.model.layers[0].mlp.up_proj.weight.grad, atol=1e-6)


def test_bf16_training_keeps_the_adapter_in_fp32(tmp_path, setup):
    task, data, base = setup
    model, _, result = train_adapter(base, data.train, task.spec.prompt, HP, tmp_path / "bf16", device="cpu",
                                     max_steps=2, dtype="bfloat16")
    dtypes = {name: p.dtype for name, p in model.named_parameters()}
    assert {d for n, d in dtypes.items() if "lora_" in n} == {torch.float32}  # adapter and optimizer state: fp32
    assert {d for n, d in dtypes.items() if "lora_" not in n} == {torch.bfloat16}  # the frozen base: bf16
    assert result.steps == 2


def test_micro_batches_make_the_same_optimizer_step(tmp_path, setup):
    """A batch of 4 computed as 2 x 2 with accumulation: the same loss normalisation, the same adapter."""
    from harness.tuning.training import micro_batches

    assert micro_batches(8, "cpu") == (2, 4) and micro_batches(3, "cpu") == (1, 3)
    assert micro_batches(8, "cuda") == (8, 1) and micro_batches(2, "cpu") == (2, 1)
    task, data, base = setup
    examples = data.train[:4]
    adapters = []
    for micro in (4, 2):
        model, _, result = train_adapter(base, examples, task.spec.prompt, dict(HP, micro_batch=micro),
                                         tmp_path / f"micro{micro}", device="cpu", max_steps=1)
        assert result.steps == 1
        adapters.append({k: v.detach().clone() for k, v in model.state_dict().items() if "lora_" in k})
    whole, pieces = adapters
    assert any(v.abs().sum() > 0 for k, v in whole.items() if "lora_B" in k)
    for key in whole:
        assert torch.allclose(whole[key], pieces[key], atol=1e-5), key
