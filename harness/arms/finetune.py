"""Fine-tuned arms: LoRA, or QLoRA (4-bit NF4 base), hyperparameters swept by Optuna on validation.

    arms: [{name: lora, type: lora, sweep: {trials: 4, space: {learning_rate: {low: 1e-4, high: 1e-3, log: true}}}}]

The test split never reaches the sweep: trials are trained on train and scored by generation on
validation; only the best trial's adapter answers the test items, once, like every other arm. The
tuned model answers with the short prompt (no instructions, no shots), which is part of its value.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from harness.arms import ArmContext, Companion, Prediction
from harness.backends.hf import HFGenerator
from harness.data import Example, Item, seeded_subset
from harness.errors import HarnessError
from harness.metrics import aggregate_key, score_example
from harness.models import load_causal_lm, load_tokenizer, pick_device
from harness.prompts import conversation
from harness.spec import SweepSpec, TunedArmSpec
from harness.sweep import default_storage, mark_owner, open_study, run_sweep, suggest
from harness.training import adapter_hash, load_adapter, load_base_for_training, merge_adapter, train_adapter


def _min(*values: int | None) -> int | None:
    present = [v for v in values if v is not None]
    return min(present) if present else None


class TunedArm:
    def __init__(self, spec: TunedArmSpec):
        self.spec = spec
        self.name = spec.name
        self.details: dict = {}
        self.companions: list[Companion] = []

    @property
    def quantize(self) -> bool:
        return self.spec.type == "qlora"

    def describe(self) -> dict:
        return self.spec.model_dump(mode="json")

    def preflight(self, ctx: ArmContext) -> None:
        device = ctx.models.device or pick_device()
        if self.quantize and device != "cuda" and not self.spec.allow_cpu:
            raise HarnessError(
                f"arm {self.name!r}: QLoRA needs a CUDA GPU (4-bit on {device} was measured ~20x slower than fp32 "
                f"LoRA); set allow_cpu: true on the arm to run it anyway, or use type: lora"
            )
        if self.quantize:
            try:
                import bitsandbytes  # noqa: F401
            except ImportError:
                raise HarnessError(f"arm {self.name!r}: QLoRA needs bitsandbytes: pip install bitsandbytes") from None
        if not ctx.train:
            raise HarnessError(f"arm {self.name!r}: the train split is empty")
        searching = self.spec.sweep is not None and (self.spec.sweep.space or self._trials(ctx) > 1)
        if searching and not ctx.validation:
            raise HarnessError(f"arm {self.name!r}: a sweep scores trials on the validation split, which is empty")

    # ------------------------------------------------------------ sweep

    def _trials(self, ctx: ArmContext) -> int:
        planned = self.spec.sweep.trials if self.spec.sweep else 1
        return ctx.profile.trials if ctx.profile.trials is not None else planned

    def _study_name(self, ctx: ArmContext, train: list[Example], validation: list[Example]) -> str:
        """Everything that determines the trials, but not their number: raising `trials` extends a study."""
        spec = self.spec.model_dump(mode="json")
        if spec.get("sweep"):
            spec["sweep"].pop("trials")
        spec.pop("merge")
        identity = {
            "arm": spec,
            "base": ctx.models.base.weights_hash,
            "prompt": ctx.task.spec.prompt.model_dump(mode="json"),
            "metric": ctx.task.spec.decision.primary_metric,
            "train": [ex.id for ex in train],
            "validation": [ex.id for ex in validation],
            "data": hashlib.sha256(json.dumps([[e.id, e.target] for e in train + validation]).encode()).hexdigest(),
            "epochs_cap": ctx.profile.epochs,
            "batch_size": ctx.profile.batch_size,
            "generation": ctx.task.spec.generation.model_dump(mode="json"),
        }
        digest = hashlib.sha256(json.dumps(identity, sort_keys=True).encode()).hexdigest()[:12]
        return f"{ctx.task.spec.name}-{self.name}-{digest}"

    def _validate(
        self, model: Any, tokenizer: Any, device: str, items: list[Example], ctx: ArmContext, report: Any = None
    ) -> tuple[float, list[float], bool]:
        """(primary metric, per-example values, pruned) on validation, by generation with the short prompt.

        With `report` (the Wilcoxon pruner) each example's value is reported as it is scored, and scoring
        stops as soon as the pruner is sure the trial is worse than the best one."""
        spec = ctx.task.spec
        shape = spec.output_shape()
        primary = spec.decision.primary_metric
        generator = HFGenerator(model, tokenizer, device, spec.generation.batch_size, "trial")
        batch = spec.generation.batch_size if report is None else max(spec.generation.batch_size, 8)
        preds: list[str] = []
        values: list[float] = []
        for start in range(0, len(items), batch):
            chunk = items[start : start + batch]
            convs = [conversation(ex.item(), spec.prompt, with_instructions=False) for ex in chunk]
            outs = generator.generate(convs, spec.generation.max_new_tokens, lambda n: None)
            for k, (ex, out) in enumerate(zip(chunk, outs)):
                text = "" if out.error else out.text
                value = score_example([primary.split(".")[0]], text, ex.target, shape)[primary]
                preds.append(text)
                values.append(value)
                if report is not None:
                    report(value, start + k)
            if report is not None and report.should_prune():
                return float("nan"), values, True
        score = aggregate_key(primary, preds, [ex.target for ex in items[: len(preds)]], np.asarray(values), shape)
        return float(score), values, False

    def _objective(self, ctx: ArmContext, train: list[Example], validation: list[Example], device: str,
                   tokenizer: Any, tracker: Any) -> Any:
        import optuna

        sweep = self.spec.sweep
        wilcoxon = sweep is not None and sweep.pruner == "wilcoxon"
        eval_every = sweep.eval_every if sweep else "epoch"

        def objective(trial: Any) -> float:
            mark_owner(trial)
            hp = ctx.profile.apply(suggest(trial, self.spec))
            out_dir = ctx.workdir / self.name / f"trial-{trial.number:03d}"
            row = {"trial_number": trial.number, "params_json": json.dumps(hp), "started_at": time.time()}
            evaluations: list[dict] = []
            state = {"last_step": -1}

            def evaluate(model: Any, step: int, epoch: float) -> bool:
                score, values, _ = self._validate(model, tokenizer, device, validation, ctx)
                evaluations.append({"step": step, "epoch": epoch, "value": score, "values": values})
                state["last_step"] = step
                trial.report(score, step=len(evaluations) - 1)
                return trial.should_prune()

            try:
                model, _, result = train_adapter(
                    ctx.models.base, train, ctx.task.spec.prompt, hp, out_dir,
                    device=device, quantize=self.quantize, max_length=self.spec.max_length, bias=self.spec.bias,
                    checkpointing=self.spec.gradient_checkpointing, seed=ctx.seed + trial.number,
                    evaluate=None if (wilcoxon or not validation) else evaluate, eval_every=eval_every,
                    metadata={"task": ctx.task.spec.name, "arm": self.name, "trial": trial.number,
                              "data_fingerprint": hashlib.sha256(json.dumps([e.id for e in train]).encode()).hexdigest()[:16]},
                )
                row.update(
                    train_seconds=result.train_seconds, tokens_per_s=result.tokens_per_s, train_tokens=result.train_tokens,
                    peak_memory_mb=result.peak_memory_mb, trainable_params=result.trainable_params,
                    total_params=result.total_params, adapter_path=result.adapter_dir, adapter_hash=result.adapter_hash,
                    final_loss=result.final_loss,
                )
                for key in ("train_seconds", "tokens_per_s", "peak_memory_mb", "trainable_params", "adapter_path",
                            "adapter_hash", "train_tokens"):
                    trial.set_user_attr(key, row[key])
                if result.stopped_early:
                    raise optuna.TrialPruned()
                if not validation:
                    value, values = float("nan"), []
                elif wilcoxon:
                    value, values, pruned = self._validate(model, tokenizer, device, validation, ctx,
                                                           report=_WilcoxonReporter(trial))
                    evaluations.append({"step": result.steps, "epoch": hp["epochs"], "value": value, "values": values})
                    if pruned:
                        raise optuna.TrialPruned()
                elif state["last_step"] != result.steps:
                    evaluate(model, result.steps, float(hp["epochs"]))
                    value, values = evaluations[-1]["value"], evaluations[-1]["values"]
                else:
                    value, values = evaluations[-1]["value"], evaluations[-1]["values"]
                row.update(state="complete", value=value)
                trial.set_user_attr("validation_values", values)
                return value
            except optuna.TrialPruned:
                row.update(state="pruned", value=evaluations[-1]["value"] if evaluations else None)
                raise
            except Exception as exc:
                row.update(state="failed", error=f"{type(exc).__name__}: {exc}"[:2000])
                trial.set_user_attr("error", row["error"])
                raise
            except KeyboardInterrupt as exc:  # Ctrl-C or SIGTERM: no verdict on these parameters
                row.update(state="failed", error=f"interrupted: {exc}"[:2000])
                trial.set_user_attr("killed", True)
                trial.study.enqueue_trial(trial.params, skip_if_exists=False)  # the next run retries them
                raise
            finally:
                row["intermediate_json"] = json.dumps([{k: v for k, v in e.items() if k != "values"} for e in evaluations])
                row["validation_values_json"] = json.dumps(evaluations[-1]["values"] if evaluations else [])
                row["finished_at"] = time.time()
                ctx.log_trial(dict(row, arm=self.name, study=self.details.get("study"), reused=False))
                tracker(1)

        return objective

    def _log_earlier_trials(self, study: Any, ctx: ArmContext, trained_here: set[int]) -> None:
        """Trials a previous run of the same study finished are listed too, marked as reused."""
        for trial in study.trials:
            if trial.number in trained_here or trial.state.name not in ("COMPLETE", "PRUNED", "FAIL"):
                continue
            if trial.user_attrs.get("killed"):
                continue
            attrs = trial.user_attrs
            ctx.log_trial({
                "arm": self.name, "study": study.study_name, "trial_number": trial.number,
                "state": {"COMPLETE": "complete", "PRUNED": "pruned", "FAIL": "failed"}[trial.state.name],
                "params_json": json.dumps(trial.params), "value": trial.value,
                "intermediate_json": json.dumps([{"step": s, "value": v} for s, v in sorted(trial.intermediate_values.items())]),
                "validation_values_json": json.dumps(attrs.get("validation_values", [])),
                "error": attrs.get("error"), "train_seconds": attrs.get("train_seconds"),
                "tokens_per_s": attrs.get("tokens_per_s"), "train_tokens": attrs.get("train_tokens"),
                "peak_memory_mb": attrs.get("peak_memory_mb"), "trainable_params": attrs.get("trainable_params"),
                "adapter_path": attrs.get("adapter_path"), "adapter_hash": attrs.get("adapter_hash"), "reused": True,
            })

    # ------------------------------------------------------------ test

    def _given_adapter(self, ctx: ArmContext) -> Path:
        """A saved adapter named in the task file; it must have been trained on this base model."""
        adapter_dir = ctx.task.resolve(self.spec.adapter)
        if not (adapter_dir / "adapter_config.json").is_file():
            raise HarnessError(f"arm {self.name!r}: {adapter_dir} is not a saved adapter (no adapter_config.json)")
        meta_file = adapter_dir.parent / "metadata.json"
        if meta_file.is_file():
            trained_on = json.loads(meta_file.read_text()).get("base_model", {}).get("weights_hash")
            if trained_on and trained_on != ctx.models.base.weights_hash:
                raise HarnessError(f"arm {self.name!r}: {adapter_dir} was trained on base weights {trained_on}, "
                                   f"but this run's base model has {ctx.models.base.weights_hash}")
        return adapter_dir

    def predict(self, items: Sequence[Item], ctx: ArmContext) -> list[Prediction]:
        device = ctx.models.device or pick_device()
        tokenizer = load_tokenizer(ctx.models.base)
        if self.spec.adapter is not None:
            adapter_dir = self._given_adapter(ctx)
            self.details = {"adapter": str(adapter_dir), "adapter_hash": adapter_hash(adapter_dir), "trained": "elsewhere"}
            return self._test(items, ctx, tokenizer, adapter_dir, device)
        limit_train = _min(self.spec.train_limit, ctx.profile.train_limit)
        limit_val = _min(self.spec.sweep.validation_limit if self.spec.sweep else None, ctx.profile.validation_limit)
        train = seeded_subset(ctx.train, limit_train, ctx.seed)
        validation = seeded_subset(ctx.validation, limit_val, ctx.seed)
        name = self._study_name(ctx, train, validation)
        storage = ctx.storage or default_storage(ctx.workdir.parent)
        sweep = self.spec.sweep
        study = open_study(name, storage, sweep or SweepSpec(trials=1, pruner="none"))
        n_trials = self._trials(ctx)
        self.details = {"study": name, "storage": storage.split("@")[-1], "train_examples": len(train),
                        "validation_examples": len(validation), "device": device, "trials_planned": n_trials}
        before = {t.number for t in study.trials}
        tracker = ctx.tracker(f"{self.name}: sweep trials", n_trials)
        tracker(len([t for t in study.trials if t.state.name in ("COMPLETE", "PRUNED")]))
        run_sweep(study, self._objective(ctx, train, validation, device, tokenizer, tracker), n_trials,
                  sweep.enqueue if sweep else [])
        trained_here = {t.number for t in study.trials} - before
        self._log_earlier_trials(study, ctx, trained_here)
        best = self._best(study)
        adapter_dir = Path(best.user_attrs["adapter_path"])
        if not adapter_dir.is_dir() or adapter_hash(adapter_dir) != best.user_attrs.get("adapter_hash"):
            raise HarnessError(
                f"arm {self.name!r}: the best trial's adapter at {adapter_dir} is missing or changed; "
                f"delete study {name!r} from {storage} to retrain"
            )
        self.details.update(best_trial=best.number, best_value=best.value, best_params=best.params,
                            adapter=str(adapter_dir), adapter_hash=best.user_attrs.get("adapter_hash"))
        return self._test(items, ctx, tokenizer, adapter_dir, device)

    def _test(self, items: Sequence[Item], ctx: ArmContext, tokenizer: Any, adapter_dir: Path, device: str) -> list[Prediction]:
        """The adapter answers the test items once; the merged model too, when asked."""
        ctx.adapters[self.name] = str(adapter_dir)
        predictions = self._answer(items, ctx, tokenizer, adapter_dir, device, quantized=self.quantize, label="adapter")
        merge = ctx.profile.merge if ctx.profile.merge is not None else self.spec.merge
        self.companions = [self._merged(items, ctx, tokenizer, adapter_dir, device, predictions)] if merge else []
        return predictions

    def _best(self, study: Any) -> Any:
        complete = [t for t in study.trials if t.state.name == "COMPLETE" and t.value is not None]
        if not complete:
            errors = {t.user_attrs.get("error") for t in study.trials if t.user_attrs.get("error")}
            raise HarnessError(f"arm {self.name!r}: no trial completed" + (f"; errors: {sorted(errors)[:3]}" if errors else ""))
        finite = [t for t in complete if t.value == t.value]
        return max(finite, key=lambda t: (t.value, -t.number)) if finite else complete[0]

    def _answer(self, items: Sequence[Item], ctx: ArmContext, tokenizer: Any, adapter_dir: Path, device: str,
                quantized: bool, label: str, model: Any = None) -> list[Prediction]:
        spec = ctx.task.spec
        if model is None:
            base = load_base_for_training(ctx.models.base, device, quantized, checkpointing=False)
            model = load_adapter(base, adapter_dir)
        generator = HFGenerator(model, tokenizer, device, spec.generation.batch_size, f"{self.name} ({label})")
        convs = [conversation(item, spec.prompt, with_instructions=False) for item in items]
        outs = generator.generate(convs, spec.generation.max_new_tokens, ctx.tracker(f"{self.name}: {label} on test", len(items)))
        return [Prediction(item.id, conv, g.text, g.error, g.latency_s, g.prompt_tokens, g.output_tokens)
                for item, conv, g in zip(items, convs, outs)]

    def _merged(self, items: Sequence[Item], ctx: ArmContext, tokenizer: Any, adapter_dir: Path, device: str,
                adapter_predictions: list[Prediction]) -> Companion:
        """The adapter merged into full-precision base weights, answering the same items."""
        base, _, _ = load_causal_lm(ctx.models.base, ctx.task.spec.model.dtype, device)
        merged_dir = adapter_dir.parent / "merged"
        merged = merge_adapter(load_adapter(base, adapter_dir), merged_dir, tokenizer)
        predictions = self._answer(items, ctx, tokenizer, adapter_dir, device, quantized=False, label="merged",
                                   model=merged)
        same = [a.output == m.output for a, m in zip(adapter_predictions, predictions)]
        details = {"adapter_arm": self.name, "merged_dir": str(merged_dir),
                   "agreement_with_adapter": float(np.mean(same)) if same else None,
                   "differing_examples": [p.example_id for p, s in zip(predictions, same) if not s][:50]}
        return Companion(f"{self.name}_merged", "merged", {"merged_from": self.name, **self.describe()},
                         predictions, details)


class _WilcoxonReporter:
    """trial.report for each validation example, steps being example indexes (what WilcoxonPruner expects)."""

    def __init__(self, trial: Any):
        self.trial = trial

    def __call__(self, value: float, index: int) -> None:
        self.trial.report(value, step=index)

    def should_prune(self) -> bool:
        return self.trial.should_prune()
