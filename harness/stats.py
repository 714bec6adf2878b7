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


def paired_difference(
    key: str,
    preds_a: Sequence[str],
    preds_b: Sequence[str],
    targets: Sequence[str],
    values_a: np.ndarray,
    values_b: np.ndarray,
    shape: OutputShape,
    confidence: float = 0.95,
    seed: int = 0,
) -> dict[str, float]:
    """Metric(b) - metric(a) on the same examples, with a paired percentile-bootstrap interval.

    The same resampled example indices are applied to both arms, so the interval reflects only how the
    two arms differ on items, not how hard the items are. `p` is the two-sided bootstrap p-value for a
    difference of zero; `se` the bootstrap standard error."""
    from harness.metrics import aggregate_key

    n = len(values_a)
    diff = aggregate_key(key, preds_b, targets, values_b, shape) - aggregate_key(key, preds_a, targets, values_a, shape)
    if n < 2:
        return {"diff": diff, "low": float("nan"), "high": float("nan"), "p": float("nan"), "se": float("nan"), "n": n}
    idx = resample_indices(n, seed)
    boot = (bootstrap_distribution(key, preds_b, targets, values_b, shape, idx)
            - bootstrap_distribution(key, preds_a, targets, values_a, shape, idx))
    alpha = (1 - confidence) / 2
    low, high = np.quantile(boot, [alpha, 1 - alpha])
    p = min(1.0, 2 * min(np.mean(boot <= 0), np.mean(boot >= 0)))
    if np.all(boot == 0):
        p = 1.0
    return {"diff": float(diff), "low": float(low), "high": float(high), "p": float(p), "se": float(np.std(boot)), "n": n}


def mcnemar_p(values_a: np.ndarray, values_b: np.ndarray) -> float | None:
    """Exact McNemar test on paired right/wrong outcomes; None when the metric is not binary."""
    a, b = np.asarray(values_a), np.asarray(values_b)
    if not (np.isin(a, (0.0, 1.0)).all() and np.isin(b, (0.0, 1.0)).all()):
        return None
    from statsmodels.stats.contingency_tables import mcnemar

    table = [[int(np.sum((a == 1) & (b == 1))), int(np.sum((a == 1) & (b == 0)))],
             [int(np.sum((a == 0) & (b == 1))), int(np.sum((a == 0) & (b == 0)))]]
    return float(mcnemar(table, exact=True).pvalue)


def holm(pvalues: Sequence[float]) -> list[float]:
    """Holm-adjusted p-values (family-wise error control over the tuned-vs-baseline comparisons)."""
    if not pvalues:
        return []
    from statsmodels.stats.multitest import multipletests

    clean = [1.0 if p != p else p for p in pvalues]
    return [float(p) for p in multipletests(clean, method="holm")[1]]


def detectable_effect(se: float, confidence: float = 0.95, power: float = 0.8) -> float:
    """Smallest true difference this comparison would detect with the given power (normal approximation)."""
    from scipy.stats import norm

    return float((norm.ppf(1 - (1 - confidence) / 2) + norm.ppf(power)) * se)
