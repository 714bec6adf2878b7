"""The report's cost section: each arm's cost per 1k requests and latency, and when the tuned arm's saving
repays its training (the break-even chart). Latency, tokens and training time are measured in the run; prices
and volume are the task's `decision.cost` inputs, and what is missing is named rather than guessed."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from markupsafe import Markup

from harness.report.charts import ROLE_COLOURS
from harness.report.svg import (
    INK,
    MUTED,
    WIDTH,
    el,
    finite,
    linear,
    nice_ticks,
    shorten,
    svg_root,
    text_el,
    x_axis,
    y_axis,
)
from harness.spec import CostSpec
from harness.verdict.comparison import ArmResult
from harness.verdict.cost import BreakEven, break_even, cost_per_request, describe_break_even

COST_FIELDS = "decision.cost: requests_per_day and either price_per_1k_input_tokens / price_per_1k_output_tokens " \
              "or serving_cost_per_hour (training_cost_per_hour for the training side)"


@dataclass(frozen=True)
class ArmCost:
    arm: str
    role: str
    latency_s: float | None
    prompt_tokens: float | None
    output_tokens: float | None
    train_seconds: float | None
    per_1k: float | None  # dollars per 1,000 requests
    missing: str | None


@dataclass(frozen=True)
class CostView:
    rows: list[ArmCost]
    cost: CostSpec | None
    break_even: BreakEven | None
    summary: str | None
    chart: Any  # Markup (SVG) or None
    missing: str | None  # why there is no chart


def cost_view(results: list[ArmResult], cost: CostSpec | None, pair: tuple[str, str] | None) -> CostView:
    """Costs of every arm; the break-even of `pair`, (the tuned arm the verdict is about, its baseline)."""

    rows = []
    for r in results:
        per_request, missing = cost_per_request(r, cost) if cost else (None, f"no cost inputs ({COST_FIELDS})")
        rows.append(ArmCost(r.name, r.role, r.latency_s, r.prompt_tokens, r.output_tokens, r.train_seconds,
                            per_request * 1000 if per_request is not None else None, missing))
    if cost is None:
        return CostView(rows, None, None, None, None, f"no break-even without cost inputs: add {COST_FIELDS}")
    if pair is None:
        return CostView(rows, cost, None, None, None, "no break-even: no tuned arm was compared with a baseline")
    by_name = {r.name: r for r in results}
    be = break_even(by_name[pair[0]], by_name[pair[1]], cost)
    if be.missing:
        return CostView(rows, cost, be, describe_break_even(be), None, be.missing)
    chart = break_even_chart(tuned=be.arm, baseline=be.baseline, tuned_cost_per_request=be.cost_per_request,
                             baseline_cost_per_request=be.baseline_cost_per_request, training_cost=be.training_cost,
                             requests_per_day=be.requests_per_day, horizon_days=be.horizon_days)
    return CostView(rows, cost, be, describe_break_even(be), chart, None)


# --- break-even ------------------------------------------------------------------------------------------------

def crossing(training_cost: float, tuned_cpr: float, baseline_cpr: float) -> float | None:
    """Requests after which the tuned arm's per-request saving has repaid its training; None if it never does."""
    values = [finite(training_cost), finite(tuned_cpr), finite(baseline_cpr)]
    if any(v is None for v in values):
        return None
    training, tuned, baseline = values
    saving = baseline - tuned
    if saving <= 0:
        return None
    return max(training, 0.0) / saving


def _sig(v: float, digits: int) -> str:
    """`v` to `digits` significant digits, without exponent or trailing zeros."""
    if v == 0:
        return "0"
    magnitude = math.floor(math.log10(abs(v)))
    rounded = round(v, digits - 1 - magnitude)
    decimals = max(0, digits - 1 - magnitude)
    s = f"{rounded:.{decimals}f}"
    return s.rstrip("0").rstrip(".") if "." in s else s


def _si(v: float, digits: int = 3) -> str:
    """1k, 10k, 2.5M: a count or amount in thousands, millions, billions."""
    for size, suffix in ((1e12, "T"), (1e9, "B"), (1e6, "M"), (1e3, "k")):
        if abs(v) >= size:
            return _sig(v / size, digits) + suffix
    return _sig(v, digits)


def _money(v: float) -> str:
    return ("-$" if v < 0 else "$") + _si(abs(v), 2)


def _days(d: float) -> str:
    if d < 0.1:
        return "under 0.1 days"
    return f"{d:,.0f} days" if d >= 10 else f"{d:.1f} days"


def break_even_chart(*, tuned: str, baseline: str, tuned_cost_per_request: float, baseline_cost_per_request: float,
                     training_cost: float, requests_per_day: float, horizon_days: float,
                     chart_id: str = "break-even") -> Markup:
    """Cumulative cost against requests served: the tuned arm starts at its training cost, the baseline at zero;
    the crossing (if any) is marked and labelled, and the horizon drawn as a reference."""
    training = max(finite(training_cost) or 0.0, 0.0)
    ct = finite(tuned_cost_per_request) or 0.0
    cb = finite(baseline_cost_per_request) or 0.0
    rpd = finite(requests_per_day) or 0.0
    horizon = max(rpd * (finite(horizon_days) or 0.0), 0.0)
    n_star = crossing(training, ct, cb)
    x_max = max(horizon, 1.5 * n_star if n_star else 0.0) or 1.0

    left, right, top, plot_h = 64.0, 130.0, 16.0, 200.0
    x0, x1, y0, y1 = left, WIDTH - right, top, top + plot_h
    xt = nice_ticks(0.0, x_max, 5)
    y_top = max(training + ct * xt[-1], cb * xt[-1], 1e-9)
    yt = nice_ticks(0.0, y_top, 5)
    yt = [t for t in yt if t >= 0] or [0.0, y_top]
    xs = linear(xt[0], xt[-1], x0, x1)
    ys = linear(yt[0], yt[-1], y1, y0)

    body = y_axis(yt, ys, x0, x1, _money)
    body += x_axis(xt, xs, y1, y0, _si)
    body.append(text_el(x0, top - 4, "cumulative cost ($)", "axis-label"))
    body.append(text_el((x0 + x1) / 2, y1 + 32, "requests served", "axis-label", "middle"))

    n_end = xt[-1]
    ends = {"tuned": ys(training + ct * n_end), "baseline": ys(cb * n_end)}
    if abs(ends["tuned"] - ends["baseline"]) < 13:  # keep the two end labels from overprinting
        lower, upper = sorted(ends, key=ends.get)
        mid = (ends[lower] + ends[upper]) / 2
        ends[lower], ends[upper] = mid - 6.5, mid + 6.5
    for role, name, start, per in (("baseline", baseline, 0.0, cb), ("tuned", tuned, training, ct)):
        colour = ROLE_COLOURS[role]
        body.append(el(
            "g", el("title", f"{name}: {_money(start)} + {_sig(per, 3)} $/request"),
            el("line", x1=xs(0), y1=ys(start), x2=xs(n_end), y2=ys(start + per * n_end), class_=f"line {role}",
                stroke=colour, stroke_width=2),
            text_el(x1 + 6, ends[role] + 4, shorten(name, 20), f"line-label {role}", fill=colour),
            class_=f"series {role}", data_arm=name,
        ))

    if horizon > 0:
        hx = xs(horizon)
        body.append(el("g", el("line", x1=hx, x2=hx, y1=y0, y2=y1, stroke=MUTED, stroke_dasharray="2 3"),
                        text_el(hx - 4, y0 + 10, f"horizon ({_days(horizon_days)})", "horizon-label", "end",
                              fill=MUTED),
                        class_="horizon"))

    if n_star is None:
        body.append(text_el((x0 + x1) / 2, y0 + 28, "never breaks even: no saving per request", "never", "middle",
                          fill="#b91c1c", font_weight="600"))
    else:
        cx, cy = xs(n_star), ys(training + ct * n_star)
        days = f" ({_days(n_star / rpd)})" if rpd > 0 else ""
        text = ("breaks even from the first request (no training cost)" if n_star == 0
                else f"breaks even at {n_star:,.0f} requests{days}")
        anchor = "end" if cx > (x0 + x1) / 2 else "start"
        body.append(el(
            "g",
            el("line", x1=cx, x2=cx, y1=cy, y2=y1, stroke=INK, stroke_dasharray="4 3"),
            el("circle", cx=cx, cy=cy, r=5, fill="#fff", stroke=INK, stroke_width=2),
            text_el(cx + (-8 if anchor == "end" else 8), max(cy - 10, y0 + 22), text, "crossing-label", anchor,
                  font_weight="600", stroke="#fff", stroke_width=4, stroke_linejoin="round",
                  paint_order="stroke"),  # a halo keeps the label legible where it crosses the lines
            class_="crossing", data_requests=round(n_star, 1),
        ))

    label = (f"cumulative cost of {tuned} against {baseline} by requests served: "
             + (f"breaks even at {n_star:,.0f} requests" if n_star is not None else "never breaks even"))
    return svg_root(chart_id, "break-even", label, WIDTH, y1 + 44, body)
