"""`harness compare RUN_A RUN_B` on real runs of a tiny task: per-arm paired differences, flipped items, verdicts,
regression-suite deltas, the HTML page in real Chromium, and the refusals."""

from __future__ import annotations

import json
import re

from harness.cli import main
from harness.readside.compare import compare_runs
from harness.store.database import Store
from tests.browser import dump_dom
from tests.conftest import json_rows, query, run_cli, tuned_arms, write_jsonl, write_tiny_task
from tests.openai_server import serve

GOLD = {row["id"]: row["messages"][-1]["content"] for row in json_rows(6, "te")}
EVIL = "<script>document.title='pwned'</script>"
SUITE = "regression: {mmlu_items: 0, general_items: 8, perplexity_docs: 0, probes: false, trial_items: 0}\n"
TUNED = tuned_arms(merge=False)


def _answers(right: set[str], evil: str | None = None, half: set[str] = frozenset()):
    """A served model that answers exactly the test items in `right`, gets the party right and the months wrong
    on those in `half`, and every other item wrong."""

    def answer(messages: list[dict], max_tokens: int) -> tuple[str, int, int]:
        found = re.search(r"Contract (te\d+):", messages[-1]["content"])
        item = found.group(1) if found else None
        if item is not None and item == evil:
            return EVIL, 5, 5
        if item in half:
            return json.dumps({"party": json.loads(GOLD[item])["party"], "months": 99}), 5, 5
        return (GOLD[item] if item in right else '{"party": "nobody"}'), 5, 5

    return answer


def _served(base_url: str) -> str:
    return f"""
  - name: zero_shot
    type: prompted
  - name: served
    type: prompted
    backend: {{type: openai, base_url: "{base_url}", model: tiny, max_retries: 0}}
"""


def _run_served(tmp_path, tiny_model, answer, version: int = 1, test_rows: list[dict] | None = None,
                primary: str = "exact_match") -> str:
    """One run of the tiny task, by default with exact_match as its primary metric (0/1 per item: Tango)."""
    with serve(answer) as (base_url, _):
        task = write_tiny_task(tmp_path, tiny_model, _served(base_url))
        if test_rows is not None:
            write_jsonl(tmp_path / "data" / "test.jsonl", test_rows)
        text = task.read_text().replace("primary_metric: json_field_f1", f"primary_metric: {primary}")
        task.write_text(text.replace("version: 1\n", f"version: {version}\n"))
        assert run_cli(tmp_path, task) == 0
    return query(tmp_path, "SELECT run_id FROM runs ORDER BY started_at DESC LIMIT 1")[0][0]


def _compare(tmp_path, a: str, b: str) -> int:
    return main(["compare", a, b, "--db", str(tmp_path / "h.duckdb"), "--reports", str(tmp_path / "reports")])


def test_compare_two_runs_per_arm_flips_and_page(tmp_path, tiny_model, capsys):
    run_a = _run_served(tmp_path, tiny_model, _answers({"te0", "te1", "te2"}))
    run_b = _run_served(tmp_path, tiny_model, _answers({"te1", "te2", "te3", "te4"}, evil="te0"))
    capsys.readouterr()

    with Store.open(tmp_path / "h.duckdb", read_only=True) as store:
        result = compare_runs(store, run_a, run_b)
    assert result.n_shared == 6 and result.primary == "exact_match"
    by_arm = {d.arm: d for d in result.arms}
    assert set(by_arm) == {"zero_shot", "served"}
    served = by_arm["served"]
    assert (served.value_a, served.value_b) == (3 / 6, 4 / 6)
    assert served.method == "tango-score" and served.low <= served.diff <= served.high
    assert abs(served.diff - 1 / 6) < 1e-12
    outputs = dict(query(tmp_path, f"SELECT example_id, output FROM predictions WHERE arm = 'served' AND split = 'test' "
                                   f"AND run_id = '{run_a}'"))
    outputs_b = dict(query(tmp_path, f"SELECT example_id, output FROM predictions WHERE arm = 'served' "
                                     f"AND split = 'test' AND run_id = '{run_b}'"))
    assert {f.example_id for f in served.flips} == {"te0", "te3", "te4"}
    assert (served.wins, served.losses) == (2, 1)
    flip = next(f for f in served.flips if f.example_id == "te0")
    assert (flip.output_a, flip.output_b, flip.target) == (outputs["te0"], outputs_b["te0"], GOLD["te0"]) \
        and flip.output_b == EVIL and not flip.better and "Contract te0" in flip.input
    # the tiny model answers the same greedy text both times: nothing flips, and the interval holds 0
    zero = by_arm["zero_shot"]
    assert zero.flips == [] and zero.diff == 0 and zero.low <= 0 <= zero.high
    assert result.a.base_weights and result.a.base_weights == result.b.base_weights
    assert result.regression == []

    assert _compare(tmp_path, run_a, run_b) == 0
    out = capsys.readouterr().out
    assert re.search(r"served .*0\.500 .*0\.667 .*\+0\.167 \[", out)
    assert "3 (2 / 1)" in out and f"A {run_a}" in out and f"B {run_b}" in out
    page = tmp_path / "reports" / f"compare-{run_a}-{run_b}.html"
    assert f"comparison: {page}" in out.replace("\n", "")

    dom = dump_dom(page)
    assert run_a in dom and run_b in dom and 'data-arm="served"' in dom and 'data-arm="zero_shot"' in dom
    flipped = re.findall(r'class="flip (better|worse)" data-arm="served" data-item="(te\d)"', dom)
    assert sorted(flipped) == [("better", "te3"), ("better", "te4"), ("worse", "te0")]
    assert "&lt;script&gt;document.title='pwned'&lt;/script&gt;" in dom and "<title>tiny" in dom  # escaped, inert
    assert 'id="regression"' in dom and "Neither run has regression-suite results" in dom


def test_regression_deltas_and_verdicts_side_by_side(tmp_path, tiny_model, capsys):
    task = write_tiny_task(tmp_path, tiny_model, TUNED, extra=SUITE)
    assert run_cli(tmp_path, task) == 0
    assert run_cli(tmp_path, task) == 0  # the same command again: the same answers, the suite reused
    run_a, run_b = (r[0] for r in query(tmp_path, "SELECT run_id FROM runs ORDER BY started_at"))
    capsys.readouterr()

    with Store.open(tmp_path / "h.duckdb", read_only=True) as store:
        result = compare_runs(store, run_a, run_b)
    assert {d.arm for d in result.arms} == {"zero_shot", "lora"}
    assert all(d.flips == [] and d.diff == 0 and d.low <= 0 <= d.high for d in result.arms)
    assert [r.arm for r in result.regression] == ["lora"]
    for r in result.regression:
        assert r.a is not None and r.b is not None and (r.a.diff, r.a.n) == (r.b.diff, r.b.n)
    assert result.a.verdict in ("GO", "NO-GO", "INCONCLUSIVE") and result.a.verdict == result.b.verdict
    assert result.a.lift == result.b.lift

    assert _compare(tmp_path, run_a, run_b) == 0
    out = capsys.readouterr().out
    assert f"verdict {result.a.verdict}" in out and "regression suite, lora: A " in out
    dom = dump_dom(tmp_path / "reports" / f"compare-{run_a}-{run_b}.html")
    assert 'data-regression-arm="lora"' in dom
    assert 'data-run="A"' in dom and f'class="verdict {result.a.verdict}"' in dom
    assert "No shared item changed" in dom


def test_different_versions_or_no_shared_items_are_refused(tmp_path, tiny_model, capsys):
    answer = _answers({"te0"})
    first = _run_served(tmp_path, tiny_model, answer)
    renamed = [{**row, "id": row["id"].replace("te", "tx")} for row in json_rows(6, "te")]
    other_ids = _run_served(tmp_path, tiny_model, answer, test_rows=renamed)
    second_version = _run_served(tmp_path, tiny_model, answer, version=2)
    capsys.readouterr()

    assert _compare(tmp_path, first, other_ids) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and first in err and other_ids in err and "share no test items" in err

    assert _compare(tmp_path, first, second_version) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and first in err and second_version in err and "versions differ (v1 and v2)" in err
    assert not list((tmp_path / "reports").glob("compare-*"))


def test_a_changed_gold_answer_is_not_a_shared_item(tmp_path, tiny_model):
    answer = _answers({"te0", "te1"})
    first = _run_served(tmp_path, tiny_model, answer)
    rows = json_rows(6, "te")
    rows[1]["messages"][-1]["content"] = json.dumps({"party": "changed", "months": 0})
    second = _run_served(tmp_path, tiny_model, answer, test_rows=rows)
    with Store.open(tmp_path / "h.duckdb", read_only=True) as store:
        result = compare_runs(store, first, second)
    assert (result.n_shared, result.only_a, result.only_b) == (5, 1, 1)
    assert all(d.n == 5 for d in result.arms)


def test_a_continuous_metric_gets_the_paired_bootstrap_and_flips_by_value(tmp_path, tiny_model):
    run_a = _run_served(tmp_path, tiny_model, _answers({"te0", "te1", "te2"}), primary="json_field_f1")
    run_b = _run_served(tmp_path, tiny_model, _answers({"te1", "te2", "te3"}, half={"te0"}), primary="json_field_f1")
    with Store.open(tmp_path / "h.duckdb", read_only=True) as store:
        served = next(d for d in compare_runs(store, run_a, run_b).arms if d.arm == "served")
    assert served.method == "paired-bootstrap" and served.low <= served.diff <= served.high
    assert {f.example_id: (f.value_a, f.value_b) for f in served.flips} == {"te0": (1.0, 0.5), "te3": (0.0, 1.0)}
    assert abs(served.diff - (served.value_b - served.value_a)) < 1e-12 and served.diff > 0
