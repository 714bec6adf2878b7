"""GO / NO-GO / INCONCLUSIVE: a pure function of stored results and the task's decision rule, in two parts.

`decide` = the numbers (harness.verdict.outcome.judge: the outcome, the comparisons, the binding baseline,
which rule fired, the slices) + the words (harness.verdict.reasons). A `Decision` is the outcome with its
reasons and method sentence, as stored with each run (`to_dict` / `from_dict`; every older format still reads).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field, fields
from typing import Any

from harness.metrics.builtin import OutputShape
from harness.records import json_safe
from harness.spec import DecisionSpec
from harness.verdict.comparison import ArmResult, Comparison
from harness.verdict.cost import BreakEven
from harness.verdict.forgetting import Forgetting
from harness.verdict.outcome import ArmGap, Carrier, Outcome, judge
from harness.verdict.planning import CostPlan
from harness.verdict.reasons import method, reasons
from harness.verdict.slices import SliceCheck

# Decision.to_dict()["format"]: 3 adds the outcome's facts (rule, finding, slices, cost plan, ...); 2 reads with
# them at their defaults; dicts without a format are the pre-issue-9 one.
FORMAT = 3
READABLE = (2, 3)


@dataclass(frozen=True)
class Decision(Outcome):
    """An outcome with its sentences: what a run stores and the report, `history` and `compare` read."""

    reasons: list[str] = field(default_factory=list)
    method: str = ""  # one sentence for the report
    legacy: bool = False  # read from the pre-issue-9 dict format

    def to_dict(self) -> dict[str, Any]:
        return {"format": FORMAT, **json_safe(asdict(self))}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Decision:
        """A stored decision, in this format, format 2, or the old one ({verdict, reasons, comparisons: [{arm,
        baseline, diff, low, high, p, p_holm, se, n, mcnemar_p, detectable}], primary, baseline, candidate, min_lift,
        confidence})."""
        if d.get("format") not in READABLE:
            return _legacy(d)
        names = {f.name for f in fields(cls)}
        kw = {k: v for k, v in d.items() if k in names}
        kw["comparisons"] = [Comparison.from_dict(c) for c in d.get("comparisons") or []]
        kw["break_even"] = [BreakEven(**b) for b in d.get("break_even") or []]
        kw["left_out"] = [ArmGap(**g) for g in d.get("left_out") or []]
        kw["incomplete_baselines"] = [ArmGap(**g) for g in d.get("incomplete_baselines") or []]
        kw["carriers"] = [Carrier(**c) for c in d.get("carriers") or []]
        kw["cost_plan"] = CostPlan(**d["cost_plan"]) if d.get("cost_plan") else None
        kw["slices"] = SliceCheck.from_dict(d["slices"]) if d.get("slices") else None
        for key in ("reasons", "baselines", "regressed", "regression_reasons"):
            kw[key] = list(d.get(key) or [])
        return cls(**kw)


def _num(v: Any) -> float:
    return math.nan if v is None else float(v)


def _legacy(d: dict[str, Any]) -> Decision:
    confidence = d.get("confidence")
    alpha = (1 - confidence) / 2 if confidence is not None else math.nan
    comps = [Comparison(
        arm=c["arm"], baseline=c.get("baseline", d.get("baseline", "")), diff=_num(c.get("diff")),
        low=_num(c.get("low")), high=_num(c.get("high")), level=confidence if confidence is not None else math.nan,
        alpha_low=alpha, alpha_high=alpha, p=c.get("p"), p_adjusted=c.get("p_holm"), n=int(c.get("n") or 0),
        method="paired-bootstrap (legacy)", se=c.get("se"), mcnemar_p=c.get("mcnemar_p"),
        detectable=c.get("detectable"),
    ) for c in d.get("comparisons") or []]
    baseline = d.get("baseline")
    return Decision(
        verdict=d.get("verdict", "INCONCLUSIVE"), reasons=list(d.get("reasons") or []), comparisons=comps,
        primary=d.get("primary", ""), baseline=baseline, baselines=[baseline] if baseline else [],
        baseline_selection="test" if baseline else None, candidate=d.get("candidate"), min_lift=d.get("min_lift"),
        confidence=confidence,
        method=("Paired percentile bootstrap against the best untrained arm on the test set, Holm's correction "
                "on p-values for no difference (decided before the current method)."),
        n=comps[0].n if comps else None, legacy=True,
    )


def explain(outcome: Outcome) -> Decision:
    """The outcome with its reasons and method sentence."""
    return Decision(**{f.name: getattr(outcome, f.name) for f in fields(Outcome)},
                    reasons=reasons(outcome), method=method(outcome))


def decide(
    arms: Sequence[ArmResult],
    targets: dict[str, str],
    primary: str,
    rule: DecisionSpec,
    shape: OutputShape,
    seed: int = 0,
    higher_is_better: bool = True,
    forgetting: dict[str, Forgetting] | None = None,
    *,
    data_fields: Mapping[str, Mapping[str, Any]] | None = None,
    carriers: Sequence[Carrier] = (),
    corpus: bool = False,
    available: int | None = None,
) -> Decision:
    """The verdict and its reasons (harness.verdict.outcome.judge says what each argument does)."""
    return explain(judge(arms, targets, primary, rule, shape, seed, higher_is_better, forgetting,
                         data_fields=data_fields, carriers=carriers, corpus=corpus, available=available))
