"""The report as a reader sees it, in real headless Chromium: the verdict with a chart of every arm, a
metrics table that fits a laptop, where the arms disagree, the confusion matrix or per-field accuracy, the
sweep, cost and break-even; no console errors, no network, hostile model output inert.

The runs are written through the store API with the harness's own scoring and decision (the answers are
chosen here, so the arms disagree on purpose); the report is rendered by the code `harness run` uses."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from conftest import write_jsonl, write_tiny_task

from harness.data.loading import load_data
from harness.readside.results import decide_run
from harness.records import Prediction, Trial
from harness.report import write_report
from harness.scoring.scores import score_arm
from harness.spec.taskfile import load_spec
from harness.store.database import Store
from tests.browser import chromium, dump_dom, load_page

pytestmark = pytest.mark.skipif(chromium() is None, reason="Debian chromium is not installed (make test installs it)")

HOSTILE = [
    "<script>document.title='pwned'</script><img src=x onerror=\"document.title='pwned'\">",
    "x" * 5000,  # one very long line
    "\u202eevil\u202c <b>bold</b> \u05e9\u05dc\u05d5\u05dd",  # right-to-left override and Hebrew
]
COST = """  non_inferiority_margin: 0.02
  cost: {requests_per_day: 20000, price_per_1k_input_tokens: 0.5, training_cost_per_hour: 40}
"""


def _quiet(_what: str, _total: int):
    return lambda n: None


def _store_run(tmp_path: Path, task_path: Path, answers: dict[str, tuple[str, dict[str, str]]],
               prompt_tokens: dict[str, int], trials: list[Trial] = ()) -> Path:
    """A completed run of the task whose arms answered as given ({arm: (role, {example id: output})});
    returns the report's path."""
    task = load_spec(task_path)
    data = load_data(task)
    store = Store.open(tmp_path / "h.duckdb")
    run_id = "20261124-000000-page"
    store.start_run({"run_id": run_id, "task": task.spec.name, "task_version": task.spec.version,
                     "task_path": str(task_path), "spec_json": task.spec_json, "spec_hash": task.spec_hash,
                     "data_fingerprint": data.fingerprint, "base_model_id": "tiny", "device": "cpu"})
    store.add_examples(run_id, [{"split": "test", "example_id": ex.id, "source": ex.source,
                                 "input_json": json.dumps(ex.messages), "target": ex.target} for ex in data.test])
    for trial in trials:
        store.add_trial(run_id, trial)
    began = [1_790_000_000.0]

    def stage(name: str, seconds: float, arm: str | None = None) -> None:  # one after another, a second apart
        store.add_stage(run_id, name, seconds, arm=arm, started_at=began[0])
        began[0] += seconds + 1

    stage("resolve", 4.0)
    for arm, (role, outputs) in answers.items():
        if role == "tuned":
            stage("prepare", 900.0, arm)
        stage("test answers", 60.0, arm)
        stage("test scoring", 2.0, arm)
        store.start_arm(run_id, arm, "lora" if role == "tuned" else "prompted", role, {"arm": {"shots": 2}}, arm)
        predictions = [Prediction(ex.id, [], outputs[ex.id], None, 0.05 if role == "tuned" else 0.2,
                                  prompt_tokens[arm], 12) for ex in data.test]
        scored = score_arm(task.spec, data.test, predictions, _quiet)
        store.finish_arm(run_id, arm, "test", predictions, scored.scores, scored.metrics, 3.0)
    decision = decide_run(store, run_id, task.spec)
    store.finish_run(run_id, None, decision.to_dict())
    return write_report(store, run_id, tmp_path / "reports")


def _json_run(tmp_path: Path) -> Path:
    task = write_tiny_task(tmp_path, "unused/model", n_test=30, extra=COST)
    test = [json.loads(line) for line in (tmp_path / "data" / "test.jsonl").read_text().splitlines()]
    gold = {r["id"]: r["messages"][-1]["content"] for r in test}
    ids = sorted(gold)
    baseline = {eid: gold[eid] if i % 3 == 0 else HOSTILE[i // 3 % len(HOSTILE)] for i, eid in enumerate(ids)}
    tuned = {eid: gold[eid] if i % 5 else '{"party": "nobody", "months": 0}' for i, eid in enumerate(ids)}
    trials = [Trial("lora", "s", n, state, {"learning_rate": lr, "r": r}, value,
                    intermediate=[{"step": 1, "value": value or 0.2}], train_seconds=60.0)
              for n, (state, lr, r, value) in enumerate([
                  ("complete", 1e-4, 4, 0.41), ("complete", 3e-4, 8, 0.62), ("pruned", 1e-5, 4, None),
                  ("complete", 2e-4, 16, 0.55), ("failed", 5e-4, 8, None), ("complete", 5e-5, 8, 0.30)])]
    return _store_run(tmp_path, task, {"few_shot": ("baseline", baseline), "lora": ("tuned", tuned)},
                      {"few_shot": 900, "lora": 120}, trials)


def test_the_report_reads_well_in_a_real_browser(tmp_path):
    report = _json_run(tmp_path)
    assert report.stat().st_size < 2_000_000
    laptop = load_page(report, 1366, 900, tmp_path / "laptop.png")
    printed = load_page(report, 794, 1123, tmp_path / "print.png")  # A4 at 96 dpi
    assert laptop.console == [] and printed.console == []  # no errors, no CSP violations, no logs
    assert laptop.requests == [] and printed.requests == []
    assert laptop.screenshot and printed.screenshot
    from PIL import Image

    assert Image.open(laptop.screenshot).size == (1366, 900) and Image.open(printed.screenshot).size == (794, 1123)

    dom = dump_dom(report)
    verdict = re.search(r'id="verdict" class="(\S+)"', dom).group(1)
    assert verdict in ("GO", "NO-GO", "INCONCLUSIVE")
    assert dom.index('id="decision"') < dom.index('id="arm-intervals"') < dom.index('id="metrics"')
    assert len(re.findall(r'<g class="row [^"]*" data-arm="', dom)) == 2
    # the disagreements: lora right where few_shot was wrong, and the reverse, counted and listed
    counts = re.search(r'class="count-tuned">(\d+)</b>.*?class="count-baseline">(\d+)</b>', dom, re.S)
    n_tuned, n_base = int(counts.group(1)), int(counts.group(2))
    assert n_tuned > 0 and n_base > 0
    assert dom.count('class="example disagreement tuned-better"') == n_tuned
    assert dom.count('class="example disagreement baseline-better"') == n_base
    assert '<mark class="added">' in dom and '<mark class="removed">' in dom
    assert 'id="field-accuracy"' in dom and 'data-field="party"' in dom
    # the sweep: every trial drawn, the pruned one marked; importances from Optuna; cost and break-even
    assert 'id="trial-history"' in dom and dom.count('class="point pruned"') == 1
    assert 'id="param-importance"' in dom and 'data-param="learning_rate"' in dom
    assert 'id="break-even"' in dom and "breaks even at" in dom
    assert re.search(r'class="num per-1k">\$60<', dom)  # 120 prompt tokens at $0.5 per 1k: $0.06 a request
    # the key metrics fit; the rest fold away
    head = re.search(r'<table id="metrics">.*?</thead>', dom, re.S).group(0).replace("<wbr>", "")
    assert "json_field_f1" in head and "json_field_exact_match.party" not in head
    assert '<details class="fold" id="all-metrics">' in dom
    # where the time went: each stage in order, with its share drawn as a bar, and the run's wall time
    stages = re.search(r'<table id="stages">.*?</table>', dom, re.DOTALL).group(0)
    assert re.findall(r'data-stage="([^"]+)"', stages) == ["resolve", "test answers", "test scoring", "prepare",
                                                            "test answers", "test scoring"]
    assert len(re.findall(r'class="bar" style="width: \d+(\.\d)?%"', stages)) == 6
    assert "Where the time went" in dom and re.search(r'id="wall-time">[^<]*<b>17 min 13 s</b>', dom)


def test_hostile_model_output_stays_inert(tmp_path):
    report = _json_run(tmp_path)
    html = report.read_text()
    assert "<script" not in html and "&lt;script&gt;" in html  # no script at all: it reads the same with JS off
    dom = dump_dom(report)
    assert "pwned" not in re.search(r"<title>(.*?)</title>", dom).group(1)
    assert "<img" not in dom and "<b>bold</b>" not in dom
    # a 5,000-character line wraps inside its box: the page is no wider than the window
    shot = load_page(report, 1366, 900, tmp_path / "wide.png")
    from PIL import Image

    assert Image.open(shot.screenshot).size[0] == 1366 and shot.console == []


def test_a_label_task_gets_a_confusion_matrix(tmp_path):
    labels = ["billing", "technical", "account"]
    for split, prefix in (("train", "a"), ("validation", "v"), ("test", "t")):
        write_jsonl(tmp_path / "data" / f"{split}.jsonl", [
            {"id": f"{prefix}{i}", "messages": [{"role": "user", "content": f"{split} ticket number {i}"},
                                                {"role": "assistant", "content": labels[i % 3]}]} for i in range(12)])
    task = tmp_path / "task.yaml"
    task.write_text(f"""name: tickets
version: 1
data: {{train: data/train.jsonl, validation: data/validation.jsonl, test: data/test.jsonl}}
output: {{type: label, labels: [{", ".join(labels)}]}}
model: {{base: unused/model}}
checks: {{near_duplicates: false, leakage: warning}}
metrics: [accuracy]
arms:
  - {{name: zero_shot, type: prompted}}
  - {{name: lora, type: lora}}
decision: {{primary_metric: accuracy, min_lift: 0.05}}
""")
    baseline = {f"t{i}": "Billing." if i % 3 == 0 else "no idea" for i in range(12)}
    tuned = {f"t{i}": labels[i % 3] if i < 9 else "technical" for i in range(12)}
    report = _store_run(tmp_path, task, {"zero_shot": ("baseline", baseline), "lora": ("tuned", tuned)},
                        {"zero_shot": 50, "lora": 20})
    dom = dump_dom(report)
    assert 'id="confusion"' in dom
    matrix = re.search(r'<table class="confusion" data-arm="lora">(.*?)</table>', dom, re.S).group(1)
    cells = [[int(v) for v in re.findall(r"<td[^>]*>(\d+)</td>", row)] for row in re.findall(r"<tr><th>.*?</tr>", matrix, re.S)]
    cells = [c for c in cells if c]
    assert cells == [[3, 1, 0, 0], [0, 4, 0, 0], [0, 1, 3, 0], [0, 0, 0, 0]]  # gold rows, answer columns, (other)
    zero = re.search(r'<table class="confusion" data-arm="zero_shot">(.*?)</table>', dom, re.S).group(1)
    assert "accuracy 0.333" in zero  # "Billing." is read as billing, as the accuracy metric reads it


def test_a_flagged_slice_is_charted_and_its_items_lead_the_disagreements(tmp_path):
    """The tuned arm gets every months value right and no party: the party slice is flagged, drawn red in the slice
    chart, and its items are listed above the item-by-item disagreements, with each arm's party value."""
    task = write_tiny_task(tmp_path, "unused/model", n_test=40)
    test = [json.loads(line) for line in (tmp_path / "data" / "test.jsonl").read_text().splitlines()]
    gold = {r["id"]: json.loads(r["messages"][-1]["content"]) for r in test}
    baseline = {eid: json.dumps({"party": g["party"], "months": g["months"] if i % 2 else 0})
                for i, (eid, g) in enumerate(sorted(gold.items()))}
    tuned = {eid: json.dumps({"party": "Nobody Ltd", "months": g["months"]}) for eid, g in gold.items()}
    report = _store_run(tmp_path, task, {"few_shot": ("baseline", baseline), "lora": ("tuned", tuned)},
                        {"few_shot": 900, "lora": 120})
    dom = dump_dom(report)
    assert load_page(report, 1366, 900).console == []
    chart = re.search(r'<svg[^>]*id="slice-chart".*?</svg>', dom, re.S).group(0)
    rows = re.findall(r'<g class="row (\S+)" data-slice="([^"]+)"', chart)
    assert rows == [("flagged", "party"), ("tested", "months")]
    assert "lora is worse than few_shot on party: 1.000 → 0.000" in dom
    block = re.search(r'<div class="flagged-slice" data-slice="party">(.*?)</div>\s*</div>', dom, re.S).group(1)
    rows = re.findall(r'<tr data-example="([^"]+)">.*?<code>([^<]*)</code></td><td><code>([^<]*)</code></td>'
                      r'<td><code>([^<]*)</code>', block, re.S)
    assert len(rows) == 40 and all(t == "\"Nobody Ltd\"" for *_, t in rows)
    assert all(g == b and g.startswith("\"") for _, g, b, _ in rows)
    assert dom.index('class="flagged-slice"') < dom.index('id="disagreement-counts"')


def test_a_label_task_shows_per_class_slices(tmp_path):
    """tasks/support_tickets.yaml answered by scripted arms: one slice per queue in the chart, each with its n."""
    task = Path(__file__).parent.parent / "tasks" / "support_tickets.yaml"
    data = load_data(load_spec(task))
    gold = {ex.id: ex.target for ex in data.test}
    baseline = {eid: g if i % 4 else "other" for i, (eid, g) in enumerate(sorted(gold.items()))}
    tuned = {eid: "technical" if g == "shipping" else g for eid, g in gold.items()}  # never says shipping
    report = _store_run(tmp_path, task, {"few_shot": ("baseline", baseline), "lora": ("tuned", tuned)},
                        {"few_shot": 400, "lora": 40})
    dom = dump_dom(report)
    chart = re.search(r'<svg[^>]*id="slice-chart".*?</svg>', dom, re.S).group(0)
    shown = dict((name, kind) for kind, name in re.findall(r'<g class="row (\S+)" data-slice="([^"]+)"', chart))
    labels = load_spec(task).spec.output.labels
    assert sorted(shown) == sorted(labels) and shown["shipping"] == "flagged"
    assert all(f"{label} (n={sum(g == label for g in gold.values())})" in chart for label in labels)
    assert 'data-slice="shipping"' in dom.split('id="disagreement-counts"')[0]
    table = re.search(r'<details id="slice-table">.*?</details>', dom, re.S).group(0)
    cells = r'<tr data-row="([^"]+)" class="(\S+)"><td>[^<]*</td><td>(\d+)</td><td>([^<]*)</td><td>([^<]*)</td>'
    rows = re.findall(cells, table)
    assert sorted(r[0] for r in rows) == sorted(labels) and rows[0][:2] == ("shipping", "flagged")
    assert all(int(n) == sum(g == label for g in gold.values()) for label, _, n, *_ in rows)
    shipping = next(r for r in rows if r[0] == "shipping")
    assert float(shipping[4]) == 0.0 and float(shipping[3]) > 0  # the tuned arm never says shipping


def test_the_contracts_full_run_report_stays_under_2_mb(tmp_path):
    """Every one of the 150 test items answered by six arms, the tuned and baseline arms disagreeing on all of
    them, and twelve trials: the page the contracts full profile would write."""
    task = Path(__file__).parent.parent / "tasks" / "contracts.yaml"
    data = load_data(load_spec(task))
    gold = {ex.id: json.loads(ex.target) for ex in data.test}

    def answers(change: int) -> dict[str, str]:  # gold with `change` fields wrong, as a model would write it
        out = {}
        for k, (eid, obj) in enumerate(gold.items()):
            wrong = dict(obj)
            for field in list(wrong)[: (change + k) % (len(wrong) + 1)]:
                wrong[field] = f"not the {field} of item {k}"
            out[eid] = json.dumps(wrong)
        return out

    arms = {"few_shot": ("baseline", answers(3)), "dynamic_few_shot": ("baseline", answers(2)),
            "dynamic_few_shot_constrained": ("baseline", answers(1)), "rag": ("baseline", answers(4)),
            "lora": ("tuned", answers(0)), "rag_lora": ("tuned", answers(5))}
    trials = [Trial(arm, "s", n, "complete", {"learning_rate": 1e-4 * (n + 1), "r": 4 << (n % 3)}, 0.3 + 0.05 * n,
                    intermediate=[{"step": s, "value": 0.1 * s} for s in range(1, 4)], train_seconds=900.0)
              for arm in ("lora", "rag_lora") for n in range(6)]
    report = _store_run(tmp_path, task, arms, {a: 1000 if role == "baseline" else 250 for a, (role, _) in arms.items()},
                        trials)
    size = report.stat().st_size
    assert size <= 2_000_000, size
    dom = dump_dom(report)
    assert dom.count('class="example disagreement') <= 80  # 40 shown per direction, the rest counted


def test_the_browser_check_catches_scripts_console_output_and_requests(tmp_path):
    """The control for the checks above: a page that logs and fetches is caught."""
    page = tmp_path / "leaky.html"
    page.write_text('<!doctype html><p>x</p><img src="http://127.0.0.1:9/pixel.png">'
                    '<script>console.error("boom")</script>')
    seen = load_page(page)
    assert any('"boom"' in line for line in seen.console)
    assert seen.requests == ["http://127.0.0.1:9/pixel.png"]


def test_the_learning_curve_reads_in_a_real_browser(tmp_path):
    """The curve section: the chart on a log axis (points with intervals, the band, the fitted line solid then
    dashed, baseline and baseline + min_lift, the crossing), the rule of thumb beside the answer, the backtest, the
    trained points; the sentence among the verdict's reasons."""
    from harness.readside.results import run_decision, with_curves
    from harness.verdict.curve import CurvePoint, analyse

    _json_run(tmp_path)
    run_id = "20261124-000000-page"
    n = 30
    with Store.open(tmp_path / "h.duckdb") as store:
        ids = [e.example_id for e in store.examples(run_id)]
        base = [v for _, v in sorted(store.scores(run_id, "json_field_f1")["few_shot"].items())]
        points = []
        for size, right in ((12, 6), (24, 10), (48, 13), (96, 15)):
            values = [1.0 if i < right else 0.0 for i in range(n)]
            points.append(CurvePoint(size, 0, values, [""] * n))
            if size < 96:
                name = f"lora@{size}"
                store.start_arm(run_id, name, "curve", "curve", {"arm": {"curve_of": "lora", "size": size, "seed": 0,
                                                                         "steps": 24}}, name)
                predictions = [Prediction(i, [], "{}", None, 0.1, 10, 5) for i in ids]
                store.finish_arm(run_id, name, "test", predictions, [], [], 1.0, {"train_seconds": 30.0 + size})
        curve = analyse("lora", "few_shot", points, base, [""] * n, ["x"] * n, "json_field_f1",
                        load_spec(tmp_path / "task.yaml").spec.output_shape(), 0.05, resamples=300, available=600)
        store.save_curves(run_id, [curve.to_dict()])
        decision = with_curves(run_decision(store.run(run_id)), [curve])
        store.finish_run(run_id, None, decision.to_dict())
        report = write_report(store, run_id, tmp_path / "reports")
    shot = load_page(report, 1366, 900, tmp_path / "curve.png")
    assert shot.console == [] and shot.requests == []
    dom = dump_dom(report)
    section = re.search(r'<section id="learning-curve">.*?</section>', dom, re.S).group(0)
    chart = re.search(r'<svg[^>]*id="learning-curve-lora".*?</svg>', section, re.S).group(0)
    assert chart.count('class="size"') == 4 and 'class="band"' in chart
    assert 'class="fit measured"' in chart and re.search(r'class="fit extrapolated"[^>]*stroke-dasharray', chart)
    assert 'class="reference baseline"' in chart and 'class="reference target"' in chart
    assert 'class="crossing"' in chart or "not reached by" in chart
    assert ">10<" in chart and ">100<" in chart  # log-scale ticks
    assert "the guides' rule of thumb" in section and "under 100 examples" in section
    assert "Backtest: fitted on 12, 24, 48 examples only" in section
    assert section.count("<tr><td>lora@") == 3
    reasons = re.search(r'<section id="decision".*?</ul>', dom, re.S).group(0)
    assert "learning curve of lora" in reasons and "of 600 in the train split" in reasons
