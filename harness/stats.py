"""Uncertainty for metrics: percentile bootstrap over examples, for any metric's aggregate.

Resampling examples (not predictions) keeps arms paired: the same resampled indices are applied to
every arm when two arms are compared.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from harness.metrics import METRICS, OutputShape

N_RESAMPLES = 1000


def resample_indices(n: int, seed: int, n_resamples: int = N_RESAMPLES) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, n, size=(n_resamples, n))


def bootstrap_distribution(
    key: str, preds: Sequence[str], targets: Sequence[str], values: np.ndarray, shape: OutputShape, idx: np.ndarray
) -> np.ndarray:
    """The metric's aggregate over each row of resampled indices."""
    metric = METRICS[key.split(".")[0]]
    if metric.averaged:
        return values[idx].mean(axis=1)
    agg = metric.aggregate
    p, t = np.asarray(preds, dtype=object), np.asarray(targets, dtype=object)
    return np.array([agg(p[row], t[row], values[row], shape) for row in idx])


def bootstrap_ci(
    key: str,
    preds: Sequence[str],
    targets: Sequence[str],
    values: np.ndarray,
    shape: OutputShape,
    confidence: float = 0.95,
    seed: int = 0,
) -> tuple[float, float]:
    if len(values) < 2:
        return (float("nan"), float("nan"))
    dist = bootstrap_distribution(key, preds, targets, values, shape, resample_indices(len(values), seed))
    alpha = (1 - confidence) / 2
    low, high = np.quantile(dist, [alpha, 1 - alpha])
    return float(low), float(high)
