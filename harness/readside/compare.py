"""Two runs of the same task side by side: per arm, the paired difference B − A on the test items both runs
scored, the items that flipped, both verdicts and lifts, and the regression-suite deltas.

    harness compare RUN_A RUN_B

Built from the store through harness.readside.results only; the terminal table and the HTML page render these records.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from harness.errors import HarnessError
from harness.metrics.builtin import METRICS, OutputShape, aggregate_key, higher_is_better
from harness.readside.results import arm_results, forgetting, run_decision, verdict_comparison
from harness.store.database import Store
from harness.store.records import ExampleRecord, RunRecord
from harness.verdict.comparison import ArmResult
from harness.verdict.forgetting import Delta
from harness.verdict.stats import is_binary, paired_binary, paired_bootstrap


@dataclass(frozen=True)
class Flip:
    """A shared item whose per-item primary value differs between the runs (right in one, wrong in the other
    for 0/1 metrics). `better` is True when B's value is the better one."""

    example_id: str
    input: str
    target: str
    output_a: str
    output_b: str
    value_a: float
    value_b: float
    better: bool


@dataclass(frozen=True)
class ArmDelta:
    """One arm completed in both runs: the primary metric on the shared items in each, and B − A signed so that
    positive means B is better, with a two-sided interval at `level`."""

    arm: str
    n: int
    value_a: float
    value_b: float
    diff: float
    low: float
    high: float
    level: float
    method: str
    flips: list[Flip]
    wins: int  # flips where B is better
    losses: int  # flips where A is better


@dataclass(frozen=True)
class RunSide:
    """What one run says on its own: provenance, its verdict and the best tuned arm's lift over its baseline."""

    run_id: str
    status: str
    started_at: str
    base_model: str
    base_weights: str
    data_fingerprint: str
    n_test: int
    verdict: str | None
    reason: str | None
    baseline: str | None
    candidate: str | None
    lift: float | None
    lift_low: float | None
    lift_high: float | None


@dataclass(frozen=True)
class SuiteDelta:
    """A tuned arm's overall regression-suite delta (tuned minus its own base model) in each run."""

    arm: str
    a: Delta | None
    b: Delta | None


@dataclass(frozen=True)
class RunComparison:
    task: str
    task_version: str
    primary: str
    higher_is_better: bool
    confidence: float
    n_shared: int
    a: RunSide
    b: RunSide
    arms: list[ArmDelta]
    regression: list[SuiteDelta]
    only_a: int = 0  # test items only run A scored (or whose gold answer changed)
    only_b: int = 0
    skipped: list[str] = field(default_factory=list)  # arms not completed in both runs, with why


def _side(store: Store, run: RunRecord) -> RunSide:
    decision = run_decision(run)
    best = verdict_comparison(decision)
    return RunSide(
        run.run_id, run.status, str(run.started_at)[:19], run.base_model_id or "",
        run.base_model_hash or "", run.data_fingerprint, len(store.examples(run.run_id)),
        decision.verdict if decision else None, decision.reasons[0] if decision and decision.reasons else None,
        decision.baseline if decision else None, decision.candidate if decision else None,
        best.diff if best else None, best.low if best else None, best.high if best else None,
    )


def _arm_delta(name: str, a: ArmResult, b: ArmResult, ids: list[str], examples: dict[str, ExampleRecord], primary: str,
               shape: OutputShape, confidence: float, seed: int) -> ArmDelta:
    ids = [i for i in ids if i in a.values and i in b.values]
    va = np.array([a.values[i] for i in ids], dtype=float)
    vb = np.array([b.values[i] for i in ids], dtype=float)
    preds_a = [a.outputs.get(i, "") for i in ids]
    preds_b = [b.outputs.get(i, "") for i in ids]
    targets = [examples[i].target for i in ids]
    up = higher_is_better(primary)
    sign = 1.0 if up else -1.0
    alpha = (1 - confidence) / 2
    if not ids:
        nan = float("nan")
        return ArmDelta(name, 0, nan, nan, nan, nan, nan, confidence, "no shared scored items", [], 0, 0)
    if METRICS[primary.split(".")[0]].averaged and is_binary(va, vb):
        first, second = (va, vb) if up else (1 - va, 1 - vb)
        r = paired_binary(first, second, 0.0, alpha, alpha)
    else:
        r = paired_bootstrap(primary, preds_a, preds_b, targets, va, vb, shape, 0.0, alpha, alpha, seed, sign)
    flips = [Flip(i, examples[i].input_text, examples[i].target, pa, pb, float(x), float(y),
                  bool((y > x) == up))
             for i, pa, pb, x, y in zip(ids, preds_a, preds_b, va, vb) if abs(x - y) > 1e-12]
    wins = sum(f.better for f in flips)
    return ArmDelta(name, len(ids), aggregate_key(primary, preds_a, targets, va, shape),
                    aggregate_key(primary, preds_b, targets, vb, shape), r.diff, r.low, r.high, confidence, r.method,
                    flips, wins, len(flips) - wins)


def _suite(store: Store, run: RunRecord, confidence: float, seed: int) -> dict[str, Delta]:
    found = forgetting(store, run.run_id, run.spec.regression, confidence, seed)
    return {arm: f.overall for arm, f in found.items() if f.overall is not None}


def _examples(store: Store, run_id: str) -> dict[str, ExampleRecord]:
    return {e.example_id: e for e in store.examples(run_id)}


def _shared(ex_a: dict[str, ExampleRecord], ex_b: dict[str, ExampleRecord]) -> list[str]:
    """The test items both runs scored: same example id and same gold answer."""
    return sorted(i for i in ex_a if i in ex_b and ex_a[i].target == ex_b[i].target)


def compare_runs(store: Store, run_a: str, run_b: str, seed: int = 0) -> RunComparison:
    """Run B against run A on the test items both scored (same example id and same gold answer)."""
    ra, rb = store.run(run_a), store.run(run_b)
    refuse = f"cannot compare runs {run_a} and {run_b}"
    if ra.task != rb.task:
        raise HarnessError(f"{refuse}: they are runs of different tasks ({ra.task!r} and {rb.task!r})")
    if ra.task_version != rb.task_version:
        raise HarnessError(f"{refuse}: task {ra.task!r} versions differ (v{ra.task_version} and "
                           f"v{rb.task_version}); compare runs of one version")
    primary = ra.spec.decision.primary_metric
    if rb.spec.decision.primary_metric != primary:
        raise HarnessError(f"{refuse}: their primary metrics differ ({primary} and "
                           f"{rb.spec.decision.primary_metric})")
    ex_a, ex_b = _examples(store, run_a), _examples(store, run_b)
    shared = _shared(ex_a, ex_b)
    if not shared:
        raise HarnessError(f"{refuse}: they share no test items (same example id and gold answer; "
                           f"{len(ex_a)} in {run_a}, {len(ex_b)} in {run_b})")
    confidence = ra.spec.decision.confidence
    shape = ra.spec.output_shape()
    arms_a = {r.name: r for r in arm_results(store, run_a, primary)}
    arms_b = {r.name: r for r in arm_results(store, run_b, primary)}
    deltas, skipped = [], []
    for name in list(arms_a) + [n for n in arms_b if n not in arms_a]:
        a, b = arms_a.get(name), arms_b.get(name)
        if a is None or b is None:
            skipped.append(f"{name}: only in {run_a if b is None else run_b}")
        elif a.status != "completed" or b.status != "completed":
            skipped.append(f"{name}: {a.status} in {run_a}, {b.status} in {run_b}")
        else:
            deltas.append(_arm_delta(name, a, b, shared, ex_a, primary, shape, confidence, seed))
    suite_a = _suite(store, ra, confidence, seed)
    suite_b = _suite(store, rb, confidence, seed)
    regression = [SuiteDelta(arm, suite_a.get(arm), suite_b.get(arm))
                  for arm in list(suite_a) + [x for x in suite_b if x not in suite_a]]
    return RunComparison(
        ra.task, ra.task_version, primary, higher_is_better(primary), confidence, len(shared),
        _side(store, ra), _side(store, rb), deltas, regression,
        only_a=len(ex_a) - len(shared), only_b=len(ex_b) - len(shared), skipped=skipped,
    )


UPGRADE_ERASED = "upgrade erased the lift"
TUNED_REGRESSED = "tuned arm regressed"


def upgrade_flags(store: Store, old_run: str, new_run: str, seed: int = 0) -> list[str]:
    """What changed when the base model did (new_run on a new base, old_run the last run on the previous one):
    (a) the new base's best untrained arm is not significantly worse than the old base's tuned arm: the upgrade
    erased the lift; (b) the tuned arm is significantly worse than under the previous base, on the task or on
    the general-capability suite."""
    old, new = store.run(old_run), store.run(new_run)
    d_old, d_new = run_decision(old), run_decision(new)
    if d_old is None or d_new is None or old.task != new.task or old.task_version != new.task_version:
        return []
    spec = old.spec
    primary = spec.decision.primary_metric
    confidence = spec.decision.confidence
    shape = spec.output_shape()
    ex_old, ex_new = _examples(store, old_run), _examples(store, new_run)
    shared = _shared(ex_old, ex_new)
    arms_old = {r.name: r for r in arm_results(store, old_run, primary) if r.status == "completed"}
    arms_new = {r.name: r for r in arm_results(store, new_run, primary) if r.status == "completed"}
    flags = []
    tuned_old = arms_old.get(d_old.candidate or "")
    baseline_new = arms_new.get(d_new.baseline or "")
    if shared and tuned_old is not None and baseline_new is not None:
        d = _arm_delta("upgrade", tuned_old, baseline_new, shared, ex_old, primary, shape, confidence, seed)
        if d.high == d.high and d.high >= 0:
            flags.append(f"{UPGRADE_ERASED}: {baseline_new.name} on the new base vs {tuned_old.name} on the old, "
                         f"{d.diff:+.3f} [{d.low:+.3f}, {d.high:+.3f}], not significantly worse")
    tuned_new = arms_new.get(d_new.candidate or "")
    if shared and tuned_old is not None and tuned_new is not None:
        d = _arm_delta("tuned", tuned_old, tuned_new, shared, ex_old, primary, shape, confidence, seed)
        if d.high == d.high and d.high < 0:
            flags.append(f"{TUNED_REGRESSED} on the task: {tuned_new.name} {d.diff:+.3f} "
                         f"[{d.low:+.3f}, {d.high:+.3f}] against {tuned_old.name} under the previous base")
    suite = _paired_suite(store, old_run, d_old.candidate, new_run, d_new.candidate, confidence)
    if suite is not None and suite.high < 0:
        flags.append(f"{TUNED_REGRESSED} on the general-capability suite: accuracy {suite.diff:+.3f} "
                     f"[{suite.low:+.3f}, {suite.high:+.3f}] against the tuned model under the previous base")
    return flags


def _paired_suite(store: Store, old_run: str, old_arm: str | None, new_run: str, new_arm: str | None,
                  confidence: float) -> Any:
    """The new tuned model's suite accuracy minus the old one's, on the suite items both were scored on."""
    old_suite = store.run_suites(old_run).get(old_arm or "")
    new_suite = store.run_suites(new_run).get(new_arm or "")
    if old_suite is None or new_suite is None:
        return None
    acc = lambda key: {(r.part, r.item_id): r.value for r in store.suite_rows(key) if r.metric == "acc"}  # noqa: E731
    a, b = acc(old_suite.suite_key), acc(new_suite.suite_key)
    shared = sorted(set(a) & set(b))
    if not shared:
        return None
    alpha = (1 - confidence) / 2
    return paired_binary(np.array([a[k] for k in shared]), np.array([b[k] for k in shared]), 0.0, alpha, alpha)

