"""GO / NO-GO / INCONCLUSIVE as numbers and flags: `judge` returns the outcome, the comparisons behind it, the
binding baseline and which rule fired. harness.verdict.reasons writes the sentences from an outcome.

Each tuned arm is compared with the baseline (the best arm that needs no training, chosen on the validation
split) on the same test items (harness.verdict.comparison); the lift is signed so that positive is better.

- GO: some tuned arm's lower bound is above `min_lift`, the bound at one-sided level
  (1 - confidence) / 2 / k over k tuned arms (Bonferroni, i.e. the first step of Holm).
- NO-GO: every tuned arm's upper bound, at one-sided level (1 - confidence) / 2, is below `min_lift`
  (an intersection-union test, so no correction).
- When some baseline has no validation score, every baseline is compared instead: GO must beat each
  (intersection-union), NO-GO needs one baseline that the arm does not beat, Bonferroni over baselines.
- A second way to GO, when the rule declares a non-inferiority margin and costs: the lower bound is
  above -margin and the arm's measured cost per request repays its training within the horizon.
- Below the smallest n at which a GO is possible at all, neither GO nor NO-GO is given. A failed or
  incomplete baseline arm makes the verdict INCONCLUSIVE: the missing arm could have been the best.
- So does a baseline or tuned arm whose generation failed (after retries) on more than the rule's
  `max_failed_share` of the test items: a failure scores as an empty answer, so its score measures the
  endpoint as much as the arm.
- Slices (harness.verdict.slices): a slice where the candidate is significantly worse than the baseline
  beyond `max_slice_drop` is flagged; with `decision.slices: block` it turns a GO into INCONCLUSIVE.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from harness.metrics.builtin import METRICS, OutputShape
from harness.spec import DecisionSpec
from harness.verdict.comparison import MIN_BOOTSTRAP_N, ArmResult, Comparison, Setting, compare
from harness.verdict.cost import BreakEven, break_even
from harness.verdict.forgetting import Forgetting
from harness.verdict.planning import CostPlan, cost_plan, lift_plan
from harness.verdict.slices import SliceCheck, check_slices
from harness.verdict.stats import binary_min_n, holm, is_binary

# What the comparisons show (`finding`), and what set the verdict (`rule`: the finding, or one of the last three).
FINDINGS = ("no-items", "no-comparison", "too-few-items", "lift", "cost", "no-lift", "straddles", "guard")
RULES = FINDINGS + ("slice-block", "baseline-failed", "too-many-failed")


def finding_verdict(finding: str) -> str:
    """The verdict the comparisons alone give."""
    return {"lift": "GO", "cost": "GO", "no-lift": "NO-GO"}.get(finding, "INCONCLUSIVE")


@dataclass(frozen=True)
class ArmGap:
    """An arm the verdict could not use: its status, and how many test items it has no score for."""

    name: str
    status: str
    missing: int = 0


@dataclass(frozen=True)
class Carrier:
    """An arm of the task that answers with a tuned arm's adapter and puts facts into its prompt: retrieved
    passages (retrieval on the adapter) and shots. `ran`: it is part of this run (a profile may leave it out)."""

    arm: str
    adapter_from: str
    retrieval: bool
    shots: int
    ran: bool


@dataclass(frozen=True)
class Outcome:
    """The verdict as numbers and flags: everything the reasons are written from."""

    verdict: str  # GO | NO-GO | INCONCLUSIVE
    comparisons: list[Comparison]
    primary: str
    rule: str = ""  # what set the verdict (RULES); "" in decisions stored before it was recorded
    finding: str = ""  # what the comparisons show (FINDINGS)
    missing_role: str | None = None  # no-comparison: the role ("tuned" or "baseline") with no completed arm
    baseline: str | None = None  # the baseline the candidate was judged against (the binding one when several)
    baselines: list[str] = field(default_factory=list)  # every baseline compared
    baseline_selection: str | None = None  # "validation", "single", "all-baselines" (or "test" in old runs)
    candidate: str | None = None
    min_lift: float | None = None
    confidence: float | None = None
    route: str | None = None  # "lift" or "cost" when GO
    items_needed: int | None = None  # for a GO on lift, with 80% probability
    planned: str | None = None  # the tuned arm `items_needed` is for
    min_n: int | None = None
    min_n_winning: int | None = None  # fewest items on which winning every one clears min_lift
    n: int | None = None
    higher_is_better: bool = True
    non_inferiority_margin: float | None = None
    break_even: list[BreakEven] = field(default_factory=list)
    regressed: list[str] = field(default_factory=list)  # tuned arms held back by the general-capability checks
    regression_reasons: list[str] = field(default_factory=list)  # what the checks found for them
    binary: bool | None = None  # 0/1 primary metric: score intervals; else the bootstrap
    stratified: bool = False  # the bootstrap resamples within gold labels (macro-F1)
    expected_lift_stated: bool = False  # the rule gives expected_lift (else min_lift + 0.05 is planned for)
    validation: dict[str, float | None] = field(default_factory=dict)  # completed baselines: validation score
    answers: dict[str, str] = field(default_factory=dict)  # compared arms that did not answer in free text
    incomplete_baselines: list[ArmGap] = field(default_factory=list)
    left_out: list[ArmGap] = field(default_factory=list)  # other arms that failed or are incomplete
    failed_items: dict[str, int] = field(default_factory=dict)  # arms over max_failed_share: failed test items
    max_failed_share: float | None = None
    prompt_tokens: dict[str, float] = field(default_factory=dict)  # the candidate and its baseline, per request
    train_seconds: float | None = None  # the candidate's, all sweep trials
    cost_open: bool = False  # the cost route is declared and could still give the candidate a GO
    cost_plan: CostPlan | None = None  # ... and what would show it
    slices: SliceCheck | None = None
    carriers: list[Carrier] = field(default_factory=list)  # arms of the task that could give the candidate facts
    corpus: bool = False  # the task has a corpus (retrieval is possible)

    def cited(self) -> Comparison | None:
        """The comparison the verdict names: the candidate against its binding baseline."""
        return next((c for c in self.comparisons if c.arm == self.candidate and c.baseline == self.baseline), None)


@dataclass
class _Routes:
    """Per tuned arm: which way to a verdict is open."""

    go: dict[str, bool]
    below: dict[str, bool]
    cost_go: dict[str, bool]
    cost_closed: dict[str, bool]  # the cost route cannot give this arm a GO
    costs: dict[str, list[BreakEven]]
    blocked: dict[str, Forgetting]

    @property
    def nogo(self) -> dict[str, bool]:
        return {a: self.below[a] and self.cost_closed[a] for a in self.go}


def judge(arms: Sequence[ArmResult], targets: dict[str, str], primary: str, rule: DecisionSpec, shape: OutputShape,
          seed: int = 0, higher_is_better: bool = True, forgetting: dict[str, Forgetting] | None = None, *,
          data_fields: Mapping[str, Mapping[str, Any]] | None = None, carriers: Sequence[Carrier] = (),
          corpus: bool = False, available: int | None = None) -> Outcome:
    """The verdict. `forgetting` (tuned arm -> its general-capability comparison with the base model): an arm
    that fell beyond the task's tolerance cannot be GO, by either route. `data_fields` (data field -> example id
    -> value) adds slices per value; `carriers` and `corpus` say what could give the candidate facts;
    `available`: test items the data holds when the run used fewer."""
    ids = sorted(targets)
    n = len(ids)
    metric = METRICS[primary.split(".")[0]]
    baselines, tuned, incomplete, left_out = _pool(arms, ids)
    failing = {a.name: a.n_failed for a in arms
               if a.role != "companion" and _complete(a, ids) and n and a.n_failed / n > rule.max_failed_share}
    base = Outcome("INCONCLUSIVE", [], primary, min_lift=rule.min_lift, confidence=rule.confidence, n=n,
                   higher_is_better=higher_is_better, non_inferiority_margin=rule.non_inferiority_margin,
                   expected_lift_stated=rule.expected_lift is not None, incomplete_baselines=incomplete,
                   left_out=left_out, failed_items=failing, max_failed_share=rule.max_failed_share, corpus=corpus)
    if n == 0 or not baselines or not tuned:
        why = "no-items" if n == 0 else "no-comparison"
        return replace(base, rule=why, finding=why, missing_role="tuned" if not tuned else "baseline")
    selection, compared, validation = _choose_baseline(baselines, metric.averaged, higher_is_better)
    k, m = len(tuned), len(compared)
    alpha = round(1 - rule.confidence, 12)
    binary = metric.averaged and is_binary(*[np.array([a.values[i] for i in ids], dtype=float)
                                              for a in tuned + compared])
    setting = Setting(primary, shape, binary, 1.0 if higher_is_better else -1.0, rule.min_lift, alpha / 2 / k,
                      alpha / 2 / m, seed,
                      rule.expected_lift if rule.expected_lift is not None else rule.min_lift + 0.05)
    min_n = binary_min_n(rule.min_lift, setting.alpha_low)
    if not binary:
        min_n = max(min_n, MIN_BOOTSTRAP_N)
    by_arm = _compare_all(tuned, compared, ids, [targets[i] for i in ids], setting, min_n)
    by_name = {a.name: a for a in arms}
    routes = _routes(by_arm, rule, by_name, forgetting or {})
    finding, cand, cited = _find(by_arm, routes, rule, n, min_n, m)
    planned = lift_plan(by_arm)
    out = replace(
        base, verdict=finding_verdict(finding), rule=finding, finding=finding,
        comparisons=[c for cs in by_arm.values() for c in cs], baseline=cited.baseline,
        baselines=[b.name for b in compared], baseline_selection=selection, candidate=cand,
        route={"lift": "lift", "cost": "cost"}.get(finding), items_needed=planned.items_needed if planned else None,
        planned=planned.arm if planned else None, min_n=min_n,
        min_n_winning=binary_min_n(rule.min_lift, setting.alpha_low),
        break_even=[be for a in by_arm for be in routes.costs.get(a, [])], regressed=sorted(routes.blocked),
        regression_reasons=[r for a in sorted(routes.blocked) for r in routes.blocked[a].reasons], binary=binary,
        stratified=metric.name == "macro_f1" and bool(shape.labels), validation=validation,
        answers={a.name: a.answer for a in compared + tuned if a.answer != "free"},
        prompt_tokens={a.name: a.prompt_tokens for a in (by_name[cand], by_name[cited.baseline])
                       if a.prompt_tokens is not None},
        train_seconds=by_name[cand].train_seconds or None,
        cost_open=rule.cost is not None and not routes.cost_closed[cand] and not routes.cost_go[cand],
        cost_plan=_cost_plan(routes, rule, cand, cited, finding, binary, available),
        slices=check_slices(by_name[cand], by_name[cited.baseline], targets, shape, data_fields or {},
                            setting.sign, rule.slices, rule.max_slice_drop, alpha / 2),
        carriers=[c for c in carriers if c.adapter_from == cand],
    )
    return _overrule(out)


def _complete(a: ArmResult, ids: list[str]) -> bool:
    return a.status == "completed" and a.value is not None and all(i in a.values for i in ids)


def _pool(arms: Sequence[ArmResult], ids: list[str]) -> tuple[list[ArmResult], list[ArmResult], list[ArmGap],
                                                              list[ArmGap]]:
    """(completed baselines, completed tuned arms, incomplete baselines, other incomplete arms)."""
    def gap(a: ArmResult) -> ArmGap:
        return ArmGap(a.name, a.status, sum(i not in a.values for i in ids) if a.status == "completed" else 0)

    done = [a for a in arms if _complete(a, ids)]
    return ([a for a in done if a.role == "baseline"], [a for a in done if a.role == "tuned"],
            [gap(a) for a in arms if a.role == "baseline" and not _complete(a, ids)],
            [gap(a) for a in arms if a.role != "baseline" and not _complete(a, ids)])


def _validation_value(arm: ArmResult, averaged: bool) -> float | None:
    if arm.validation_value is not None and math.isfinite(arm.validation_value):
        return arm.validation_value
    if averaged and arm.validation_values:
        return float(np.mean(list(arm.validation_values.values())))
    return None


def _choose_baseline(baselines: list[ArmResult], averaged: bool, higher_is_better: bool
                     ) -> tuple[str, list[ArmResult], dict[str, float | None]]:
    """(how the baseline was chosen, the baselines compared, each baseline's validation score). Chosen on
    validation, so the pick has no winner's curse on test; else every baseline, with family-wise control."""
    val = {a.name: _validation_value(a, averaged) for a in baselines}
    if len(baselines) == 1:
        return "single", baselines, val
    if all(v is not None and math.isfinite(v) for v in val.values()):
        pick = max if higher_is_better else min
        return "validation", [pick(baselines, key=lambda a: val[a.name])], val
    return "all-baselines", baselines, val


def _compare_all(tuned: list[ArmResult], compared: list[ArmResult], ids: list[str], gold: list[str], s: Setting,
                 min_n: int) -> dict[str, list[Comparison]]:
    """Every tuned arm against every compared baseline, Holm-adjusted over tuned arms."""
    raw = {t.name: [compare(t, b, ids, gold, s) for b in compared] for t in tuned}
    arm_p = [max((c.p if c.p is not None and c.p == c.p else 1.0) for c in raw[t.name]) for t in tuned]
    adjusted = dict(zip([t.name for t in tuned], holm(arm_p)))
    return {a: [replace(c, p_adjusted=adjusted[a],
                        items_needed=None if c.items_needed is None else max(c.items_needed, min_n)) for c in cs]
            for a, cs in raw.items()}


def _routes(by_arm: dict[str, list[Comparison]], rule: DecisionSpec, by_name: dict[str, ArmResult],
            forgetting: dict[str, Forgetting]) -> _Routes:
    min_lift, margin = rule.min_lift, rule.non_inferiority_margin
    r = _Routes(go={a: all(c.usable and c.low > min_lift for c in cs) for a, cs in by_arm.items()},
                below={a: any(c.usable and c.high < min_lift for c in cs) for a, cs in by_arm.items()},
                cost_go={a: False for a in by_arm}, cost_closed={a: True for a in by_arm}, costs={},
                blocked={a: forgetting[a] for a in by_arm if a in forgetting and forgetting[a].blocked})
    if rule.cost is not None and margin is not None:
        for a, cs in by_arm.items():
            r.costs[a] = [break_even(by_name[a], by_name[c.baseline], rule.cost) for c in cs]
            repays = all(be.repays for be in r.costs[a])
            unknown = any(be.missing for be in r.costs[a])
            r.cost_go[a] = repays and all(c.usable and c.low > -margin for c in cs)
            inferior = any(c.usable and c.high < -margin for c in cs)
            r.cost_closed[a] = (not repays and not unknown) or inferior
    for a in r.blocked:  # it learned the task but broke the model elsewhere: not shippable
        r.go[a] = r.cost_go[a] = False
        r.below[a] = r.cost_closed[a] = True
    return r


def _find(by_arm: dict[str, list[Comparison]], r: _Routes, rule: DecisionSpec, n: int, min_n: int, m: int
          ) -> tuple[str, str, Comparison]:
    """(what the comparisons show, the candidate, the comparison that binds it)."""
    def worst(a: str) -> Comparison:  # the baseline that binds this arm
        return min(by_arm[a], key=lambda c: (c.low if c.low == c.low else -math.inf, c.diff))

    def closest() -> str:
        return max(by_arm, key=lambda a: worst(a).diff)

    if n < min_n:
        return "too-few-items", (cand := closest()), worst(cand)
    if any(r.go.values()):
        cand = max((a for a in by_arm if r.go[a]), key=lambda a: worst(a).low)
        return "lift", cand, worst(cand)
    if any(r.cost_go.values()):
        cand = max((a for a in by_arm if r.cost_go[a]),
                   key=lambda a: min(be.saving_per_request or 0.0 for be in r.costs[a]))
        return "cost", cand, worst(cand)
    if all(r.nogo.values()):
        cand = closest()
        below = [x for x in by_arm[cand] if x.usable and x.high < rule.min_lift]
        return "no-lift", cand, worst(cand) if m == 1 or not below else min(below, key=lambda x: x.high)
    cand = closest()
    return ("guard" if any(c.guard for cs in by_arm.values() for c in cs) else "straddles"), cand, worst(cand)


def _cost_plan(r: _Routes, rule: DecisionSpec, cand: str, cited: Comparison, finding: str, binary: bool,
               available: int | None) -> CostPlan | None:
    """What would show the candidate non-inferior, when the cost route is declared, its saving repays training
    and neither a GO nor inferiority is shown."""
    if rule.non_inferiority_margin is None or finding in ("lift", "cost") or r.cost_closed.get(cand, True):
        return None
    if not all(be.repays for be in r.costs.get(cand, [])):
        return None
    return cost_plan(cited, rule.non_inferiority_margin, binary, available)


def _overrule(o: Outcome) -> Outcome:
    """What holds the comparisons' verdict back, weakest first: a slice loss (in block mode), a baseline that did
    not complete (it could have been the best), too many failed items (the scores measure the failures)."""
    if o.verdict == "GO" and o.slices is not None and o.slices.mode == "block" and o.slices.flagged:
        o = replace(o, verdict="INCONCLUSIVE", route=None, rule="slice-block")
    if o.incomplete_baselines:
        o = replace(o, verdict="INCONCLUSIVE", route=None, rule="baseline-failed")
    if o.failed_items:
        o = replace(o, verdict="INCONCLUSIVE", route=None, rule="too-many-failed")
    return o
