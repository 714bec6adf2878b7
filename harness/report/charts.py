"""Inline SVG charts for the report: pure functions from plain data to `Markup`.

No script, no external reference, nothing to load: each chart renders as-is under
`default-src 'none'; style-src 'unsafe-inline'`. Every string that comes from data (arm, parameter and metric
names) goes through `el` (harness.report.svg), which escapes it; names are untrusted (a model or arm can be called anything).
Elements carry CSS classes for the page's stylesheet and presentation attributes for a page without one.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from typing import Any

from markupsafe import Markup

from harness.report.svg import (
    CHAR_W,
    MUTED,
    WIDTH,
    clean,
    coord,
    el,
    field_of,
    finite,
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

ROLE_COLOURS = {"baseline": "#6b7280", "tuned": "#2563eb", "companion": "#d97706"}
SERIES_COLOURS = ("#2563eb", "#d97706", "#059669", "#9333ea", "#dc2626", "#0891b2", "#65a30d", "#db2777")
FAILED_COLOUR = "#dc2626"


def _role(role: Any) -> str:
    return role if role in ROLE_COLOURS else "companion"


# --- arm intervals (forest plot) --------------------------------------------------------------------------------

def interval_chart(rows: Sequence[Any], *, metric: str, higher_is_better: bool,
                   chart_id: str = "arm-intervals") -> Markup:
    """One row per arm: its value as a dot and its interval [low, high] as a line, on a shared x axis.
    `rows` are dicts or objects with `arm`, `value`, `low`, `high`, `role` and optionally `marker`."""
    row_h, top = 24.0, 8.0
    data = [(str(field_of(r, "arm", "")), _role(field_of(r, "role")), clean(field_of(r, "marker") or ""),
             *(finite(field_of(r, k)) for k in ("value", "low", "high"))) for r in rows]
    names = [shorten(arm, 28) for arm, *_ in data]
    label_w = min(max([len(s) for s in names] + [6]) * CHAR_W + 12, 200)
    right_w = min(max([8 + len(marker) for _, _, marker, *_ in data] + [8]) * CHAR_W + 12, 180)
    x0, x1 = label_w, WIDTH - right_w
    axis_y = top + row_h * max(len(data), 1)

    spans = [v for *_, value, low, high in data if value is not None for v in (value, low, high) if v is not None]
    ticks = nice_ticks(min(spans), max(spans), 5) if spans else [0.0, 0.25, 0.5, 0.75, 1.0]
    step = ticks[1] - ticks[0]
    scale = linear(ticks[0], ticks[-1], x0, x1)

    body = x_axis(ticks, scale, axis_y, top, lambda t: tick_label(t, step))
    direction = "higher is better →" if higher_is_better else "← lower is better"
    body.append(text_el((x0 + x1) / 2, axis_y + 32, f"{metric} ({direction})", "axis-label", "middle"))

    for i, ((arm, role, marker, value, low, high), name) in enumerate(zip(data, names, strict=True)):
        colour = ROLE_COLOURS[role]
        cy = top + row_h * i + row_h / 2
        tip = f"{arm}: no result" if value is None else f"{arm}: {short_number(value)}" + (
            f" ({short_number(low)} to {short_number(high)})" if low is not None and high is not None else "")
        parts = [el("title", tip + (f" · {marker}" if marker else "")),
                 text_el(x0 - 8, cy + 4, name, "arm-label", "end")]
        if value is None:
            parts.append(text_el(x0 + 4, cy + 4, "no result", "no-result", fill=MUTED, font_style="italic"))
        else:
            if low is not None and high is not None:
                parts.append(el("line", x1=scale(low), x2=scale(high), y1=cy, y2=cy, class_=f"interval {role}",
                                 stroke=colour, stroke_width=2, stroke_linecap="round"))
            parts.append(el("circle", cx=scale(value), cy=cy, r=4.5, class_=f"point {role}", fill=colour))
        value_text = [] if value is None else [short_number(value)]
        marker_text = [el("tspan", marker, class_="marker", dx=8 if value_text else 0, fill=MUTED,
                           font_style="italic")] if marker else []
        if value_text or marker_text:
            parts.append(el("text", *value_text, *marker_text, x=x1 + 10, y=cy + 4, class_="value"))
        body.append(el("g", *parts, class_=f"row {role}", data_arm=arm))

    label = f"{metric} by arm: point estimate and interval ({'higher' if higher_is_better else 'lower'} is better)"
    return svg_root(chart_id, "intervals", label, WIDTH, axis_y + 44, body)


# --- sweep trial history ----------------------------------------------------------------------------------------

def _trial_point(trial: Any) -> float | None:
    """Where a pruned or running trial is drawn: its last reported evaluation, else its value."""
    steps = [(field_of(e, "step") or 0, finite(field_of(e, "value"))) for e in (field_of(trial, "intermediate") or [])]
    steps = [(s, v) for s, v in steps if v is not None]
    if steps:
        return max(steps, key=lambda sv: sv[0])[1]
    return finite(field_of(trial, "value"))


def _state(trial: Any) -> str:
    state = str(field_of(trial, "state") or "").lower()
    return "failed" if state in ("fail", "failed") else state


def _legend(items: Sequence[tuple[Any, str, str]], x0: float, y: float, width: float) -> tuple[list[Markup], float]:
    """Items (glyph drawn at (x, y), label, class) laid out left to right, wrapping; the elements and height."""
    out, x, line = [], x0, 0
    for glyph, label, cls in items:
        w = 22 + len(label) * CHAR_W + 14
        if x + w > x0 + width and x > x0:
            x, line = x0, line + 1
        yy = y + line * 18
        out.append(el("g", glyph(x, yy), text_el(x + 20, yy + 4, label, "legend-label"), class_=f"legend-item {cls}"))
        x += w
    return out, (line + 1) * 18


def _cross(x: float, y: float, r: float, **attrs: object) -> Markup:
    d = (f"M{coord(x - r)} {coord(y - r)}L{coord(x + r)} {coord(y + r)}"
         f"M{coord(x - r)} {coord(y + r)}L{coord(x + r)} {coord(y - r)}")
    return el("path", d=d, **attrs)


def trial_history(trials: Sequence[Any], *, metric: str, higher_is_better: bool,
                  chart_id: str = "trial-history") -> Markup | None:
    """Validation metric by trial number, one series per arm: completed trials as dots, pruned ones as crosses at
    their last evaluation, failed ones as rings on the x axis, and each arm's best-so-far as a step line.
    None when no trial has a value to plot."""
    arms = list(dict.fromkeys(str(field_of(t, "arm", "")) for t in trials))
    placed = [(t, _state(t), _trial_point(t) if _state(t) != "complete" else finite(field_of(t, "value")))
              for t in trials]
    values = [v for _, s, v in placed if v is not None and s != "failed"]
    if not values:
        return None

    left, right, top = 56.0, 16.0, 24.0
    plot_h = 200.0
    x0, x1, y0, y1 = left, WIDTH - right, top, top + plot_h  # y1 is the x axis (bottom of the plot)
    numbers = [int(field_of(t, "trial_number", 0) or 0) for t in trials]
    xt = nice_ticks(min(numbers), max(numbers), 6, integer=True)
    yt = nice_ticks(min(values), max(values), 5)
    xs = linear(xt[0], xt[-1], x0 + 8, x1 - 8)
    ys = linear(yt[0], yt[-1], y1, y0)
    ystep = yt[1] - yt[0]

    body = y_axis(yt, ys, x0, x1, lambda t: tick_label(t, ystep))
    body += x_axis(xt, xs, y1, y0, lambda t: f"{t:.0f}", span=(x0, x1))
    direction = "↑ higher is better" if higher_is_better else "↓ lower is better"
    body.append(text_el(x0, top - 10, f"{metric} on validation ({direction})", "axis-label"))
    body.append(text_el((x0 + x1) / 2, y1 + 32, "trial number", "axis-label", "middle"))

    better = (lambda a, b: a > b) if higher_is_better else (lambda a, b: a < b)
    for i, arm in enumerate(arms):
        colour = SERIES_COLOURS[i % len(SERIES_COLOURS)]
        mine = sorted((p for p in placed if str(field_of(p[0], "arm", "")) == arm),
                      key=lambda p: int(field_of(p[0], "trial_number", 0) or 0))
        parts: list[Markup] = []
        best: float | None = None
        steps: list[str] = []
        for trial, state, value in mine:
            n = int(field_of(trial, "trial_number", 0) or 0)
            cx = xs(n)
            if state == "complete" and value is not None:
                if best is None or better(value, best):
                    best = value
                    steps.append(f"H{coord(cx)}V{coord(ys(best))}" if steps else f"M{coord(cx)} {coord(ys(best))}")
                tip = f"{arm} · trial {n} · complete: {short_number(value)}"
                parts.append(el("circle", el("title", tip), cx=cx, cy=ys(value), r=3.5,
                                 class_="point complete", fill=colour))
            elif state == "pruned" and value is not None:
                tip = f"{arm} · trial {n} · pruned at {short_number(value)}"
                parts.append(el("g", el("title", tip), _cross(cx, ys(value), 3.5, class_="point pruned",
                                                                stroke=colour, stroke_width=1.6, fill="none")))
            elif state == "running" and value is not None:
                tip = f"{arm} · trial {n} · running: {short_number(value)}"
                parts.append(el("circle", el("title", tip), cx=cx, cy=ys(value), r=3.5, class_="point running",
                                 fill="none", stroke=colour, stroke_width=1.2))
            elif state in ("failed", "complete"):  # a complete trial without a finite value failed in effect
                tip = f"{arm} · trial {n} · failed"
                parts.append(el("circle", el("title", tip), cx=cx, cy=y1, r=3, class_="point failed",
                                 fill="#fff", stroke=FAILED_COLOUR, stroke_width=1.2))
        if steps:
            last_n = int(field_of(mine[-1][0], "trial_number", 0) or 0)
            d = "".join(steps) + f"H{coord(xs(last_n))}"
            parts.insert(0, el("path", d=d, class_="best", fill="none", stroke=colour, stroke_width=1.4,
                                stroke_opacity=0.7))
        body.append(el("g", *parts, class_=f"series series-{i}", data_arm=arm))

    legend, legend_h = _legend(_trial_legend(arms), x0, y1 + 54, x1 - x0)
    body.append(el("g", *legend, class_="legend"))

    label = f"{metric} on validation by sweep trial, per arm ({'higher' if higher_is_better else 'lower'} is better)"
    return svg_root(chart_id, "trials", label, WIDTH, y1 + 54 + legend_h, body)


def _trial_legend(arms: list[str]) -> list[tuple[Any, str, str]]:
    """One legend item per arm's series, then the trial states and the best-so-far line."""
    legend_items: list[tuple[Any, str, str]] = []
    for i, arm in enumerate(arms):
        colour = SERIES_COLOURS[i % len(SERIES_COLOURS)]
        legend_items.append((lambda x, y, c=colour: el("circle", cx=x + 8, cy=y, r=4, fill=c),
                             shorten(arm, 28), f"series-{i}"))
    return legend_items + [
        (lambda x, y: el("circle", cx=x + 8, cy=y, r=3.5, fill=MUTED), "complete", "complete"),
        (lambda x, y: _cross(x + 8, y, 3.5, stroke=MUTED, stroke_width=1.6, fill="none"), "pruned", "pruned"),
        (lambda x, y: el("circle", cx=x + 8, cy=y, r=3, fill="#fff", stroke=FAILED_COLOUR, stroke_width=1.2),
         "failed", "failed"),
        (lambda x, y: el("path", d=f"M{coord(x)} {coord(y + 3)}H{coord(x + 8)}V{coord(y - 3)}H{coord(x + 16)}",
                         fill="none", stroke=MUTED, stroke_width=1.4), "best so far", "best"),
    ]


# --- hyperparameter importance ----------------------------------------------------------------------------------

def importance_bars(importances: dict[str, float], *, chart_id: str = "param-importance") -> Markup | None:
    """Horizontal bars, largest first, each labelled with its share as a percent. None when empty."""
    if not importances:
        return None
    items = sorted(((str(k), max(finite(v) or 0.0, 0.0)) for k, v in importances.items()),
                   key=lambda kv: (-kv[1], kv[0]))
    row_h, top = 22.0, 6.0
    names = [shorten(k, 32) for k, _ in items]
    label_w = min(max(len(s) for s in names) * CHAR_W + 12, 220)
    x0, x1 = label_w, WIDTH - 56
    peak = max(v for _, v in items) or 1.0
    body = []
    for i, ((name, value), short) in enumerate(zip(items, names, strict=True)):
        y = top + row_h * i
        w = (x1 - x0) * value / peak
        pct = f"{value * 100:.1f}%"
        body.append(el(
            "g", el("title", f"{name}: {pct}"),
            text_el(x0 - 8, y + row_h / 2 + 4, short, "param-label", "end"),
            el("rect", x=x0, y=y + 4, width=max(w, 0.5), height=row_h - 8, class_="bar", fill="#2563eb", rx=2),
            text_el(x0 + w + 6, y + row_h / 2 + 4, pct, "value"),
            class_="row", data_param=name,
        ))
    height = top * 2 + row_h * len(items)
    return svg_root(chart_id, "importance", "hyperparameter importance (share of the variance in the sweep's metric)",
                WIDTH, height, body)


def _distribution(values: list[Any]) -> tuple[Any, Any] | None:
    """The Optuna distribution for one parameter's observed values and how to convert a value into it;
    None for a constant."""
    from optuna import distributions as od

    if all(isinstance(v, bool) for v in values):
        return (od.CategoricalDistribution([False, True]), bool) if len(set(values)) > 1 else None
    if all(isinstance(v, int) and not isinstance(v, bool) for v in values):
        lo, hi = min(values), max(values)
        return (od.IntDistribution(lo, hi), int) if lo < hi else None
    if all(isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v) for v in values):
        lo, hi = float(min(values)), float(max(values))
        if lo == hi:
            return None
        return od.FloatDistribution(lo, hi, log=lo > 0 and hi / lo >= 100), float

    def as_choice(v: Any) -> Any:
        return v if isinstance(v, str) else repr(v)

    choices = sorted({as_choice(v) for v in values})
    return (od.CategoricalDistribution(choices), as_choice) if len(choices) > 1 else None


def param_importances(trials: Sequence[Any], *, higher_is_better: bool) -> dict[str, float] | None:
    """fANOVA importance of each varying hyperparameter over the completed trials, summing to 1, largest first.
    None with fewer than 3 usable trials, no varying parameter, or any failure: it is a nicety of the report."""
    usable = [(dict(field_of(t, "params") or {}), finite(field_of(t, "value"))) for t in trials
              if _state(t) == "complete"]
    usable = [(p, v) for p, v in usable if v is not None]
    if len(usable) < 3:
        return None
    common = set.intersection(*(set(p) for p, _ in usable))  # fANOVA needs every parameter in every trial
    found = {name: _distribution([p[name] for p, _ in usable]) for name in sorted(common)}
    found = {name: d for name, d in found.items() if d is not None}
    if not found:
        return None
    try:
        import optuna

        previous = optuna.logging.get_verbosity()
        optuna.logging.set_verbosity(optuna.logging.WARNING)
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                study = optuna.create_study(direction="maximize" if higher_is_better else "minimize")
                distributions = {name: dist for name, (dist, _) in found.items()}
                for params, value in usable:
                    study.add_trial(optuna.trial.create_trial(
                        params={name: convert(params[name]) for name, (_, convert) in found.items()},
                        distributions=distributions, value=value))
                result = optuna.importance.get_param_importances(
                    study, evaluator=optuna.importance.FanovaImportanceEvaluator(seed=0))
        finally:
            optuna.logging.set_verbosity(previous)
    except Exception:  # noqa: BLE001 - a failed importance estimate only drops the chart
        return None
    return {name: float(v) for name, v in result.items()}
