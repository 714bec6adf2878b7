"""Plain data for four report sections: where a tuned arm and its baseline disagree (with a character diff of
their answers), the items of the slices the verdict flagged, a confusion matrix per arm for label tasks, and
per-field accuracy for JSON tasks.

No jinja here: the template decides how segments, matrices and best cells look. Every test item is accounted
for: a failed prediction is scored and shown with its error, and an item that cannot be compared is listed
with the reason, never dropped.
"""

from __future__ import annotations

import difflib
import json
import math
from dataclasses import dataclass

from harness.metrics.builtin import extract_json_object, higher_is_better, parse_label
from harness.store.database import Store
from harness.verdict.slices import Slice, SliceCheck

DIFF_CAP = 4000  # chars of each output that are diffed: SequenceMatcher is O(n*m) and a runaway answer is huge
OTHER = "(other)"
FIELD_PREFIX = "json_field_exact_match."
_TIE = 1e-9  # per-item scores this close are a tie (continuous metrics such as ROUGE carry float noise)

Segments = list[tuple[str, str]]  # (text, kind); kind: same | removed (baseline side) | added (tuned side)


# ---------------------------------------------------------------- disagreements


@dataclass(frozen=True)
class Disagreement:
    """One test item on which the two arms' scores differ; outputs are the full stored text."""

    example_id: str
    input: str  # the non-system messages, joined by blank lines
    target: str | None  # None when the item is not among the run's test examples
    baseline_output: str
    tuned_output: str
    baseline_score: float
    tuned_score: float
    baseline_error: str | None
    tuned_error: str | None
    difference: float  # |tuned_score - baseline_score|
    baseline_diff: Segments  # baseline output (capped) against the tuned one: same | removed
    tuned_diff: Segments  # tuned output (capped) against the baseline one: same | added
    diff_truncated: bool  # either output was longer than DIFF_CAP, so the diff covers only its start


@dataclass(frozen=True)
class Disagreements:
    """How `tuned` and `baseline` differ item by item on `metric` (test split).

    n_shared = len(tuned_better) + len(baseline_better) + n_same; items either arm lacks (no prediction, no
    score, or a NaN score) are in `not_compared` with the reason. With `binary` (every compared score is 0
    or 1), tuned_better is exactly "tuned right, baseline wrong" and baseline_better the reverse."""

    tuned: str
    baseline: str
    metric: str
    higher_is_better: bool
    binary: bool
    n_shared: int
    n_same: int
    tuned_better: list[Disagreement]
    baseline_better: list[Disagreement]
    not_compared: dict[str, str]  # example id -> why


def char_diff(baseline: str, tuned: str, cap: int = DIFF_CAP) -> tuple[Segments, Segments, bool]:
    """Character-level diff of two outputs, each cut to `cap` chars: (baseline segments, tuned segments,
    truncated). Adjacent segments of one kind are merged, so the template wraps each change once."""
    a, b = baseline[:cap], tuned[:cap]
    left: Segments = []
    right: Segments = []

    def put(side: Segments, text: str, kind: str) -> None:
        if not text:
            return
        if side and side[-1][1] == kind:
            side[-1] = (side[-1][0] + text, kind)
        else:
            side.append((text, kind))

    for op, i1, i2, j1, j2 in difflib.SequenceMatcher(None, a, b, autojunk=False).get_opcodes():
        if op == "equal":
            put(left, a[i1:i2], "same")
            put(right, b[j1:j2], "same")
        else:  # replace, delete, insert: whatever each side has here is its own
            put(left, a[i1:i2], "removed")
            put(right, b[j1:j2], "added")
    return left, right, len(baseline) > cap or len(tuned) > cap


def _usable(value: float | None) -> bool:
    return value is not None and not (isinstance(value, float) and math.isnan(value))


def disagreements(store: Store, run_id: str, tuned: str, baseline: str, metric: str) -> Disagreements:
    """The test items on which `tuned` and `baseline` score differently on `metric`, each side's wins ordered by
    how much the scores differ (largest first), then example id."""
    better_high = higher_is_better(metric)
    examples = {ex.example_id: ex for ex in store.examples(run_id)}
    preds = {arm: {p.example_id: p for p in store.predictions(run_id, arm)} for arm in (tuned, baseline)}
    scores = store.scores(run_id, metric)
    values = {arm: scores.get(arm, {}) for arm in (tuned, baseline)}
    ids = set(examples) | set(preds[tuned]) | set(preds[baseline]) | set(values[tuned]) | set(values[baseline])

    tuned_better: list[Disagreement] = []
    baseline_better: list[Disagreement] = []
    not_compared: dict[str, str] = {}
    n_same = 0
    binary = True
    for eid in sorted(ids):
        why = []
        for arm in (baseline, tuned):
            if eid not in preds[arm]:
                why.append(f"no prediction from {arm}")
            elif eid not in values[arm]:
                why.append(f"no {metric} score for {arm}")
            elif not _usable(values[arm][eid]):
                why.append(f"{metric} is NaN for {arm}")
        if why:
            not_compared[eid] = "; ".join(why)
            continue
        t, b = values[tuned][eid], values[baseline][eid]
        binary = binary and t in (0.0, 1.0) and b in (0.0, 1.0)
        gain = (t - b) if better_high else (b - t)
        if abs(gain) <= _TIE:
            n_same += 1
            continue
        bp, tp = preds[baseline][eid], preds[tuned][eid]
        left, right, truncated = char_diff(bp.output, tp.output)
        ex = examples.get(eid)
        item = Disagreement(
            example_id=eid, input=ex.input_text if ex else "", target=ex.target if ex else None,
            baseline_output=bp.output, tuned_output=tp.output, baseline_score=b, tuned_score=t,
            baseline_error=bp.error, tuned_error=tp.error, difference=abs(t - b),
            baseline_diff=left, tuned_diff=right, diff_truncated=truncated,
        )
        (tuned_better if gain > 0 else baseline_better).append(item)

    def order(items: list[Disagreement]) -> list[Disagreement]:
        return sorted(items, key=lambda d: (-d.difference, d.example_id))

    n_shared = len(tuned_better) + len(baseline_better) + n_same
    return Disagreements(
        tuned=tuned, baseline=baseline, metric=metric, higher_is_better=better_high, binary=binary and n_shared > 0,
        n_shared=n_shared, n_same=n_same, tuned_better=order(tuned_better), baseline_better=order(baseline_better),
        not_compared=not_compared,
    )


# ---------------------------------------------------------------- flagged slices


@dataclass(frozen=True)
class SliceItem:
    """One item of a flagged slice on which the baseline did better: the gold value and each arm's answer, as the
    slice reads them (a JSON field's value, the label, or the whole answer)."""

    example_id: str
    input: str
    gold: str
    baseline: str
    tuned: str


@dataclass(frozen=True)
class FlaggedSlice:
    slice: Slice
    arm: str
    baseline: str
    items: list[SliceItem]


def flagged_slices(store: Store, run_id: str, check: SliceCheck | None) -> list[FlaggedSlice]:
    """Each slice the verdict flagged, with every item on which the baseline did better there."""
    if check is None or not check.flagged:
        return []
    examples = {ex.example_id: ex for ex in store.examples(run_id)}
    preds = {arm: {p.example_id: p for p in store.predictions(run_id, arm)} for arm in (check.arm, check.baseline)}

    def read(text: str | None, s: Slice) -> str:
        if s.kind != "field":
            return (text or "").strip()
        found = extract_json_object(text or "")
        return "(no JSON object)" if found is None else json.dumps(found.get(s.name), ensure_ascii=False)

    def answer(arm: str, eid: str, s: Slice) -> str:
        p = preds[arm].get(eid)
        if p is None:
            return "(no prediction)"
        return f"failed: {p.error}" if p.error else read(p.output, s)

    out = []
    for s in check.flagged:
        items = [SliceItem(eid, examples[eid].input_text if eid in examples else "",
                           read(examples[eid].target, s) if eid in examples else "",
                           answer(check.baseline, eid, s), answer(check.arm, eid, s)) for eid in s.lost]
        out.append(FlaggedSlice(s, check.arm, check.baseline, items))
    return out


# ---------------------------------------------------------------- confusion matrices


@dataclass(frozen=True)
class ConfusionMatrix:
    """One arm's answers against gold. Row i is gold `labels[i]`, column j predicted `labels[j]`; the last label
    is "(other)": answers (and gold) that name no declared label (as the accuracy metric reads them), failed
    predictions and items the arm has no prediction for. The matrix sums to n."""

    arm: str
    labels: list[str]  # the declared labels, then "(other)"; row and column names alike
    matrix: list[list[int]]
    n: int
    accuracy: float | None  # share of items whose answer is their gold declared label; None when n == 0
    n_failed: int  # predictions with an error (counted under "(other)")
    n_missing: int  # test items with no prediction from this arm (counted under "(other)")
    n_other: int  # answers that are no declared label (failures and missing included)


def _as_label(text: str | None, labels: tuple[str, ...]) -> str:
    return parse_label(text or "", labels) or OTHER


def confusion(store: Store, run_id: str, arms: list[str], labels: list[str]) -> dict[str, ConfusionMatrix]:
    """Per arm, the confusion matrix of its test answers over `labels` + "(other)"; answers are read as the
    accuracy metric reads them (the whole answer, else the only label word in it), so the two agree."""
    from sklearn.metrics import confusion_matrix

    declared = tuple(labels)
    names = list(labels) + [OTHER]
    gold = {ex.example_id: _as_label(ex.target, declared) for ex in store.examples(run_id)}
    out = {}
    for arm in arms:
        preds = {p.example_id: p for p in store.predictions(run_id, arm)}
        ids = sorted(set(gold) | set(preds))
        y_true = [gold.get(eid, OTHER) for eid in ids]
        y_pred = [OTHER if eid not in preds or preds[eid].error is not None
                  else _as_label(preds[eid].output, declared) for eid in ids]
        if ids:
            matrix = confusion_matrix(y_true, y_pred, labels=names).astype(int).tolist()
        else:
            matrix = [[0] * len(names) for _ in names]
        correct = sum(1 for t, p in zip(y_true, y_pred) if t == p and t != OTHER)
        out[arm] = ConfusionMatrix(
            arm=arm, labels=names, matrix=matrix, n=len(ids), accuracy=correct / len(ids) if ids else None,
            n_failed=sum(1 for eid in ids if eid in preds and preds[eid].error is not None),
            n_missing=sum(1 for eid in ids if eid not in preds),
            n_other=sum(1 for p in y_pred if p == OTHER),
        )
    return out


# ---------------------------------------------------------------- per-field accuracy (JSON tasks)


@dataclass(frozen=True)
class FieldCell:
    value: float | None
    ci_low: float | None
    ci_high: float | None
    n: int
    n_failed: int


@dataclass(frozen=True)
class FieldTable:
    """Exact-match accuracy per JSON field and arm (test split), from the stored json_field_exact_match.<field>
    metrics. cells[field][arm] is None when that arm has no row for the field; best[field] lists every arm
    with the best value (ties: all of them; none when no arm has a value)."""

    fields: list[str]  # sorted
    arms: list[str]  # as asked for
    cells: dict[str, dict[str, FieldCell | None]]
    best: dict[str, list[str]]


def field_accuracy(store: Store, run_id: str, arms: list[str]) -> FieldTable | None:
    """The per-field table for `arms`, or None when the run stored no per-field metrics for any of them."""
    rows = [m for m in store.metrics(run_id) if m.metric.startswith(FIELD_PREFIX) and m.arm in arms]
    if not rows:
        return None
    by_key = {(m.metric[len(FIELD_PREFIX):], m.arm): m for m in rows}
    fields = sorted({f for f, _ in by_key})
    cells: dict[str, dict[str, FieldCell | None]] = {}
    best: dict[str, list[str]] = {}
    sign = 1.0 if higher_is_better(FIELD_PREFIX.rstrip(".")) else -1.0
    for f in fields:
        cells[f] = {}
        for arm in arms:
            m = by_key.get((f, arm))
            cells[f][arm] = None if m is None else FieldCell(
                _nan_to_none(m.value), _nan_to_none(m.ci_low), _nan_to_none(m.ci_high), m.n, m.n_failed)
        scored = {arm: sign * c.value for arm, c in cells[f].items() if c is not None and c.value is not None}
        top = max(scored.values(), default=None)
        best[f] = [arm for arm, v in scored.items() if top is not None and abs(v - top) <= _TIE]
    return FieldTable(fields=fields, arms=list(arms), cells=cells, best=best)


def _nan_to_none(value: float | None) -> float | None:
    return None if value is None or (isinstance(value, float) and math.isnan(value)) else value
