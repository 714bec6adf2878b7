"""One sweep trial of a tuned arm: train on train, score on validation by generation, report to Optuna.

Each trial becomes a `Trial` record the moment it ends (complete, pruned or failed), and trials an
earlier run of the same study trained are listed too, marked as reused.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import numpy as np

from harness.arms import ArmContext
from harness.backends import Generator
from harness.data.examples import Example
from harness.digest import content_hash
from harness.metrics.builtin import aggregate_key, score_key
from harness.processes import kill_point
from harness.prompting.answer_end import answer_end_for
from harness.prompting.conversations import conversation
from harness.records import Trial
from harness.spec import TunedArmSpec
from harness.tuning.sweep import mark_owner, retried, retry, seed_number, suggest, was_killed
from harness.tuning.training import train_adapter

OPTUNA_STATES = {"COMPLETE": "complete", "PRUNED": "pruned", "FAIL": "failed"}


def validate(generator: Generator, ctx: ArmContext, items: list[Example],
             report: Any = None) -> tuple[float, list[float], bool]:
    """(primary metric, per-example values, pruned) on validation, by generation with the short prompt, from the
    trial's model as it is now (on the backend that answers for the arm).

    With `report` (the Wilcoxon pruner) each example's value is reported as it is scored, and scoring
    stops as soon as the pruner is sure the trial is worse than the best one."""
    spec = ctx.task.spec
    shape = spec.output_shape()
    primary = spec.decision.primary_metric
    batch = spec.generation.batch_size if report is None else max(spec.generation.batch_size, 8)
    preds: list[str] = []
    values: list[float] = []
    for start in range(0, len(items), batch):
        chunk = items[start : start + batch]
        convs = [conversation(ex.item(), spec.prompt, with_instructions=False) for ex in chunk]
        outs = generator.generate(convs, spec.generation.max_new_tokens, lambda n: None,
                                  answer_end=answer_end_for(spec.output.type))
        for k, (ex, out) in enumerate(zip(chunk, outs)):
            text = "" if out.error else out.text
            value = score_key(primary, text, ex.target, shape)
            preds.append(text)
            values.append(value)
            if report is not None:
                report(value, start + k)
        if report is not None and report.should_prune():
            return float("nan"), values, True
    score = aggregate_key(primary, preds, [ex.target for ex in items[: len(preds)]], np.asarray(values), shape)
    return float(score), values, False


def forgetting(probe: Callable[[Generator, Any], float], model: Any, generator: Generator, backend: Any) -> float:
    """The probe on a trial's model in eval mode (no dropout), whatever mode training left it in."""
    was_training = model.training
    model.eval()
    try:
        return probe(generator, backend)
    finally:
        model.train(was_training)


class WilcoxonReporter:
    """trial.report for each validation example, steps being example indexes (what WilcoxonPruner expects)."""

    def __init__(self, trial: Any):
        self.trial = trial

    def __call__(self, value: float, index: int) -> None:
        self.trial.report(value, step=index)

    def should_prune(self) -> bool:
        return self.trial.should_prune()


def objective(spec: TunedArmSpec, ctx: ArmContext, study_name: str, train: list[Example], validation: list[Example],
              advance: Callable[[int], None], owner: str) -> Callable[[Any], float]:
    """Optuna's objective for one tuned arm: the trial's primary metric on validation."""
    import optuna

    sweep = spec.sweep
    wilcoxon = sweep is not None and sweep.pruner == "wilcoxon"
    eval_every = ctx.profile.eval_every or (sweep.eval_every if sweep else "epoch")
    device = ctx.generators.device
    quantize = spec.type == "qlora"
    fingerprint = content_hash([e.id for e in train])

    def run(trial: Any) -> float:
        mark_owner(trial, owner)  # first: a trial killed from here on is known as this run's, and retried
        kill_point("trial", trial.number)
        hp = ctx.profile.apply(suggest(trial, spec))
        out_dir = ctx.workdir / spec.name / f"trial-{trial.number:03d}"
        record = Trial(spec.name, study_name, trial.number, params=hp, started_at=time.time())
        evaluations: list[dict] = []
        state = {"last_step": -1}

        def scorer(model: Any, step: int) -> Generator:
            """The trial's model as it is at this step; a server-side backend loads it as an adapter."""
            return ctx.generators.training(model, out_dir / "scored" / f"step-{step}", spec.backend, f"trial {trial.number}")

        def evaluate(model: Any, step: int, epoch: float) -> bool:
            score, values, _ = validate(scorer(model, step), ctx, validation)
            evaluations.append({"step": step, "epoch": epoch, "value": score, "values": values})
            state["last_step"] = step
            trial.report(score, step=len(evaluations) - 1)
            return trial.should_prune()

        try:
            model, _, result = train_adapter(
                ctx.generators.base, train, ctx.task.spec.prompt, hp, out_dir,
                device=device, quantize=quantize, max_length=spec.max_length, bias=spec.bias,
                checkpointing=spec.gradient_checkpointing, seed=ctx.seed + seed_number(trial),
                evaluate=None if (wilcoxon or not validation) else evaluate, eval_every=eval_every,
                metadata={"task": ctx.task.spec.name, "arm": spec.name, "trial": trial.number,
                          "data_fingerprint": fingerprint},
                prompt_format=ctx.generators.prompt_format.name, dtype=ctx.generators.precision,
            )
            _measured(record, trial, result)
            if result.stopped_early:
                raise optuna.TrialPruned()
            if not validation:
                value, values = float("nan"), []
            elif wilcoxon:
                value, values, pruned = validate(scorer(model, result.steps), ctx, validation, report=WilcoxonReporter(trial))
                evaluations.append({"step": result.steps, "epoch": hp["epochs"], "value": value, "values": values})
                if pruned:
                    raise optuna.TrialPruned()
            else:  # the last step's score, taken now if the evaluations did not land on it
                if state["last_step"] != result.steps:
                    evaluate(model, result.steps, float(hp["epochs"]))
                value, values = evaluations[-1]["value"], evaluations[-1]["values"]
            record.state, record.value = "complete", value
            trial.set_user_attr("validation_values", values)
            if ctx.forgetting_probe is not None:  # learning vs forgetting, trial by trial
                record.forgetting = forgetting(ctx.forgetting_probe, model, scorer(model, result.steps), spec.backend)
                trial.set_user_attr("forgetting", record.forgetting)
            return value
        except optuna.TrialPruned:
            record.state, record.value = "pruned", evaluations[-1]["value"] if evaluations else None
            raise
        except Exception as exc:
            record.state, record.error = "failed", f"{type(exc).__name__}: {exc}"[:2000]
            trial.set_user_attr("error", record.error)
            raise
        except KeyboardInterrupt as exc:  # Ctrl-C or SIGTERM: no verdict on these parameters
            record.state, record.error = "failed", f"interrupted: {exc}"[:2000]
            trial.set_user_attr("killed", True)
            retry(trial.study, trial)  # the next run retries them
            raise
        finally:
            _close(record, evaluations)
            ctx.log_trial(record)
            advance(1)

    return run


def _measured(record: Trial, trial: Any, result: Any) -> None:
    """What training measured, on the record and (but the loss) on the Optuna trial for other workers to read."""
    for key in Trial.MEASURED:
        setattr(record, key, getattr(result, key.replace("adapter_path", "adapter_dir")))
        if key != "final_loss":
            trial.set_user_attr(key, getattr(record, key))


def _close(record: Trial, evaluations: list[dict]) -> None:
    record.intermediate = [{k: v for k, v in e.items() if k != "values"} for e in evaluations]
    record.validation_values = evaluations[-1]["values"] if evaluations else []
    record.finished_at = time.time()


def earlier_trials(study: Any, arm: str, trained_here: set[int]) -> list[Trial]:
    """Trials that other runs of the same study finished (earlier runs, other workers), as records marked reused."""
    out = []
    again = retried(study.trials)
    for trial in study.trials:
        if trial.number in trained_here or trial.state.name not in OPTUNA_STATES or was_killed(trial, again):
            continue
        attrs = trial.user_attrs
        out.append(Trial(
            arm, study.study_name, trial.number, state=OPTUNA_STATES[trial.state.name], params=trial.params,
            value=trial.value, intermediate=[{"step": s, "value": v} for s, v in sorted(trial.intermediate_values.items())],
            validation_values=attrs.get("validation_values", []), error=attrs.get("error"), reused=True,
            forgetting=attrs.get("forgetting"),
            **{key: attrs.get(key) for key in Trial.MEASURED if key != "final_loss"},
        ))
    return out
