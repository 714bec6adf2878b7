"""Slices: the verdict's tuned arm against its baseline per JSON field, gold label and declared data value, and
the rule that flags a slice worse beyond decision.max_slice_drop, checked by simulation.

The simulations share item difficulty between arms (and between the fields of one item) as
tests/test_calibration.py does: item i has a latent ease theta_i ~ N(0, 1) and an arm with accuracy p on a slice
gets it right with probability Phi(Phi^-1(p) sqrt(2) + theta_i). Nominal rate of a false flag: one-sided
(1 - confidence) / 2 = 2.5%, family-wise over the slices. Seeded; a few thousand slice checks in all.
"""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from scipy.stats import binom, norm

from harness.metrics.builtin import OutputShape
from harness.spec import DecisionSpec
from harness.verdict.comparison import ArmResult
from harness.verdict.decision import decide
from harness.verdict.slices import _family, check_slices, groups, smallest_testable
from harness.verdict.stats import tango_z, z_of
from tests.test_calibration import _cells, _not_above

MAX_DROP, ALPHA = 0.10, 0.025
N_LABELS, N_LABEL_ITEMS = 77, 400
FIELDS = tuple(f"f{j}" for j in range(6))
N_FIELD_ITEMS = 80
REPS = 300


def zipf_sizes(items: int = N_LABEL_ITEMS, labels: int = N_LABELS) -> list[int]:
    """Label counts falling as 1/rank (intent data are skewed): 112, 40, 27, 20, 16, 13, 11, 10, 9, ... 1."""
    w = 1 / np.arange(1, labels + 1)
    sizes = np.maximum(1, np.floor(w / w.sum() * items)).astype(int)
    sizes[0] += items - sizes.sum()
    return [int(s) for s in sizes]


def _right(rng: np.random.Generator, theta: np.ndarray, p: float | np.ndarray) -> np.ndarray:
    return rng.random(theta.shape) < norm.cdf(norm.ppf(p) * math.sqrt(2) + theta)


def _label_arms(rng, sizes, p_base, drops):
    """Baseline and tuned answers to a label task; `drops[j]`: the tuned arm's true loss on label j."""
    labels = tuple(f"intent_{j:02d}" for j in range(len(sizes)))
    gold = np.repeat(np.arange(len(sizes)), sizes)
    ids = [f"e{i:04d}" for i in range(len(gold))]
    theta = rng.normal(0, 1, len(gold))
    base = _right(rng, theta, p_base)
    tuned = _right(rng, theta, p_base - np.asarray(drops)[gold])

    def arm(name, role, right):
        outputs = {i: labels[g] if r else labels[(g + 1) % len(labels)] for i, g, r in zip(ids, gold, right)}
        return ArmResult(name, role, "completed", float(right.mean()), dict(zip(ids, right.astype(float))), outputs)

    targets = {i: labels[g] for i, g in zip(ids, gold)}
    return arm("base", "baseline", base), arm("tuned", "tuned", tuned), targets, OutputShape("label", labels=labels)


def _field_arms(rng, p_base, drops, n=N_FIELD_ITEMS):
    """Baseline and tuned JSON answers with six fields; `drops[f]`: the tuned arm's true loss on field f."""
    ids = [f"e{i:04d}" for i in range(n)]
    theta = rng.normal(0, 1, (n, 1))  # one ease per item, shared by its fields and by both arms
    gold = [{f: f"{f}-{i}" for f in FIELDS} for i in range(n)]
    base = _right(rng, np.repeat(theta, len(FIELDS), axis=1), p_base)
    tuned = np.column_stack([_right(rng, theta[:, 0], p_base - drops.get(f, 0.0)) for f in FIELDS])

    def arm(name, role, right):
        outputs = {i: json.dumps({f: g[f] if r else "wrong" for f, r in zip(FIELDS, row)})
                   for i, g, row in zip(ids, gold, right)}
        values = {i: float(row.mean()) for i, row in zip(ids, right)}
        return ArmResult(name, role, "completed", float(right.mean()), values, outputs)

    targets = {i: json.dumps(g) for i, g in zip(ids, gold)}
    return arm("base", "baseline", base), arm("tuned", "tuned", tuned), targets, OutputShape("json", fields=FIELDS)


def _check(base, tuned, targets, shape, data_fields=None, mode="warn"):
    return check_slices(tuned, base, targets, shape, data_fields or {}, 1.0, mode, MAX_DROP, ALPHA)


def _flag_rate(seed, make, reps=REPS):
    rng = np.random.default_rng(seed)
    flagged = sum(bool(_check(*make(rng)).flagged) for _ in range(reps))
    return flagged, reps


def _lone_power(n: int, m: int, p_base: float, loss: float) -> float:
    """Exact P(a slice of n items is flagged at Holm's first step, alpha / m) when the tuned arm is `loss` worse
    there: the multinomial law of wins and losses; Holm flags at least as often."""
    p_win, p_loss = _cells(p_base, p_base - loss)
    z = -z_of(ALPHA / m)
    total = 0.0
    for b in range(n + 1):
        cs = np.arange(n - b + 1)
        ok = np.array([tango_z(b, c, n, -MAX_DROP) < z for c in cs])
        total += binom.pmf(b, n, p_win) * float(binom.pmf(cs[ok], n - b, p_loss / (1 - p_win)).sum())
    return total


# ---------------------------------------------------------------- the family


def test_slices_too_small_to_show_a_loss_are_listed_not_dropped():
    sizes = zipf_sizes()
    family, k = _family(sizes, MAX_DROP, ALPHA)
    assert sum(sizes) == N_LABEL_ITEMS and sorted(family) == list(range(8)) and k == 8
    rng = np.random.default_rng(0)
    check = _check(*_label_arms(rng, sizes, 0.7, [0.0] * N_LABELS))
    assert len(check.slices) == N_LABELS and len(check.tested) == 8 and len(check.too_small) == 69
    assert check.min_n == smallest_testable(MAX_DROP, ALPHA / 8) == 10
    assert all(s.n < check.min_n for s in check.too_small) and all(s.p_adjusted is None for s in check.too_small)
    assert check.level == pytest.approx(1 - 2 * ALPHA / 8)
    # the same 400 items spread evenly: no label has enough items to show a loss, and the check says so
    even = [N_LABEL_ITEMS // N_LABELS + (j < N_LABEL_ITEMS % N_LABELS) for j in range(N_LABELS)]
    assert _family(even, MAX_DROP, ALPHA)[0] == set()
    assert not _check(*_label_arms(rng, even, 0.7, [0.0] * N_LABELS)).tested


def test_a_slice_where_the_tuned_arm_loses_everything_is_flagged_with_its_items():
    ids = [f"e{i:02d}" for i in range(80)]
    targets = {i: json.dumps({"law": "LAW-NY-017" if k < 40 else "LAW-TX-561", "kind": "nda"})
               for k, i in enumerate(ids)}
    base_out = {i: json.dumps({"law": json.loads(targets[i])["law"] if k < 25 else "LAW-XX-000", "kind": "nda"})
                for k, i in enumerate(ids)}
    tuned_out = {i: json.dumps({"law": "LAW-NY-001", "kind": "nda"}) for i in ids}
    base = ArmResult("few", "baseline", "completed", 0.5, {i: 0.5 for i in ids}, base_out)
    tuned = ArmResult("lora", "tuned", "completed", 0.5, {i: 0.5 for i in ids}, tuned_out)
    check = _check(base, tuned, targets, OutputShape("json", fields=("law", "kind")))
    law, kind = check.slices
    assert law.flagged and not kind.flagged and [s.label for s in check.flagged] == ["law"]
    assert (law.baseline, law.tuned, law.diff) == (pytest.approx(25 / 80), 0.0, pytest.approx(-25 / 80))
    assert law.high < -MAX_DROP and law.lost == ids[:25] and law.items == ids
    assert law.invented == 1.0 and law.invented_example == '"LAW-NY-001"' and law.constant == '"LAW-NY-001"'
    assert kind.diff == 0 and kind.constant == '"nda"' and kind.invented == 0.0


def test_label_and_data_slices():
    rng = np.random.default_rng(1)
    base, tuned, targets, shape = _label_arms(rng, [30, 20, 3], 0.8, [0.0, 0.0, 0.0])
    language = {i: ("de" if k % 3 == 0 else "en") for k, i in enumerate(sorted(targets))}
    language[sorted(targets)[1]] = None
    found = groups(shape, targets, {"language": language})
    assert [(g.kind, g.name, len(g.ids)) for g in found] == [
        ("label", "intent_00", 30), ("label", "intent_01", 20), ("label", "intent_02", 3),
        ("data", "(none)", 1), ("data", "de", 18), ("data", "en", 34)]
    check = _check(base, tuned, targets, shape, {"language": language})
    assert [s.label for s in check.slices][-3:] == ["language=(none)", "language=de", "language=en"]
    assert sum(s.n for s in check.slices if s.kind == "data") == len(targets)


# ---------------------------------------------------------------- error rate and power, by simulation


@pytest.mark.parametrize("true_drop", [0.0, MAX_DROP])
def test_no_false_flags_beyond_the_nominal_rate_over_77_labels(true_drop):
    """No slice truly worse beyond max_slice_drop (equal arms, or every label exactly at the tolerated drop, the
    least favourable case): some slice is flagged at most as often as the nominal 2.5%."""
    sizes = zipf_sizes()
    flagged, reps = _flag_rate(11 + int(true_drop * 100),
                               lambda rng: _label_arms(rng, sizes, 0.7, [true_drop] * N_LABELS))
    assert _not_above(flagged, reps, ALPHA), flagged / reps


@pytest.mark.parametrize("true_drop", [0.0, MAX_DROP])
def test_no_false_flags_beyond_the_nominal_rate_over_6_fields(true_drop):
    drops = {f: true_drop for f in FIELDS}
    flagged, reps = _flag_rate(21 + int(true_drop * 100), lambda rng: _field_arms(rng, 0.6, drops))
    assert _not_above(flagged, reps, ALPHA), flagged / reps


@pytest.mark.parametrize("label,n", [(0, 112), (1, 40)])
def test_power_for_a_true_loss_on_one_label(label, n):
    """A true loss of max_slice_drop + 0.10 on one label (the others equal): how often it is flagged, against the
    exact power of Holm's first step (Holm can only flag more); no other label is flagged beyond the nominal rate."""
    sizes = zipf_sizes()
    drops = [0.0] * N_LABELS
    drops[label] = MAX_DROP + 0.10
    rng = np.random.default_rng(31 + label)
    hits = wrong = 0
    for _ in range(REPS):
        check = _check(*_label_arms(rng, sizes, 0.7, drops))
        hits += check.slices[label].flagged
        wrong += any(s.flagged for j, s in enumerate(check.slices) if j != label)
    exact = _lone_power(n, 8, 0.7, MAX_DROP + 0.10)
    assert hits / REPS >= exact - 3 * math.sqrt(exact * (1 - exact) / REPS), (hits / REPS, exact)
    assert _not_above(wrong, REPS, ALPHA)
    print(f"label of {n} items: flagged {hits / REPS:.1%} (exact Holm first step {exact:.1%})")


def test_power_for_a_true_loss_on_one_field():
    drops = {"f3": MAX_DROP + 0.10}
    rng = np.random.default_rng(41)
    hits = sum(_check(*_field_arms(rng, 0.6, drops)).slices[3].flagged for _ in range(REPS))
    exact = _lone_power(N_FIELD_ITEMS, 6, 0.6, MAX_DROP + 0.10)
    assert hits / REPS >= exact - 3 * math.sqrt(exact * (1 - exact) / REPS), (hits / REPS, exact)
    print(f"field of {N_FIELD_ITEMS} items: flagged {hits / REPS:.1%} (exact Holm first step {exact:.1%})")


# ---------------------------------------------------------------- through the verdict


def test_block_turns_a_go_with_a_slice_loss_into_inconclusive():
    rng = np.random.default_rng(5)
    base, tuned, targets, shape = _field_arms(rng, 0.5, {"f3": 0.45}, n=200)
    for f in ("f0", "f1", "f2", "f4", "f5"):  # the tuned arm wins the other fields outright
        tuned.outputs.update({i: json.dumps({**json.loads(tuned.outputs[i]), f: json.loads(targets[i])[f]})
                              for i in targets})
    tuned.values.update({i: sum(json.loads(tuned.outputs[i])[f] == json.loads(targets[i])[f] for f in FIELDS) / 6
                         for i in targets})
    rule = DecisionSpec(primary_metric="json_field_accuracy", min_lift=0.05)
    warn = decide([base, tuned], targets, "json_field_accuracy", rule, shape)
    assert warn.verdict == "GO" and warn.rule == "lift" and [s.name for s in warn.slices.flagged] == ["f3"]
    block = decide([base, tuned], targets, "json_field_accuracy", rule.model_copy(update={"slices": "block"}), shape)
    assert block.verdict == "INCONCLUSIVE" and block.rule == "slice-block" and block.finding == "lift"
    assert block.route is None and block.comparisons == warn.comparisons


def test_block_mode_end_to_end_through_the_cli(tmp_path, tiny_model, capsys):
    """`harness run` on the tiny model: a served baseline that names every party right inside chatter (never valid
    JSON), and a LoRA arm decoding into the schema (always valid JSON, random values). GO on json_valid, with the
    party slice lost: named in warn mode, and INCONCLUSIVE with `decision.slices: block`."""
    from conftest import query, run_cli, write_tiny_task

    from tests.openai_server import serve

    schema = ('{type: object, additionalProperties: false, required: [party, months], properties: '
              '{party: {type: string, pattern: "^[a-z]{1,8}$"}, months: {type: integer, minimum: 0, maximum: 99}}}')

    def chatter(messages, max_tokens):
        party = messages[-1]["content"].split(": ", 1)[1].split(" agrees")[0]
        return f'Sure: {{"party": "{party}", "months": 0}} hope this helps', 9, 12

    with serve(chatter) as (url, _):
        arms = f"""
  - {{name: served, type: prompted, backend: {{type: openai, base_url: "{url}", model: tiny, max_retries: 0}}}}
  - {{name: lora, type: lora, r: 4, alpha: 8, epochs: 1, batch_size: 4, merge: false, answer: constrained,
     sweep: {{trials: 1}}}}
"""
        task = write_tiny_task(tmp_path, tiny_model, arms, n_test=20)
        text = task.read_text().replace("  fields: [party, months]",
                                        f"  fields: [party, months]\n  json_schema: {schema}")
        text = text.replace("max_new_tokens: 6", "max_new_tokens: 40").replace("primary_metric: json_field_f1",
                                                                               "primary_metric: json_valid")
        task.write_text(text)
        assert run_cli(tmp_path, task) == 0
        warned = capsys.readouterr().out
        task.write_text(text.replace("  min_lift: 0.05", "  min_lift: 0.05\n  slices: block"))
        assert run_cli(tmp_path, task) == 0
        blocked = capsys.readouterr().out
    warn, block = [json.loads(d) for (d,) in query(tmp_path, "SELECT decision_json FROM runs ORDER BY started_at")]
    assert warn["verdict"] == "GO" and warn["rule"] == "lift" and warn["slices"]["mode"] == "warn"
    assert [s["name"] for s in warn["slices"]["slices"] if s["flagged"]] == ["party"]
    assert "slices: GO overall; but lora is worse than served on party: 1.000 → 0.000" in " ".join(warned.split())
    assert block["verdict"] == "INCONCLUSIVE" and block["rule"] == "slice-block" and block["finding"] == "lift"
    assert block["comparisons"] == warn["comparisons"]
    assert "verdict: INCONCLUSIVE: no verdict: GO overall, but lora is worse on party" in " ".join(blocked.split())
    report = sorted((tmp_path / "reports").glob("*.html"))[-1].read_text()
    assert 'id="slice-chart"' in report and "flagged slices hold back a GO (decision.slices: block)" in report


def test_declared_data_slices_are_read_from_the_records_and_checked_before_any_model(tmp_path):
    """data.slices names record keys: their values split the test items; a key no record has, or one holding a
    list, is a one-line error naming the task file or the data file."""
    from conftest import write_jsonl, write_tiny_task

    from harness.data.examples import slice_values
    from harness.data.loading import load_data
    from harness.errors import SpecError
    from harness.spec.taskfile import load_spec

    task = write_tiny_task(tmp_path, "unused/model", n_test=6)
    test = [json.loads(line) for line in (tmp_path / "data" / "test.jsonl").read_text().splitlines()]
    write_jsonl(tmp_path / "data" / "test.jsonl", [{**r, "language": "de" if k % 3 == 0 else "en"}
                                                    for k, r in enumerate(test)])
    text = task.read_text()
    task.write_text(text.replace("  test: data/test.jsonl", "  test: data/test.jsonl\n  slices: [language]"))
    loaded = load_spec(task)
    values = slice_values(loaded, load_data(loaded).test)
    assert sorted(values) == ["language"] and sorted(values["language"].values()) == ["de", "de"] + ["en"] * 4
    task.write_text(text.replace("  test: data/test.jsonl", "  test: data/test.jsonl\n  slices: [langauge]"))
    with pytest.raises(SpecError) as err:
        load_data(load_spec(task))
    assert "data.slices: no record has a field 'langauge'" in str(err.value) and "language" in str(err.value)
    write_jsonl(tmp_path / "data" / "test.jsonl", [{**r, "language": ["de"]} for r in test])
    task.write_text(text.replace("  test: data/test.jsonl", "  test: data/test.jsonl\n  slices: [language]"))
    with pytest.raises(SpecError) as err:
        load_data(load_spec(task))
    assert "test.jsonl" in str(err.value) and "'language' holds a list" in str(err.value)
