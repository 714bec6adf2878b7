"""Calibration of the verdict: its error rates, power, interval coverage and "items needed", by simulation.

Paired 0/1 outcomes share item difficulty between arms: item i has a latent ease theta_i ~ N(0, 1) and an
arm with marginal accuracy p gets it right with probability Phi(a + theta_i), a = Phi^-1(p) * sqrt(2), so the
arms' correctness is correlated the way real arms' is. "True lift" is the difference of marginal accuracies.

The rule: min_lift = 0.05, confidence = 0.95. GO and NO-GO are one-sided tests at 2.5% each (the two ends of
the 95% interval), so the nominal rate of each error is 2.5%; the tests assert <= 5%, with a one-sided binomial
test at the 1% level for Monte-Carlo error (a rate is refuted only if it is significantly above 5%). The
single-comparison cells are also computed exactly (multinomial law of wins and losses), without Monte-Carlo
error. Seeded; a few thousand decisions in all.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.stats import binom, binomtest, norm

from harness.metrics.builtin import OutputShape
from harness.spec import DecisionSpec
from harness.verdict.comparison import ArmResult
from harness.verdict.decision import decide
from harness.verdict.stats import (
    MIN_DIFFERING,
    binary_power_exact,
    bootstrap_items_needed,
    paired_binary,
    tango_z,
    z_of,
)

SHAPE = OutputShape("label", labels=("a", "b"))
MIN_LIFT = 0.05
RULE = DecisionSpec(primary_metric="accuracy", min_lift=MIN_LIFT, confidence=0.95)
SIGMA = 1.0  # spread of item difficulty shared by all arms
N_VALIDATION = 100
R_SINGLE, R_MULTI = 200, 100


def _ids(n: int) -> list[str]:
    return [f"e{i:04d}" for i in range(n)]


def _cells(p_base: float, p_tuned: float, sigma: float = SIGMA) -> tuple[float, float]:
    """(P(win), P(loss)) of one item under the latent-difficulty model, by Gauss-Hermite quadrature."""
    x, w = np.polynomial.hermite_e.hermegauss(80)
    w = w / w.sum()
    s = math.sqrt(1 + sigma**2)
    pb, pt = norm.cdf(norm.ppf(p_base) * s + sigma * x), norm.cdf(norm.ppf(p_tuned) * s + sigma * x)
    return float((w * pt * (1 - pb)).sum()), float((w * (1 - pt) * pb).sum())


def _outcomes(rng: np.random.Generator, n: int, accuracies: list[float]) -> list[np.ndarray]:
    theta = rng.normal(0, SIGMA, n)
    s = math.sqrt(1 + SIGMA**2)
    return [(rng.random(n) < norm.cdf(norm.ppf(p) * s + theta)).astype(float) for p in accuracies]


def _arm(name: str, role: str, ids: list[str], correct: np.ndarray, **kw) -> ArmResult:
    return ArmResult(name, role, "completed", float(correct.mean()), dict(zip(ids, correct)), **kw)


def _simulate(rng, n, acc, lift, n_baselines=1, n_tuned=1, validation=True, rule=RULE, tokens=None) -> ArmResult:
    ids = _ids(n)
    test = _outcomes(rng, n, [acc] * n_baselines + [acc + lift] * n_tuned)
    val = _outcomes(rng, N_VALIDATION, [acc] * n_baselines) if validation else [None] * n_baselines
    base_tokens, tuned_tokens = tokens or (None, None)
    arms = [_arm(f"base{j}", "baseline", ids, test[j], prompt_tokens=base_tokens,
                 validation_value=None if val[j] is None else float(val[j].mean())) for j in range(n_baselines)]
    arms += [_arm(f"tuned{j}", "tuned", ids, test[n_baselines + j], prompt_tokens=tuned_tokens, train_seconds=600.0)
             for j in range(n_tuned)]
    return decide(arms, {i: "a" for i in ids}, "accuracy", rule, SHAPE)


def _rates(seed, reps, **kw) -> tuple[float, float, int, int]:
    rng = np.random.default_rng(seed)
    verdicts = [_simulate(rng, **kw).verdict for _ in range(reps)]
    go, nogo = verdicts.count("GO"), verdicts.count("NO-GO")
    return go / reps, nogo / reps, go, nogo


def _not_above(count: int, reps: int, bound: float = 0.05) -> bool:
    """False only when count / reps is significantly above `bound` (one-sided binomial test, 1% level)."""
    return binomtest(count, reps, bound, alternative="greater").pvalue > 0.01


def _exact_rates(n: int, p_win: float, p_loss: float, delta0: float, alpha: float) -> tuple[float, float]:
    """Exact P(GO), P(NO-GO) of one score-test comparison: the multinomial law of (wins, losses)."""
    z = z_of(alpha)
    go = nogo = 0.0
    for b in range(n + 1):
        pb = binom.pmf(b, n, p_win)
        cs = np.arange(n - b + 1)
        zs = np.array([tango_z(b, c, n, delta0) for c in cs])
        pc = binom.pmf(cs, n - b, min(1.0, p_loss / (1 - p_win)))
        go += pb * pc[zs > z].sum()
        nogo += pb * pc[zs < -z].sum()
    return float(go), float(nogo)


CELLS = [(n, acc) for n in (20, 50, 200) for acc in (0.6, 0.9)]


@pytest.mark.parametrize("n,acc", CELLS)
def test_error_rates_at_the_boundary_one_baseline_one_tuned_arm(n, acc):
    exact_go, exact_nogo = _exact_rates(n, *_cells(acc, acc + MIN_LIFT), MIN_LIFT, 0.025)
    assert exact_go <= 0.05 and exact_nogo <= 0.05, (exact_go, exact_nogo)
    go, nogo, n_go, n_nogo = _rates(100 + n + int(acc * 10), R_SINGLE, n=n, acc=acc, lift=MIN_LIFT)
    assert _not_above(n_go, R_SINGLE) and _not_above(n_nogo, R_SINGLE), (go, nogo)


@pytest.mark.parametrize("n,acc", CELLS)
def test_error_rates_with_four_equal_baselines_chosen_on_validation(n, acc):
    go, nogo, n_go, n_nogo = _rates(200 + n + int(acc * 10), R_MULTI, n=n, acc=acc, lift=MIN_LIFT, n_baselines=4)
    assert _not_above(n_go, R_MULTI) and _not_above(n_nogo, R_MULTI), (go, nogo)


@pytest.mark.parametrize("n,acc", CELLS)
def test_error_rates_with_four_equal_baselines_without_validation_scores(n, acc):
    go, nogo, n_go, n_nogo = _rates(300 + n + int(acc * 10), R_MULTI, n=n, acc=acc, lift=MIN_LIFT, n_baselines=4,
                                    validation=False)
    assert _not_above(n_go, R_MULTI) and _not_above(n_nogo, R_MULTI), (go, nogo)


@pytest.mark.parametrize("n,acc", CELLS)
def test_error_rates_with_three_tuned_arms_at_the_boundary(n, acc):
    go, nogo, n_go, n_nogo = _rates(400 + n + int(acc * 10), R_MULTI, n=n, acc=acc, lift=MIN_LIFT, n_tuned=3)
    assert _not_above(n_go, R_MULTI) and _not_above(n_nogo, R_MULTI), (go, nogo)


@pytest.mark.parametrize("acc", [0.3, 0.6, 0.9, 1.0])
def test_identical_arms_at_twenty_items_are_inconclusive(acc):
    rng = np.random.default_rng(5)
    ids = _ids(20)
    for _ in range(10):
        (correct,) = _outcomes(rng, 20, [min(acc, 0.999)])
        if acc == 1.0:
            correct[:] = 1.0
        out = decide([_arm("base", "baseline", ids, correct), _arm("tuned", "tuned", ids, correct.copy())],
                     {i: "a" for i in ids}, "accuracy", RULE, SHAPE)
        assert out.verdict == "INCONCLUSIVE", out.reasons
        assert out.comparisons[0].high > MIN_LIFT  # the interval is not [0, 0]


def test_power_at_two_hundred_items():
    reps = 200
    rng = np.random.default_rng(6)
    verdicts = [_simulate(rng, n=200, acc=0.6, lift=MIN_LIFT + 0.15).verdict for _ in range(reps)]
    go = verdicts.count("GO")
    assert binomtest(go, reps, 0.8, alternative="less").pvalue > 0.01, go / reps
    assert go / reps >= 0.8


@pytest.mark.parametrize("n,acc,lift", [(10, 0.6, 0.0), (20, 0.9, 0.05), (50, 0.6, 0.1), (50, 0.95, 0.0),
                                        (200, 0.9, 0.05), (200, 0.7, 0.0)])
def test_coverage_of_the_paired_score_interval(n, acc, lift):
    """Simulated coverage of the two-sided 95% interval for the difference of paired proportions, and of each end
    (the one-sided bounds GO and NO-GO use): each end errs at most 4% of the time (nominal 2.5%)."""
    reps = 600
    rng = np.random.default_rng(7 + n)
    p_win, p_loss = _cells(acc, acc + lift)
    true = p_win - p_loss
    draws = rng.multinomial(n, [p_win, p_loss, 1 - p_win - p_loss], size=reps)
    above = below = 0
    for b, c, _ in draws:
        base = np.r_[np.zeros(b), np.ones(c), np.ones(n - b - c)]
        tuned = np.r_[np.ones(b), np.zeros(c), np.ones(n - b - c)]
        r = paired_binary(base, tuned, 0.0, 0.025, 0.025)
        below += r.high < true
        above += r.low > true
    assert (above + below) / reps <= 0.05 + 2 * math.sqrt(0.05 * 0.95 / reps), (above / reps, below / reps)
    assert _not_above(above, reps, 0.04) and _not_above(below, reps, 0.04), (above / reps, below / reps)


@pytest.mark.parametrize("n0,wins,losses,expected_lift", [(80, 14, 4, None), (60, 3, 2, 0.15)])
def test_items_needed_gives_go_with_80_percent_probability(n0, wins, losses, expected_lift):
    """At the suggested size, with the observed (or stated) lift as the truth, P(GO) is about 80%: exactly by the
    multinomial law, and end to end through `decide`."""
    rule = DecisionSpec(primary_metric="accuracy", min_lift=MIN_LIFT, expected_lift=expected_lift)
    ids = _ids(n0)
    base = np.r_[np.zeros(wins), np.ones(losses), np.ones(n0 - wins - losses)]
    tuned = np.r_[np.ones(wins), np.zeros(losses), np.ones(n0 - wins - losses)]
    out = decide([_arm("base", "baseline", ids, base), _arm("tuned", "tuned", ids, tuned)],
                 {i: "a" for i in ids}, "accuracy", rule, SHAPE)
    assert out.verdict == "INCONCLUSIVE"
    needed = out.items_needed
    assert needed and out.planned == "tuned"
    p_loss = losses / n0
    p_win = wins / n0 if expected_lift is None else p_loss + expected_lift
    assert 0.75 <= binary_power_exact(needed, p_win, p_loss, MIN_LIFT, 0.025) <= 0.85
    reps = 250
    rng = np.random.default_rng(8)
    ids = _ids(needed)
    go = 0
    for b, c, _ in rng.multinomial(needed, [p_win, p_loss, 1 - p_win - p_loss], size=reps):
        base = np.r_[np.zeros(b), np.ones(c), np.ones(needed - b - c)]
        tuned = np.r_[np.ones(b), np.zeros(c), np.ones(needed - b - c)]
        verdict = decide([_arm("base", "baseline", ids, base), _arm("tuned", "tuned", ids, tuned)],
                         {i: "a" for i in ids}, "accuracy", rule, SHAPE).verdict
        go += verdict == "GO"
    assert 0.72 <= go / reps <= 0.88, go / reps


def test_items_needed_for_a_continuous_metric_by_bootstrap():
    """The bootstrap path's normal-approximation size, checked the same way (fewer repetitions: it resamples)."""
    rng = np.random.default_rng(9)

    def draw(n):  # json_field_f1-like: share of 5 fields right, item difficulty shared
        theta = rng.normal(0, SIGMA, n)[:, None]
        base = (rng.random((n, 5)) < norm.cdf(norm.ppf(0.6) * math.sqrt(2) + theta)).mean(1)
        tuned = (rng.random((n, 5)) < norm.cdf(norm.ppf(0.72) * math.sqrt(2) + theta)).mean(1)
        return base, tuned

    def run(n):
        ids = _ids(n)
        base, tuned = draw(n)
        rule = DecisionSpec(primary_metric="json_field_f1", min_lift=MIN_LIFT)
        return decide([_arm("base", "baseline", ids, base), _arm("tuned", "tuned", ids, tuned)],
                      {i: "{}" for i in ids}, "json_field_f1", rule, OutputShape("json", fields=("a",)))

    first = run(40)
    needed = first.items_needed
    assert first.verdict == "INCONCLUSIVE" and needed and needed > 40
    # the planning lift is the observed one; judge the size that the true lift and spread ask for
    base, tuned = draw(200_000)
    true_lift, sd = float((tuned - base).mean()), float((tuned - base).std())
    n_true = bootstrap_items_needed(sd, true_lift, MIN_LIFT, 0.025)
    reps = 150
    go = sum(run(n_true).verdict == "GO" for _ in range(reps))
    assert 0.7 <= go / reps <= 0.9, (n_true, go / reps)


@pytest.mark.parametrize("n,acc", [(50, 0.7), (200, 0.7), (200, 0.9)])
def test_go_on_cost_at_the_non_inferiority_boundary_is_rare(n, acc):
    """True difference = -margin and the tuned arm far cheaper: GO (by any route) at most 5%."""
    margin = 0.05
    rule = DecisionSpec(primary_metric="accuracy", min_lift=MIN_LIFT, non_inferiority_margin=margin,
                        cost={"requests_per_day": 10000, "price_per_1k_input_tokens": 0.5, "training_cost_per_hour": 2.0})
    reps = 150
    rng = np.random.default_rng(10 + n)
    outs = [_simulate(rng, n=n, acc=acc, lift=-margin, rule=rule, tokens=(837.0, 45.0)) for _ in range(reps)]
    go = sum(o.verdict == "GO" for o in outs)
    assert _not_above(go, reps), go / reps
    # and the route does open for truly equal arms when the test set is large enough for the margin
    if n == 200:
        wide = rule.model_copy(update={"non_inferiority_margin": 0.1})
        equal = [_simulate(rng, n=400, acc=acc, lift=0.0, rule=wide, tokens=(837.0, 45.0)) for _ in range(20)]
        assert sum(o.verdict == "GO" and o.route == "cost" for o in equal) >= 16


def test_the_guard_blocks_bootstrap_verdicts_on_few_differing_items():
    rng = np.random.default_rng(11)
    n = 200
    ids = _ids(n)
    base = rng.random(n).round(1)
    tuned = base.copy()
    tuned[: MIN_DIFFERING - 1] = np.minimum(1.0, tuned[: MIN_DIFFERING - 1] + 0.5)
    rule = DecisionSpec(primary_metric="json_field_f1", min_lift=0.0)
    out = decide([_arm("base", "baseline", ids, base), _arm("tuned", "tuned", ids, tuned)],
                 {i: "{}" for i in ids}, "json_field_f1", rule, OutputShape("json", fields=("a",)))
    assert out.verdict == "INCONCLUSIVE" and out.rule == "guard"
    assert out.comparisons[0].differing == MIN_DIFFERING - 1 and out.comparisons[0].guard


def test_items_needed_on_the_cost_route_show_non_inferiority_with_80_percent_probability():
    """The issue's intent task: 200 items, the tuned arm +0.015 (27 wins, 24 losses), far fewer prompt tokens, margin
    0.05; INCONCLUSIVE. Its cost route's items needed, what 200 items show, and the chance on all 400 of the data,
    each checked: exactly by the multinomial law, and end to end through `decide`."""
    margin, n0 = 0.05, 200
    rule = DecisionSpec(primary_metric="accuracy", min_lift=MIN_LIFT, non_inferiority_margin=margin,
                        cost={"requests_per_day": 50000, "price_per_1k_input_tokens": 0.5,
                              "training_cost_per_hour": 4.8})

    def run(n, p_win, p_loss, rng=None, wins=None, losses=None):
        if rng is not None:
            wins, losses, _ = rng.multinomial(n, [p_win, p_loss, 1 - p_win - p_loss])
        ids = _ids(n)
        base = np.r_[np.zeros(wins), np.ones(losses), np.ones(n - wins - losses) * (np.arange(n - wins - losses) % 2)]
        tuned = np.r_[np.ones(wins), np.zeros(losses), base[wins + losses:]]
        arms = [_arm("base", "baseline", ids, base, prompt_tokens=837.0),
                _arm("tuned", "tuned", ids, tuned, prompt_tokens=45.0, train_seconds=600.0)]
        return decide(arms, {i: "a" for i in ids}, "accuracy", rule, SHAPE, available=400)

    first = run(n0, 0, 0, wins=27, losses=24)
    plan = first.cost_plan
    assert first.verdict == "INCONCLUSIVE" and first.cost_open and -0.06 < first.comparisons[0].low < -margin
    assert plan.assumed == plan.observed == pytest.approx(0.015) and 440 <= plan.items_needed <= 500, plan
    p_win, p_loss = 27 / n0, 24 / n0
    assert 0.75 <= binary_power_exact(plan.items_needed, p_win, p_loss, -margin, 0.025) <= 0.85
    assert binary_power_exact(400, p_win, p_loss, -margin, 0.025) == pytest.approx(plan.power_available, abs=0.03)
    detect = plan.detectable - plan.observed  # what 200 items show: P = 80% at that true difference
    assert 0.75 <= binary_power_exact(n0, p_win + detect, p_loss, -margin, 0.025) <= 0.85
    reps = 250
    rng = np.random.default_rng(12)
    cells = ((plan.items_needed, p_win, 0.8), (400, p_win, plan.power_available), (n0, p_win + detect, 0.8))
    for n, win, rate in cells:
        outs = [run(n, win, p_loss, rng) for _ in range(reps)]
        by_cost = sum(o.verdict == "GO" and o.route == "cost" for o in outs) / reps
        assert abs(by_cost - rate) <= 3 * math.sqrt(rate * (1 - rate) / reps) + 0.02, (n, by_cost, rate)
