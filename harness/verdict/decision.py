"""GO / NO-GO / INCONCLUSIVE: a pure function of stored results and the task's decision rule.

Each tuned arm is compared with the baseline (the best arm that needs no training, chosen on the
validation split) on the same test items; the lift is signed so that positive is better.

- 0/1 per-item metrics averaged into a proportion: Tango's score interval for paired proportions.
  Anything else (continuous per-item values, macro-F1): a paired percentile bootstrap, resampled within
  gold labels for macro-F1, which gives no verdict when fewer than `MIN_DIFFERING` items differ.
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
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field, fields
from typing import Any

import numpy as np

from harness.metrics.builtin import METRICS, OutputShape
from harness.records import json_safe
from harness.spec import DecisionSpec
from harness.verdict.cost import BreakEven, break_even, describe_break_even
from harness.verdict.forgetting import Forgetting
from harness.verdict.stats import (
    MIN_DIFFERING,
    N_PAIRED_RESAMPLES,
    Paired,
    binary_items_needed,
    binary_min_n,
    binary_power,
    bootstrap_items_needed,
    holm,
    is_binary,
    mcnemar_p,
    paired_binary,
    paired_bootstrap,
    z_of,
)

ROLES = ("baseline", "tuned", "companion")
POWER = 0.8
FORMAT = 2  # Decision.to_dict()["format"]; dicts without it are the pre-issue-9 format
MIN_BOOTSTRAP_N = 2 * MIN_DIFFERING  # a paired bootstrap needs at least this many test items for a verdict


@dataclass
class ArmResult:
    """What the verdict needs to know about one arm; `role` says how it takes part:
    baseline (needs no training: prompted, RAG), tuned (a candidate), companion (neither, e.g. a merged
    copy of a tuned model)."""

    name: str
    role: str
    status: str
    value: float | None  # primary metric on test
    values: dict[str, float] = field(default_factory=dict)  # example id -> per-example primary value (test)
    outputs: dict[str, str] = field(default_factory=dict)  # example id -> answer ("" when generation failed)
    prompt_tokens: float | None = None  # mean per request
    train_seconds: float | None = None  # all sweep trials
    output_tokens: float | None = None  # mean per request
    latency_s: float | None = None  # mean seconds per request
    validation_value: float | None = None  # primary metric on the validation split, None if not scored there
    validation_values: dict[str, float] = field(default_factory=dict)
    answer: str = "free"  # free | choice | constrained: how the arm's answers were made
    n_failed: int = 0  # test items whose generation failed (scored as empty answers)

    @property
    def shown(self) -> str:
        """Its name, and how it answered when that was not free text (the reasons say which baseline won)."""
        how = {"choice": "answers chosen from the labels by log-likelihood", "constrained": "constrained decoding"}
        return f"{self.name} ({how[self.answer]})" if self.answer in how else self.name

    def __post_init__(self) -> None:
        if self.role not in ROLES:
            raise ValueError(f"ArmResult {self.name!r}: role must be one of {ROLES}, got {self.role!r}")


@dataclass(frozen=True)
class Comparison:
    """One tuned arm against one baseline on the same test items. `diff` is the lift (positive = the tuned arm
    is better, whatever the metric's direction); [low, high] the bounds the decision used, each with its own
    one-sided error rate (alpha_low: family-wise over tuned arms; alpha_high: over compared baselines), so
    `level` = 1 - alpha_low - alpha_high. `p` is one-sided for H0: lift <= min_lift, `p_adjusted` Holm over
    tuned arms (the largest p over baselines when several are compared)."""

    arm: str
    baseline: str
    diff: float
    low: float
    high: float
    level: float
    alpha_low: float
    alpha_high: float
    p: float | None
    p_adjusted: float | None
    n: int
    method: str
    differing: int | None = None  # items on which the two arms differ
    wins: int | None = None  # 0/1 metrics: items only the tuned arm gets right
    losses: int | None = None  # 0/1 metrics: items only the baseline gets right
    se: float | None = None
    mcnemar_p: float | None = None  # exact McNemar (no difference), only for 0/1 metrics averaged into the primary
    detectable: float | None = None  # smallest true lift that gives GO with 80% probability on this many items
    items_needed: int | None = None  # test items at which `assumed_lift` gives GO with 80% probability
    assumed_lift: float | None = None  # the observed lift, or the stated effect when the observed does not exceed min_lift
    guard: str | None = None  # why this comparison can give neither GO nor NO-GO

    def to_dict(self) -> dict[str, Any]:
        return {k: json_safe(v) for k, v in asdict(self).items()}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Comparison:
        names = {f.name for f in fields(cls)}
        return cls(**{k: _nan_if_none(k, v) for k, v in d.items() if k in names})


@dataclass(frozen=True)
class Decision:
    verdict: str  # GO | NO-GO | INCONCLUSIVE
    reasons: list[str]
    comparisons: list[Comparison]
    primary: str
    baseline: str | None = None  # the baseline the candidate was judged against (the binding one when several)
    baselines: list[str] = field(default_factory=list)  # every baseline compared
    baseline_selection: str | None = None  # "validation", "single", "all-baselines" (or "test" in old runs)
    candidate: str | None = None
    min_lift: float | None = None
    confidence: float | None = None
    method: str = ""  # one sentence for the report
    route: str | None = None  # "lift" or "cost" when GO
    items_needed: int | None = None
    min_n: int | None = None
    n: int | None = None
    higher_is_better: bool = True
    non_inferiority_margin: float | None = None
    break_even: list[BreakEven] = field(default_factory=list)
    regressed: list[str] = field(default_factory=list)  # tuned arms held back by the general-capability checks
    legacy: bool = False  # read from the pre-issue-9 dict format

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"format": FORMAT}
        for f in fields(self):
            value = getattr(self, f.name)
            if f.name == "comparisons":
                value = [c.to_dict() for c in value]
            elif f.name == "break_even":
                value = [b.to_dict() for b in value]
            out[f.name] = json_safe(value)
        return out

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Decision:
        """A stored decision, in this format or the old one ({verdict, reasons, comparisons: [{arm, baseline,
        diff, low, high, p, p_holm, se, n, mcnemar_p, detectable}], primary, baseline, candidate, min_lift,
        confidence})."""
        if d.get("format") == FORMAT:
            names = {f.name for f in fields(cls)}
            kw = {k: v for k, v in d.items() if k in names}
            kw["comparisons"] = [Comparison.from_dict(c) for c in d.get("comparisons") or []]
            kw["break_even"] = [BreakEven(**b) for b in d.get("break_even") or []]
            kw["reasons"] = list(d.get("reasons") or [])
            kw["baselines"] = list(d.get("baselines") or [])
            return cls(**kw)
        confidence = d.get("confidence")
        alpha = (1 - confidence) / 2 if confidence is not None else None
        comps = []
        for c in d.get("comparisons") or []:
            comps.append(Comparison(
                arm=c["arm"], baseline=c.get("baseline", d.get("baseline", "")), diff=_num(c.get("diff")),
                low=_num(c.get("low")), high=_num(c.get("high")), level=confidence if confidence is not None else math.nan,
                alpha_low=alpha if alpha is not None else math.nan, alpha_high=alpha if alpha is not None else math.nan,
                p=c.get("p"), p_adjusted=c.get("p_holm"), n=int(c.get("n") or 0), method="paired-bootstrap (legacy)",
                se=c.get("se"), mcnemar_p=c.get("mcnemar_p"), detectable=c.get("detectable"),
            ))
        baseline = d.get("baseline")
        return cls(
            verdict=d.get("verdict", "INCONCLUSIVE"), reasons=list(d.get("reasons") or []), comparisons=comps,
            primary=d.get("primary", ""), baseline=baseline, baselines=[baseline] if baseline else [],
            baseline_selection="test" if baseline else None, candidate=d.get("candidate"), min_lift=d.get("min_lift"),
            confidence=confidence,
            method=("Paired percentile bootstrap against the best untrained arm on the test set, Holm's correction "
                    "on p-values for no difference (decided before the current method)."),
            n=comps[0].n if comps else None, legacy=True,
        )


def _num(v: Any) -> float:
    return math.nan if v is None else float(v)


def _nan_if_none(key: str, v: Any) -> Any:
    return math.nan if v is None and key in ("diff", "low", "high", "level", "alpha_low", "alpha_high") else v


def _pct(level: float) -> str:
    return f"{level * 100:.3g}%"


def _p(p: float | None) -> str:
    """'=0.012' or '<0.0001', to follow 'p'."""
    if p is None or math.isnan(p):
        return " n/a"
    return "<0.0001" if p < 1e-4 else f"={p:.3g}"


# ---------------------------------------------------------------- the decision


def _validation_value(arm: ArmResult, averaged: bool) -> float | None:
    if arm.validation_value is not None and math.isfinite(arm.validation_value):
        return arm.validation_value
    if averaged and arm.validation_values:
        return float(np.mean(list(arm.validation_values.values())))
    return None


def _compare(
    tuned: ArmResult, base: ArmResult, ids: list[str], gold: list[str], primary: str, shape: OutputShape,
    binary: bool, sign: float, min_lift: float, alpha_low: float, alpha_high: float, seed: int,
    expected_lift: float,
) -> Comparison:
    vb = np.array([base.values[i] for i in ids], dtype=float)
    vt = np.array([tuned.values[i] for i in ids], dtype=float)
    n = len(ids)
    guard = None
    mc = None
    if binary:
        first, second = (vb, vt) if sign > 0 else (1 - vb, 1 - vt)
        r: Paired = paired_binary(first, second, min_lift, alpha_low, alpha_high)
        mc = mcnemar_p(vb, vt)
        p_loss = r.losses / n
        assumed = r.diff if r.diff > min_lift else expected_lift
        p_loss_plan = p_loss if r.diff > min_lift else min(p_loss, max(0.0, (1 - assumed) / 2))
        needed = binary_items_needed(p_loss_plan + assumed, p_loss_plan, min_lift, alpha_low, POWER)
        detectable = _binary_detectable(n, min(p_loss, 0.49), min_lift, alpha_low)
    else:
        r = paired_bootstrap(primary, [base.outputs.get(i, "") for i in ids], [tuned.outputs.get(i, "") for i in ids],
                             gold, vb, vt, shape, min_lift, alpha_low, alpha_high, seed, sign, N_PAIRED_RESAMPLES)
        assumed = r.diff if r.diff > min_lift else expected_lift
        sd = r.se * math.sqrt(n) if r.se == r.se else math.nan
        needed = bootstrap_items_needed(sd, assumed, min_lift, alpha_low, POWER)
        detectable = min_lift + (z_of(alpha_low) + z_of(1 - POWER)) * r.se if r.se and r.se == r.se else None
        if r.differing < MIN_DIFFERING:
            guard = (f"only {r.differing} of {n} items differ between {tuned.name} and {base.name}; a paired bootstrap "
                     f"needs at least {MIN_DIFFERING} for a GO or NO-GO")
        elif not r.se > 0:
            guard = f"the bootstrap spread of {tuned.name} vs {base.name} is zero"
        if guard:
            needed = None
    return Comparison(
        arm=tuned.name, baseline=base.name, diff=r.diff, low=r.low, high=r.high, level=1 - alpha_low - alpha_high,
        alpha_low=alpha_low, alpha_high=alpha_high, p=r.p, p_adjusted=None, n=n, method=r.method, differing=r.differing,
        wins=r.wins, losses=r.losses, se=r.se, mcnemar_p=mc, detectable=detectable, items_needed=needed,
        assumed_lift=assumed, guard=guard,
    )


def _binary_detectable(n: int, p_loss: float, delta0: float, alpha: float) -> float | None:
    """Smallest true lift that gives GO with 80% probability at n items, if losses stay at p_loss."""
    from scipy.optimize import brentq

    top = 1 - 2 * p_loss  # p_win + p_loss <= 1
    if top <= delta0 + 1e-9 or binary_power(n, p_loss + top, p_loss, delta0, alpha) < POWER:
        return None
    return float(brentq(lambda d: binary_power(n, p_loss + d, p_loss, delta0, alpha) - POWER, delta0 + 1e-9, top))


def _lift_text(c: Comparison, primary: str) -> str:
    return (f"{c.arm} vs {c.baseline} on {primary}: {c.diff:+.3f} ({_pct(c.level)} interval {c.low:+.3f} to "
            f"{c.high:+.3f}, n={c.n})")


def _method_sentence(binary: bool, stratified: bool, n: int, k: int, m: int, selection: str, confidence: float,
                     margin: float | None) -> str:
    alpha = 1 - confidence
    stat = ("Tango's score interval for the difference of paired proportions" if binary else
            f"a paired percentile bootstrap ({N_PAIRED_RESAMPLES} resamples"
            f"{', within gold labels' if stratified else ''}; no verdict when fewer than {MIN_DIFFERING} items differ)")
    base = {"validation": "against the untrained arm that scored best on the validation split",
            "single": "against the only untrained arm",
            "all-baselines": f"against every one of the {m} untrained arms (GO must beat each)"}[selection]
    go = (f"lower bound at one-sided {alpha / 2 / k:.3g} (Bonferroni over {k} tuned arms)" if k > 1
          else f"lower bound at one-sided {alpha / 2:.3g}")
    nogo = f"upper bound at one-sided {alpha / 2 / m:.3g}" + (f" (Bonferroni over {m} baselines)" if m > 1 else "")
    cost = (f"; GO on cost when the lower bound is above -{margin:g} and the saving repays training" if margin is not None
            else "")
    return (f"Each tuned arm {base}, on the same {n} test items, by {stat}; GO when a tuned arm's {go} is above "
            f"min_lift, NO-GO when every tuned arm's {nogo} is below it{cost}.")


def decide(
    arms: Sequence[ArmResult],
    targets: dict[str, str],
    primary: str,
    rule: DecisionSpec,
    shape: OutputShape,
    seed: int = 0,
    higher_is_better: bool = True,
    forgetting: dict[str, Forgetting] | None = None,
) -> Decision:
    """The verdict. `forgetting` (tuned arm -> its general-capability comparison with the base model): an arm
    that fell beyond the task's tolerance cannot be GO, by either route."""
    min_lift, confidence = rule.min_lift, rule.confidence
    margin = rule.non_inferiority_margin
    expected_lift = rule.expected_lift if rule.expected_lift is not None else min_lift + 0.05
    sign = 1.0 if higher_is_better else -1.0
    metric = METRICS[primary.split(".")[0]]
    ids = sorted(targets)
    n = len(ids)
    gold = [targets[i] for i in ids]
    common = {"primary": primary, "min_lift": min_lift, "confidence": confidence, "n": n,
              "higher_is_better": higher_is_better, "non_inferiority_margin": margin}

    def complete(a: ArmResult) -> bool:
        return a.status == "completed" and a.value is not None and all(i in a.values for i in ids)

    def why_not(a: ArmResult) -> str:
        if a.status != "completed":
            return f"{a.name} ({a.status})"
        missing = sum(i not in a.values for i in ids)
        return f"{a.name} (no score for {missing} of {n} test items)" if missing else f"{a.name} (no score)"

    baselines = [a for a in arms if a.role == "baseline" and complete(a)]
    tuned = [a for a in arms if a.role == "tuned" and complete(a)]
    bad_baselines = [why_not(a) for a in arms if a.role == "baseline" and not complete(a)]
    left_out = [why_not(a) for a in arms if a.role != "baseline" and not complete(a)]
    notes: list[str] = []
    if left_out:
        notes.append(f"arms that failed or are incomplete and are left out: {', '.join(left_out)}")
    failing = _too_many_failed([a for a in arms if a.role != "companion" and complete(a)], n, rule.max_failed_share)
    if n == 0:
        return Decision("INCONCLUSIVE", ["no test items to compare on"] + notes, [], method="No comparison was possible.",
                        **common)
    if not baselines or not tuned:
        missing = "fine-tuned arm" if not tuned else "arm without training (prompted or RAG)"
        first = [f"no completed {missing} to compare"]
        if bad_baselines:
            first.append(f"baseline arms that did not complete: {', '.join(bad_baselines)}")
        return Decision("INCONCLUSIVE", first + ([failing] if failing else []) + notes, [],
                        method="No comparison was possible.", **common)

    # ---- baseline: chosen on validation (no winner's curse on test), else every baseline with family-wise control
    val = {a.name: _validation_value(a, metric.averaged) for a in baselines}
    if len(baselines) == 1:
        selection, compared = "single", baselines
        notes.insert(0, f"baseline: {baselines[0].shown}, the only completed arm without training")
    elif all(v is not None and math.isfinite(v) for v in val.values()):
        pick = max if higher_is_better else min
        chosen = pick(baselines, key=lambda a: val[a.name])
        selection, compared = "validation", [chosen]
        listing = ", ".join(f"{a.name} {val[a.name]:.3f}" for a in baselines)
        notes.insert(0, f"baseline: {chosen.shown}, the best arm without training on the validation split ({listing}); "
                        f"compared on test, so its pick does not favour it there")
    else:
        selection, compared = "all-baselines", baselines
        no_val = [a.name for a in baselines if val[a.name] is None]
        notes.insert(0, f"baseline: no validation score for {', '.join(no_val)}, so each tuned arm is compared with every "
                        f"arm without training ({', '.join(a.name for a in baselines)}); GO must beat each of them, "
                        f"with the error split over them for NO-GO")

    k, m = len(tuned), len(compared)
    alpha = round(1 - confidence, 12)
    alpha_low, alpha_high = alpha / 2 / k, alpha / 2 / m
    binary = metric.averaged and is_binary(*[np.array([a.values[i] for i in ids], dtype=float) for a in tuned + compared])
    stratified = metric.name == "macro_f1" and bool(shape.labels)
    min_n = binary_min_n(min_lift, alpha_low)
    if not binary:
        min_n = max(min_n, MIN_BOOTSTRAP_N)
    method = _method_sentence(binary, stratified, n, k, m, selection, confidence, margin)

    by_arm: dict[str, list[Comparison]] = {}
    for t in tuned:
        by_arm[t.name] = [_compare(t, b, ids, gold, primary, shape, binary, sign, min_lift, alpha_low, alpha_high, seed,
                                   expected_lift) for b in compared]
    arm_p = [max((c.p if c.p is not None and c.p == c.p else 1.0) for c in by_arm[t.name]) for t in tuned]
    adjusted = dict(zip([t.name for t in tuned], holm(arm_p)))
    comparisons = [Comparison(**{**asdict(c), "p_adjusted": adjusted[c.arm],
                                 "items_needed": None if c.items_needed is None else max(c.items_needed, min_n)})
                   for t in tuned for c in by_arm[t.name]]
    by_arm = {t.name: [c for c in comparisons if c.arm == t.name] for t in tuned}
    by_name = {a.name: a for a in arms}

    def ok(c: Comparison) -> bool:
        return c.guard is None and c.low == c.low and c.high == c.high

    go = {a: all(ok(c) and c.low > min_lift for c in cs) for a, cs in by_arm.items()}
    below = {a: any(ok(c) and c.high < min_lift for c in cs) for a, cs in by_arm.items()}
    costs: dict[str, list[BreakEven]] = {}
    cost_go = {a: False for a in by_arm}
    cost_closed = {a: True for a in by_arm}  # the cost route cannot give this arm a GO
    if rule.cost is not None and margin is not None:
        for a, cs in by_arm.items():
            costs[a] = [break_even(by_name[a], by_name[c.baseline], rule.cost) for c in cs]
            repays = all(be.repays for be in costs[a])
            unknown = any(be.missing for be in costs[a])
            cost_go[a] = repays and all(ok(c) and c.low > -margin for c in cs)
            inferior = any(ok(c) and c.high < -margin for c in cs)
            cost_closed[a] = (not repays and not unknown) or inferior
    blocked = {a: forgetting[a] for a in by_arm if forgetting and a in forgetting and forgetting[a].blocked}
    for a in blocked:  # it learned the task but broke the model elsewhere: not shippable
        go[a] = cost_go[a] = False
        below[a] = cost_closed[a] = True
    nogo = {a: below[a] and cost_closed[a] for a in by_arm}

    def worst(a: str) -> Comparison:  # the baseline that binds this arm
        return min(by_arm[a], key=lambda c: (c.low if c.low == c.low else -math.inf, c.diff))

    route = None
    if n < min_n:
        verdict = "INCONCLUSIVE"
        cand = max(by_arm, key=lambda a: worst(a).diff)
        c = worst(cand)
        what = ("even a tuned arm that won every item could not clear the required lift of "
                f"{min_lift:+.3f} at one-sided level {alpha_low:.3g}") if binary else (
                f"a paired bootstrap needs at least {MIN_BOOTSTRAP_N} items (and {MIN_DIFFERING} that differ), and "
                f"with fewer than {binary_min_n(min_lift, alpha_low)} even a tuned arm that won every item could not "
                f"clear the required lift of {min_lift:+.3f}")
        first = (f"too few test items for a verdict: {n}, below the minimum of {min_n} for this rule ({what}); "
                 f"{_lift_text(c, primary)}")
    elif any(go.values()):
        verdict, route = "GO", "lift"
        cand = max((a for a in by_arm if go[a]), key=lambda a: worst(a).low)
        c = worst(cand)
        first = (f"fine-tuning pays: {_lift_text(c, primary)}; the whole interval is above the required lift of "
                 f"{min_lift:+.3f} (Holm p{_p(c.p_adjusted)})")
        if m > 1:
            first += f", against each of the {m} arms without training"
    elif any(cost_go.values()):
        verdict, route = "GO", "cost"
        cand = max((a for a in by_arm if cost_go[a]),
                   key=lambda a: min(be.saving_per_request or 0.0 for be in costs[a]))
        c = worst(cand)
        be = min(costs[cand], key=lambda b: b.saving_per_request or 0.0)
        first = (f"fine-tuning pays on cost: {_lift_text(c, primary)} is above the non-inferiority margin of "
                 f"{-margin:+.3f}, and {describe_break_even(be)}")
    elif all(nogo.values()):
        verdict = "NO-GO"
        cand = max(by_arm, key=lambda a: worst(a).diff)
        c = worst(cand) if m == 1 else min((x for x in by_arm[cand] if ok(x) and x.high < min_lift), key=lambda x: x.high)
        first = (f"fine-tuning does not reach the required lift of {min_lift:+.3f}: {_lift_text(c, primary)}; "
                 f"every tuned arm's interval is below it")
        if blocked:
            first = (f"no tuned arm is shippable: {', '.join(sorted(blocked))} lost general capability beyond the "
                     f"task's tolerance, and the rest do not reach the required lift of {min_lift:+.3f}; "
                     f"{_lift_text(c, primary)}")
        if rule.cost is not None:
            first += "; and none is both non-inferior and cheap enough to repay its training"
    else:
        verdict = "INCONCLUSIVE"
        cand = max(by_arm, key=lambda a: worst(a).diff)
        c = worst(cand)
        guards = [x.guard for x in comparisons if x.guard]
        if guards:
            first = f"no verdict from the bootstrap: {guards[0]}; {_lift_text(c, primary)}"
        else:
            first = f"the interval straddles the required lift of {min_lift:+.3f}: {_lift_text(c, primary)}"
        if rule.cost is not None and not cost_closed[cand] and not cost_go[cand]:
            first += f"; non-inferiority (margin {margin:g}) is not shown either"
    items_needed, needed_text = _items_needed(by_arm, min_lift, expected_lift, rule.expected_lift is not None, k,
                                              detect=n >= min_n)
    if verdict == "INCONCLUSIVE":
        first += needed_text
    reasons = [first] + notes
    for a in sorted(blocked):
        reasons += blocked[a].reasons
    other_guards = [x.guard for x in comparisons if x.guard and x.guard not in first]
    reasons += other_guards
    if bad_baselines:
        verdict, route = "INCONCLUSIVE", None
        reasons.insert(0, f"no verdict: baseline arm(s) {', '.join(bad_baselines)} did not complete, and a missing arm "
                          f"without training could have been the best one; what the completed arms show: "
                          + first.split(": ", 1)[-1])
        del reasons[1]
    if failing:
        if verdict != "INCONCLUSIVE":
            reasons[0] = "what the comparison shows, failed items counted as empty answers: " + first.split(": ", 1)[-1]
        verdict, route = "INCONCLUSIVE", None
        reasons.insert(0, f"no verdict: {failing}")
    base_arm = by_name[c.baseline]
    arm_best = by_name[cand]
    if arm_best.prompt_tokens is not None and base_arm.prompt_tokens:
        saved = base_arm.prompt_tokens - arm_best.prompt_tokens
        fewer_or_more = "fewer" if saved >= 0 else "more"
        reasons.append(f"{arm_best.name} uses {arm_best.prompt_tokens:.0f} prompt tokens per request, "
                       f"{abs(saved):.0f} {fewer_or_more} than {base_arm.name} ({abs(saved) / base_arm.prompt_tokens:.0%})")
    if arm_best.train_seconds:
        reasons.append(f"training {arm_best.name} (all sweep trials) took {arm_best.train_seconds:.0f} s")
    if costs and route != "cost":
        for be in costs[cand]:
            reasons.append(describe_break_even(be))
    return Decision(
        verdict, reasons, comparisons, baseline=c.baseline, baselines=[b.name for b in compared],
        baseline_selection=selection, candidate=cand, method=method, route=route, items_needed=items_needed,
        min_n=min_n, break_even=[be for a in by_arm for be in costs.get(a, [])], regressed=sorted(blocked), **common,
    )


def _too_many_failed(arms: Sequence[ArmResult], n: int, max_share: float) -> str:
    """'' when each arm failed on at most `max_share` of the n test items; else the sentence that names the
    arms that did not, with their counts and the threshold."""
    over = [a for a in arms if n and a.n_failed / n > max_share]
    if not over:
        return ""
    listed = ", ".join(f"{a.name} failed on {a.n_failed} of {n} test items ({_pct(a.n_failed / n)})" for a in over)
    return (f"too many failed items: {listed}, more than the allowed {_pct(max_share)} (decision.max_failed_share "
            f"{max_share:g}); failed items score as empty answers, so the comparison would measure the failures "
            f"(fix the endpoint, raise max_retries, or shorten prompts, and run again)")


def _items_needed(by_arm: dict[str, list[Comparison]], min_lift: float, expected: float, stated: bool,
                  k: int, detect: bool = True) -> tuple[int | None, str]:
    """The smallest test set on which some tuned arm gives GO with 80% probability (each arm against its binding
    baseline), and the sentence that says so."""
    best = None
    for cs in by_arm.values():
        needs = [c.items_needed for c in cs]
        if any(x is None for x in needs):
            continue
        c = max(cs, key=lambda x: x.items_needed)
        if best is None or c.items_needed < best.items_needed:
            best = c
    if best is None:
        return None, ""
    observed = best.assumed_lift == best.diff and best.diff > min_lift
    if observed:
        effect = f"the observed {best.assumed_lift:+.3f}"
    else:
        source = "the rule's expected_lift" if stated else "min_lift + 0.05"
        effect = f"{best.assumed_lift:+.3f} ({source}; the observed {best.diff:+.3f} is not above the required lift)"
    family = f", at the level corrected for {k} tuned arms" if k > 1 else ""
    count = f"{best.items_needed:,}" if best.items_needed < 10**7 else "more than ten million"
    detect = (f"; this test set can detect lifts of about {best.detectable:+.3f} (GO with 80% probability)"
              if best.detectable is not None and detect else "")
    return best.items_needed, (f"; about {count} test items would give GO with 80% probability if the true lift of "
                               f"{best.arm} over {best.baseline} were {effect}{family}{detect}")
