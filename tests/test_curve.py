"""The learning curve end to end on a tiny model, through the CLI: points stored as content-addressed results, a
re-run with one more fraction that trains only that fraction, the sentence in the reasons, the history column."""

from __future__ import annotations

import json

from conftest import query, run_cli, tuned_arms, write_tiny_task


def _task(tmp_path, tiny_model, curve: str = "", profiles: str = ""):
    arms = tuned_arms() + (f"    curve: {curve}\n" if curve else "")
    return write_tiny_task(tmp_path / "task", tiny_model, arms, n_test=20, extra=profiles)


def _trained(tmp_path, run_id: str) -> list[str]:
    return [arm for (arm,) in query(tmp_path, f"SELECT arm FROM stages WHERE run_id = '{run_id}' "
                                              f"AND stage = 'curve training' ORDER BY position")]


def _runs(tmp_path) -> list[str]:
    return [r for (r,) in query(tmp_path, "SELECT run_id FROM runs ORDER BY started_at")]


def test_a_rerun_with_one_more_fraction_trains_only_that_fraction(tmp_path, tiny_model, capsys):
    task = _task(tmp_path, tiny_model, "{fractions: [0.25, 0.5]}")
    assert run_cli(tmp_path, task) == 0
    first = _runs(tmp_path)[-1]
    assert _trained(tmp_path, first) == ["lora@2", "lora@4"]  # 8 examples: the full size is the arm itself
    points = query(tmp_path, f"SELECT arm, role, status, cache_key IS NOT NULL FROM arms WHERE run_id = '{first}' "
                             f"AND role = 'curve' ORDER BY arm")
    assert points == [("lora@2", "curve", "completed", True), ("lora@4", "curve", "completed", True)]
    out = capsys.readouterr().out
    assert "learning curve of lora" in out
    # the verdict's table and metrics list the arms, not the points
    assert "lora@2" not in out.split("verdict:")[0]

    task.write_text(task.read_text().replace("[0.25, 0.5]", "[0.25, 0.5, 0.75]"), encoding="utf-8")
    assert run_cli(tmp_path, task) == 0
    second = _runs(tmp_path)[-1]
    assert _trained(tmp_path, second) == ["lora@6"]
    copied = query(tmp_path, f"SELECT arm, cached_from FROM arms WHERE run_id = '{second}' AND role = 'curve' "
                             f"ORDER BY arm")
    assert copied == [("lora@2", first), ("lora@4", first), ("lora@6", None)]
    # the tuned arm itself was reused too: adding a point does not change its identity
    assert query(tmp_path, f"SELECT cached_from FROM arms WHERE run_id = '{second}' AND arm = 'lora'") == [(first,)]

    (analysis,) = [json.loads(a) for (a,) in
                   query(tmp_path, f"SELECT analysis_json FROM curves WHERE run_id = '{second}'")]
    assert [s["size"] for s in analysis["sizes"]] == [2, 4, 6, 8]
    assert analysis["baseline"] == "zero_shot" and analysis["largest"] == 8
    (decision,) = query(tmp_path, f"SELECT decision_json FROM runs WHERE run_id = '{second}'")
    reasons = json.loads(decision[0])["reasons"]
    assert sum("learning curve of lora" in r for r in reasons) == 1


def test_curve_flag_and_history(tmp_path, tiny_model, capsys):
    task = _task(tmp_path, tiny_model)
    assert run_cli(tmp_path, task) == 0  # no curve asked: nothing trained for one
    assert query(tmp_path, "SELECT count(*) FROM arms WHERE role = 'curve'") == [(0,)]
    assert run_cli(tmp_path, task, "--curve") == 0  # the defaults: 1/8, 1/4, 1/2 of 8 examples -> 1, 2, 4
    run_id = _runs(tmp_path)[-1]
    assert _trained(tmp_path, run_id) == ["lora@1", "lora@2", "lora@4"]
    stages = {s for (s,) in query(tmp_path, f"SELECT stage FROM stages WHERE run_id = '{run_id}'")}
    assert {"curve training", "curve answers", "curve scoring", "curve fit"} <= stages
    report = (tmp_path / "reports" / f"tiny-{run_id}.html").read_text(encoding="utf-8")
    assert 'id="learning-curve"' in report
    assert "<th>clears min_lift at</th>" in report  # the report's history of the task, per base model
    capsys.readouterr()
    from harness.cli import main
    from harness.readside.results import history
    from harness.store.database import Store

    with Store.open(tmp_path / "h.duckdb", read_only=True) as store:
        rows = history(store)
    assert [r.crossing is not None for r in rows] == [False, True]
    assert rows[1].crossing.startswith("lora ")  # e.g. 'lora > 32 of 8': the tiny model never clears it
    assert main(["history", "--db", str(tmp_path / "h.duckdb")]) == 0
    out = capsys.readouterr().out
    assert "clears min_lift at" in out and rows[1].crossing in out

    # the export holds the points (arms role 'curve') and the fitted curve itself
    out_dir = tmp_path / "export"
    assert main(["export", run_id, "--db", str(tmp_path / "h.duckdb"), "--format", "jsonl", "--out", str(out_dir)]) == 0
    (fitted,) = [json.loads(line) for line in (out_dir / "curves.jsonl").read_text(encoding="utf-8").splitlines()]
    assert fitted["arm"] == "lora" and json.loads(fitted["analysis_json"])["largest"] == 8
    exported = (out_dir / "arms.jsonl").read_text(encoding="utf-8").splitlines()
    assert {"lora@1", "lora@2", "lora@4"} <= {json.loads(line)["arm"] for line in exported}


def test_which_curve_a_run_draws():
    from harness.spec import CurveSpec, ProfileSpec
    from harness.tuning.curve import curve_settings

    own = CurveSpec(sizes=[4])
    assert curve_settings(None, ProfileSpec()) is None  # nobody asked
    assert curve_settings(own, ProfileSpec()) is own  # the arm asks on every profile ...
    assert curve_settings(own, ProfileSpec(curve=False)) is None  # ... that does not say false
    assert curve_settings(None, ProfileSpec(curve=True)) == CurveSpec()  # --curve: the defaults
    assert curve_settings(own, ProfileSpec(curve=True)) is own
    assert curve_settings(None, ProfileSpec(curve={"seeds": 2})).seeds == 2
    assert CurveSpec().wanted(8) == [1, 2, 4, 8] and CurveSpec(sizes=[3, 5]).wanted(8) == [3, 5, 8]
