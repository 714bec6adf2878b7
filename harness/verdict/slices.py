"""The verdict's tuned arm against its baseline on parts of the test set, and the rule that names a part where
the tuned arm is worse beyond `decision.max_slice_drop`: a loss hidden inside a win.

Slices: each JSON field (that field's exact match), each gold label (the share of its items answered with it),
each value of the data fields the task declares (`data.slices`; the mean of the primary metric's per-item
values, which for macro-F1 is the slice's accuracy).

The rule. Each slice tests H0: true difference (tuned - baseline) >= -max_slice_drop, one-sided: Tango's score
test on 0/1 values, a paired t-test otherwise. A slice is flagged when Holm's step-down rejects H0 at the
family-wise level alpha = (1 - confidence) / 2 (the error rate of each side of the lift's interval). Holm, not
Benjamini-Hochberg: a flag is named as a fact and in `block` mode it holds back a GO, so the error that matters
is "some slice named falsely", which Holm bounds under any dependence; JSON-field slices share their items, so
the independence BH leans on does not hold; and with one slice truly worse, both start at alpha / m.
Which slices enter the family is fixed by their sizes alone (Tarone 1990): a slice so small that losing every
item could not be flagged at alpha / K is left out, with K the smallest count for which at most K slices can
be; the slices left out are listed as too small, never dropped. Each interval is two-sided at 1 - 2 alpha / m
(Bonferroni over the m tested slices), so an interval wholly below -max_slice_drop is always flagged.
Checked by simulation in tests/test_slices.py.
"""

from __future__ import annotations

import json
import math
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field, fields
from statistics import NormalDist
from typing import Any

import numpy as np

from harness.metrics.builtin import (
    OutputShape,
    answer_fields,
    extract_json_object,
    gold_fields,
    normalize_text,
    parse_label,
)
from harness.records import json_safe
from harness.verdict.comparison import ArmResult
from harness.verdict.stats import holm, is_binary, tango_bound, tango_z

KINDS = ("field", "label", "data")
CONSTANT_SHARE = 0.9  # a slice where the tuned arm gives one answer this often "answers a constant"
MIN_CONSTANT_N = 5  # ... when it has at least this many items
INVENTED_SHARE = 0.5  # "mostly" values absent from every gold answer
_NORMAL = NormalDist()


@dataclass(frozen=True)
class Slice:
    """The tuned arm against the baseline on one slice. `diff` is tuned minus baseline, signed so that positive
    is better; [low, high] is two-sided at the check's `level`; `p` is one-sided for H0: diff >= -max_drop."""

    kind: str  # field | label | data
    name: str  # the JSON field, the gold label, or the data field's value
    column: str | None  # data slices: the data field
    n: int
    baseline: float
    tuned: float
    diff: float
    low: float
    high: float
    p: float
    p_adjusted: float | None  # Holm over the tested slices; None when too small to test
    flagged: bool
    method: str  # tango-score | paired-t
    items: list[str] = field(default_factory=list)
    lost: list[str] = field(default_factory=list)  # items the baseline does better on
    unscored: int = 0  # items of the slice without a per-item value for either arm (aggregate-only metrics)
    invented: float | None = None  # share of items the tuned arm answers with a value no gold answer has
    invented_example: str | None = None
    constant: str | None = None  # the one answer the tuned arm gives on nearly every item

    @property
    def tested(self) -> bool:
        return self.p_adjusted is not None

    @property
    def label(self) -> str:
        return f"{self.column}={self.name}" if self.kind == "data" else self.name


@dataclass(frozen=True)
class SliceCheck:
    """Every slice of the verdict's tuned arm against its baseline, and what the rule found."""

    arm: str
    baseline: str
    mode: str  # warn | block
    max_drop: float
    alpha: float  # one-sided family-wise error rate of the flags
    level: float  # two-sided level of each slice's interval
    min_n: int  # slices with fewer items are too small to be flagged
    slices: list[Slice]

    @property
    def flagged(self) -> list[Slice]:
        return [s for s in self.slices if s.flagged]

    @property
    def too_small(self) -> list[Slice]:
        return [s for s in self.slices if not s.tested]

    @property
    def tested(self) -> list[Slice]:
        return [s for s in self.slices if s.tested]

    def to_dict(self) -> dict[str, Any]:
        return json_safe(asdict(self))

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> SliceCheck:
        names = {f.name for f in fields(Slice)}
        slices = [Slice(**{k: (math.nan if v is None and k in ("low", "high", "diff", "p") else v)
                           for k, v in s.items() if k in names}) for s in d.get("slices") or []]
        return cls(**{**{k: v for k, v in d.items() if k != "slices"}, "slices": slices})


@dataclass(frozen=True)
class _Group:
    kind: str
    name: str
    column: str | None
    ids: list[str]


def groups(shape: OutputShape, targets: Mapping[str, str],
           data_fields: Mapping[str, Mapping[str, Any]]) -> list[_Group]:
    """The slices of a task's test items: per JSON field, per gold label, per value of each data field."""
    ids = sorted(targets)
    out = []
    if shape.type == "json":
        out += [_Group("field", f, None, ids) for f in shape.fields]
    if shape.type == "label" and shape.labels:
        gold = {i: parse_label(targets[i], shape.labels) for i in ids}
        out += [_Group("label", lab, None, [i for i in ids if gold[i] == lab]) for lab in shape.labels]
    for column, values in data_fields.items():
        shown = {i: _shown(values.get(i)) for i in ids}
        for value in sorted(set(shown.values())):
            out.append(_Group("data", value, column, [i for i in ids if shown[i] == value]))
    return [g for g in out if g.ids]


def _shown(value: Any) -> str:
    if value is None:
        return "(none)"
    return value if isinstance(value, str) else json.dumps(value)


def check_slices(tuned: ArmResult, base: ArmResult, targets: Mapping[str, str], shape: OutputShape,
                 data_fields: Mapping[str, Mapping[str, Any]], sign: float, mode: str, max_drop: float,
                 alpha: float) -> SliceCheck | None:
    """Every slice of `tuned` against `base`, the family that is tested and the slices the rule flags."""
    found = groups(shape, targets, data_fields)
    if not found:
        return None
    answers = _Answers(tuned, base, targets, shape, sign)
    pairs = [answers.pair(g) for g in found]
    sizes = [len(first) for first, _, _ in pairs]
    family, k = _family(sizes, max_drop, alpha)
    a = alpha / max(len(family), 1)
    raw = [_paired(first, second, max_drop, a) for first, second, _ in pairs]
    adjusted = dict(zip(sorted(family), holm([raw[i][3] for i in sorted(family)])))
    slices = []
    for i, g in enumerate(found):
        first, second, kept = pairs[i]
        diff, low, high, p, method = raw[i]
        p_adj = adjusted.get(i)
        slices.append(Slice(
            g.kind, g.name, g.column, len(kept), float(np.mean(answers.shown(g, kept, base))) if kept else math.nan,
            float(np.mean(answers.shown(g, kept, tuned))) if kept else math.nan, diff, low, high, p, p_adj,
            p_adj is not None and p_adj <= alpha, method, list(g.ids),
            [j for j, f, s in zip(kept, first, second) if f - s > 1e-9], len(g.ids) - len(kept),
            *answers.invented(g), answers.constant(g)))
    return SliceCheck(tuned.name, base.name, mode, max_drop, alpha, 1 - 2 * a, smallest_testable(max_drop, alpha / k),
                      slices)


def _min_p(n: int, max_drop: float) -> float:
    """The smallest p-value a slice of n items can have: the tuned arm loses every one of them."""
    return _NORMAL.cdf(tango_z(0, n, n, -max_drop)) if n > 0 else 1.0


def _family(sizes: Sequence[int], max_drop: float, alpha: float) -> tuple[set[int], int]:
    """Tarone's family: the slices whose smallest possible p-value is at most alpha / K, with K the smallest
    count such that at most K slices qualify; depends on the sizes only, never on the answers."""
    least = [_min_p(n, max_drop) for n in sizes]
    for k in range(1, len(sizes) + 1):
        members = {i for i, p in enumerate(least) if p <= alpha / k}
        if len(members) <= k:
            return members, k
    return set(range(len(sizes))), max(len(sizes), 1)


def smallest_testable(max_drop: float, alpha: float) -> int:
    """Fewest items on which losing every one is a significant drop beyond max_drop at one-sided alpha."""
    n = 1
    while _min_p(n, max_drop) > alpha and n < 100_000:
        n += 1
    return n


def _paired(first: np.ndarray, second: np.ndarray, max_drop: float, a: float) -> tuple[float, float, float, float, str]:
    """(diff, low, high, p, method) of second minus first; p one-sided for H0: diff >= -max_drop, each end of
    the interval at one-sided a."""
    n = len(first)
    if n == 0:
        return math.nan, math.nan, math.nan, 1.0, "none"
    if is_binary(first, second):
        b = int(np.sum((second == 1) & (first == 0)))
        c = int(np.sum((second == 0) & (first == 1)))
        p = _NORMAL.cdf(tango_z(b, c, n, -max_drop))
        return ((b - c) / n, tango_bound(b, c, n, a, upper=False), tango_bound(b, c, n, a, upper=True), p,
                "tango-score")
    from scipy.stats import t

    d = second - first
    mean = float(d.mean())
    sd = float(d.std(ddof=1)) if n > 1 else 0.0
    if not sd > 0:
        return mean, mean, mean, 0.0 if mean < -max_drop else 1.0, "paired-t"
    se = sd / math.sqrt(n)
    q = float(t.ppf(1 - a, n - 1))
    return mean, mean - q * se, mean + q * se, float(t.cdf((mean + max_drop) / se, n - 1)), "paired-t"


class _Answers:
    """Per-item values of a slice for both arms, and what the tuned arm answered there."""

    def __init__(self, tuned: ArmResult, base: ArmResult, targets: Mapping[str, str], shape: OutputShape,
                 sign: float) -> None:
        self.tuned, self.base, self.targets, self.shape, self.sign = tuned, base, targets, shape, sign
        json_task, label_task = shape.type == "json", shape.type == "label"
        self.gold = {i: gold_fields(t, shape.fields) for i, t in targets.items()} if json_task else {}
        self.fields = {arm.name: {i: answer_fields(arm.outputs.get(i, ""), shape.fields) or {} for i in targets}
                       for arm in (tuned, base)} if json_task else {}
        self.labels = {arm.name: {i: parse_label(arm.outputs.get(i, ""), shape.labels) for i in targets}
                       for arm in (tuned, base)} if label_task else {}

    def _value(self, g: _Group, arm: ArmResult, i: str) -> float:
        if g.kind == "field":
            return float(self.fields[arm.name][i].get(g.name) == self.gold[i][g.name])
        if g.kind == "label":
            return float(self.labels[arm.name][i] == g.name)
        v = arm.values.get(i)
        return math.nan if v is None else float(v)

    def shown(self, g: _Group, ids: list[str], arm: ArmResult) -> list[float]:
        """The arm's per-item values as measured (not signed)."""
        return [self._value(g, arm, i) for i in ids]

    def pair(self, g: _Group) -> tuple[np.ndarray, np.ndarray, list[str]]:
        """(baseline, tuned) per-item values, signed so that higher is better, on the items both have."""
        kept = [i for i in g.ids
                if not (math.isnan(self._value(g, self.base, i)) or math.isnan(self._value(g, self.tuned, i)))]
        first = np.array(self.shown(g, kept, self.base), dtype=float)
        second = np.array(self.shown(g, kept, self.tuned), dtype=float)
        if g.kind == "data" and self.sign < 0:
            first, second = ((1 - first, 1 - second) if is_binary(first, second) else (-first, -second))
        return first, second, kept

    def _answer(self, g: _Group, i: str) -> tuple[Any, str]:
        """(comparable, shown) answer of the tuned arm to item i, as the slice reads it."""
        out = self.tuned.outputs.get(i, "")
        if g.kind == "field":
            raw = (extract_json_object(out) or {}).get(g.name)
            return self.fields[self.tuned.name][i].get(g.name), json.dumps(raw, ensure_ascii=False)[:60]
        if g.kind == "label":
            label = self.labels[self.tuned.name][i]
            return label, label if label is not None else out.strip()[:60]
        return normalize_text(out), out.strip()[:60]

    def invented(self, g: _Group) -> tuple[float | None, str | None]:
        """(share of the slice's items answered with a value that no gold answer of the test set has, one of them)."""
        if g.kind == "data":
            return None, None
        if g.kind == "field":
            known = {gold[g.name] for gold in self.gold.values()}
            odd = [(i, shown) for i in g.ids for value, shown in [self._answer(g, i)]
                   if value is not None and value not in known]
        else:
            odd = [(i, shown) for i in g.ids for value, shown in [self._answer(g, i)] if value is None]
        return len(odd) / len(g.ids), (odd[0][1] if odd else None)

    def constant(self, g: _Group) -> str | None:
        """The tuned arm's one answer on at least CONSTANT_SHARE of the slice's items, if it has one."""
        if len(g.ids) < MIN_CONSTANT_N:
            return None
        answers = [self._answer(g, i) for i in g.ids]
        (value, count), = Counter(repr(v) for v, _ in answers).most_common(1)
        if count < CONSTANT_SHARE * len(g.ids):
            return None
        return next(shown for v, shown in answers if repr(v) == value)
