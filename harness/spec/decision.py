"""The `decision` section of a task file: the rule that turns compared arms into GO / NO-GO / INCONCLUSIVE
(harness.verdict), the cost route's prices and volume, and the slice rule."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from harness.spec.base import Strict


class CostSpec(Strict):
    """What serving and training cost, for the second way to a GO: non-inferior and cheaper.

    Price requests either by tokens (price per 1k input and output tokens, measured per arm) or by
    serving hardware (dollars per hour times each arm's measured latency per request), not both."""

    requests_per_day: float = Field(gt=0, description="expected production volume")
    price_per_1k_input_tokens: float | None = Field(None, ge=0)
    price_per_1k_output_tokens: float | None = Field(None, ge=0)
    serving_cost_per_hour: float | None = Field(None, ge=0, description="$/hour of the serving hardware (uses measured latency)")
    training_cost_per_hour: float = Field(0.0, ge=0, description="$/hour of the training hardware")
    horizon_days: float = Field(365.0, gt=0, description="training must pay for itself within this many days")

    @model_validator(mode="after")
    def _one_pricing(self) -> CostSpec:
        tokens = self.price_per_1k_input_tokens is not None or self.price_per_1k_output_tokens is not None
        hardware = self.serving_cost_per_hour is not None
        if tokens and hardware:
            raise ValueError("give either token prices (price_per_1k_input_tokens / price_per_1k_output_tokens) "
                             "or serving_cost_per_hour, not both")
        if not tokens and not hardware:
            raise ValueError("give token prices (price_per_1k_input_tokens, price_per_1k_output_tokens) "
                             "or serving_cost_per_hour")
        return self

    @property
    def pricing(self) -> str:
        return "hardware" if self.serving_cost_per_hour is not None else "tokens"


class DecisionSpec(Strict):
    primary_metric: str
    min_lift: float = Field(0.0, ge=0.0, lt=1.0, description="smallest gain on the primary metric worth tuning for "
                                                            "(metrics are on a 0-1 scale)")
    confidence: float = Field(0.95, gt=0.5, lt=1.0)
    expected_lift: float | None = Field(
        None, gt=0.0, le=1.0, description="true lift assumed for 'items needed' when the observed lift does not exceed "
                                          "min_lift (default min_lift + 0.05)")
    non_inferiority_margin: float | None = Field(
        None, ge=0.0, le=1.0, description="a tuned arm this close to the baseline (or better) and cheaper may also win")
    cost: CostSpec | None = None
    max_failed_share: float = Field(
        0.05, ge=0.0, lt=1.0, description="largest share of test items whose generation may fail (after retries) in an "
                                          "arm the verdict compares; above it the verdict is INCONCLUSIVE")
    max_slice_drop: float = Field(
        0.10, gt=0.0, lt=1.0, description="a slice (JSON field, gold label, value of a data field in data.slices) where "
                                          "the tuned arm is significantly worse than the baseline by more than this "
                                          "is named in the reasons")
    slices: Literal["warn", "block"] = Field(
        "warn", description="warn: such a slice is named; block: it also turns a GO into INCONCLUSIVE")

    @model_validator(mode="after")
    def _cost_route(self) -> DecisionSpec:
        if (self.non_inferiority_margin is None) != (self.cost is None):
            missing = "cost" if self.cost is None else "non_inferiority_margin"
            raise ValueError(f"non_inferiority_margin and cost go together (GO on cost needs both); {missing} is missing")
        if self.expected_lift is not None and self.expected_lift <= self.min_lift:
            raise ValueError(f"expected_lift must exceed min_lift ({self.min_lift}), got {self.expected_lift}")
        return self
