"""Uncertainty for metrics and for paired comparisons of two arms on the same test items.

- Per-arm intervals: percentile bootstrap over examples, for any metric's aggregate (`bootstrap_ci`).
- Paired differences of 0/1 per-item metrics averaged into a proportion (accuracy, exact match):
  Tango's score test and interval for the difference of paired proportions (`paired_binary`). It
  uses only the discordant counts, keeps its coverage at small n and near 0 or 1, and is never
  degenerate: with no discordant item it still has width about z^2 / (n + z^2).
- Paired differences of anything else (continuous per-item values, macro-F1): paired percentile
  bootstrap (`paired_bootstrap`), stratified by gold label for macro-F1 so that every resample keeps
  every label; the caller must not trust it when few items differ (`MIN_DIFFERING`).
- Planning: the smallest n at which a GO is possible at all (`binary_min_n`) and the n at which a
  true lift gives GO with 80% probability (`binary_items_needed`, `bootstrap_items_needed`).

Every test here is one-sided with its own error rate, so that a caller can spend the error differently
on the GO side (family-wise over tuned arms) and the NO-GO side (intersection-union, no correction).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from statistics import NormalDist

import numpy as np

from harness.metrics.builtin import METRICS, OutputShape, parse_label

N_RESAMPLES = 1000  # per-arm intervals (bootstrap_ci)
N_PAIRED_RESAMPLES = 4000  # paired comparisons: the tails reach (1 - confidence) / (2 * arms)
MIN_DIFFERING = 10  # a paired bootstrap with fewer items on which the arms differ gives no GO / NO-GO
INVALID_LABEL = "<invalid>"


# ---------------------------------------------------------------- per-arm bootstrap


def resample_indices(n: int, seed: int, n_resamples: int = N_RESAMPLES) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, n, size=(n_resamples, n))


def stratified_resample_indices(groups: Sequence[object], seed: int, n_resamples: int = N_RESAMPLES) -> np.ndarray:
    """Resampled example indices, drawn with replacement within each group (gold label), so that every
    resample has each group exactly as often as the sample: a label is never lost from a resample."""
    rng = np.random.default_rng(seed)
    groups = np.asarray([str(g) for g in groups], dtype=object)
    columns = []
    for g in sorted(set(groups)):
        members = np.flatnonzero(groups == g)
        columns.append(members[rng.integers(0, len(members), size=(n_resamples, len(members)))])
    return np.concatenate(columns, axis=1) if columns else np.zeros((n_resamples, 0), dtype=int)


def _gold_labels(targets: Sequence[str], shape: OutputShape) -> list[str]:
    return [parse_label(t, shape.labels) or INVALID_LABEL for t in targets]


def _macro_f1_rows(preds: Sequence[str], targets: Sequence[str], shape: OutputShape, idx: np.ndarray) -> np.ndarray:
    """metrics' macro-F1 (declared labels present in the gold answers of the resample), for every row of idx
    at once, from confusion counts instead of one scikit-learn call per resample."""
    labels = list(shape.labels)
    code = {label: i for i, label in enumerate(labels)}
    k = len(labels) + 1  # the last code: no declared label
    t = np.array([code.get(parse_label(x, shape.labels), k - 1) for x in targets], dtype=np.int64)
    p = np.array([code.get(parse_label(x, shape.labels), k - 1) for x in preds], dtype=np.int64)
    r = idx.shape[0]
    flat = (np.arange(r)[:, None] * k * k + t[idx] * k + p[idx]).ravel()
    conf = np.bincount(flat, minlength=r * k * k).reshape(r, k, k)[:, : k - 1, : k - 1]
    tp = np.diagonal(conf, axis1=1, axis2=2).astype(float)
    gold = np.bincount((np.arange(r)[:, None] * k + t[idx]).ravel(), minlength=r * k).reshape(r, k)[:, : k - 1]
    pred = np.bincount((np.arange(r)[:, None] * k + p[idx]).ravel(), minlength=r * k).reshape(r, k)[:, : k - 1]
    denom = gold + pred  # 2tp + fp + fn
    f1 = np.divide(2 * tp, denom, out=np.zeros_like(tp), where=denom > 0)
    present = gold > 0
    counts = present.sum(axis=1)
    return np.divide((f1 * present).sum(axis=1), counts, out=np.zeros(r), where=counts > 0)


def bootstrap_distribution(
    key: str, preds: Sequence[str], targets: Sequence[str], values: np.ndarray, shape: OutputShape, idx: np.ndarray
) -> np.ndarray:
    """The metric's aggregate over each row of resampled indices."""
    metric = METRICS[key.split(".")[0]]
    if metric.averaged:
        return np.asarray(values, dtype=float)[idx].mean(axis=1)
    if metric.name == "macro_f1" and shape.labels:
        return _macro_f1_rows(preds, targets, shape, idx)
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
    cap = METRICS[key.split(".")[0]].max_resamples if key.split(".")[0] in METRICS else None
    idx = resample_indices(len(values), seed, min(N_RESAMPLES, cap or N_RESAMPLES))
    dist = bootstrap_distribution(key, preds, targets, values, shape, idx)
    alpha = (1 - confidence) / 2
    low, high = np.quantile(dist, [alpha, 1 - alpha])
    return float(low), float(high)


# ---------------------------------------------------------------- paired comparisons


@dataclass(frozen=True)
class Paired:
    """One paired comparison: `diff` is the lift (positive = the second arm is better), [low, high] the
    bounds with one-sided error rates alpha_low and alpha_high, `p` the one-sided p-value for
    H0: lift <= delta0."""

    diff: float
    low: float
    high: float
    p: float
    se: float
    n: int
    differing: int
    method: str
    wins: int | None = None  # binary only: items the second arm gets right and the first wrong
    losses: int | None = None


def is_binary(*arrays: np.ndarray) -> bool:
    return all(len(a) > 0 and np.isin(np.asarray(a, dtype=float), (0.0, 1.0)).all() for a in arrays)


def tango_z(b: float, c: float, n: float, delta0: float) -> float:
    """Tango's (1998) score statistic for H0: p_b - p_c = delta0, where b counts the items only the
    second arm gets right and c the items only the first arm gets right, among n paired items. Large
    values speak for a difference above delta0. The null variance uses the restricted MLE of p_c."""
    if n <= 0:
        return 0.0
    num = b - c - n * delta0
    w = -b - c + (2 * n - b + c) * delta0
    disc = w * w + 8 * n * c * delta0 * (1 - delta0)
    pc = max(0.0, (math.sqrt(max(disc, 0.0)) - w) / (4 * n))
    var = n * (2 * pc + delta0 * (1 - delta0))
    if var <= 1e-300:
        if abs(num) < 1e-12:
            return 0.0
        return math.inf if num > 0 else -math.inf
    return num / math.sqrt(var)


_NORMAL = NormalDist()


def z_of(alpha: float) -> float:
    """The standard normal quantile with upper-tail probability alpha."""
    return _NORMAL.inv_cdf(1 - alpha)


def tango_bound(b: int, c: int, n: int, alpha: float, upper: bool) -> float:
    """One-sided (1 - alpha) score bound for the difference of paired proportions: the lower bound is the
    smallest delta0 that the one-sided test at level alpha does not reject, the upper bound the largest."""
    from scipy.optimize import brentq

    if n <= 0:
        return 1.0 if upper else -1.0
    z = z_of(alpha)
    d = (b - c) / n
    eps = 1e-12
    if upper:  # tango_z decreases in delta0; find where it falls to -z
        f = lambda x: tango_z(b, c, n, x) + z  # noqa: E731
        hi = 1.0 - eps
        if f(hi) >= 0:
            return 1.0
        return float(brentq(f, min(d, hi - eps), hi, xtol=1e-10))
    f = lambda x: tango_z(b, c, n, x) - z  # noqa: E731
    lo = -1.0 + eps
    if f(lo) <= 0:
        return -1.0
    return float(brentq(f, lo, max(d, lo + eps), xtol=1e-10))


def paired_binary(first: np.ndarray, second: np.ndarray, delta0: float, alpha_low: float, alpha_high: float) -> Paired:
    """Mean(second) - mean(first) for 0/1 per-item values, with Tango's score bounds and the one-sided
    score-test p-value for H0: difference <= delta0."""
    a, t = np.asarray(first, dtype=float), np.asarray(second, dtype=float)
    n = len(a)
    b = int(np.sum((t == 1) & (a == 0)))
    c = int(np.sum((t == 0) & (a == 1)))
    diff = (b - c) / n if n else float("nan")
    low = tango_bound(b, c, n, alpha_low, upper=False)
    high = tango_bound(b, c, n, alpha_high, upper=True)
    p = _NORMAL.cdf(-tango_z(b, c, n, delta0))
    se = math.sqrt(max((b + c) / n - diff**2, 0.0) / n) if n else float("nan")
    return Paired(float(diff), low, high, p, se, n, b + c, "tango-score", b, c)


def paired_resample_indices(key: str, targets: Sequence[str], shape: OutputShape, seed: int,
                            n_resamples: int) -> np.ndarray:
    """Resampled item indices as a paired comparison draws them, the same for every arm it compares: within
    each gold label for macro-F1 (every resample keeps every label), else over all items."""
    if METRICS[key.split(".")[0]].name == "macro_f1" and shape.labels:
        return stratified_resample_indices(_gold_labels(targets, shape), seed, n_resamples)
    return resample_indices(len(targets), seed, n_resamples)


def paired_bootstrap(
    key: str,
    preds_first: Sequence[str],
    preds_second: Sequence[str],
    targets: Sequence[str],
    values_first: np.ndarray,
    values_second: np.ndarray,
    shape: OutputShape,
    delta0: float,
    alpha_low: float,
    alpha_high: float,
    seed: int = 0,
    sign: float = 1.0,
    n_resamples: int = N_PAIRED_RESAMPLES,
) -> Paired:
    """sign * (metric(second) - metric(first)) on the same items, with paired percentile-bootstrap bounds.

    The same resampled items are applied to both arms, so the bounds reflect how the arms differ on items,
    not how hard the items are. Macro-F1 is resampled within each gold label. `p` is the bootstrap share of
    resampled lifts at or below delta0; `differing` counts the items whose values or answers differ."""
    from harness.metrics.builtin import aggregate_key

    va, vb = np.asarray(values_first, dtype=float), np.asarray(values_second, dtype=float)
    n = len(va)
    metric = METRICS[key.split(".")[0]]
    n_resamples = min(n_resamples, metric.max_resamples or n_resamples)
    diff = sign * (aggregate_key(key, preds_second, targets, vb, shape) - aggregate_key(key, preds_first, targets, va, shape))
    differing = int(np.sum((va != vb) & ~(np.isnan(va) & np.isnan(vb))))  # NaN: an item an aggregate cannot score alone
    stratified = metric.name == "macro_f1" and bool(shape.labels)
    if not metric.averaged:
        if stratified:
            pa = [parse_label(x, shape.labels) for x in preds_first]
            pb = [parse_label(x, shape.labels) for x in preds_second]
            differing = sum(x != y for x, y in zip(pa, pb))
        else:
            differing = max(differing, sum(x != y for x, y in zip(preds_first, preds_second)))
    method = "paired-bootstrap-stratified" if stratified else "paired-bootstrap"
    if n < 2:
        nan = float("nan")
        return Paired(float(diff), nan, nan, nan, nan, n, differing, method)
    idx = paired_resample_indices(key, targets, shape, seed, n_resamples)
    boot = sign * (bootstrap_distribution(key, preds_second, targets, vb, shape, idx)
                   - bootstrap_distribution(key, preds_first, targets, va, shape, idx))
    low = float(np.quantile(boot, alpha_low))
    high = float(np.quantile(boot, 1 - alpha_high))
    p = float(np.mean(boot <= delta0))
    return Paired(float(diff), low, high, p, float(np.std(boot)), n, differing, method)


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
    """Holm-adjusted p-values (family-wise error control over the tuned-vs-baseline comparisons); the same
    numbers as statsmodels' multipletests(method="holm"), which runs a full garbage collection per call and is
    too slow for the calibration simulations. NaN counts as 1."""
    clean = np.array([1.0 if math.isnan(p) else float(p) for p in pvalues])
    m = len(clean)
    if m == 0:
        return []
    order = np.argsort(clean, kind="stable")
    stepped = np.minimum(1.0, np.maximum.accumulate((m - np.arange(m)) * clean[order]))
    out = np.empty(m)
    out[order] = stepped
    return [float(p) for p in out]


# ---------------------------------------------------------------- planning


@lru_cache(maxsize=256)
def binary_min_n(delta0: float, alpha: float) -> int:
    """Smallest n at which the one-sided score test at level alpha can reject H0: lift <= delta0 at all,
    i.e. at which a tuned arm winning every item (complete discordance) would clear delta0. Below it a
    GO is impossible, so the test set is too small to decide either way. Closed form of Tango's z with
    b = n, c = 0: z = sqrt(n (1 - d0) / (1 + d0))."""
    if delta0 >= 1:
        return 10**9
    z = z_of(alpha)
    n = max(1, math.ceil(z * z * (1 + delta0) / (1 - delta0)))
    while tango_z(n, 0, n, delta0) <= z:
        n += 1
    return n


def _restricted_pc(p_win: float, p_loss: float, delta0: float) -> float:
    w = -p_win - p_loss + (2 - p_win + p_loss) * delta0
    return max(0.0, (math.sqrt(max(w * w + 8 * p_loss * delta0 * (1 - delta0), 0.0)) - w) / 4)


def binary_power(n: int, p_win: float, p_loss: float, delta0: float, alpha: float) -> float:
    """Normal-approximation probability that the score test rejects H0: lift <= delta0 at level alpha, with
    n items whose chance of being a win (second arm only right) is p_win and a loss p_loss."""
    delta = p_win - p_loss
    s0 = math.sqrt(2 * _restricted_pc(p_win, p_loss, delta0) + delta0 * (1 - delta0))
    s1 = math.sqrt(max(p_win + p_loss - delta * delta, 1e-12))
    return _NORMAL.cdf((math.sqrt(n) * (delta - delta0) - z_of(alpha) * s0) / s1)


def binary_power_exact(n: int, p_win: float, p_loss: float, delta0: float, alpha: float) -> float:
    """Exact probability of the same event, summing the multinomial law of (wins, losses)."""
    from scipy.stats import binom

    z = z_of(alpha)
    total = 0.0
    rest = max(1e-300, 1 - p_win)
    for b in range(n + 1):
        pb = binom.pmf(b, n, p_win)
        if pb < 1e-14:
            continue
        cs = np.arange(n - b + 1)
        ok = np.array([tango_z(b, c, n, delta0) > z for c in cs])
        if ok.any():
            total += pb * float(binom.pmf(cs[ok], n - b, min(1.0, p_loss / rest)).sum())
    return total


def binary_items_needed(p_win: float, p_loss: float, delta0: float, alpha: float, power: float = 0.8) -> int | None:
    """Test-set size at which the score test gives GO (rejects lift <= delta0 at one-sided level alpha) with
    probability `power`, for items that are wins with probability p_win and losses with p_loss. None when
    the lift p_win - p_loss does not exceed delta0 (then no n does)."""
    delta = p_win - p_loss
    if delta <= delta0:
        return None
    s0 = math.sqrt(2 * _restricted_pc(p_win, p_loss, delta0) + delta0 * (1 - delta0))
    s1 = math.sqrt(max(p_win + p_loss - delta * delta, 0.0))
    n = ((z_of(alpha) * s0 + z_of(1 - power) * s1) / (delta - delta0)) ** 2
    return max(math.ceil(n), binary_min_n(delta0, alpha))


def bootstrap_items_needed(sd: float, delta: float, delta0: float, alpha: float, power: float = 0.8) -> int | None:
    """Test-set size at which a paired comparison with per-item standard deviation `sd` of the difference
    gives GO with probability `power` when the true lift is delta (normal approximation)."""
    if delta <= delta0 or not sd > 0:
        return None
    return math.ceil(((z_of(alpha) + z_of(1 - power)) * sd / (delta - delta0)) ** 2)
