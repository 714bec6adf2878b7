"""How many test items would settle a verdict that is not settled yet, route by route, at 80% power.

- Lift route: GO needs the lower bound above min_lift; each comparison carries its own items needed
  (harness.verdict.comparison), and `lift_plan` picks the arm that needs the fewest.
- Cost route: GO needs the lower bound above -non_inferiority_margin (and a saving that repays training);
  `cost_plan` gives the items at which non-inferiority is shown with 80% probability, the smallest true
  difference this test set shows, and the chance of showing it on every test item the data holds.

Both are checked by simulation in tests/test_calibration.py.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any

from harness.records import json_safe
from harness.verdict.comparison import POWER, Comparison, binary_detectable
from harness.verdict.stats import binary_items_needed, binary_power, bootstrap_items_needed, z_of


def lift_plan(by_arm: Mapping[str, Sequence[Comparison]]) -> Comparison | None:
    """The comparison that says how many items a GO on lift needs: each arm needs as many as its hardest
    baseline asks for, and the arm that needs the fewest is the one to plan for (None: no arm can)."""
    best = None
    for cs in by_arm.values():
        if not cs or any(c.items_needed is None for c in cs):
            continue
        c = max(cs, key=lambda x: x.items_needed)
        if best is None or c.items_needed < best.items_needed:
            best = c
    return best


@dataclass(frozen=True)
class CostPlan:
    """What would show a tuned arm non-inferior (lower bound above -margin) with 80% probability."""

    arm: str
    baseline: str
    margin: float
    observed: float  # the lift measured on this test set
    assumed: float  # the true difference planned for: the observed one when above -margin, else 0 (equal arms)
    n: int
    items_needed: int | None
    detectable: float | None  # smallest true difference that this many items show non-inferior with 80% probability
    available: int | None = None  # test items the data holds (a profile may have used fewer)
    power_available: float | None = None  # P(non-inferiority shown) on all of them, at the assumed difference

    def to_dict(self) -> dict[str, Any]:
        return {k: json_safe(v) for k, v in asdict(self).items()}


def cost_plan(c: Comparison, margin: float, binary: bool, available: int | None = None) -> CostPlan | None:
    """The non-inferiority plan for comparison `c` at its own one-sided level (alpha_low); None when the
    comparison cannot be planned from (a bootstrap guard, no spread)."""
    n, alpha, delta0 = c.n, c.alpha_low, -margin
    assumed = c.diff if c.diff > delta0 else 0.0
    more = available if available is not None and available > n else None
    if binary and c.wins is not None and c.losses is not None and n:
        p_win, p_loss = c.wins / n, c.losses / n
        if c.diff <= delta0:  # plan for equal arms that differ on as many items
            p_win = p_loss = (p_win + p_loss) / 2
        needed = binary_items_needed(p_win, p_loss, delta0, alpha, POWER)
        detectable = binary_detectable(n, min(p_loss, 0.49), delta0, alpha)
        power = binary_power(more, p_win, p_loss, delta0, alpha) if more else None
    else:
        if c.guard is not None or not (c.se and c.se == c.se and c.se > 0):
            return None
        sd = c.se * math.sqrt(n)
        needed = bootstrap_items_needed(sd, assumed, delta0, alpha, POWER)
        detectable = delta0 + (z_of(alpha) + z_of(1 - POWER)) * c.se
        power = _normal_power(more, sd, assumed - delta0, alpha) if more else None
    return CostPlan(c.arm, c.baseline, margin, c.diff, assumed, n, needed, detectable, more, power)


def _normal_power(n: int, sd: float, excess: float, alpha: float) -> float:
    from statistics import NormalDist

    return NormalDist().cdf(math.sqrt(n) * excess / sd - z_of(alpha))
