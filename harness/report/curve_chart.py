"""The learning-curve chart: a tuned arm's metric against training examples on a log axis, with the fitted curve and
its band (dashed where it extrapolates), the best baseline and baseline + min_lift as lines, and the crossing.

    harness run tasks/support_tickets.yaml --curve     # then open the report

Pure: a `harness.verdict.curve.CurveAnalysis` in, inline SVG `Markup` out (the conventions of `charts`).
"""

from __future__ import annotations

import math
from typing import Any

from markupsafe import Markup

from harness.report.charts import ROLE_COLOURS, _legend
from harness.report.svg import (
    INK,
    MUTED,
    WIDTH,
    coord,
    el,
    linear,
    nice_ticks,
    short_number,
    shorten,
    svg_root,
    text_el,
    tick_label,
    x_axis,
    y_axis,
)
from harness.verdict.curve import CurveAnalysis, interval_text

TUNED, BASE, TARGET = ROLE_COLOURS["tuned"], ROLE_COLOURS["baseline"], "#d97706"


def _log_ticks(lo: float, hi: float) -> list[float]:
    """1, 2, 5 times powers of ten inside [lo, hi]."""
    out = []
    for power in range(math.floor(math.log10(lo)), math.ceil(math.log10(hi)) + 1):
        out += [m * 10.0**power for m in (1, 2, 5) if lo <= m * 10.0**power <= hi]
    return out


def _path(points: list[tuple[float, float]]) -> str:
    return "M" + "L".join(f"{coord(x)} {coord(y)}" for x, y in points)


def learning_curve_chart(a: CurveAnalysis, *, chart_id: str = "learning-curve") -> Markup:
    """The curve of one tuned arm (see the module docstring)."""
    left, right, top, plot_h = 56.0, 150.0, 22.0, 220.0
    x0, x1, y0, y1 = left, WIDTH - right, top, top + plot_h
    smallest = a.sizes[0].size
    n_lo, n_hi = smallest / 1.4, max(a.limit, a.largest) * 1.05
    log_lo, log_hi = math.log(n_lo), math.log(n_hi)
    xs_log = linear(log_lo, log_hi, x0, x1)

    def xs(n: float) -> float:
        return xs_log(math.log(min(max(n, n_lo), n_hi)))

    values = [a.baseline_value, a.target] + [v for s in a.sizes for v in (s.value, s.low, s.high, *s.seeds)
                                             if v is not None]
    values += [v for b in a.band for v in (b.low, b.high)]
    yt = nice_ticks(min(values), max(values), 5)
    ys = linear(yt[0], yt[-1], y1, y0)
    ystep = yt[1] - yt[0]

    xt = _log_ticks(n_lo, n_hi) or [smallest, a.largest]
    body = y_axis(yt, ys, x0, x1, lambda t: tick_label(t, ystep))
    body += x_axis(xt, xs, y1, y0, lambda t: f"{t:,.0f}", span=(x0, x1))
    direction = "↑ higher is better" if a.higher_is_better else "↓ lower is better"
    body.append(text_el(x0, top - 8, f"{a.metric} on the test items ({direction})", "axis-label"))
    body.append(text_el((x0 + x1) / 2, y1 + 32, "training examples (log scale)", "axis-label", "middle"))
    body += _fit(a, xs, ys)
    body += _references(a, ys, x0, x1)
    body += [_point(s, xs(s.size), ys) for s in a.sizes]
    body.append(el("line", x1=xs(a.largest), x2=xs(a.largest), y1=y0, y2=y1, stroke=MUTED, stroke_dasharray="1 3",
                    class_="you-have"))
    body.append(text_el(xs(a.largest) + 3, y0 + 10, f"you have {a.largest:,}", "you-have-label", fill=MUTED))
    body += _crossing(a, xs, ys, y0, y1)

    legend, legend_h = _curve_legend(a, x0, y1 + 54)
    body.append(el("g", *legend, class_="legend"))
    label = f"learning curve of {a.arm}: {a.metric} by training examples against {a.baseline} + min_lift"
    return svg_root(chart_id, "curve", label, WIDTH, y1 + 54 + legend_h, body)


def _fit(a: CurveAnalysis, xs: Any, ys: Any) -> list[Markup]:
    """The fitted curve (solid where measured, dashed beyond) and its band."""
    if not a.band:
        return []
    measured = [b for b in a.band if b.n <= a.largest * 1.0001]
    beyond = [b for b in a.band if b.n >= a.largest * 0.9999]
    outline = [(xs(b.n), ys(b.high)) for b in a.band] + [(xs(b.n), ys(b.low)) for b in reversed(a.band)]
    return [
        el("path", el("title", f"{a.confidence:.0%} band of the fitted curve"), d=_path(outline) + "Z",
           class_="band", fill=TUNED, fill_opacity=0.12, stroke="none"),
        el("path", d=_path([(xs(b.n), ys(b.value)) for b in measured]), class_="fit measured",
           fill="none", stroke=TUNED, stroke_width=2),
        el("path", d=_path([(xs(b.n), ys(b.value)) for b in beyond]), class_="fit extrapolated",
           fill="none", stroke=TUNED, stroke_width=2, stroke_dasharray="5 4"),
    ]


def _references(a: CurveAnalysis, ys: Any, x0: float, x1: float) -> list[Markup]:
    """The baseline and baseline + min_lift as labelled lines."""
    out: list[Markup] = []
    at = {"baseline": ys(a.baseline_value), "target": ys(a.target)}
    labels = dict(at)
    if abs(labels["baseline"] - labels["target"]) < 13:  # keep the two labels from overprinting
        mid = (labels["baseline"] + labels["target"]) / 2
        above = -1 if labels["target"] <= labels["baseline"] else 1
        labels["target"], labels["baseline"] = mid + above * 6.5, mid - above * 6.5
    for cls, name, shown, value, colour, dash in (
            ("baseline", f"baseline {a.baseline}", "baseline", a.baseline_value, BASE, None),
            ("target", "baseline + min_lift", "+ min_lift", a.target, TARGET, "2 3")):
        out.append(el("g", el("title", f"{name}: {short_number(value)}"),
                      el("line", x1=x0, x2=x1, y1=at[cls], y2=at[cls], stroke=colour, stroke_width=1.5,
                         stroke_dasharray=dash),
                      text_el(x1 + 6, labels[cls] + 4, f"{shown} {short_number(value)}", "line-label", fill=colour),
                      class_=f"reference {cls}"))
    return out


def _point(s: Any, x: float, ys: Any) -> Markup:
    """One measured size: its value, interval and seeds."""
    parts = [el("title", f"{s.size:,} examples: {short_number(s.value)}"
                 + (f" ({short_number(s.low)} to {short_number(s.high)})" if s.low is not None and s.high is not None else "")
                 + (f"; seeds {', '.join(short_number(v) for v in s.seeds)}" if len(s.seeds) > 1 else ""))]
    if s.low is not None and s.high is not None:
        parts.append(el("line", x1=x, x2=x, y1=ys(s.low), y2=ys(s.high), stroke=TUNED, stroke_width=1.5))
    if len(s.seeds) > 1:
        parts += [el("circle", cx=x, cy=ys(v), r=2.5, class_="seed", fill="#fff", stroke=TUNED) for v in s.seeds]
    parts.append(el("circle", cx=x, cy=ys(s.value), r=4.5, class_="point", fill=TUNED))
    return el("g", *parts, class_="size", data_size=s.size)


def _curve_legend(a: CurveAnalysis, x0: float, y: float) -> tuple[list[Markup], float]:
    return _legend([
        (lambda x, y: el("circle", cx=x + 8, cy=y, r=4, fill=TUNED), f"{a.arm}, measured", "measured"),
        (lambda x, y: el("line", x1=x, x2=x + 16, y1=y, y2=y, stroke=TUNED, stroke_width=2), "fitted", "fitted"),
        (lambda x, y: el("line", x1=x, x2=x + 16, y1=y, y2=y, stroke=TUNED, stroke_width=2, stroke_dasharray="5 4"),
         "extrapolated", "extrapolated"),
        (lambda x, y: el("rect", x=x, y=y - 5, width=16, height=10, fill=TUNED, fill_opacity=0.12),
         f"{a.confidence:.0%} band", "band"),
        (lambda x, y: el("line", x1=x, x2=x + 16, y1=y, y2=y, stroke=BASE, stroke_width=1.5),
         f"baseline: {shorten(a.baseline, 40)}", "baseline"),
        (lambda x, y: el("line", x1=x, x2=x + 16, y1=y, y2=y, stroke=TARGET, stroke_width=1.5, stroke_dasharray="2 3"),
         f"baseline + min_lift ({a.min_lift:g})", "target"),
    ], x0, y, WIDTH - x0 - 16)


def _crossing(a: CurveAnalysis, xs: Any, ys: Any, y0: float, y1: float) -> list[Markup]:  # xs, ys: scales
    """Where the curve clears the target: the measured point, or the fitted crossing with its interval."""
    if a.kind in ("already", "reached") and a.reached_at is not None:
        x, y = xs(a.reached_at), ys(next(s.value for s in a.sizes if s.size == a.reached_at))
        text = f"clears it at {a.reached_at:,}"
    elif a.kind == "crossing" and a.crossing is not None:
        x, y = xs(a.crossing), ys(a.target)
        text = f"≈{a.crossing:,.0f} {interval_text(a)}"
    else:
        return [text_el(xs(a.limit), y0 + 24, f"not reached by {a.limit:,.0f}", "crossing-label not-reached", "end",
                      fill="#b91c1c", font_weight="600")]
    parts = [el("line", x1=x, x2=x, y1=y, y2=y1, stroke=INK, stroke_dasharray="4 3")]
    if a.kind == "crossing" and a.crossing_low is not None:
        high = a.crossing_high if a.crossing_high is not None and a.crossing_high <= a.limit else a.limit
        parts.append(el("line", x1=xs(a.crossing_low), x2=xs(high), y1=y, y2=y, stroke=INK, stroke_width=3,
                         stroke_opacity=0.35, class_="crossing-interval"))
    anchor = "end" if x > (xs(a.sizes[0].size) + xs(a.limit)) / 2 else "start"
    parts += [el("circle", cx=x, cy=y, r=5, fill="#fff", stroke=INK, stroke_width=2),
              text_el(x + (-8 if anchor == "end" else 8), max(y - 10, y0 + 22), text, "crossing-label", anchor,
                    font_weight="600", stroke="#fff", stroke_width=4, stroke_linejoin="round", paint_order="stroke")]
    return [el("g", *parts, class_="crossing", data_kind=a.kind)]
