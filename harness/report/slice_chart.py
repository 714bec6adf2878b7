"""The slice chart: the verdict's tuned arm minus its baseline on each slice (JSON field, gold label, value of a
declared data field), with its interval, the tolerated drop drawn as a dashed line, flagged slices in red and
slices too small to be flagged in grey. Inline SVG, like harness.report.charts.
"""

from __future__ import annotations

from markupsafe import Markup

from harness.report.svg import (
    CHAR_W,
    INK,
    MUTED,
    WIDTH,
    el,
    linear,
    nice_ticks,
    shorten,
    svg_root,
    text_el,
    tick_label,
    x_axis,
)
from harness.verdict.slices import Slice, SliceCheck

FLAGGED, TESTED, SMALL = "#dc2626", "#2563eb", "#9ca3af"


def ordered(check: SliceCheck) -> list[Slice]:
    """Flagged slices first, then the other tested ones from the largest drop, then the too small by size."""
    tested = sorted((s for s in check.tested if not s.flagged), key=lambda s: (s.diff, s.label))
    small = sorted(check.too_small, key=lambda s: (-s.n, s.label))
    return check.flagged + tested + small


def slice_chart(check: SliceCheck, *, chart_id: str = "slice-chart") -> Markup:
    """One row per slice: tuned minus baseline as a dot and its interval as a line; 0 and -max_drop drawn."""
    rows = ordered(check)
    row_h, top = 20.0, 8.0
    names = [shorten(f"{s.label} (n={s.n})", 34) for s in rows]
    label_w = min(max([len(x) for x in names] + [8]) * CHAR_W + 12, 230)
    x0, x1 = label_w, WIDTH - 120
    axis_y = top + row_h * max(len(rows), 1)
    ends = [v for s in rows for v in (s.low, s.high, s.diff) if v == v]
    ticks = nice_ticks(max(min(ends + [-check.max_drop, 0.0]), -1.0), min(max(ends + [0.0]), 1.0), 5)
    step = ticks[1] - ticks[0]
    scale = linear(ticks[0], ticks[-1], x0, x1)
    body = x_axis(ticks, scale, axis_y, top, lambda t: tick_label(t, step))
    body.append(el("line", x1=scale(0), x2=scale(0), y1=top, y2=axis_y, class_="zero", stroke=INK))
    body.append(el("line", x1=scale(-check.max_drop), x2=scale(-check.max_drop), y1=top, y2=axis_y, class_="tolerance",
                   stroke=FLAGGED, stroke_dasharray="4 3"))
    body.append(text_el((x0 + x1) / 2, axis_y + 32, f"{check.arm} minus {check.baseline} (better →); dashed: "
                        f"-{check.max_drop:g}, the tolerated drop", "axis-label", "middle"))
    for i, (s, name) in enumerate(zip(rows, names, strict=True)):
        kind = "flagged" if s.flagged else "tested" if s.tested else "too-small"
        colour = {"flagged": FLAGGED, "tested": TESTED, "too-small": SMALL}[kind]
        cy = top + row_h * i + row_h / 2
        tip = (f"{s.label}: {s.baseline:.3f} → {s.tuned:.3f}, {s.diff:+.3f} [{s.low:+.3f}, {s.high:+.3f}], n={s.n}"
               + (f", Holm p={s.p_adjusted:.3g}" if s.tested else ", too small to be flagged"))
        parts = [el("title", tip), text_el(x0 - 8, cy + 4, name, "slice-label", "end")]
        if s.low == s.low and s.high == s.high:
            parts.append(el("line", x1=scale(max(s.low, ticks[0])), x2=scale(min(s.high, ticks[-1])), y1=cy, y2=cy,
                            class_=f"interval {kind}", stroke=colour, stroke_width=2, stroke_linecap="round"))
        if s.diff == s.diff:
            parts.append(el("circle", cx=scale(s.diff), cy=cy, r=4, class_=f"point {kind}", fill=colour))
        mark = {"flagged": "flagged", "tested": "", "too-small": "too small"}[kind]
        parts.append(el("text", f"{s.diff:+.3f}", *([el("tspan", mark, dx=6, fill=colour if s.flagged else MUTED,
                                                          font_style="italic")] if mark else []),
                        x=x1 + 8, y=cy + 4, class_="value"))
        body.append(el("g", *parts, class_=f"row {kind}", data_slice=s.label))
    label = (f"{check.arm} minus {check.baseline} on each of {len(rows)} slices, with intervals; "
             f"{len(check.flagged)} flagged")
    return svg_root(chart_id, "slices", label, WIDTH, axis_y + 44, body)
