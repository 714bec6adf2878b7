"""GO / NO-GO / INCONCLUSIVE: a pure function of stored results and the task's decision rule.

The baseline is the best arm that needs no training (prompted, RAG); each tuned arm is compared with
it on the same test items by a paired bootstrap of the primary metric, with Holm's correction across
tuned arms. GO needs the whole interval above `min_lift`; NO-GO needs it wholly below; anything else
is INCONCLUSIVE, with the smallest effect this test set could have detected.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from harness.metrics import OutputShape
from harness.stats import detectable_effect, holm, mcnemar_p, paired_difference

TUNED_TYPES = ("lora", "qlora", "rag-tuned")


@dataclass
class ArmResult:
    name: str
    type: str
    status: str
    value: float | None  # primary metric on test
    values: dict[str, float] = field(default_factory=dict)  # example id -> per-example primary value
    outputs: dict[str, str] = field(default_factory=dict)  # example id -> answer ("" when generation failed)
    prompt_tokens: float | None = None
    train_seconds: float | None = None


def decide(
    arms: Sequence[ArmResult],
    targets: dict[str, str],
    primary: str,
    min_lift: float,
    confidence: float,
    shape: OutputShape,
    seed: int = 0,
) -> dict[str, Any]:
    done = [a for a in arms if a.status == "completed" and a.value is not None]
    baselines = [a for a in done if a.type not in TUNED_TYPES and a.type != "merged"]
    tuned = [a for a in done if a.type in TUNED_TYPES]
    reasons: list[str] = []
    failed = [a.name for a in arms if a.status != "completed"]
    if failed:
        reasons.append(f"arms that failed and are left out: {', '.join(failed)}")
    if not baselines or not tuned:
        missing = "fine-tuned arm" if not tuned else "arm without training (prompted or RAG)"
        return {"verdict": "INCONCLUSIVE", "reasons": [f"no completed {missing} to compare"] + reasons,
                "comparisons": [], "primary": primary}
    baseline = max(baselines, key=lambda a: a.value)
    ids = sorted(targets)
    gold = [targets[i] for i in ids]
    comparisons = []
    for arm in tuned:
        diff = paired_difference(
            primary, [baseline.outputs[i] for i in ids], [arm.outputs[i] for i in ids], gold,
            np.array([baseline.values[i] for i in ids]), np.array([arm.values[i] for i in ids]), shape, confidence, seed,
        )
        diff["mcnemar_p"] = mcnemar_p(np.array([baseline.values[i] for i in ids]), np.array([arm.values[i] for i in ids]))
        diff["detectable"] = detectable_effect(diff["se"], confidence)
        comparisons.append({"arm": arm.name, "baseline": baseline.name, **diff})
    for comp, adjusted in zip(comparisons, holm([c["p"] for c in comparisons])):
        comp["p_holm"] = adjusted
    best = max(comparisons, key=lambda c: c["diff"])
    level = f"{confidence:.0%}"
    lift = (f"{best['arm']} vs {baseline.name} on {primary}: {best['diff']:+.3f} "
            f"({level} interval {best['low']:+.3f} to {best['high']:+.3f}, Holm p={best['p_holm']:.3g}, n={best['n']})")
    if best["low"] > min_lift and best["p_holm"] < 1 - confidence:
        verdict = "GO"
        reasons.insert(0, f"fine-tuning pays: {lift}; the whole interval is above the required lift of {min_lift:+.3f}")
    elif all(c["high"] < min_lift for c in comparisons):
        verdict = "NO-GO"
        reasons.insert(0, f"fine-tuning does not reach the required lift of {min_lift:+.3f}: {lift}; "
                          f"every tuned arm's interval is below it")
    else:
        verdict = "INCONCLUSIVE"
        needed = ""
        if min_lift > 0 and best["detectable"] > 0:
            factor = (best["detectable"] / min_lift) ** 2
            needed = f"; detecting a lift of {min_lift:.3f} needs about {int(np.ceil(best['n'] * factor))} test items"
        reasons.insert(0, f"the interval straddles the required lift of {min_lift:+.3f}: {lift}; this test set can "
                          f"detect differences of about {best['detectable']:.3f} (80% power){needed}")
    by_name = {a.name: a for a in done}
    arm_best = by_name[best["arm"]]
    if arm_best.prompt_tokens is not None and baseline.prompt_tokens:
        saved = baseline.prompt_tokens - arm_best.prompt_tokens
        fewer_or_more = "fewer" if saved >= 0 else "more"
        reasons.append(f"{arm_best.name} uses {arm_best.prompt_tokens:.0f} prompt tokens per request, "
                       f"{abs(saved):.0f} {fewer_or_more} than {baseline.name} ({abs(saved) / baseline.prompt_tokens:.0%})")
    if arm_best.train_seconds:
        reasons.append(f"training {arm_best.name} (all sweep trials) took {arm_best.train_seconds:.0f} s")
    return {"verdict": verdict, "reasons": reasons, "comparisons": comparisons, "primary": primary,
            "baseline": baseline.name, "candidate": best["arm"], "min_lift": min_lift, "confidence": confidence}
