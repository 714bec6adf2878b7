"""The report's inline SVG charts: well-formed, the right number of marks, hostile names inert."""

from __future__ import annotations

import itertools
import math
import random
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from typing import Any

import pytest
from markupsafe import Markup

from harness.report.charts import importance_bars, interval_chart, param_importances, trial_history
from harness.report.costs import break_even_chart, crossing
from harness.report.svg import nice_ticks

NS = "{http://www.w3.org/2000/svg}"
HOSTILE = ["<script>alert(1)</script>", '"onload="x', "\u202eevil"]


@dataclass
class Row:
    arm: str
    value: float | None
    low: float | None
    high: float | None
    role: str
    marker: str | None = None


@dataclass
class T:
    arm: str
    trial_number: int
    state: str
    value: float | None = None
    intermediate: list[dict[str, Any]] = field(default_factory=list)
    params: dict[str, Any] = field(default_factory=dict)


def parse(svg: Markup) -> ET.Element:
    assert isinstance(svg, Markup)
    root = ET.fromstring(str(svg))
    assert root.tag == NS + "svg"
    assert root.get("role") == "img" and root.get("aria-label") and root.find(NS + "title") is not None
    assert root.get("viewBox") and root.get("width") == "100%"
    return root


def classes(el: ET.Element) -> set[str]:
    return set((el.get("class") or "").split())


def find(root: ET.Element, cls: str, tag: str = "*") -> list[ET.Element]:
    return [el for el in root.iter(NS + tag if tag != "*" else tag) if set(cls.split()) <= classes(el)]


def assert_inert(svg: Markup) -> None:
    """Nothing active: no script, no event handler, no reference out, no raw bidi override in shown text."""
    text = str(svg)
    root = ET.fromstring(text)
    for el in root.iter():
        assert el.tag.removeprefix(NS) not in ("script", "foreignObject", "a", "image", "use", "style")
        for name in el.attrib:
            assert not name.lower().startswith("on"), name
            assert "href" not in name.lower(), name
    assert "<script" not in text and "javascript:" not in text.lower()
    assert "\u202e" not in "".join(root.itertext())


def test_nice_ticks():
    assert nice_ticks(0, 1, 5) == [0, 0.25, 0.5, 0.75, 1]
    assert nice_ticks(0.61, 0.87, 5) == [0.6, 0.7, 0.8, 0.9]
    for lo, hi in [(0, 1), (0.61, 0.87), (3, 1234), (-2.5, 7.1), (0, 3.1e6), (12, 12), (1e-5, 3e-5), (-40, -3)]:
        ticks = nice_ticks(lo, hi, 5)
        assert 4 <= len(ticks) <= 6, (lo, hi, ticks)
        assert ticks[0] <= min(lo, hi) and ticks[-1] >= max(lo, hi)
        steps = {round(b - a, 12) for a, b in itertools.pairwise(ticks)}
        assert len(steps) == 1
    assert nice_ticks(0, 2, 6, integer=True) == [0, 1, 2]
    assert all(t == int(t) for t in nice_ticks(1, 37, 6, integer=True))
    with pytest.raises(ValueError):
        nice_ticks(0, math.nan)


def test_interval_chart_rows_and_escaping():
    rows = [
        Row("base", 0.62, 0.55, 0.69, "baseline", "baseline chosen"),
        Row("lora-r8", 0.81, 0.76, 0.86, "tuned", "best tuned"),
        Row("rag", 0.7, None, None, "companion"),
        Row("broken", None, None, None, "tuned"),
        *(Row(name, 0.5, 0.4, 0.6, "companion") for name in HOSTILE),
    ]
    svg = interval_chart(rows, metric="exact_match", higher_is_better=True, chart_id="intervals-1")
    root = parse(svg)
    assert_inert(svg)
    assert root.get("id") == "intervals-1" and classes(root) == {"chart", "chart-intervals"}
    groups = find(root, "row", "g")
    assert [g.get("data-arm") for g in groups] == ["base", "lora-r8", "rag", "broken", *HOSTILE]
    assert len(find(root, "point", "circle")) == 6
    assert len(find(root, "interval", "line")) == 5  # rag has no interval, broken no result
    assert len(find(root, "point tuned")) == 1 and len(find(root, "point baseline")) == 1
    broken = groups[3]
    assert "no result" in "".join(broken.itertext()) and not find(broken, "point")
    text = "".join(root.itertext())
    assert "best tuned" in text and "baseline chosen" in text and "higher is better →" in text
    assert "<script>alert(1)</script>" in text  # shown as text, escaped in the markup
    assert "&lt;script&gt;" in str(svg) and "[U+202E]evil" in text
    ticks = find(root, "tick", "text")
    assert 4 <= len(ticks) <= 6

    lower = interval_chart(rows[:2], metric="loss", higher_is_better=False)
    assert "← lower is better" in "".join(parse(lower).itertext()) and parse(lower).get("id") == "arm-intervals"


def test_interval_chart_all_missing():
    root = parse(interval_chart([Row("a", None, None, None, "baseline")], metric="f1", higher_is_better=True))
    assert len(find(root, "row", "g")) == 1 and not find(root, "point")


def trials_fixture() -> list[T]:
    return [
        T("lora", 0, "complete", 0.5, [{"step": 10, "value": 0.4}, {"step": 20, "value": 0.5}]),
        T("lora", 1, "pruned", None, [{"step": 10, "value": 0.2}, {"step": 20, "value": 0.3}]),
        T("lora", 2, "complete", 0.7),
        T("lora", 3, "failed"),
        T("lora", 4, "complete", 0.6),
        T(HOSTILE[0], 0, "complete", 0.55),
        T(HOSTILE[0], 1, "pruned", 0.45, []),
        T(HOSTILE[0], 2, "fail"),
        T(HOSTILE[0], 3, "complete", math.nan),
        T(HOSTILE[2], 0, "running", None, [{"step": 5, "value": 0.1}]),
    ]


def test_trial_history_marks():
    svg = trial_history(trials_fixture(), metric="accuracy", higher_is_better=True)
    assert svg is not None
    root = parse(svg)
    assert_inert(svg)
    assert root.get("id") == "trial-history"
    series = find(root, "series", "g")
    assert [g.get("data-arm") for g in series] == ["lora", HOSTILE[0], HOSTILE[2]]
    assert classes(series[0]) >= {"series-0"} and classes(series[1]) >= {"series-1"}
    assert len(find(series[0], "point complete")) == 3
    assert len(find(series[0], "point pruned")) == 1 and len(find(series[1], "point pruned")) == 1
    assert len(find(root, "point pruned")) == 2
    assert len(find(series[0], "point failed")) == 1 and len(find(series[1], "point failed")) == 2  # NaN too
    assert len(find(root, "point running")) == 1
    best = find(series[0], "best", "path")
    assert len(best) == 1 and best[0].get("d").count("V") == 1  # improves once: 0.5 -> 0.7
    legend = "".join(find(root, "legend", "g")[0].itertext())
    assert "lora" in legend and "pruned" in legend and "best so far" in legend


def test_trial_history_lower_is_better_best_line():
    trials = [T("a", i, "complete", v) for i, v in enumerate([3.0, 2.0, 2.5, 1.0])]
    root = parse(trial_history(trials, metric="loss", higher_is_better=False))
    assert find(root, "best", "path")[0].get("d").count("V") == 2  # 3 -> 2 -> 1
    assert "lower is better" in "".join(root.itertext())


def test_trial_history_none_without_values():
    assert trial_history([], metric="m", higher_is_better=True) is None
    assert trial_history([T("a", 0, "failed"), T("a", 1, "pruned")], metric="m", higher_is_better=True) is None


def test_importance_bars():
    assert importance_bars({}) is None
    svg = importance_bars({"lora_r": 0.2, "learning_rate": 0.7, HOSTILE[1]: 0.1})
    root = parse(svg)
    assert_inert(svg)
    rows = find(root, "row", "g")
    assert [g.get("data-param") for g in rows] == ["learning_rate", "lora_r", HOSTILE[1]]
    widths = [float(r.get("width")) for r in find(root, "bar", "rect")]
    assert widths == sorted(widths, reverse=True) and len(widths) == 3
    assert "70.0%" in "".join(root.itertext())


def test_crossing_math():
    assert crossing(10, 0.001, 0.003) == pytest.approx(5000)
    assert crossing(10, 0.003, 0.003) is None
    assert crossing(10, 0.004, 0.003) is None
    assert crossing(0, 0.001, 0.003) == 0


def test_break_even_chart_crossing():
    svg = break_even_chart(tuned="lora", baseline=HOSTILE[0], tuned_cost_per_request=0.001,
                           baseline_cost_per_request=0.003, training_cost=10, requests_per_day=1000,
                           horizon_days=30)
    root = parse(svg)
    assert_inert(svg)
    assert root.get("id") == "break-even"
    text = "".join(root.itertext())
    assert "breaks even at 5,000 requests (5.0 days)" in text
    assert [g.get("data-arm") for g in find(root, "series", "g")] == [HOSTILE[0], "lora"]
    (mark,) = find(root, "crossing", "g")
    assert float(mark.get("data-requests")) == pytest.approx(5000)
    assert mark.find(NS + "circle") is not None and mark.find(NS + "line").get("stroke-dasharray")
    ticks = [t.text for t in find(root, "tick", "text")]
    assert "10k" in ticks and any(t.startswith("$") for t in ticks)


def test_break_even_chart_extends_past_a_late_crossing():
    svg = break_even_chart(tuned="t", baseline="b", tuned_cost_per_request=0.001, baseline_cost_per_request=0.002,
                           training_cost=1000, requests_per_day=1000, horizon_days=30)
    root = parse(svg)
    ticks = [t.text for t in find(root, "tick", "text")]
    assert "1M" in ticks or "1.5M" in ticks  # crosses at 1M requests, past the 30k horizon
    assert "breaks even at 1,000,000 requests (1,000 days)" in "".join(root.itertext())


def test_break_even_chart_never():
    svg = break_even_chart(tuned="t", baseline="b", tuned_cost_per_request=0.004, baseline_cost_per_request=0.003,
                           training_cost=10, requests_per_day=1000, horizon_days=30, chart_id="be-2")
    root = parse(svg)
    assert "never breaks even" in "".join(root.itertext()) and not find(root, "crossing")
    assert root.get("id") == "be-2"


def test_param_importances():
    rng = random.Random(0)
    trials = []
    for i in range(12):
        lr = 10 ** rng.uniform(-5, -3)
        noise = rng.uniform(0, 1)
        value = 1.0 - (math.log10(lr) + 4) ** 2 * 0.4
        trials.append(T("lora", i, "complete", value,
                        params={"learning_rate": lr, "noise": noise, "r": 8, "use_dora": i % 2 == 0}))
    trials.append(T("lora", 12, "pruned", 0.9, params={"learning_rate": 1e-4, "noise": 0.5, "r": 8}))
    trials.append(T("lora", 13, "complete", math.nan, params={"learning_rate": 1e-4, "noise": 0.5, "r": 8}))
    result = param_importances(trials, higher_is_better=True)
    assert result is not None
    assert set(result) == {"learning_rate", "noise", "use_dora"}  # r is constant
    assert result["learning_rate"] > result["noise"] and result["learning_rate"] > 0.5
    assert sum(result.values()) == pytest.approx(1.0)
    assert param_importances(trials, higher_is_better=True) == result  # seeded
    assert param_importances(trials[:2], higher_is_better=False) is None
    assert param_importances([T("a", i, "complete", float(i), params={"r": 8}) for i in range(5)],
                             higher_is_better=True) is None
    assert importance_bars(result) is not None


def test_param_importances_categorical():
    trials = [T("a", i, "complete", 1.0 if opt == "adamw" else 0.0, params={"optim": opt, "seed": [i % 3]})
              for i, opt in enumerate(["adamw", "sgd", "adamw", "sgd", "adamw", "sgd"])]
    result = param_importances(trials, higher_is_better=False)
    assert result is not None and result["optim"] > result["seed"]
