"""Inline SVG charts for the report: pure functions from plain data to `Markup`.

No script, no external reference, nothing to load: each chart renders as-is under
`default-src 'none'; style-src 'unsafe-inline'`. Every string that comes from data (arm, parameter and metric
names) goes through `_el`, which escapes it; names are untrusted (a model or arm can be called anything).
Elements carry CSS classes for the page's stylesheet and presentation attributes for a page without one.
"""

from __future__ import annotations

import math
import unicodedata
import warnings
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from markupsafe import Markup, escape

WIDTH = 640
CHAR_W = 6.2  # rough advance of an 11px sans-serif character, for laying out labels without measuring them
FONT = "system-ui, -apple-system, 'Segoe UI', sans-serif"
INK, MUTED, GRID = "#1f2937", "#6b7280", "#e5e7eb"
ROLE_COLOURS = {"baseline": "#6b7280", "tuned": "#2563eb", "companion": "#d97706"}
SERIES_COLOURS = ("#2563eb", "#d97706", "#059669", "#9333ea", "#dc2626", "#0891b2", "#65a30d", "#db2777")
FAILED_COLOUR = "#dc2626"


# --- markup helpers ---------------------------------------------------------------------------------------------

def _f(v: float) -> str:
    """A coordinate rounded to 0.1."""
    s = f"{v:.1f}"
    s = s.removesuffix(".0")
    return "0" if s == "-0" else s


def _clean(text: object, *, shown: bool = True) -> str:
    """Characters XML forbids, and in shown text also control and bidi-formatting characters, written as
    [U+XXXX]: a right-to-left override in a name must not reorder the rest of the chart or disguise the name."""
    out = []
    for ch in str(text):
        category = unicodedata.category(ch)
        invalid = (category == "Cc" and ch not in "\t\n\r") or category == "Cs" or ch in "\ufffe\uffff"
        if invalid or (shown and category in ("Cc", "Cf") and ch != "\t"):
            out.append(f"[U+{ord(ch):04X}]")
        else:
            out.append(ch)
    return "".join(out)


def _short(text: str, limit: int) -> str:
    text = _clean(text)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _attr(value: object) -> Markup:
    if isinstance(value, bool):
        return Markup("true" if value else "false")
    if isinstance(value, int | float):
        return Markup(_f(float(value)))
    return escape(_clean(value, shown=False))


def _el(tag: str, *children: object, **attrs: object) -> Markup:
    """`<tag attrs>children</tag>`; attribute names use `_` for `-` (a trailing `_` is dropped: `class_`).
    Str children are text and are escaped; Markup children are nested elements."""
    parts = [tag]
    for key, value in attrs.items():
        if value is not None:
            parts.append(f'{key.rstrip("_").replace("_", "-")}="{_attr(value)}"')
    head = " ".join(parts)
    if not children:
        return Markup(f"<{head}/>")
    inner = "".join(c if isinstance(c, Markup) else str(escape(_clean(c))) for c in children)
    return Markup(f"<{head}>{inner}</{tag}>")


def _svg(chart_id: str, kind: str, label: str, width: float, height: float, body: Iterable[Markup]) -> Markup:
    return _el(
        "svg", _el("title", label), *body,
        xmlns="http://www.w3.org/2000/svg", id=chart_id, class_=f"chart chart-{kind}", role="img",
        aria_label=label, viewBox=f"0 0 {_f(width)} {_f(height)}", width="100%",
        style=f"max-width:{_f(width)}px", preserveAspectRatio="xMinYMin meet",
        font_size="11", font_family=FONT, fill=INK,
    )


def _text(x: float, y: float, text: str, cls: str, anchor: str = "start", **attrs: object) -> Markup:
    return _el("text", text, x=x, y=y, class_=cls, text_anchor=anchor, **attrs)


def _get(obj: Any, name: str, default: Any = None) -> Any:
    if isinstance(obj, Mapping):
        return obj.get(name, default)
    return getattr(obj, name, default)


def _finite(v: Any) -> float | None:
    try:
        v = float(v)
    except (TypeError, ValueError):
        return None
    return v if math.isfinite(v) else None


def _decimals(step: float) -> int:
    for d in range(12):
        if abs(round(step, d) - step) <= abs(step) * 1e-6:
            return d
    return 12


def _value(v: float) -> str:
    return f"{v:,.0f}" if abs(v) >= 1000 else f"{v:.3g}"


def _tick_label(v: float, step: float) -> str:
    if abs(v) >= 10000 and step >= 1:
        return f"{v:,.0f}"
    return f"{v:.{_decimals(step)}f}"


def nice_ticks(lo: float, hi: float, n: int = 5, *, integer: bool = False) -> list[float]:
    """About `n` round tick values (steps of 1, 2, 2.5 or 5 times a power of ten) whose span covers [lo, hi].
    `integer` keeps steps whole (trial numbers)."""
    if not (math.isfinite(lo) and math.isfinite(hi)):
        raise ValueError(f"ticks need finite bounds, got {lo!r}, {hi!r}")
    lo, hi = min(lo, hi), max(lo, hi)
    if hi == lo:
        pad = 1.0 if integer else (abs(lo) * 0.1 or 1.0)
        lo, hi = lo - pad, hi + pad
    n = max(n, 2)
    base = 10.0 ** math.floor(math.log10((hi - lo) / (n - 1)))
    candidates = [m * base * s for s in (0.1, 1.0, 10.0) for m in (1, 2, 2.5, 5)]
    if integer:
        candidates = [c for c in candidates if c >= 1 and c == int(c)] or [1.0]
    best: tuple[tuple[float, float], float, int, int] | None = None
    for step in candidates:
        first = math.floor(lo / step + 1e-9)
        last = math.ceil(hi / step - 1e-9)
        count = last - first + 1
        score = (abs(count - n), (last - first) * step - (hi - lo))  # nearest count to n, then least slack
        if best is None or score < best[0]:
            best = (score, step, first, last)
    assert best is not None
    _, step, first, last = best
    digits = _decimals(step) + 1
    return [round(k * step, digits) + 0.0 for k in range(first, last + 1)]


def _x_axis(ticks: Sequence[float], scale: Any, y: float, top: float, fmt: Any,
            span: tuple[float, float] | None = None) -> list[Markup]:
    a, b = span or (scale(ticks[0]), scale(ticks[-1]))
    out = [_el("line", x1=a, x2=b, y1=y, y2=y, class_="axis", stroke=MUTED)]
    for t in ticks:
        x = scale(t)
        out.append(_el("line", x1=x, x2=x, y1=top, y2=y, class_="grid", stroke=GRID))
        out.append(_text(x, y + 14, fmt(t), "tick", "middle", fill=MUTED))
    return out


def _y_axis(ticks: Sequence[float], scale: Any, x: float, right: float, fmt: Any) -> list[Markup]:
    out = [_el("line", x1=x, x2=x, y1=scale(ticks[0]), y2=scale(ticks[-1]), class_="axis", stroke=MUTED)]
    for t in ticks:
        y = scale(t)
        out.append(_el("line", x1=x, x2=right, y1=y, y2=y, class_="grid", stroke=GRID))
        out.append(_text(x - 6, y + 4, fmt(t), "tick", "end", fill=MUTED))
    return out


def _linear(d0: float, d1: float, r0: float, r1: float) -> Any:
    span = (d1 - d0) or 1.0
    return lambda v: r0 + (v - d0) / span * (r1 - r0)


def _role(role: Any) -> str:
    return role if role in ROLE_COLOURS else "companion"


# --- arm intervals (forest plot) --------------------------------------------------------------------------------

def interval_chart(rows: Sequence[Any], *, metric: str, higher_is_better: bool,
                   chart_id: str = "arm-intervals") -> Markup:
    """One row per arm: its value as a dot and its interval [low, high] as a line, on a shared x axis.
    `rows` are dicts or objects with `arm`, `value`, `low`, `high`, `role` and optionally `marker`."""
    row_h, top = 24.0, 8.0
    data = [(str(_get(r, "arm", "")), _role(_get(r, "role")), _clean(_get(r, "marker") or ""),
             *(_finite(_get(r, k)) for k in ("value", "low", "high"))) for r in rows]
    names = [_short(arm, 28) for arm, *_ in data]
    label_w = min(max([len(s) for s in names] + [6]) * CHAR_W + 12, 200)
    right_w = min(max([8 + len(marker) for _, _, marker, *_ in data] + [8]) * CHAR_W + 12, 180)
    x0, x1 = label_w, WIDTH - right_w
    axis_y = top + row_h * max(len(data), 1)

    spans = [v for *_, value, low, high in data if value is not None for v in (value, low, high) if v is not None]
    ticks = nice_ticks(min(spans), max(spans), 5) if spans else [0.0, 0.25, 0.5, 0.75, 1.0]
    step = ticks[1] - ticks[0]
    scale = _linear(ticks[0], ticks[-1], x0, x1)

    body = _x_axis(ticks, scale, axis_y, top, lambda t: _tick_label(t, step))
    direction = "higher is better →" if higher_is_better else "← lower is better"
    body.append(_text((x0 + x1) / 2, axis_y + 32, f"{metric} ({direction})", "axis-label", "middle"))

    for i, ((arm, role, marker, value, low, high), name) in enumerate(zip(data, names, strict=True)):
        colour = ROLE_COLOURS[role]
        cy = top + row_h * i + row_h / 2
        tip = f"{arm}: no result" if value is None else f"{arm}: {_value(value)}" + (
            f" ({_value(low)} to {_value(high)})" if low is not None and high is not None else "")
        parts = [_el("title", tip + (f" · {marker}" if marker else "")),
                 _text(x0 - 8, cy + 4, name, "arm-label", "end")]
        if value is None:
            parts.append(_text(x0 + 4, cy + 4, "no result", "no-result", fill=MUTED, font_style="italic"))
        else:
            if low is not None and high is not None:
                parts.append(_el("line", x1=scale(low), x2=scale(high), y1=cy, y2=cy, class_=f"interval {role}",
                                 stroke=colour, stroke_width=2, stroke_linecap="round"))
            parts.append(_el("circle", cx=scale(value), cy=cy, r=4.5, class_=f"point {role}", fill=colour))
        value_text = [] if value is None else [_value(value)]
        marker_text = [_el("tspan", marker, class_="marker", dx=8 if value_text else 0, fill=MUTED,
                           font_style="italic")] if marker else []
        if value_text or marker_text:
            parts.append(_el("text", *value_text, *marker_text, x=x1 + 10, y=cy + 4, class_="value"))
        body.append(_el("g", *parts, class_=f"row {role}", data_arm=arm))

    label = f"{metric} by arm: point estimate and interval ({'higher' if higher_is_better else 'lower'} is better)"
    return _svg(chart_id, "intervals", label, WIDTH, axis_y + 44, body)


# --- sweep trial history ----------------------------------------------------------------------------------------

def _trial_point(trial: Any) -> float | None:
    """Where a pruned or running trial is drawn: its last reported evaluation, else its value."""
    steps = [(_get(e, "step") or 0, _finite(_get(e, "value"))) for e in (_get(trial, "intermediate") or [])]
    steps = [(s, v) for s, v in steps if v is not None]
    if steps:
        return max(steps, key=lambda sv: sv[0])[1]
    return _finite(_get(trial, "value"))


def _state(trial: Any) -> str:
    state = str(_get(trial, "state") or "").lower()
    return "failed" if state in ("fail", "failed") else state


def _legend(items: Sequence[tuple[Any, str, str]], x0: float, y: float, width: float) -> tuple[list[Markup], float]:
    """Items (glyph drawn at (x, y), label, class) laid out left to right, wrapping; the elements and height."""
    out, x, line = [], x0, 0
    for glyph, label, cls in items:
        w = 22 + len(label) * CHAR_W + 14
        if x + w > x0 + width and x > x0:
            x, line = x0, line + 1
        yy = y + line * 18
        out.append(_el("g", glyph(x, yy), _text(x + 20, yy + 4, label, "legend-label"), class_=f"legend-item {cls}"))
        x += w
    return out, (line + 1) * 18


def _cross(x: float, y: float, r: float, **attrs: object) -> Markup:
    d = f"M{_f(x - r)} {_f(y - r)}L{_f(x + r)} {_f(y + r)}M{_f(x - r)} {_f(y + r)}L{_f(x + r)} {_f(y - r)}"
    return _el("path", d=d, **attrs)


def trial_history(trials: Sequence[Any], *, metric: str, higher_is_better: bool,
                  chart_id: str = "trial-history") -> Markup | None:
    """Validation metric by trial number, one series per arm: completed trials as dots, pruned ones as crosses at
    their last evaluation, failed ones as rings on the x axis, and each arm's best-so-far as a step line.
    None when no trial has a value to plot."""
    arms = list(dict.fromkeys(str(_get(t, "arm", "")) for t in trials))
    placed = [(t, _state(t), _trial_point(t) if _state(t) != "complete" else _finite(_get(t, "value")))
              for t in trials]
    values = [v for _, s, v in placed if v is not None and s != "failed"]
    if not values:
        return None

    left, right, top = 56.0, 16.0, 24.0
    plot_h = 200.0
    x0, x1, y0, y1 = left, WIDTH - right, top, top + plot_h  # y1 is the x axis (bottom of the plot)
    numbers = [int(_get(t, "trial_number", 0) or 0) for t in trials]
    xt = nice_ticks(min(numbers), max(numbers), 6, integer=True)
    yt = nice_ticks(min(values), max(values), 5)
    xs = _linear(xt[0], xt[-1], x0 + 8, x1 - 8)
    ys = _linear(yt[0], yt[-1], y1, y0)
    ystep = yt[1] - yt[0]

    body = _y_axis(yt, ys, x0, x1, lambda t: _tick_label(t, ystep))
    body += _x_axis(xt, xs, y1, y0, lambda t: f"{t:.0f}", span=(x0, x1))
    direction = "↑ higher is better" if higher_is_better else "↓ lower is better"
    body.append(_text(x0, top - 10, f"{metric} on validation ({direction})", "axis-label"))
    body.append(_text((x0 + x1) / 2, y1 + 32, "trial number", "axis-label", "middle"))

    better = (lambda a, b: a > b) if higher_is_better else (lambda a, b: a < b)
    for i, arm in enumerate(arms):
        colour = SERIES_COLOURS[i % len(SERIES_COLOURS)]
        mine = sorted((p for p in placed if str(_get(p[0], "arm", "")) == arm),
                      key=lambda p: int(_get(p[0], "trial_number", 0) or 0))
        parts: list[Markup] = []
        best: float | None = None
        steps: list[str] = []
        for trial, state, value in mine:
            n = int(_get(trial, "trial_number", 0) or 0)
            cx = xs(n)
            if state == "complete" and value is not None:
                if best is None or better(value, best):
                    best = value
                    steps.append(f"H{_f(cx)}V{_f(ys(best))}" if steps else f"M{_f(cx)} {_f(ys(best))}")
                tip = f"{arm} · trial {n} · complete: {_value(value)}"
                parts.append(_el("circle", _el("title", tip), cx=cx, cy=ys(value), r=3.5,
                                 class_="point complete", fill=colour))
            elif state == "pruned" and value is not None:
                tip = f"{arm} · trial {n} · pruned at {_value(value)}"
                parts.append(_el("g", _el("title", tip), _cross(cx, ys(value), 3.5, class_="point pruned",
                                                                stroke=colour, stroke_width=1.6, fill="none")))
            elif state == "running" and value is not None:
                tip = f"{arm} · trial {n} · running: {_value(value)}"
                parts.append(_el("circle", _el("title", tip), cx=cx, cy=ys(value), r=3.5, class_="point running",
                                 fill="none", stroke=colour, stroke_width=1.2))
            elif state in ("failed", "complete"):  # a complete trial without a finite value failed in effect
                tip = f"{arm} · trial {n} · failed"
                parts.append(_el("circle", _el("title", tip), cx=cx, cy=y1, r=3, class_="point failed",
                                 fill="#fff", stroke=FAILED_COLOUR, stroke_width=1.2))
        if steps:
            last_n = int(_get(mine[-1][0], "trial_number", 0) or 0)
            d = "".join(steps) + f"H{_f(xs(last_n))}"
            parts.insert(0, _el("path", d=d, class_="best", fill="none", stroke=colour, stroke_width=1.4,
                                stroke_opacity=0.7))
        body.append(_el("g", *parts, class_=f"series series-{i}", data_arm=arm))

    legend_items: list[tuple[Any, str, str]] = []
    for i, arm in enumerate(arms):
        colour = SERIES_COLOURS[i % len(SERIES_COLOURS)]
        legend_items.append((lambda x, y, c=colour: _el("circle", cx=x + 8, cy=y, r=4, fill=c),
                             _short(arm, 28), f"series-{i}"))
    legend_items += [
        (lambda x, y: _el("circle", cx=x + 8, cy=y, r=3.5, fill=MUTED), "complete", "complete"),
        (lambda x, y: _cross(x + 8, y, 3.5, stroke=MUTED, stroke_width=1.6, fill="none"), "pruned", "pruned"),
        (lambda x, y: _el("circle", cx=x + 8, cy=y, r=3, fill="#fff", stroke=FAILED_COLOUR, stroke_width=1.2),
         "failed", "failed"),
        (lambda x, y: _el("path", d=f"M{_f(x)} {_f(y + 3)}H{_f(x + 8)}V{_f(y - 3)}H{_f(x + 16)}", fill="none",
                          stroke=MUTED, stroke_width=1.4), "best so far", "best"),
    ]
    legend, legend_h = _legend(legend_items, x0, y1 + 54, x1 - x0)
    body.append(_el("g", *legend, class_="legend"))

    label = f"{metric} on validation by sweep trial, per arm ({'higher' if higher_is_better else 'lower'} is better)"
    return _svg(chart_id, "trials", label, WIDTH, y1 + 54 + legend_h, body)


# --- hyperparameter importance ----------------------------------------------------------------------------------

def importance_bars(importances: dict[str, float], *, chart_id: str = "param-importance") -> Markup | None:
    """Horizontal bars, largest first, each labelled with its share as a percent. None when empty."""
    if not importances:
        return None
    items = sorted(((str(k), max(_finite(v) or 0.0, 0.0)) for k, v in importances.items()),
                   key=lambda kv: (-kv[1], kv[0]))
    row_h, top = 22.0, 6.0
    names = [_short(k, 32) for k, _ in items]
    label_w = min(max(len(s) for s in names) * CHAR_W + 12, 220)
    x0, x1 = label_w, WIDTH - 56
    peak = max(v for _, v in items) or 1.0
    body = []
    for i, ((name, value), short) in enumerate(zip(items, names, strict=True)):
        y = top + row_h * i
        w = (x1 - x0) * value / peak
        pct = f"{value * 100:.1f}%"
        body.append(_el(
            "g", _el("title", f"{name}: {pct}"),
            _text(x0 - 8, y + row_h / 2 + 4, short, "param-label", "end"),
            _el("rect", x=x0, y=y + 4, width=max(w, 0.5), height=row_h - 8, class_="bar", fill="#2563eb", rx=2),
            _text(x0 + w + 6, y + row_h / 2 + 4, pct, "value"),
            class_="row", data_param=name,
        ))
    height = top * 2 + row_h * len(items)
    return _svg(chart_id, "importance", "hyperparameter importance (share of the variance in the sweep's metric)",
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
    usable = [(dict(_get(t, "params") or {}), _finite(_get(t, "value"))) for t in trials
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


# --- break-even ------------------------------------------------------------------------------------------------

def crossing(training_cost: float, tuned_cpr: float, baseline_cpr: float) -> float | None:
    """Requests after which the tuned arm's per-request saving has repaid its training; None if it never does."""
    values = [_finite(training_cost), _finite(tuned_cpr), _finite(baseline_cpr)]
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
    training = max(_finite(training_cost) or 0.0, 0.0)
    ct = _finite(tuned_cost_per_request) or 0.0
    cb = _finite(baseline_cost_per_request) or 0.0
    rpd = _finite(requests_per_day) or 0.0
    horizon = max(rpd * (_finite(horizon_days) or 0.0), 0.0)
    n_star = crossing(training, ct, cb)
    x_max = max(horizon, 1.5 * n_star if n_star else 0.0) or 1.0

    left, right, top, plot_h = 64.0, 130.0, 16.0, 200.0
    x0, x1, y0, y1 = left, WIDTH - right, top, top + plot_h
    xt = nice_ticks(0.0, x_max, 5)
    y_top = max(training + ct * xt[-1], cb * xt[-1], 1e-9)
    yt = nice_ticks(0.0, y_top, 5)
    yt = [t for t in yt if t >= 0] or [0.0, y_top]
    xs = _linear(xt[0], xt[-1], x0, x1)
    ys = _linear(yt[0], yt[-1], y1, y0)

    body = _y_axis(yt, ys, x0, x1, _money)
    body += _x_axis(xt, xs, y1, y0, _si)
    body.append(_text(x0, top - 4, "cumulative cost ($)", "axis-label"))
    body.append(_text((x0 + x1) / 2, y1 + 32, "requests served", "axis-label", "middle"))

    n_end = xt[-1]
    ends = {"tuned": ys(training + ct * n_end), "baseline": ys(cb * n_end)}
    if abs(ends["tuned"] - ends["baseline"]) < 13:  # keep the two end labels from overprinting
        lower, upper = sorted(ends, key=ends.get)
        mid = (ends[lower] + ends[upper]) / 2
        ends[lower], ends[upper] = mid - 6.5, mid + 6.5
    for role, name, start, per in (("baseline", baseline, 0.0, cb), ("tuned", tuned, training, ct)):
        colour = ROLE_COLOURS[role]
        body.append(_el(
            "g", _el("title", f"{name}: {_money(start)} + {_sig(per, 3)} $/request"),
            _el("line", x1=xs(0), y1=ys(start), x2=xs(n_end), y2=ys(start + per * n_end), class_=f"line {role}",
                stroke=colour, stroke_width=2),
            _text(x1 + 6, ends[role] + 4, _short(name, 20), f"line-label {role}", fill=colour),
            class_=f"series {role}", data_arm=name,
        ))

    if horizon > 0:
        hx = xs(horizon)
        body.append(_el("g", _el("line", x1=hx, x2=hx, y1=y0, y2=y1, stroke=MUTED, stroke_dasharray="2 3"),
                        _text(hx - 4, y0 + 10, f"horizon ({_days(horizon_days)})", "horizon-label", "end",
                              fill=MUTED),
                        class_="horizon"))

    if n_star is None:
        body.append(_text((x0 + x1) / 2, y0 + 28, "never breaks even: no saving per request", "never", "middle",
                          fill="#b91c1c", font_weight="600"))
    else:
        cx, cy = xs(n_star), ys(training + ct * n_star)
        days = f" ({_days(n_star / rpd)})" if rpd > 0 else ""
        text = ("breaks even from the first request (no training cost)" if n_star == 0
                else f"breaks even at {n_star:,.0f} requests{days}")
        anchor = "end" if cx > (x0 + x1) / 2 else "start"
        body.append(_el(
            "g",
            _el("line", x1=cx, x2=cx, y1=cy, y2=y1, stroke=INK, stroke_dasharray="4 3"),
            _el("circle", cx=cx, cy=cy, r=5, fill="#fff", stroke=INK, stroke_width=2),
            _text(cx + (-8 if anchor == "end" else 8), max(cy - 10, y0 + 22), text, "crossing-label", anchor,
                  font_weight="600", stroke="#fff", stroke_width=4, stroke_linejoin="round",
                  paint_order="stroke"),  # a halo keeps the label legible where it crosses the lines
            class_="crossing", data_requests=round(n_star, 1),
        ))

    label = (f"cumulative cost of {tuned} against {baseline} by requests served: "
             + (f"breaks even at {n_star:,.0f} requests" if n_star is not None else "never breaks even"))
    return _svg(chart_id, "break-even", label, WIDTH, y1 + 44, body)
