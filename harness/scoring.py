"""Score an arm's predictions: every example, every metric, plus aggregates with bootstrap intervals.

A prediction whose generation failed is scored as an empty answer, so failures lower the score instead
of vanishing from it; the failure count is stored beside every aggregate.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from harness.arms import Prediction
from harness.data import Example
from harness.metrics import METRICS, aggregate_key, score_example
from harness.spec import TaskSpec
from harness.stats import bootstrap_ci


def metric_keys(spec: TaskSpec) -> list[str]:
    shape = spec.output_shape()
    return [key for name in spec.metrics for key in METRICS[name].keys(shape)]


def score_predictions(
    spec: TaskSpec,
    examples: Sequence[Example],
    predictions: Sequence[Prediction],
    advance: Callable[[int], None] = lambda n: None,
    seed: int = 0,
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """(per-example score rows, aggregate metric rows) for predictions aligned with examples."""
    by_id = {p.example_id: p for p in predictions}
    missing = [ex.id for ex in examples if ex.id not in by_id]
    if missing:
        raise RuntimeError(f"arm returned no prediction for {len(missing)} examples, e.g. {missing[:3]}")
    shape = spec.output_shape()
    keys = metric_keys(spec)
    preds = [by_id[ex.id].output if not by_id[ex.id].error else "" for ex in examples]
    targets = [ex.target for ex in examples]
    rows, table = [], {k: [] for k in keys}
    for ex, pred in zip(examples, preds):
        values = score_example(spec.metrics, pred, ex.target, shape)
        for key in keys:
            rows.append({"example_id": ex.id, "metric": key, "value": values[key]})
            table[key].append(values[key])
        advance(1)
    n_failed = sum(1 for ex in examples if by_id[ex.id].error)
    confidence = spec.decision.confidence
    metrics = []
    for key in keys:
        values = np.asarray(table[key], dtype=float)
        low, high = bootstrap_ci(key, preds, targets, values, shape, confidence, seed)
        metrics.append({
            "metric": key,
            "value": aggregate_key(key, preds, targets, values, shape),
            "ci_low": low,
            "ci_high": high,
            "n": len(examples),
            "n_failed": n_failed,
        })
    return rows, metrics
