"""SVG markup for the report's inline charts: escaping, elements, axes and scales (harness.report.charts and
harness.report.slice_chart draw with these).

Every string that comes from data goes through `el`, which escapes it; names are untrusted (a model or arm can be
called anything). Control and bidi-formatting characters in shown text are written as [U+XXXX].
"""

from __future__ import annotations

import math
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from markupsafe import Markup, escape

WIDTH = 640
CHAR_W = 6.2  # rough advance of an 11px sans-serif character, for laying out labels without measuring them
FONT = "system-ui, -apple-system, 'Segoe UI', sans-serif"
INK, MUTED, GRID = "#1f2937", "#6b7280", "#e5e7eb"


# --- markup helpers ---------------------------------------------------------------------------------------------

def coord(v: float) -> str:
    """A coordinate rounded to 0.1."""
    s = f"{v:.1f}"
    s = s.removesuffix(".0")
    return "0" if s == "-0" else s


def clean(text: object, *, shown: bool = True) -> str:
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


def shorten(text: str, limit: int) -> str:
    text = clean(text)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _attr(value: object) -> Markup:
    if isinstance(value, bool):
        return Markup("true" if value else "false")
    if isinstance(value, int | float):
        return Markup(coord(float(value)))
    return escape(clean(value, shown=False))


def el(tag: str, *children: object, **attrs: object) -> Markup:
    """`<tag attrs>children</tag>`; attribute names use `_` for `-` (a trailing `_` is dropped: `class_`).
    Str children are text and are escaped; Markup children are nested elements."""
    parts = [tag]
    for key, value in attrs.items():
        if value is not None:
            parts.append(f'{key.rstrip("_").replace("_", "-")}="{_attr(value)}"')
    head = " ".join(parts)
    if not children:
        return Markup(f"<{head}/>")
    inner = "".join(c if isinstance(c, Markup) else str(escape(clean(c))) for c in children)
    return Markup(f"<{head}>{inner}</{tag}>")


def svg_root(chart_id: str, kind: str, label: str, width: float, height: float, body: Iterable[Markup]) -> Markup:
    return el(
        "svg", el("title", label), *body,
        xmlns="http://www.w3.org/2000/svg", id=chart_id, class_=f"chart chart-{kind}", role="img",
        aria_label=label, viewBox=f"0 0 {coord(width)} {coord(height)}", width="100%",
        style=f"max-width:{coord(width)}px", preserveAspectRatio="xMinYMin meet",
        font_size="11", font_family=FONT, fill=INK,
    )


def text_el(x: float, y: float, text: str, cls: str, anchor: str = "start", **attrs: object) -> Markup:
    return el("text", text, x=x, y=y, class_=cls, text_anchor=anchor, **attrs)


def field_of(obj: Any, name: str, default: Any = None) -> Any:
    if isinstance(obj, Mapping):
        return obj.get(name, default)
    return getattr(obj, name, default)


def finite(v: Any) -> float | None:
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


def short_number(v: float) -> str:
    return f"{v:,.0f}" if abs(v) >= 1000 else f"{v:.3g}"


def tick_label(v: float, step: float) -> str:
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


def x_axis(ticks: Sequence[float], scale: Any, y: float, top: float, fmt: Any,
            span: tuple[float, float] | None = None) -> list[Markup]:
    a, b = span or (scale(ticks[0]), scale(ticks[-1]))
    out = [el("line", x1=a, x2=b, y1=y, y2=y, class_="axis", stroke=MUTED)]
    for t in ticks:
        x = scale(t)
        out.append(el("line", x1=x, x2=x, y1=top, y2=y, class_="grid", stroke=GRID))
        out.append(text_el(x, y + 14, fmt(t), "tick", "middle", fill=MUTED))
    return out


def y_axis(ticks: Sequence[float], scale: Any, x: float, right: float, fmt: Any) -> list[Markup]:
    out = [el("line", x1=x, x2=x, y1=scale(ticks[0]), y2=scale(ticks[-1]), class_="axis", stroke=MUTED)]
    for t in ticks:
        y = scale(t)
        out.append(el("line", x1=x, x2=right, y1=y, y2=y, class_="grid", stroke=GRID))
        out.append(text_el(x - 6, y + 4, fmt(t), "tick", "end", fill=MUTED))
    return out


def linear(d0: float, d1: float, r0: float, r1: float) -> Any:
    span = (d1 - d0) or 1.0
    return lambda v: r0 + (v - d0) / span * (r1 - r0)
