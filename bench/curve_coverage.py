"""How often the learning curve's crossing interval covers the true crossing, simulated on known curves.

    .venv/bin/python bench/curve_coverage.py                # 400 runs per scenario, 1000 resamples (~7 min, 2 cores)
    .venv/bin/python bench/curve_coverage.py --runs 100     # a quicker look
    .venv/bin/python bench/curve_coverage.py --jobs 1       # one process (default: one per core)

Each run draws test items from a population whose mean score at n training examples is a known curve: item
difficulties u ~ N(0, 1) shared by every point and by the baseline (the pairing the bootstrap relies on), and
P(right) = Phi(z(n) * sqrt(2) + u), which makes the population mean exactly the curve's value. The baseline's
population mean is fixed so that baseline + min_lift (0.05) is crossed at a known n*. Points at 12, 24, 48, 96.
Scenarios: the crossing between the points and beyond them (up to 4x); items independent given their difficulty,
or one shared uniform per item (an item a point solves stays solved at larger sizes: the strongest pairing); 80 or
150 test items; a curve of another shape than the fitted power law (the fit is then wrong by construction); and
training noise per point (each point's model off its expected value by N(0, 0.1) in z, about 0.03 in the metric),
with one and three seeds.
Prints the coverage of the 95% interval, how often the interval was open above (reaching past 4x the data), and the
kinds the analysis reported.
"""

from __future__ import annotations

import argparse
import math
import os
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np
from scipy.stats import norm

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from harness.metrics.builtin import OutputShape  # noqa: E402
from harness.verdict.curve import CurvePoint, analyse  # noqa: E402

SIZES = (12, 24, 48, 96)
MIN_LIFT = 0.05


def power(n: float) -> float:
    return 0.8 - 1.6 * n ** -0.5


def exponential(n: float) -> float:  # saturates faster than any power law: the fit's form is wrong
    return 0.75 - 0.5 * math.exp(-n / 40)


def crossing_of(curve, target: float) -> float:
    lo, hi = 1.0, 1e6
    for _ in range(200):
        mid = math.sqrt(lo * hi)
        lo, hi = (mid, hi) if curve(mid) < target else (lo, mid)
    return math.sqrt(lo * hi)


def one_run(rng, curve, target: float, n_items: int, shared: bool, seeds: int, noise: float):
    scale = math.sqrt(2)
    u = rng.normal(0, 1, n_items)
    uniform = rng.random(n_items)
    points = []
    for size in SIZES:
        for seed in range(seeds):
            z = norm.ppf(curve(size)) * scale + rng.normal(0, noise)
            draw = uniform if shared else rng.random(n_items)
            points.append(CurvePoint(size, seed, (draw < norm.cdf(z + u)).astype(float), [""] * n_items))
    base = (rng.random(n_items) < norm.cdf(norm.ppf(target - MIN_LIFT) * scale + u)).astype(float)
    return points, base


def scenario(name: str, runs: int, resamples: int, curve=power, target: float = 0.60, n_items: int = 80,
             shared: bool = False, seeds: int = 1, noise: float = 0.0) -> str:
    truth = crossing_of(curve, target)
    rng = np.random.default_rng(2029)
    covered = open_above = 0
    kinds: dict[str, int] = {}
    began = time.perf_counter()
    for i in range(runs):
        points, base = one_run(rng, curve, target, n_items, shared, seeds, noise)
        a = analyse("lora", "base", points, base, [""] * n_items, ["x"] * n_items, "exact_match", OutputShape("text"),
                    MIN_LIFT, 0.95, seed=i, resamples=resamples)
        low = a.crossing_low if a.crossing_low is not None else math.inf
        high = a.crossing_high if a.crossing_high is not None else math.inf
        covered += low <= truth <= high
        open_above += high > 4 * SIZES[-1]
        kinds[a.kind] = kinds.get(a.kind, 0) + 1
    share = covered / runs
    se = math.sqrt(share * (1 - share) / runs)
    return (f"{name:58} n*={truth:6.0f}  coverage {share:6.1%} ± {se:.1%}  open above {open_above / runs:5.1%}  "
            f"{dict(sorted(kinds.items()))}  ({time.perf_counter() - began:.0f} s)")


SCENARIOS = [  # name, then scenario()'s settings beyond the runs and resamples
    ("power law, crossing between the points, 80 items", {}),
    ("power law, crossing beyond the points (2.7x), 80 items", {"target": 0.70}),
    ("power law, between, 80 items, shared uniforms", {"shared": True}),
    ("power law, beyond, 80 items, shared uniforms", {"target": 0.70, "shared": True}),
    ("power law, between, 150 items", {"n_items": 150}),
    ("power law, beyond, 150 items", {"target": 0.70, "n_items": 150}),
    ("exponential saturation (misspecified), between", {"curve": exponential, "target": 0.68}),
    ("exponential saturation (misspecified), beyond", {"curve": exponential, "target": 0.74}),
    ("power law, between, training noise, 1 seed", {"noise": 0.1}),
    ("power law, between, training noise, 3 seeds", {"noise": 0.1, "seeds": 3}),
]


def _one(job: tuple[str, dict, int, int]) -> str:
    name, settings, runs, resamples = job
    return scenario(name, runs, resamples, **settings)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=400)
    parser.add_argument("--resamples", type=int, default=1000)
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1, help="scenarios run side by side")
    args = parser.parse_args()
    print(f"nominal 95%; {args.runs} runs per scenario, {args.resamples} resamples; points at "
          f"{', '.join(map(str, SIZES))}", flush=True)
    jobs = [(name, settings, args.runs, args.resamples) for name, settings in SCENARIOS]
    with ProcessPoolExecutor(max_workers=max(1, args.jobs)) as pool:
        for line in pool.map(_one, jobs):  # each scenario seeds its own generator: the same lines for any --jobs
            print(line, flush=True)

if __name__ == "__main__":
    main()
