"""An arm's results keyed by everything that determines them, so a re-run with nothing changed reuses them
and loads no model: the arm's identity (settings, prompt, decoding, base weights, data), the items and
their content, the adapter it answers with, the retrieval index, and how answers are scored.

    harness run tasks/contracts.yaml              # a second time: cached arms are copied, not recomputed
    harness run tasks/contracts.yaml --no-cache   # recompute everything

An arm with failed items whose backend's failures may pass (an endpoint, a server) is not reused: a re-run
asks again.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from harness.data.examples import Example
from harness.digest import content_hash
from harness.records import Adapter
from harness.spec import BACKEND_SPECS, TaskSpec
from harness.store.database import Store

SCORING_VERSION = 1  # raise when a metric, or how failed generations are scored, changes


def result_key(identity: str, spec: TaskSpec, test: Sequence[Example], validation: Sequence[Example],
               adapter: Adapter | None, retriever: Any, seed: int) -> str:
    """The key of an arm's results; `identity` is the hash of its settings, prompt, decoding, base and data."""
    content = [
        identity,
        [[ex.id, list(ex.messages), ex.target] for ex in test],
        [[ex.id, list(ex.messages), ex.target] for ex in validation],
        adapter.hash if adapter else None,
        retriever.description.get("index") if retriever is not None else None,
        SCORING_VERSION, metric_identity(spec), spec.decision.confidence, seed,
        spec.judge.model_dump(mode="json") if spec.judge else None,
    ]
    return content_hash(content)


def metric_identity(spec: TaskSpec) -> list:
    """The task's metrics as they score: a built-in by name, an evaluate metric by its settings and script text."""
    from harness.metrics.builtin import METRICS

    return [entry if isinstance(entry, str) else [name, METRICS[name].identity]
            for entry, name in zip(spec.metrics, spec.metric_names)]


def reuse(store: Store, key: str, run_id: str, arm: str) -> tuple[dict, list[tuple[str, dict]]] | None:
    """Copy an earlier run's results for this key into this run: (the arm's details, [(companion, details)]),
    or None when no run has them."""
    found = store.cached_arm(key)
    if found is None:
        return None
    source_run, source_arm = found
    source_arms = store.arms(source_run, curve_points=True)
    source = next(row for row in source_arms if row.arm == source_arm)
    backend = ((source.config.get("arm") or {}).get("backend") or {}).get("type")
    spec = BACKEND_SPECS.get(backend or "hf")
    if source.n_failed and (spec is None or spec.failures_may_pass):  # an endpoint's or server's failures may
        return None                                                  # have passed: ask it again
    details = store.copy_arm(source_run, source_arm, run_id, arm, key)
    companions = []
    for row in source_arms:
        if row.role == "companion" and row.status == "completed" and row.config.get("merged_from") == source_arm:
            store.start_arm(run_id, row.arm, row.arm_type, "companion", row.config, row.config_hash)
            companions.append((row.arm, store.copy_arm(source_run, row.arm, run_id, row.arm, None)))
    return details, companions
