"""Fine-tuned arms: LoRA, or QLoRA (4-bit NF4 base), hyperparameters swept by Optuna on validation.

    arms: [{name: lora, type: lora, sweep: {trials: 4, space: {learning_rate: {low: 1e-4, high: 1e-3, log: true}}}}]

Two steps. `prepare` runs the sweep (trials trained on train, scored by generation on validation;
`harness.arms.trials`) and returns the best trial's adapter. `predict` answers the test items with it,
once, like every other arm: the test split never reaches the sweep. The tuned model answers with the
short prompt (no instructions, no shots), which is part of its value.
"""

from __future__ import annotations

import json
import socket
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from harness.arms import ArmBase, ArmContext, ArmOutput, Companion, register
from harness.arms.answering import answer, check_answering, describe_answering
from harness.arms.trials import earlier_trials, objective
from harness.data.examples import Example, Item, seeded_subset
from harness.digest import content_hash
from harness.errors import HarnessError
from harness.metrics.builtin import higher_is_better
from harness.prompting.conversations import conversation
from harness.records import Adapter, Prediction
from harness.redact import public_url
from harness.spec import SweepSpec, TunedArmSpec
from harness.textfiles import read_text
from harness.tuning.sweep import default_storage, new_owner, open_study, run_sweep, seed_number
from harness.tuning.training import adapter_hash


def _min(*values: int | None) -> int | None:
    present = [v for v in values if v is not None]
    return min(present) if present else None


@register
class TunedArm(ArmBase):
    types = ("lora", "qlora")
    spec_model = TunedArmSpec
    spec: TunedArmSpec

    def __init__(self, spec: TunedArmSpec):
        super().__init__(spec)
        self.sweep_details: dict = {}

    @property
    def quantize(self) -> bool:
        return self.spec.type == "qlora"

    def preflight(self, ctx: ArmContext) -> None:
        device = ctx.generators.device
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
        if self.spec.adapter is not None:
            self._check_given_adapter(ctx)
        elif not ctx.train:
            raise HarnessError(f"arm {self.name!r}: the train split is empty")
        check_answering(self.spec, ctx.task.spec.output, None)
        searching = self.spec.sweep is not None and (self.spec.sweep.space or self._trials(ctx) > 1)
        if searching and not ctx.validation:
            raise HarnessError(f"arm {self.name!r}: a sweep scores trials on the validation split, which is empty")

    # ------------------------------------------------------------ prepare: the sweep

    def _trials(self, ctx: ArmContext) -> int:
        planned = self.spec.sweep.trials if self.spec.sweep else 1
        return ctx.profile.trials if ctx.profile.trials is not None else planned

    def _study_name(self, ctx: ArmContext, train: list[Example], validation: list[Example]) -> str:
        """Everything that determines the trials, but not their number: raising `trials` extends a study."""
        spec = self.spec.model_dump(mode="json")
        if spec.get("sweep"):
            spec["sweep"].pop("trials")
        for how_it_answers_on_test in ("merge", "answer", "normalization"):  # no effect on training or trials
            spec.pop(how_it_answers_on_test)
        identity = {
            "arm": spec,
            "base": ctx.generators.base.weights_hash,
            "precision": ctx.generators.precision,
            "prompt": ctx.task.spec.prompt.model_dump(mode="json"),
            "metric": ctx.task.spec.decision.primary_metric,
            "train": [ex.id for ex in train],
            "validation": [ex.id for ex in validation],
            "data": content_hash([[e.id, e.target] for e in train + validation], length=None),
            "epochs_cap": ctx.profile.epochs,
            "batch_size": ctx.profile.batch_size,
            "generation": ctx.task.spec.generation.model_dump(mode="json"),
        }
        digest = content_hash(identity, length=12)
        return f"{ctx.task.spec.name}-{self.name}-{digest}"

    def _check_given_adapter(self, ctx: ArmContext) -> Path:
        """A saved adapter named in the task file; it must have been trained on this base model."""
        adapter_dir = ctx.task.resolve(self.spec.adapter)
        if not (adapter_dir / "adapter_config.json").is_file():
            raise HarnessError(f"arm {self.name!r}: {adapter_dir} is not a saved adapter (no adapter_config.json)")
        if not (adapter_dir / "adapter_model.safetensors").is_file():
            raise HarnessError(f"arm {self.name!r}: {adapter_dir} has no adapter_model.safetensors "
                               f"(adapter weights are read from safetensors only, never from pickles)")
        meta_file = adapter_dir.parent / "metadata.json"
        if meta_file.is_file():
            try:
                trained_on = json.loads(read_text(meta_file)).get("base_model", {}).get("weights_hash")
            except (ValueError, AttributeError):
                raise HarnessError(f"{meta_file}: expected the JSON object `harness train` writes") from None
            if trained_on and trained_on != ctx.generators.base.weights_hash:
                raise HarnessError(f"arm {self.name!r}: {adapter_dir} was trained on base weights {trained_on}, "
                                   f"but this run's base model has {ctx.generators.base.weights_hash}")
        return adapter_dir

    def _given_adapter(self, ctx: ArmContext) -> Adapter:
        adapter_dir = self._check_given_adapter(ctx)
        self.sweep_details = {"adapter": str(adapter_dir), "adapter_hash": adapter_hash(adapter_dir), "trained": "elsewhere"}
        return Adapter(self.name, str(adapter_dir), self.sweep_details["adapter_hash"], self.quantize)

    def prepare(self, ctx: ArmContext) -> Adapter:
        """Sweep on train/validation (resuming the study if it exists) and return the best trial's adapter."""
        if self.spec.adapter is not None:
            return self._given_adapter(ctx)
        limit_train = _min(self.spec.train_limit, ctx.profile.train_limit)
        limit_val = _min(self.spec.sweep.validation_limit if self.spec.sweep else None, ctx.profile.validation_limit)
        train = seeded_subset(ctx.train, limit_train, ctx.seed)
        validation = seeded_subset(ctx.validation, limit_val, ctx.seed)
        name = self._study_name(ctx, train, validation)
        storage = ctx.storage or default_storage(ctx.workdir.parent)
        sweep = self.spec.sweep
        maximize = higher_is_better(ctx.task.spec.decision.primary_metric)
        study = open_study(name, storage, sweep or SweepSpec(trials=1, pruner="none"), maximize)
        n_trials = self._trials(ctx)
        self.sweep_details = {"study": name, "storage": public_url(storage), "train_examples": len(train),
                              "validation_examples": len(validation), "device": ctx.generators.device,
                              "precision": ctx.generators.precision,
                              "trials_planned": n_trials}
        advance = ctx.tracker(f"{self.name}: sweep trials", n_trials)
        advance(len([t for t in study.trials if t.state.name in ("COMPLETE", "PRUNED")]))
        owner = new_owner()
        run_sweep(study, objective(self.spec, ctx, name, train, validation, advance, owner), n_trials,
                  sweep.enqueue if sweep else [])
        # Trials this process ran were logged as they ended; the others (earlier runs, other workers) as reused.
        trained_here = {t.number for t in study.trials if t.user_attrs.get("owner") == owner}
        for trial in earlier_trials(study, self.name, trained_here):
            ctx.log_trial(trial)
        best = self._best(study, maximize)
        adapter_dir = Path(best.user_attrs["adapter_path"])
        if not (adapter_dir / "adapter_config.json").is_file() \
                or adapter_hash(adapter_dir) != best.user_attrs.get("adapter_hash"):
            elsewhere = best.user_attrs.get("host") not in (None, socket.gethostname())
            raise HarnessError(
                f"arm {self.name!r}: the best trial's adapter at {adapter_dir} is missing or changed"
                + (f" (trial {best.number} was trained on {best.user_attrs['host']}: workers on several machines "
                   f"need one shared --workdir)" if elsewhere else "")
                + f"; delete study {name!r} from {public_url(storage)} to retrain"
            )
        self.sweep_details.update(best_trial=best.number, best_value=best.value, best_params=best.params,
                                  adapter=str(adapter_dir), adapter_hash=best.user_attrs.get("adapter_hash"))
        return Adapter(self.name, str(adapter_dir), best.user_attrs.get("adapter_hash"), self.quantize)

    def _best(self, study: Any, maximize: bool) -> Any:
        complete = [t for t in study.trials if t.state.name == "COMPLETE" and t.value is not None]
        if not complete:
            errors = {t.user_attrs.get("error") for t in study.trials if t.user_attrs.get("error")}
            raise HarnessError(f"arm {self.name!r}: no trial completed" + (f"; errors: {sorted(errors)[:3]}" if errors else ""))
        finite = [t for t in complete if t.value == t.value]
        sign = 1 if maximize else -1
        return max(finite, key=lambda t: (sign * t.value, -seed_number(t))) if finite else complete[0]

    # ------------------------------------------------------------ predict: the test split, once

    def predict(self, items: Sequence[Item], ctx: ArmContext, adapter: Adapter | None = None) -> ArmOutput:
        """The adapter answers the test items once; the merged model too, when asked."""
        if adapter is None:
            raise HarnessError(f"arm {self.name!r}: no adapter to answer with (prepare did not run)")
        predictions = self._answer(items, ctx, ctx.generators.get(adapter=adapter), "adapter")
        merge = ctx.profile.merge if ctx.profile.merge is not None else self.spec.merge
        companions = [self._merged(items, ctx, adapter, predictions)] if merge else []
        details = {**self.sweep_details, **describe_answering(self.spec, ctx.task.spec.output)}
        return ArmOutput(predictions, details, companions, adapter)

    def _answer(self, items: Sequence[Item], ctx: ArmContext, generator: Any, label: str) -> list[Prediction]:
        spec = ctx.task.spec
        convs = [conversation(item, spec.prompt, with_instructions=False) for item in items]
        answers = answer(generator, convs, self.spec, spec.output, spec.generation.max_new_tokens,
                         ctx.tracker(f"{self.name}: {label} on test", len(items)))
        return [Prediction(item.id, conv, a.generation.text, a.generation.error, a.generation.latency_s,
                           a.generation.prompt_tokens, a.generation.output_tokens, a.details)
                for item, conv, a in zip(items, convs, answers)]

    def _merged(self, items: Sequence[Item], ctx: ArmContext, adapter: Adapter,
                adapter_predictions: list[Prediction]) -> Companion:
        """The adapter merged into full-precision base weights, answering the same items."""
        merged_dir = Path(adapter.path).parent / "merged"
        predictions = self._answer(items, ctx, ctx.generators.merged(adapter, merged_dir), "merged")
        same = [a.output == m.output for a, m in zip(adapter_predictions, predictions)]
        details = {"adapter_arm": self.name, "merged_dir": str(merged_dir),
                   "agreement_with_adapter": float(np.mean(same)) if same else None,
                   "differing_examples": [p.example_id for p, s in zip(predictions, same) if not s][:50]}
        return Companion(f"{self.name}_merged", "merged", {"merged_from": self.name, **self.describe()},
                         predictions, details, adapter, str(merged_dir))
