"""The general-capability suite on the base model and on every tuned model of a run, each result kept in the
store under a key of everything that determines it (base weights, adapter, merge, suite items), so a model
is scored once: the base model's result is reused by every later run on the same weights.

    harness run tasks/contracts.yaml      # `regression:` in the task file turns it on
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable
from dataclasses import asdict
from pathlib import Path
from typing import Any

import numpy as np

from harness.backends import Generator
from harness.backends.pool import Generators
from harness.digest import content_hash
from harness.records import Adapter
from harness.regression.choice import score_choices
from harness.regression.items import category_subset, load_items
from harness.regression.suite import SUITE_VERSION, SuiteConfig, SuitePlan, run_suite, scored_by
from harness.spec import RegressionSpec
from harness.store.database import Store

BASE = "base"  # the name the base model's result is linked under in a run


def suite_config(spec: RegressionSpec) -> SuiteConfig:
    return SuiteConfig(mmlu_items=spec.mmlu_items, general_items=spec.general_items, probes=bool(spec.probes),
                       perplexity_docs=spec.perplexity_docs, seed=spec.seed)


def _lm_eval_identity(spec: RegressionSpec, include: Path | None) -> list:
    """The lm-eval tasks, their limit and the content of a local task folder (its YAML and data files)."""
    files = []
    if include is not None:
        for path in sorted(p for p in include.rglob("*") if p.is_file()):
            files.append([str(path.relative_to(include)), hashlib.sha256(path.read_bytes()).hexdigest()])
    return [list(spec.lm_eval_tasks), spec.lm_eval_limit, files]


def suite_key(base_hash: str, adapter: Adapter | None, merged: bool, plan: SuitePlan, lm_eval: list | None = None,
              backend: dict | None = None) -> str:
    """Everything that determines a model's suite rows; `backend` (its name and version) only where it is not hf,
    so base-model results scored before backends could be named are still found."""
    identity = [base_hash, adapter.hash if adapter else None, merged, SUITE_VERSION, plan.fingerprint(), lm_eval or []]
    if backend is not None and backend.get("backend") != "hf":
        identity.append(backend)
    return content_hash(identity)



class SuiteRuns:
    """Scores (or finds in the store) the suite for each model a run produced, and links it to the run's arms."""

    def __init__(self, spec: RegressionSpec, plan: SuitePlan, generators: Generators, store: Store, run_id: str,
                 tracker: Callable[[str, int], Callable[[int], None]], lm_eval_include: Path | None = None):
        self.spec = spec
        self.plan = plan
        self.generators = generators
        self.store = store
        self.run_id = run_id
        self.tracker = tracker
        self.lm_eval_include = lm_eval_include
        self.lm_eval = _lm_eval_identity(spec, lm_eval_include) if spec.lm_eval_tasks else []
        self.scored_here: set[str] = set()

    def score(self, arms: list[str], adapter: Adapter | None = None, merged_dir: Path | None = None) -> str:
        """The suite key of the model (base, base + adapter, or merged), scoring it only if no run has."""
        backend = self.spec.backend
        key = suite_key(self.generators.base.weights_hash, adapter, merged_dir is not None, self.plan, self.lm_eval,
                        self.generators.identity(backend))
        reused = self.store.has_suite(key) and key not in self.scored_here  # scored by an earlier run
        if not self.store.has_suite(key):
            label = BASE if adapter is None else f"{adapter.arm}{' merged' if merged_dir else ''}"
            generator: Generator = (self.generators.merged(adapter, merged_dir, backend) if merged_dir is not None and adapter
                                    else self.generators.get(backend, adapter=adapter))
            began = time.perf_counter()
            result = run_suite(generator, self.plan, self.tracker(f"regression suite: {label}", self.plan.total_steps()))
            rows = [asdict(r) for r in result.rows]
            if self.spec.lm_eval_tasks:
                from harness.regression.lm_eval_tasks import run_lm_eval

                rows += run_lm_eval(generator, list(self.spec.lm_eval_tasks),
                                    str(self.lm_eval_include) if self.lm_eval_include else None, self.spec.lm_eval_limit)
            self.scored_here.add(key)
            self.store.save_suite(key, {
                "model": label, "base_hash": self.generators.base.weights_hash,
                "adapter_hash": adapter.hash if adapter else None, "merged": merged_dir is not None,
                "suite_version": result.version, "fingerprint": result.fingerprint,
                "seconds": time.perf_counter() - began,
            }, rows, [asdict(d) for d in result.documents])
        for arm in arms:
            self.store.link_suite(self.run_id, arm, key, reused)
        return key

    def trial_probe(self) -> Callable[[Generator, Any], float] | None:
        """A cheap forgetting measure for sweep trials: accuracy on a seeded subset of the general items, the
        trial's model minus the base model (what the report plots against the validation metric), both scored
        on the backend that scores the trial."""
        n = self.spec.trial_items
        if not n:
            return None
        items = category_subset(load_items(), n, self.spec.seed)
        base: dict[str, float] = {}  # per backend

        def accuracy(generator: Generator) -> float:
            return float(np.mean([s.acc for s in score_choices(items, scored_by(generator))]))

        def probe(generator: Generator, backend: Any) -> float:
            key = content_hash(backend.model_dump(mode="json"))
            if key not in base:
                base[key] = accuracy(self.generators.get(backend))
            return accuracy(generator) - base[key]

        return probe
