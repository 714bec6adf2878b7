"""One tuned arm against one baseline on the same test items: the lift (positive = the tuned arm is better,
whatever the metric's direction), its bounds, its p-value and what the test set could detect.

- 0/1 per-item metrics averaged into a proportion: Tango's score interval for paired proportions.
- Anything else (continuous per-item values, macro-F1): a paired percentile bootstrap, resampled within gold
  labels for macro-F1, with a guard (no GO or NO-GO) when fewer than `MIN_DIFFERING` items differ.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field, fields
from typing import Any

import numpy as np

from harness.metrics.builtin import OutputShape
from harness.records import json_safe
from harness.verdict.stats import (
    MIN_DIFFERING,
    N_PAIRED_RESAMPLES,
    Paired,
    binary_items_needed,
    binary_power,
    bootstrap_items_needed,
    mcnemar_p,
    paired_binary,
    paired_bootstrap,
    z_of,
)

ROLES = ("baseline", "tuned", "companion")
POWER = 0.8
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
    assumed_lift: float | None = None  # the observed lift, or the planning lift when that does not exceed min_lift
    guard: str | None = None  # why this comparison can give neither GO nor NO-GO

    @property
    def usable(self) -> bool:
        """Whether its bounds may give a GO or NO-GO: no guard and finite bounds."""
        return self.guard is None and self.low == self.low and self.high == self.high

    def to_dict(self) -> dict[str, Any]:
        return {k: json_safe(v) for k, v in asdict(self).items()}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Comparison:
        names = {f.name for f in fields(cls)}
        return cls(**{k: _nan_if_none(k, v) for k, v in d.items() if k in names})


def _nan_if_none(key: str, v: Any) -> Any:
    return math.nan if v is None and key in ("diff", "low", "high", "level", "alpha_low", "alpha_high") else v


@dataclass(frozen=True)
class Setting:
    """What every comparison of one decision shares."""

    primary: str
    shape: OutputShape
    binary: bool  # the primary metric is 0/1 per item and averaged
    sign: float  # +1 when higher is better
    min_lift: float
    alpha_low: float
    alpha_high: float
    seed: int
    expected_lift: float  # the planning lift when the observed one does not exceed min_lift


def compare(tuned: ArmResult, base: ArmResult, ids: list[str], gold: list[str], s: Setting) -> Comparison:
    """The tuned arm against the baseline on the test items `ids` (gold answers `gold`, in the same order)."""
    vb = np.array([base.values[i] for i in ids], dtype=float)
    vt = np.array([tuned.values[i] for i in ids], dtype=float)
    n = len(ids)
    guard = mc = None
    if s.binary:
        first, second = (vb, vt) if s.sign > 0 else (1 - vb, 1 - vt)
        r: Paired = paired_binary(first, second, s.min_lift, s.alpha_low, s.alpha_high)
        mc = mcnemar_p(vb, vt)
        p_loss = r.losses / n
        assumed = r.diff if r.diff > s.min_lift else s.expected_lift
        p_loss_plan = p_loss if r.diff > s.min_lift else min(p_loss, max(0.0, (1 - assumed) / 2))
        needed = binary_items_needed(p_loss_plan + assumed, p_loss_plan, s.min_lift, s.alpha_low, POWER)
        detectable = binary_detectable(n, min(p_loss, 0.49), s.min_lift, s.alpha_low)
    else:
        r = paired_bootstrap(s.primary, [base.outputs.get(i, "") for i in ids],
                             [tuned.outputs.get(i, "") for i in ids], gold, vb, vt, s.shape, s.min_lift, s.alpha_low,
                             s.alpha_high, s.seed, s.sign, N_PAIRED_RESAMPLES)
        assumed = r.diff if r.diff > s.min_lift else s.expected_lift
        sd = r.se * math.sqrt(n) if r.se == r.se else math.nan
        needed = bootstrap_items_needed(sd, assumed, s.min_lift, s.alpha_low, POWER)
        detectable = (s.min_lift + (z_of(s.alpha_low) + z_of(1 - POWER)) * r.se) if r.se and r.se == r.se else None
        if r.differing < MIN_DIFFERING:
            guard = (f"only {r.differing} of {n} items differ between {tuned.name} and {base.name}; a paired bootstrap "
                     f"needs at least {MIN_DIFFERING} for a GO or NO-GO")
        elif not r.se > 0:
            guard = f"the bootstrap spread of {tuned.name} vs {base.name} is zero"
        if guard:
            needed = None
    return Comparison(
        arm=tuned.name, baseline=base.name, diff=r.diff, low=r.low, high=r.high, level=1 - s.alpha_low - s.alpha_high,
        alpha_low=s.alpha_low, alpha_high=s.alpha_high, p=r.p, p_adjusted=None, n=n, method=r.method,
        differing=r.differing, wins=r.wins, losses=r.losses, se=r.se, mcnemar_p=mc, detectable=detectable,
        items_needed=needed, assumed_lift=assumed, guard=guard,
    )


def binary_detectable(n: int, p_loss: float, delta0: float, alpha: float) -> float | None:
    """Smallest true lift above delta0 that the score test shows (bound above delta0) with 80% probability at n
    items, if losses stay at p_loss; None when even winning every non-losing item would not."""
    from scipy.optimize import brentq

    top = 1 - 2 * p_loss  # p_win + p_loss <= 1
    bottom = max(delta0, -p_loss) + 1e-9  # p_win >= 0 (a non-inferiority margin makes delta0 negative)
    if top <= bottom or binary_power(n, p_loss + top, p_loss, delta0, alpha) < POWER:
        return None
    if binary_power(n, p_loss + bottom, p_loss, delta0, alpha) >= POWER:
        return bottom
    return float(brentq(lambda d: binary_power(n, p_loss + d, p_loss, delta0, alpha) - POWER, bottom, top))
