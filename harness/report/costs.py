"""The report's cost section: each arm's cost per 1k requests and latency, and when the tuned arm's saving
repays its training (the break-even chart). Latency, tokens and training time are measured in the run; prices
and volume are the task's `decision.cost` inputs, and what is missing is named rather than guessed."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from harness.spec import CostSpec
from harness.verdict.cost import BreakEven, break_even, cost_per_request, describe_break_even
from harness.verdict.decision import ArmResult

COST_FIELDS = "decision.cost: requests_per_day and either price_per_1k_input_tokens / price_per_1k_output_tokens " \
              "or serving_cost_per_hour (training_cost_per_hour for the training side)"


@dataclass(frozen=True)
class ArmCost:
    arm: str
    role: str
    latency_s: float | None
    prompt_tokens: float | None
    output_tokens: float | None
    train_seconds: float | None
    per_1k: float | None  # dollars per 1,000 requests
    missing: str | None


@dataclass(frozen=True)
class CostView:
    rows: list[ArmCost]
    cost: CostSpec | None
    break_even: BreakEven | None
    summary: str | None
    chart: Any  # Markup (SVG) or None
    missing: str | None  # why there is no chart


def cost_view(results: list[ArmResult], cost: CostSpec | None, pair: tuple[str, str] | None) -> CostView:
    """Costs of every arm; the break-even of `pair`, (the tuned arm the verdict is about, its baseline)."""
    from harness.report.charts import break_even_chart

    rows = []
    for r in results:
        per_request, missing = cost_per_request(r, cost) if cost else (None, f"no cost inputs ({COST_FIELDS})")
        rows.append(ArmCost(r.name, r.role, r.latency_s, r.prompt_tokens, r.output_tokens, r.train_seconds,
                            per_request * 1000 if per_request is not None else None, missing))
    if cost is None:
        return CostView(rows, None, None, None, None, f"no break-even without cost inputs: add {COST_FIELDS}")
    if pair is None:
        return CostView(rows, cost, None, None, None, "no break-even: no tuned arm was compared with a baseline")
    by_name = {r.name: r for r in results}
    be = break_even(by_name[pair[0]], by_name[pair[1]], cost)
    if be.missing:
        return CostView(rows, cost, be, describe_break_even(be), None, be.missing)
    chart = break_even_chart(tuned=be.arm, baseline=be.baseline, tuned_cost_per_request=be.cost_per_request,
                             baseline_cost_per_request=be.baseline_cost_per_request, training_cost=be.training_cost,
                             requests_per_day=be.requests_per_day, horizon_days=be.horizon_days)
    return CostView(rows, cost, be, describe_break_even(be), chart, None)
