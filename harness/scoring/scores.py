"""Score an arm's predictions: every example, every metric, plus aggregates with bootstrap intervals.

A prediction whose generation failed is scored as an empty answer, so failures lower the score instead
of vanishing from it; the failure count is stored beside every aggregate.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from harness.data.examples import Example
from harness.errors import HarnessError
from harness.metrics.builtin import METRICS, aggregate_key, score_example
from harness.records import Prediction, chunk_refs
from harness.retrieval.retrievers import Retriever, retrieval_scores
from harness.scoring.judge import Judge, judge_predictions
from harness.spec import TaskSpec
from harness.verdict.stats import bootstrap_ci

Tracker = Callable[[str, int], Callable[[int], None]]  # (what, total) -> advance


@dataclass
class ScoredArm:
    """An arm's per-example and aggregate scores, ready for the store."""

    scores: list[dict[str, Any]]
    metrics: list[dict[str, Any]]
    details: dict[str, Any] = field(default_factory=dict)


def score_arm(spec: TaskSpec, examples: Sequence[Example], predictions: Sequence[Prediction], tracker: Tracker,
              seed: int = 0, retriever: Retriever | None = None, judge: Judge | None = None) -> ScoredArm:
    """Every metric of the task, retrieval metrics for answers given with chunks, and judged metrics; an arm
    whose every generation failed is a failed arm."""
    if predictions and all(p.error for p in predictions):
        raise HarnessError(f"every generation failed, first error: {predictions[0].error}")
    by_id = {p.example_id: p for p in predictions}
    extra: dict[str, dict[str, float]] = {}
    failed: dict[str, int] = {}
    details: dict[str, Any] = {}
    chunk_texts = {cid: c.text for cid, c in retriever.chunks.items()} if retriever is not None else {}
    if chunk_texts and any(chunk_refs(p.details) is not None for p in predictions):
        extra.update(context_scores(examples, by_id, chunk_texts, retriever.documents))
    if judge is not None:
        judgments = judge_predictions(judge, examples, by_id, chunk_texts, spec.output.type, tracker)
        extra.update(judgments.values)
        failed = judgments.failed_counts()
        details["judge_failures"] = judgments.failures
    scores, metrics = score_predictions(spec, examples, predictions, tracker("score", len(examples)), seed, extra, failed)
    return ScoredArm(scores, metrics, details)


def metric_keys(spec: TaskSpec) -> list[str]:
    shape = spec.output_shape()
    return [key for name in spec.metric_names for key in METRICS[name].keys(shape)]


def context_scores(
    examples: Sequence[Example], by_id: dict[str, Prediction], chunk_texts: dict[str, str], doc_texts: dict[str, str]
) -> dict[str, dict[str, float]]:
    """{metric: {example id: value}} for retrieval: hit/recall/MRR at document level, and ragas's non-LLM
    context precision and recall against the gold documents' text. Only examples that name gold documents
    can be scored; the metric's n says how many did."""
    scored = [ex for ex in examples if ex.gold_doc_ids and chunk_refs(by_id[ex.id].details) is not None]
    out: dict[str, dict[str, float]] = {}
    if not scored:
        return out
    from ragas import SingleTurnSample
    from ragas.metrics._context_precision import NonLLMContextPrecisionWithReference
    from ragas.metrics._context_recall import NonLLMContextRecall

    precision, recall = NonLLMContextPrecisionWithReference(), NonLLMContextRecall()
    for ex in scored:
        chunks = chunk_refs(by_id[ex.id].details) or []
        for key, value in retrieval_scores([c.doc_id for c in chunks], ex.gold_doc_ids).items():
            out.setdefault(key, {})[ex.id] = value
        retrieved = [chunk_texts[c.id] for c in chunks if c.id in chunk_texts]
        reference = [doc_texts[d] for d in ex.gold_doc_ids if d in doc_texts]
        if not reference:
            continue
        sample = SingleTurnSample(retrieved_contexts=retrieved or [""], reference_contexts=reference)
        out.setdefault("context_precision", {})[ex.id] = float(precision.single_turn_score(sample)) if retrieved else 0.0
        out.setdefault("context_recall", {})[ex.id] = float(recall.single_turn_score(sample)) if retrieved else 0.0
    return out


def score_predictions(
    spec: TaskSpec,
    examples: Sequence[Example],
    predictions: Sequence[Prediction],
    advance: Callable[[int], None] = lambda n: None,
    seed: int = 0,
    extra: dict[str, dict[str, float]] | None = None,
    extra_failed: dict[str, int] | None = None,
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """(per-example score rows, aggregate metric rows) for predictions aligned with examples.

    `extra` holds metrics computed elsewhere ({metric: {example id: value}}: retrieval, judges); they are
    averaged over the examples they cover, and `extra_failed` counts examples whose judgment failed."""
    by_id = {p.example_id: p for p in predictions}
    missing = [ex.id for ex in examples if ex.id not in by_id]
    if missing:
        raise RuntimeError(f"arm returned no prediction for {len(missing)} examples, e.g. {missing[:3]}")
    shape = spec.output_shape()
    keys = metric_keys(spec)
    preds = [by_id[ex.id].output if not by_id[ex.id].error else "" for ex in examples]
    targets = [ex.target for ex in examples]
    rows, table = [], {k: [] for k in keys}
    for ex, pred in zip(examples, preds):
        values = score_example(spec.metric_names, pred, ex.target, shape)
        for key in keys:
            rows.append({"example_id": ex.id, "metric": key, "value": values[key]})
            table[key].append(values[key])
        advance(1)
    n_failed = sum(1 for ex in examples if by_id[ex.id].error)
    confidence = spec.decision.confidence
    metrics = []
    for key in keys:
        values = np.asarray(table[key], dtype=float)
        low, high = bootstrap_ci(key, preds, targets, values, shape, confidence, seed)
        metrics.append({
            "metric": key,
            "value": aggregate_key(key, preds, targets, values, shape),
            "ci_low": low,
            "ci_high": high,
            "n": len(examples),
            "n_failed": n_failed,
        })
    for key, per_example in (extra or {}).items():
        ids = [ex.id for ex in examples if ex.id in per_example]
        values = np.asarray([per_example[i] for i in ids], dtype=float)
        rows += [{"example_id": i, "metric": key, "value": float(v)} for i, v in zip(ids, values)]
        low, high = bootstrap_ci(key, [""] * len(ids), [""] * len(ids), values, shape, confidence, seed)
        metrics.append({
            "metric": key,
            "value": float(values.mean()) if len(values) else None,
            "ci_low": low,
            "ci_high": high,
            "n": len(ids),
            "n_failed": (extra_failed or {}).get(key, 0),
        })
    return rows, metrics
