"""The verdict's slice rule and cost-route planning, by simulation: the figures in README's "How the verdict is
decided" (tests/test_slices.py and tests/test_calibration.py assert them with fewer repetitions).

    .venv/bin/python bench/verdict_simulation.py             # ~4.5 min of CPU (one core), alone
    .venv/bin/python bench/verdict_simulation.py --reps 500  # quicker, wider Monte-Carlo error

Seeded, so every figure is the same on any machine. Prints, for 77 labels over 400 test items (1/rank sizes)
and for 6 JSON fields over 80 items:
- the share of runs in which some slice is flagged when none is truly worse beyond max_slice_drop (equal arms;
  every slice exactly at the tolerated drop), against the nominal 2.5%;
- the share in which a slice truly worse by max_slice_drop + 0.10 is flagged, beside the exact power of Holm's
  first step;
and for the cost route (the issue's intent task): items needed for non-inferiority, what 200 items show, the
chance on all 400, each beside its simulated rate of GO on cost.
"""

from __future__ import annotations

import argparse
import math
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.test_slices import (  # noqa: E402  (the simulation models the tests use)
    FIELDS,
    MAX_DROP,
    N_LABELS,
    _check,
    _field_arms,
    _label_arms,
    _lone_power,
    zipf_sizes,
)


def _ci(k: int, n: int) -> str:
    p = k / n
    return f"{p:6.1%} ± {1.96 * math.sqrt(max(p * (1 - p), 1 / n) / n):.1%}"


def slice_rates(reps: int) -> None:
    sizes = zipf_sizes()
    print(f"77 labels over 400 items, sizes {sizes[:10]} ... (tested: the 8 with >= 10 items); 6 fields over 80 items")
    for name, make in (
        ("labels, equal arms", lambda rng, d: _label_arms(rng, sizes, 0.7, [d] * N_LABELS)),
        ("fields, equal arms", lambda rng, d: _field_arms(rng, 0.6, {f: d for f in FIELDS})),
    ):
        for drop, what in ((0.0, "no loss"), (MAX_DROP, f"every slice at -{MAX_DROP:g}")):
            rng = np.random.default_rng(101 + int(drop * 100))
            flagged = sum(bool(_check(*make(rng, drop)).flagged) for _ in range(reps))
            print(f"  {name.split(',')[0]:7s} {what:24s} some slice flagged {_ci(flagged, reps)} (nominal 2.5%)")
    loss = MAX_DROP + 0.10
    for label, n in ((0, 112), (1, 40), (3, 20)):
        drops = [0.0] * N_LABELS
        drops[label] = loss
        rng = np.random.default_rng(201 + label)
        hits = sum(_check(*_label_arms(rng, sizes, 0.7, drops)).slices[label].flagged for _ in range(reps))
        print(f"  label of {n:3d} items, true loss {loss:.2f}: flagged {_ci(hits, reps)} "
              f"(exact, Holm's first step: {_lone_power(n, 8, 0.7, loss):.1%})")
    rng = np.random.default_rng(301)
    hits = sum(_check(*_field_arms(rng, 0.6, {"f3": loss})).slices[3].flagged for _ in range(reps))
    print(f"  field of  80 items, true loss {loss:.2f}: flagged {_ci(hits, reps)} "
          f"(exact, Holm's first step: {_lone_power(80, 6, 0.6, loss):.1%})")


def cost_route(reps: int) -> None:
    from harness.metrics.builtin import OutputShape
    from harness.spec import DecisionSpec
    from harness.verdict.comparison import ArmResult
    from harness.verdict.decision import decide
    from harness.verdict.stats import binary_power_exact

    rule = DecisionSpec(primary_metric="accuracy", min_lift=0.05, non_inferiority_margin=0.05,
                        cost={"requests_per_day": 50000, "price_per_1k_input_tokens": 0.5,
                              "training_cost_per_hour": 4.8})

    def run(n: int, wins: int, losses: int):  # noqa: ANN202
        ids = [f"e{i:04d}" for i in range(n)]
        base = np.r_[np.zeros(wins), np.ones(losses), np.arange(n - wins - losses) % 2]
        tuned = np.r_[np.ones(wins), np.zeros(losses), base[wins + losses:]]
        arms = [ArmResult("few_shot_8", "baseline", "completed", float(base.mean()), dict(zip(ids, base)),
                          prompt_tokens=837.0),
                ArmResult("lora", "tuned", "completed", float(tuned.mean()), dict(zip(ids, tuned)), prompt_tokens=45.0,
                          train_seconds=600.0)]
        return decide(arms, {i: "a" for i in ids}, "accuracy", rule, OutputShape("label", labels=("a", "b")),
                      available=400)

    first = run(200, 27, 24)
    plan = first.cost_plan
    print(f"cost route, 200 items, lift {plan.observed:+.3f}, lower bound {first.comparisons[0].low:+.3f} "
          f"(margin -0.05): {first.verdict}")
    p_win, p_loss = 27 / 200, 24 / 200
    rng = np.random.default_rng(401)
    for n, win, claim in ((plan.items_needed, p_win, "items needed (80%)"), (400, p_win, "all 400 items"),
                          (200, p_win + plan.detectable - plan.observed,
                           f"true difference {plan.detectable:+.3f} at 200 (80%)")):
        shown = 0
        for _ in range(reps):
            w, lo, _ = rng.multinomial(n, [win, p_loss, 1 - win - p_loss])
            out = run(n, int(w), int(lo))
            shown += out.verdict == "GO"  # on cost, or on lift, whose bound (above min_lift) clears -margin too
        planned = 0.8 if "80%" in claim else plan.power_available
        exact = binary_power_exact(n, win, p_loss, -0.05, first.comparisons[0].alpha_low)
        print(f"  {claim:38s} n={n:4d}: non-inferiority shown {_ci(shown, reps)} (planned {planned:.1%}, "
              f"exact {exact:.1%})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--reps", type=int, default=2000)
    args = parser.parse_args()
    slice_rates(args.reps)
    cost_route(max(args.reps // 4, 200))


if __name__ == "__main__":
    main()
