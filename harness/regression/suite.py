"""Run the whole general-capability suite on one model: per-item rows a later step pairs base vs tuned on.

    from harness.regression.suite import SuiteConfig, plan_suite, run_suite
    plan = plan_suite(SuiteConfig(mmlu_items=200, perplexity_docs=32))   # items only; plan.fingerprint() is a cache key
    result = run_suite(generators.get(backend, adapter), plan)            # any backend with log-likelihoods

Parts: "mmlu" and "general" (cloze multiple choice: acc, acc_norm per item), "probes" (pass per probe,
category = the check), and perplexity per document. Everything goes through the Generator protocol (its
`loglikelihood` and `generate`), so any backend with those capabilities scores it. No database and no
decision code: the result is plain records, and the same plan on the same weights gives the same rows
(tests/test_regression_suite.py).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

from harness.backends import Advance, Generator, LogLik
from harness.digest import content_hash
from harness.errors import HarnessError
from harness.regression.choice import ChoiceItem, score_choices
from harness.regression.items import category_subset, load_items
from harness.regression.mmlu import mmlu_items
from harness.regression.perplexity import DocLoss, Document, document_losses, documents
from harness.regression.probes import Probe, load_probes, run_probes

SUITE_VERSION = 1


@dataclass(frozen=True)
class SuiteConfig:
    mmlu_items: int | None = 200  # None: all 14,042
    general_items: int | None = None  # None: every item in the items file
    probes: bool = True
    perplexity_docs: int | None = 32  # None: all
    seed: int = 0
    batch_size: int = 16
    probe_max_new_tokens: int = 64
    items_path: Path | None = None  # default harness/regression/general/items.jsonl
    probes_path: Path | None = None  # default harness/regression/general/probes.jsonl

    def __post_init__(self) -> None:
        for name in ("mmlu_items", "general_items", "perplexity_docs"):
            value = getattr(self, name)
            if value is not None and value < 0:
                raise HarnessError(f"`{name}` should be None (all) or at least 0, got {value}")
        if self.batch_size < 1 or self.probe_max_new_tokens < 1:
            raise HarnessError(f"`batch_size` and `probe_max_new_tokens` should be positive, got "
                               f"{self.batch_size} and {self.probe_max_new_tokens}")


@dataclass(frozen=True)
class SuiteRow:
    part: str  # mmlu | general | probes
    category: str
    item_id: str
    metric: str  # acc | acc_norm | pass
    value: float


@dataclass(frozen=True)
class SuitePlan:
    """The items a run scores; everything that determines the rows except the weights."""

    config: SuiteConfig
    mmlu: tuple[ChoiceItem, ...]
    general: tuple[ChoiceItem, ...]
    probes: tuple[Probe, ...]
    documents: tuple[Document, ...]

    def fingerprint(self) -> str:
        """sha256 (16 hex) of the suite version, every item, probe and document, and the probe token limit."""
        content = {
            "version": SUITE_VERSION,
            "mmlu": [asdict(i) for i in self.mmlu],
            "general": [asdict(i) for i in self.general],
            "probes": [asdict(p) for p in self.probes],
            "documents": [asdict(d) for d in self.documents],
            "probe_max_new_tokens": self.config.probe_max_new_tokens,
        }
        return content_hash(content)

    def total_steps(self) -> int:
        """What `advance` adds up to over a run: one per choice, per document and per probe."""
        choices = sum(len(i.choices) for i in self.mmlu + self.general)
        return choices + len(self.documents) + len(self.probes)


@dataclass(frozen=True)
class SuiteResult:
    version: int
    fingerprint: str
    rows: tuple[SuiteRow, ...]
    documents: tuple[DocLoss, ...]
    replies: dict[str, str] = field(default_factory=dict)  # probe id -> reply, for showing failures

    def means(self) -> dict[tuple[str, str, str], float]:
        """(part, category, metric) -> mean over items, plus (part, "all", metric)."""
        sums: dict[tuple[str, str, str], list[float]] = defaultdict(list)
        for r in self.rows:
            sums[(r.part, r.category, r.metric)].append(r.value)
            sums[(r.part, "all", r.metric)].append(r.value)
        return {k: sum(v) / len(v) for k, v in sorted(sums.items())}


def plan_suite(config: SuiteConfig) -> SuitePlan:
    mmlu = mmlu_items(config.mmlu_items, config.seed) if config.mmlu_items != 0 else []
    general = category_subset(load_items(config.items_path), config.general_items, config.seed)
    probes = load_probes(config.probes_path) if config.probes else []
    docs = documents(config.perplexity_docs, config.seed) if config.perplexity_docs != 0 else []
    return SuitePlan(config, tuple(mmlu), tuple(general), tuple(probes), tuple(docs))


def _no_advance(n: int) -> None:
    pass


def scored_by(generator: Generator, advance: Advance | None = None) -> Callable[[list], list[LogLik]]:
    """A log-likelihood function over a generator that fails the suite, in one line, on a request that returned
    no score (a wrong answer must not stand in for a failed one)."""
    def loglik(requests: list) -> list[LogLik]:
        results = generator.loglikelihood(requests, advance or _no_advance)
        failed = next((r.error for r in results if r.error), None)
        if failed:
            raise HarnessError(f"regression suite on {generator.description}: "
                               f"{sum(bool(r.error) for r in results)} of {len(results)} scores failed, first: {failed}")
        return results

    return loglik


def run_suite(generator: Generator, config: SuiteConfig | SuitePlan, advance: Advance | None = None) -> SuiteResult:
    """Score every part for one model (base or tuned); pass a plan to reuse already-loaded items."""
    plan = config if isinstance(config, SuitePlan) else plan_suite(config)
    cfg = plan.config
    advance = advance or _no_advance
    loglik = scored_by(generator, advance)
    rows: list[SuiteRow] = []
    scored = score_choices(plan.mmlu + plan.general, loglik)
    part_of = {i.id: "mmlu" for i in plan.mmlu} | {i.id: "general" for i in plan.general}
    for s in scored:
        rows.append(SuiteRow(part_of[s.item_id], s.category, s.item_id, "acc", s.acc))
        rows.append(SuiteRow(part_of[s.item_id], s.category, s.item_id, "acc_norm", s.acc_norm))
    losses = document_losses(loglik, plan.documents)
    replies: dict[str, str] = {}
    if plan.probes:
        def generate(conversations: list[list[dict]], max_new_tokens: int) -> list[str]:
            return [g.text for g in generator.generate(conversations, max_new_tokens, _no_advance)]

        for p in run_probes(plan.probes, generate, cfg.probe_max_new_tokens):
            rows.append(SuiteRow("probes", p.check, p.probe_id, "pass", float(p.passed)))
            replies[p.probe_id] = p.reply
        advance(len(plan.probes))
    return SuiteResult(SUITE_VERSION, plan.fingerprint(), tuple(rows), tuple(losses), replies)
