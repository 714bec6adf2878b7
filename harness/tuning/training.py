"""LoRA / QLoRA supervised fine-tuning with TRL's SFTTrainer and a PEFT LoraConfig.

    harness run tasks/contracts.yaml --arm lora

Loss is on the assistant's answer only (conversational prompt-completion data). Precision is the run's
(harness.models.precision: chosen by the hardware's capability, or forced by the task file): in bf16 the frozen
base weights are stored in bf16, the adapter and its optimizer state stay fp32, and the forward runs
under autocast. Gradient checkpointing (SFTConfig's default) is off unless asked: a small model fits
without it, and recomputing activations only costs time. On CPU the vocabulary projection is computed
for answer positions only (bench/train_settings.py measures all of this against TRL's own settings).
Training runs unchanged under `accelerate launch`: the Trainer owns device placement and DDP.
"""

from __future__ import annotations

import hashlib
import json
import resource
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from harness import __version__
from harness.atomic import atomic_dir, write_text_atomic
from harness.data.examples import Example
from harness.errors import HarnessError
from harness.models.loading import ResolvedModel, load_tokenizer, load_weights
from harness.processes import kill_point, raise_if_stopping
from harness.prompting.conversations import conversation
from harness.prompting.template import ChatFormat, PromptFormat, choose_format
from harness.spec import PromptSpec
from harness.spec.trust import Trust

# Called after each epoch (or every N steps) with (model, step, epoch); returns True to stop (pruned).
Evaluate = Callable[[Any, int, float], bool]


@dataclass
class TrainResult:
    adapter_dir: str
    adapter_hash: str
    train_seconds: float
    train_tokens: int
    tokens_per_s: float
    peak_memory_mb: float
    trainable_params: int
    total_params: int
    final_loss: float | None
    stopped_early: bool
    steps: int


def training_rows(examples: Sequence[Example], prompt: PromptSpec, fmt: PromptFormat | None = None,
                  tokenizer: Any = None) -> list[dict[str, Any]]:
    """Prompt-completion rows in the model's prompt format: the short prompt a tuned model answers at test
    time, and the answer."""
    fmt = fmt or ChatFormat()
    return [fmt.training_row(tokenizer, conversation(ex.item(), prompt, with_instructions=False), ex.target)
            for ex in examples]


def use_gradient_checkpointing(setting: Any, device: str) -> bool:
    if setting == "auto":
        return False  # small models fit without it; on CPU it only costs time
    return bool(setting) and device != "cpu"


# On CPU a step's activations are the cost: in micro-batches of 2 the same optimizer step ran 1.4x faster
# than in one batch of 8 here (less memory traffic, no page faults; bench/train_settings.py)
CPU_MICRO_BATCH = 2


def micro_batches(batch_size: int, device: str, most: int = CPU_MICRO_BATCH) -> tuple[int, int]:
    """(examples per forward, forwards per optimizer step) that make up `batch_size`: the same optimizer
    steps (the loss is normalised over the whole batch either way), computed in pieces a CPU handles well."""
    if device != "cpu" or batch_size <= most:
        return batch_size, 1
    micro = max(d for d in range(1, most + 1) if batch_size % d == 0)
    return micro, batch_size // micro


def load_base_for_training(base: ResolvedModel, device: str, quantize: bool, checkpointing: bool,
                           dtype: str = "float32") -> Any:
    """The base weights to put LoRA on: in the run's precision, or 4-bit prepared for k-bit training."""
    model = load_weights(base, device, dtype, quantize)
    if not quantize:
        return model
    from peft import prepare_model_for_kbit_training

    return prepare_model_for_kbit_training(model, use_gradient_checkpointing=checkpointing)


def _target_modules(value: Any) -> Any:
    if isinstance(value, str) and value != "all-linear":
        return [m.strip() for m in value.split(",") if m.strip()]
    return value


def _checkpointing_arg(enabled: bool) -> dict[str, bool]:
    """transformers 5 renamed gradient_checkpointing to activation_checkpointing (the old name warns)."""
    from transformers import TrainingArguments

    fields = TrainingArguments.__dataclass_fields__
    return {"activation_checkpointing" if "activation_checkpointing" in fields else "gradient_checkpointing": enabled}


def adapter_hash(adapter_dir: Path) -> str:
    h = hashlib.sha256()
    for path in sorted(adapter_dir.glob("*.safetensors")):
        h.update(path.read_bytes())
    return h.hexdigest()[:16]


def _peak_memory_mb(device: str) -> float:
    import torch

    if device == "cuda":
        return torch.cuda.max_memory_allocated() / 2**20
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # process peak RSS, KiB on Linux


def train_adapter(
    base: ResolvedModel,
    examples: Sequence[Example],
    prompt: PromptSpec,
    hp: dict[str, Any],
    out_dir: Path,
    *,
    device: str,
    quantize: bool = False,
    max_length: int = 1024,
    bias: str = "none",
    checkpointing: Any = "auto",
    seed: int = 0,
    evaluate: Evaluate | None = None,
    eval_every: str | int = "epoch",
    metadata: dict[str, Any] | None = None,
    max_steps: int | None = None,
    prompt_format: str = "auto",
    dtype: str = "float32",
) -> tuple[Any, Any, TrainResult]:
    """Train one adapter; returns (peft model, tokenizer, result). The adapter is saved as safetensors."""
    import torch
    from datasets import Dataset
    from transformers import TrainerCallback
    from transformers.trainer_callback import PrinterCallback
    from trl import SFTTrainer

    if not examples:
        raise HarnessError("the train split is empty: nothing to fine-tune on")
    checkpoint = use_gradient_checkpointing(checkpointing, device)
    tokenizer = load_tokenizer(base)
    tokenizer.padding_side = "right"
    model = _lora_model(load_base_for_training(base, device, quantize, checkpoint, dtype), hp, bias, seed)
    trainable, total = model.get_nb_trainable_parameters()
    config = _sft_config(hp, out_dir, device=device, quantize=quantize, checkpoint=checkpoint, dtype=dtype,
                         max_length=max_length, max_steps=max_steps, seed=seed)
    fmt = choose_format(prompt_format, tokenizer, base.id)
    dataset = Dataset.from_list(training_rows(examples, prompt, fmt, tokenizer))
    evaluations = _EvalCallback(TrainerCallback, evaluate, eval_every, tokenizer)
    trainer_class = SFTTrainer if device == "cuda" else _answer_logits_trainer(SFTTrainer)
    trainer = trainer_class(
        model=model, args=config, train_dataset=dataset, processing_class=tokenizer, callbacks=[evaluations.callback]
    )
    trainer.remove_callback(PrinterCallback)  # it prints every log dict to stdout when tqdm is off
    if device == "cuda":
        torch.cuda.reset_peak_memory_stats()
    began = time.perf_counter()
    trainer.train()
    seconds = time.perf_counter() - began
    tokens = int(trainer.state.num_input_tokens_seen)
    losses = [log["loss"] for log in trainer.state.log_history if "loss" in log]
    adapter_dir = out_dir / "adapter"
    _save_adapter(trainer, model, tokenizer, adapter_dir)
    result = TrainResult(
        adapter_dir=str(adapter_dir),
        adapter_hash=adapter_hash(adapter_dir),
        train_seconds=seconds,
        train_tokens=tokens,
        tokens_per_s=tokens / seconds if seconds > 0 else 0.0,
        peak_memory_mb=_peak_memory_mb(device),
        trainable_params=int(trainable),
        total_params=int(total),
        final_loss=float(losses[-1]) if losses else None,
        stopped_early=evaluations.stopped,
        steps=int(trainer.state.global_step),
    )
    if trainer.is_world_process_zero():
        _write_metadata(out_dir, base, hp, quantize, len(examples), result, metadata)
    model.eval()
    tokenizer.padding_side = "left"
    return model, tokenizer, result


def _lora_model(model: Any, hp: dict[str, Any], bias: str, seed: int) -> Any:
    from peft import LoraConfig, get_peft_model
    from transformers import set_seed

    lora = LoraConfig(
        r=int(hp["r"]),
        lora_alpha=int(hp["alpha"]),
        lora_dropout=float(hp["dropout"]),
        target_modules=_target_modules(hp["target_modules"]),
        bias=bias,
        task_type="CAUSAL_LM",
    )
    set_seed(seed)  # the adapter's random initialisation too: the Trainer seeds only after the model exists
    return get_peft_model(model, lora)


def _sft_config(hp: dict[str, Any], out_dir: Path, *, device: str, quantize: bool, checkpoint: bool, dtype: str,
                max_length: int, max_steps: int | None, seed: int) -> Any:
    """TRL's settings for one adapter: the trial's hyperparameters, the run's precision, CPU-sized micro-batches."""
    from trl import SFTConfig

    micro, pieces = micro_batches(int(hp["batch_size"]), device, int(hp.get("micro_batch") or CPU_MICRO_BATCH))
    return SFTConfig(
        output_dir=str(out_dir / "trainer"),
        num_train_epochs=float(hp["epochs"]),
        max_steps=max_steps if max_steps is not None else -1,
        learning_rate=float(hp["learning_rate"]),
        per_device_train_batch_size=micro,
        gradient_accumulation_steps=int(hp["grad_accum"]) * pieces,
        lr_scheduler_type=str(hp["scheduler"]),
        warmup_steps=float(hp["warmup_ratio"]),  # transformers 5: a float in [0, 1) is a ratio of all steps
        weight_decay=float(hp["weight_decay"]),
        max_length=max_length,
        completion_only_loss=True,
        # SFTConfig defaults bf16=True and gradient_checkpointing=True; both are the run's choice here.
        bf16=dtype == "bfloat16" and not quantize,
        fp16=dtype == "float16" and not quantize,
        **_checkpointing_arg(checkpoint),
        use_cpu=device == "cpu",
        seed=seed,
        data_seed=seed,
        logging_steps=5,
        save_strategy="no",
        eval_strategy="no",
        report_to="none",
        disable_tqdm=True,
        dataloader_num_workers=0,
        include_num_input_tokens_seen="non_padding",
        # batches of similar lengths: padding is compute thrown away, and on a CPU compute is the budget
        train_sampling_strategy="group_by_length",
    )


def _save_adapter(trainer: Any, model: Any, tokenizer: Any, adapter_dir: Path) -> None:
    if trainer.is_world_process_zero():  # under accelerate launch only the main process writes
        # whole or absent (adapter_config.json, which a reader looks for, is only there once all is)
        with atomic_dir(adapter_dir) as tmp:
            # model.save_pretrained, not trainer.save_model: that one also pickles the arguments (training_args.bin)
            trainer.accelerator.unwrap_model(model).save_pretrained(str(tmp), safe_serialization=True)
            tokenizer.save_pretrained(str(tmp))
    trainer.accelerator.wait_for_everyone()


def _write_metadata(out_dir: Path, base: ResolvedModel, hp: dict[str, Any], quantize: bool, n_examples: int,
                    result: TrainResult, metadata: dict[str, Any] | None) -> None:
    meta = {
        "base_model": base.as_record() | {"path": None},
        "hyperparameters": hp,
        "quantized_base": quantize,
        "harness_version": __version__,
        "train_examples": n_examples,
        "result": asdict(result),
        **(metadata or {}),
    }
    write_text_atomic(out_dir / "metadata.json", json.dumps(meta, indent=2, default=str))


def answer_positions_loss(model: Any, inputs: dict[str, Any], num_items_in_batch: Any = None) -> Any:
    """The causal-LM loss with the vocabulary projection computed only where a label is scored.

    Equal to transformers' loss (cross-entropy summed over answer tokens, divided by their number in the
    whole batch under gradient accumulation), but the prompt's positions never reach the LM head: with
    a 49k vocabulary that head is ~20% of SmolLM2's forward, and most positions are prompt."""
    import torch.nn.functional as F

    causal_lm = model.get_base_model() if hasattr(model, "get_base_model") else model
    if any(getattr(causal_lm.config, k, None) for k in ("final_logit_softcapping", "logit_scale")):
        return causal_lm(**_model_inputs(inputs), labels=inputs["labels"], num_items_in_batch=num_items_in_batch).loss
    hidden = causal_lm.get_decoder()(**_model_inputs(inputs)).last_hidden_state
    targets = inputs["labels"][:, 1:]
    scored = targets != -100
    logits = causal_lm.get_output_embeddings()(hidden[:, :-1][scored])
    loss = F.cross_entropy(logits.float(), targets[scored], reduction="sum")
    denominator = num_items_in_batch if num_items_in_batch is not None else scored.sum()
    return loss / denominator.to(loss.device) if hasattr(denominator, "to") else loss / denominator


def _model_inputs(inputs: dict[str, Any]) -> dict[str, Any]:
    return {k: inputs[k] for k in ("input_ids", "attention_mask", "position_ids") if inputs.get(k) is not None}


def _answer_logits_trainer(sft_trainer: type) -> type:
    """SFTTrainer computing `answer_positions_loss` instead of TRL's fused, chunked LM head.

    Same loss (answer tokens only, identical values step by step: tests/test_training.py), but on CPU the
    fused head's tiles cost more than they save, and projecting only answer positions saves most of the
    head. On CUDA TRL's fused head stays: there it saves the memory of full logits."""

    class AnswerLogitsSFTTrainer(sft_trainer):
        def compute_loss(self, model: Any, inputs: Any, return_outputs: bool = False, num_items_in_batch: Any = None) -> Any:
            loss = answer_positions_loss(model, inputs, num_items_in_batch)
            return (loss, None) if return_outputs else loss

    return AnswerLogitsSFTTrainer


class _EvalCallback:
    """Runs the caller's validation at epoch ends (or every N steps) and stops training when it says so."""

    def __init__(self, base_cls: type, evaluate: Evaluate | None, every: str | int, tokenizer: Any):
        self.stopped = False
        outer = self

        class Callback(base_cls):
            def _run(self, state: Any, control: Any, model: Any) -> None:
                if evaluate is None:
                    return
                model.eval()
                tokenizer.padding_side = "left"
                try:
                    stop = evaluate(model, state.global_step, state.epoch or 0.0)
                finally:
                    tokenizer.padding_side = "right"
                    model.train()
                if stop:
                    outer.stopped = True
                    control.should_training_stop = True

            def on_epoch_end(self, args: Any, state: Any, control: Any, model: Any = None, **kw: Any) -> None:
                if every == "epoch":
                    self._run(state, control, model)

            def on_step_end(self, args: Any, state: Any, control: Any, model: Any = None, **kw: Any) -> None:
                raise_if_stopping()
                kill_point("training step", state.global_step)
                if isinstance(every, int) and state.global_step % every == 0:
                    self._run(state, control, model)

        self.callback = Callback()


def train_for_task(task_path: str | Path, arm_name: str | None, out_dir: Path, profile_name: str | None,
                   device: str | None, seed: int = 0, trust: Trust | None = None) -> TrainResult:
    """Train one adapter with a tuned arm's own hyperparameters: no sweep, no test split, no database.

    Safe under `accelerate launch` (several GPUs): the Trainer runs data-parallel and only the main
    process writes the adapter."""
    from harness.data.examples import seeded_subset
    from harness.data.loading import load_data
    from harness.models.loading import pick_device, resolve
    from harness.models.precision import choose_precision
    from harness.spec.taskfile import load_spec

    task = load_spec(task_path, trust)
    data = load_data(task)
    tuned = [a for a in task.spec.arms if a.produces_adapter]
    if not tuned:
        raise HarnessError(f"{task.path}: no arm that trains an adapter (lora, qlora)")
    arm = next((a for a in tuned if a.name == arm_name), None) if arm_name else tuned[0]
    if arm is None:
        raise HarnessError(f"--arm {arm_name!r}: not a tuned arm of {task.path}; tuned arms: {', '.join(a.name for a in tuned)}")
    profile = task.spec.profile(profile_name)
    hp = profile.apply(arm.hyperparameters())
    limit = min((v for v in (arm.train_limit, profile.train_limit) if v is not None), default=None)
    train = seeded_subset(data.train, limit, seed)  # the examples a sweep with this seed trains on
    device = device or pick_device()
    _, _, result = train_adapter(
        resolve(task.spec.model.base), train, task.spec.prompt, hp, out_dir, device=device,
        quantize=arm.type == "qlora", max_length=arm.max_length, bias=arm.bias, checkpointing=arm.gradient_checkpointing,
        seed=seed, metadata={"task": task.spec.name, "arm": arm.name, "data_fingerprint": data.fingerprint},
        prompt_format=task.spec.model.prompt_format, dtype=choose_precision(task.spec.model.dtype, device)[0],
    )
    return result
