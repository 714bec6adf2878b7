"""The general-capability suite's settings in a task file: what it scores, on which backend, and the fall it
tolerates; `SuiteSizes` is also what a profile may shrink."""

from __future__ import annotations

from pydantic import Field

from harness.spec.backends import Backend, HFBackend
from harness.spec.base import Seed, Strict


class SuiteSizes(Strict):
    """How much of the general-capability suite to score (a profile may shrink it)."""

    mmlu_items: int | None = Field(None, ge=0, description="seeded, subject-stratified MMLU test items (0: none)")
    general_items: int | None = Field(None, ge=0, description="the project's own items, harness/regression/general (default: all)")
    perplexity_docs: int | None = Field(None, ge=0, description="State of the Union documents for perplexity")
    probes: bool | None = Field(None, description="format probes that generate")
    trial_items: int | None = Field(None, ge=0, description="general items each sweep trial is scored on (0: none)")


class RegressionSpec(SuiteSizes):
    """General-capability regression checks: the base model and every tuned model on the same real items.

    A tuned arm whose suite accuracy falls significantly more than `max_drop` below the base model's (overall,
    or in any category, corrected for the number of categories) cannot be GO."""

    mmlu_items: int | None = Field(200, ge=0)
    general_items: int | None = Field(None, ge=0)
    perplexity_docs: int | None = Field(32, ge=0)
    probes: bool | None = True
    trial_items: int | None = Field(40, ge=0)
    backend: Backend = Field(default_factory=HFBackend, description="what scores the suite (hf or vllm)")
    lm_eval_tasks: list[str] = Field(default_factory=list, description="named lm-evaluation-harness tasks (log-likelihood "
                                     "ones, e.g. arc_easy, piqa, hellaswag: they need the hub) scored like the suite")
    lm_eval_include: str | None = Field(None, min_length=1, description="a folder of local lm-eval task YAMLs (relative to the task file)")
    lm_eval_limit: int | None = Field(None, ge=1, description="the first N documents of each lm-eval task")
    max_drop: float = Field(0.02, ge=0.0, le=1.0, description="tolerated fall of suite accuracy, tuned vs base")
    min_probe_pass_rate: float | None = Field(None, ge=0.0, le=1.0, description="a tuned model below it cannot be GO")
    seed: Seed = 0

    def needs(self, merged: bool) -> list[str]:
        """The capabilities scoring the suite takes from its backend (the tuned models carry adapters)."""
        needs = ["loglikelihood", "adapters"] + (["merged"] if merged else [])
        if self.perplexity_docs != 0:
            needs.append("token_losses")
        if self.probes:
            needs.append("generate")
        return needs

    def sized(self, sizes: SuiteSizes | None) -> RegressionSpec:
        """These settings with a profile's sizes in place of the task's."""
        if sizes is None:
            return self
        return self.model_copy(update={k: v for k, v in sizes.model_dump().items() if v is not None})
