"""How many training examples until tuning pays: a saturating curve fitted to a tuned arm's learning-curve
points, its uncertainty from a paired bootstrap over the test items, and where it crosses the best baseline
plus min_lift.

    harness run tasks/support_tickets.yaml --curve

On the scale where higher is better (a lower-is-better metric is negated) the curve is an inverse power law
rising to an asymptote, y(n) = a - b * n^-c, with b >= 0, c in [C_LOW, C_HIGH] and a no higher than the
metric's best value (1 for a metric whose item scores lie in [0, 1]). It is fitted by least squares to each
training size's mean score, by variable projection: for a fixed c the model is linear in (a, b) and solved in
closed form under its bounds; c is searched on a grid and refined by golden-section search, for every bootstrap
resample at once. It finds the minimum scipy's bounded least squares finds (tests/test_curve_fit.py) and does a
thousand refits in milliseconds, which the interval and its coverage simulation need.

Uncertainty: each resample draws the test items with replacement (within gold labels for macro-F1, as the
verdict does), the same items for every point and for the baseline, and draws each size's seeds with
replacement when a size has several; the curve is refitted and its crossing recomputed. The crossing's
interval is the percentile interval at the rule's confidence, the band is pointwise. Nothing is extrapolated
beyond MAX_EXTRAPOLATION times the largest point.

Numbers first (`analyse` -> `CurveAnalysis`), words second (`sentence`, `rule_of_thumb`).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field, fields
from typing import Any

import numpy as np

from harness.metrics.builtin import METRICS, OutputShape, higher_is_better
from harness.records import json_safe
from harness.verdict.stats import bootstrap_distribution, paired_resample_indices

C_LOW, C_HIGH = 0.02, 3.0  # the power law's exponent: from nearly log-linear to a sharp knee
C_GRID = np.geomspace(C_LOW, C_HIGH, 97)  # neighbours 5% apart; golden-section search refines
GOLDEN_STEPS = 24
MAX_EXTRAPOLATION = 4.0  # never say more than this many times the largest point
MIN_SIZES = 3  # a three-parameter curve needs three training sizes
N_CURVE_RESAMPLES = 1000
BAND_POINTS = 48
KINDS = ("already", "reached", "crossing", "not_reached", "no_fit")


# ---------------------------------------------------------------- the fit


def _edge_fits(x: np.ndarray, y: np.ndarray, ceiling: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Least squares of y = a - b * x over the last axis with b >= 0 and a <= ceiling, as (a, b, sse).

    A convex quadratic on a box: the unconstrained optimum when it is feasible, else the best optimum on an
    edge (b = 0, or a = ceiling)."""
    xm, ym = x.mean(-1, keepdims=True), y.mean(-1, keepdims=True)
    dx, dy = x - xm, y - ym
    sxx, sxy = (dx * dx).sum(-1), (dx * dy).sum(-1)
    b_free = np.where(sxx > 0, -sxy / np.where(sxx > 0, sxx, 1.0), 0.0)
    a_free = ym[..., 0] + b_free * xm[..., 0]
    zero = np.zeros_like(b_free)
    candidates = [(a_free, b_free, (b_free >= 0) & (a_free <= ceiling)),
                  (np.minimum(ym[..., 0] + zero, ceiling), zero, np.ones_like(b_free, dtype=bool))]
    if math.isfinite(ceiling):
        b_top = np.maximum((x * (ceiling - y)).sum(-1) / (x * x).sum(-1), 0.0) + zero
        candidates.append((np.full_like(b_free, ceiling), b_top, np.ones_like(b_free, dtype=bool)))
    best_a, best_b, best = zero, zero, np.full_like(b_free, np.inf)
    for a, b, feasible in candidates:
        sse = np.where(feasible, ((y - a[..., None] + b[..., None] * x) ** 2).sum(-1), np.inf)
        better = sse < best
        best_a, best_b, best = np.where(better, a, best_a), np.where(better, b, best_b), np.where(better, sse, best)
    return best_a, best_b, best


def fit_curves(sizes: Sequence[float], values: np.ndarray, ceiling: float = math.inf) -> np.ndarray:
    """(a, b, c) of y = a - b * n^-c fitted to each row of `values` (rows x sizes), as a rows x 3 array."""
    log_n = np.log(np.asarray(sizes, dtype=float))
    y = np.atleast_2d(np.asarray(values, dtype=float))
    rows = np.arange(len(y))

    def sse_at(c: np.ndarray) -> np.ndarray:
        return _edge_fits(np.exp(-c[:, None] * log_n), y, ceiling)[2]

    grid_x = np.exp(-C_GRID[:, None] * log_n)  # grid x sizes
    sse = _edge_fits(grid_x[None], y[:, None, :], ceiling)[2]  # rows x grid
    g = sse.argmin(1)
    lo, hi = C_GRID[np.maximum(g - 1, 0)], C_GRID[np.minimum(g + 1, len(C_GRID) - 1)]
    shrink = (math.sqrt(5) - 1) / 2
    c1, c2 = hi - shrink * (hi - lo), lo + shrink * (hi - lo)
    f1, f2 = sse_at(c1), sse_at(c2)
    for _ in range(GOLDEN_STEPS):
        left = f1 < f2  # the minimum lies in [lo, c2]
        lo, hi = np.where(left, lo, c1), np.where(left, c2, hi)
        new = np.where(left, hi - shrink * (hi - lo), lo + shrink * (hi - lo))
        f_new = sse_at(new)
        c1, c2, f1, f2 = (np.where(left, new, c2), np.where(left, c1, new),
                          np.where(left, f_new, f2), np.where(left, f1, f_new))
    refined = (lo + hi) / 2
    c = np.where(sse_at(refined) <= sse[rows, g], refined, C_GRID[g])
    a, b, _ = _edge_fits(np.exp(-c[:, None] * log_n), y, ceiling)
    return np.stack([a, b, c], axis=1)


def curve_values(params: np.ndarray, n: Sequence[float]) -> np.ndarray:
    """y(n) for each fitted row (rows x len(n))."""
    a, b, c = (np.atleast_2d(params)[:, i : i + 1] for i in range(3))
    return a - b * np.exp(-c * np.log(np.asarray(n, dtype=float))[None, :])


def crossings(params: np.ndarray, target: np.ndarray | float) -> np.ndarray:
    """The n at which each fitted curve reaches `target` (same scale): 0 when it is there from the start,
    inf when its asymptote is not above the target."""
    a, b, c = (np.atleast_2d(params)[:, i] for i in range(3))
    target = np.broadcast_to(np.asarray(target, dtype=float), a.shape)
    gap = a - target
    with np.errstate(divide="ignore", over="ignore", invalid="ignore"):
        n = np.exp(np.log(np.where(b > 0, b, 1.0) / np.where(gap > 0, gap, 1.0)) / c)
    return np.where(gap <= 0, np.inf, np.where(b > 0, n, 0.0))


# ---------------------------------------------------------------- what it says


@dataclass(frozen=True)
class CurvePoint:
    """One trained point's scores: its training size, its seed (0, 1, ...) and the primary metric per test item,
    aligned with the targets given to `analyse`."""

    size: int
    seed: int
    values: Sequence[float]
    outputs: Sequence[str]


@dataclass(frozen=True)
class SizeSummary:
    size: int
    value: float  # the primary metric, averaged over the size's seeds
    low: float | None  # its bootstrap interval (items, and seeds when there are several)
    high: float | None
    seeds: list[float] = field(default_factory=list)  # each seed's value


@dataclass(frozen=True)
class BandPoint:
    n: float
    value: float  # the fitted curve
    low: float
    high: float


@dataclass(frozen=True)
class Backtest:
    """The curve fitted on every size but the largest, predicting the largest."""

    fitted_sizes: list[int]
    size: int
    predicted: float
    low: float
    high: float
    observed: float
    error: float  # predicted - observed
    covered: bool  # observed inside [low, high]


@dataclass(frozen=True)
class CurveAnalysis:
    arm: str
    baseline: str
    metric: str
    higher_is_better: bool
    min_lift: float
    confidence: float
    baseline_value: float
    target: float  # the baseline's value moved by min_lift in the better direction
    sizes: list[SizeSummary]
    kind: str  # one of KINDS
    crossing: float | None  # where the fitted curve reaches the target (None: never, or no fit); `kind` says
    crossing_low: float | None  # how far to trust it: shown only up to `limit`
    crossing_high: float | None  # its interval at `confidence` (None above: some refits never get there)
    reached_at: int | None  # the smallest measured size from which every larger measured size clears the target
    largest: int  # the largest training size: what the tuned arm trained on
    limit: float  # MAX_EXTRAPOLATION x largest
    at_limit: float | None  # the fitted curve's value at `limit`, with its interval
    at_limit_low: float | None
    at_limit_high: float | None
    fit: dict[str, float] | None  # a, b, c on the higher-is-better scale
    band: list[BandPoint]
    backtest: Backtest | None
    resamples: int
    n_items: int
    available: int | None = None  # the train split's size, when the arm trained on fewer (a profile's limit)

    def to_dict(self) -> dict[str, Any]:
        return json_safe(asdict(self))

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> CurveAnalysis:
        names = {f.name for f in fields(cls)}
        kw = {k: v for k, v in d.items() if k in names}
        kw["sizes"] = [SizeSummary(**s) for s in d.get("sizes") or []]
        kw["band"] = [BandPoint(**b) for b in d.get("band") or []]
        kw["backtest"] = Backtest(**d["backtest"]) if d.get("backtest") else None
        return cls(**kw)


def _best_value(point_values: list[np.ndarray], sign: float) -> float:
    """The metric's best value on the higher-is-better scale: 1 (or 0 negated) when every item score lies in
    [0, 1] (or is at least 0); unbounded otherwise."""
    values = np.concatenate([v[np.isfinite(v)] for v in point_values]) if point_values else np.array([])
    if sign > 0 and values.size and values.min() >= 0 and values.max() <= 1:
        return 1.0
    if sign < 0 and values.size and values.min() >= 0:
        return 0.0
    return math.inf


def _quantiles(samples: np.ndarray, confidence: float, axis: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Two-sided percentile bounds; infinities count as larger than any number."""
    q = (1 - confidence) / 2
    finite = np.where(np.isfinite(samples), samples, 1e300)
    low, high = np.quantile(finite, [q, 1 - q], axis=axis, method="linear")
    return (np.where(low >= 1e299, np.inf, low), np.where(high >= 1e299, np.inf, high))


def analyse(arm: str, baseline: str, points: Sequence[CurvePoint], baseline_values: Sequence[float],
            baseline_outputs: Sequence[str], targets: Sequence[str], key: str, shape: OutputShape, min_lift: float,
            confidence: float = 0.95, seed: int = 0, resamples: int = N_CURVE_RESAMPLES,
            available: int | None = None) -> CurveAnalysis:
    """Fit the curve to the points, bootstrap it over the test items, and say where it clears the target."""
    sign = 1.0 if higher_is_better(key) else -1.0
    resamples = min(resamples, METRICS[key.split(".")[0]].max_resamples or resamples)  # a slow aggregate metric
    n_items = len(targets)
    sizes = sorted({p.size for p in points})
    if not sizes or n_items == 0:
        raise ValueError("a learning curve needs at least one point scored on at least one test item")
    by_size = [[p for p in sorted(points, key=lambda p: p.seed) if p.size == s] for s in sizes]
    idx = paired_resample_indices(key, list(targets), shape, seed, resamples)
    every = np.arange(n_items)[None, :]

    def aggregate(values: Sequence[float], outputs: Sequence[str], rows: np.ndarray) -> np.ndarray:
        return bootstrap_distribution(key, list(outputs), list(targets), np.asarray(values, dtype=float), shape, rows)

    seed_values = [[float(aggregate(p.values, p.outputs, every)[0]) for p in group] for group in by_size]
    observed = np.array([np.mean(v) for v in seed_values])
    rng = np.random.default_rng(seed + 1)
    boot = np.empty((resamples, len(sizes)))
    for k, group in enumerate(by_size):
        per_seed = np.stack([aggregate(p.values, p.outputs, idx) for p in group])  # seeds x resamples
        drawn = rng.integers(0, len(group), size=(resamples, len(group))) if len(group) > 1 \
            else np.zeros((resamples, 1), dtype=int)
        boot[:, k] = per_seed[drawn, np.arange(resamples)[:, None]].mean(1)
    base_observed = float(aggregate(baseline_values, baseline_outputs, every)[0])
    base_boot = aggregate(baseline_values, baseline_outputs, idx)
    target_signed = sign * base_observed + min_lift
    targets_boot = sign * base_boot + min_lift
    ceiling = _best_value([np.asarray(p.values, dtype=float) for p in points]
                          + [np.asarray(baseline_values, dtype=float)], sign)

    low_s, high_s = _quantiles(boot, confidence)
    summaries = [SizeSummary(s, float(observed[k]), float(low_s[k]), float(high_s[k]),
                             [float(v) for v in seed_values[k]]) for k, s in enumerate(sizes)]
    clears = sign * observed >= target_signed
    reached_at = None
    for k in range(len(sizes) - 1, -1, -1):
        if not clears[k]:
            break
        reached_at = sizes[k]
    largest, limit = sizes[-1], MAX_EXTRAPOLATION * sizes[-1]
    common = dict(arm=arm, baseline=baseline, metric=key, higher_is_better=sign > 0, min_lift=min_lift,
                  confidence=confidence, baseline_value=base_observed, target=sign * target_signed, sizes=summaries,
                  reached_at=reached_at, largest=largest, limit=limit, resamples=resamples, n_items=n_items,
                  available=available)
    first = "already" if reached_at == sizes[0] else "reached" if reached_at is not None else None
    if len(sizes) < MIN_SIZES:
        return CurveAnalysis(kind=first or "no_fit", crossing=None, crossing_low=None, crossing_high=None,
                             at_limit=None, at_limit_low=None, at_limit_high=None, fit=None, band=[],
                             backtest=None, **common)

    fitted = fit_curves(sizes, sign * observed[None, :], ceiling)
    refits = fit_curves(sizes, sign * boot, ceiling)
    n_star = float(crossings(fitted, target_signed)[0])
    boot_star = crossings(refits, targets_boot)
    star_low, star_high = (float(v) for v in _quantiles(boot_star, confidence))
    grid = np.geomspace(sizes[0], limit, BAND_POINTS)
    band_mid = sign * curve_values(fitted, grid)[0]
    band_low, band_high = _quantiles(sign * curve_values(refits, grid), confidence)
    band = [BandPoint(float(n), float(v), float(lo), float(hi))
            for n, v, lo, hi in zip(grid, band_mid, band_low, band_high)]
    at_limit = band[-1]
    if first is not None:
        kind = first
    else:
        kind = "crossing" if n_star <= limit else "not_reached"
    return CurveAnalysis(
        kind=kind, crossing=n_star, crossing_low=star_low, crossing_high=star_high,
        at_limit=at_limit.value, at_limit_low=at_limit.low, at_limit_high=at_limit.high,
        fit={"a": float(fitted[0, 0]), "b": float(fitted[0, 1]), "c": float(fitted[0, 2])}, band=band,
        backtest=_backtest(sizes, observed, boot, sign, ceiling, confidence), **common,
    )


def _backtest(sizes: list[int], observed: np.ndarray, boot: np.ndarray, sign: float, ceiling: float,
              confidence: float) -> Backtest | None:
    """Fit on every size but the largest and predict the largest (needs MIN_SIZES smaller ones)."""
    if len(sizes) < MIN_SIZES + 1:
        return None
    head = sizes[:-1]
    predicted = float(sign * curve_values(fit_curves(head, sign * observed[None, :-1], ceiling), [sizes[-1]])[0, 0])
    spread = sign * curve_values(fit_curves(head, sign * boot[:, :-1], ceiling), [sizes[-1]])[:, 0]
    low, high = (float(v) for v in _quantiles(spread, confidence))
    seen = float(observed[-1])
    return Backtest(list(head), sizes[-1], predicted, low, high, seen, predicted - seen, low <= seen <= high)


# ---------------------------------------------------------------- words


def _count(n: float) -> str:
    """A number of examples as a reader wants it: whole below 1,000, two significant figures above."""
    if n >= 1000:
        digits = int(math.floor(math.log10(n))) - 1
        return f"{round(n, -digits):,.0f}"
    return f"{max(n, 1):,.0f}"


def interval_text(a: CurveAnalysis) -> str:
    """'[45, 110]', with 'below <smallest size>' and 'more than <limit>' where the interval leaves the range the
    points support."""
    low = a.crossing_low
    smallest = a.sizes[0].size
    left = f"below {smallest}" if low is None or low < smallest else _count(low)
    high = a.crossing_high
    right = f"more than {_count(a.limit)}" if high is None or high > a.limit else _count(high)
    return f"[{left}, {right}]"


def _have(a: CurveAnalysis) -> str:
    more = f" (of {a.available:,} in the train split)" if a.available and a.available > a.largest else ""
    return f"you have {a.largest:,}{more}"


def sentence(a: CurveAnalysis) -> str:
    """The one sentence the verdict's reasons gain: where tuning clears min_lift, and how much data there is."""
    head = f"learning curve of {a.arm}"
    level = f"{a.confidence:.0%}"
    if a.kind == "already":
        return (f"{head}: tuning already clears min_lift over {a.baseline} at {a.reached_at:,} training examples, the "
                f"smallest point measured; {_have(a)}")
    if a.kind == "reached":
        fitted = (f" (the fitted curve crosses at about {_count(a.crossing)} {interval_text(a)}, {level} interval)"
                  if a.crossing is not None and a.crossing <= a.reached_at else "")
        return (f"{head}: tuning clears min_lift over {a.baseline} from {a.reached_at:,} training examples on, as "
                f"measured{fitted}; {_have(a)}")
    if a.kind == "crossing":
        return (f"{head}: tuning clears min_lift over {a.baseline} at about {_count(a.crossing)} training examples "
                f"{interval_text(a)} ({level} interval, extrapolated from the fitted curve); {_have(a)}")
    if a.kind == "not_reached":
        where = (f"; the fitted curve gives {a.metric} {a.at_limit:.3f} [{a.at_limit_low:.3f}, "
                 f"{a.at_limit_high:.3f}] there against {a.target:.3f} needed" if a.at_limit is not None else "")
        return (f"{head}: tuning does not clear min_lift over {a.baseline} within 4x your data "
                f"({_count(a.limit)} training examples){where}; {_have(a)}")
    return (f"{head}: {len(a.sizes)} training size(s) measured, fewer than the {MIN_SIZES} a curve needs, and none "
            f"clears min_lift over {a.baseline}; {_have(a)}")


def short(a: CurveAnalysis) -> str:
    """The crossing in a table cell: '≈70 [45, 110] of 96', 'at 24 of 96', '> 384 of 96'."""
    if a.kind in ("already", "reached"):
        return f"at {a.reached_at:,} of {a.largest:,}"
    if a.kind == "crossing":
        return f"≈{_count(a.crossing)} {interval_text(a)} of {a.largest:,}"
    if a.kind == "not_reached":
        return f"> {_count(a.limit)} of {a.largest:,}"
    return f"no fit ({len(a.sizes)} sizes)"


RULE_OF_THUMB = (
    (100, "under 100 examples: prompt (few-shot)"),
    (1000, "100 to 1,000 examples: evaluate both"),
    (math.inf, "over 1,000 high-quality examples: tuning is worth evaluating"),
)


def rule_of_thumb(n: int) -> str:
    """What the guides' rule of thumb says for n training examples (to show beside the measured answer)."""
    return next(text for bound, text in RULE_OF_THUMB if n < bound)
