"""Per-example scorers, named in a task file's `metrics:` list.

Every metric scores every example (a failed generation scores like an empty answer) and returns one or
more named values; `aggregate` turns the per-example values of a subset of examples into one number, so
the statistics can bootstrap any metric, macro-F1 included. This module is a pure leaf: strings in,
floats out, no model and no database.
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

import numpy as np

OUTPUT_TYPES = ("json", "label", "text")


@dataclass(frozen=True)
class OutputShape:
    """What a metric needs to know about the task's outputs."""

    type: str
    fields: tuple[str, ...] = ()
    labels: tuple[str, ...] = ()


Scorer = Callable[[str, str, OutputShape], dict[str, float]]
Aggregator = Callable[[Sequence[str], Sequence[str], np.ndarray, OutputShape], float]


def _mean(_preds: Sequence[str], _targets: Sequence[str], values: np.ndarray, _shape: OutputShape) -> float:
    return float(np.mean(values)) if len(values) else float("nan")


@dataclass(frozen=True)
class Metric:
    name: str
    outputs: tuple[str, ...]
    description: str
    score: Scorer
    aggregate: Aggregator = field(default=_mean)
    automatic: bool = False  # computed from retrieval or a judge, not from the answer text alone
    higher_is_better: bool = True  # the sweep's direction, the baseline choice and the report's arrows follow it
    source: str = "built-in"  # or "evaluate" (a metric module of Hugging Face `evaluate`, harness.metrics.hf_evaluate)
    identity: str = ""  # what else determines its scores (an evaluate module's settings and script text)
    max_resamples: int | None = None  # caps the bootstrap where each resample reruns a slow aggregate (evaluate)

    @property
    def averaged(self) -> bool:
        """True when the aggregate is the mean of per-example values (bootstrap can vectorise it)."""
        return self.aggregate is _mean

    @property
    def kind(self) -> str:
        """'per-example' (the mean of per-example values) or 'aggregate' (recomputed on each bootstrap resample)."""
        return "per-example" if self.averaged else "aggregate"

    def keys(self, shape: OutputShape) -> list[str]:
        """Names of the values this metric produces for a task (sub-metrics are `name.part`)."""
        if self.name == "json_field_exact_match":
            return [f"{self.name}.{f}" for f in shape.fields]
        return [self.name]


# ---------------------------------------------------------------- normalisation

_PUNCT_EDGE = " \t\n\r.,;:!?\"'`()[]{}"


def normalize_text(text: str) -> str:
    """Casefold, NFKC, collapse whitespace, trim edge punctuation: the 'normalised' in exact match."""
    text = unicodedata.normalize("NFKC", text).casefold()
    text = re.sub(r"\s+", " ", text)
    return text.strip(_PUNCT_EDGE)


def _strip_fences(text: str) -> str:
    text = text.strip()
    fenced = re.fullmatch(r"```[a-zA-Z]*\s*\n?(.*?)\n?```", text, flags=re.S)
    return fenced.group(1).strip() if fenced else text


def parse_json_strict(text: str) -> Any:
    """The whole answer (code fences allowed) must be one JSON value; raises ValueError otherwise (nesting too deep
    for Python's reader included)."""
    try:
        return json.loads(_strip_fences(text))
    except RecursionError:
        raise ValueError("JSON nested too deeply") from None


def extract_json_object(text: str) -> dict | None:
    """First JSON object anywhere in the answer, for scoring fields of answers with chatter around them."""
    body = _strip_fences(text)
    decoder = json.JSONDecoder()
    start = body.find("{")
    while start != -1:
        try:
            value, _ = decoder.raw_decode(body, start)
        except (ValueError, RecursionError):  # not JSON here, or a number or nesting Python will not read
            start = body.find("{", start + 1)
            continue
        if isinstance(value, dict):
            return value
        start = body.find("{", start + 1)
    return None


def _canonical(value: Any) -> Any:
    """Field values compared after this: strings normalised, numeric strings as numbers, lists as sorted sets."""
    if value is None:
        return None
    if isinstance(value, bool):
        return value
    if isinstance(value, (int, float)):
        return float(value)
    if isinstance(value, str):
        text = normalize_text(value)
        if text in ("", "null", "none", "n/a"):
            return None
        if text in ("true", "false"):
            return text == "true"
        try:
            return float(text)
        except ValueError:
            return text
    if isinstance(value, (list, tuple)):
        items = [_canonical(v) for v in value]
        items = [i for i in items if i is not None]
        return tuple(sorted(map(repr, items))) or None
    if isinstance(value, dict):
        return tuple(sorted((k, repr(_canonical(v))) for k, v in value.items())) or None
    return repr(value)


def answer_fields(text: str, fields: tuple[str, ...]) -> dict[str, Any] | None:
    """The answer's value of each field, canonical (as scoring compares them); None when no JSON object."""
    obj = extract_json_object(text)
    if obj is None:
        return None
    return {f: _canonical(obj.get(f)) for f in fields}


def gold_fields(target: str, fields: tuple[str, ...]) -> dict[str, Any]:
    """The gold answer's value of each field, canonical; raises ValueError when the target is no JSON object."""
    obj = parse_json_strict(target)
    if not isinstance(obj, dict):
        raise ValueError("target is not a JSON object")
    return {f: _canonical(obj.get(f)) for f in fields}


@lru_cache(maxsize=64)
def _normalized_labels(labels: tuple[str, ...]) -> dict[str, str]:
    """Normalised label -> label; cached, since every answer of a task parses against the same labels."""
    return {normalize_text(label): label for label in labels}


def parse_label(text: str, labels: tuple[str, ...]) -> str | None:
    """The declared label an answer names: the whole answer, else the only label word in it, else None."""
    answer = normalize_text(text)
    by_norm = _normalized_labels(tuple(labels))
    if answer in by_norm:
        return by_norm[answer]
    found = {lab for norm, lab in by_norm.items() if re.search(rf"(?<!\w){re.escape(norm)}(?!\w)", answer)}
    return found.pop() if len(found) == 1 else None


# ---------------------------------------------------------------- scorers


def _exact_match(pred: str, target: str, _shape: OutputShape) -> dict[str, float]:
    return {"exact_match": float(normalize_text(pred) == normalize_text(target))}


def _label_correct(pred: str, target: str, shape: OutputShape) -> float:
    return float(parse_label(pred, shape.labels) == parse_label(target, shape.labels))


def _accuracy(pred: str, target: str, shape: OutputShape) -> dict[str, float]:
    return {"accuracy": _label_correct(pred, target, shape)}


def _macro_f1_example(pred: str, target: str, shape: OutputShape) -> dict[str, float]:
    return {"macro_f1": _label_correct(pred, target, shape)}


def _macro_f1(preds: Sequence[str], targets: Sequence[str], _values: np.ndarray, shape: OutputShape) -> float:
    from sklearn.metrics import f1_score

    invalid = "<invalid>"
    y_pred = [parse_label(p, shape.labels) or invalid for p in preds]
    y_true = [parse_label(t, shape.labels) or invalid for t in targets]
    # Averaged over the declared labels present in the gold answers, so a resample that lacks a rare label
    # does not count it as a zero-F1 class.
    present = [label for label in shape.labels if label in set(y_true)]
    return float(f1_score(y_true, y_pred, labels=present, average="macro", zero_division=0))


def _json_valid(pred: str, _target: str, _shape: OutputShape) -> dict[str, float]:
    try:
        return {"json_valid": float(isinstance(parse_json_strict(pred), dict))}
    except ValueError:
        return {"json_valid": 0.0}


def _json_field_f1(pred: str, target: str, shape: OutputShape) -> dict[str, float]:
    gold = gold_fields(target, shape.fields)
    got = answer_fields(pred, shape.fields) or {}
    tp = fp = fn = 0
    for f in shape.fields:
        g, p = gold[f], got.get(f)
        if g is not None and p is not None and g == p:
            tp += 1
            continue
        fp += p is not None
        fn += g is not None
    denom = 2 * tp + fp + fn
    return {"json_field_f1": 1.0 if denom == 0 else 2 * tp / denom}


def _json_field_accuracy(pred: str, target: str, shape: OutputShape) -> dict[str, float]:
    gold = gold_fields(target, shape.fields)
    got = answer_fields(pred, shape.fields)
    if got is None:
        return {"json_field_accuracy": 0.0}
    return {"json_field_accuracy": sum(gold[f] == got[f] for f in shape.fields) / len(shape.fields)}


def _json_record_exact_match(pred: str, target: str, shape: OutputShape) -> dict[str, float]:
    gold = gold_fields(target, shape.fields)
    got = answer_fields(pred, shape.fields)
    return {"json_record_exact_match": float(got is not None and got == gold)}


def _json_field_exact_match(pred: str, target: str, shape: OutputShape) -> dict[str, float]:
    gold = gold_fields(target, shape.fields)
    got = answer_fields(pred, shape.fields)
    return {
        f"json_field_exact_match.{f}": float(got is not None and got[f] == gold[f]) for f in shape.fields
    }


def _computed_elsewhere(pred: str, target: str, shape: OutputShape) -> dict[str, float]:
    raise TypeError("this metric is computed from retrieved context or by a judge, not from the answer alone")


_ROUGE = None


def _rouge_l(pred: str, target: str, _shape: OutputShape) -> dict[str, float]:
    global _ROUGE
    if _ROUGE is None:
        from rouge_score import rouge_scorer

        _ROUGE = rouge_scorer.RougeScorer(["rougeL"], use_stemmer=True)
    return {"rouge_l": float(_ROUGE.score(target, pred)["rougeL"].fmeasure)}


METRICS: dict[str, Metric] = {
    m.name: m
    for m in (
        Metric("exact_match", OUTPUT_TYPES, "normalised exact match of the whole answer", _exact_match),
        Metric("accuracy", ("label",), "the answer names the gold label", _accuracy),
        Metric("macro_f1", ("label",), "macro-averaged F1 over the declared labels", _macro_f1_example, _macro_f1),
        Metric("json_valid", ("json",), "the whole answer parses as a JSON object", _json_valid),
        Metric("json_field_f1", ("json",), "micro F1 over non-null fields, per example", _json_field_f1),
        Metric("json_field_accuracy", ("json",), "share of declared fields equal to gold", _json_field_accuracy),
        Metric("json_record_exact_match", ("json",), "every declared field equal to gold", _json_record_exact_match),
        Metric("json_field_exact_match", ("json",), "per-field exact match", _json_field_exact_match),
        Metric("rouge_l", ("text", "json", "label"), "ROUGE-L F-measure (rouge-score, stemmed)", _rouge_l),
        *(Metric(name, OUTPUT_TYPES, text, _computed_elsewhere, automatic=True) for name, text in (
            ("retrieval_hit", "a gold document is among the retrieved chunks (examples with gold_doc_ids)"),
            ("retrieval_recall", "share of gold documents retrieved"),
            ("retrieval_mrr", "reciprocal rank of the first gold document"),
            ("context_precision", "ragas non-LLM context precision against the gold documents"),
            ("context_recall", "ragas non-LLM context recall against the gold documents"),
            ("faithfulness", "ragas faithfulness of the answer to the retrieved context (LLM judge)"),
            ("answer_relevancy", "ragas answer relevancy (LLM judge and embeddings)"),
            ("judge_accuracy", "ragas answer accuracy against the reference (LLM judge)"),
        )),
        Metric("perplexity", OUTPUT_TYPES, "per-token perplexity of general English text (the regression suite)",
               _computed_elsewhere, automatic=True, higher_is_better=False),
    )
}


BUILT_IN = frozenset(METRICS)


def register_metric(metric: Metric) -> None:
    """Add a task's own metric (an `evaluate` module) under its name; a built-in name is never replaced."""
    if metric.name in BUILT_IN:
        raise ValueError(f"{metric.name!r} is a built-in metric")
    METRICS[metric.name] = metric


def score_example(names: Sequence[str], pred: str, target: str, shape: OutputShape) -> dict[str, float]:
    """All values of the named metrics for one example."""
    values: dict[str, float] = {}
    for name in names:
        values.update(METRICS[name].score(pred, target, shape))
    return values


def higher_is_better(key: str) -> bool:
    """The direction of a metric key (`json_field_exact_match.parties` follows its metric)."""
    return METRICS[key.split(".")[0]].higher_is_better


def aggregate_key(key: str, preds: Sequence[str], targets: Sequence[str], values: np.ndarray, shape: OutputShape) -> float:
    """One aggregate value of a metric key (`json_field_exact_match.parties` aggregates by mean)."""
    return METRICS[key.split(".")[0]].aggregate(preds, targets, values, shape)


def score_key(key: str, pred: str, target: str, shape: OutputShape) -> float:
    """One metric key's value for one example (what a sweep trial reports example by example)."""
    return score_example([key.split(".")[0]], pred, target, shape)[key]
