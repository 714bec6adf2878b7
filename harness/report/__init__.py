"""The run report, and the comparison of two runs: self-contained HTML pages (no external requests).

    harness report --run <run_id>     # re-render a stored run
    harness compare RUN_A RUN_B       # two runs of one task side by side (compare.html.j2)

The only module that imports jinja2; autoescaping is on, so model output is always HTML-escaped.
"""

from __future__ import annotations

import json
import re
from dataclasses import asdict, fields
from pathlib import Path
from typing import Any

from harness.atomic import atomic_file, write_text_atomic
from harness.metrics.builtin import METRICS, higher_is_better
from harness.processes import kill_point
from harness.readside.compare import RunComparison
from harness.readside.results import curves as read_curves
from harness.readside.results import forgetting, run_decision
from harness.readside.results import trials as read_trials
from harness.report.timing import stage_times
from harness.spec import TaskSpec
from harness.store.database import Store
from harness.store.records import ArmRecord, ExampleRecord, MetricRecord, PredictionRecord, RunRecord
from harness.verdict.decision import Decision

SAMPLE_SIZE = 12
DISAGREEMENTS_SHOWN = 40  # per direction: enough to check a verdict by eye, and the page stays small
TEMPLATE = "report.html.j2"
COMPARE_TEMPLATE = "compare.html.j2"


def _environment() -> Any:
    from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape
    from markupsafe import Markup, escape

    env = Environment(
        loader=PackageLoader("harness.report", "templates"),
        autoescape=select_autoescape(default=True, default_for_string=True),
        undefined=StrictUndefined,
    )
    env.filters["num"] = lambda v, digits=3: "–" if v is None or v != v else f"{v:.{digits}f}"
    env.filters["signed"] = lambda v: "–" if v is None or v != v else f"{v:+.3f}"
    # metric names are long snake_case: let a table header break after an underscore
    env.filters["wbr"] = lambda v: Markup(str(escape(v)).replace("_", "_<wbr>").replace(".", ".<wbr>"))
    env.filters["pct"] = lambda v: "–" if v is None or v != v else f"{v * 100:.3g}%"
    # a share of a whole, to a tenth of a percent: "0.00133%" says nothing a reader needs
    env.filters["share"] = lambda v: "–" if v is None else "<0.1%" if 0 < v < 0.0005 else f"{v * 100:.1f}%"
    return env


def _mean(values: list[float | None]) -> float | None:
    present = [v for v in values if v is not None]
    return sum(present) / len(present) if present else None


def build_view(store: Store, run_id: str, sample_size: int = SAMPLE_SIZE) -> dict[str, Any]:
    """Everything the page shows, as plain data (tests assert on it as well as on the page)."""
    run = store.run(run_id)
    spec = run.spec
    primary = spec.decision.primary_metric
    metrics = store.metrics(run_id)
    metric_names = list(dict.fromkeys(m.metric for m in metrics))
    table = {(m.arm, m.metric): m for m in metrics}
    by_arm: dict[str, dict[str, PredictionRecord]] = {}
    for p in store.predictions(run_id):
        by_arm.setdefault(p.arm, {})[p.example_id] = p
    arms = [_arm_view(arm, list(by_arm.get(arm.arm, {}).values())) for arm in store.arms(run_id)]
    examples = store.examples(run_id)
    completed = [arm["arm"] for arm in arms if arm["status"] == "completed"]
    sample = _sample(examples[:sample_size], completed, by_arm, store.scores(run_id, primary))
    trials = read_trials(store, run_id)
    decision = run_decision(run)
    baseline = decision.baseline if decision else None
    base_tokens = next((a["prompt_tokens_mean"] for a in arms if a["arm"] == baseline), None)
    for arm in arms:
        arm["tokens_saved"] = (base_tokens - arm["prompt_tokens_mean"]
                               if base_tokens is not None and arm["prompt_tokens_mean"] is not None else None)
    focus = _focus(decision, arms, table, primary)
    return {
        **_task_views(store, run_id, spec, arms, focus, primary, decision),
        **_charts(store, run_id, spec, arms, focus, table, primary, trials),
        "forgetting": forgetting(store, run_id, spec.regression, spec.decision.confidence),
        "history": _history(store, run),
        "higher_is_better_perplexity": higher_is_better("perplexity"),
        "suites": store.run_suites(run_id),
        "agreements": [(a["arm"], a["details"]["backend_agreement"]) for a in arms if "backend_agreement" in a["details"]],
        "learning_vs_forgetting": _scatter(trials),
        "curves": _curves(store, run_id),
        "disagreements_shown": DISAGREEMENTS_SHOWN,
        "judge_metrics": ("faithfulness", "answer_relevancy", "judge_accuracy"),
        "profile": run.profile_settings,
        "run": run,
        "trials": trials,
        "baseline": baseline,
        "findings": store.findings(run_id),
        "stage_times": stage_times(store.stages(run_id)),
        "data_stats": run.data_stats or {},
        "spec": spec,
        "primary": primary,
        "arms": arms,
        "metric_names": metric_names,
        # evaluate metrics are listed by their settings, not a name: they fold away with the rest
        "key_metrics": (key := key_metrics(primary, [m for m in spec.metrics if isinstance(m, str)], metric_names)),
        "other_metrics": [m for m in metric_names if m not in key],
        "higher_is_better": {name: higher_is_better(name) for name in metric_names},
        "metric_kinds": metric_kinds(metric_names),
        "metric_table": table,
        "sample": sample,
        "n_examples": len(examples),
        "decision": decision,
        "packages": run.packages or {},
    }


def _arm_view(arm: ArmRecord, predictions: list[PredictionRecord]) -> dict[str, Any]:
    """An arm's row of the page: its stored record, its means per request and its failures."""
    settings = arm.config.get("arm") or {}
    return {
        **{f.name: getattr(arm, f.name) for f in fields(arm)},
        "config_json": json.dumps(arm.config, sort_keys=True),  # as stored
        "prompt_tokens_mean": _mean([r.prompt_tokens for r in predictions]),
        "output_tokens_mean": _mean([r.output_tokens for r in predictions]),
        "latency_mean": _mean([r.latency_s for r in predictions]),
        "errors": [(r.example_id, r.error) for r in predictions if r.error],
        "answer": arm.answer,
        "prompt_format": arm.prompt_format,
        # A base model continues text; without shots it has no pattern to continue, so its score is not a finding
        "base_zero_shot": (arm.prompt_format == "completion" and arm.role == "baseline"
                           and settings.get("shots", 0) == 0),
        "judge_failures": arm.details.get("judge_failures", []),
    }


def _sample(examples: list[ExampleRecord], completed: list[str], by_arm: dict[str, dict[str, PredictionRecord]],
            scores: dict[str, dict[str, float]]) -> list[dict[str, Any]]:
    """The first test items with every completed arm's answer, score, retrieved chunks and shots."""
    sample = []
    for ex in examples:
        answers = []
        for name in completed:
            pred = by_arm.get(name, {}).get(ex.example_id)
            details = pred.details if pred is not None else {}
            answers.append({
                "arm": name,
                "output": pred.output if pred is not None else None,
                "error": pred.error if pred is not None else None,
                "score": scores.get(name, {}).get(ex.example_id),
                "chunks": details.get("chunks"),
                "shot_ids": details.get("shot_ids"),
            })
        sample.append({"id": ex.example_id, "source": ex.source, "input": ex.input_text, "target": ex.target,
                       "answers": answers})
    return sample


def _focus(decision: Any, arms: list[dict], metric_table: dict[tuple[str, str], MetricRecord],
           primary: str) -> tuple[str | None, str | None]:
    """(tuned arm, baseline) the verdict is about: the compared pair with the largest lift; without a comparison,
    no tuned arm and the best completed arm."""
    if decision is not None and decision.comparisons:
        best = max(decision.comparisons, key=lambda c: c.diff if c.diff == c.diff else float("-inf"))
        return best.arm, best.baseline
    values = {a["arm"]: metric_table[(a["arm"], primary)].value for a in arms if (a["arm"], primary) in metric_table}
    scored = [(value, arm) for arm, value in values.items() if value is not None]
    sign = 1 if higher_is_better(primary) else -1
    return None, (max(scored, key=lambda t: sign * t[0])[1] if scored else None)


def _task_views(store: Store, run_id: str, spec: TaskSpec, arms: list[dict], focus: tuple[str | None, str | None],
                primary: str, decision: Decision | None) -> dict[str, Any]:
    """Where the verdict's two arms disagree, the slices it checked (chart) and flagged (items); the confusion
    matrix (label tasks) or per-field accuracy (JSON)."""
    from harness.report.slice_chart import ordered, slice_chart
    from harness.report.views import DIFF_CAP, confusion, disagreements, field_accuracy, flagged_slices

    tuned, baseline = focus
    completed = [a["arm"] for a in arms if a["status"] == "completed"]
    output = spec.output
    shown = [a for a in (baseline, tuned) if a is not None]
    return {
        "disagreements": disagreements(store, run_id, tuned, baseline, primary) if tuned and baseline else None,
        "diff_cap": DIFF_CAP,
        "confusion": confusion(store, run_id, shown, list(output.labels or ()))
        if output.type == "label" and output.labels and shown else None,
        "fields": field_accuracy(store, run_id, completed) if output.type == "json" else None,
        "flagged_slices": flagged_slices(store, run_id, decision.slices if decision else None),
        "slice_chart": slice_chart(decision.slices) if decision and decision.slices else None,
        "slice_rows": ordered(decision.slices) if decision and decision.slices else [],
    }


def _charts(store: Store, run_id: str, spec: TaskSpec, arms: list[dict], focus: tuple[str | None, str | None],
            table: dict[tuple[str, str], MetricRecord], primary: str, trials: list) -> dict[str, Any]:
    """Inline SVG: every arm's primary metric with its interval, the sweep, and the break-even; the cost table."""
    from harness.readside.results import arm_results
    from harness.report import charts
    from harness.report.costs import cost_view

    tuned, baseline = focus
    better = higher_is_better(primary)
    rows = []
    for arm in arms:
        cell = table.get((arm["arm"], primary))
        marker = "baseline" if arm["arm"] == baseline else "verdict's tuned arm" if arm["arm"] == tuned else None
        rows.append({"arm": arm["arm"], "value": cell.value if cell else None, "low": cell.ci_low if cell else None,
                     "high": cell.ci_high if cell else None, "role": arm["role"], "marker": marker})
    importances = charts.param_importances(trials, higher_is_better=better) if trials else None
    return {
        "interval_chart": charts.interval_chart(rows, metric=primary, higher_is_better=better) if rows else None,
        "trial_chart": charts.trial_history(trials, metric=primary, higher_is_better=better) if trials else None,
        "importances": importances,
        "importance_chart": charts.importance_bars(importances) if importances else None,
        "costs": cost_view(arm_results(store, run_id, primary), spec.decision.cost,
                           (tuned, baseline) if tuned and baseline else None),
    }


def _curves(store: Store, run_id: str) -> list[dict[str, Any]]:
    """Each fitted learning curve with its chart, its sentence, the guides' rule of thumb for the data the arm had,
    and its points' training (steps, seconds, reused or not)."""
    from harness.report.curve_chart import learning_curve_chart
    from harness.verdict.curve import RULE_OF_THUMB, rule_of_thumb, sentence

    primary = store.run(run_id).spec.decision.primary_metric
    values = dict(store.query("SELECT arm, value FROM metrics WHERE run_id = ? AND split = 'test' AND metric = ?",
                              [run_id, primary]))
    points = [dict(asdict(p), plan=p.config.get("arm", {}), value=values.get(p.arm))
              for p in store.curve_points(run_id)]
    stages = store.stages(run_id)
    out = []
    for analysis in read_curves(store, run_id):
        mine = [p for p in points if p["plan"].get("curve_of") == analysis.arm]
        names = {p["arm"] for p in mine}
        seconds = {stage: sum(r.seconds for r in stages if r.stage == stage and r.arm in names)
                   for stage in ("curve training", "curve answers", "curve scoring")}
        out.append({"analysis": analysis, "sentence": sentence(analysis), "rule": rule_of_thumb(analysis.largest),
                    "chart": learning_curve_chart(analysis, chart_id=f"learning-curve-{analysis.arm}"),
                    "rules": RULE_OF_THUMB, "several_seeds": any(len(s.seeds) > 1 for s in analysis.sizes),
                    "points": mine, "seconds": seconds, "reused": sum(1 for p in mine if p["cached_from"])})
    return out


def metric_kinds(names: list[str]) -> dict[str, dict[str, str]]:
    """Per metric key: its kind (per-example, or aggregate: recomputed on each bootstrap resample) and source
    (built-in, or the evaluate module it comes from)."""
    out = {}
    for name in names:
        metric = METRICS.get(name.split(".")[0])
        if metric is not None:
            source = metric.description.split(" (")[0] if metric.source == "evaluate" else "built-in"
            out[name] = {"kind": metric.kind, "source": source}
    return out


def key_metrics(primary: str, listed: list[str], present: list[str], most: int = 4) -> list[str]:
    """The primary metric, then the task's other listed metrics (not their per-field or per-label parts),
    as many as fit a laptop-wide table; the rest fold away."""
    ordered = [primary] + [m for m in listed if m != primary]
    return [m for m in ordered if m in present and "." not in m][:most]


def _history(store: Store, run: RunRecord) -> dict[str, Any] | None:
    """The task's earlier runs up to this one at its task version (grouped by base model), with the upgrade flags;
    None if it is the first."""
    from harness.readside.compare import upgrade_flags
    from harness.readside.results import history, upgrade_pairs

    order = [r.run_id for r in store.runs(run.task)]
    rows = [r for r in history(store, run.task)
            if r.task_version == run.task_version and order.index(r.run_id) <= order.index(run.run_id)]
    if len(rows) < 2:
        return None
    flags = {new.run_id: upgrade_flags(store, old.run_id, new.run_id) for old, new in upgrade_pairs(rows)}
    return {"rows": rows, "flags": flags, "crossing": any(r.crossing for r in rows)}


def _scatter(trials: list) -> dict[str, Any] | None:
    """Sweep trials as points: validation metric (x) against the general-accuracy change (y), in SVG units."""
    points = [t for t in trials if t.value is not None and t.value == t.value and t.forgetting is not None]
    if not points:
        return None
    xs, ys = [t.value for t in points], [t.forgetting for t in points]
    x0, x1 = min(xs), max(xs)
    y0, y1 = min(min(ys), 0.0), max(max(ys), 0.0)
    xspan, yspan = (x1 - x0) or 1.0, (y1 - y0) or 1.0
    width, height, pad = 360, 200, 30

    def sx(v: float) -> float:
        return pad + (v - x0) / xspan * (width - 2 * pad)

    def sy(v: float) -> float:
        return height - pad - (v - y0) / yspan * (height - 2 * pad)

    return {"width": width, "height": height, "zero": sy(0.0), "pad": pad,
            "x_range": (x0, x1), "y_range": (y0, y1),
            "points": [{"x": sx(t.value), "y": sy(t.forgetting), "label": f"{t.arm} #{t.trial_number}",
                        "value": t.value, "forgetting": t.forgetting, "state": t.state} for t in points]}


def render(view: dict[str, Any]) -> str:
    return _environment().get_template(TEMPLATE).render(**view)


def inside(out_dir: Path, name: str) -> Path:
    """A file of out_dir named after stored values (a task name, run ids): whatever they hold, it stays in out_dir."""
    safe = re.sub(r"[^A-Za-z0-9._-]+", "_", name).lstrip(".") or "report"
    return out_dir / safe


def write_report(store: Store, run_id: str, out_dir: Path) -> Path:
    """Render the run to `out_dir/<task>-<run_id>.html`, written atomically."""
    view = build_view(store, run_id)
    path = inside(out_dir, f"{view['run'].task}-{run_id}.html")
    with atomic_file(path) as tmp:
        tmp.write_text(render(view), encoding="utf-8")
        kill_point("rendering")
    return path


def write_comparison(comparison: RunComparison, out_dir: Path) -> Path:
    """Render a `harness.readside.compare.RunComparison` to `out_dir/compare-<run_a>-<run_b>.html`, written atomically."""
    path = inside(out_dir, f"compare-{comparison.a.run_id}-{comparison.b.run_id}.html")
    return write_text_atomic(path, _environment().get_template(COMPARE_TEMPLATE).render(c=comparison))
