"""The report's disagreement, confusion-matrix and per-field views, read from real stores."""

from __future__ import annotations

import json

from harness.records import Prediction
from harness.report.views import (
    DIFF_CAP,
    OTHER,
    char_diff,
    confusion,
    disagreements,
    field_accuracy,
)
from harness.store.database import Store


def _run(store: Store, run_id: str = "r1") -> None:
    store.start_run({"run_id": run_id, "task": "t", "task_version": "1", "spec_json": "{}", "spec_hash": "h",
                     "data_fingerprint": "d"})


def _example(eid: str, text: str, target: str) -> dict:
    messages = [{"role": "system", "content": "You extract fields."}, {"role": "user", "content": text},
                {"role": "assistant", "content": "ok"}, {"role": "user", "content": "again: " + text}]
    return {"split": "test", "example_id": eid, "input_json": json.dumps(messages), "target": target}


def _arm(store: Store, arm: str, role: str, answers: dict[str, tuple[str, str | None]],
         scores: dict[str, dict[str, float]], metrics: list[dict] | None = None, run_id: str = "r1") -> None:
    """answers: example id -> (output, error); scores: metric -> example id -> value."""
    store.start_arm(run_id, arm, "prompted" if role == "baseline" else "lora", role, {}, arm)
    predictions = [Prediction(eid, [], out, err, 0.1, 10, 5) for eid, (out, err) in answers.items()]
    rows = [{"example_id": eid, "metric": metric, "value": v} for metric, vals in scores.items() for eid, v in vals.items()]
    store.finish_arm(run_id, arm, "test", predictions, rows, metrics or [], 1.0)


LONG_BASE = "".join(f"clause {i}; " for i in range(600))  # ~6,000 chars
LONG_TUNED = LONG_BASE[:3000] + "".join(f"term {i}, " for i in range(600))


def _json_store(tmp_path) -> Store:
    store = Store.open(tmp_path / "h.duckdb")
    _run(store)
    store.add_examples("r1", [_example(f"e{i}", f"contract {i}", json.dumps({"a": i})) for i in range(1, 8)])
    # json_field_f1 per item (base, tuned): e1 0/1, e2 0/0.5, e3 0.5/0.5, e4 1/0 (tuned failed), e5 0/1,
    # e6 0.5/0.75 (long outputs); e7 was answered by the tuned arm only.
    base_f1 = {"e1": 0.0, "e2": 0.0, "e3": 0.5, "e4": 1.0, "e5": 0.0, "e6": 0.5}
    tuned_f1 = {"e1": 1.0, "e2": 0.5, "e3": 0.5, "e4": 0.0, "e5": 1.0, "e6": 0.75, "e7": 1.0}
    _arm(store, "base", "baseline", {
        "e1": ('{"a": 1}', None), "e2": ('{"a": 0}', None), "e3": ('{"a": 3, "b": 0}', None),
        "e4": ('{"a": 4}', None), "e5": ("no idea", None), "e6": (LONG_BASE, None),
    }, {"json_field_f1": base_f1, "exact_match": {k: float(v == 1.0) for k, v in base_f1.items()}})
    _arm(store, "tuned", "tuned", {
        "e1": ('{"a": 2}', None), "e2": ('{"a": 2, "b": 1}', None), "e3": ('{"a": 3, "b": 1}', None),
        "e4": ("", "CUDA out of memory"), "e5": ('{"a": 5}', None), "e6": (LONG_TUNED, None), "e7": ('{"a": 7}', None),
    }, {"json_field_f1": tuned_f1, "exact_match": {k: float(v == 1.0) for k, v in tuned_f1.items()}})
    return store


def test_disagreements_split_count_and_order(tmp_path):
    d = disagreements(_json_store(tmp_path), "r1", "tuned", "base", "json_field_f1")
    assert (d.n_shared, d.n_same, d.binary, d.higher_is_better) == (6, 1, False, True)
    assert [i.example_id for i in d.tuned_better] == ["e1", "e5", "e2", "e6"]  # |diff| 1, 1, 0.5, 0.25; then id
    assert [i.example_id for i in d.baseline_better] == ["e4"]
    assert d.not_compared == {"e7": "no prediction from base"}
    assert d.n_shared == len(d.tuned_better) + len(d.baseline_better) + d.n_same

    e1 = d.tuned_better[0]
    assert (e1.baseline_output, e1.tuned_output, e1.baseline_score, e1.tuned_score, e1.difference) == \
        ('{"a": 1}', '{"a": 2}', 0.0, 1.0, 1.0)
    assert e1.input == "contract 1\n\nok\n\nagain: contract 1"  # system prompt left out
    assert e1.target == '{"a": 1}'
    assert e1.baseline_diff == [('{"a": ', "same"), ("1", "removed"), ("}", "same")]
    assert e1.tuned_diff == [('{"a": ', "same"), ("2", "added"), ("}", "same")]
    assert not e1.diff_truncated

    e2 = d.tuned_better[2]  # an insertion: the baseline side has nothing marked there
    assert e2.baseline_diff == [('{"a": ', "same"), ("0", "removed"), ("}", "same")]
    assert e2.tuned_diff == [('{"a": ', "same"), ('2, "b": 1', "added"), ("}", "same")]  # one merged change

    failed = d.baseline_better[0]  # the failed prediction is kept, with its error
    assert (failed.example_id, failed.tuned_error, failed.tuned_output, failed.tuned_score) == \
        ("e4", "CUDA out of memory", "", 0.0)
    assert failed.baseline_error is None
    assert failed.baseline_diff == [('{"a": 4}', "removed")] and failed.tuned_diff == []


def test_long_outputs_are_diffed_up_to_the_cap_and_kept_whole(tmp_path):
    d = disagreements(_json_store(tmp_path), "r1", "tuned", "base", "json_field_f1")
    e6 = next(i for i in d.tuned_better if i.example_id == "e6")
    assert e6.baseline_output == LONG_BASE and e6.tuned_output == LONG_TUNED  # full text kept
    assert len(LONG_BASE) > DIFF_CAP and len(LONG_TUNED) > DIFF_CAP and e6.diff_truncated
    assert "".join(t for t, _ in e6.baseline_diff) == LONG_BASE[:DIFF_CAP]
    assert "".join(t for t, _ in e6.tuned_diff) == LONG_TUNED[:DIFF_CAP]
    assert e6.baseline_diff[0][1] == "same" and e6.baseline_diff[0][0].startswith(LONG_BASE[:2990])
    assert {k for _, k in e6.baseline_diff} == {"same", "removed"}
    assert {k for _, k in e6.tuned_diff} == {"same", "added"}


def test_binary_metric_means_right_versus_wrong(tmp_path):
    d = disagreements(_json_store(tmp_path), "r1", "tuned", "base", "exact_match")
    assert d.binary
    assert [i.example_id for i in d.tuned_better] == ["e1", "e5"]  # tuned right, baseline wrong
    assert [i.example_id for i in d.baseline_better] == ["e4"]  # baseline right, tuned wrong (it failed)
    assert (d.n_shared, d.n_same) == (6, 3)


def test_lower_is_better_metric_flips_the_sides(tmp_path):
    store = Store.open(tmp_path / "h.duckdb")
    _run(store)
    store.add_examples("r1", [_example(e, "text", "gold") for e in ("x1", "x2", "x3")])
    _arm(store, "base", "baseline", {e: ("b", None) for e in ("x1", "x2", "x3")},
         {"perplexity": {"x1": 10.0, "x2": 5.0, "x3": 7.0}})
    _arm(store, "tuned", "tuned", {e: ("t", None) for e in ("x1", "x2", "x3")},
         {"perplexity": {"x1": 4.0, "x2": 6.0, "x3": 7.0}})
    d = disagreements(store, "r1", "tuned", "base", "perplexity")
    assert not d.higher_is_better and not d.binary
    assert [i.example_id for i in d.tuned_better] == ["x1"]
    assert [i.example_id for i in d.baseline_better] == ["x2"]
    assert d.n_same == 1


def test_char_diff_of_identical_and_empty():
    assert char_diff("same", "same") == ([("same", "same")], [("same", "same")], False)
    assert char_diff("", "new") == ([], [("new", "added")], False)


LABELS = ["billing", "technical", "account"]


def test_confusion_matrix_counts_every_item(tmp_path):
    store = Store.open(tmp_path / "h.duckdb")
    _run(store)
    gold = {"q1": "billing", "q2": "billing", "q3": "technical", "q4": "technical", "q5": "account",
            "q6": "account", "q7": " Billing "}
    store.add_examples("r1", [_example(e, "help", g) for e, g in gold.items()])
    _arm(store, "tuned", "tuned", {
        "q1": ("billing", None),
        "q2": ("  BILLING\n", None),  # mis-cased and padded: still billing
        "q3": ("technical", None),
        "q4": ("refund", None),  # not a declared label
        "q5": ("", "timeout after 30 s"),  # failed
        "q6": ("account", None),
        "q7": ("technical", None),
    }, {"accuracy": {e: 1.0 for e in gold}})
    _arm(store, "base", "baseline", {"q1": ("billing", None)}, {"accuracy": {"q1": 1.0}})  # answered one item

    views = confusion(store, "r1", ["tuned", "base"], LABELS)
    t = views["tuned"]
    assert t.labels == ["billing", "technical", "account", OTHER]
    assert t.matrix == [
        # predicted: billing technical account (other)     gold:
        [2, 1, 0, 0],  # billing (q1, q2 right; q7 " Billing " said technical)
        [0, 1, 0, 1],  # technical (q4 said refund)
        [0, 0, 1, 1],  # account (q5 failed)
        [0, 0, 0, 0],  # (other)
    ]
    assert sum(map(sum, t.matrix)) == t.n == 7
    assert (t.n_failed, t.n_missing, t.n_other) == (1, 0, 2)
    assert t.accuracy == 4 / 7

    b = views["base"]  # items it never answered are counted under (other), not dropped
    assert sum(map(sum, b.matrix)) == b.n == 7
    assert (b.n_missing, b.n_failed, b.n_other) == (6, 0, 6)
    assert b.matrix[0] == [1, 0, 0, 2] and b.accuracy == 1 / 7


def test_confusion_gold_outside_the_labels_is_other(tmp_path):
    store = Store.open(tmp_path / "h.duckdb")
    _run(store)
    store.add_examples("r1", [_example("q1", "help", "spam"), _example("q2", "help", "account")])
    _arm(store, "tuned", "tuned", {"q1": ("spam", None), "q2": ("Account", None)}, {})
    t = confusion(store, "r1", ["tuned"], LABELS)["tuned"]
    assert t.matrix[3] == [0, 0, 0, 1] and t.matrix[2] == [0, 0, 1, 0]
    assert t.accuracy == 0.5  # agreeing on "(other)" is not a correct label


def _field_metric(field: str, value: float | None, low: float | None = None, high: float | None = None) -> dict:
    return {"metric": f"json_field_exact_match.{field}", "value": value, "ci_low": low, "ci_high": high,
            "n": 10, "n_failed": 1}


def test_field_accuracy_from_stored_metrics(tmp_path):
    store = Store.open(tmp_path / "h.duckdb")
    _run(store)
    store.add_examples("r1", [_example("e1", "c", "{}")])
    other = {"metric": "json_field_f1", "value": 0.9, "ci_low": 0.8, "ci_high": 1.0, "n": 10, "n_failed": 0}
    _arm(store, "base", "baseline", {"e1": ("{}", None)}, {}, [
        _field_metric("party", 0.6, 0.3, 0.8), _field_metric("law", 0.5, 0.2, 0.8), other])
    _arm(store, "tuned", "tuned", {"e1": ("{}", None)}, {}, [
        _field_metric("party", 0.9, 0.6, 1.0), _field_metric("law", 0.5, 0.2, 0.8), _field_metric("date", 0.7), other])

    table = field_accuracy(store, "r1", ["base", "tuned"])
    assert table is not None
    assert table.fields == ["date", "law", "party"] and table.arms == ["base", "tuned"]
    party = table.cells["party"]["tuned"]
    assert (party.value, party.ci_low, party.ci_high, party.n, party.n_failed) == (0.9, 0.6, 1.0, 10, 1)
    assert table.cells["date"]["base"] is None  # base has no row for date
    assert table.best == {"date": ["tuned"], "law": ["base", "tuned"], "party": ["tuned"]}


def test_field_accuracy_is_none_without_field_metrics(tmp_path):
    store = Store.open(tmp_path / "h.duckdb")
    _run(store)
    _arm(store, "base", "baseline", {}, {}, [
        {"metric": "accuracy", "value": 0.5, "ci_low": None, "ci_high": None, "n": 2, "n_failed": 0}])
    assert field_accuracy(store, "r1", ["base"]) is None
