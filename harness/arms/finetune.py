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
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from harness.arms import ArmBase, ArmContext, ArmOutput, Companion, register
from harness.arms.answering import agreement_details, answer, check_answering, describe_answering
from harness.arms.trials import earlier_trials, objective
from harness.data.examples import Example, Item, seeded_subset
from harness.digest import content_hash
from harness.errors import HarnessError
from harness.metrics.builtin import higher_is_better
from harness.prompting.conversations import conversation
from harness.records import Adapter, Prediction
from harness.redact import public_url
from harness.spec import HFBackend, SweepSpec, TunedArmSpec
from harness.textfiles import read_text
from harness.tuning.curve import LearningCurve, PointPlan, curve_settings, plan_points
from harness.tuning.sweep import best_hyperparameters, default_storage, new_owner, open_study, run_sweep, seed_number
from harness.tuning.training import adapter_hash, train_adapter


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
        self._tuned_with: tuple[list[Example], dict[str, Any], int] | None = None  # (train, hp, seed) of the best trial

    def describe(self) -> dict:
        """Its settings, less the curve: which points a run adds does not change the arm's own results."""
        described = super().describe()
        described.pop("curve", None)
        return described

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
        ctx.generators.preflight(self.spec.backend)
        check_answering(self.spec, ctx.task.spec.output, self.spec.backend)
        searching = self.spec.sweep is not None and (self.spec.sweep.space or self._trials(ctx) > 1)
        if searching and not ctx.validation:
            raise HarnessError(f"arm {self.name!r}: a sweep scores trials on the validation split, which is empty")
        settings = curve_settings(self.spec.curve, ctx.profile)
        if settings is not None and self.spec.adapter is None:
            available = len(self._train(ctx))
            too_many = [n for n in settings.sizes or [] if n > available]
            if too_many:
                raise HarnessError(f"arm {self.name!r}: curve.sizes {too_many} exceed the {available} training examples "
                                   f"it trains on (the train split, cut by train_limit)")

    def _train(self, ctx: ArmContext) -> list[Example]:
        """The examples the sweep trains on: the train split, cut to the arm's or the profile's train_limit."""
        return seeded_subset(ctx.train, _min(self.spec.train_limit, ctx.profile.train_limit), ctx.seed)

    # ------------------------------------------------------------ prepare: the sweep

    def _trials(self, ctx: ArmContext) -> int:
        planned = self.spec.sweep.trials if self.spec.sweep else 1
        return ctx.profile.trials if ctx.profile.trials is not None else planned

    def _study_name(self, ctx: ArmContext, train: list[Example], validation: list[Example]) -> str:
        """Everything that determines the trials, but not their number: raising `trials` extends a study."""
        spec = self.spec.model_dump(mode="json")
        if spec.get("sweep"):
            spec["sweep"].pop("trials")
        for how_it_answers_on_test in ("merge", "answer", "normalization", "curve"):  # no effect on the trials
            spec.pop(how_it_answers_on_test)
        if spec["backend"] == HFBackend().model_dump(mode="json"):
            spec.pop("backend")  # the default keeps the names of studies begun before arms could name a backend
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
        if ctx.profile.eval_every is not None:  # when trials are scored, and so where they can be pruned
            identity["eval_every"] = ctx.profile.eval_every
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
        limit_val = _min(self.spec.sweep.validation_limit if self.spec.sweep else None, ctx.profile.validation_limit)
        train = self._train(ctx)
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
        self._tuned_with = (train, ctx.profile.apply(best_hyperparameters(best, self.spec)), ctx.seed + seed_number(best))
        return Adapter(self.name, str(adapter_dir), best.user_attrs.get("adapter_hash"), self.quantize)

    def _best(self, study: Any, maximize: bool) -> Any:
        complete = [t for t in study.trials if t.state.name == "COMPLETE" and t.value is not None]
        if not complete:
            errors = {t.user_attrs.get("error") for t in study.trials if t.user_attrs.get("error")}
            raise HarnessError(f"arm {self.name!r}: no trial completed" + (f"; errors: {sorted(errors)[:3]}" if errors else ""))
        finite = [t for t in complete if t.value == t.value]
        sign = 1 if maximize else -1
        return max(finite, key=lambda t: (sign * t.value, -seed_number(t))) if finite else complete[0]

    # ------------------------------------------------------------ the learning curve

    def curve(self, ctx: ArmContext) -> LearningCurve | None:
        """Nested subsets of the sweep's training examples, trained with the best trial's hyperparameters."""
        settings = curve_settings(self.spec.curve, ctx.profile)
        if settings is None or self._tuned_with is None:  # not asked, or an adapter trained elsewhere
            return None
        train, hp, seed = self._tuned_with
        output = ctx.task.spec.output
        labels = list(output.labels) if output.type == "label" else None
        points = plan_points(self.name, settings, train, hp, seed, ctx.seed, labels)
        by_id = {ex.id: ex for ex in train}

        def describe(point: PointPlan) -> dict:
            answering = {k: v for k, v in self.describe().items()
                         if k in ("type", "answer", "normalization", "max_length", "bias", "gradient_checkpointing")}
            return {**answering, "hyperparameters": hp, **point.identity()}

        def train_point(point: PointPlan) -> tuple[Any, dict]:
            model, _, result = train_adapter(
                ctx.generators.base, [by_id[i] for i in point.train_ids], ctx.task.spec.prompt, hp,
                ctx.workdir / self.name / "curve" / point.name.split("@", 1)[1], device=ctx.generators.device,
                quantize=self.quantize, max_length=self.spec.max_length, bias=self.spec.bias,
                checkpointing=self.spec.gradient_checkpointing, seed=point.train_seed, max_steps=point.steps,
                metadata={"task": ctx.task.spec.name, "arm": self.name, "curve_point": point.identity()},
                prompt_format=ctx.generators.prompt_format.name, dtype=ctx.generators.precision,
            )
            return model, {"curve_of": self.name, "size": point.size, "seed": point.seed, "steps": result.steps,
                           "train_seconds": result.train_seconds, "train_tokens": result.train_tokens,
                           "final_loss": result.final_loss, "adapter": result.adapter_dir,
                           "adapter_hash": result.adapter_hash, "hyperparameters": hp}

        def answer(point: PointPlan, model: Any, items: Sequence[Item]) -> ArmOutput:
            # the point's own HF model answers: no other backend to agree with
            predictions, _ = self._answer(items, ctx, ctx.generators.wrap(model, point.name), None, point.name)
            return ArmOutput(predictions, describe_answering(self.spec, output))

        return LearningCurve(self.name, settings, points, len(ctx.train), describe, train_point, answer)

    # ------------------------------------------------------------ predict: the test split, once

    def predict(self, items: Sequence[Item], ctx: ArmContext, adapter: Adapter | None = None) -> ArmOutput:
        """The adapter answers the test items once; the merged model too, when asked."""
        if adapter is None:
            raise HarnessError(f"arm {self.name!r}: no adapter to answer with (prepare did not run)")
        predictions, agreement = self._answer(items, ctx, ctx.generators.get(self.spec.backend, adapter=adapter),
                                              lambda: ctx.generators.get(adapter=adapter), "adapter")
        merge = ctx.profile.merge if ctx.profile.merge is not None else self.spec.merge
        companions = [self._merged(items, ctx, adapter, predictions)] if merge else []
        details = {**self.sweep_details, **describe_answering(self.spec, ctx.task.spec.output), **agreement}
        return ArmOutput(predictions, details, companions, adapter)

    def _answer(self, items: Sequence[Item], ctx: ArmContext, generator: Any, reference: Callable[[], Any] | None,
                label: str) -> tuple[list[Prediction], dict]:
        """The test predictions, and the agreement sample with the reference backend where the arm's asks for one."""
        spec = ctx.task.spec
        convs = [conversation(item, spec.prompt, with_instructions=False) for item in items]
        answers = answer(generator, convs, self.spec, spec.output, spec.generation.max_new_tokens,
                         ctx.tracker(f"{self.name}: {label} on test", len(items)))
        agreement = {} if reference is None else agreement_details(
            self.spec.backend, generator, reference, convs, answers, self.spec, spec.output,
            spec.generation.max_new_tokens, [item.id for item in items], ctx.seed)
        return [Prediction(item.id, conv, a.generation.text, a.generation.error, a.generation.latency_s,
                           a.generation.prompt_tokens, a.generation.output_tokens, a.details)
                for item, conv, a in zip(items, convs, answers)], agreement

    def _merged(self, items: Sequence[Item], ctx: ArmContext, adapter: Adapter,
                adapter_predictions: list[Prediction]) -> Companion:
        """The adapter merged into full-precision base weights, answering the same items."""
        merged_dir = Path(adapter.path).parent / "merged"
        predictions, agreement = self._answer(items, ctx, ctx.generators.merged(adapter, merged_dir, self.spec.backend),
                                              lambda: ctx.generators.merged(adapter, merged_dir), "merged")
        same = [a.output == m.output for a, m in zip(adapter_predictions, predictions)]
        details = {"adapter_arm": self.name, "merged_dir": str(merged_dir),
                   "agreement_with_adapter": float(np.mean(same)) if same else None,
                   "differing_examples": [p.example_id for p, s in zip(predictions, same) if not s][:50], **agreement}
        return Companion(f"{self.name}_merged", "merged", {"merged_from": self.name, **self.describe()},
                         predictions, details, adapter, str(merged_dir))
