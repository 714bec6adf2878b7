"""The read side: stored records turned into what the decision, the report, `history` and `compare` use
(decisions, trials, arm results, suite comparisons, the history of a task and its upgrade pairs).

    harness history --task contracts
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from harness.metrics.builtin import higher_is_better
from harness.records import Trial
from harness.regression.runs import BASE
from harness.spec import RagArmSpec, RegressionSpec, TaskSpec
from harness.store.database import Store
from harness.store.records import RunRecord
from harness.tuning.curve import LearningCurve
from harness.verdict.comparison import ArmResult
from harness.verdict.curve import CurveAnalysis, CurvePoint, analyse, sentence, short
from harness.verdict.decision import Comparison, Decision, decide
from harness.verdict.forgetting import Forgetting, compare
from harness.verdict.outcome import Carrier


def trials(store: Store, run_id: str) -> list[Trial]:
    return store.trials(run_id)


def _mean(values: list[float | None]) -> float | None:
    present = [v for v in values if v is not None]
    return sum(present) / len(present) if present else None


def arm_results(store: Store, run_id: str, primary: str) -> list[ArmResult]:
    """Each arm of the run as the decision sees it: its role, status, primary metric on test (overall and per
    example) and on validation, answers, mean tokens and latency per request, and training time."""
    values = store.scores(run_id, primary)
    validation_values = store.scores(run_id, primary, split="validation")
    on_test = {m.arm: m.value for m in store.metrics(run_id) if m.metric == primary}
    on_validation = {m.arm: m.value for m in store.metrics(run_id, "validation") if m.metric == primary}
    train_seconds: dict[str, float] = {}
    for trial in trials(store, run_id):
        train_seconds[trial.arm] = train_seconds.get(trial.arm, 0.0) + (trial.train_seconds or 0.0)
    results = []
    for arm in store.arms(run_id):
        preds = store.predictions(run_id, arm.arm)
        results.append(ArmResult(
            arm.arm, arm.role, arm.status, on_test.get(arm.arm), values.get(arm.arm, {}),
            {p.example_id: p.answer for p in preds},
            prompt_tokens=_mean([p.prompt_tokens for p in preds]),
            train_seconds=train_seconds.get(arm.arm),
            output_tokens=_mean([p.output_tokens for p in preds]),
            latency_s=_mean([p.latency_s for p in preds]),
            validation_value=on_validation.get(arm.arm),
            validation_values=validation_values.get(arm.arm, {}),
            answer=arm.answer,
            n_failed=sum(1 for p in preds if p.error),
        ))
    return results


def forgetting(store: Store, run_id: str, regression: RegressionSpec | None, confidence: float,
               seed: int = 0) -> dict[str, Forgetting]:
    """Each tuned model of the run against the base model on the general-capability suite ({} without one)."""
    if regression is None:
        return {}
    linked = store.run_suites(run_id)
    if BASE not in linked:
        return {}
    base_key = linked[BASE].suite_key
    base_rows, base_docs = store.suite_rows(base_key), store.suite_documents(base_key)
    out = {}
    for arm, row in linked.items():
        if arm == BASE:
            continue
        out[arm] = compare(arm, base_rows, store.suite_rows(row.suite_key), base_docs,
                           store.suite_documents(row.suite_key), regression, confidence, seed)
    return out


def carriers(spec: TaskSpec, ran: set[str]) -> list[Carrier]:
    """The task's arms that answer with a tuned arm's adapter and put facts into its prompt (retrieval, shots)."""
    return [Carrier(a.name, a.adapter_from, True, a.shots, a.name in ran) for a in spec.arms
            if isinstance(a, RagArmSpec) and a.adapter_from]


def decide_run(store: Store, run_id: str, spec: TaskSpec, seed: int = 0,
               data_fields: Mapping[str, Mapping[str, Any]] | None = None, available: int | None = None) -> Decision:
    """The verdict from what the store holds for this run; `data_fields` (data field -> example id -> value) are the
    values of data.slices, `available` the test items the data holds when a profile used fewer."""
    primary = spec.decision.primary_metric
    targets = {ex.example_id: ex.target for ex in store.examples(run_id)}
    arms = arm_results(store, run_id, primary)
    return decide(arms, targets, primary, spec.decision, spec.output_shape(), seed, higher_is_better(primary),
                  forgetting(store, run_id, spec.regression, spec.decision.confidence, seed), data_fields=data_fields,
                  carriers=carriers(spec, {a.name for a in arms}), corpus=spec.corpus is not None, available=available)


def analyse_curves(store: Store, run_id: str, spec: TaskSpec, decision: Decision, curves: Sequence[LearningCurve],
                   seed: int = 0) -> list[CurveAnalysis]:
    """Each learning curve fitted to the points the run holds, against the best baseline its arm was compared
    with (the binding one: GO must beat each); none for an arm the verdict compared with nothing."""
    primary = spec.decision.primary_metric
    examples = store.examples(run_id)
    ids, targets = [e.example_id for e in examples], [e.target for e in examples]
    scores = store.scores(run_id, primary)

    def answers(arm: str) -> list[str]:
        given = {p.example_id: "" if p.error else p.output for p in store.predictions(run_id, arm)}
        return [given.get(i, "") for i in ids]

    out = []
    for curve in curves:
        compared = [c for c in decision.comparisons if c.arm == curve.arm]
        if not compared:
            continue
        baseline = min(compared, key=lambda c: c.diff).baseline
        points = [CurvePoint(p.size, p.seed, [scores[name][i] for i in ids], answers(name))
                  for p in curve.points
                  if (name := curve.arm if p.own else p.name) in scores and all(i in scores[name] for i in ids)]
        if not points:
            continue
        out.append(analyse(curve.arm, baseline, points, [scores[baseline][i] for i in ids], answers(baseline),
                           targets, primary, spec.output_shape(), spec.decision.min_lift, spec.decision.confidence,
                           seed, curve.settings.resamples, curve.available))
    return out


def with_curves(decision: Decision, analyses: Sequence[CurveAnalysis]) -> Decision:
    """The decision with one more reason per learning curve; the verdict and everything else stay as decided."""
    return replace(decision, reasons=[*decision.reasons, *(sentence(a) for a in analyses)])


def curves(store: Store, run_id: str) -> list[CurveAnalysis]:
    """The run's fitted learning curves, as stored."""
    return [CurveAnalysis.from_dict(d) for d in store.curves(run_id)]


def run_decision(run: RunRecord) -> Decision | None:
    """The decision stored with a run (either format), or None while it runs (or when it failed)."""
    return Decision.from_dict(run.decision) if run.decision else None


def verdict_comparison(decision: Decision | None) -> Comparison | None:
    """The comparison the verdict rests on: its candidate against its baseline (None without one)."""
    if decision is None:
        return None
    return next((c for c in decision.comparisons if c.arm == decision.candidate and c.baseline == decision.baseline),
                None)


@dataclass(frozen=True)
class HistoryRow:
    run_id: str
    task: str
    task_version: str
    status: str
    base_model: str
    base_weights: str
    data_fingerprint: str
    verdict: str | None
    baseline: str | None
    candidate: str | None
    lift: float | None
    lift_low: float | None
    lift_high: float | None
    higher_is_better: bool = True
    primary: str = ""
    arms: dict[str, float] = field(default_factory=dict)  # completed arm -> primary metric on test
    suite_delta: float | None = None  # the candidate's general-capability change (tuned minus base, overall)
    crossing: str | None = None  # where the learning curve clears min_lift ('≈70 [45, 110] of 96'), if one was run


def history(store: Store, task: str | None = None) -> list[HistoryRow]:
    """Every run (of one task) with its verdict, the best tuned arm's lift, each arm's primary metric and the
    suite delta; grouped by base model (in order of each model's first run), oldest first within a group."""
    rows = [_history_row(store, run) for run in store.runs(task)]
    first_seen: dict[str, int] = {}
    for i, row in enumerate(rows):
        first_seen.setdefault(row.base_weights, i)
    return sorted(rows, key=lambda r: first_seen[r.base_weights])  # stable: time order within a base model


def _history_row(store: Store, run: RunRecord) -> HistoryRow:
    decision = run_decision(run)
    best = verdict_comparison(decision)
    spec = run.spec
    primary = spec.decision.primary_metric
    completed = {a.arm for a in store.arms(run.run_id) if a.status == "completed"}
    arms = {m.arm: m.value for m in store.metrics(run.run_id)
            if m.metric == primary and m.arm in completed and m.value is not None}
    suite_delta = None
    if decision is not None and decision.candidate and spec.regression is not None:
        lost = forgetting(store, run.run_id, spec.regression, spec.decision.confidence)
        overall = lost[decision.candidate].overall if decision.candidate in lost else None
        suite_delta = overall.diff if overall else None
    fitted = {c.arm: c for c in curves(store, run.run_id)}
    curve = fitted.get(decision.candidate) if decision is not None and decision.candidate in fitted else \
        next(iter(fitted.values()), None)
    return HistoryRow(
        run.run_id, run.task, run.task_version, run.status, run.base_model_id or "", run.base_model_hash or "",
        run.data_fingerprint, decision.verdict if decision else None, decision.baseline if decision else None,
        decision.candidate if decision else None, best.diff if best else None, best.low if best else None,
        best.high if best else None, higher_is_better(primary), primary, arms, suite_delta,
        f"{curve.arm} {short(curve)}" if curve is not None else None,
    )


def upgrade_pairs(rows: list[HistoryRow]) -> list[tuple[HistoryRow, HistoryRow]]:
    """(last run on the previous base model, first run on the new one) for each base-model change of a task at
    one task version, in history order: the pairs whose upgrade flags `history` and the report show. Runs of other
    tasks or task versions in between do not count: an upgrade is judged on the same task and the same items."""
    pairs = []
    last: dict[tuple[str, str], HistoryRow] = {}
    for row in rows:
        key = (row.task, row.task_version)
        previous = last.get(key)
        if previous is not None and previous.base_weights != row.base_weights:
            pairs.append((previous, row))
        last[key] = row
    return pairs
