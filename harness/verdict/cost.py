"""The second way to a GO: non-inferior and cheaper. Cost per request from an arm's measured tokens or
latency, and how soon the saving repays the training.

    decision: {non_inferiority_margin: 0.02, cost: {requests_per_day: 50000, price_per_1k_input_tokens: 0.0005}}
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any, Protocol

from harness.records import json_safe
from harness.spec import CostSpec


class Measured(Protocol):
    """What an arm measured per request (means), and its training time."""

    name: str
    prompt_tokens: float | None
    output_tokens: float | None
    latency_s: float | None
    train_seconds: float | None


@dataclass(frozen=True)
class BreakEven:
    """Cost per request of a tuned arm and a baseline, and how soon the saving repays the training."""

    arm: str
    baseline: str
    pricing: str  # "tokens" or "hardware"
    cost_per_request: float | None
    baseline_cost_per_request: float | None
    saving_per_request: float | None
    training_cost: float | None
    break_even_requests: float | None  # None: never (no saving) or unknown
    break_even_days: float | None
    requests_per_day: float
    horizon_days: float
    repays: bool
    missing: str | None = None  # what measurement was missing, when the cost could not be computed

    def to_dict(self) -> dict[str, Any]:
        return {k: json_safe(v) for k, v in asdict(self).items()}


def cost_per_request(arm: Measured, cost: CostSpec) -> tuple[float | None, str | None]:
    """(dollars per request, None) from the arm's measured tokens or latency, or (None, what is missing)."""
    if cost.pricing == "hardware":
        if arm.latency_s is None:
            return None, f"no measured latency for {arm.name}"
        return arm.latency_s * cost.serving_cost_per_hour / 3600.0, None
    total = 0.0
    if cost.price_per_1k_input_tokens:
        if arm.prompt_tokens is None:
            return None, f"no measured prompt tokens for {arm.name}"
        total += arm.prompt_tokens / 1000.0 * cost.price_per_1k_input_tokens
    if cost.price_per_1k_output_tokens:
        if arm.output_tokens is None:
            return None, f"no measured output tokens for {arm.name}"
        total += arm.output_tokens / 1000.0 * cost.price_per_1k_output_tokens
    return total, None


def break_even(tuned: Measured, baseline: Measured, cost: CostSpec) -> BreakEven:
    """Whether the tuned arm's saving per request repays its training cost within the horizon."""
    ct, miss_t = cost_per_request(tuned, cost)
    cb, miss_b = cost_per_request(baseline, cost)
    training = None
    miss_train = None
    if cost.training_cost_per_hour == 0:
        training = 0.0
    elif tuned.train_seconds is None:
        miss_train = f"no training time for {tuned.name}"
    else:
        training = tuned.train_seconds / 3600.0 * cost.training_cost_per_hour
    missing = miss_t or miss_b or miss_train
    saving = cb - ct if ct is not None and cb is not None else None
    requests = days = None
    repays = False
    if missing is None and saving is not None and saving > 0:
        requests = training / saving
        days = requests / cost.requests_per_day
        repays = days <= cost.horizon_days
    return BreakEven(tuned.name, baseline.name, cost.pricing, ct, cb, saving, training, requests, days,
                     cost.requests_per_day, cost.horizon_days, repays, missing)


def _days(d: float) -> str:
    return "under a day" if d < 1 else f"{d:,.1f} days"


def _money(x: float) -> str:
    return f"${x:.2f}" if abs(x) >= 0.01 else f"${x:.2g}"


def describe_break_even(be: BreakEven) -> str:
    if be.missing:
        return f"cost of {be.arm} vs {be.baseline} unknown: {be.missing}"
    head = (f"{be.arm} costs {_money(be.cost_per_request)} per request against {_money(be.baseline_cost_per_request)} "
            f"for {be.baseline} (priced by {'measured latency' if be.pricing == 'hardware' else 'measured tokens'})")
    if not be.saving_per_request or be.saving_per_request <= 0:
        return f"{head}: no saving, so training ({_money(be.training_cost)}) is never repaid"
    where = "within" if be.repays else "beyond"
    return (f"{head}; training ({_money(be.training_cost)}) breaks even after {be.break_even_requests:,.0f} requests "
            f"({_days(be.break_even_days)} at {be.requests_per_day:,.0f} requests/day), {where} the "
            f"{be.horizon_days:,.0f}-day horizon")


