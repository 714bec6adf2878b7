"""Did tuning make the model worse at everything else? Base vs tuned on the same suite items, paired.

Accuracy per category and overall: the paired difference (tuned minus base) with Tango's score interval,
the verdict's own machinery. A drop is significant beyond tolerance when the interval's upper end lies
below -max_drop; the family of categories is Bonferroni-corrected, so checking many does not block by
chance. Probes: pass rates. Perplexity (lower is better): the tuned/base ratio with a paired bootstrap
over documents.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from harness.metrics.builtin import higher_is_better
from harness.records import DocumentLoss, SuiteScore, json_safe
from harness.spec import RegressionSpec
from harness.verdict.stats import paired_binary

CHECKED_PARTS = ("mmlu", "general", "lm_eval")  # log-likelihood accuracy; probes are judged by their pass rate


@dataclass(frozen=True)
class Delta:
    """Tuned minus base on one category of items (category "all": the part overall; part "suite": both)."""

    part: str
    category: str
    n: int
    base: float
    tuned: float
    diff: float
    low: float
    high: float
    significant_drop: bool = False  # high < -max_drop at the family-wise level


@dataclass(frozen=True)
class Forgetting:
    arm: str
    level: float  # two-sided level of each interval
    max_drop: float
    deltas: list[Delta]
    probe_base: float | None = None
    probe_tuned: float | None = None
    probe_failing: list[str] = field(default_factory=list)  # probe checks the tuned model fails more often
    perplexity_base: float | None = None
    perplexity_tuned: float | None = None
    perplexity_ratio: float | None = None  # tuned / base: above 1 is worse
    perplexity_low: float | None = None
    perplexity_high: float | None = None
    blocked: bool = False
    reasons: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def overall(self) -> Delta | None:
        return next((d for d in self.deltas if d.part == "suite"), None)

    def to_dict(self) -> dict[str, Any]:
        return json_safe(asdict(self))

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Forgetting:
        deltas = [Delta(**{k: (math.nan if v is None else v) if k in ("low", "high", "diff") else v for k, v in x.items()})
                  for x in d.get("deltas", [])]
        return cls(**{**d, "deltas": deltas})


def _by_item(rows: Sequence[SuiteScore], metric: str) -> dict[tuple[str, str], dict[str, float]]:
    out: dict[tuple[str, str], dict[str, float]] = defaultdict(dict)
    for r in rows:
        if r.metric == metric:
            out[(r.part, r.category)][r.item_id] = r.value
    return out


def _perplexity_ratio(base_docs: Sequence[DocumentLoss], tuned_docs: Sequence[DocumentLoss], alpha: float,
                      seed: int) -> tuple:
    tuned = {d.doc_id: d for d in tuned_docs}
    pairs = [(b.loss, tuned[b.doc_id].loss, b.n_tokens) for b in base_docs if b.doc_id in tuned]
    if not pairs:
        return None, None, None, None, None
    lb, lt, nt = (np.array(x, dtype=float) for x in zip(*pairs))
    base_ppl, tuned_ppl = math.exp(lb.sum() / nt.sum()), math.exp(lt.sum() / nt.sum())
    idx = np.random.default_rng(seed).integers(0, len(pairs), size=(2000, len(pairs)))
    ratios = np.exp((lt[idx].sum(1) - lb[idx].sum(1)) / nt[idx].sum(1))
    low, high = np.quantile(ratios, [alpha / 2, 1 - alpha / 2])
    return base_ppl, tuned_ppl, tuned_ppl / base_ppl, float(low), float(high)


def compare(arm: str, base_rows: Sequence[SuiteScore], tuned_rows: Sequence[SuiteScore],
            base_docs: Sequence[DocumentLoss], tuned_docs: Sequence[DocumentLoss], spec: RegressionSpec,
            confidence: float, seed: int = 0) -> Forgetting:
    """The tuned model against the base model on the items both were scored on."""
    alpha = 1 - confidence
    base, tuned = _by_item(base_rows, "acc"), _by_item(tuned_rows, "acc")
    Item = tuple[tuple[str, str], str]  # ((part, category), item id)
    groups: dict[tuple[str, str], list[Item]] = {}
    for key, values in base.items():
        if key[0] in CHECKED_PARTS and key in tuned:
            groups[key] = [(key, i) for i in sorted(set(values) & set(tuned[key]))]
    everything = [item for items in groups.values() for item in items]
    for part in CHECKED_PARTS:
        pooled = [item for item in everything if item[0][0] == part]
        if pooled:
            groups[(part, "all")] = pooled
    family = len(groups) + 1  # every category, each part, and the suite overall
    alpha_side = alpha / 2 / family

    def delta(part: str, category: str, items: list[Item]) -> Delta:
        b = np.array([base[k][i] for k, i in items])
        t = np.array([tuned[k][i] for k, i in items])
        r = paired_binary(b, t, -spec.max_drop, alpha_side, alpha_side)
        return Delta(part, category, len(items), float(b.mean()), float(t.mean()), r.diff, r.low, r.high,
                     bool(r.high < -spec.max_drop))

    deltas = [delta(part, cat, ids) for (part, cat), ids in sorted(groups.items()) if ids]
    if everything:
        deltas.append(delta("suite", "all", everything))
    reasons: list[str] = []  # why the arm cannot be GO
    notes: list[str] = []  # worth knowing, not blocking
    fell = [d for d in deltas if d.significant_drop]
    if fell:
        reasons.append(f"{arm} is worse than the base model beyond the tolerated {spec.max_drop:.3f}: " + "; ".join(
            f"{d.part}/{d.category} {d.base:.3f} -> {d.tuned:.3f} ({d.diff:+.3f}, interval {d.low:+.3f} to {d.high:+.3f})"
            for d in fell))
    probe_base, probe_tuned, failing = _probes(base_rows, tuned_rows)
    if spec.min_probe_pass_rate is not None and probe_tuned is not None and probe_tuned < spec.min_probe_pass_rate:
        reasons.append(f"{arm} passes {probe_tuned:.0%} of the format probes, below the required "
                       f"{spec.min_probe_pass_rate:.0%} (base model: {probe_base:.0%})")
    ppl = _perplexity_ratio(base_docs, tuned_docs, alpha, seed)
    if ppl[2] is not None:
        worse = ppl[3] > 1.0 if not higher_is_better("perplexity") else ppl[4] < 1.0  # the whole interval
        if worse:
            notes.append(f"{arm}: perplexity on general prose changed {ppl[2]:.3f}x (interval {ppl[3]:.3f} to {ppl[4]:.3f})")
    return Forgetting(arm, 1 - 2 * alpha_side, spec.max_drop, deltas, probe_base, probe_tuned, failing, *ppl,
                      blocked=bool(reasons), reasons=reasons, notes=notes)


def _probes(base_rows: Sequence[SuiteScore], tuned_rows: Sequence[SuiteScore]) -> tuple[float | None, float | None,
                                                                                     list[str]]:
    base = _by_item(base_rows, "pass")
    tuned = _by_item(tuned_rows, "pass")
    if not base or not tuned:
        return None, None, []
    rate = lambda rows: float(np.mean([v for vals in rows.values() for v in vals.values()]))  # noqa: E731
    failing = sorted(cat for (_, cat), vals in tuned.items()
                     if np.mean(list(vals.values())) < np.mean(list(base.get(("probes", cat), vals).values())))
    return rate(base), rate(tuned), failing
